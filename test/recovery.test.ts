// Recovery of a generated model (src/eval/recovery.ts): the forward algorithm against enumeration of every topic
// path of small truths (first- and second-order), the optimal matching against all permutations, the total
// variation of topics against a direct computation, and truth files that are not truths.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSynthetic, nextTopicDistribution, type Dynamics } from '../src/generate/synthetic.js';
import { truthChunks } from '../src/generate/output.js';
import {
  optimalAssignment,
  parseTruth,
  readTruth,
  topicRecovery,
  trueLogLikelihood,
  type Truth,
} from '../src/eval/recovery.js';
import { InputError } from '../src/errors.js';

/** A truth as lla generate writes it (through the JSON it writes), for K topics over V actions. */
function smallTruth(dynamics: Dynamics, K: number, V: number, seed: number): Truth {
  const corpus = generateSynthetic({ topics: K, vocabulary: V, sequences: 2, length: 3, seed, dynamics });
  return parseTruth(JSON.parse(Array.from(truthChunks(corpus)).join('')), 'memory');
}

/** log p(w) by summing p(z, w) over all K^N topic paths, the generator's process spelled out. */
function enumerated(truth: Truth, sequence: number[]): number {
  const K = truth.numTopics;
  const N = sequence.length;
  let total = 0;
  for (let code = 0; code < K ** N; code++) {
    const z = Array.from({ length: N }, (_, t) => Math.floor(code / K ** t) % K);
    let p = 1 / K;
    for (let t = 1; t < N; t++) {
      p *= nextTopicDistribution(truth.transitions, K, z[t - 1], t >= 2 ? z[t - 2] : z[t - 1])[z[t]];
    }
    for (let t = 0; t < N; t++) p *= truth.phi[z[t]][sequence[t]];
    total += p;
  }
  return Math.log(total);
}

for (const dynamics of ['first-order', 'second-order'] as const) {
  test(`trueLogLikelihood equals enumeration of every topic path (${dynamics})`, () => {
    const truth = smallTruth(dynamics, 3, 6, 4);
    const words = truth.actions; // the vocabulary in the truth's own order
    const sequences = [[0, 2, 5, 1, 4], [3], [5, 5, 0, 1]];
    const offsets = Int32Array.from([0, 5, 6, 10]);
    const tokens = Int32Array.from(sequences.flat());
    const result = trueLogLikelihood(truth, words, { tokens, offsets });
    const expected = sequences.reduce((sum, s) => sum + enumerated(truth, s), 0);
    assert.ok(Math.abs(result.logLikelihood - expected) < 1e-9, `${result.logLikelihood} vs ${expected}`);
    assert.is(result.tokens, 10);
    assert.ok(Math.abs(result.perplexity - Math.exp(-expected / 10)) < 1e-9);
    // a vocabulary in another order, with an action the truth lacks never used: the same likelihood
    const shuffled = [...words].reverse().concat(['unknown']);
    const remapped = Int32Array.from(tokens, (w) => shuffled.indexOf(words[w]));
    assert.ok(
      Math.abs(trueLogLikelihood(truth, shuffled, { tokens: remapped, offsets }).logLikelihood - expected) < 1e-9,
    );
  });
}

test('the dynamics matter: the forward pass tells second-order from first-order truths', () => {
  // the same phi under the other rule gives another likelihood (so neither branch can be a copy of the other)
  const second = smallTruth('second-order', 3, 6, 4);
  const first: Truth = { ...second, transitions: smallTruth('first-order', 3, 6, 4).transitions };
  const corpus = { tokens: Int32Array.from([0, 2, 5, 1, 4]), offsets: Int32Array.from([0, 5]) };
  const a = trueLogLikelihood(second, second.actions, corpus).logLikelihood;
  const b = trueLogLikelihood(first, first.actions, corpus).logLikelihood;
  assert.ok(Math.abs(a - b) > 1e-3, `${a} vs ${b}`);
});

test('optimalAssignment finds the least total cost (all permutations), rectangular both ways', () => {
  let state = 12345;
  const random = () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
  const permutations = (n: number): number[][] =>
    n === 0
      ? [[]]
      : permutations(n - 1).flatMap((p) =>
          Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)]),
        );
  for (let trial = 0; trial < 20; trial++) {
    const n = 1 + (trial % 6);
    const cost = Array.from({ length: n }, () => Array.from({ length: n }, () => Math.floor(random() * 100)));
    const assignment = optimalAssignment(cost);
    const total = Array.from(assignment).reduce((sum, j, i) => sum + cost[i][j], 0);
    const best = Math.min(...permutations(n).map((p) => p.reduce((sum, j, i) => sum + cost[i][j], 0)));
    assert.is(total, best, `trial ${trial}`);
    assert.is(new Set(assignment).size, n, 'one to one');
  }
  // 3 rows, 2 columns: the two cheapest distinct pairs; one row unmatched
  const wide = optimalAssignment([
    [5, 1],
    [1, 9],
    [0, 0],
  ]);
  assert.equal(Array.from(wide).filter((j) => j >= 0).length, 2);
  assert.is(wide[0], 1);
  assert.ok(wide[1] === 0 || wide[2] === 0);
  assert.equal(Array.from(optimalAssignment([[4, 1, 3]])), [1]);
});

test('topicRecovery: total variation to the matched true topic, mass outside the vocabulary counted', () => {
  const truth = smallTruth('first-order', 3, 8, 9);
  const words = truth.actions.slice(0, 7); // the last action is outside the vocabulary
  // learned topics: the true ones in another order, restricted to the vocabulary and renormalised
  const order = [2, 0, 1];
  const learned = order.map((k) => {
    const row = Float64Array.from(words, (_, w) => truth.phi[k][w]);
    const total = row.reduce((a, b) => a + b, 0);
    return row.map((p) => p / total);
  });
  const result = topicRecovery(truth, words, Float64Array.from(learned.flatMap((row) => Array.from(row))));
  assert.equal(Array.from(result.matchedTruth), order);
  order.forEach((k, l) => {
    let expected = truth.phi[k][7];
    for (let w = 0; w < 7; w++) expected += Math.abs(learned[l][w] - truth.phi[k][w]);
    assert.ok(Math.abs(result.totalVariation[l] - expected / 2) < 1e-12);
  });
  // uniform learned topics are far from the truth
  const uniform = new Float64Array(3 * 7).fill(1 / 7);
  assert.ok(topicRecovery(truth, words, uniform).meanTotalVariation > result.meanTotalVariation + 0.2);
});

test('readTruth refuses files that are not truths, naming the file and the problem', async () => {
  const folder = mkdtempSync(join(tmpdir(), 'lla-recovery-'));
  try {
    const cases: Array<[string, string, RegExp]> = [
      ['not-json.json', '{"format":', /is not JSON/],
      ['other.json', '{"format":"something"}', /format is not lla-synthetic-truth/],
      [
        'rows.json',
        JSON.stringify({ format: 'lla-synthetic-truth', topics: 2, actions: ['a0'], phi: [[1]] }),
        /phi does not hold 2 rows/,
      ],
      [
        'sum.json',
        JSON.stringify({
          format: 'lla-synthetic-truth',
          topics: 1,
          actions: ['a0', 'a1'],
          phi: [[0.5, 0.4]],
          transitions: { kind: 'first-order', primary: [0], secondary: [0] },
        }),
        /sums to 0\.9/,
      ],
      [
        'kind.json',
        JSON.stringify({
          format: 'lla-synthetic-truth',
          topics: 1,
          actions: ['a0'],
          phi: [[1]],
          transitions: { kind: 'third-order' },
        }),
        /neither first-order nor second-order/,
      ],
    ];
    for (const [name, text, pattern] of cases) {
      const path = join(folder, name);
      writeFileSync(path, text);
      try {
        await readTruth(path);
        assert.unreachable(`${name} was accepted`);
      } catch (error) {
        assert.ok(error instanceof InputError, `${name}: ${(error as Error).message}`);
        assert.match((error as Error).message, pattern);
        assert.ok((error as Error).message.includes(path), 'names the file');
      }
    }
    await readTruth(join(folder, 'missing.json')).then(
      () => assert.unreachable('a missing file'),
      (error: Error) => assert.match(error.message, /cannot be read \(ENOENT\)/),
    );
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});

test.run();
