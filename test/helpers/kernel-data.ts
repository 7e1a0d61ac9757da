// Test data for the kernel suites (kernels.test.ts, wasm.test.ts): seeded corpora, word indexes, cell weights, count
// and alias tables built by the kernel under test, and long chains of sweeps with their per-token topic frequencies.
import { referenceLogits, referenceSteps } from '../../src/lstm/reference-cell.js';
import type {
  AliasTables,
  BackendName,
  CellWeights,
  CountTables,
  Kernel,
  KernelMode,
  SweepArgs,
} from '../../src/kernels/types.js';
import { mulberry32 } from './mulberry32.js';
import { groupTokensByAction } from '../../src/kernels/buffers.js';

/** The backends a kernel suite runs on: LLA_TEST_BACKENDS (comma-separated), else both. */
export const TEST_BACKENDS: BackendName[] = (process.env.LLA_TEST_BACKENDS?.split(',') as
  BackendName[] | undefined) ?? ['native', 'wasm'];

/**
 * A model for the filter suites, over the kernel's own arrays: the count tables of a random topic assignment of a
 * random corpus (D sequences of up to maxLength actions), and random lla and word-lla cells.
 */
export function randomFilterModel(
  k: Kernel,
  shape: { sequences: number; maxLength: number; topics: number; vocabulary: number; hidden: number; beta: number },
) {
  const { topics: K, vocabulary: V, hidden: H } = shape;
  const random = mulberry32(17);
  const train = randomCorpus(random, shape.sequences, shape.maxLength, V);
  const topics = Int32Array.from(train.tokens, () => Math.floor(random() * K));
  const { counts } = tables(k, train, topics, K, shape.beta);
  return { counts, weights: randomWeights(random, K + 1, K, H, 1), wordWeights: randomWeights(random, V + 1, K, H, 1) };
}

/** tokens [T] over V actions in sequences offsets [D+1] */
export interface Corpus {
  tokens: Int32Array;
  offsets: Int32Array;
  V: number;
}

/** D sequences of 1 .. maxLength tokens, actions skewed towards low ids so that rows differ in length. */
export function randomCorpus(random: () => number, D: number, maxLength: number, V: number): Corpus {
  const offsets = new Int32Array(D + 1);
  const tokens: number[] = [];
  for (let d = 0; d < D; d++) {
    const length = 1 + Math.floor(random() * maxLength);
    for (let t = 0; t < length; t++) tokens.push(Math.min(V - 1, Math.floor(V * random() * random())));
    offsets[d + 1] = tokens.length;
  }
  return { tokens: Int32Array.from(tokens), offsets, V };
}

/** The word index of a corpus: wordTokens [T] the positions grouped by action, ascending; wordOffsets [V+1]. */
export function groupByAction(tokens: Int32Array, V: number): { wordOffsets: Int32Array; wordTokens: Int32Array } {
  return groupTokensByAction(tokens, V, (n) => new Int32Array(n));
}

/** Cell weights with `rows` input symbols and K outputs, every value uniform in [-scale, scale]. */
export function randomWeights(random: () => number, rows: number, K: number, H: number, scale = 0.8): CellWeights {
  const fill = (n: number) => Float32Array.from({ length: n }, () => (random() * 2 - 1) * scale);
  return {
    hidden: H,
    inputTable: fill(rows * 4 * H),
    recurrent: fill(4 * H * H),
    gateBias: fill(4 * H),
    outputWeights: fill(K * H),
    outputBias: fill(K),
  };
}

/** Count and alias tables of a corpus under an assignment, built by the kernel under test. */
export function tables(
  kernel: Kernel,
  corpus: Corpus,
  topics: Int32Array,
  K: number,
  beta: number,
): { counts: CountTables; alias: AliasTables } {
  const T = corpus.tokens.length;
  const counts: CountTables = {
    rowOffsets: kernel.allocInt32(corpus.V + 1),
    rowTopics: kernel.allocInt32(T),
    rowCounts: kernel.allocInt32(T),
    topicTotals: kernel.allocInt32(K),
  };
  const { wordOffsets, wordTokens } = groupByAction(corpus.tokens, corpus.V);
  kernel.buildCounts(corpus.tokens, wordOffsets, wordTokens, topics, K, counts);
  const alias: AliasTables = {
    sparseProb: kernel.allocFloat32(T),
    sparseAlias: kernel.allocInt32(T),
    sparseMass: kernel.allocFloat64(corpus.V),
    denseProb: kernel.allocFloat32(K),
    denseAlias: kernel.allocInt32(K),
    denseMass: kernel.allocFloat64(1),
  };
  kernel.buildAlias(counts, K, beta, alias);
  return { counts, alias };
}

/** phi [K][V] (flat) from count tables. */
export function phiOf(counts: CountTables, K: number, V: number, beta: number): Float64Array {
  const phi = new Float64Array(K * V);
  for (let k = 0; k < K; k++) for (let w = 0; w < V; w++) phi[k * V + w] = beta / (counts.topicTotals[k] + V * beta);
  for (let w = 0; w < V; w++) {
    for (let i = counts.rowOffsets[w]; i < counts.rowOffsets[w + 1]; i++) {
      const k = counts.rowTopics[i];
      phi[k * V + w] = (counts.rowCounts[i] + beta) / (counts.topicTotals[k] + V * beta);
    }
  }
  return phi;
}

/** Sweep arguments over a corpus with seeded initial topics and their tables (beta 0.1, alpha 0.5, seed 7). */
export function sweepArgs(
  kernel: Kernel,
  corpus: Corpus,
  K: number,
  mode: KernelMode,
  extra: Partial<SweepArgs>,
): SweepArgs {
  const beta = 0.1;
  const random = mulberry32(99);
  const initial = Int32Array.from(corpus.tokens, () => Math.floor(random() * K));
  const { counts, alias } = tables(kernel, corpus, initial, K, beta);
  return {
    mode,
    exact: false,
    mhSteps: 2,
    proposals: 'cycle',
    numTopics: K,
    vocabularySize: corpus.V,
    tokens: corpus.tokens,
    offsets: corpus.offsets,
    topicsPrev: initial.slice(),
    topicsNext: new Int32Array(corpus.tokens.length),
    counts,
    alias,
    beta,
    alpha: 0.5,
    sequenceSmoothing: 0.1,
    seed: 7,
    iteration: 0,
    threads: 1,
    ...extra,
  };
}

/** Run `iterations` chained sweeps; returns per-position topic frequencies [T][K]. */
export async function chain(kernel: Kernel, args: SweepArgs, iterations: number): Promise<Float64Array> {
  const T = args.tokens.length,
    K = args.numTopics;
  const frequencies = new Float64Array(T * K);
  let previous = args.topicsPrev.slice();
  for (let it = 0; it < iterations; it++) {
    const next = new Int32Array(T);
    await kernel.sweep({ ...args, topicsPrev: previous, topicsNext: next, iteration: it });
    for (let t = 0; t < T; t++) frequencies[t * K + next[t]] += 1 / iterations;
    previous = next;
  }
  return frequencies;
}

/** Target of a token whose LSTM input does not depend on sampled topics: softmax(l) phi, normalised. */
export function exactTarget(
  weights: CellWeights,
  inputs: Int32Array,
  w: number,
  phi: Float64Array,
  K: number,
  V: number,
): Float64Array {
  const { hidden } = referenceSteps(weights, inputs);
  const H = weights.hidden;
  const logits = referenceLogits(weights, hidden.subarray((inputs.length - 1) * H));
  const top = Math.max(...logits);
  const p = logits.map((l, k) => Math.exp(l - top) * phi[k * V + w]);
  const total = p.reduce((a, b) => a + b, 0);
  return p.map((x) => x / total);
}

export function largestGap(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let gap = 0;
  for (let i = 0; i < a.length; i++) gap = Math.max(gap, Math.abs(a[i] - b[i]));
  return gap;
}
