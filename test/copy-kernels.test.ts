// The copy component in the kernels' particle filter (issue 13; definition in src/kernels/types.ts), on every
// backend: the copy predictive sums to one over the vocabulary at every position (checked exhaustively on a small
// V, by stepping a copy of the state with each action) and equals the formula that ranks next actions
// (src/eval/copy.ts); a sequence fed in pieces gives the filter's numbers on the whole (the history ring wraps);
// rate 0 is the model without copy; the backends agree; bad copy arguments throw.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadKernel } from '../src/kernels/loader.js';
import type { CopyParameters, FilterState, Kernel, KernelMode } from '../src/kernels/types.js';
import { CopyRanker } from '../src/eval/copy.js';
import { historyCounts } from '../src/eval/history.js';
import { MixtureScorer } from '../src/eval/phi.js';
import { TEST_BACKENDS, randomCorpus, randomFilterModel } from './helpers/kernel-data.js';
import { mulberry32 } from './helpers/mulberry32.js';
import { cloneFilterState, newFilterState } from './helpers/filter-state.js';

const BACKENDS = TEST_BACKENDS;
const K = 3;
const V = 5;
const H = 6;
const BETA = 0.05;
const ALPHA = 0.3;
const S = 8;
const MODES: KernelMode[] = ['lda', 'lla', 'word-lla'];

/** A few copy components: per-topic rates and masses, a short window that the sequences overrun, no decay. */
const COPIES: Array<{ label: string; copy: CopyParameters }> = [
  {
    label: 'per-topic rate and mass, window 3',
    copy: { decay: 0.7, window: 3, rate: Float64Array.of(0.2, 0.9, 0.5), mass: Float64Array.of(0, 2, 0.5) },
  },
  {
    label: 'no decay, mass 0',
    copy: { decay: 1, window: 16, rate: Float64Array.of(0.6, 0.6, 0.6), mass: Float64Array.of(0, 0, 0) },
  },
  {
    label: 'decay 0 (the last action only)',
    copy: { decay: 0, window: 4, rate: Float64Array.of(1, 0.3, 0), mass: Float64Array.of(1, 1, 1) },
  },
];

const model = (k: Kernel) =>
  randomFilterModel(k, { sequences: 12, maxLength: 10, topics: K, vocabulary: V, hidden: H, beta: BETA });

const newState = (k: Kernel, window: number): FilterState =>
  newFilterState(k, { particles: S, hidden: H, topics: K, window });
const cloneState = cloneFilterState;

for (const backend of BACKENDS) {
  const title = `copy kernels [${backend}]`;
  let cached: Kernel | undefined;
  const kernel = async (): Promise<Kernel> => (cached ??= await loadKernel({ backend }));

  test(`${title}: the copy predictive sums to one over the vocabulary at every position and equals the ranking formula`, async () => {
    const k = await kernel();
    const m = model(k);
    const sequence = [1, 3, 1, 1, 4, 0, 3, 1, 2, 1];
    const scorer = new MixtureScorer(m.counts, BETA, K, V);
    for (const mode of MODES) {
      for (const { label, copy } of COPIES) {
        const common = {
          mode,
          numTopics: K,
          vocabularySize: V,
          counts: m.counts,
          beta: BETA,
          alpha: ALPHA,
          weights: mode === 'lla' ? m.weights : mode === 'word-lla' ? m.wordWeights : undefined,
          particles: mode === 'word-lla' ? 1 : S,
          seed: 3,
          copy,
        };
        const ranker = new CopyRanker(scorer, copy);
        const state = newState(k, copy.window);
        const mixture = k.allocFloat32(K);
        for (let t = 0; t <= sequence.length; t++) {
          const probabilities = Array.from({ length: V }, (_, w) =>
            Math.exp(k.filterStep({ ...common, state: cloneState(k, state), action: w, sequenceIndex: 5 })),
          );
          const sum = probabilities.reduce((a, b) => a + b, 0);
          assert.ok(Math.abs(sum - 1) < 1e-12, `${mode}, ${label}: position ${t} sums to ${sum}`);
          if (t > 0) {
            // the same predictive from the filter's topic mixture (float32) and the history, as rankings use it
            const expected = ranker.probabilities(
              mixture,
              historyCounts(sequence, 0, t, copy.decay, copy.window),
              new Float64Array(V),
            );
            probabilities.forEach((p, w) =>
              assert.ok(
                Math.abs(p - expected[w]) < 1e-6 * Math.max(1, p),
                `${mode}, ${label}: position ${t}, action ${w}: kernel ${p}, formula ${expected[w]}`,
              ),
            );
          }
          if (t < sequence.length)
            k.filterStep({ ...common, state, action: sequence[t], sequenceIndex: 5, mixtureOut: mixture });
        }
      }
    }
  });

  test(`${title}: filterStep one token at a time equals particleFilter with copy (the ring wraps); rate 0 is no copy`, async () => {
    const k = await kernel();
    const m = model(k);
    const corpus = randomCorpus(mulberry32(5), 6, 12, V);
    const D = corpus.offsets.length - 1;
    for (const mode of MODES) {
      for (const { label, copy } of COPIES) {
        const common = {
          mode,
          numTopics: K,
          vocabularySize: V,
          counts: m.counts,
          beta: BETA,
          alpha: ALPHA,
          weights: mode === 'lla' ? m.weights : mode === 'word-lla' ? m.wordWeights : undefined,
          particles: S,
          seed: 9,
        };
        const whole = k.allocFloat64(D);
        await k.particleFilter({
          ...common,
          copy,
          tokens: corpus.tokens,
          offsets: corpus.offsets,
          threads: 2,
          logLikelihood: whole,
        });
        for (let d = 0; d < D; d++) {
          const state = newState(k, copy.window);
          let total = 0;
          for (let i = corpus.offsets[d]; i < corpus.offsets[d + 1]; i++) {
            total += k.filterStep({ ...common, copy, state, action: corpus.tokens[i], sequenceIndex: d });
          }
          assert.ok(
            Math.abs(total - whole[d]) < 1e-9,
            `${mode}, ${label}, sequence ${d}: pieces ${total}, whole ${whole[d]}`,
          );
        }
        const none = k.allocFloat64(D);
        const zero = k.allocFloat64(D);
        await k.particleFilter({
          ...common,
          tokens: corpus.tokens,
          offsets: corpus.offsets,
          threads: 1,
          logLikelihood: none,
        });
        await k.particleFilter({
          ...common,
          copy: { ...copy, rate: new Float64Array(K) },
          tokens: corpus.tokens,
          offsets: corpus.offsets,
          threads: 1,
          logLikelihood: zero,
        });
        assert.equal(Array.from(zero), Array.from(none), `${mode}, ${label}: rate 0 is the filter without copy`);
        assert.not.equal(Array.from(whole), Array.from(none), `${mode}, ${label}: copy changes the likelihood`);
      }
    }
  });

  test(`${title}: on sequences that repeat themselves, copy raises the likelihood`, async () => {
    const k = await kernel();
    const m = model(k);
    const tokens = Int32Array.from({ length: 60 }, (_, i) => [2, 4][i % 2]);
    const offsets = Int32Array.of(0, 30, 60);
    for (const mode of MODES) {
      const common = {
        mode,
        numTopics: K,
        vocabularySize: V,
        counts: m.counts,
        beta: BETA,
        alpha: ALPHA,
        weights: mode === 'lla' ? m.weights : mode === 'word-lla' ? m.wordWeights : undefined,
        particles: S,
        seed: 1,
        tokens,
        offsets,
        threads: 1,
      };
      const without = k.allocFloat64(2);
      const with_ = k.allocFloat64(2);
      await k.particleFilter({ ...common, logLikelihood: without });
      await k.particleFilter({ ...common, logLikelihood: with_, copy: COPIES[0].copy });
      for (let d = 0; d < 2; d++)
        assert.ok(with_[d] > without[d] + 5, `${mode}: ${with_[d]} against ${without[d]} without copy`);
    }
  });

  test(`${title}: bad copy arguments throw and never crash`, async () => {
    const k = await kernel();
    const m = model(k);
    const copy = COPIES[0].copy;
    const common = {
      mode: 'lla' as KernelMode,
      numTopics: K,
      vocabularySize: V,
      counts: m.counts,
      beta: BETA,
      alpha: ALPHA,
      weights: m.weights,
      particles: S,
      seed: 1,
    };
    const filter = (bad: Partial<CopyParameters>) =>
      k.particleFilter({
        ...common,
        copy: { ...copy, ...bad },
        tokens: Int32Array.of(1, 2),
        offsets: Int32Array.of(0, 2),
        threads: 1,
        logLikelihood: new Float64Array(1),
      });
    const cases: Array<[string, Partial<CopyParameters>, RegExp]> = [
      ['rate above 1', { rate: Float64Array.of(0.2, 1.5, 0) }, /copy\.rate/],
      ['negative mass', { mass: Float64Array.of(0, -1, 0) }, /copy\.mass/],
      ['mass NaN', { mass: Float64Array.of(0, NaN, 0) }, /copy\.mass/],
      ['mass infinite', { mass: Float64Array.of(0, Infinity, 0) }, /copy\.mass/],
      ['rate of K-1 topics', { rate: Float64Array.of(0.2, 0.3) }, /copy\.rate/],
      ['mass as a Float32Array', { mass: new Float32Array(K) as unknown as Float64Array }, /copy\.mass/],
      ['window 0', { window: 0 }, /copy\.window.*copyWindow/],
      ['window past the limit', { window: 2 ** 16 + 1 }, /copy\.window.*copyWindow/],
      ['decay above 1', { decay: 1.5 }, /copy\.decay.*copyDecay/],
      ['decay NaN', { decay: NaN }, /copy\.decay/],
    ];
    for (const [label, bad, pattern] of cases) {
      let failure: unknown;
      try {
        await filter(bad);
      } catch (error) {
        failure = error;
      }
      assert.ok(failure instanceof Error && pattern.test(failure.message), `${label}: ${String(failure)}`);
    }
    // at the bounds of the limits table (copyWindow, copyDecay) the filter works
    for (const bound of [{ window: 2 ** 16 }, { window: 1 }, { decay: 0 }, { decay: 1 }]) await filter(bound);
    const state = newState(k, copy.window);
    const step = { ...common, copy, state, action: 1, sequenceIndex: 0 };
    assert.ok(Number.isFinite(k.filterStep(step)), 'a good filterStep works');
    assert.throws(
      () => k.filterStep({ ...step, state: { ...state, copyHistory: undefined } }),
      /copyHistory/,
      'no history',
    );
    assert.throws(
      () => k.filterStep({ ...step, state: { ...state, copyHistory: k.allocInt32(copy.window - 1) } }),
      /copyHistory/,
      'short history',
    );
    const wrong = k.allocInt32(copy.window);
    wrong.fill(V);
    assert.throws(
      () => k.filterStep({ ...step, state: { ...state, copyHistory: wrong } }),
      /copyHistory/,
      'an action outside V',
    );
  });
}

test('copy kernels: native and WASM give the same numbers (lda within 1e-12, the LSTM modes within 1e-4)', async () => {
  if (BACKENDS.length < 2) return;
  const [native, wasm] = await Promise.all([loadKernel({ backend: 'native' }), loadKernel({ backend: 'wasm' })]);
  const corpus = randomCorpus(mulberry32(8), 20, 30, V);
  const D = corpus.offsets.length - 1;
  for (const mode of MODES) {
    const results = [];
    for (const k of [native, wasm]) {
      const m = model(k);
      const out = k.allocFloat64(D);
      await k.particleFilter({
        mode,
        numTopics: K,
        vocabularySize: V,
        counts: m.counts,
        beta: BETA,
        alpha: ALPHA,
        weights: mode === 'lla' ? m.weights : mode === 'word-lla' ? m.wordWeights : undefined,
        particles: S,
        seed: 4,
        copy: COPIES[0].copy,
        tokens: corpus.tokens,
        offsets: corpus.offsets,
        threads: 2,
        logLikelihood: out,
      });
      results.push(Array.from(out));
    }
    // the draws agree; the log of each step's sum comes from each backend's own libm (as without copy)
    const tolerance = mode === 'lda' ? 1e-12 : 1e-4;
    results[0].forEach((value, d) =>
      assert.ok(
        Math.abs(value - results[1][d]) < tolerance * Math.max(1, Math.abs(value)),
        `${mode}: sequence ${d}: ${value} against ${results[1][d]}`,
      ),
    );
  }
});

test.run();
