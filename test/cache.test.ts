// The recency cache (src/eval/cache.ts) and the decayed history it shares with the copy component
// (src/eval/history.ts): its perplexity against a direct computation on a tiny hand-made corpus, its O(h + log V)
// ranking against ranking every action, the forward O(1) history against the scan, and the fit of its two
// constants on data drawn from a cache with known ones (src/train/cache-fit.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CacheRanker, cacheEvaluation, cacheLogLikelihoods, smoothedUnigram } from '../src/eval/cache.js';
import { DecayedHistory, historyCounts, historyWindow } from '../src/eval/history.js';
import { fitCache } from '../src/train/cache-fit.js';
import { loadKernel } from '../src/kernels/loader.js';
import { mulberry32 } from './helpers/mulberry32.js';

test('the cache perplexity of a hand-made corpus equals a direct computation', () => {
  // V = 3 actions with training counts 5, 3, 0: p_uni = (6/11, 4/11, 1/11); decay 0.5, mass 2, a window of 8
  const unigram = smoothedUnigram([5, 3, 0]);
  assert.equal(Array.from(unigram), [6 / 11, 4 / 11, 1 / 11]);
  const parameters = { decay: 0.5, mass: 2, window: 8 };
  const corpus = { tokens: Int32Array.of(2, 2, 0, 2, 1), offsets: Int32Array.of(0, 3, 5) };
  // sequence 0: a2 a2 a0
  //   t=0: history empty:             (0 + 2/11) / (0 + 2)
  //   t=1: c(a2) = 1, C = 1:           (1 + 2/11) / (1 + 2)
  //   t=2: c(a0) = 0, C = 1 + 0.5:    (0 + 12/11) / (1.5 + 2)
  // sequence 1 (its own history): a2 a1
  //   t=0: (0 + 2/11) / 2;   t=1: c(a1) = 0, C = 1: (0 + 8/11) / 3
  const first = Math.log(2 / 11 / 2) + Math.log((1 + 2 / 11) / 3) + Math.log(12 / 11 / 3.5);
  const second = Math.log(2 / 11 / 2) + Math.log(8 / 11 / 3);
  const perSequence = cacheLogLikelihoods(unigram, parameters, corpus);
  assert.ok(Math.abs(perSequence[0] - first) < 1e-12, `${perSequence[0]} vs ${first}`);
  assert.ok(Math.abs(perSequence[1] - second) < 1e-12, `${perSequence[1]} vs ${second}`);
  const evaluation = cacheEvaluation(unigram, parameters, corpus);
  assert.ok(Math.abs(evaluation.perplexity - Math.exp(-(first + second) / 5)) < 1e-9);
  // a window of 1 forgets all but the last action: at t=2 of sequence 0, C = 1 and c(a0) = 0
  const short = cacheLogLikelihoods(unigram, { ...parameters, window: 1 }, corpus);
  const firstShort = Math.log(2 / 11 / 2) + Math.log((1 + 2 / 11) / 3) + Math.log(12 / 11 / 3);
  assert.ok(Math.abs(short[0] - firstShort) < 1e-12, `window 1: ${short[0]} vs ${firstShort}`);
});

test('the cache sums to one over the vocabulary at every position', () => {
  const random = mulberry32(4);
  const V = 7;
  const unigram = smoothedUnigram(Array.from({ length: V }, () => Math.floor(random() * 5)));
  const sequence = Array.from({ length: 30 }, () => Math.floor(random() * V));
  for (const decay of [0, 0.6, 1]) {
    const history = new DecayedHistory(V, decay, historyWindow(decay));
    for (const w of sequence) {
      let sum = 0;
      for (let v = 0; v < V; v++) sum += (history.count(v) + 3 * unigram[v]) / (history.total + 3);
      assert.ok(Math.abs(sum - 1) < 1e-12, `decay ${decay}: ${sum}`);
      history.push(w);
    }
  }
});

test('the forward history equals the scan, inside and past its window, for every decay', () => {
  const random = mulberry32(9);
  const V = 6;
  const tokens = Int32Array.from({ length: 80 }, () => Math.floor(random() * V));
  for (const [decay, window] of [
    [0.8, 5],
    [1, 7],
    [0, 1],
    [0.95, 300],
    [0.5, 3],
  ] as const) {
    const history = new DecayedHistory(V, decay, window);
    history.reset();
    for (let t = 0; t <= tokens.length; t++) {
      const scanned = historyCounts(tokens, 0, t, decay, window);
      assert.ok(Math.abs(history.total - scanned.total) < 1e-9, `decay ${decay}, window ${window}, t ${t}: total`);
      for (let v = 0; v < V; v++) {
        const i = scanned.actions.indexOf(v);
        const expected = i < 0 ? 0 : scanned.counts[i];
        assert.ok(
          Math.abs(history.count(v) - expected) < 1e-9,
          `decay ${decay}, window ${window}, t ${t}, action ${v}`,
        );
      }
      if (t < tokens.length) history.push(tokens[t]);
    }
  }
  // a new sequence starts empty
  const history = new DecayedHistory(V, 0.5, 4);
  history.push(2);
  history.reset();
  assert.is(history.count(2), 0);
  assert.is(history.total, 0);
});

test('the cache ranking equals ranking every action (ties: the smaller id), and top-n agrees with it', () => {
  const random = mulberry32(12);
  const V = 40;
  // integer counts make equal unigram probabilities (ties) common
  const unigram = smoothedUnigram(Array.from({ length: V }, () => Math.floor(random() * 4)));
  const ranker = new CacheRanker(unigram);
  for (let trial = 0; trial < 200; trial++) {
    const length = Math.floor(random() * 12);
    const sequence = Int32Array.from({ length }, () => Math.floor(random() * V));
    const decay = [0, 0.5, 1][trial % 3];
    const mass = [0.5, 2, 40][trial % 3];
    const history = historyCounts(sequence, 0, length, decay, 10);
    const score = (w: number) => {
      const i = history.actions.indexOf(w);
      return (i < 0 ? 0 : history.counts[i]) + mass * unigram[w];
    };
    const target = Math.floor(random() * V);
    let expected = 1;
    for (let w = 0; w < V; w++) if (score(w) > score(target) || (score(w) === score(target) && w < target)) expected++;
    assert.is(ranker.rank(history, mass, target), expected, `trial ${trial}`);
    const top = ranker.top(history, mass, 5).map((entry) => entry.action);
    const all = Array.from({ length: V }, (_, w) => w).sort((a, b) => score(b) - score(a) || a - b);
    assert.equal(top, all.slice(0, 5), `trial ${trial}: top 5`);
  }
});

test('the fit recovers the decay and mass of data drawn from a cache, on held-in data only', async () => {
  const random = mulberry32(21);
  const V = 300;
  const trainCounts = Array.from({ length: V }, (_, w) => Math.floor(2000 / (w + 1)));
  const unigram = smoothedUnigram(trainCounts);
  const cumulative = Float64Array.from(unigram);
  for (let w = 1; w < V; w++) cumulative[w] += cumulative[w - 1];
  const drawUnigram = () => {
    const u = random() * cumulative[V - 1];
    let w = 0;
    while (cumulative[w] <= u && w < V - 1) w++;
    return w;
  };
  // the generative cache: with probability C / (C + mass) copy from the decayed history, else the unigram
  const truth = { decay: 0.9, mass: 4 };
  const tokens: number[] = [];
  const offsets = [0];
  for (let d = 0; d < 150; d++) {
    const history = new DecayedHistory(V, truth.decay, historyWindow(truth.decay));
    const start = tokens.length;
    for (let t = 0; t < 80; t++) {
      let w: number;
      if (random() < history.total / (history.total + truth.mass)) {
        const scan = historyCounts(tokens, start, tokens.length, truth.decay, historyWindow(truth.decay));
        let u = random() * scan.total;
        let i = 0;
        while ((u -= scan.counts[i]) >= 0 && i < scan.actions.length - 1) i++;
        w = scan.actions[i];
      } else {
        w = drawUnigram();
      }
      tokens.push(w);
      history.push(w);
    }
    offsets.push(tokens.length);
  }
  const heldIn = { tokens: Int32Array.from(tokens), offsets: Int32Array.from(offsets) };
  const fit = fitCache(trainCounts, heldIn);
  assert.ok(fit.fitted);
  assert.ok(Math.abs(fit.parameters.decay - truth.decay) < 0.03, `decay ${fit.parameters.decay}`);
  assert.ok(Math.abs(Math.log(fit.parameters.mass / truth.mass)) < 0.3, `mass ${fit.parameters.mass}`);
  assert.is(fit.parameters.window, historyWindow(fit.parameters.decay));
  // without held-in data there is nothing to fit: the hand-set constants, marked as such
  const unfitted = fitCache(trainCounts, null);
  assert.not.ok(unfitted.fitted);
  assert.equal([unfitted.parameters.decay, unfitted.parameters.mass], [0.95, 10]);
  // its next-action metrics use the positions every model uses (t >= 5)
  const kernel = await loadKernel({ backend: 'native' });
  const scored = cacheEvaluation(unigram, fit.parameters, heldIn, { kernel, seed: 1 });
  assert.is(scored.nextAction!.positions, 2000);
  assert.ok(scored.nextAction!.recallAt10 > 0.3 && scored.nextAction!.recallAt1 <= scored.nextAction!.recallAt10);
});

test.run();
