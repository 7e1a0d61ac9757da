// The second-order fallback inside the SEM schedule (src/train/sem.ts): after the last first-order hmm sweep a start
// that found no structure grows the run by the fallback's sweeps, which run a second-order table from random topics;
// where they find nothing either, the chain goes back to the first-order start's topics (so the fallback never leaves
// the model worse off than without it); a start that found structure runs no fallback. On both kernel backends.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadKernel, type BackendName } from '../src/kernels/loader.js';
import { SemState } from '../src/train/sem.js';
import { semSettings } from './helpers/sem-settings.js';
import { FALLBACK_MAX_TOPICS } from '../src/train/settings.js';
import { generateSynthetic } from '../src/generate/synthetic.js';
import { contextStartTopics } from '../src/train/context-start.js';
import { mulberry32 } from './helpers/mulberry32.js';

const V = 40;
const K = 4;
const settings = (vocabularySize: number, numTopics = K) =>
  semSettings({
    model: 'lla',
    numTopics,
    vocabularySize,
    iterations: 4,
    initHmmSweeps: 2,
    initFallbackSweeps: 3,
    exact: true,
    initExact: true,
    lookahead: true,
    seed: 4,
    threads: 1,
  });

// independent draws from one unigram: no order for any hmm to find
function unorderedCorpus(): { tokens: Int32Array; offsets: Int32Array } {
  const random = mulberry32(11);
  const sequences = 200;
  const length = 25;
  const tokens = new Int32Array(sequences * length);
  for (let t = 0; t < tokens.length; t++) tokens[t] = Math.floor(V * random() ** 2);
  const offsets = Int32Array.from({ length: sequences + 1 }, (_, d) => d * length);
  return { tokens, offsets };
}

/** Counts per topic of `topics`, and the state's own topic totals. */
function topicTotals(state: SemState): { fromTopics: number[]; fromTables: number[] } {
  const fromTopics = new Array<number>(K).fill(0);
  for (const z of state.topics) fromTopics[z]++;
  return { fromTopics, fromTables: Array.from(state.counts.topicTotals.subarray(0, K)) };
}

for (const backend of ['native', 'wasm'] as BackendName[]) {
  test(`${backend}: a start without structure takes the fallback, which finds none and gives the start back`, async () => {
    const kernel = await loadKernel({ backend });
    const state = new SemState(kernel, settings(V), unorderedCorpus());
    const first = await state.step(null);
    assert.is(first.plannedIterations, 4);
    assert.is(state.fallbackTaken, false);
    const last = await state.step(null);
    assert.is(state.fallbackTaken, true, `the first-order start found structure: ${last.logLikelihoodPerToken}`);
    assert.is(last.plannedIterations, 7);
    assert.is(state.plannedIterations, 7);
    const start = Int32Array.from(state.topics);
    assert.equal(state.fallbackStartTopics, start);
    const modes: string[] = [];
    for (let i = 0; i < 3; i++) {
      const record = await state.step(null);
      modes.push(`${record.mode}${record.hmmOrder}`);
    }
    assert.equal(modes, ['hmm2', 'hmm2', 'hmm2']);
    assert.is(state.modeOf(state.iteration), 'lla');
    assert.equal(state.topics, start, 'the topics of the first-order start, back');
    assert.is(state.fallbackStartTopics, undefined);
    const { fromTopics, fromTables } = topicTotals(state);
    assert.equal(fromTables, fromTopics, 'counts rebuilt from the restored topics');
    assert.is(
      fromTopics.reduce((a, b) => a + b, 0),
      state.tokenCount,
    );
  });

  test(`${backend}: above FALLBACK_MAX_TOPICS no fallback runs (its table grows as K^3)`, async () => {
    const kernel = await loadKernel({ backend });
    const state = new SemState(kernel, settings(V, FALLBACK_MAX_TOPICS + 1), unorderedCorpus());
    await state.step(null);
    const last = await state.step(null);
    assert.is(state.fallbackTaken, false);
    assert.is(last.plannedIterations, 4);
    assert.is(state.modeOf(2), 'lla');
  });

  test(`${backend}: a start that finds structure runs no fallback`, async () => {
    const kernel = await loadKernel({ backend });
    const corpus = generateSynthetic({
      topics: K,
      vocabulary: V,
      sequences: 200,
      length: 25,
      seed: 2,
      dynamics: 'first-order',
    });
    // as training starts an hmm: from the context clustering of the actions
    const start = contextStartTopics({
      kernel,
      tokens: corpus.tokens,
      offsets: corpus.offsets,
      vocabularySize: V,
      numTopics: K,
      seed: 4,
      threads: 1,
    });
    const state = new SemState(kernel, settings(V), { tokens: corpus.tokens, offsets: corpus.offsets }, start);
    await state.step(null);
    const last = await state.step(null);
    assert.is(state.fallbackTaken, false, `log-likelihood per token ${last.logLikelihoodPerToken}`);
    assert.is(last.plannedIterations, 4);
    assert.is(state.modeOf(2), 'lla');
    assert.is(state.fallbackStartTopics, undefined);
  });
}

test.run();
