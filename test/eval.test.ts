// Evaluation (SPEC 4) over the real kernels, once per backend: the particle filter's log p(w) against exact
// enumeration of every topic path, word-lla exactly, perplexity of a uniform phi, document completion, next-action
// ranks against a dense brute force, coherence against a brute force over sets, transition rows, top actions.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { loadKernel } from '../src/kernels/loader.js';
import type { BackendName, CellWeights, CountTables, Kernel, KernelMode } from '../src/kernels/types.js';
import { heldOutPerplexity, unigramPerplexity, type HeldOutOptions } from '../src/eval/perplexity.js';
import { completionPerplexity, splitHalves } from '../src/eval/completion.js';
import { MixtureScorer, phiValue } from '../src/eval/phi.js';
import { nextActionEvaluation, samplePositions, topNextActions } from '../src/eval/next-action.js';
import { coherenceOfTopLists, normalisedPmi, topicCoherence } from '../src/eval/coherence.js';
import {
  empiricalTransitions,
  topicTransitionMatrix,
  trajectory,
  trajectorySegments,
} from '../src/eval/transitions.js';
import { topActionsPerTopic, topicActions } from '../src/eval/topics.js';
import { mulberry32 } from './helpers/mulberry32.js';

// ---------------------------------------------------------------------------------------------------------------
// Test fixtures: random count tables and LSTM weights (from test/helpers' seeded generator), float64 reference models.

/** Count tables from a dense [K][V] table of n_{k,w} (rows per action, sorted by topic). */
function countsFromDense(dense: number[][], K: number, V: number): CountTables {
  const rowOffsets = new Int32Array(V + 1);
  const topics: number[] = [];
  const values: number[] = [];
  const topicTotals = new Int32Array(K);
  for (let w = 0; w < V; w++) {
    for (let k = 0; k < K; k++) {
      if (dense[k][w] > 0) {
        topics.push(k);
        values.push(dense[k][w]);
        topicTotals[k] += dense[k][w];
      }
    }
    rowOffsets[w + 1] = topics.length;
  }
  return { rowOffsets, rowTopics: Int32Array.from(topics), rowCounts: Int32Array.from(values), topicTotals };
}

/** Random n_{k,w}: each cell non-zero with probability `density`, values 1..maxCount. */
function randomDense(random: () => number, K: number, V: number, density: number, maxCount: number): number[][] {
  return Array.from({ length: K }, () =>
    Array.from({ length: V }, () => (random() < density ? 1 + Math.floor(random() * maxCount) : 0)),
  );
}

function randomWeights(random: () => number, rows: number, K: number, H: number, scale: number): CellWeights {
  const fill = (n: number) => Float32Array.from({ length: n }, () => (2 * random() - 1) * scale);
  return {
    hidden: H,
    inputTable: fill(rows * 4 * H),
    recurrent: fill(4 * H * H),
    gateBias: fill(4 * H),
    outputWeights: fill(K * H),
    outputBias: fill(K),
  };
}

function randomCorpus(random: () => number, lengths: number[], V: number): { tokens: Int32Array; offsets: Int32Array } {
  const offsets = new Int32Array(lengths.length + 1);
  lengths.forEach((n, d) => {
    offsets[d + 1] = offsets[d] + n;
  });
  const tokens = Int32Array.from({ length: offsets[lengths.length] }, () => Math.floor(random() * V));
  return { tokens, offsets };
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** One float64 step of the kernel's cell (types.ts): returns the new (h, c) and pi = softmax(logits). */
function cellStep(weights: CellWeights, K: number, input: number, h: Float64Array, c: Float64Array) {
  const H = weights.hidden;
  const gates = new Float64Array(4 * H);
  for (let r = 0; r < 4 * H; r++) {
    let g = weights.inputTable[input * 4 * H + r] + weights.gateBias[r];
    for (let j = 0; j < H; j++) g += weights.recurrent[r * H + j] * h[j];
    gates[r] = g;
  }
  const nextH = new Float64Array(H);
  const nextC = new Float64Array(H);
  for (let j = 0; j < H; j++) {
    const i = sigmoid(gates[j]);
    const f = sigmoid(gates[H + j]);
    const candidate = Math.tanh(gates[2 * H + j]);
    const o = sigmoid(gates[3 * H + j]);
    nextC[j] = f * c[j] + i * candidate;
    nextH[j] = o * Math.tanh(nextC[j]);
  }
  const logits = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    let l = weights.outputBias[k];
    for (let j = 0; j < H; j++) l += weights.outputWeights[k * H + j] * nextH[j];
    logits[k] = l;
  }
  const top = Math.max(...logits);
  let total = 0;
  const pi = new Float64Array(K);
  for (let k = 0; k < K; k++) total += pi[k] = Math.exp(logits[k] - top);
  for (let k = 0; k < K; k++) pi[k] /= total;
  return { h: nextH, c: nextC, pi };
}

type Phi = (k: number, w: number) => number;

/** Exact log p(w) of Topic-LLA by summing over all K^N topic paths (the LSTM reads the previous topic). */
function exactLla(sequence: Int32Array, weights: CellWeights, K: number, phi: Phi): number {
  const H = weights.hidden;
  const visit = (t: number, input: number, h: Float64Array, c: Float64Array): number => {
    if (t === sequence.length) return 1;
    const step = cellStep(weights, K, input, h, c);
    let sum = 0;
    for (let k = 0; k < K; k++) sum += step.pi[k] * phi(k, sequence[t]) * visit(t + 1, k, step.h, step.c);
    return sum;
  };
  return Math.log(visit(0, K, new Float64Array(H), new Float64Array(H)));
}

/** Exact log p(w) of LDA with collapsed theta: sum over all K^N paths of the Polya-urn topic probabilities. */
function exactLda(sequence: Int32Array, K: number, alpha: number, phi: Phi): number {
  const topicCounts = new Array<number>(K).fill(0);
  const visit = (t: number): number => {
    if (t === sequence.length) return 1;
    let sum = 0;
    for (let k = 0; k < K; k++) {
      const prior = (topicCounts[k] + alpha) / (t + K * alpha);
      topicCounts[k]++;
      sum += prior * phi(k, sequence[t]) * visit(t + 1);
      topicCounts[k]--;
    }
    return sum;
  };
  return Math.log(visit(0));
}

/** Word-LLA's exact per-position log p(w_t | w_<t) (the LSTM reads the previous action; begin symbol V). */
function wordLlaSteps(sequence: Int32Array, weights: CellWeights, K: number, V: number, phi: Phi) {
  let h = new Float64Array(weights.hidden);
  let c = new Float64Array(weights.hidden);
  const logs: number[] = [];
  const mixtures: Float64Array[] = [];
  for (let t = 0; t < sequence.length; t++) {
    const step = cellStep(weights, K, t === 0 ? V : sequence[t - 1], h, c);
    h = step.h;
    c = step.c;
    let p = 0;
    for (let k = 0; k < K; k++) p += step.pi[k] * phi(k, sequence[t]);
    logs.push(Math.log(p));
    mixtures.push(step.pi);
  }
  return { logs, mixtures };
}

const sum = (values: ArrayLike<number>) => Array.from(values).reduce((a, b) => a + b, 0);

/** 1-based rank of target under dense p(w) = sum_k mix_k phi_{k,w}, computed independently of MixtureScorer. */
function denseRanks(
  mix: ArrayLike<number>,
  phi: Phi,
  K: number,
  V: number,
): { scores: number[]; rankOf: (w: number) => number } {
  // sparse-free dense scores: the tie rule needs exact equality for identical rows, which a dense sum in the
  // same topic order gives for identical columns of phi
  const scores: number[] = [];
  for (let w = 0; w < V; w++) {
    let s = 0;
    for (let k = 0; k < K; k++) s += mix[k] * phi(k, w);
    scores.push(s);
  }
  const order = Array.from({ length: V }, (_, w) => w).sort((a, b) => scores[b] - scores[a] || a - b);
  const rank = new Array<number>(V);
  order.forEach((w, i) => {
    rank[w] = i + 1;
  });
  return { scores, rankOf: (w) => rank[w] };
}

// ---------------------------------------------------------------------------------------------------------------
// Pure TypeScript parts (no kernel).

const pure = suite('eval: ranking, coherence, top actions, helpers (TypeScript only)');

pure('MixtureScorer ranks equal a dense brute force, ties by id (duplicate and empty rows)', () => {
  const random = mulberry32(11);
  for (let trial = 0; trial < 20; trial++) {
    const K = 2 + Math.floor(random() * 7);
    const V = 5 + Math.floor(random() * 60);
    const dense = randomDense(random, K, V, 0.3, 9);
    // identical action columns and some empty actions make exact ties
    for (let w = 0; w + 3 < V; w += 7) for (let k = 0; k < K; k++) dense[k][w + 3] = dense[k][w];
    for (let w = 2; w < V; w += 9) for (let k = 0; k < K; k++) dense[k][w] = 0;
    const counts = countsFromDense(dense, K, V);
    const beta = 0.01 + random() * 0.2;
    const scorer = new MixtureScorer(counts, beta, K, V);
    const raw = Array.from({ length: K }, () => random());
    const mix = raw.map((x) => x / sum(raw));
    const phi: Phi = (k, w) => phiValue(counts, beta, V, k, w);
    const brute = denseRanks(mix, phi, K, V);
    for (let w = 0; w < V; w++) {
      assert.is(scorer.rank(mix, w), brute.rankOf(w), `trial ${trial}: rank of action ${w}`);
      assert.ok(Math.abs(scorer.probability(mix, w) - brute.scores[w]) < 1e-12);
    }
    const top = topNextActions(mix, counts, beta, 7);
    assert.is(top.length, Math.min(7, V));
    top.forEach((entry, i) => {
      assert.is(brute.rankOf(entry.action), i + 1, `trial ${trial}: topNextActions entry ${i}`);
      assert.ok(Math.abs(entry.probability - brute.scores[entry.action]) < 1e-12);
    });
  }
});

pure('MixtureScorer probabilities of a mixture sum to 1 over the vocabulary', () => {
  const random = mulberry32(3);
  const K = 5;
  const V = 40;
  const counts = countsFromDense(randomDense(random, K, V, 0.2, 20), K, V);
  const scorer = new MixtureScorer(counts, 0.05, K, V);
  const mix = [0.1, 0.2, 0.3, 0.15, 0.25];
  let total = 0;
  for (let w = 0; w < V; w++) total += scorer.probability(mix, w);
  assert.ok(Math.abs(total - 1) < 1e-12, `sum ${total}`);
});

pure('topActionsPerTopic and topicActions equal a dense sort of phi, padded with zero-count actions', () => {
  const random = mulberry32(5);
  const K = 6;
  const V = 50;
  const dense = randomDense(random, K, V, 0.25, 6);
  for (let w = 0; w < V; w++) dense[5][w] = w === 7 || w === 30 ? 4 : 0; // topic 5 has only two actions
  const counts = countsFromDense(dense, K, V);
  const beta = 0.1;
  const all = topActionsPerTopic(counts, beta, 10, K, V);
  for (let k = 0; k < K; k++) {
    const order = Array.from({ length: V }, (_, w) => w)
      .sort((a, b) => dense[k][b] - dense[k][a] || a - b)
      .slice(0, 10);
    assert.equal(
      all[k].map((e) => e.action),
      order,
      `topic ${k}`,
    );
    all[k].forEach((e) => {
      assert.is(e.count, dense[k][e.action]);
      assert.ok(Math.abs(e.phi - phiValue(counts, beta, V, k, e.action)) < 1e-15);
    });
    assert.equal(topicActions(counts, beta, k, 10, K, V), all[k]);
  }
  assert.equal(
    all[5].map((e) => e.action),
    [7, 30, 0, 1, 2, 3, 4, 5, 6, 8],
  );
  assert.throws(() => topicActions(counts, beta, K, 3, K, V), /topic 6 does not exist/);
});

pure('coherence (UMass, NPMI) equals a brute force over document sets', () => {
  const random = mulberry32(21);
  const V = 30;
  const lengths = Array.from({ length: 60 }, () => 1 + Math.floor(random() * 25));
  const corpus = randomCorpus(random, lengths, V);
  // skew the corpus so that co-occurrence varies
  for (let i = 0; i < corpus.tokens.length; i++) corpus.tokens[i] = Math.floor(V * random() * random());
  const lists = [
    [0, 1, 2, 3, 4],
    [5, 9, 0, 17, 29],
    [28, 27, 26, 3, 1],
  ];
  const documents = lengths.map((_, d) => new Set(corpus.tokens.subarray(corpus.offsets[d], corpus.offsets[d + 1])));
  const D = documents.length;
  const has = (w: number) => documents.filter((s) => s.has(w)).length;
  const both = (u: number, v: number) => documents.filter((s) => s.has(u) && s.has(v)).length;
  const result = coherenceOfTopLists(lists, corpus, V);
  lists.forEach((list, k) => {
    let umass = 0;
    let umassPairs = 0;
    let npmi = 0;
    let pairs = 0;
    for (let i = 1; i < list.length; i++) {
      for (let j = 0; j < i; j++) {
        const dij = both(list[i], list[j]);
        const dj = has(list[j]);
        if (dj > 0) {
          umass += Math.log((dij + 1) / dj);
          umassPairs++;
        }
        const pij = dij / D;
        npmi += dij === 0 ? -1 : Math.log(pij / ((has(list[i]) / D) * (dj / D))) / -Math.log(pij);
        pairs++;
      }
    }
    assert.ok(
      Math.abs(result.umass[k] - umass / umassPairs) < 1e-12,
      `umass topic ${k}: ${result.umass[k]} vs ${umass / umassPairs}`,
    );
    assert.ok(Math.abs(result.npmi[k] - npmi / pairs) < 1e-12, `npmi topic ${k}`);
  });
  assert.ok(Math.abs(result.meanUmass - sum(result.umass) / 3) < 1e-12);
  assert.is(result.documents, D);
  assert.is(normalisedPmi(0, 3, 4, 10), -1);
  assert.is(normalisedPmi(10, 10, 10, 10), 1);
  assert.ok(Math.abs(normalisedPmi(5, 5, 5, 10) - 1) < 1e-12); // always together: NPMI 1
});

pure('topicCoherence ranks a planted coherent topic above a scattered one', () => {
  // topic 0's top actions 0..4 always occur together; topic 1's 5..9 each live in separate sequences
  const sequences: number[][] = [];
  for (let d = 0; d < 20; d++) sequences.push([0, 1, 2, 3, 4, 10 + (d % 5)]);
  for (let d = 0; d < 20; d++) sequences.push([5 + (d % 5), 10 + (d % 5)]);
  const tokens = Int32Array.from(sequences.flat());
  const offsets = new Int32Array(sequences.length + 1);
  sequences.forEach((s, d) => {
    offsets[d + 1] = offsets[d] + s.length;
  });
  const V = 15;
  const dense = [
    Array.from({ length: V }, (_, w) => (w < 5 ? 20 - w : 0)),
    Array.from({ length: V }, (_, w) => (w >= 5 && w < 10 ? 20 - w : 0)),
  ];
  const result = topicCoherence(countsFromDense(dense, 2, V), 0.01, { tokens, offsets }, 2, V, 5);
  assert.ok(result.npmi[0] > 0.99 && result.npmi[1] === -1, `npmi ${Array.from(result.npmi)}`);
  assert.ok(result.umass[0] > result.umass[1]);
});

pure('unigram perplexity: add-one smoothing by hand, and V for uniform counts', () => {
  const result = unigramPerplexity(Int32Array.from([3, 0, 1]), Int32Array.from([0, 1, 2, 0]), 5);
  const expected = Math.exp(-(Math.log(4 / 7) + Math.log(1 / 7) + Math.log(2 / 7) + Math.log(4 / 7)) / 4);
  assert.ok(Math.abs(result.perplexity - expected) < 1e-12);
  assert.is(result.outOfVocabulary, 5);
  assert.ok(Math.abs(unigramPerplexity(new Int32Array(9).fill(4), Int32Array.from([1, 8, 3])).perplexity - 9) < 1e-9);
  assert.throws(() => unigramPerplexity(Int32Array.from([1, 1]), Int32Array.from([2])), /outside the vocabulary/);
});

pure('samplePositions draws distinct sorted indices; splitHalves; trajectories; empirical transitions', () => {
  const random = mulberry32(9);
  const draws = Uint32Array.from({ length: 50 }, () => Math.floor(random() * 2 ** 32));
  const chosen = samplePositions(draws, 400, 50);
  assert.is(chosen.length, 50);
  assert.is(new Set(chosen).size, 50);
  for (let i = 1; i < chosen.length; i++) assert.ok(chosen[i] > chosen[i - 1]);
  assert.ok(chosen[0] >= 0 && chosen[49] < 400);
  const { first, secondStart } = splitHalves({
    tokens: Int32Array.from([1, 2, 3, 4, 5, 6]),
    offsets: Int32Array.from([0, 1, 4, 6]),
  });
  assert.equal(Array.from(first.offsets), [0, 0, 1, 2]);
  assert.equal(Array.from(first.tokens), [2, 5]);
  assert.equal(Array.from(secondStart), [0, 2, 5]);
  const offsets = Int32Array.from([0, 6, 9]);
  const topics = Int32Array.from([2, 2, 0, 0, 0, 2, 1, 1, 1]);
  assert.equal(Array.from(trajectory(offsets, topics, 0)), [2, 2, 0, 0, 0, 2]);
  assert.equal(trajectorySegments(trajectory(offsets, topics, 0)), [
    { topic: 2, start: 0, length: 2 },
    { topic: 0, start: 2, length: 3 },
    { topic: 2, start: 5, length: 1 },
  ]);
  const empirical = empiricalTransitions(offsets, topics, 4);
  // from 2: 2->2, 2->0 ; from 0: 0->0 twice, 0->2 ; from 1: 1->1 twice; 3 never
  assert.equal(Array.from(empirical.matrix.subarray(8, 12)), [0.5, 0, 0.5, 0]);
  assert.ok(Math.abs(empirical.matrix[0] - 2 / 3) < 1e-15 && Math.abs(empirical.matrix[2] - 1 / 3) < 1e-15);
  assert.equal(empirical.emptyRows, [3]);
  assert.throws(() => trajectory(offsets, topics, 2), /does not exist/);
});

pure.run();

// ---------------------------------------------------------------------------------------------------------------
// Through the real kernels, once per backend.

const BACKENDS: BackendName[] = ['native', 'wasm'];

for (const backend of BACKENDS) {
  const test = suite(`eval over the ${backend} kernel`);
  let kernel: Kernel;
  test.before(async () => {
    kernel = await loadKernel({ backend, env: {} });
  });

  test(`${backend}: the loader gave the requested backend`, () => {
    assert.is(kernel.name, backend);
  });

  // A model small enough to enumerate: K = 3, sequences of 1..6 tokens, V = 5.
  const K = 3;
  const V = 5;
  const H = 4;
  const random = mulberry32(101);
  const counts = countsFromDense(randomDense(random, K, V, 0.7, 6), K, V);
  const beta = 0.3;
  const alpha = 0.4;
  const phi: Phi = (k, w) => phiValue(counts, beta, V, k, w);
  const llaWeights = randomWeights(random, K + 1, K, H, 1.5);
  const wordWeights = randomWeights(random, V + 1, K, H, 1.5);
  const small = randomCorpus(random, [1, 2, 3, 4, 5, 6, 6, 6], V);
  const base = (
    mode: KernelMode,
    weights: CellWeights | undefined,
    particles: number,
    seed: number,
  ): HeldOutOptions => ({
    kernel,
    mode,
    counts,
    weights,
    beta,
    alpha,
    particles,
    seed,
    threads: 1,
    corpus: small,
    numTopics: K,
    vocabularySize: V,
  });
  const sequenceOf = (corpus: { tokens: Int32Array; offsets: Int32Array }, d: number) =>
    corpus.tokens.subarray(corpus.offsets[d], corpus.offsets[d + 1]);

  for (const mode of ['lla', 'lda'] as const) {
    test(`${backend}: ${mode} particle estimate of log p(w) matches exact enumeration over all topic paths`, async () => {
      const D = small.offsets.length - 1;
      const exact = Array.from({ length: D }, (_, d) =>
        mode === 'lla'
          ? exactLla(sequenceOf(small, d), llaWeights, K, phi)
          : exactLda(sequenceOf(small, d), K, alpha, phi),
      );
      const seeds = [1, 2, 3, 4];
      const mean = new Float64Array(D);
      for (const seed of seeds) {
        const result = await heldOutPerplexity(base(mode, mode === 'lla' ? llaWeights : undefined, 4000, seed));
        assert.is(result.method, 'particle-filter');
        assert.is(result.tokens, small.tokens.length);
        for (let d = 0; d < D; d++) mean[d] += result.perSequence[d] / seeds.length;
      }
      for (let d = 0; d < D; d++) {
        // 4000 particles x 4 seeds: the spread measured over many seeds is about 0.003 nats for lda and 0.0005
        // for lla on 6 tokens (lda's particles, whose pi depends on their whole topic history, vary more)
        assert.ok(Math.abs(mean[d] - exact[d]) < 0.01, `sequence ${d}: particle ${mean[d]} vs exact ${exact[d]}`);
      }
      // a 1-token sequence has no sampling error at all
      assert.ok(Math.abs(mean[0] - exact[0]) < 1e-5);
      // and the exact values differ from the unigram-like product of marginals, so the test can tell
      const expected = Math.exp(-sum(exact) / small.tokens.length);
      const mixed = await heldOutPerplexity(base(mode, mode === 'lla' ? llaWeights : undefined, 1000, 9));
      assert.ok(
        Math.abs(mixed.perplexity - expected) / expected < 0.01,
        `perplexity ${mixed.perplexity} vs ${expected}`,
      );
    });
  }

  test(`${backend}: word-lla log p(w) is exact (1e-4) and needs no particles`, async () => {
    const result = await heldOutPerplexity(base('word-lla', wordWeights, 1, 5));
    assert.is(result.method, 'exact');
    for (let d = 0; d < small.offsets.length - 1; d++) {
      const exact = sum(wordLlaSteps(sequenceOf(small, d), wordWeights, K, V, phi).logs);
      assert.ok(Math.abs(result.perSequence[d] - exact) < 1e-4, `sequence ${d}: ${result.perSequence[d]} vs ${exact}`);
    }
  });

  test(`${backend}: the perplexity of a uniform phi is V for every mode and protocol`, async () => {
    const uniformCounts = countsFromDense(
      Array.from({ length: K }, () => new Array(V).fill(3)),
      K,
      V,
    );
    const corpus = randomCorpus(mulberry32(7), [3, 0, 8, 1, 12], V); // an empty sequence scores 0
    for (const mode of ['lla', 'lda', 'word-lla'] as const) {
      const weights = mode === 'lla' ? llaWeights : mode === 'word-lla' ? wordWeights : undefined;
      const options = { ...base(mode, weights, 16, 3), counts: uniformCounts, corpus, outOfVocabulary: 4 };
      const result = await heldOutPerplexity(options);
      assert.ok(Math.abs(result.perplexity - V) < 1e-4, `${mode}: ${result.perplexity}`);
      assert.is(result.outOfVocabulary, 4);
      const completion = await completionPerplexity({ ...options, gibbsSweeps: 4, burnIn: 2 });
      assert.ok(Math.abs(completion.perplexity - V) < 1e-4, `${mode} completion: ${completion.perplexity}`);
      assert.is(completion.tokens, 2 + 4 + 1 + 6);
      assert.is(completion.conditioningTokens, 1 + 4 + 0 + 6);
    }
  });

  test(`${backend}: word-lla completion scores exactly the second halves given the first`, async () => {
    const result = await completionPerplexity(base('word-lla', wordWeights, 1, 5));
    assert.is(result.method, 'exact');
    for (let d = 0; d < small.offsets.length - 1; d++) {
      const sequence = sequenceOf(small, d);
      const logs = wordLlaSteps(sequence, wordWeights, K, V, phi).logs;
      const expected = sum(logs.slice(sequence.length >> 1));
      assert.ok(
        Math.abs(result.perSequence[d] - expected) < 1e-4,
        `sequence ${d}: ${result.perSequence[d]} vs ${expected}`,
      );
    }
  });

  test(`${backend}: lla completion equals log p(whole) - log p(first half) from the same filter`, async () => {
    const options = base('lla', llaWeights, 64, 8);
    const completion = await completionPerplexity(options);
    const whole = await heldOutPerplexity(options);
    const { first } = splitHalves(small);
    const prefix = await heldOutPerplexity({ ...options, corpus: first });
    for (let d = 0; d < small.offsets.length - 1; d++) {
      assert.ok(Math.abs(completion.perSequence[d] - (whole.perSequence[d] - prefix.perSequence[d])) < 1e-9);
    }
    // the filter draws per (sequence, position): its first-half run is the start of the whole run, so the
    // conditional of a 2-token sequence (1 + 1) is the exact one-step predictive given a 1-token history
    const pair = sequenceOf(small, 1);
    const exactPair = exactLla(pair, llaWeights, K, phi) - exactLla(pair.subarray(0, 1), llaWeights, K, phi);
    assert.ok(Math.abs(completion.perSequence[1] - exactPair) < 0.2, `${completion.perSequence[1]} vs ${exactPair}`);
  });

  test(`${backend}: lda completion fits the topic mix on the first half (planted disjoint topics)`, async () => {
    // topic 0 owns actions 0..2, topic 1 owns 3..5, tiny beta: every first-half token is surely topic 0
    const Vp = 6;
    const Kp = 2;
    const planted = countsFromDense(
      [
        [50, 30, 20, 0, 0, 0],
        [0, 0, 0, 40, 40, 20],
      ],
      Kp,
      Vp,
    );
    const betaP = 1e-6;
    const alphaP = 0.5;
    const corpus = { tokens: Int32Array.from([0, 1, 2, 0, 1, 2, 4, 0, 3, 1]), offsets: Int32Array.from([0, 6, 10]) };
    const result = await completionPerplexity({
      kernel,
      mode: 'lda',
      counts: planted,
      beta: betaP,
      alpha: alphaP,
      particles: 1,
      seed: 4,
      threads: 1,
      corpus,
      numTopics: Kp,
      vocabularySize: Vp,
      gibbsSweeps: 12,
      burnIn: 4,
    });
    assert.is(result.method, 'lda-fitted-mix');
    const p = (k: number, w: number) => phiValue(planted, betaP, Vp, k, w);
    // sequence 0: first half [0,1,2] all topic 0 -> theta = ((3 + a), a) / (3 + 2a); second half [0,1,2]
    const theta0 = [(3 + alphaP) / (3 + 2 * alphaP), alphaP / (3 + 2 * alphaP)];
    const expected0 = [0, 1, 2].reduce((s, w) => s + Math.log(theta0[0] * p(0, w) + theta0[1] * p(1, w)), 0);
    assert.ok(Math.abs(result.perSequence[0] - expected0) < 1e-4, `${result.perSequence[0]} vs ${expected0}`);
    // sequence 1: first half [4,0] -> one token per topic: theta = (1.5, 1.5) / 3; second half [3,1]
    const theta1 = [(1 + alphaP) / (2 + 2 * alphaP), (1 + alphaP) / (2 + 2 * alphaP)];
    const expected1 = [3, 1].reduce((s, w) => s + Math.log(theta1[0] * p(0, w) + theta1[1] * p(1, w)), 0);
    assert.ok(Math.abs(result.perSequence[1] - expected1) < 1e-4, `${result.perSequence[1]} vs ${expected1}`);
  });

  test(`${backend}: next-action ranks equal a dense brute force on the kernel's mixtures (word-lla)`, async () => {
    const r = mulberry32(55);
    const Kn = 4;
    const Vn = 40;
    const dense = randomDense(r, Kn, Vn, 0.3, 8);
    for (let k = 0; k < Kn; k++) {
      dense[k][11] = dense[k][3];
      dense[k][20] = 0;
      dense[k][21] = 0;
    }
    const countsN = countsFromDense(dense, Kn, Vn);
    const weights = randomWeights(r, Vn + 1, Kn, 6, 1.2);
    const corpus = randomCorpus(r, [4, 12, 30, 7, 5, 25], Vn);
    const options = {
      kernel,
      mode: 'word-lla' as const,
      counts: countsN,
      weights,
      beta: 0.05,
      alpha: 0.1,
      particles: 1,
      seed: 2,
      threads: 1,
      corpus,
      numTopics: Kn,
      vocabularySize: Vn,
    };
    const all = await nextActionEvaluation(options);
    assert.is(all.sampled, false);
    assert.is(all.positions, 0 + 7 + 25 + 2 + 0 + 20);
    // the mixtures at the scored positions, from a plain filter run over the whole corpus
    const mixtures = new Float32Array(all.positions * Kn);
    await kernel.particleFilter({
      ...options,
      tokens: corpus.tokens,
      offsets: corpus.offsets,
      logLikelihood: new Float64Array(6),
      mixturePositions: all.scoredPositions,
      mixtures,
    });
    const phiN: Phi = (k, w) => phiValue(countsN, 0.05, Vn, k, w);
    let reciprocal = 0;
    let top10 = 0;
    for (let i = 0; i < all.positions; i++) {
      const mix = mixtures.subarray(i * Kn, (i + 1) * Kn);
      const position = all.scoredPositions[i];
      const d = corpus.offsets.findIndex((o, j) => o <= position && position < corpus.offsets[j + 1]);
      assert.ok(position - corpus.offsets[d] >= 5, `position ${position} is among the first 5 of its sequence`);
      // the kernel's mixture is word-lla's exact pi at that position
      const exact = wordLlaSteps(
        corpus.tokens.subarray(corpus.offsets[d], position + 1),
        weights,
        Kn,
        Vn,
        phiN,
      ).mixtures;
      const pi = exact[exact.length - 1];
      for (let k = 0; k < Kn; k++) assert.ok(Math.abs(mix[k] - pi[k]) < 1e-5);
      const rank = denseRanks(mix, phiN, Kn, Vn).rankOf(corpus.tokens[position]);
      assert.is(all.ranks[i], rank, `position ${position}`);
      reciprocal += 1 / rank;
      if (rank <= 10) top10++;
    }
    assert.ok(Math.abs(all.meanReciprocalRank - reciprocal / all.positions) < 1e-12);
    assert.ok(Math.abs(all.recallAt10 - top10 / all.positions) < 1e-12);
    // a seeded sample: at most maxPositions, distinct, eligible, reproducible, seed-dependent
    const sampledA = await nextActionEvaluation({ ...options, maxPositions: 20 });
    const sampledB = await nextActionEvaluation({ ...options, maxPositions: 20 });
    const sampledC = await nextActionEvaluation({ ...options, maxPositions: 20, seed: 3 });
    assert.is(sampledA.sampled, true);
    assert.is(sampledA.positions, 20);
    assert.is(new Set(sampledA.scoredPositions).size, 20);
    assert.equal(sampledA.scoredPositions, sampledB.scoredPositions);
    assert.not.equal(Array.from(sampledA.scoredPositions), Array.from(sampledC.scoredPositions));
    // ranks on the cut corpus equal those of the full run at the same positions (word-lla is deterministic)
    for (let i = 0; i < 20; i++) {
      const j = all.scoredPositions.indexOf(sampledA.scoredPositions[i]);
      assert.ok(j >= 0);
      assert.is(sampledA.ranks[i], all.ranks[j]);
    }
  });

  test(`${backend}: lla mixtures recorded by the filter reproduce its log-likelihood (log sum_k mix_k phi)`, async () => {
    const options = base('lla', llaWeights, 32, 6);
    const positions = Int32Array.from({ length: small.tokens.length }, (_, i) => i);
    const mixtures = new Float32Array(positions.length * K);
    const logLikelihood = new Float64Array(small.offsets.length - 1);
    await kernel.particleFilter({
      ...options,
      tokens: small.tokens,
      offsets: small.offsets,
      logLikelihood,
      mixturePositions: positions,
      mixtures,
    });
    const scorer = new MixtureScorer(counts, beta, K, V);
    for (let d = 0; d < small.offsets.length - 1; d++) {
      let total = 0;
      for (let i = small.offsets[d]; i < small.offsets[d + 1]; i++) {
        total += Math.log(scorer.probability(mixtures.subarray(i * K, (i + 1) * K), small.tokens[i]));
      }
      assert.ok(Math.abs(total - logLikelihood[d]) < 1e-4, `sequence ${d}: ${total} vs ${logLikelihood[d]}`);
    }
    const result = await nextActionEvaluation({ ...options, minPosition: 2 });
    assert.is(result.positions, 0 + 0 + 1 + 2 + 3 + 4 + 4 + 4); // lengths 1..6, 6, 6 from position 2 on
    assert.ok(result.recallAt1 <= result.recallAt10 && result.meanReciprocalRank > 0 && result.meanReciprocalRank <= 1);
  });

  test(`${backend}: transition matrix rows sum to 1, empty rows are marked, and match the float64 LSTM`, async () => {
    const Kt = 4;
    const r = mulberry32(77);
    const weights = randomWeights(r, Kt + 1, Kt, 5, 1.0);
    const offsets = Int32Array.from([0, 5, 9, 16]);
    // topic 3 appears only as a last token, so its row has no positions
    const topics = Int32Array.from([0, 1, 2, 1, 3, 2, 2, 0, 3, 1, 0, 0, 2, 1, 0, 3]);
    const result = topicTransitionMatrix(kernel, offsets, topics, weights, Kt);
    assert.equal(result.emptyRows, [3]);
    assert.equal(Array.from(result.matrix.subarray(12, 16)), [0, 0, 0, 0]);
    const expected = new Float64Array(Kt * Kt);
    const rowPositions = new Float64Array(Kt);
    // each sequence's cell reads begin, z_0, z_1, ...; the pi after reading z_t goes to row z_t
    for (let d = 0; d < 3; d++) {
      let h = new Float64Array(5);
      let c = new Float64Array(5);
      let step = cellStep(weights, Kt, Kt, h, c);
      h = step.h;
      c = step.c;
      for (let t = offsets[d]; t + 1 < offsets[d + 1]; t++) {
        step = cellStep(weights, Kt, topics[t], h, c);
        h = step.h;
        c = step.c;
        for (let k = 0; k < Kt; k++) expected[topics[t] * Kt + k] += step.pi[k];
        rowPositions[topics[t]]++;
      }
    }
    assert.equal(Array.from(result.rowPositions), Array.from(rowPositions));
    for (let j = 0; j < Kt; j++) {
      if (rowPositions[j] === 0) continue;
      assert.ok(Math.abs(sum(result.matrix.subarray(j * Kt, (j + 1) * Kt)) - 1) < 1e-12, `row ${j}`);
      for (let k = 0; k < Kt; k++) {
        assert.ok(Math.abs(result.matrix[j * Kt + k] - expected[j * Kt + k] / rowPositions[j]) < 1e-5);
      }
    }
  });

  test(`${backend}: bad arguments throw errors that name the problem`, async () => {
    const bad = async (options: HeldOutOptions, pattern: RegExp) => {
      try {
        await heldOutPerplexity(options);
        assert.unreachable('should throw');
      } catch (error) {
        assert.match((error as Error).message, pattern);
      }
    };
    await bad({ ...base('lla', undefined, 8, 1) }, /needs the LSTM weights/);
    await bad({ ...base('lda', undefined, 8, 1), numTopics: 4 }, /topicTotals has 3 entries but numTopics is 4/);
    await bad(
      { ...base('lda', undefined, 8, 1), corpus: { tokens: Int32Array.from([7]), offsets: Int32Array.from([0, 1]) } },
      /outside the vocabulary/,
    );
    await bad({ ...base('lda', undefined, 0, 1) }, /particles is 0/);
    await bad(
      { ...base('lda', undefined, 8, 1), corpus: { tokens: new Int32Array(0), offsets: Int32Array.from([0]) } },
      /no tokens to score/,
    );
  });

  test.run();
}
