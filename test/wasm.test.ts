// WASM-specific tests of the AssemblyScript kernels behind src/kernels/wasm.ts: bit-exact random streams, count
// and alias tables against plain TypeScript, the cell against the float64 reference, MH sweeps against their
// exact targets, thread-count and memory-mode independence, and argument validation.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { loadWasmKernel, type WasmKernel } from '../src/kernels/wasm.js';
import type { WasmExports } from '../src/kernels/wasm-layout.js';
import { ReferenceStream, RANDOM_TOPICS_ITERATION } from '../src/kernels/rng.js';
import { referenceLogits, referenceSteps } from '../src/lstm/reference-cell.js';
import type { AliasTables, CellWeights, CountTables, KernelMode, ProposalSchedule, SweepArgs } from '../src/kernels/types.js';

/** Small seeded generator for test data (mulberry32). */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Corpus { tokens: Int32Array; offsets: Int32Array; V: number }

function randomCorpus(random: () => number, D: number, maxLength: number, V: number): Corpus {
  const offsets = new Int32Array(D + 1);
  const tokens: number[] = [];
  for (let d = 0; d < D; d++) {
    const length = 1 + Math.floor(random() * maxLength);
    // Skewed actions so rows differ in length.
    for (let t = 0; t < length; t++) tokens.push(Math.min(V - 1, Math.floor(V * random() * random())));
    offsets[d + 1] = tokens.length;
  }
  return { tokens: Int32Array.from(tokens), offsets, V };
}

function groupByAction(tokens: Int32Array, V: number): { wordOffsets: Int32Array; wordTokens: Int32Array } {
  const wordOffsets = new Int32Array(V + 1);
  for (const w of tokens) wordOffsets[w + 1]++;
  for (let w = 0; w < V; w++) wordOffsets[w + 1] += wordOffsets[w];
  const fill = wordOffsets.slice(0, V);
  const wordTokens = new Int32Array(tokens.length);
  tokens.forEach((w, t) => { wordTokens[fill[w]++] = t; });
  return { wordOffsets, wordTokens };
}

function randomWeights(random: () => number, rows: number, K: number, H: number, scale = 0.8): CellWeights {
  const fill = (n: number) => Float32Array.from({ length: n }, () => (random() * 2 - 1) * scale);
  return { hidden: H, inputTable: fill(rows * 4 * H), recurrent: fill(4 * H * H), gateBias: fill(4 * H),
    outputWeights: fill(K * H), outputBias: fill(K) };
}

function tables(kernel: WasmKernel, corpus: Corpus, topics: Int32Array, K: number, beta: number): { counts: CountTables; alias: AliasTables } {
  const T = corpus.tokens.length;
  const counts: CountTables = { rowOffsets: kernel.allocInt32(corpus.V + 1), rowTopics: kernel.allocInt32(T),
    rowCounts: kernel.allocInt32(T), topicTotals: kernel.allocInt32(K) };
  const { wordOffsets, wordTokens } = groupByAction(corpus.tokens, corpus.V);
  kernel.buildCounts(corpus.tokens, wordOffsets, wordTokens, topics, K, counts);
  const alias: AliasTables = { sparseProb: kernel.allocFloat32(T), sparseAlias: kernel.allocInt32(T),
    sparseMass: kernel.allocFloat64(corpus.V), denseProb: kernel.allocFloat32(K), denseAlias: kernel.allocInt32(K),
    denseMass: kernel.allocFloat64(1) };
  kernel.buildAlias(counts, K, beta, alias);
  return { counts, alias };
}

/** phi[k][w] from count tables. */
function phiOf(counts: CountTables, K: number, V: number, beta: number): Float64Array {
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

function sweepArgs(kernel: WasmKernel, corpus: Corpus, K: number, mode: KernelMode, extra: Partial<SweepArgs>): SweepArgs {
  const beta = 0.1;
  const random = generator(99);
  const initial = Int32Array.from(corpus.tokens, () => Math.floor(random() * K));
  const { counts, alias } = tables(kernel, corpus, initial, K, beta);
  return { mode, exact: false, mhSteps: 2, proposals: 'cycle', numTopics: K, vocabularySize: corpus.V,
    tokens: corpus.tokens, offsets: corpus.offsets, topicsPrev: initial.slice(), topicsNext: new Int32Array(corpus.tokens.length),
    counts, alias, beta, alpha: 0.5, sequenceSmoothing: 0.1, seed: 7, iteration: 0, threads: 1, ...extra };
}

/** Run `iterations` chained sweeps; returns per-position topic frequencies [T][K]. */
async function chain(kernel: WasmKernel, args: SweepArgs, iterations: number): Promise<Float64Array> {
  const T = args.tokens.length, K = args.numTopics;
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

async function rejects(run: () => Promise<unknown>, pattern: RegExp): Promise<void> {
  try {
    await run();
  } catch (error) {
    assert.instance(error, Error);
    assert.match((error as Error).message, pattern);
    return;
  }
  assert.unreachable(`expected a rejection matching ${pattern}`);
}

function largestGap(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let gap = 0;
  for (let i = 0; i < a.length; i++) gap = Math.max(gap, Math.abs(a[i] - b[i]));
  return gap;
}

const test = suite('wasm kernel');
let kernel: WasmKernel;
test.before(async () => { kernel = await loadWasmKernel(); });
test.after(async () => { await kernel.close(); });

test('randomStream and randomTopics are bit-identical to the BigInt reference', () => {
  for (const [seed, iteration, index] of [[0, 0, 0], [42, 3, 17], [2 ** 40 + 5, RANDOM_TOPICS_ITERATION, 123456]]) {
    const out = new Uint32Array(64);
    kernel.randomStream(seed, iteration, index, out);
    const reference = new ReferenceStream(seed, iteration, index);
    assert.equal(Array.from(out), Array.from({ length: 64 }, () => reference.nextHigh32()));
  }
  const offsets = Int32Array.of(0, 3, 3, 10);
  const topics = kernel.allocInt32(10);
  kernel.randomTopics(offsets, topics, 37, 11);
  const expected: number[] = [];
  for (let d = 0; d < 3; d++) {
    const stream = new ReferenceStream(11, RANDOM_TOPICS_ITERATION, d);
    for (let t = offsets[d]; t < offsets[d + 1]; t++) expected.push(stream.below(37));
  }
  assert.equal(Array.from(topics), expected);
});

test('checksum is FNV-1a over 32-bit values', () => {
  const values = Int32Array.of(1, -2, 3, 2 ** 31 - 1);
  let h = 2166136261;
  for (const v of values) h = Math.imul((h ^ v) >>> 0, 16777619) >>> 0;
  assert.is(kernel.checksum(values), h);
  assert.is(kernel.checksum(new Int32Array(0)), 2166136261);
});

test('buildCounts matches a plain count, rows ascending; buildAlias tables reproduce their weights', () => {
  const random = generator(1);
  const K = 50;
  const corpus = randomCorpus(random, 80, 60, 40);
  const topics = Int32Array.from(corpus.tokens, () => Math.floor(random() * random() * K));
  const beta = 0.05;
  const { counts, alias } = tables(kernel, corpus, topics, K, beta);
  const dense = new Map<number, number>();
  corpus.tokens.forEach((w, t) => dense.set(w * K + topics[t], (dense.get(w * K + topics[t]) ?? 0) + 1));
  let nnz = 0;
  for (let w = 0; w < corpus.V; w++) {
    assert.is(counts.rowOffsets[w], nnz);
    for (let k = 0; k < K; k++) {
      const n = dense.get(w * K + k);
      if (n === undefined) continue;
      assert.is(counts.rowTopics[nnz], k);
      assert.is(counts.rowCounts[nnz], n);
      nnz++;
    }
  }
  assert.is(counts.rowOffsets[corpus.V], nnz);
  for (let k = 0; k < K; k++) assert.is(counts.topicTotals[k], topics.filter((z) => z === k).length);
  // Each alias row implies probabilities (prob_i [own = k] + (1 - prob_i) [alias = k]) / n.
  const V = corpus.V;
  for (let w = 0; w < V; w++) {
    const begin = counts.rowOffsets[w], n = counts.rowOffsets[w + 1] - begin;
    let mass = 0;
    const weights = new Map<number, number>();
    for (let i = begin; i < begin + n; i++) {
      const k = counts.rowTopics[i];
      const weight = counts.rowCounts[i] / (counts.topicTotals[k] + V * beta);
      weights.set(k, weight);
      mass += weight;
    }
    assert.ok(Math.abs(alias.sparseMass[w] - mass) < 1e-12 * Math.max(1, mass));
    const implied = new Map<number, number>();
    for (let i = begin; i < begin + n; i++) {
      const own = counts.rowTopics[i], other = alias.sparseAlias[i], p = alias.sparseProb[i];
      implied.set(own, (implied.get(own) ?? 0) + p / n);
      implied.set(other, (implied.get(other) ?? 0) + (1 - p) / n);
    }
    for (const [k, weight] of weights) assert.ok(Math.abs((implied.get(k) ?? 0) - weight / mass) < 1e-6, `row ${w} topic ${k}`);
  }
  let denseMass = 0;
  for (let k = 0; k < K; k++) denseMass += beta / (counts.topicTotals[k] + V * beta);
  assert.ok(Math.abs(alias.denseMass[0] - denseMass) < 1e-12);
  const implied = new Float64Array(K);
  for (let i = 0; i < K; i++) {
    implied[i] += alias.denseProb[i] / K;
    implied[alias.denseAlias[i]] += (1 - alias.denseProb[i]) / K;
  }
  for (let k = 0; k < K; k++) {
    assert.ok(Math.abs(implied[k] - beta / (counts.topicTotals[k] + V * beta) / denseMass) < 1e-6, `dense topic ${k}`);
  }
});

test('lstmSteps matches the float64 reference cell (H not a multiple of 4 too)', () => {
  for (const H of [8, 13]) {
    const weights = randomWeights(generator(H), 6, 5, H, 0.5);
    const inputs = Int32Array.from({ length: 50 }, (_, t) => (t * 7) % 6);
    const hidden = new Float32Array(50 * H), cell = new Float32Array(50 * H);
    kernel.lstmSteps(weights, inputs, hidden, cell);
    const reference = referenceSteps(weights, inputs);
    assert.ok(largestGap(hidden, reference.hidden) < 1e-5, `h differs at H=${H}`);
    assert.ok(largestGap(cell, reference.cell) < 1e-5, `c differs at H=${H}`);
  }
});

test('topicTransitions sums the next-topic softmax by the current topic', () => {
  const K = 4, H = 6;
  const weights = randomWeights(generator(5), K + 1, K, H);
  const offsets = Int32Array.of(0, 4, 5, 8);
  const topics = Int32Array.of(0, 1, 1, 3, 2, 3, 0, 2);
  const sums = new Float64Array(K * K).fill(9), rowCounts = new Float64Array(K).fill(9);
  kernel.topicTransitions(offsets, topics, weights, K, sums, rowCounts);
  const expected = new Float64Array(K * K), expectedCounts = new Float64Array(K);
  for (let d = 0; d < 3; d++) {
    const inputs = Int32Array.from([K, ...topics.subarray(offsets[d], offsets[d + 1] - 1)]);
    const { hidden } = referenceSteps(weights, inputs);
    for (let i = 1; i < inputs.length; i++) {
      const logits = referenceLogits(weights, hidden.subarray(i * H, (i + 1) * H));
      const top = Math.max(...logits);
      const e = logits.map((l) => Math.exp(l - top));
      const total = e.reduce((a, b) => a + b, 0);
      const z = inputs[i];
      for (let k = 0; k < K; k++) expected[z * K + k] += e[k] / total;
      expectedCounts[z]++;
    }
  }
  assert.ok(largestGap(sums, expected) < 1e-5);
  assert.equal(Array.from(rowCounts), Array.from(expectedCounts));
});

// Target of a token whose LSTM input does not depend on sampled topics: softmax(l) phi, normalised.
function exactTarget(weights: CellWeights, inputs: Int32Array, w: number, phi: Float64Array, K: number, V: number): Float64Array {
  const { hidden } = referenceSteps(weights, inputs);
  const H = weights.hidden;
  const logits = referenceLogits(weights, hidden.subarray((inputs.length - 1) * H));
  const top = Math.max(...logits);
  const p = logits.map((l, k) => Math.exp(l - top) * phi[k * V + w]);
  const total = p.reduce((a, b) => a + b, 0);
  return p.map((x) => x / total);
}

for (const proposals of ['cycle', 'word', 'sequence'] as ProposalSchedule[]) {
  test(`word-lla MH (${proposals}) chains match the exact conditional; exact mode too`, async () => {
    const K = 5, H = 4;
    const corpus = randomCorpus(generator(3), 3, 4, 6);
    const weights = randomWeights(generator(4), corpus.V + 1, K, H, 1.2);
    const args = sweepArgs(kernel, corpus, K, 'word-lla', { weights, proposals, mhSteps: 2 });
    const phi = phiOf(args.counts, K, corpus.V, args.beta);
    const target = new Float64Array(corpus.tokens.length * K);
    for (let d = 0; d + 1 < corpus.offsets.length; d++) {
      for (let t = corpus.offsets[d]; t < corpus.offsets[d + 1]; t++) {
        const inputs = Int32Array.from([corpus.V, ...corpus.tokens.subarray(corpus.offsets[d], t)]);
        target.set(exactTarget(weights, inputs, corpus.tokens[t], phi, K, corpus.V), t * K);
      }
    }
    const mh = await chain(kernel, args, 6000);
    assert.ok(largestGap(mh, target) < 0.03, `MH frequencies off by ${largestGap(mh, target)}`);
    if (proposals === 'cycle') {
      const exact = await chain(kernel, { ...args, exact: true }, 6000);
      assert.ok(largestGap(exact, target) < 0.03, `exact frequencies off by ${largestGap(exact, target)}`);
    }
  });
}

test('lla MH on one-token sequences matches softmax(l(begin)) phi', async () => {
  const K = 6, H = 8;
  const corpus: Corpus = { tokens: Int32Array.of(0, 1, 2, 1), offsets: Int32Array.of(0, 1, 2, 3, 4), V: 3 };
  const weights = randomWeights(generator(8), K + 1, K, H, 1.0);
  const args = sweepArgs(kernel, corpus, K, 'lla', { weights });
  const phi = phiOf(args.counts, K, corpus.V, args.beta);
  const target = new Float64Array(4 * K);
  for (let t = 0; t < 4; t++) target.set(exactTarget(weights, Int32Array.of(K), corpus.tokens[t], phi, K, corpus.V), t * K);
  const mh = await chain(kernel, args, 6000);
  assert.ok(largestGap(mh, target) < 0.03, `off by ${largestGap(mh, target)}`);
});

test('lda: MH (cycle) and exact chains agree in distribution', async () => {
  const K = 4;
  const corpus = randomCorpus(generator(12), 4, 6, 5);
  const args = sweepArgs(kernel, corpus, K, 'lda', {});
  const mh = await chain(kernel, args, 8000);
  const exact = await chain(kernel, { ...args, exact: true }, 8000);
  assert.ok(largestGap(mh, exact) < 0.04, `off by ${largestGap(mh, exact)}`);
});

for (const mode of ['lda', 'lla', 'word-lla'] as KernelMode[]) {
  test(`${mode}: results identical for 1 and 2 threads and with a plain (copied) memory`, async () => {
    const K = 20, H = 12;
    const corpus = randomCorpus(generator(21), 300, 40, 60);
    const weights = mode === 'lda' ? undefined : randomWeights(generator(22), mode === 'lla' ? K + 1 : corpus.V + 1, K, H);
    const args = sweepArgs(kernel, corpus, K, mode, { weights, iteration: 3 });
    const runs: Array<{ topics: number[]; logPhi: number }> = [];
    const plain = await loadWasmKernel({ shared: false });
    assert.is(plain.buildInfo().threads, false);
    for (const [k, threads] of [[kernel, 1], [kernel, 2], [plain, 2]] as Array<[WasmKernel, number]>) {
      const topicsNext = k.allocInt32(corpus.tokens.length);
      const result = await k.sweep({ ...args, threads, topicsNext });
      runs.push({ topics: Array.from(topicsNext), logPhi: result.logPhi });
      assert.ok(result.proposalsAccepted <= result.proposalsMade && result.proposalsMade === 2 * corpus.tokens.length);
    }
    assert.equal(runs[1], runs[0]);
    assert.equal(runs[2], runs[0]);
    assert.ok(runs[0].topics.some((z, t) => z !== args.topicsPrev[t]), 'the sweep changed some topics');
    // Same seed, other iteration: other draws.
    const other = new Int32Array(corpus.tokens.length);
    await kernel.sweep({ ...args, iteration: 4, topicsNext: other });
    assert.not.equal(Array.from(other), runs[0].topics);
  });
}

test('particleFilter: word-lla is exact; threads and filterStep agree with the whole-sequence filter', async () => {
  const K = 5, H = 6;
  const corpus = randomCorpus(generator(31), 40, 12, 9);
  const topics = Int32Array.from(corpus.tokens, (_, t) => t % K);
  const { counts } = tables(kernel, corpus, topics, K, 0.2);
  const phi = phiOf(counts, K, corpus.V, 0.2);
  const D = corpus.offsets.length - 1;
  const wordWeights = randomWeights(generator(32), corpus.V + 1, K, H);
  const logLikelihood = new Float64Array(D);
  await kernel.particleFilter({ mode: 'word-lla', numTopics: K, vocabularySize: corpus.V, tokens: corpus.tokens,
    offsets: corpus.offsets, counts, beta: 0.2, alpha: 0.1, weights: wordWeights, particles: 8, seed: 1, threads: 1,
    logLikelihood });
  for (let d = 0; d < D; d++) {
    const sequence = corpus.tokens.subarray(corpus.offsets[d], corpus.offsets[d + 1]);
    let exact = 0;
    for (let t = 0; t < sequence.length; t++) {
      const inputs = Int32Array.from([corpus.V, ...sequence.subarray(0, t)]);
      const { hidden } = referenceSteps(wordWeights, inputs);
      const logits = referenceLogits(wordWeights, hidden.subarray(t * H));
      const top = Math.max(...logits);
      const e = logits.map((l) => Math.exp(l - top));
      const total = e.reduce((a, b) => a + b, 0);
      exact += Math.log(e.reduce((sum, x, k) => sum + x / total * phi[k * corpus.V + sequence[t]], 0));
    }
    assert.ok(Math.abs(logLikelihood[d] - exact) < 1e-4, `sequence ${d}: ${logLikelihood[d]} vs ${exact}`);
  }

  for (const mode of ['lla', 'lda'] as KernelMode[]) {
    const weights = mode === 'lla' ? randomWeights(generator(33), K + 1, K, H) : undefined;
    const positions = Int32Array.of(0, 5, 6, 30, corpus.tokens.length - 1);
    const common = { mode, numTopics: K, vocabularySize: corpus.V, tokens: corpus.tokens, offsets: corpus.offsets,
      counts, beta: 0.2, alpha: 0.3, weights, particles: 16, seed: 4, mixturePositions: positions };
    const one = new Float64Array(D), two = new Float64Array(D);
    const mixturesOne = new Float32Array(positions.length * K), mixturesTwo = new Float32Array(positions.length * K);
    await kernel.particleFilter({ ...common, threads: 1, logLikelihood: one, mixtures: mixturesOne });
    await kernel.particleFilter({ ...common, threads: 2, logLikelihood: two, mixtures: mixturesTwo });
    assert.equal(Array.from(two), Array.from(one));
    assert.equal(Array.from(mixturesTwo), Array.from(mixturesOne));
    for (let p = 0; p < positions.length; p++) {
      const sum = mixturesOne.subarray(p * K, (p + 1) * K).reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(sum - 1) < 1e-5, `mixture ${p} sums to ${sum}`);
    }
    // A session fed token by token reproduces sequence d's log-likelihood and the mixture at position 6.
    const d = 1;
    const S = 16;
    const state = { position: new Int32Array(1), previousAction: Int32Array.of(-1), weights: new Float64Array(S),
      previousTopic: new Int32Array(S).fill(-1), hiddenState: new Float32Array(S * H), cellState: new Float32Array(S * H),
      topicCounts: new Int32Array(S * K) };
    let total = 0;
    const next = new Float32Array(K);
    for (let t = corpus.offsets[d]; t < corpus.offsets[d + 1]; t++) {
      total += kernel.filterStep({ mode, numTopics: K, vocabularySize: corpus.V, counts, beta: 0.2, alpha: 0.3, weights,
        particles: S, seed: 4, state, action: corpus.tokens[t], sequenceIndex: d, mixtureOut: next });
      if (t + 1 === 6) assert.equal(Array.from(next), Array.from(mixturesOne.subarray(2 * K, 3 * K)));
    }
    assert.ok(Math.abs(total - one[d]) < 1e-9, `${mode}: session ${total} vs filter ${one[d]}`);
    assert.is(state.position[0], corpus.offsets[d + 1] - corpus.offsets[d]);
  }
});

test('bad arguments throw clear errors before any call, and the kernel keeps working', async () => {
  const corpus = randomCorpus(generator(41), 5, 5, 4);
  const args = sweepArgs(kernel, corpus, 3, 'lda', {});
  const bad = corpus.tokens.slice();
  bad[2] = 99;
  await rejects(() => kernel.sweep({ ...args, tokens: bad }), /tokens\[2\] = 99 is outside \[0, 4\)/);
  await rejects(() => kernel.sweep({ ...args, mode: 'lla' }), /weights are required/);
  await rejects(() => kernel.sweep({ ...args, offsets: Int32Array.of(0, 3) }), /offsets\[D\] must equal/);
  await rejects(() => kernel.sweep({ ...args, topicsPrev: new Float32Array(corpus.tokens.length) as unknown as Int32Array }), /topicsPrev must be a Int32Array/);
  await rejects(() => kernel.sweep({ ...args, threads: -1 }), /threads must be a whole number/);
  assert.throws(() => kernel.randomStream(-1, 0, 0, new Uint32Array(1)), /seed must be a whole number/);
  assert.throws(() => kernel.lstmSteps(randomWeights(generator(1), 3, 2, 4), Int32Array.of(0, 3), new Float32Array(8), new Float32Array(8)), /inputs\[1\] = 3/);
  const { wordOffsets, wordTokens } = groupByAction(corpus.tokens, corpus.V);
  const small: CountTables = { rowOffsets: new Int32Array(corpus.V + 1), rowTopics: new Int32Array(1), rowCounts: new Int32Array(1), topicTotals: new Int32Array(3) };
  assert.throws(() => kernel.buildCounts(corpus.tokens, wordOffsets, wordTokens, args.topicsPrev, 3, small), /fewer than the non-zero counts/);
  const result = await kernel.sweep(args);
  assert.ok(Number.isFinite(result.logPhi) && result.logPhi < 0);
});

test('checks run in WebAssembly on arrays in linear memory reject what the TypeScript checks reject, and name it', async () => {
  if (!kernel.buildInfo().threads) return;  // without shared memory no array lives in linear memory
  const corpus = randomCorpus(generator(43), 4, 6, 5);
  const T = corpus.tokens.length;
  const args = sweepArgs(kernel, corpus, 3, 'lda', {});
  const inMemory = (values: Int32Array) => {
    const copy = kernel.allocInt32(values.length);
    copy.set(values);
    return copy;
  };
  const tokens = inMemory(corpus.tokens);
  const topicsPrev = inMemory(args.topicsPrev);
  assert.ok(Number.isFinite((await kernel.sweep({ ...args, tokens, topicsPrev })).logPhi), 'valid arrays pass');
  // the first SIMD lane, an inner lane, the scalar tail; too large and negative
  for (const [position, value] of [[0, 5], [5, 7], [T - 1, 5], [T - 2, -1]]) {
    const bad = inMemory(corpus.tokens);
    bad[position] = value;
    await rejects(() => kernel.sweep({ ...args, tokens: bad, topicsPrev }),
      new RegExp(`tokens\\[${position}\\] = ${value} is outside \\[0, 5\\)`));
    const badTopics = inMemory(args.topicsPrev);
    badTopics[position] = value < 0 ? value : 3;
    await rejects(() => kernel.sweep({ ...args, tokens, topicsPrev: badTopics }),
      new RegExp(`topicsPrev\\[${position}\\] = ${value < 0 ? value : 3} is outside \\[0, 3\\)`));
  }
  // count rows: a topic out of order, a zero count; alias: an alias topic out of range, a NaN mass
  const row = Array.from({ length: corpus.V }, (_, w) => w).find((w) => args.counts.rowOffsets[w + 1] - args.counts.rowOffsets[w] >= 2)!;
  const first = args.counts.rowOffsets[row];
  const counts = { ...args.counts, rowTopics: inMemory(args.counts.rowTopics), rowCounts: inMemory(args.counts.rowCounts) };
  counts.rowTopics[first + 1] = counts.rowTopics[first];
  await rejects(() => kernel.sweep({ ...args, tokens, topicsPrev, counts }), new RegExp(`ascending within action ${row}`));
  counts.rowTopics.set(args.counts.rowTopics);
  counts.rowCounts[first] = 0;
  await rejects(() => kernel.sweep({ ...args, tokens, topicsPrev, counts }), new RegExp(`rowCounts\\[${first}\\] = 0 must be > 0`));
  const alias = { ...args.alias, sparseAlias: inMemory(args.alias.sparseAlias) };
  alias.sparseAlias[first] = 3;
  await rejects(() => kernel.sweep({ ...args, tokens, topicsPrev, alias }), new RegExp(`sparseAlias\\[${first}\\] = 3 is outside`));
  const sparseMass = kernel.allocFloat64(corpus.V);
  sparseMass.set(args.alias.sparseMass);
  sparseMass[corpus.V - 1] = Number.NaN;
  await rejects(() => kernel.sweep({ ...args, tokens, topicsPrev, alias: { ...args.alias, sparseMass } }),
    new RegExp(`sparseMass\\[${corpus.V - 1}\\] = NaN must be finite`));
});

test('allocations are reused: repeated calls do not grow the memory in use', async () => {
  const corpus = randomCorpus(generator(51), 50, 30, 20);
  const args = sweepArgs(kernel, corpus, 8, 'lda', {});
  await kernel.sweep(args);
  const before = kernel.usedBytes;
  for (let i = 0; i < 20; i++) await kernel.sweep({ ...args, iteration: i, threads: 1 + (i % 2) });
  assert.is(kernel.usedBytes, before);
});

test('a caller overwriting its arrays during an asynchronous sweep gets a settled promise, and the kernel goes on working', async () => {
  if (!kernel.buildInfo().threads) return;
  const random = generator(71);
  const corpus = randomCorpus(random, 300, 400, 500);
  const T = corpus.tokens.length;
  const base = sweepArgs(kernel, corpus, 30, 'lda', { threads: 2 });
  for (const garbage of [0x7fffffff, -1, 499, 123456]) {
    const tokens = kernel.allocInt32(T);
    tokens.set(corpus.tokens);
    const running = kernel.sweep({ ...base, tokens, topicsNext: new Int32Array(T) });
    // the workers read `tokens` in place: scribble over it while they run
    tokens.fill(garbage);
    let timer: NodeJS.Timeout | undefined;
    const settled = await Promise.race([
      running.then(() => 'resolved', () => 'rejected'),
      new Promise<string>((resolve) => { timer = setTimeout(() => resolve('hung'), 20000); }),
    ]);
    clearTimeout(timer);
    assert.ok(settled === 'resolved' || settled === 'rejected', `sweep with ids overwritten by ${garbage}: ${settled}`);
  }
  const result = await kernel.sweep({ ...base, topicsNext: new Int32Array(T) });
  assert.ok(Number.isFinite(result.logPhi) && result.logPhi < 0);
});

// last: its 100k-element arrays, once collected, would change the memory in use that the test above compares
test('row rebuilds on 2 threads (counts, alias, the sweep\'s hash tables) equal the 1-thread ones, workers joining or not', async () => {
  if (!kernel.buildInfo().threads) return;
  // large enough for two threads (32768 tokens or entries per thread)
  const random = generator(61);
  const corpus = randomCorpus(random, 400, 600, 20000);
  const T = corpus.tokens.length, K = 64, V = corpus.V;
  assert.ok(T >= 2 * 32768, `corpus of ${T} tokens`);
  const { wordOffsets, wordTokens } = groupByAction(corpus.tokens, V);
  const countTables = (): CountTables => ({ rowOffsets: kernel.allocInt32(V + 1), rowTopics: kernel.allocInt32(T),
    rowCounts: kernel.allocInt32(T), topicTotals: kernel.allocInt32(K) });
  const aliasTables = (): AliasTables => ({ sparseProb: kernel.allocFloat32(T), sparseAlias: kernel.allocInt32(T),
    sparseMass: kernel.allocFloat64(V), denseProb: kernel.allocFloat32(K), denseAlias: kernel.allocInt32(K),
    denseMass: kernel.allocFloat64(1) });
  const one = countTables(), two = countTables();
  const aliasOne = aliasTables(), aliasTwo = aliasTables();
  const topics = kernel.allocInt32(T);
  // element by element, naming the first difference (uvu's diff of 100k-element arrays takes minutes)
  const same = (name: string, actual: ArrayLike<number>, expected: ArrayLike<number>) => {
    assert.is(actual.length, expected.length, `${name} length`);
    for (let i = 0; i < expected.length; i++) {
      if (!Object.is(actual[i], expected[i])) assert.unreachable(`${name}[${i}] is ${actual[i]} on 2 threads, ${expected[i]} on 1`);
    }
  };
  const before = kernel.threadedJobs;
  let attempts = 0;
  for (; attempts < 200 && (attempts < 4 || kernel.threadedJobs.workerJoins - before.workerJoins < 3); attempts++) {
    for (let i = 0; i < T; i++) topics[i] = Math.floor(random() * random() * K);
    const nnz = kernel.buildCounts(corpus.tokens, wordOffsets, wordTokens, topics, K, one, 1);
    assert.ok(nnz + V >= 2 * 32768, `${nnz} count entries over ${V} actions: too few for a threaded alias rebuild`);
    assert.is(kernel.buildCounts(corpus.tokens, wordOffsets, wordTokens, topics, K, two, 2), nnz);
    same('rowOffsets', two.rowOffsets, one.rowOffsets);
    same('rowTopics', two.rowTopics.subarray(0, nnz), one.rowTopics.subarray(0, nnz));
    same('rowCounts', two.rowCounts.subarray(0, nnz), one.rowCounts.subarray(0, nnz));
    same('topicTotals', two.topicTotals, one.topicTotals);
    kernel.buildAlias(one, K, 0.05, aliasOne, 1);
    kernel.buildAlias(one, K, 0.05, aliasTwo, 2);
    same('sparseProb', aliasTwo.sparseProb.subarray(0, nnz), aliasOne.sparseProb.subarray(0, nnz));
    same('sparseAlias', aliasTwo.sparseAlias.subarray(0, nnz), aliasOne.sparseAlias.subarray(0, nnz));
    same('sparseMass', aliasTwo.sparseMass, aliasOne.sparseMass);
    same('denseProb', aliasTwo.denseProb, aliasOne.denseProb);
    same('denseAlias', aliasTwo.denseAlias, aliasOne.denseAlias);
    same('denseMass', aliasTwo.denseMass, aliasOne.denseMass);
    if (attempts % 10 === 0) {
      // the sweep builds its count hash tables on the sweep's threads: identical draws either way
      const base: SweepArgs = { mode: 'lda', exact: false, mhSteps: 2, proposals: 'cycle', numTopics: K, vocabularySize: V,
        tokens: corpus.tokens, offsets: corpus.offsets, topicsPrev: topics, topicsNext: new Int32Array(T), counts: one,
        alias: aliasOne, beta: 0.05, alpha: 0.5, sequenceSmoothing: 0.1, seed: 3, iteration: attempts, threads: 1 };
      // threaded first: the hash tables are not zeroed between calls, so a 1-thread build just before would
      // leave the right tables in the memory the threaded build reuses
      const threaded = { ...base, topicsNext: new Int32Array(T), threads: 2 };
      await kernel.sweep(threaded);
      await kernel.sweep(base);
      same('topicsNext', threaded.topicsNext, base.topicsNext);
    }
  }
  const after = kernel.threadedJobs;
  assert.ok(after.jobs - before.jobs >= 2 * attempts, `${after.jobs - before.jobs} threaded rebuilds in ${attempts} rounds`);
  assert.ok(after.workerJoins > before.workerJoins, `a worker joined a threaded rebuild at least once in ${attempts} rounds`);
  // a wrongly grouped word index is still refused on the threaded path
  const misgrouped = wordTokens.slice();
  [misgrouped[0], misgrouped[T - 1]] = [misgrouped[T - 1], misgrouped[0]];
  assert.throws(() => kernel.buildCounts(corpus.tokens, wordOffsets, misgrouped, topics, K, two, 2), /wordTokens \[0\] is position \d+ whose action is \d+, not 0/);
});

test('the row-ascent check in WebAssembly accepts every right index and refuses a drop inside a row at any lane', () => {
  if (!kernel.buildInfo().threads) return;  // without shared memory no array lives in linear memory
  const random = generator(71);
  for (const [D, V] of [[30, 7], [200, 40], [5, 300]]) {
    const corpus = randomCorpus(random, D, 12, V);
    const T = corpus.tokens.length, K = 4;
    const grouped = groupByAction(corpus.tokens, V);
    const wordOffsets = kernel.allocInt32(V + 1);
    wordOffsets.set(grouped.wordOffsets);
    const wordTokens = kernel.allocInt32(T);
    const topics = kernel.allocInt32(T);
    const counts: CountTables = { rowOffsets: kernel.allocInt32(V + 1), rowTopics: kernel.allocInt32(T),
      rowCounts: kernel.allocInt32(T), topicTotals: kernel.allocInt32(K) };
    wordTokens.set(grouped.wordTokens);
    // the WebAssembly check itself (a wrong "fail" would only send the wrapper to its TypeScript loop, unseen)
    const internals = kernel as unknown as { wasm: WasmExports; linear: { addressOf(values: Int32Array): number | undefined } };
    const ascending = () => internals.wasm.rowsAscending(internals.linear.addressOf(wordOffsets)!, V,
      internals.linear.addressOf(wordTokens)!, T);
    assert.is(ascending(), 1, 'a right index passes');
    assert.ok(kernel.buildCounts(corpus.tokens, wordOffsets, wordTokens, topics, K, counts) > 0, 'and is counted');
    // every place inside a row where two neighbours can be swapped: first lane, inner lanes, the scalar tail
    for (let w = 0; w < V; w++) {
      for (let i = wordOffsets[w] + 1; i < wordOffsets[w + 1]; i++) {
        wordTokens.set(grouped.wordTokens);
        [wordTokens[i - 1], wordTokens[i]] = [wordTokens[i], wordTokens[i - 1]];
        assert.is(ascending(), 0, `a swap at ${i}`);
        assert.throws(() => kernel.buildCounts(corpus.tokens, wordOffsets, wordTokens, topics, K, counts),
          new RegExp(`wordTokens \\[${i}\\] is position ${grouped.wordTokens[i - 1]}, not above the previous position ${grouped.wordTokens[i]} of action ${w}`));
      }
    }
  }
});

test('a worker whose view of the memory is stale stays out of every job; the calling thread runs it, with the same results', async () => {
  const pool = kernel.threadPool;
  if (pool === undefined) return;
  const random = generator(67);
  const corpus = randomCorpus(random, 300, 400, 20000);
  const T = corpus.tokens.length, K = 32, V = corpus.V;
  const { wordOffsets, wordTokens } = groupByAction(corpus.tokens, V);
  const topics = kernel.allocInt32(T);
  for (let i = 0; i < T; i++) topics[i] = Math.floor(random() * K);
  const tables = (): CountTables => ({ rowOffsets: kernel.allocInt32(V + 1), rowTopics: kernel.allocInt32(T),
    rowCounts: kernel.allocInt32(T), topicTotals: kernel.allocInt32(K) });
  const counts = tables(), staleCounts = tables();
  const alias: AliasTables = { sparseProb: kernel.allocFloat32(T), sparseAlias: kernel.allocInt32(T),
    sparseMass: kernel.allocFloat64(V), denseProb: kernel.allocFloat32(K), denseAlias: kernel.allocInt32(K),
    denseMass: kernel.allocFloat64(1) };
  const nnz = kernel.buildCounts(corpus.tokens, wordOffsets, wordTokens, topics, K, counts, 2);
  kernel.buildAlias(counts, K, 0.05, alias, 2);
  const args = (topicsNext: Int32Array): SweepArgs => ({ mode: 'lda', exact: false, mhSteps: 2, proposals: 'cycle',
    numTopics: K, vocabularySize: V, tokens: corpus.tokens, offsets: corpus.offsets, topicsPrev: topics, topicsNext,
    counts, alias, beta: 0.05, alpha: 0.5, sequenceSmoothing: 0.1, seed: 5, iteration: 1, threads: 2 });
  const expected = new Int32Array(T);
  await kernel.sweep({ ...args(expected), threads: 1 });
  const joinsBefore = kernel.threadedJobs.workerJoins;
  // every worker now believes the memory is 1 GiB larger than it can see, as a worker that missed a growth would
  pool.announcedExtraBytes = 1 << 30;
  try {
    for (let round = 0; round < 20; round++) {
      const stale = new Int32Array(T);
      await kernel.sweep(args(stale));
      for (let i = 0; i < T; i++) if (stale[i] !== expected[i]) assert.unreachable(`topicsNext[${i}] is ${stale[i]}, not ${expected[i]}`);
      assert.is(kernel.buildCounts(corpus.tokens, wordOffsets, wordTokens, topics, K, staleCounts, 2), nnz);
    }
    assert.is(kernel.threadedJobs.workerJoins, joinsBefore, 'no worker joined a job whose memory it could not see');
    for (let w = 0; w <= V; w++) if (staleCounts.rowOffsets[w] !== counts.rowOffsets[w]) assert.unreachable(`rowOffsets[${w}] differs`);
    for (let e = 0; e < nnz; e++) {
      if (staleCounts.rowTopics[e] !== counts.rowTopics[e] || staleCounts.rowCounts[e] !== counts.rowCounts[e]) {
        assert.unreachable(`count entry ${e} differs`);
      }
    }
  } finally {
    pool.announcedExtraBytes = 0;
  }
  // and the workers join again once they can see the memory (a join depends on a worker waking in time)
  let attempts = 0;
  for (; attempts < 200 && kernel.threadedJobs.workerJoins === joinsBefore; attempts++) {
    const again = new Int32Array(T);
    await kernel.sweep(args(again));
    for (let i = 0; i < T; i++) if (again[i] !== expected[i]) assert.unreachable(`topicsNext[${i}] differs once workers join`);
  }
  assert.ok(kernel.threadedJobs.workerJoins > joinsBefore, `a worker joined a sweep within ${attempts} attempts`);
});

test.run();
