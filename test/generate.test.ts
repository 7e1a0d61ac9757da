// `lla generate`: deterministic for a seed, the written corpus follows the truth it claims (topic transitions
// and action frequencies, by chi-square at a fixed seed), files parse back with the corpus readers, bad flags
// exit 2 and write nothing.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  generateSynthetic,
  nextTopicDistribution,
  actionName,
  type SyntheticOptions,
  type TransitionStructure,
} from '../src/generate/synthetic.js';
import { readDocuments } from '../src/corpus/documents.js';
// the real executable in a child process (in-process, uvu's CommonJS loading and main.ts's dynamic imports would
// give two copies of the error classes)
import { runCli } from './helpers/cli.js';

const folder = mkdtempSync(join(tmpdir(), 'lla-generate-'));

/**
 * Pearson chi-square of observed counts against expected probabilities, merging cells with an expected count
 * below 5 into one (the usual validity rule). Returns the statistic and its degrees of freedom.
 */
function chiSquare(observed: ArrayLike<number>, probabilities: ArrayLike<number>): { statistic: number; df: number } {
  let total = 0;
  for (let i = 0; i < observed.length; i++) total += observed[i];
  let statistic = 0;
  let cells = 0;
  let pooledObserved = 0;
  let pooledExpected = 0;
  for (let i = 0; i < observed.length; i++) {
    const expected = total * probabilities[i];
    if (expected === 0) {
      assert.is(observed[i], 0, `cell ${i} has probability 0 but ${observed[i]} observations`);
      continue;
    }
    if (expected < 5) {
      pooledObserved += observed[i];
      pooledExpected += expected;
      continue;
    }
    statistic += (observed[i] - expected) ** 2 / expected;
    cells++;
  }
  if (pooledExpected > 0) {
    statistic += (pooledObserved - pooledExpected) ** 2 / pooledExpected;
    cells++;
  }
  return { statistic, df: Math.max(1, cells - 1) };
}

/** Upper 0.1% point of chi-square with df degrees of freedom (Wilson-Hilferty approximation). */
function chiSquareCritical(df: number): number {
  const z = 3.09; // standard normal 99.9% quantile
  const a = 2 / (9 * df);
  return df * (1 - a + z * Math.sqrt(a)) ** 3;
}

/**
 * Checks the transitions of topic sequences against the truth: per conditioning context (previous topic, or
 * the pair for second order) a chi-square test; returns the number of contexts tested.
 */
function checkTransitions(sequences: number[][], transitions: TransitionStructure, numTopics: number): number {
  const contexts = new Map<number, Float64Array>();
  for (const sequence of sequences) {
    for (let t = 1; t < sequence.length; t++) {
      const previous = sequence[t - 1];
      const before = t >= 2 ? sequence[t - 2] : previous;
      const key = transitions.kind === 'first-order' ? previous : before * numTopics + previous;
      let row = contexts.get(key);
      if (!row) contexts.set(key, (row = new Float64Array(numTopics)));
      row[sequence[t]]++;
    }
  }
  let tested = 0;
  for (const [key, row] of contexts) {
    const total = row.reduce((sum, value) => sum + value, 0);
    if (total < 200) continue;
    const previous = key % numTopics;
    const before = transitions.kind === 'first-order' ? previous : Math.floor(key / numTopics);
    const expected = nextTopicDistribution(transitions, numTopics, previous, before);
    const { statistic, df } = chiSquare(row, expected);
    assert.ok(
      statistic < chiSquareCritical(df),
      `transitions from context ${key}: chi-square ${statistic.toFixed(1)} with ${df} df exceeds ${chiSquareCritical(df).toFixed(1)}`,
    );
    tested++;
  }
  return tested;
}

const options: SyntheticOptions = {
  topics: 6,
  vocabulary: 120,
  sequences: 800,
  length: 60,
  seed: 7,
  dynamics: 'first-order',
};

const library = suite('generate: library');

library('the same seed gives the same corpus; another seed another one', () => {
  const a = generateSynthetic(options);
  const b = generateSynthetic(options);
  assert.equal(a.tokens, b.tokens);
  assert.equal(a.topics, b.topics);
  assert.equal(a.offsets, b.offsets);
  assert.equal(a.topicModel.weights, b.topicModel.weights);
  const c = generateSynthetic({ ...options, seed: 8 });
  assert.not.equal(c.tokens.slice(0, 200), a.tokens.slice(0, 200));
});

library('lengths are around L, phi rows are distributions on their block, transitions are a cycle', () => {
  const corpus = generateSynthetic(options);
  const sequences = corpus.offsets.length - 1;
  assert.is(sequences, 800);
  for (let d = 0; d < sequences; d++) {
    const length = corpus.offsets[d + 1] - corpus.offsets[d];
    assert.ok(length >= 30 && length <= 90, `length ${length} outside [L/2, 3L/2]`);
  }
  const mean = corpus.tokens.length / sequences;
  assert.ok(Math.abs(mean - 60) < 2, `mean length ${mean}`);
  for (let k = 0; k < 6; k++) {
    const sum = corpus.topicModel.weights[k].reduce((s, p) => s + p, 0);
    assert.ok(Math.abs(sum - 1) < 1e-12, `phi_${k} sums to ${sum}`);
    // its own block of V/K = 20 actions plus 2 borrowed from the next block
    assert.is(corpus.topicModel.supports[k].length, 22);
    assert.ok(corpus.topicModel.supports[k].includes(20 * k));
  }
  const transitions = corpus.transitions;
  if (transitions.kind !== 'first-order') throw new Error('expected first-order');
  // following the primary successors from topic 0 visits every topic once before returning
  const seen = new Set<number>();
  let topic = 0;
  for (let i = 0; i < 6; i++) {
    seen.add(topic);
    topic = transitions.primary[topic];
  }
  assert.is(topic, 0);
  assert.is(seen.size, 6);
  for (let k = 0; k < 6; k++)
    assert.ok(transitions.secondary[k] !== k && transitions.secondary[k] !== transitions.primary[k]);
});

library('first-order: empirical topic transitions match the truth (chi-square per topic)', () => {
  const corpus = generateSynthetic(options);
  const sequences: number[][] = [];
  for (let d = 0; d + 1 < corpus.offsets.length; d++)
    sequences.push(Array.from(corpus.topics.subarray(corpus.offsets[d], corpus.offsets[d + 1])));
  assert.is(checkTransitions(sequences, corpus.transitions, 6), 6);
});

library('second-order: the pair rule holds and the previous topic alone does not predict the next one', () => {
  const corpus = generateSynthetic({ ...options, dynamics: 'second-order', sequences: 3000 });
  const sequences: number[][] = [];
  for (let d = 0; d + 1 < corpus.offsets.length; d++)
    sequences.push(Array.from(corpus.topics.subarray(corpus.offsets[d], corpus.offsets[d + 1])));
  const tested = checkTransitions(sequences, corpus.transitions, 6);
  assert.ok(tested >= 20, `only ${tested} pair contexts had enough data`);
  // a first-order predictor (most frequent next topic given the previous one) is clearly worse than the pair rule
  const firstOrder = Array.from({ length: 6 }, () => new Float64Array(6));
  let pairHits = 0;
  let positions = 0;
  const transitions = corpus.transitions;
  if (transitions.kind !== 'second-order') throw new Error('expected second-order');
  for (const sequence of sequences) {
    for (let t = 2; t < sequence.length; t++) {
      firstOrder[sequence[t - 1]][sequence[t]]++;
      if (transitions.successor[(sequence[t - 1] + sequence[t - 2]) % 6] === sequence[t]) pairHits++;
      positions++;
    }
  }
  const firstOrderHits = firstOrder.reduce((sum, row) => sum + Math.max(...row), 0);
  assert.ok(pairHits / positions > 0.88, `pair rule accuracy ${pairHits / positions}`);
  assert.ok(firstOrderHits / positions < 0.75, `first-order accuracy ${firstOrderHits / positions}`);
});

library('invalid options are rejected with the reason', () => {
  assert.throws(() => generateSynthetic({ ...options, vocabulary: 3 }), /vocabulary 3 is smaller than topics 6/);
  assert.throws(() => generateSynthetic({ ...options, topics: 0 }), /topics must be a whole number/);
  assert.throws(
    () => generateSynthetic({ ...options, dynamics: 'third-order' as never }),
    /dynamics 'third-order' is unknown/,
  );
  assert.throws(() => generateSynthetic({ ...options, concentration: -1 }), /concentration must be a positive number/);
});

library.run();

const cli = suite('generate: written files');

interface Truth {
  topics: number;
  vocabularySize: number;
  actions: string[];
  phi: number[][];
  transitions: TransitionStructure;
  topicSequences: number[][];
  tokens: number;
  seed: number;
}

for (const format of ['text', 'jsonl'] as const) {
  cli(
    `${format}: the file parses back, matches the library's corpus, and its action frequencies follow phi`,
    async () => {
      const out = join(folder, `corpus.${format === 'text' ? 'txt' : 'jsonl'}.gz`);
      const truthPath = join(folder, `truth-${format}.json`);
      const result = await runCli([
        'generate',
        '--out',
        out,
        '--truth',
        truthPath,
        '--topics',
        '6',
        '--vocabulary',
        '120',
        '--sequences',
        '800',
        '--length',
        '60',
        '--seed',
        '7',
        '--json',
      ]);
      assert.is(result.code, 0, result.stderr);
      const summary = JSON.parse(result.stdout.trim().split('\n').pop()!);
      assert.is(summary.format, format);
      const raw = await readDocuments(out);
      assert.is(raw.format, format);
      const truth = JSON.parse(readFileSync(truthPath, 'utf8')) as Truth;
      const expected = generateSynthetic(options);
      assert.is(raw.tokens.length, expected.tokens.length);
      assert.is(truth.tokens, expected.tokens.length);
      assert.equal(Array.from(raw.offsets), Array.from(expected.offsets));
      // the same actions, by name, as the library draws for this seed
      for (let t = 0; t < raw.tokens.length; t++) {
        if (raw.tokenStrings[raw.tokens[t]] !== actionName(expected.tokens[t])) {
          assert.unreachable(
            `token ${t} is ${raw.tokenStrings[raw.tokens[t]]}, expected ${actionName(expected.tokens[t])}`,
          );
        }
      }
      if (format === 'jsonl') assert.equal(raw.ids.slice(0, 2), ['s0', 's1']);
      assert.is(truth.phi.length, 6);
      assert.is(truth.phi[0].length, 120);
      assert.is(truth.topicSequences.length, raw.offsets.length - 1);
      // per topic, the actions written at the positions the truth assigns to it follow phi_k
      const column = new Map(truth.actions.map((name, w) => [name, w]));
      const observed = Array.from({ length: 6 }, () => new Float64Array(120));
      for (let d = 0; d + 1 < raw.offsets.length; d++) {
        const topics = truth.topicSequences[d];
        assert.is(topics.length, raw.offsets[d + 1] - raw.offsets[d]);
        for (let t = raw.offsets[d]; t < raw.offsets[d + 1]; t++) {
          observed[topics[t - raw.offsets[d]]][column.get(raw.tokenStrings[raw.tokens[t]])!]++;
        }
      }
      for (let k = 0; k < 6; k++) {
        const sum = truth.phi[k].reduce((s, p) => s + p, 0);
        assert.ok(Math.abs(sum - 1) < 1e-9, `phi row ${k} sums to ${sum}`);
        const { statistic, df } = chiSquare(observed[k], truth.phi[k]);
        assert.ok(statistic < chiSquareCritical(df), `topic ${k}: chi-square ${statistic.toFixed(1)} with ${df} df`);
      }
      assert.is(checkTransitions(truth.topicSequences, truth.transitions, 6), 6);
    },
  );
}

cli('the same command twice writes byte-identical files', async () => {
  const a = join(folder, 'same-a.txt');
  const b = join(folder, 'same-b.txt');
  for (const out of [a, b]) {
    const result = await runCli([
      'generate',
      '--out',
      out,
      '--sequences',
      '50',
      '--seed',
      '3',
      '--dynamics',
      'second-order',
    ]);
    assert.is(result.code, 0, result.stderr);
  }
  assert.ok(readFileSync(a).equals(readFileSync(b)));
  assert.match(
    (await runCli(['generate', '--out', a, '--sequences', '50', '--seed', '3'])).stdout,
    /wrote 50 sequences/,
  );
});

cli('bad flags exit 2 with a message and write nothing', async () => {
  const before = readdirSync(folder).length;
  const cases: [string[], RegExp][] = [
    [['generate', '--out', join(folder, 'x.txt'), '--topics', '0'], /--topics must be between 1/],
    [
      ['generate', '--out', join(folder, 'x.txt'), '--topics', '10', '--vocabulary', '5'],
      /--vocabulary 5 is smaller than --topics 10/,
    ],
    [['generate', '--out', join(folder, 'x.txt'), '--format', 'csv'], /--format must be one of text, jsonl, events/],
    [['generate', '--out', join(folder, 'x.txt'), '--dynamics', 'chaos'], /--dynamics must be one of/],
    [['generate', '--out', join(folder, 'x.txt'), '--length', 'ten'], /--length must be a whole number/],
    [['generate', '--out', join(folder, 'x.txt'), '--colour'], /Unknown option '--colour'/],
    [['generate', '--sequences', '5'], /--out FILE is required/],
    [['generate', '--out', join(folder, 'no-such-folder', 'x.txt')], /does not exist; create it first/],
  ];
  for (const [argv, message] of cases) {
    const result = await runCli(argv);
    assert.is(result.code, 2, `${argv.join(' ')} exited ${result.code}: ${result.stderr}`);
    assert.match(result.stderr, message);
    assert.not.match(result.stderr, /\n\s+at /, 'no stack trace');
  }
  assert.is(readdirSync(folder).length, before);
  assert.not.ok(existsSync(join(folder, 'x.txt')));
});

cli.after(() => rmSync(folder, { recursive: true, force: true }));
cli.run();
