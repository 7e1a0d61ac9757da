// Kernel contract tests (src/kernels/types.ts), one suite body run for every backend: RNG streams and checksum
// against TypeScript references, count and alias tables, the MH chains against exact conditionals computed here
// in float64 (chi-square at fixed seeds), thread-count independence, the LSTM cell against a float64 reference,
// the particle filter against enumeration, and bad arguments that must throw without crashing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadKernel } from '../src/kernels/loader.js';
import { FILTER_ITERATION_BASE, RANDOM_TOPICS_ITERATION, ReferenceStream } from '../src/kernels/rng.js';
import type {
  AliasTables,
  BackendName,
  CellWeights,
  CountTables,
  FilterState,
  Kernel,
  KernelMode,
  ProposalSchedule,
  SweepArgs,
  SweepMode,
} from '../src/kernels/types.js';
import {
  chain,
  exactTarget,
  largestGap,
  phiOf,
  randomCorpus,
  randomWeights as randomCellWeights,
  sweepArgs as kernelSweepArgs,
} from './helpers/kernel-data.js';
import { mulberry32 as testRandom } from './helpers/mulberry32.js';

const BACKENDS: BackendName[] = (process.env.LLA_TEST_BACKENDS?.split(',') as BackendName[] | undefined) ?? [
  'native',
  'wasm',
];

// ---------------------------------------------------------------- small deterministic helpers (not the kernel's)

/**
 * A corpus of T tokens over V actions and K topics in the kernel's memory, drawn by `draw` (action, topic) for each
 * token, with its word index (positions grouped by action, ascending) and count tables of capacity T.
 */
function rebuildCorpus(k: Kernel, T: number, V: number, K: number, draw: () => [number, number]) {
  const tokens = k.allocInt32(T);
  const topics = k.allocInt32(T);
  for (let i = 0; i < T; i++) [tokens[i], topics[i]] = draw();
  const wordOffsets = k.allocInt32(V + 1);
  for (const w of tokens) wordOffsets[w + 1]++;
  for (let w = 0; w < V; w++) wordOffsets[w + 1] += wordOffsets[w];
  const fill = Int32Array.from(wordOffsets);
  const wordTokens = k.allocInt32(T);
  tokens.forEach((w, i) => {
    wordTokens[fill[w]++] = i;
  });
  const countTables = (): CountTables => ({
    rowOffsets: k.allocInt32(V + 1),
    rowTopics: k.allocInt32(T),
    rowCounts: k.allocInt32(T),
    topicTotals: k.allocInt32(K),
  });
  return { tokens, topics, wordOffsets, wordTokens, countTables };
}

function randomWeights(
  random: () => number,
  numTopics: number,
  rows: number,
  hidden: number,
  outputScale = 1,
): CellWeights {
  const uniform = (length: number, scale: number) => Float32Array.from({ length }, () => (2 * random() - 1) * scale);
  return {
    hidden,
    inputTable: uniform(rows * 4 * hidden, 1),
    recurrent: uniform(4 * hidden * hidden, Math.sqrt(6 / (5 * hidden))),
    gateBias: uniform(4 * hidden, 0.5),
    outputWeights: uniform(numTopics * hidden, outputScale * Math.sqrt(6 / (numTopics + hidden))),
    outputBias: uniform(numTopics, 0.5),
  };
}

// ---------------------------------------------------------------- float64 reference of the LSTM cell

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** One step with input symbol x from (h, c), in place. */
function referenceStep(weights: CellWeights, x: number, h: Float64Array, c: Float64Array): void {
  const H = weights.hidden;
  const g = new Float64Array(4 * H);
  for (let r = 0; r < 4 * H; r++) {
    let sum = weights.inputTable[x * 4 * H + r] + weights.gateBias[r];
    for (let j = 0; j < H; j++) sum += weights.recurrent[r * H + j] * h[j];
    g[r] = sum;
  }
  for (let j = 0; j < H; j++) {
    c[j] = sigmoid(g[H + j]) * c[j] + sigmoid(g[j]) * Math.tanh(g[2 * H + j]);
    h[j] = sigmoid(g[3 * H + j]) * Math.tanh(c[j]);
  }
}

function referencePi(weights: CellWeights, h: Float64Array): Float64Array {
  const K = weights.outputBias.length;
  const H = weights.hidden;
  const logits = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    let sum = weights.outputBias[k];
    for (let j = 0; j < H; j++) sum += weights.outputWeights[k * H + j] * h[j];
    logits[k] = sum;
  }
  const largest = Math.max(...logits);
  const pi = logits.map((l) => Math.exp(l - largest));
  const total = pi.reduce((a, b) => a + b, 0);
  return pi.map((p) => p / total);
}

/** pi after reading the given inputs from zero state. */
function piAfter(weights: CellWeights, inputs: number[]): Float64Array {
  const h = new Float64Array(weights.hidden);
  const c = new Float64Array(weights.hidden);
  for (const x of inputs) referenceStep(weights, x, h, c);
  return referencePi(weights, h);
}

// ---------------------------------------------------------------- counts, phi, tables

interface Tables {
  counts: CountTables;
  alias: AliasTables;
  nnz: number;
  phi: number[][]; /* [K][V] */
}

/** Kernel tables from an assignment, plus phi computed here from dense counts. */
function buildTables(
  kernel: Kernel,
  tokens: Int32Array,
  topics: Int32Array,
  K: number,
  V: number,
  beta: number,
): Tables {
  const T = tokens.length;
  const wordOffsets = kernel.allocInt32(V + 1);
  for (const w of tokens) wordOffsets[w + 1]++;
  for (let w = 0; w < V; w++) wordOffsets[w + 1] += wordOffsets[w];
  const fill = Int32Array.from(wordOffsets);
  const wordTokens = kernel.allocInt32(T);
  tokens.forEach((w, i) => {
    wordTokens[fill[w]++] = i;
  });
  const counts: CountTables = {
    rowOffsets: kernel.allocInt32(V + 1),
    rowTopics: kernel.allocInt32(T),
    rowCounts: kernel.allocInt32(T),
    topicTotals: kernel.allocInt32(K),
  };
  const nnz = kernel.buildCounts(tokens, wordOffsets, wordTokens, topics, K, counts);
  const alias: AliasTables = {
    sparseProb: kernel.allocFloat32(T),
    sparseAlias: kernel.allocInt32(T),
    sparseMass: kernel.allocFloat64(V),
    denseProb: kernel.allocFloat32(K),
    denseAlias: kernel.allocInt32(K),
    denseMass: kernel.allocFloat64(1),
  };
  kernel.buildAlias(counts, K, beta, alias);
  const dense = Array.from({ length: K }, () => new Float64Array(V));
  const totals = new Float64Array(K);
  tokens.forEach((w, i) => {
    dense[topics[i]][w]++;
    totals[topics[i]]++;
  });
  const phi = dense.map((row, k) => Array.from(row, (n) => (n + beta) / (totals[k] + V * beta)));
  return { counts, alias, nnz, phi };
}

function normalise(values: ArrayLike<number>): number[] {
  const total = Array.from(values).reduce((a, b) => a + b, 0);
  return Array.from(values, (v) => v / total);
}

/** Pearson chi-square with cells of expectation < 5 pooled; returns the statistic and the 0.999 quantile. */
function chiSquare(observed: number[], probabilities: number[]): { statistic: number; critical: number } {
  const n = observed.reduce((a, b) => a + b, 0);
  let statistic = 0;
  let bins = 0;
  let pooledObserved = 0;
  let pooledExpected = 0;
  observed.forEach((o, i) => {
    const e = probabilities[i] * n;
    if (e < 5) {
      pooledObserved += o;
      pooledExpected += e;
    } else {
      statistic += (o - e) ** 2 / e;
      bins++;
    }
  });
  if (pooledExpected > 0) {
    statistic += (pooledObserved - pooledExpected) ** 2 / Math.max(pooledExpected, 1e-12);
    bins++;
  }
  const df = Math.max(bins - 1, 1);
  const z = 3.0902; // upper 0.001 point of the standard normal (Wilson-Hilferty)
  const critical = df * (1 - 2 / (9 * df) + z * Math.sqrt(2 / (9 * df))) ** 3;
  return { statistic, critical };
}

function histogram(values: Iterable<number>, size: number): number[] {
  const counts = new Array<number>(size).fill(0);
  for (const v of values) counts[v]++;
  return counts;
}

// ---------------------------------------------------------------- the fixture model for the sampler tests

const K = 5;
const V = 4;
const H = 8;
const BETA = 0.05;
const ALPHA = 0.3;

function fixtureModel(kernel: Kernel) {
  const random = testRandom(7);
  // A "previous sweep" of 80 tokens whose topics favour k = w (mod K) so that phi is far from uniform.
  const trainTokens = kernel.allocInt32(80);
  const trainTopics = kernel.allocInt32(80);
  for (let i = 0; i < 80; i++) {
    trainTokens[i] = Math.floor(random() * V);
    trainTopics[i] = random() < 0.6 ? (trainTokens[i] + 1) % K : Math.floor(random() * K);
  }
  const tables = buildTables(kernel, trainTokens, trainTopics, K, V, BETA);
  const weights = randomWeights(random, K, K + 1, H, 3);
  const wordWeights = randomWeights(random, K, V + 1, H, 3);
  return { ...tables, weights, wordWeights };
}

type Fixture = ReturnType<typeof fixtureModel>;

/** D copies of one sequence (each copy its own random stream: independent draws of the same chain). */
function copies(kernel: Kernel, sequence: number[], previous: number[], D: number) {
  const n = sequence.length;
  const tokens = kernel.allocInt32(n * D);
  const topicsPrev = kernel.allocInt32(n * D);
  const offsets = kernel.allocInt32(D + 1);
  for (let d = 0; d < D; d++) {
    offsets[d + 1] = (d + 1) * n;
    for (let t = 0; t < n; t++) {
      tokens[d * n + t] = sequence[t];
      topicsPrev[d * n + t] = previous[t];
    }
  }
  return { tokens, topicsPrev, offsets, topicsNext: kernel.allocInt32(n * D) };
}

function sweepArgs(
  fixture: Fixture,
  mode: SweepMode,
  corpus: ReturnType<typeof copies>,
  extra: Partial<SweepArgs>,
): SweepArgs {
  return {
    mode,
    exact: false,
    mhSteps: 2,
    proposals: 'cycle',
    numTopics: K,
    vocabularySize: V,
    ...corpus,
    counts: fixture.counts,
    alias: fixture.alias,
    beta: BETA,
    alpha: ALPHA,
    sequenceSmoothing: 0.1,
    weights: mode === 'lla' ? fixture.weights : mode === 'word-lla' ? fixture.wordWeights : undefined,
    seed: 42,
    iteration: 3,
    threads: 2,
    ...extra,
  };
}

/** The exact conditional of the first token of a sequence given the others' previous topics. */
function firstTokenConditional(fixture: Fixture, mode: KernelMode, sequence: number[], previous: number[]): number[] {
  const w = sequence[0];
  let prior: ArrayLike<number>;
  if (mode === 'lda') {
    const inSequence = histogram(previous.slice(1), K);
    prior = inSequence.map((n) => n + ALPHA);
  } else if (mode === 'lla') {
    prior = piAfter(fixture.weights, [K]);
  } else {
    prior = piAfter(fixture.wordWeights, [V]);
  }
  return normalise(Array.from({ length: K }, (_, k) => prior[k] * fixture.phi[k][w]));
}

const modes: KernelMode[] = ['lda', 'lla', 'word-lla'];
const schedules: (ProposalSchedule | 'exact')[] = ['word', 'sequence', 'cycle', 'exact'];

// ---------------------------------------------------------------- the suite, once per backend

for (const backend of BACKENDS) {
  const title = `kernels [${backend}]`;
  let cached: Kernel | undefined;
  const kernel = async (): Promise<Kernel> => (cached ??= await loadKernel({ backend }));

  test(`${title}: loads and describes itself`, async () => {
    const k = await kernel();
    assert.is(k.name, backend);
    const info = k.buildInfo();
    assert.is(info.backend, backend);
    assert.ok(info.maxThreads >= 1);
    if (backend === 'native') assert.is(info.napiVersion, 8);
  });

  test(`${title}: random streams equal the BigInt reference`, async () => {
    const k = await kernel();
    for (const [seed, iteration, index] of [
      [0, 0, 0],
      [1, 2, 3],
      [123456789, 0xffffffff, 77],
      [2 ** 53 - 1, 0x80000005, 2 ** 40],
    ]) {
      const out = new Uint32Array(40);
      k.randomStream(seed, iteration, index, out);
      const reference = new ReferenceStream(seed, iteration, index);
      assert.equal(
        Array.from(out),
        Array.from({ length: 40 }, () => reference.nextHigh32()),
        `stream ${seed}/${iteration}/${index}`,
      );
    }
    const offsets = Int32Array.from([0, 3, 3, 10]);
    const topics = k.allocInt32(10);
    k.randomTopics(offsets, topics, 7, 99);
    const expected: number[] = [];
    for (let d = 0; d < 3; d++) {
      const stream = new ReferenceStream(99, RANDOM_TOPICS_ITERATION, d);
      for (let i = offsets[d]; i < offsets[d + 1]; i++) expected.push(stream.below(7));
    }
    assert.equal(Array.from(topics), expected);
  });

  test(`${title}: checksum is FNV-1a over the 32-bit values`, async () => {
    const k = await kernel();
    const values = Int32Array.from([0, 1, -1, 2147483647, -2147483648, 42, 7]);
    let h = 2166136261;
    for (const v of values) h = Math.imul((h ^ v) >>> 0, 16777619) >>> 0;
    assert.is(k.checksum(values), h);
    assert.is(k.checksum(new Int32Array(0)), 2166136261);
  });

  test(`${title}: count and alias tables match dense counts and phi`, async () => {
    const k = await kernel();
    const fixture = fixtureModel(k);
    const { counts, alias, nnz, phi } = fixture;
    assert.ok(nnz > 0 && nnz <= K * V);
    assert.is(counts.rowOffsets[V], nnz);
    let total = 0;
    for (let w = 0; w < V; w++) {
      const row = new Array<number>(K).fill(0);
      for (let e = counts.rowOffsets[w]; e < counts.rowOffsets[w + 1]; e++) {
        if (e > counts.rowOffsets[w]) assert.ok(counts.rowTopics[e] > counts.rowTopics[e - 1], 'ascending topics');
        assert.ok(counts.rowCounts[e] > 0);
        row[counts.rowTopics[e]] = counts.rowCounts[e];
        total += counts.rowCounts[e];
      }
      // q_w implied by the two alias tables equals phi_{., w} normalised
      const q = new Array<number>(K).fill(0);
      const begin = counts.rowOffsets[w];
      const length = counts.rowOffsets[w + 1] - begin;
      const mass = alias.sparseMass[w] + alias.denseMass[0];
      for (let i = 0; i < length; i++) {
        const share = alias.sparseMass[w] / mass / length;
        q[counts.rowTopics[begin + i]] += share * alias.sparseProb[begin + i];
        q[alias.sparseAlias[begin + i]] += share * (1 - alias.sparseProb[begin + i]);
      }
      for (let i = 0; i < K; i++) {
        const share = alias.denseMass[0] / mass / K;
        q[i] += share * alias.denseProb[i];
        q[alias.denseAlias[i]] += share * (1 - alias.denseProb[i]);
      }
      const target = normalise(phi.map((r) => r[w]));
      for (let i = 0; i < K; i++) assert.ok(Math.abs(q[i] - target[i]) < 1e-6, `q_${w}(${i}) ${q[i]} vs ${target[i]}`);
    }
    assert.is(total, 80);
    assert.is(
      Array.from(counts.topicTotals).reduce((a, b) => a + b, 0),
      80,
    );
  });

  test(`${title}: on a skewed corpus, counts equal a plain count and each alias row reproduces its weights`, async () => {
    const k = await kernel();
    // rows from one entry to many, SIMD lanes and scalar tails alike
    const random = testRandom(1);
    const T = 2400,
      V = 40,
      K = 50,
      beta = 0.05;
    const { tokens, topics, wordOffsets, wordTokens, countTables } = rebuildCorpus(k, T, V, K, () => [
      Math.min(V - 1, Math.floor(V * random() * random())),
      Math.floor(random() * random() * K),
    ]);
    const counts = countTables();
    const nnz = k.buildCounts(tokens, wordOffsets, wordTokens, topics, K, counts);
    const alias: AliasTables = {
      sparseProb: k.allocFloat32(T),
      sparseAlias: k.allocInt32(T),
      sparseMass: k.allocFloat64(V),
      denseProb: k.allocFloat32(K),
      denseAlias: k.allocInt32(K),
      denseMass: k.allocFloat64(1),
    };
    k.buildAlias(counts, K, beta, alias);
    const dense = new Map<number, number>();
    tokens.forEach((w, t) => dense.set(w * K + topics[t], (dense.get(w * K + topics[t]) ?? 0) + 1));
    let entry = 0;
    for (let w = 0; w < V; w++) {
      assert.is(counts.rowOffsets[w], entry);
      for (let topic = 0; topic < K; topic++) {
        const n = dense.get(w * K + topic);
        if (n === undefined) continue;
        assert.is(counts.rowTopics[entry], topic);
        assert.is(counts.rowCounts[entry], n);
        entry++;
      }
    }
    assert.is(counts.rowOffsets[V], entry);
    assert.is(nnz, entry);
    for (let topic = 0; topic < K; topic++)
      assert.is(counts.topicTotals[topic], topics.filter((z) => z === topic).length);
    // each sparse row implies (prob_i [own = k] + (1 - prob_i) [alias = k]) / n, its weights normalised
    for (let w = 0; w < V; w++) {
      const begin = counts.rowOffsets[w],
        n = counts.rowOffsets[w + 1] - begin;
      let mass = 0;
      const weights = new Map<number, number>();
      for (let i = begin; i < begin + n; i++) {
        const weight = counts.rowCounts[i] / (counts.topicTotals[counts.rowTopics[i]] + V * beta);
        weights.set(counts.rowTopics[i], weight);
        mass += weight;
      }
      assert.ok(Math.abs(alias.sparseMass[w] - mass) < 1e-12 * Math.max(1, mass), `sparseMass[${w}]`);
      const implied = new Map<number, number>();
      for (let i = begin; i < begin + n; i++) {
        const own = counts.rowTopics[i],
          other = alias.sparseAlias[i],
          p = alias.sparseProb[i];
        implied.set(own, (implied.get(own) ?? 0) + p / n);
        implied.set(other, (implied.get(other) ?? 0) + (1 - p) / n);
      }
      for (const [topic, weight] of weights) {
        assert.ok(Math.abs((implied.get(topic) ?? 0) - weight / mass) < 1e-6, `row ${w} topic ${topic}`);
      }
    }
    let denseMass = 0;
    for (let topic = 0; topic < K; topic++) denseMass += beta / (counts.topicTotals[topic] + V * beta);
    assert.ok(Math.abs(alias.denseMass[0] - denseMass) < 1e-12);
    const implied = new Float64Array(K);
    for (let i = 0; i < K; i++) {
      implied[i] += alias.denseProb[i] / K;
      implied[alias.denseAlias[i]] += (1 - alias.denseProb[i]) / K;
    }
    for (let topic = 0; topic < K; topic++) {
      assert.ok(
        Math.abs(implied[topic] - beta / (counts.topicTotals[topic] + V * beta) / denseMass) < 1e-6,
        `dense topic ${topic}`,
      );
    }
  });

  for (const mode of modes) {
    test(`${title}: ${mode} chain of the first token matches its exact conditional (every schedule)`, async () => {
      const k = await kernel();
      const fixture = fixtureModel(k);
      const sequence = [2, 0, 3];
      const previous = [1, 3, 3];
      const expected = firstTokenConditional(fixture, mode, sequence, previous);
      const wordOnly = normalise(fixture.phi.map((r) => r[sequence[0]]));
      const D = 4000;
      for (const schedule of schedules) {
        const corpus = copies(k, sequence, previous, D);
        const result = await k.sweep(
          sweepArgs(fixture, mode, corpus, {
            exact: schedule === 'exact',
            mhSteps: 40,
            proposals: schedule === 'exact' ? 'cycle' : schedule,
            iteration: schedules.indexOf(schedule),
          }),
        );
        const firsts = Array.from({ length: D }, (_, d) => corpus.topicsNext[d * sequence.length]);
        const observed = histogram(firsts, K);
        const fit = chiSquare(observed, expected);
        assert.ok(
          fit.statistic < fit.critical,
          `${mode}/${schedule}: chi-square ${fit.statistic.toFixed(1)} >= ${fit.critical.toFixed(1)} (observed ${observed}, expected ${expected.map((p) => (p * D).toFixed(0))})`,
        );
        // power: the same sample is far from the proposal alone
        const wrong = chiSquare(observed, wordOnly);
        assert.ok(wrong.statistic > wrong.critical, `${mode}/${schedule}: the test cannot tell the target from q_w`);
        if (schedule === 'exact') {
          assert.is(result.proposalsMade, 0);
        } else {
          assert.is(result.proposalsMade, D * sequence.length * 40);
          assert.ok(result.proposalsAccepted > 0 && result.proposalsAccepted <= result.proposalsMade);
        }
      }
    });
  }

  for (const proposals of ['cycle', 'word', 'sequence'] as ProposalSchedule[]) {
    test(`${title}: word-lla MH (${proposals}) chains of every token match the exact conditional; exact mode too`, async () => {
      // word-lla's prior reads the previous actions, not topics: every token has an exact conditional, and a long
      // chain of sweeps shows whether the sweep feeds the cell the right actions at every position
      const k = await kernel();
      const K5 = 5;
      const corpus = randomCorpus(testRandom(3), 3, 4, 6);
      const weights = randomCellWeights(testRandom(4), corpus.V + 1, K5, 4, 1.2);
      const args = kernelSweepArgs(k, corpus, K5, 'word-lla', { weights, proposals, mhSteps: 2 });
      const phi = phiOf(args.counts, K5, corpus.V, args.beta);
      const target = new Float64Array(corpus.tokens.length * K5);
      for (let d = 0; d + 1 < corpus.offsets.length; d++) {
        for (let t = corpus.offsets[d]; t < corpus.offsets[d + 1]; t++) {
          const inputs = Int32Array.from([corpus.V, ...corpus.tokens.subarray(corpus.offsets[d], t)]);
          target.set(exactTarget(weights, inputs, corpus.tokens[t], phi, K5, corpus.V), t * K5);
        }
      }
      const mh = await chain(k, args, 6000);
      assert.ok(largestGap(mh, target) < 0.03, `MH frequencies off by ${largestGap(mh, target)}`);
      if (proposals === 'cycle') {
        const exact = await chain(k, { ...args, exact: true }, 6000);
        assert.ok(largestGap(exact, target) < 0.03, `exact frequencies off by ${largestGap(exact, target)}`);
      }
    });
  }

  test(`${title}: count and alias rebuilds give the same tables for 1, 3 and all threads`, async () => {
    const k = await kernel();
    // 300k tokens: enough for the native rebuild to split its rows over 3 threads; Zipf-like actions so that rows
    // range from one entry to all K topics
    const T = 300_000;
    const V = 5_000;
    const K = 300;
    const random = testRandom(41);
    const { tokens, topics, wordOffsets, wordTokens, countTables } = rebuildCorpus(k, T, V, K, () => [
      Math.min(V - 1, Math.floor(Math.exp(random() * Math.log(V + 1))) - 1),
      Math.floor(random() * random() * K),
    ]);
    const build = (threads: number | undefined) => {
      const counts = countTables();
      const nnz = k.buildCounts(tokens, wordOffsets, wordTokens, topics, K, counts, threads);
      const alias: AliasTables = {
        sparseProb: k.allocFloat32(T),
        sparseAlias: k.allocInt32(T),
        sparseMass: k.allocFloat64(V),
        denseProb: k.allocFloat32(K),
        denseAlias: k.allocInt32(K),
        denseMass: k.allocFloat64(1),
      };
      k.buildAlias(counts, K, 0.01, alias, threads);
      return { nnz, counts, alias };
    };
    const one = build(undefined);
    assert.ok(one.nnz > V && one.nnz < T, `nnz ${one.nnz}`);
    let longRows = 0;
    for (let w = 0; w < V; w++) if (one.counts.rowOffsets[w + 1] - one.counts.rowOffsets[w] > K / 2) longRows++;
    assert.ok(longRows > 10, `${longRows} rows hold more than K/2 topics`);
    for (const threads of [1, 3, 0]) {
      const other = build(threads);
      assert.is(other.nnz, one.nnz, `nnz with ${threads} threads`);
      const same = (name: string, a: ArrayLike<number>, b: ArrayLike<number>, length: number) => {
        for (let i = 0; i < length; i++)
          if (!Object.is(a[i], b[i]))
            assert.unreachable(`${name}[${i}] differs with ${threads} threads: ${a[i]} vs ${b[i]}`);
      };
      same('rowOffsets', one.counts.rowOffsets, other.counts.rowOffsets, V + 1);
      same('rowTopics', one.counts.rowTopics, other.counts.rowTopics, one.nnz);
      same('rowCounts', one.counts.rowCounts, other.counts.rowCounts, one.nnz);
      same('topicTotals', one.counts.topicTotals, other.counts.topicTotals, K);
      same('sparseProb', one.alias.sparseProb, other.alias.sparseProb, one.nnz);
      same('sparseAlias', one.alias.sparseAlias, other.alias.sparseAlias, one.nnz);
      same('sparseMass', one.alias.sparseMass, other.alias.sparseMass, V);
      same('denseProb', one.alias.denseProb, other.alias.denseProb, K);
      same('denseAlias', one.alias.denseAlias, other.alias.denseAlias, K);
      same('denseMass', one.alias.denseMass, other.alias.denseMass, 1);
    }
  });

  test(`${title}: buildCounts refuses a word index that is not every position once, grouped and ascending, on 1 and 2 threads`, async () => {
    const k = await kernel();
    // 200k tokens: enough for both backends to split the rebuild over 2 threads
    const T = 200_000;
    const V = 3_000;
    const K = 50;
    const random = testRandom(43);
    const { tokens, topics, wordOffsets, wordTokens, countTables } = rebuildCorpus(k, T, V, K, () => [
      Math.floor(random() * V),
      Math.floor(random() * K),
    ]);
    const counts = countTables();
    const refuse = (label: string, index: Int32Array, pattern: RegExp) => {
      for (const threads of [1, 2]) {
        assert.throws(
          () => k.buildCounts(tokens, wordOffsets, index, topics, K, counts, threads),
          (error: Error) => pattern.test(error.message),
          `${label}, ${threads} thread(s)`,
        );
      }
    };
    // in a late row (the last thread's range) and an early one
    const w = V - 2;
    const late = wordOffsets[w] + 1;
    const early = wordOffsets[7];
    // two positions of different actions swapped
    const swapped = Int32Array.from(wordTokens);
    [swapped[early], swapped[late]] = [swapped[late], swapped[early]];
    refuse(
      'swapped',
      swapped,
      new RegExp(`wordTokens \\[${early}\\] is position ${wordTokens[late]} whose action is ${w}, not 7`),
    );
    // a position of the row listed twice, so another is missing: every listed position is still of its row's action
    const repeated = Int32Array.from(wordTokens);
    repeated[late] = repeated[late - 1];
    refuse(
      'repeated',
      repeated,
      new RegExp(
        `wordTokens \\[${late}\\] is position ${wordTokens[late - 1]}, not above the previous position ${wordTokens[late - 1]} of action ${w}`,
      ),
    );
    // two positions of one row out of order
    const unordered = Int32Array.from(wordTokens);
    [unordered[late - 1], unordered[late]] = [unordered[late], unordered[late - 1]];
    refuse(
      'unordered',
      unordered,
      new RegExp(
        `wordTokens \\[${late}\\] is position ${wordTokens[late - 1]}, not above the previous position ${wordTokens[late]}`,
      ),
    );
    // and the right index is counted, every token once
    for (const threads of [1, 2]) {
      assert.ok(k.buildCounts(tokens, wordOffsets, wordTokens, topics, K, counts, threads) > 0);
      let total = 0;
      for (let topic = 0; topic < K; topic++) total += counts.topicTotals[topic];
      assert.is(total, T, `${threads} thread(s)`);
    }
  });

  test(`${title}: lla joint of (z0, z1) matches p(z0) p(z1 | z0)`, async () => {
    const k = await kernel();
    const fixture = fixtureModel(k);
    const sequence = [1, 3];
    const previous = [2, 4];
    const p0 = normalise(Array.from(piAfter(fixture.weights, [K]), (p, z) => p * fixture.phi[z][1]));
    const joint: number[] = [];
    for (let z0 = 0; z0 < K; z0++) {
      const p1 = normalise(Array.from(piAfter(fixture.weights, [K, z0]), (p, z) => p * fixture.phi[z][3]));
      for (let z1 = 0; z1 < K; z1++) joint.push(p0[z0] * p1[z1]);
    }
    const D = 6000;
    for (const schedule of schedules) {
      const corpus = copies(k, sequence, previous, D);
      await k.sweep(
        sweepArgs(fixture, 'lla', corpus, {
          exact: schedule === 'exact',
          mhSteps: 40,
          proposals: schedule === 'exact' ? 'cycle' : schedule,
          iteration: 11,
        }),
      );
      const cells = Array.from({ length: D }, (_, d) => corpus.topicsNext[2 * d] * K + corpus.topicsNext[2 * d + 1]);
      const fit = chiSquare(histogram(cells, K * K), joint);
      assert.ok(
        fit.statistic < fit.critical,
        `lla joint/${schedule}: chi-square ${fit.statistic.toFixed(1)} >= ${fit.critical.toFixed(1)}`,
      );
      // power: z1 drawn as if independent of z0 would fail
      const p1Marginal = normalise(
        Array.from({ length: K }, (_, z1) => joint.filter((_, i) => i % K === z1).reduce((a, b) => a + b, 0)),
      );
      const independent = Array.from({ length: K * K }, (_, i) => p0[Math.floor(i / K)] * p1Marginal[i % K]);
      const wrong = chiSquare(histogram(cells, K * K), independent);
      assert.ok(wrong.statistic > wrong.critical, 'the test cannot tell dependence from independence');
    }
  });

  // ---- lookahead (lla) and the hmm mode: one sweep over a 3-token sequence draws z0 given the previous sweep's
  // z1 (lookahead) and z1 given the new z0 and the previous sweep's z2, so the joint of (z0, z1) checks the first
  // and a middle position's factor, and (lla) that the next position steps from the accepted topic's state.

  /** p(z0, z1) after one sweep: z_t from prior(history, k) phi_{k,w_t} factor(history, k), the factor reading the
   * previous sweep's topics after t. */
  function jointOfFirstTwo(
    phi: number[][],
    sequence: number[],
    prior: (history: number[], k: number) => number,
    factor: ((history: number[], k: number) => number) | null,
  ): number[] {
    const conditional = (history: number[]) =>
      normalise(
        Array.from(
          { length: K },
          (_, k) => prior(history, k) * phi[k][sequence[history.length]] * (factor ? factor(history, k) : 1),
        ),
      );
    const p0 = conditional([]);
    const joint: number[] = [];
    for (let z0 = 0; z0 < K; z0++) {
      const p1 = conditional([z0]);
      for (let z1 = 0; z1 < K; z1++) joint.push(p0[z0] * p1[z1]);
    }
    return joint;
  }

  /** A transition table of `order` far from uniform ((K+1)^order rows of K; K the begin symbol). */
  function transitionTable(k: Kernel, order: number): Float64Array {
    const random = testRandom(17);
    const rows = order === 2 ? (K + 1) ** 2 : K + 1;
    const table = k.allocFloat64(rows * K);
    for (let row = 0; row < rows; row++) {
      const weights = Array.from({ length: K }, () => 0.05 + random() ** 3);
      weights[(row + 2) % K] += 1.5;
      normalise(weights).forEach((p, column) => {
        table[row * K + column] = p;
      });
    }
    return table;
  }

  for (const [mode, lookahead, order] of [
    ['lla', true, 1],
    ['hmm', true, 1],
    ['hmm', false, 1],
    ['hmm', true, 2],
    ['hmm', false, 2],
  ] as const) {
    test(`${title}: ${mode}${mode === 'hmm' ? ` of order ${order}` : ''}${lookahead ? ' with lookahead' : ''}: joint of (z0, z1) matches the exact conditionals (every schedule)`, async () => {
      const k = await kernel();
      const fixture = fixtureModel(k);
      const transitions = transitionTable(k, order);
      // order 2 reads two topics after z1: a fourth token
      const sequence = [1, 3, 2, 0];
      const previous = [2, 4, 0, 3];
      // p(z | context), the context's topics given oldest first, K before the sequence
      const table = (context: number[], z: number) => {
        const padded = [K, K, ...context];
        return order === 1
          ? transitions[padded[padded.length - 1] * K + z]
          : transitions[(padded[padded.length - 2] * (K + 1) + padded[padded.length - 1]) * K + z];
      };
      const prior =
        mode === 'lla'
          ? (history: number[], z: number) => piAfter(fixture.weights, [K, ...history])[z]
          : (history: number[], z: number) => table(history, z);
      // the lookahead factor: the previous sweep's topics after position t (= history.length) given z there
      const factor =
        mode === 'lla'
          ? (history: number[], z: number) => piAfter(fixture.weights, [K, ...history, z])[previous[history.length + 1]]
          : (history: number[], z: number) => {
              const t = history.length;
              let value = table([...history, z], previous[t + 1]);
              if (order === 2 && t + 2 < sequence.length)
                value *= table([...history, z, previous[t + 1]], previous[t + 2]);
              return value;
            };
      const expected = jointOfFirstTwo(fixture.phi, sequence, prior, lookahead ? factor : null);
      const other = jointOfFirstTwo(fixture.phi, sequence, prior, lookahead ? null : factor);
      const D = 6000;
      for (const schedule of schedules) {
        const corpus = copies(k, sequence, previous, D);
        await k.sweep(
          sweepArgs(fixture, mode, corpus, {
            // the sequence proposal alone reaches the topics missing from the sequence with probability 0.04 a
            // step: the hmm table's favourites among them need a longer chain
            exact: schedule === 'exact',
            mhSteps: schedule === 'sequence' ? 200 : 40,
            proposals: schedule === 'exact' ? 'cycle' : schedule,
            iteration: 13,
            lookahead,
            ...(mode === 'hmm' ? { transitions, transitionOrder: order } : {}),
          }),
        );
        const cells = Array.from({ length: D }, (_, d) => corpus.topicsNext[4 * d] * K + corpus.topicsNext[4 * d + 1]);
        const observed = histogram(cells, K * K);
        const fit = chiSquare(observed, expected);
        assert.ok(
          fit.statistic < fit.critical,
          `${mode}/${schedule}: chi-square ${fit.statistic.toFixed(1)} >= ${fit.critical.toFixed(1)}`,
        );
        // power: the same chains with the factor dropped (or, without lookahead, added) would fail
        const wrong = chiSquare(observed, other);
        assert.ok(wrong.statistic > wrong.critical, `${mode}/${schedule}: the test cannot tell lookahead from none`);
      }
    });
  }

  // ---- the initialisation's kernels: transition table, context features, weighted k-means

  test(`${title}: transitionTable counts each sequence's transitions from the begin symbol, smoothed by rows`, async () => {
    const k = await kernel();
    const offsets = Int32Array.from([0, 4, 4, 7]);
    const topics = Int32Array.from([1, 1, 0, 2, 2, 0, 1]);
    const out = k.allocFloat64(4 * 3);
    k.transitionTable(offsets, topics, 3, 0.5, out);
    // counts [(K+1)][K]: row 3 is the begin symbol
    const counts = [
      [0, 0, 1],
      [1, 1, 0],
      [0, 0, 0],
      [0, 1, 1],
    ];
    counts[2][0] = 1; // 2 -> 0 in the third sequence
    counts[0][1] = 1; // 0 -> 1 there
    for (let j = 0; j <= 3; j++) {
      const total = counts[j].reduce((a, b) => a + b, 0);
      for (let z = 0; z < 3; z++) {
        assert.ok(
          Math.abs(out[j * 3 + z] - (counts[j][z] + 0.5) / (total + 1.5)) < 1e-15,
          `[${j}][${z}] ${out[j * 3 + z]}`,
        );
      }
    }
    // order 2: the context of z_t is (z_{t-2}, z_{t-1}), row z_{t-2} (K+1) + z_{t-1}, with 3 the begin symbol
    const second = k.allocFloat64(16 * 3);
    k.transitionTable(offsets, topics, 3, 0.5, second, 2);
    const pairCounts = new Map<number, number[]>();
    for (let d = 0; d < 3; d++) {
      let [before, previous] = [3, 3];
      for (let t = offsets[d]; t < offsets[d + 1]; t++) {
        const row = before * 4 + previous;
        const cells = pairCounts.get(row) ?? [0, 0, 0];
        cells[topics[t]]++;
        pairCounts.set(row, cells);
        [before, previous] = [previous, topics[t]];
      }
    }
    for (let row = 0; row < 16; row++) {
      const cells = pairCounts.get(row) ?? [0, 0, 0];
      const total = cells.reduce((a, b) => a + b, 0);
      for (let z = 0; z < 3; z++) {
        assert.ok(Math.abs(second[row * 3 + z] - (cells[z] + 0.5) / (total + 1.5)) < 1e-15, `order 2 [${row}][${z}]`);
      }
    }
    assert.ok(pairCounts.size >= 5, 'the sequences fill several pair rows');
    assert.throws(() => k.transitionTable(offsets, topics, 3, 0.5, out, 2), /out/);
    assert.throws(() => k.transitionTable(offsets, topics, 3, 0.5, second, 3), /order/);
    assert.throws(() => k.transitionTable(offsets, Int32Array.from([1, 1, 0, 3, 2, 0, 1]), 3, 0.5, out), /topics/);
    assert.throws(() => k.transitionTable(offsets, topics, 3, 0, out), /smoothing/);
    assert.throws(() => k.transitionTable(offsets, topics, 3, 0.5, new Float64Array(9)), /out/);
  });

  test(`${title}: contextFeatures project each action's Hellinger-normalised neighbours on its documented signs`, async () => {
    const k = await kernel();
    const random = testRandom(5);
    const V2 = 30;
    const dimensions = 70; // two 64-bit words of signs per action, the second partly used
    const lengths = [1, 2, 40, 17, 300, 5];
    const offsets = Int32Array.from([0, ...lengths.map((_, d) => lengths.slice(0, d + 1).reduce((a, b) => a + b, 0))]);
    const tokens = Int32Array.from({ length: offsets[lengths.length] }, () => Math.floor(random() ** 2 * (V2 - 2)));
    const features = k.allocFloat32(V2 * 2 * dimensions);
    k.contextFeatures(tokens, offsets, V2, dimensions, 77, features);
    const sign = (b: number, j: number) => {
      const stream = new ReferenceStream(77, 0xfffffffe, b);
      let word = 0n;
      for (let i = 0; i <= j >> 6; i++) word = stream.next();
      return ((word >> BigInt(j & 63)) & 1n) === 1n ? 1 : -1;
    };
    const signs = Array.from({ length: V2 }, (_, b) => Array.from({ length: dimensions }, (_, j) => sign(b, j)));
    let largest = 0;
    let nonZero = 0;
    for (let a = 0; a < V2; a++) {
      for (const side of [0, 1]) {
        const counts = new Map<number, number>();
        for (let d = 0; d < lengths.length; d++) {
          for (let t = offsets[d]; t < offsets[d + 1]; t++) {
            if (tokens[t] !== a) continue;
            const neighbour = side === 0 ? t + 1 : t - 1;
            if (neighbour < offsets[d] || neighbour >= offsets[d + 1]) continue;
            counts.set(tokens[neighbour], (counts.get(tokens[neighbour]) ?? 0) + 1);
          }
        }
        const total = Array.from(counts.values()).reduce((x, y) => x + y, 0);
        for (let j = 0; j < dimensions; j++) {
          let expected = 0;
          for (const [b, n] of counts) expected += Math.sqrt(n / total) * signs[b][j];
          const actual = features[(a * 2 + side) * dimensions + j];
          largest = Math.max(largest, Math.abs(actual - expected));
          if (actual !== 0) nonZero++;
        }
      }
    }
    assert.ok(largest < 1e-4, `largest difference ${largest}`);
    assert.ok(nonZero > V2 * dimensions, 'most features are non-zero');
    // the last two actions never occur: zero features
    assert.ok(features.subarray((V2 - 2) * 2 * dimensions).every((v) => v === 0));
    for (const threads of [2, 0]) {
      const again = k.allocFloat32(V2 * 2 * dimensions);
      k.contextFeatures(tokens, offsets, V2, dimensions, 77, again, threads);
      assert.ok(
        again.every((v, i) => Object.is(v, features[i])),
        `threads ${threads}: the same features`,
      );
    }
    assert.throws(() => k.contextFeatures(tokens, offsets, V2, dimensions, 77, new Float32Array(5)), /features/);
    assert.throws(
      () => k.contextFeatures(tokens, offsets, 3, dimensions, 77, new Float32Array(3 * 2 * dimensions)),
      /tokens/,
    );
  });

  test(`${title}: kmeans finds well-separated weighted clusters; one cluster's centre is the weighted mean`, async () => {
    const k = await kernel();
    const random = testRandom(9);
    const dimensions = 12;
    const groups = 6;
    const n = 600;
    const centres = Array.from({ length: groups }, () => Array.from({ length: dimensions }, () => 20 * random()));
    const truth = Int32Array.from({ length: n }, () => Math.floor(random() * groups));
    const points = k.allocFloat32(n * dimensions);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < dimensions; j++) points[i * dimensions + j] = centres[truth[i]][j] + (random() - 0.5) * 0.2;
    }
    const weights = k.allocFloat64(n);
    for (let i = 0; i < n; i++) weights[i] = 1 + Math.floor(random() * 10);
    const labels = k.allocInt32(n);
    const objective = k.kmeans(points, dimensions, weights, groups, 50, 3, labels);
    // the same partition up to naming: every true group maps to one label and back
    const naming = new Map<number, number>();
    for (let i = 0; i < n; i++) {
      if (!naming.has(truth[i])) naming.set(truth[i], labels[i]);
      assert.is(labels[i], naming.get(truth[i]), `point ${i}`);
    }
    assert.is(new Set(naming.values()).size, groups);
    // the objective is the weighted squared distance to the members' weighted means
    let expected = 0;
    for (let g = 0; g < groups; g++) {
      const members = Array.from({ length: n }, (_, i) => i).filter((i) => truth[i] === g);
      const weight = members.reduce((a, i) => a + weights[i], 0);
      for (let j = 0; j < dimensions; j++) {
        const mean = members.reduce((a, i) => a + weights[i] * points[i * dimensions + j], 0) / weight;
        for (const i of members) expected += weights[i] * (points[i * dimensions + j] - mean) ** 2;
      }
    }
    assert.ok(Math.abs(objective - expected) < 1e-3 * expected, `objective ${objective} vs ${expected}`);
    // one cluster, one round: everything in it, measured from the weighted mean
    const one = k.kmeans(points, dimensions, weights, 1, 1, 3, labels);
    assert.ok(labels.every((label) => label === 0));
    let spread = 0;
    for (let j = 0; j < dimensions; j++) {
      let mean = 0;
      let total = 0;
      for (let i = 0; i < n; i++) {
        mean += weights[i] * points[i * dimensions + j];
        total += weights[i];
      }
      mean /= total;
      for (let i = 0; i < n; i++) spread += weights[i] * (points[i * dimensions + j] - mean) ** 2;
    }
    assert.ok(Math.abs(one - spread) < 1e-3 * spread, `one cluster: ${one} vs ${spread}`);
    const again = k.allocInt32(n);
    assert.is(k.kmeans(points, dimensions, weights, groups, 50, 3, again, 2), objective, 'threads change nothing');
    assert.throws(
      () =>
        k.kmeans(
          points,
          dimensions,
          Float64Array.from(weights, (w, i) => (i === 5 ? 0 : w)),
          groups,
          50,
          3,
          labels,
        ),
      /weights/,
    );
    assert.throws(() => k.kmeans(points.subarray(1), dimensions, weights, groups, 50, 3, labels), /points/);
    assert.throws(() => k.kmeans(points, dimensions, weights, groups, 0, 3, labels), /iterations/);
  });

  // a corpus with sequences of mixed lengths (one holds about a third of the tokens)
  function mixedCorpus(k: Kernel, numTopics: number, vocabulary: number, seed: number) {
    const random = testRandom(seed);
    const lengths = Array.from({ length: 150 }, () => Math.floor(random() * 40));
    lengths[17] = 1500;
    const offsets = k.allocInt32(lengths.length + 1);
    lengths.forEach((n, d) => {
      offsets[d + 1] = offsets[d] + n;
    });
    const T = offsets[lengths.length];
    const tokens = k.allocInt32(T);
    const topicsPrev = k.allocInt32(T);
    for (let i = 0; i < T; i++) {
      tokens[i] = Math.floor(random() ** 2 * vocabulary);
      topicsPrev[i] = Math.floor(random() * numTopics);
    }
    return { tokens, offsets, topicsPrev, T };
  }

  test(`${title}: sweeps keep counts consistent, logPhi exact, results independent of the thread count`, async () => {
    const k = await kernel();
    const K2 = 12;
    const V2 = 40;
    const random = testRandom(3);
    const { tokens, offsets, topicsPrev, T } = mixedCorpus(k, K2, V2, 11);
    const tables = buildTables(k, tokens, topicsPrev, K2, V2, BETA);
    const weights = randomWeights(random, K2, K2 + 1, 16);
    const wordWeights = randomWeights(random, K2, V2 + 1, 16);
    const transitions = k.allocFloat64((K2 + 1) * K2);
    for (let row = 0; row <= K2; row++) {
      normalise(Array.from({ length: K2 }, () => 0.05 + random())).forEach((p, column) => {
        transitions[row * K2 + column] = p;
      });
    }
    const configurations: Array<[SweepMode, boolean]> = [
      ...modes.map((m): [SweepMode, boolean] => [m, false]),
      ['lla', true],
      ['hmm', true],
      ['hmm', false],
    ];
    for (const [mode, lookahead] of configurations) {
      for (const exact of [false, true]) {
        const outputs: Int32Array[] = [];
        const logPhis: number[] = [];
        for (const threads of [1, 2]) {
          const topicsNext = k.allocInt32(T);
          const result = await k.sweep({
            mode,
            exact,
            mhSteps: 3,
            proposals: 'cycle',
            numTopics: K2,
            vocabularySize: V2,
            tokens,
            offsets,
            topicsPrev,
            topicsNext,
            counts: tables.counts,
            alias: tables.alias,
            beta: BETA,
            alpha: ALPHA,
            sequenceSmoothing: 0.1,
            weights: mode === 'lla' ? weights : mode === 'word-lla' ? wordWeights : undefined,
            seed: 5,
            iteration: 2,
            threads,
            lookahead,
            ...(mode === 'hmm' ? { transitions } : {}),
          });
          outputs.push(topicsNext);
          logPhis.push(result.logPhi);
        }
        assert.equal(Array.from(outputs[0]), Array.from(outputs[1]), `${mode} exact=${exact}: 1 vs 2 threads`);
        assert.is(logPhis[0], logPhis[1]);
        const next = outputs[0];
        let expectedLogPhi = 0;
        for (let i = 0; i < T; i++) expectedLogPhi += Math.log(tables.phi[next[i]][tokens[i]]);
        assert.ok(Math.abs(logPhis[0] - expectedLogPhi) < 1e-9 * Math.abs(expectedLogPhi), `${mode}: logPhi`);
        assert.ok(
          next.some((z, i) => z !== topicsPrev[i]),
          `${mode}: the sweep changed nothing`,
        );
        const rebuilt = buildTables(k, tokens, next, K2, V2, BETA);
        assert.is(
          Array.from(rebuilt.counts.topicTotals).reduce((a, b) => a + b, 0),
          T,
        );
        const dense = new Map<number, number>();
        for (let i = 0; i < T; i++) dense.set(tokens[i] * K2 + next[i], (dense.get(tokens[i] * K2 + next[i]) ?? 0) + 1);
        assert.is(rebuilt.nnz, dense.size);
        for (let w = 0; w < V2; w++) {
          for (let e = rebuilt.counts.rowOffsets[w]; e < rebuilt.counts.rowOffsets[w + 1]; e++) {
            assert.is(rebuilt.counts.rowCounts[e], dense.get(w * K2 + rebuilt.counts.rowTopics[e]));
          }
        }
      }
    }
  });

  test(`${title}: lstmSteps matches the float64 reference within 1e-5 over 50 steps`, async () => {
    const k = await kernel();
    const random = testRandom(21);
    for (const hidden of [8, 13]) {
      const weights = randomWeights(random, 6, 7, hidden);
      const inputs = Int32Array.from({ length: 50 }, () => Math.floor(random() * 7));
      const hiddenOut = k.allocFloat32(50 * hidden);
      const cellOut = k.allocFloat32(50 * hidden);
      k.lstmSteps(weights, inputs, hiddenOut, cellOut);
      const h = new Float64Array(hidden);
      const c = new Float64Array(hidden);
      let largest = 0;
      inputs.forEach((x, t) => {
        referenceStep(weights, x, h, c);
        for (let j = 0; j < hidden; j++) {
          largest = Math.max(
            largest,
            Math.abs(h[j] - hiddenOut[t * hidden + j]),
            Math.abs(c[j] - cellOut[t * hidden + j]),
          );
        }
      });
      assert.ok(largest < 1e-5, `H=${hidden}: largest difference ${largest}`);
      assert.ok(
        Array.from(cellOut).some((v) => Math.abs(v) > 0.1),
        'the cell state moved',
      );
    }
  });

  test(`${title}: topicTransitions matches the reference`, async () => {
    const k = await kernel();
    const fixture = fixtureModel(k);
    const offsets = Int32Array.from([0, 4, 5, 8]);
    const topics = Int32Array.from([0, 3, 3, 1, 2, 4, 0, 2]);
    const sums = k.allocFloat64(K * K);
    const rowCounts = k.allocFloat64(K);
    k.topicTransitions(offsets, topics, fixture.weights, K, sums, rowCounts);
    const expectedSums = new Float64Array(K * K);
    const expectedCounts = new Float64Array(K);
    for (let d = 0; d < 3; d++) {
      const inputs = [K];
      for (let i = offsets[d]; i + 1 < offsets[d + 1]; i++) {
        inputs.push(topics[i]);
        const pi = piAfter(fixture.weights, inputs);
        for (let j = 0; j < K; j++) expectedSums[topics[i] * K + j] += pi[j];
        expectedCounts[topics[i]]++;
      }
    }
    assert.equal(Array.from(rowCounts), Array.from(expectedCounts));
    for (let i = 0; i < K * K; i++) assert.ok(Math.abs(sums[i] - expectedSums[i]) < 1e-5, `sums[${i}]`);
  });

  // ---- the particle filter against enumeration of all 3^5 topic sequences

  function filterModel(k: Kernel) {
    const random = testRandom(31);
    const K3 = 3;
    const V3 = 4;
    const trainTokens = Int32Array.from({ length: 40 }, () => Math.floor(random() * V3));
    const trainTopics = Int32Array.from(trainTokens, (w) => (random() < 0.7 ? w % K3 : Math.floor(random() * K3)));
    const tables = buildTables(k, trainTokens, trainTopics, K3, V3, BETA);
    return {
      K3,
      V3,
      ...tables,
      weights: randomWeights(random, K3, K3 + 1, 6, 3),
      wordWeights: randomWeights(random, K3, V3 + 1, 6, 3),
    };
  }

  function exactLogLikelihood(model: ReturnType<typeof filterModel>, mode: KernelMode, sequence: number[]): number {
    const { K3, phi } = model;
    if (mode === 'word-lla') {
      let total = 0;
      sequence.forEach((w, t) => {
        const pi = piAfter(model.wordWeights, [model.V3, ...sequence.slice(0, t)]);
        total += Math.log(pi.reduce((sum, p, z) => sum + p * phi[z][w], 0));
      });
      return total;
    }
    let probability = 0;
    const N = sequence.length;
    for (let code = 0; code < K3 ** N; code++) {
      const z = Array.from({ length: N }, (_, t) => Math.floor(code / K3 ** t) % K3);
      let p = 1;
      for (let t = 0; t < N; t++) {
        let prior: number;
        if (mode === 'lla') prior = piAfter(model.weights, [K3, ...z.slice(0, t)])[z[t]];
        else prior = (z.slice(0, t).filter((v) => v === z[t]).length + ALPHA) / (t + K3 * ALPHA);
        p *= prior * phi[z[t]][sequence[t]];
      }
      probability += p;
    }
    return Math.log(probability);
  }

  test(`${title}: particle filter matches the enumerated likelihood (lla, lda) and is exact for word-lla`, async () => {
    const k = await kernel();
    const model = filterModel(k);
    const sequence = [0, 2, 2, 1, 3];
    const D = 40;
    const tokens = Int32Array.from({ length: D * 5 }, (_, i) => sequence[i % 5]);
    const offsets = Int32Array.from({ length: D + 1 }, (_, d) => d * 5);
    for (const mode of modes) {
      const exact = exactLogLikelihood(model, mode, sequence);
      const results: Float64Array[] = [];
      for (const threads of [1, 2]) {
        const logLikelihood = k.allocFloat64(D);
        await k.particleFilter({
          mode,
          numTopics: model.K3,
          vocabularySize: model.V3,
          tokens,
          offsets,
          counts: model.counts,
          beta: BETA,
          alpha: ALPHA,
          weights: mode === 'lla' ? model.weights : mode === 'word-lla' ? model.wordWeights : undefined,
          particles: 256,
          seed: 8,
          threads,
          logLikelihood,
        });
        results.push(logLikelihood);
      }
      assert.equal(Array.from(results[0]), Array.from(results[1]), `${mode}: 1 vs 2 threads`);
      const estimates = Array.from(results[0]);
      if (mode === 'word-lla') {
        for (const e of estimates) assert.ok(Math.abs(e - exact) < 1e-5, `word-lla: ${e} vs exact ${exact}`);
        continue;
      }
      // the particle estimate of p(w) is unbiased: the mean over independent runs is close to the truth
      const meanProbability = estimates.reduce((a, e) => a + Math.exp(e), 0) / D;
      assert.ok(
        Math.abs(Math.log(meanProbability) - exact) < 0.01,
        `${mode}: ${Math.log(meanProbability)} vs exact ${exact}`,
      );
      for (const e of estimates) assert.ok(Math.abs(e - exact) < 0.1, `${mode}: single run ${e} vs exact ${exact}`);
      assert.ok(new Set(estimates).size > 1, `${mode}: the runs should differ (own streams)`);
    }
  });

  test(`${title}: filterStep one token at a time equals particleFilter, mixtures included`, async () => {
    const k = await kernel();
    const model = filterModel(k);
    const tokens = Int32Array.from([1, 3, 0, 0, 2, 1, 3, 2]);
    const offsets = Int32Array.from([0, 3, 8]);
    const S = 16;
    for (const mode of modes) {
      const weights = mode === 'lla' ? model.weights : mode === 'word-lla' ? model.wordWeights : undefined;
      const logLikelihood = k.allocFloat64(2);
      const mixturePositions = Int32Array.from([3, 4, 5, 6, 7]);
      const mixtures = k.allocFloat32(5 * model.K3);
      const common = {
        mode,
        numTopics: model.K3,
        vocabularySize: model.V3,
        counts: model.counts,
        beta: BETA,
        alpha: ALPHA,
        weights,
        particles: S,
        seed: 12,
      };
      await k.particleFilter({ ...common, tokens, offsets, threads: 1, logLikelihood, mixturePositions, mixtures });
      const state: FilterState = {
        position: k.allocInt32(1),
        previousAction: Int32Array.from([-1]),
        weights: k.allocFloat64(S),
        previousTopic: Int32Array.from({ length: S }, () => -1),
        hiddenState: k.allocFloat32(S * 6),
        cellState: k.allocFloat32(S * 6),
        topicCounts: k.allocInt32(S * model.K3),
      };
      let total = 0;
      const mixtureOut = k.allocFloat32(model.K3);
      for (let i = 3; i < 8; i++) {
        if (i > 3) {
          for (let j = 0; j < model.K3; j++)
            assert.ok(Math.abs(mixtureOut[j] - mixtures[(i - 3) * model.K3 + j]) < 1e-6, `${mode}: mixture at ${i}`);
        }
        total += k.filterStep({ ...common, state, action: tokens[i], sequenceIndex: 1, mixtureOut });
      }
      assert.ok(Math.abs(total - logLikelihood[1]) < 1e-9, `${mode}: ${total} vs ${logLikelihood[1]}`);
      assert.is(state.position[0], 5);
      const mixtureSum = Array.from(mixtures.subarray(0, model.K3)).reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(mixtureSum - 1) < 1e-5, 'a mixture is a distribution');
    }
  });

  test(`${title}: the particle filter draws from its documented streams`, async () => {
    // lda with one particle: z_0 is the inverse-CDF draw of uniform() from stream(seed, 0x80000000 + 0, d)
    const k = await kernel();
    const model = filterModel(k);
    const state: FilterState = {
      position: k.allocInt32(1),
      previousAction: Int32Array.from([-1]),
      weights: k.allocFloat64(1),
      previousTopic: Int32Array.from([-1]),
      hiddenState: k.allocFloat32(6),
      cellState: k.allocFloat32(6),
      topicCounts: k.allocInt32(model.K3),
    };
    const action = 2;
    k.filterStep({
      mode: 'lda',
      numTopics: model.K3,
      vocabularySize: model.V3,
      counts: model.counts,
      beta: BETA,
      alpha: ALPHA,
      particles: 1,
      seed: 4,
      state,
      action,
      sequenceIndex: 9,
    });
    const terms = model.phi.map((row) => (row[action] * ALPHA) / (model.K3 * ALPHA));
    const total = terms.reduce((a, b) => a + b, 0);
    const u = new ReferenceStream(4, FILTER_ITERATION_BASE, 9).uniform() * total;
    let cumulative = 0;
    const expected = terms.findIndex((t) => (cumulative += t) > u);
    assert.is(state.previousTopic[0], expected);
    assert.is(state.topicCounts[expected], 1);
  });

  test(`${title}: bad arguments throw and never crash`, async () => {
    const k = await kernel();
    const fixture = fixtureModel(k);
    const corpus = copies(k, [2, 0, 3], [1, 3, 3], 3);
    const good = sweepArgs(fixture, 'lla', corpus, {});
    // an Error; where `names` is given, its message names the argument (the same words on both backends)
    const throwsSync = (label: string, run: () => unknown, names?: RegExp) => {
      assert.throws(
        run,
        (error: unknown) => error instanceof Error && (names === undefined || names.test(error.message)),
        label,
      );
    };
    const rejects = async (label: string, run: () => Promise<unknown>, names?: RegExp) => {
      let failure: unknown;
      try {
        await run();
      } catch (error) {
        failure = error;
      }
      assert.ok(failure instanceof Error, `${label} should reject with an Error`);
      if (names !== undefined) assert.match((failure as Error).message, names, label);
    };
    throwsSync('allocInt32(-1)', () => k.allocInt32(-1));
    throwsSync('checksum(Float32Array)', () => k.checksum(new Float32Array(3) as unknown as Int32Array));
    throwsSync('randomStream negative seed', () => k.randomStream(-1, 0, 0, new Uint32Array(2)), /seed/);
    throwsSync('randomStream Int32Array out', () =>
      k.randomStream(1, 0, 0, new Int32Array(2) as unknown as Uint32Array),
    );
    throwsSync('randomTopics offsets past the end', () =>
      k.randomTopics(Int32Array.from([0, 5]), new Int32Array(3), 4, 1),
    );
    throwsSync('randomTopics zero topics', () => k.randomTopics(Int32Array.from([0, 3]), new Int32Array(3), 0, 1));
    const tokens = Int32Array.from([0, 1, 1]);
    const counts = {
      rowOffsets: new Int32Array(3),
      rowTopics: new Int32Array(3),
      rowCounts: new Int32Array(3),
      topicTotals: new Int32Array(2),
    };
    // buildCounts over `tokens` (word index offsets [0, 1, 3], K=2) with the word tokens, topics, tables and threads
    // given
    const countsOf = (wordTokens: number[], topics: number[], tables = counts, threads?: number) =>
      k.buildCounts(
        tokens,
        Int32Array.from([0, 1, 3]),
        Int32Array.from(wordTokens),
        Int32Array.from(topics),
        2,
        tables,
        threads,
      );
    // the helper's own call is valid: each case below fails for what it breaks, not for the helper
    assert.is(countsOf([0, 1, 2], [0, 1, 1]), 2);
    throwsSync('buildCounts position of another action', () => countsOf([1, 0, 2], [0, 1, 1]));
    throwsSync('buildCounts topic out of range', () => countsOf([0, 1, 2], [0, 5, 1]));
    throwsSync('buildCounts threads -1', () => countsOf([0, 1, 2], [0, 1, 1], counts, -1));
    throwsSync('buildAlias threads 1.5', () => k.buildAlias(fixture.counts, K, 0.01, fixture.alias, 1.5));
    throwsSync(
      'buildCounts rows of too small a capacity',
      () => countsOf([0, 1, 2], [0, 1, 0], { ...counts, rowTopics: new Int32Array(1), rowCounts: new Int32Array(1) }),
      /rowTopics/,
    );
    throwsSync('buildCounts short out', () =>
      countsOf([0, 1, 2], [0, 1, 1], { ...counts, topicTotals: new Int32Array(1) }),
    );
    throwsSync('buildAlias short out', () =>
      k.buildAlias(fixture.counts, K, BETA, { ...fixture.alias, denseProb: new Float32Array(1) }),
    );
    throwsSync('buildAlias zero beta', () => k.buildAlias(fixture.counts, K, 0, fixture.alias));
    throwsSync('buildAlias corrupt rows', () =>
      k.buildAlias({ ...fixture.counts, rowOffsets: Int32Array.from([0, 99, 1, 2, 3]) }, K, BETA, fixture.alias),
    );
    await k.sweep(good); // the good arguments work, so each rejection below is the one changed field
    await rejects('sweep unknown mode', () => k.sweep({ ...good, mode: 'plsa' as KernelMode }));
    await rejects(
      'sweep token out of range',
      () => k.sweep({ ...good, tokens: Int32Array.from([0, 1, 9, 0, 1, 2, 0, 1, 2]) }),
      /tokens ?\[2\] = 9 is outside \[0, 4\)/,
    );
    await rejects('sweep short topicsNext', () => k.sweep({ ...good, topicsNext: new Int32Array(2) }));
    await rejects('sweep topic out of range', () => k.sweep({ ...good, topicsPrev: new Int32Array(9).fill(K) }));
    await rejects('sweep missing weights', () => k.sweep({ ...good, weights: undefined }), /weights/);
    await rejects('sweep wrong weight shape', () => k.sweep({ ...good, weights: { ...fixture.weights, hidden: 7 } }));
    await rejects('sweep bad offsets', () => k.sweep({ ...good, offsets: Int32Array.from([0, 5, 3, 9]) }), /offsets/);
    await rejects(
      'sweep Float32 tokens',
      () => k.sweep({ ...good, tokens: new Float32Array(9) as unknown as Int32Array }),
      /tokens must be a.* Int32Array/,
    );
    await rejects('sweep corrupt alias', () =>
      k.sweep({ ...good, alias: { ...fixture.alias, denseAlias: new Int32Array(K).fill(99) } }),
    );
    await rejects('sweep negative threads', () => k.sweep({ ...good, threads: -1 }), /threads/);
    // names inherited from Object.prototype are no modes or schedules (a lookup must use own properties only)
    for (const inherited of ['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf']) {
      await rejects(`sweep mode '${inherited}'`, () => k.sweep({ ...good, mode: inherited as KernelMode }), /mode/);
      await rejects(
        `sweep lda mode '${inherited}'`,
        () => k.sweep({ ...good, mode: inherited as KernelMode, weights: undefined }),
        /mode/,
      );
      await rejects(
        `sweep proposals '${inherited}'`,
        () => k.sweep({ ...good, proposals: inherited as ProposalSchedule }),
        /proposals/,
      );
    }
    await rejects(
      'sweep lookahead in word-lla',
      () => k.sweep({ ...good, mode: 'word-lla', weights: fixture.wordWeights, lookahead: true }),
      /lookahead/,
    );
    const transitions = new Float64Array((K + 1) * K).fill(1 / K);
    await k.sweep({ ...good, mode: 'hmm', weights: undefined, transitions, lookahead: true });
    await rejects(
      'sweep hmm without transitions',
      () => k.sweep({ ...good, mode: 'hmm', weights: undefined }),
      /transitions/,
    );
    await rejects(
      'sweep hmm short transitions',
      () => k.sweep({ ...good, mode: 'hmm', transitions: transitions.subarray(1) }),
      /transitions/,
    );
    await rejects(
      'sweep hmm zero transition',
      () => k.sweep({ ...good, mode: 'hmm', transitions: Float64Array.from(transitions, (p, i) => (i === 7 ? 0 : p)) }),
      /transitions ?\[7\]/,
    );
    await rejects(
      'sweep hmm NaN transition',
      () =>
        k.sweep({ ...good, mode: 'hmm', transitions: Float64Array.from(transitions, (p, i) => (i === 3 ? NaN : p)) }),
      /transitions ?\[3\]/,
    );
    const filter = {
      mode: 'lla' as KernelMode,
      numTopics: K,
      vocabularySize: V,
      tokens: corpus.tokens,
      offsets: corpus.offsets,
      counts: fixture.counts,
      beta: BETA,
      alpha: ALPHA,
      weights: fixture.weights,
      particles: 4,
      seed: 1,
      threads: 1,
      logLikelihood: new Float64Array(3),
    };
    await rejects('particleFilter short output', () =>
      k.particleFilter({ ...filter, logLikelihood: new Float64Array(2) }),
    );
    await rejects('particleFilter zero particles', () => k.particleFilter({ ...filter, particles: 0 }));
    for (const inherited of ['toString', 'constructor', '__proto__']) {
      await rejects(`particleFilter mode '${inherited}'`, () =>
        k.particleFilter({ ...filter, mode: inherited as KernelMode, weights: undefined }),
      );
    }
    await rejects('particleFilter hmm', () => k.particleFilter({ ...filter, mode: 'hmm' as KernelMode }), /hmm/);
    await rejects('particleFilter unsorted mixture positions', () =>
      k.particleFilter({ ...filter, mixturePositions: Int32Array.from([3, 1]), mixtures: new Float32Array(2 * K) }),
    );
    const state: FilterState = {
      position: new Int32Array(1),
      previousAction: Int32Array.from([-1]),
      weights: new Float64Array(4),
      previousTopic: Int32Array.from([-1, -1, -1, -1]),
      hiddenState: new Float32Array(4 * H),
      cellState: new Float32Array(4 * H),
      topicCounts: new Int32Array(4 * K),
    };
    const step = {
      mode: 'lla' as KernelMode,
      numTopics: K,
      vocabularySize: V,
      counts: fixture.counts,
      beta: BETA,
      alpha: ALPHA,
      weights: fixture.weights,
      particles: 4,
      seed: 1,
      state,
      action: 1,
      sequenceIndex: 0,
    };
    assert.ok(Number.isFinite(k.filterStep(step)), 'a good filterStep works');
    throwsSync('filterStep action out of range', () => k.filterStep({ ...step, action: V }));
    throwsSync("filterStep mode 'toString'", () =>
      k.filterStep({ ...step, mode: 'toString' as KernelMode, weights: undefined }),
    );
    throwsSync('filterStep short hidden state', () =>
      k.filterStep({ ...step, state: { ...state, hiddenState: new Float32Array(3) } }),
    );
    throwsSync('filterStep previous topic out of range', () =>
      k.filterStep({ ...step, state: { ...state, previousTopic: Int32Array.from([0, 9, 0, 0]) } }),
    );
    throwsSync('filterStep wrong mixtureOut', () => k.filterStep({ ...step, mixtureOut: new Float32Array(K + 1) }));
    throwsSync(
      'lstmSteps input out of range',
      () => k.lstmSteps(fixture.weights, Int32Array.from([K + 1]), new Float32Array(H), new Float32Array(H)),
      /inputs ?\[0\] = 6/,
    );
    throwsSync('lstmSteps short output', () =>
      k.lstmSteps(fixture.weights, Int32Array.from([0, 1]), new Float32Array(H), new Float32Array(2 * H)),
    );
    throwsSync('topicTransitions short sums', () =>
      k.topicTransitions(
        Int32Array.from([0, 2]),
        Int32Array.from([0, 1]),
        fixture.weights,
        K,
        new Float64Array(3),
        new Float64Array(K),
      ),
    );
    throwsSync('topicTransitions topic out of range', () =>
      k.topicTransitions(
        Int32Array.from([0, 2]),
        Int32Array.from([0, 7]),
        fixture.weights,
        K,
        new Float64Array(K * K),
        new Float64Array(K),
      ),
    );
    // and after every refusal the kernel still works
    const after = await k.sweep({ ...good, topicsNext: k.allocInt32(good.tokens.length) });
    assert.ok(Number.isFinite(after.logPhi) && after.logPhi < 0, 'a good sweep after the refusals');
  });
}

test.run();
