// The trained model end to end, on both kernel backends: training on data generated from a known LLA recovers
// its topics and LLA beats LDA there; save/load gives identical predictions; a serving session fed action by
// action agrees with the whole-sequence filter.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LlaModel } from '../src/model/model.js';
import { holdoutSplit } from '../src/train/split.js';
import { mulberry32 } from './helpers/mulberry32.js';

/**
 * A known LLA with strong topic dynamics: K topics on disjoint blocks of actions (Zipf weights within a block),
 * topics that persist (stay with probability 0.9) and otherwise jump to a uniformly drawn topic. A first-order
 * chain, which the topic LSTM represents exactly. (With a fixed successor k -> k+1 instead, adjacent topics
 * co-occur so often that LDA-initialised runs of this length merge pairs of them: see bench/RESULTS.md.)
 */
const K_TRUE = 6;
const PER_TOPIC = 30;
const V_TRUE = K_TRUE * PER_TOPIC;
function knownLla(sequences: number, length: number, seed: number): { sequences: string[][]; phi: Float64Array[] } {
  const uniform = mulberry32(seed);
  const zipf = Array.from({ length: PER_TOPIC }, (_, i) => 1 / (i + 1));
  const zipfTotal = zipf.reduce((a, b) => a + b, 0);
  const phi = Array.from({ length: K_TRUE }, (_, k) => {
    const row = new Float64Array(V_TRUE);
    for (let i = 0; i < PER_TOPIC; i++) row[k * PER_TOPIC + i] = zipf[i] / zipfTotal;
    return row;
  });
  const draw = (row: Float64Array) => {
    let u = uniform();
    for (let w = 0; w < row.length; w++) if ((u -= row[w]) < 0) return w;
    return row.length - 1;
  };
  const out: string[][] = [];
  for (let d = 0; d < sequences; d++) {
    let topic = Math.floor(uniform() * K_TRUE);
    const sequence: string[] = [];
    for (let t = 0; t < length; t++) {
      if (t > 0) {
        const u = uniform();
        if (u >= 0.9) topic = Math.floor(uniform() * K_TRUE);
      }
      sequence.push(`a${draw(phi[topic])}`);
    }
    out.push(sequence);
  }
  return { sequences: out, phi };
}
const { sequences, phi: truePhi } = knownLla(360, 40, 7);
const split = holdoutSplit(sequences.length, 0.15, 3);
const train = Array.from(split.train, (d) => sequences[d]);
const test = Array.from(split.test, (d) => sequences[d]);

// the M-step on the kernels' trainer (the default engine of lla); every iteration runs (tol 0). The data has no
// repeats of its own, so a copy component would be dropped (test/copy-model.test.ts checks that); `copy: 'off'`
// keeps its held-in tenth in the chain, which this test of topic recovery is about.
const common = {
  topics: 6,
  iterations: 40,
  initLdaSweeps: 10,
  hidden: 16,
  embedding: 8,
  lstmTokens: 6_000,
  batch: 16,
  bptt: 20,
  learningRate: 0.02,
  threads: 1,
  particles: 32,
  lstmEngine: 'kernel',
  tol: 0,
  copy: 'off',
  warn: () => undefined,
} as const;
/**
 * SEM, like collapsed Gibbs for LDA, can stop in a local optimum that merges two topics and splits another; the
 * usual remedy is restarts, keeping the run with the best training likelihood (what a user would do). On this
 * data about half of the 40-iteration runs reach the truth (mean TV about 0.05) and the rest merge one pair
 * (about 0.27), and the final likelihood separates the two.
 */
const RESTART_SEEDS = [1, 2, 3, 4];
/** Mean total-variation distance between true topics and their greedily matched learned topics. */
function matchedTopicDistance(model: LlaModel): number {
  const K = K_TRUE;
  const V = model.vocabulary.size;
  const learned = model.phi();
  // trueIds: [V] the generator's action id of each model vocabulary id
  const trueIds = Int32Array.from(model.vocabulary.words, (word) => Number(word.slice(1)));
  const distances: number[][] = [];
  for (let j = 0; j < K; j++) {
    const truth = truePhi[j];
    distances.push(
      Array.from({ length: K }, (_, k) => {
        let total = 0;
        let covered = 0;
        for (let w = 0; w < V; w++) {
          total += Math.abs(learned[k * V + w] - truth[trueIds[w]]);
          covered += truth[trueIds[w]];
        }
        return 0.5 * (total + (1 - covered));
      }),
    );
  }
  const usedLearned = new Set<number>();
  const usedTrue = new Set<number>();
  let sum = 0;
  const pairs = distances
    .flatMap((row, j) => row.map((value, k) => ({ j, k, value })))
    .sort((a, b) => a.value - b.value);
  for (const { j, k, value } of pairs) {
    if (usedTrue.has(j) || usedLearned.has(k)) continue;
    usedTrue.add(j);
    usedLearned.add(k);
    sum += value;
  }
  return sum / K;
}

for (const backend of ['native', 'wasm'] as const) {
  const run = suite(`model (${backend} kernels)`);
  let lla: LlaModel;
  let lda: LlaModel;

  run.before(async () => {
    let best = -Infinity;
    for (const seed of RESTART_SEEDS) {
      const candidate = await LlaModel.create({ ...common, model: 'lla', backend, seed });
      await candidate.train(train);
      const final = candidate.history[candidate.history.length - 1].logLikelihoodPerToken;
      if (final > best) {
        best = final;
        if (lla) lla.dispose();
        lla = candidate;
      } else {
        candidate.dispose();
      }
    }
    lda = await LlaModel.create({ ...common, model: 'lda', backend, seed: 1 });
    await lda.train(train);
  });

  run(`the ${backend} backend is the one that ran`, () => {
    assert.is(lla.backend, backend);
    assert.is(lda.backend, backend);
    assert.is(lla.lstmEngine, 'kernel');
    assert.is(lla.tfBackend, null, 'the kernel engine runs no TF.js');
    const trained = lla.history.filter((record) => record.mstepTokensPerSecond !== null);
    assert.ok(
      trained.length >= 30 && trained.every((record) => record.lstmEngine === 'kernel'),
      'every M-step ran on the kernel engine',
    );
  });

  run('training on data from a known LLA recovers its topics (mean TV of matched topics < 0.2)', () => {
    const distance = matchedTopicDistance(lla);
    assert.ok(distance < 0.2, `mean matched total-variation distance ${distance.toFixed(3)}`);
  });

  run("LLA's held-out perplexity beats LDA's on data with strong topic dynamics", async () => {
    const llaPerplexity = await lla.perplexity(test);
    const ldaPerplexity = await lda.perplexity(test);
    assert.ok(llaPerplexity < ldaPerplexity, `lla ${llaPerplexity.toFixed(2)} vs lda ${ldaPerplexity.toFixed(2)}`);
    // and both are far below the vocabulary size, the perplexity of knowing nothing
    assert.ok(ldaPerplexity < V_TRUE / 2, `lda perplexity ${ldaPerplexity}`);
  });

  run('the learned transition matrix shows that topics persist', () => {
    const matrix = lla.transitionMatrix();
    for (const row of matrix) {
      const total = row.reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(total - 1) < 1e-6 || total === 0, `row sums to ${total}`);
    }
    // the truth stays in its topic with probability 0.9: the diagonal dominates every row
    const diagonal = matrix.map((row, k) => row[k]);
    assert.ok(
      diagonal.every((value) => value > 0.6),
      `diagonal ${diagonal.map((v) => v.toFixed(2)).join(' ')}`,
    );
  });

  run('save and load give identical perplexity, predictions and topics', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'lla-model-'));
    try {
      for (const model of [lla, lda]) {
        const path = join(folder, `${model.model}.lla`);
        await model.save(path);
        const loaded = await LlaModel.load(path, { backend, warn: () => undefined });
        assert.is(loaded.backend, backend);
        assert.is(await loaded.perplexity(test), await model.perplexity(test));
        assert.equal(loaded.predictNext(test[0], 10), model.predictNext(test[0], 10));
        assert.equal(loaded.topicWords(2, 5), model.topicWords(2, 5));
        assert.equal(loaded.transitionMatrix(), model.transitionMatrix());
        assert.is(loaded.parameterCount, model.parameterCount);
        assert.is(loaded.lstmEngine, model.lstmEngine);
        loaded.dispose();
      }
      // the kernel engine's model loads under the TF.js engine too, with the same weights: the same numbers
      const path = join(folder, 'lla.lla');
      const underTfjs = await LlaModel.load(path, { backend, lstmEngine: 'tfjs', warn: () => undefined });
      assert.is(underTfjs.lstmEngine, 'tfjs');
      assert.is(await underTfjs.perplexity(test), await lla.perplexity(test));
      assert.equal(underTfjs.predictNext(test[0], 10), lla.predictNext(test[0], 10));
      underTfjs.dispose();
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  run('a session fed action by action gives the same scores as the whole-sequence filter', async () => {
    for (const model of [lla, lda]) {
      const history = test[1].slice(0, 25);
      const session = model.session();
      for (const action of history) session.push(action);
      assert.equal(session.next(15), model.predictNext(history, 15));
      // the session's summed log p(action | history) is the filter's log-likelihood of the same sequence
      const whole = await model.evaluate([history], { nextAction: false });
      assert.ok(
        Math.abs(session.logLikelihood - whole.logLikelihood) < 1e-6,
        `${model.model}: session ${session.logLikelihood} vs filter ${whole.logLikelihood}`,
      );
      const probabilities = session.next(V_TRUE).map((entry) => entry.probability);
      const total = probabilities.reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(total - 1) < 1e-4, `next-action probabilities sum to ${total}`);
    }
  });

  run('infer returns a topic for every known action and -1 for unknown ones', async () => {
    const docs = [[...test[0].slice(0, 10), 'never-seen', ...test[0].slice(10, 20)]];
    const [topics] = await lla.infer(docs);
    assert.is(topics.length, 21);
    assert.is(topics[10], -1);
    assert.ok(topics.every((z, i) => (i === 10 ? z === -1 : z >= 0 && z < 6)));
  });

  run.after(() => {
    lla.dispose();
    lda.dispose();
  });
  run.run();
}
