// Repeat blocks in the kernels' particle filter (`repeat` [V][R]; definition in src/kernels/types.ts), on every
// backend, with R = 1 and R = 3: the predictive with blocks sums to one over the vocabulary (checked exhaustively
// on a small V by stepping a copy of the state with each action), also right after a repeat; a repeat scores
// log r(w, L), L the run length so far, and leaves the state but runLength as it was; a new block sets runLength
// to 1; particleFilter over runs of repeats (longer than R) equals filterStep fed action by action (log-likelihoods
// and mixtures, inside runs too); a [V][R] table with equal columns is its [V] table bit for bit; the backends
// agree, on 1 and 2 threads; without `repeat` the filter is as it was; a bad `repeat` or state.runLength throws,
// naming it. Each with and without the copy component.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadKernel } from '../src/kernels/loader.js';
import { loadWasmKernel } from '../src/kernels/wasm.js';
import type { CopyParameters, FilterState, Kernel, KernelMode } from '../src/kernels/types.js';
import { TEST_BACKENDS, randomCorpus, randomFilterModel, type Corpus } from './helpers/kernel-data.js';
import { mulberry32 } from './helpers/mulberry32.js';
import { cloneFilterState, newFilterState } from './helpers/filter-state.js';
import { rejects } from './helpers/rejects.js';

const BACKENDS = TEST_BACKENDS;
const K = 4;
const V = 8;
const H = 6;
const BETA = 0.05;
const ALPHA = 0.3;
const S = 8;
const MODES: KernelMode[] = ['lda', 'lla', 'word-lla'];

/** Without the copy component, and with one whose window the sequences overrun. */
const COPIES: Array<{ label: string; copy?: CopyParameters }> = [
  { label: 'no copy' },
  {
    label: 'copy, window 3',
    copy: { decay: 0.7, window: 3, rate: Float64Array.of(0.2, 0.9, 0.5, 0.4), mass: Float64Array.of(0, 2, 0.5, 1) },
  },
];

/** repeat: [V] r_w in [0.05, 0.65), fixed. */
const REPEAT = Float64Array.from(
  { length: V },
  (() => {
    const random = mulberry32(23);
    return () => 0.05 + 0.6 * random();
  })(),
);

/** repeat: [V][3] r(w, L) in [0.05, 0.9), fixed; column L-1 for runs of L (3 or more for the last). */
const REPEAT_3 = Float64Array.from(
  { length: V * 3 },
  (() => {
    const random = mulberry32(31);
    return () => 0.05 + 0.85 * random();
  })(),
);

/** The repeat tables every property is checked with: R = 1 (one r_w per action) and R = 3. */
const TABLES: Array<{ label: string; repeat: Float64Array; R: number }> = [
  { label: 'R = 1', repeat: REPEAT, R: 1 },
  { label: 'R = 3', repeat: REPEAT_3, R: 3 },
];

/** r(w, L) of a [V][R] table: repeat[w * R + min(L, R) - 1]. */
const repeatOf = (repeat: Float64Array, w: number, L: number) => {
  const R = repeat.length / V;
  return repeat[w * R + Math.min(L, R) - 1];
};

/** The [V] table (R = 1) of r(w, L) for one L. */
const columnOf = (repeat: Float64Array, L: number) =>
  Float64Array.from({ length: V }, (_, w) => repeatOf(repeat, w, L));

/** log r as the kernel computes it (its own libm's log, which may differ from Math.log in the last bit). */
function assertLogOf(actual: number, r: number, message: string) {
  const expected = Math.log(r);
  assert.ok(
    Math.abs(actual - expected) <= 2 * Number.EPSILON * Math.abs(expected),
    `${message}: ${actual}, log ${expected}`,
  );
}

const model = (k: Kernel) =>
  randomFilterModel(k, { sequences: 16, maxLength: 12, topics: K, vocabulary: V, hidden: H, beta: BETA });

/** The filter arguments shared by particleFilter and filterStep, for one mode, copy component and repeat. */
function common(
  m: ReturnType<typeof model>,
  mode: KernelMode,
  copy: CopyParameters | undefined,
  repeat?: Float64Array,
) {
  return {
    mode,
    numTopics: K,
    vocabularySize: V,
    counts: m.counts,
    beta: BETA,
    alpha: ALPHA,
    weights: mode === 'lla' ? m.weights : mode === 'word-lla' ? m.wordWeights : undefined,
    particles: S,
    seed: 7,
    copy,
    repeat,
  };
}

/** A corpus whose actions come in runs: each random action repeated 1 to 6 times in a row. */
function corpusWithRuns(seed: number, D: number): Corpus {
  const random = mulberry32(seed);
  const base = randomCorpus(random, D, 8, V);
  const tokens: number[] = [];
  const offsets = [0];
  for (let d = 0; d < D; d++) {
    for (let i = base.offsets[d]; i < base.offsets[d + 1]; i++) {
      const run = 1 + Math.floor(random() * random() * 6);
      for (let r = 0; r < run; r++) tokens.push(base.tokens[i]);
    }
    offsets.push(tokens.length);
  }
  return { tokens: Int32Array.from(tokens), offsets: Int32Array.from(offsets), V };
}

/** A corpus with no action right after itself. */
function corpusWithoutRepeats(seed: number, D: number): Corpus {
  const base = randomCorpus(mulberry32(seed), D, 14, V);
  const tokens: number[] = [];
  const offsets = [0];
  for (let d = 0; d < D; d++) {
    for (let i = base.offsets[d]; i < base.offsets[d + 1]; i++) {
      if (i === base.offsets[d] || base.tokens[i] !== tokens[tokens.length - 1]) tokens.push(base.tokens[i]);
    }
    offsets.push(tokens.length);
  }
  return { tokens: Int32Array.from(tokens), offsets: Int32Array.from(offsets), V };
}

const newState = (k: Kernel, window: number): FilterState =>
  newFilterState(k, { particles: S, hidden: H, topics: K, window });
const cloneState = cloneFilterState;

/** Every array of a state, as plain numbers (for exact comparisons). */
function snapshot(state: FilterState): Record<string, number[]> {
  return Object.fromEntries(
    Object.entries(state).map(([name, array]) => [name, Array.from(array as ArrayLike<number>)]),
  );
}

/** particleFilter over a corpus: per-sequence log-likelihoods and the mixtures at every token position [T][K]. */
async function filter(
  k: Kernel,
  args: ReturnType<typeof common>,
  corpus: Corpus,
  threads: number,
): Promise<{ logLikelihood: number[]; mixtures: Float32Array }> {
  const D = corpus.offsets.length - 1;
  const T = corpus.tokens.length;
  const logLikelihood = k.allocFloat64(D);
  const mixtures = k.allocFloat32(T * K);
  await k.particleFilter({
    ...args,
    tokens: corpus.tokens,
    offsets: corpus.offsets,
    threads,
    logLikelihood,
    mixturePositions: Int32Array.from({ length: T }, (_, i) => i),
    mixtures,
  });
  return { logLikelihood: Array.from(logLikelihood), mixtures: Float32Array.from(mixtures) };
}

for (const backend of BACKENDS) {
  const title = `repeat blocks [${backend}]`;
  let cached: Kernel | undefined;
  const kernel = async (): Promise<Kernel> => (cached ??= await loadKernel({ backend }));

  test(`${title}: the ${backend} backend loaded`, async () => {
    const k = await kernel();
    assert.is(k.name, backend);
    assert.is(k.buildInfo().backend, backend);
  });

  test(`${title}: the predictive sums to one over the vocabulary, at every position and right after a repeat`, async () => {
    const k = await kernel();
    const m = model(k);
    // runs of 2 and 3, and a repeat of the first action
    const sequence = [2, 2, 5, 1, 1, 1, 1, 1, 3, 5, 0, 0, 6];
    for (const mode of MODES) {
      for (const { label: copyLabel, copy } of COPIES) {
        for (const { label: tableLabel, repeat } of TABLES) {
          const label = `${copyLabel}, ${tableLabel}`;
          const args = common(m, mode, copy, repeat);
          const state = newState(k, copy?.window ?? 0);
          let run = 0;
          for (let t = 0; t <= sequence.length; t++) {
            const logs = Array.from({ length: V }, (_, w) =>
              k.filterStep({ ...args, state: cloneState(k, state), action: w, sequenceIndex: 3 }),
            );
            const sum = logs.reduce((total, value) => total + Math.exp(value), 0);
            assert.ok(Math.abs(sum - 1) < 1e-12, `${mode}, ${label}: after ${t} actions the predictive sums to ${sum}`);
            if (t > 0) {
              // the previous action again is a repeat: log r(w, L), L the run so far
              const previous = sequence[t - 1];
              assertLogOf(logs[previous], repeatOf(repeat, previous, run), `${mode}, ${label}: position ${t} repeat`);
            }
            if (t < sequence.length) {
              k.filterStep({ ...args, state, action: sequence[t], sequenceIndex: 3 });
              run = t > 0 && sequence[t] === sequence[t - 1] ? run + 1 : 1;
              assert.is(state.runLength![0], run, `${mode}, ${label}: the run length after ${t + 1} actions`);
            }
          }
          // 13 actions in 7 blocks
          assert.is(state.position[0], 7, `${mode}, ${label}: the position counts blocks`);
        }
      }
    }
  });

  test(`${title}: a repeat scores log r(w, L) with L the run so far (1, 2, 3, 3, 3 for R = 3) and leaves the state but runLength; a new block sets it to 1`, async () => {
    const k = await kernel();
    const m = model(k);
    for (const mode of MODES) {
      for (const { label: copyLabel, copy } of COPIES) {
        for (const { label: tableLabel, repeat, R } of TABLES) {
          const label = `${copyLabel}, ${tableLabel}`;
          const args = common(m, mode, copy, repeat);
          const state = newState(k, copy?.window ?? 0);
          assert.is(state.runLength![0], 0, `${mode}, ${label}: a new state's run length`);
          const before = k.allocFloat32(K);
          for (const action of [4, 1, 3]) {
            k.filterStep({ ...args, state, action, sequenceIndex: 11, mixtureOut: before });
            assert.is(state.runLength![0], 1, `${mode}, ${label}: a new block's run length`);
          }
          const { runLength: _, ...kept } = snapshot(state);
          const after = k.allocFloat32(K);
          // five repeats of 3: runs of 1, 2, 3, 4, 5 so far
          for (let L = 1; L <= 5; L++) {
            // exactly the kernel's log of r(3, L) = repeat[3R + min(L, R) - 1]: the score of the same repeat with
            // the [V] table of that column
            const column = k.filterStep({
              ...args,
              repeat: columnOf(repeat, L),
              state: cloneState(k, state),
              action: 3,
              sequenceIndex: 11,
            });
            const logProbability = k.filterStep({ ...args, state, action: 3, sequenceIndex: 11, mixtureOut: after });
            const expected = repeat[3 * R + Math.min(L, R) - 1];
            assert.is(logProbability, column, `${mode}, ${label}: repeat after a run of ${L}, against its column`);
            assertLogOf(logProbability, expected, `${mode}, ${label}: repeat after a run of ${L}`);
            assert.is(state.runLength![0], L + 1, `${mode}, ${label}: the run length after repeat ${L}`);
            const { runLength: __, ...now } = snapshot(state);
            assert.equal(now, kept, `${mode}, ${label}: repeat ${L} changed the state`);
            assert.equal(Array.from(after), Array.from(before), `${mode}, ${label}: repeat ${L}'s next mixture`);
          }
          const total = Array.from(after).reduce((a, b) => a + b, 0);
          assert.ok(Math.abs(total - 1) < 1e-5, `${mode}, ${label}: the next block's mixture sums to ${total}`);
          // the next block starts where the run's first action left the state, and its log has 1 - r(3, 6)
          const other = cloneState(k, state);
          const startsBlock = k.filterStep({ ...args, state: cloneState(k, state), action: 0, sequenceIndex: 11 });
          const withR1 = k.filterStep({
            ...args,
            repeat: columnOf(repeat, 6),
            state: cloneState(k, state),
            action: 0,
            sequenceIndex: 11,
          });
          assert.is(startsBlock, withR1, `${mode}, ${label}: a new block after a run of 6 is scored with r(w, 6)`);
          k.filterStep({ ...args, state, action: 0, sequenceIndex: 11 });
          assert.is(state.position[0], 4);
          assert.is(state.previousAction[0], 0);
          assert.is(state.runLength![0], 1, `${mode}, ${label}: a new block sets the run length to 1`);
          assert.not.equal(snapshot(state), snapshot(other), `${mode}, ${label}: a new block moves the state`);
        }
      }
    }
  });

  test(`${title}: particleFilter over runs of repeats equals filterStep action by action (mixtures inside runs too)`, async () => {
    const k = await kernel();
    const m = model(k);
    const corpus = corpusWithRuns(5, 10);
    const D = corpus.offsets.length - 1;
    let repeats = 0,
      longRuns = 0;
    for (let d = 0; d < D; d++) {
      let run = 1;
      for (let i = corpus.offsets[d] + 1; i < corpus.offsets[d + 1]; i++) {
        run = corpus.tokens[i] === corpus.tokens[i - 1] ? run + 1 : 1;
        if (run > 1) repeats++;
        if (run === 5) longRuns++;
      }
    }
    assert.ok(repeats >= 10, `the corpus has ${repeats} repeats`);
    assert.ok(longRuns >= 2, `the corpus has ${longRuns} runs of 5 or more (longer than R = 3)`);
    for (const mode of MODES) {
      for (const [{ label: copyLabel, copy }, { label: tableLabel, repeat }] of COPIES.flatMap((c) =>
        TABLES.map((t) => [c, t] as const),
      )) {
        const label = `${copyLabel}, ${tableLabel}`;
        const args = common(m, mode, copy, repeat);
        const whole = await filter(k, args, corpus, 2);
        for (let d = 0; d < D; d++) {
          const state = newState(k, copy?.window ?? 0);
          const next = k.allocFloat32(K);
          let total = 0;
          for (let i = corpus.offsets[d]; i < corpus.offsets[d + 1]; i++) {
            if (i > corpus.offsets[d]) {
              // the filter's mixture before token i is the step before's next mixture, in a run or not
              for (let j = 0; j < K; j++) {
                assert.ok(
                  Math.abs(next[j] - whole.mixtures[i * K + j]) < 1e-7,
                  `${mode}, ${label}, sequence ${d}, position ${i}, topic ${j}: step ${next[j]}, filter ${whole.mixtures[i * K + j]}`,
                );
              }
            }
            total += k.filterStep({ ...args, state, action: corpus.tokens[i], sequenceIndex: d, mixtureOut: next });
          }
          assert.ok(
            Math.abs(total - whole.logLikelihood[d]) < 1e-9,
            `${mode}, ${label}, sequence ${d}: pieces ${total}, whole ${whole.logLikelihood[d]}`,
          );
        }
        const one = await filter(k, args, corpus, 1);
        assert.equal(one.logLikelihood, whole.logLikelihood, `${mode}, ${label}: 1 and 2 threads`);
        assert.equal(
          Array.from(one.mixtures),
          Array.from(whole.mixtures),
          `${mode}, ${label}: mixtures on 1 and 2 threads`,
        );
      }
    }
  });

  test(`${title}: without repeat the filter is deterministic and unchanged by blocks; with it, every new block is renormalised`, async () => {
    const k = await kernel();
    const m = model(k);
    const corpus = corpusWithoutRepeats(9, 10);
    const D = corpus.offsets.length - 1;
    for (const mode of MODES) {
      for (const { label, copy } of COPIES) {
        const without = await filter(k, common(m, mode, copy), corpus, 2);
        const again = await filter(k, common(m, mode, copy), corpus, 1);
        assert.equal(again.logLikelihood, without.logLikelihood, `${mode}, ${label}: two runs without repeat`);
        assert.equal(Array.from(again.mixtures), Array.from(without.mixtures), `${mode}, ${label}: their mixtures`);
        // null is absent
        const none = await filter(k, { ...common(m, mode, copy), repeat: null as unknown as undefined }, corpus, 1);
        assert.equal(none.logLikelihood, without.logLikelihood, `${mode}, ${label}: repeat null is no blocks`);
        for (const { label: tableLabel, repeat } of TABLES) {
          const blocks = await filter(k, common(m, mode, copy, repeat), corpus, 2);
          const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
          assert.ok(
            Math.abs(sum(blocks.logLikelihood) - sum(without.logLikelihood)) > 1e-3,
            `${mode}, ${label}, ${tableLabel}: blocks ${sum(blocks.logLikelihood)}, none ${sum(without.logLikelihood)}`,
          );
          for (let d = 0; d < D; d++) {
            const first = corpus.offsets[d];
            // a sequence's first action is scored as without blocks; a one-action sequence is the same number
            assert.equal(
              Array.from(blocks.mixtures.subarray(first * K, first * K + K)),
              Array.from(without.mixtures.subarray(first * K, first * K + K)),
              `${mode}, ${label}, sequence ${d}: the first mixture`,
            );
            if (corpus.offsets[d + 1] - first === 1)
              assert.is(
                blocks.logLikelihood[d],
                without.logLikelihood[d],
                `${mode}, ${label}: one-action sequence ${d}`,
              );
          }
        }
      }
    }
  });

  test(`${title}: a [V][R] table whose columns are equal is its [V] table, bit for bit`, async () => {
    const k = await kernel();
    const m = model(k);
    const corpus = corpusWithRuns(12, 10);
    const wide = Float64Array.from({ length: V * 4 }, (_, i) => REPEAT[Math.floor(i / 4)]);
    for (const mode of MODES) {
      for (const { label, copy } of COPIES) {
        const one = await filter(k, common(m, mode, copy, REPEAT), corpus, 2);
        const four = await filter(k, common(m, mode, copy, wide), corpus, 2);
        assert.equal(four.logLikelihood, one.logLikelihood, `${mode}, ${label}: log-likelihoods`);
        assert.equal(Array.from(four.mixtures), Array.from(one.mixtures), `${mode}, ${label}: mixtures`);
      }
    }
  });

  test(`${title}: without repeat, filterStep needs no runLength and keeps one it is given`, async () => {
    const k = await kernel();
    const m = model(k);
    for (const mode of MODES) {
      const args = common(m, mode, undefined);
      const kept = newState(k, 0);
      const { runLength: _, ...bare } = newState(k, 0);
      const runs: number[] = [];
      for (const action of [2, 2, 2, 5, 1, 1]) {
        const a = k.filterStep({ ...args, state: kept, action, sequenceIndex: 4 });
        const b = k.filterStep({ ...args, state: bare, action, sequenceIndex: 4 });
        assert.is(a, b, `${mode}: the run length changes nothing without repeat`);
        runs.push(kept.runLength![0]);
      }
      assert.equal(runs, [1, 2, 3, 1, 1, 2], `${mode}: the run lengths`);
    }
  });

  test(`${title}: a bad repeat throws, naming it, on particleFilter and filterStep`, async () => {
    const k = await kernel();
    const m = model(k);
    const args = common(m, 'lla', undefined);
    const run = (repeat: unknown) =>
      k.particleFilter({
        ...args,
        repeat: repeat as Float64Array,
        tokens: Int32Array.of(1, 1, 2),
        offsets: Int32Array.of(0, 3),
        threads: 1,
        logLikelihood: new Float64Array(1),
      });
    const withValue = (w: number, value: number) => {
      const repeat = Float64Array.from(REPEAT);
      repeat[w] = value;
      return repeat;
    };
    const cases: Array<[string, unknown, RegExp]> = [
      ['V-1 values', REPEAT.subarray(0, V - 1), /repeat has length 7, not V \* R with V = 8 and R in \[1, 64\]/],
      ['V+1 values', Float64Array.from([...REPEAT, 0.5]), /repeat has length 9, not V \* R/],
      ['3V-1 values', REPEAT_3.subarray(0, 3 * V - 1), /repeat has length 23, not V \* R/],
      ['no values', new Float64Array(0), /repeat has length 0, not V \* R/],
      ['R = 65', new Float64Array(65 * V).fill(0.5), /repeat has length 520, not V \* R.*R in \[1, 64\]/],
      ['a Float32Array', Float32Array.from(REPEAT), /repeat.*Float64Array/],
      ['an array', Array.from(REPEAT), /repeat.*Float64Array/],
      ['r = 0', withValue(2, 0), /repeat ?\[2\].*\(0, 1\).*strictly between 0 and 1/],
      ['r = 1', withValue(5, 1), /repeat ?\[5\].*\(0, 1\).*strictly between 0 and 1/],
      ['r NaN', withValue(0, NaN), /repeat ?\[0\].*\(0, 1\)/],
      ['r negative', withValue(7, -0.5), /repeat ?\[7\].*\(0, 1\)/],
      [
        'R = 3, r(2, 2) = 1',
        (() => {
          const repeat = Float64Array.from(REPEAT_3);
          repeat[2 * 3 + 1] = 1;
          return repeat;
        })(),
        /repeat ?\[7\].*\(0, 1\)/,
      ],
    ];
    // filterStep checks the table's shape, and the values of the one row it reads: its previous action's
    const badRow: Record<string, number> = { 'r = 0': 2, 'r = 1': 5, 'r NaN': 0, 'r negative': 7 };
    badRow['R = 3, r(2, 2) = 1'] = 2;
    for (const [label, repeat, pattern] of cases) {
      await rejects(() => run(repeat), pattern);
      const state = newState(k, 0);
      state.previousAction[0] = badRow[label] ?? -1;
      state.position[0] = badRow[label] === undefined ? 0 : 1;
      state.runLength![0] = badRow[label] === undefined ? 0 : 1;
      assert.throws(
        () => k.filterStep({ ...args, repeat: repeat as Float64Array, state, action: 1, sequenceIndex: 0 }),
        (error: Error) => pattern.test(error.message),
        `filterStep, ${label}`,
      );
      assert.is(state.position[0], badRow[label] === undefined ? 0 : 1, `filterStep, ${label}: the state is untouched`);
      if (badRow[label] !== undefined) {
        // a bad value in a row this step does not read is not this step's business
        const elsewhere = newState(k, 0);
        k.filterStep({ ...args, repeat: repeat as Float64Array, state: elsewhere, action: 1, sequenceIndex: 0 });
        assert.is(elsewhere.position[0], 1, `filterStep, ${label}: a step from the start reads no row`);
      }
    }
    // the bounds' neighbours work, and R = 64
    await run(withValue(1, Number.MIN_VALUE));
    await run(withValue(1, 1 - 2 ** -53));
    await run(new Float64Array(64 * V).fill(0.5));
  });

  test(`${title}: filterStep with repeat needs state.runLength, an Int32Array [1] in [0, tokens]; errors name it`, async () => {
    const k = await kernel();
    const m = model(k);
    for (const repeat of [REPEAT, REPEAT_3]) {
      const args = common(m, 'lla', undefined, repeat);
      const step = (runLength: unknown) => {
        const state = { ...newState(k, 0), runLength: runLength as Int32Array };
        if (runLength === 'absent') delete state.runLength;
        return () => k.filterStep({ ...args, state, action: 1, sequenceIndex: 0 });
      };
      const cases: Array<[string, unknown, RegExp]> = [
        ['absent', 'absent', /state\.runLength is missing/],
        ['undefined', undefined, /state\.runLength is missing/],
        ['a Float64Array', new Float64Array(1), /state\.runLength.*Int32Array/],
        ['empty', new Int32Array(0), /state\.runLength.*(at least 1|length)/],
        ['negative', Int32Array.of(-1), /state\.runLength/],
      ];
      for (const [label, runLength, pattern] of cases) {
        assert.throws(step(runLength), (error: Error) => pattern.test(error.message), `runLength ${label}`);
      }
      step(Int32Array.of(0))();
    }
  });
}

test('repeat blocks: native and WASM give the same numbers with repeat, R = 1 and 3 (lda within 1e-12, the LSTM modes 1e-4), threads 1 and 2', async () => {
  if (BACKENDS.length < 2) return;
  const [native, wasm, plain] = await Promise.all([
    loadKernel({ backend: 'native' }),
    loadKernel({ backend: 'wasm' }),
    loadWasmKernel({ shared: false }),
  ]);
  assert.is(native.name, 'native');
  assert.is(wasm.name, 'wasm');
  assert.is(plain.buildInfo().threads, false);
  const corpus = corpusWithRuns(8, 24);
  for (const mode of MODES) {
    for (const [{ label: copyLabel, copy }, { label: tableLabel, repeat }] of COPIES.flatMap((c) =>
      TABLES.map((t) => [c, t] as const),
    )) {
      const label = `${copyLabel}, ${tableLabel}`;
      const results = [];
      for (const k of [native, wasm, plain]) {
        for (const threads of [1, 2])
          results.push(await filter(k, common(model(k), mode, copy, repeat), corpus, threads));
      }
      // the draws agree; each step's log comes from each backend's own libm, the LSTM from its own float code
      const tolerance = mode === 'lda' ? 1e-12 : 1e-4;
      const mixtureTolerance = mode === 'lda' ? 1e-6 : 1e-4;
      for (const result of results.slice(1)) {
        result.logLikelihood.forEach((value, d) => {
          const expected = results[0].logLikelihood[d];
          assert.ok(
            Math.abs(value - expected) < tolerance * Math.max(1, Math.abs(expected)),
            `${mode}, ${label}: sequence ${d}: ${value} against native ${expected}`,
          );
        });
        result.mixtures.forEach((value, i) =>
          assert.ok(
            Math.abs(value - results[0].mixtures[i]) < mixtureTolerance,
            `${mode}, ${label}: mixture ${i}: ${value} against native ${results[0].mixtures[i]}`,
          ),
        );
      }
      // within a backend, threads and memory kind change nothing
      assert.equal(results[1].logLikelihood, results[0].logLikelihood, `${mode}, ${label}: native threads`);
      for (const result of results.slice(3))
        assert.equal(result.logLikelihood, results[2].logLikelihood, `${mode}, ${label}: wasm threads and memory`);
    }
  }
  await plain.close();
});

test.run();
