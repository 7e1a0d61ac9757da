// The one limits table (KERNEL_LIMITS in src/kernels/limits-table.ts): the C++ addon and both WASM builds were compiled
// with the same bounds; every entry point works at each bound on both backends and refuses one step past it with an
// Error that names the argument and the limit (checked once, in src/kernels/limits.ts, and again by the addon's own
// C++ checks); at the bounds of the priors and the stream indices both backends still draw the same samples.
import { createRequire } from 'node:module';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadKernel } from '../src/kernels/loader.js';
import {
  KernelLimitError,
  checkKernelLimits,
  kernelArgumentChecks,
  kernelLimitProblem,
  type BuiltLimits,
} from '../src/kernels/limits.js';
import { loadNativeKernel } from '../src/kernels/native.js';
import {
  KERNEL_LIMITS,
  type AliasTables,
  type BackendName,
  type CellWeights,
  type CountTables,
  type FilterArgs,
  type FilterState,
  type Kernel,
  type KernelLimitName,
  type KernelMode,
  type SweepArgs,
} from '../src/kernels/types.js';
import { loadWasmKernel, type WasmKernel } from '../src/kernels/wasm.js';

const BACKENDS: BackendName[] = (process.env.LLA_TEST_BACKENDS?.split(',') as BackendName[] | undefined) ?? [
  'native',
  'wasm',
];
const L = KERNEL_LIMITS;

/** Expects `run` to throw (or reject) an Error naming `argument` and the kernel limit on `limit`. */
async function refused(label: string, limit: KernelLimitName, argument: string, run: () => unknown): Promise<void> {
  let failure: unknown;
  try {
    await run();
  } catch (error) {
    failure = error;
  }
  assert.ok(failure instanceof Error, `${label}: should fail with an Error`);
  const message = (failure as Error).message;
  assert.ok(
    message.includes(`${argument} must be`) && message.includes(`kernel limit on ${limit}`),
    `${label}: the message names ${argument} and the ${limit} limit: ${message}`,
  );
}

/** A small corpus over V actions and K topics in the kernel's memory, with its word index and tables. */
function corpus(k: Kernel, K: number, V: number, beta = 0.1) {
  // the last action and the last topic appear, so the largest row and topic ids are used
  const tokenList = [0, V - 1, 1 % V, 0, V - 1, 0];
  const topicList = [0, K - 1, K >> 1, 1 % K, K - 1, 0];
  const T = tokenList.length;
  const tokens = k.allocInt32(T),
    topics = k.allocInt32(T);
  tokens.set(tokenList);
  topics.set(topicList);
  const offsets = Int32Array.from([0, 2, 2, 6]);
  const wordOffsets = k.allocInt32(V + 1);
  for (const w of tokenList) wordOffsets[w + 1]++;
  for (let w = 0; w < V; w++) wordOffsets[w + 1] += wordOffsets[w];
  const wordTokens = k.allocInt32(T);
  const fill = new Map<number, number>();
  tokenList.forEach((w, t) => {
    const next = fill.get(w) ?? wordOffsets[w];
    wordTokens[next] = t;
    fill.set(w, next + 1);
  });
  const counts: CountTables = {
    rowOffsets: k.allocInt32(V + 1),
    rowTopics: k.allocInt32(T),
    rowCounts: k.allocInt32(T),
    topicTotals: k.allocInt32(K),
  };
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
  return { T, K, V, tokens, topics, offsets, wordOffsets, wordTokens, counts, alias, nnz };
}
type Corpus = ReturnType<typeof corpus>;

/**
 * Cell weights in [-0.5, 0.5) from a multiplicative hash of each index and a seed: cheap enough for the 64M
 * recurrent weights of 4,096 hidden units (a generator called per value took seconds).
 */
function weights(rows: number, K: number, H: number, seed = 5): CellWeights {
  let part = seed;
  const fill = (n: number) => {
    const values = new Float32Array(n);
    const salt = Math.imul(++part, 0x9e3779b1);
    for (let i = 0; i < n; i++) values[i] = (Math.imul(i ^ salt, 0x85ebca6b) >>> 0) / 2 ** 32 - 0.5;
    return values;
  };
  return {
    hidden: H,
    inputTable: fill(rows * 4 * H),
    recurrent: fill(4 * H * H),
    gateBias: fill(4 * H),
    outputWeights: fill(K * H),
    outputBias: fill(K),
  };
}

/** The lla cell of 4,096 hidden units over K = 2 topics (256 MiB of recurrent weights), made once. */
let widestCell: CellWeights | undefined;
const widest = (): CellWeights => (widestCell ??= weights(3, 2, L.hidden.max));

function sweepArgs(c: Corpus, mode: KernelMode, extra: Partial<SweepArgs> = {}): SweepArgs {
  return {
    mode,
    exact: false,
    mhSteps: 2,
    proposals: 'cycle',
    numTopics: c.K,
    vocabularySize: c.V,
    tokens: c.tokens,
    offsets: c.offsets,
    topicsPrev: c.topics,
    topicsNext: new Int32Array(c.T),
    counts: c.counts,
    alias: c.alias,
    beta: 0.1,
    alpha: 0.1,
    sequenceSmoothing: 0.1,
    seed: 3,
    iteration: 1,
    threads: 1,
    ...extra,
  };
}

function filterArgs(c: Corpus, mode: KernelMode, extra: Partial<FilterArgs> = {}): FilterArgs {
  return {
    mode,
    numTopics: c.K,
    vocabularySize: c.V,
    tokens: c.tokens,
    offsets: c.offsets,
    counts: c.counts,
    beta: 0.1,
    alpha: 0.1,
    particles: 4,
    seed: 3,
    threads: 1,
    logLikelihood: new Float64Array(3),
    ...extra,
  };
}

function filterState(S: number, K: number, H: number): FilterState {
  return {
    position: new Int32Array(1),
    previousAction: Int32Array.of(-1),
    weights: new Float64Array(S).fill(1 / S),
    previousTopic: new Int32Array(S).fill(-1),
    hiddenState: new Float32Array(S * H),
    cellState: new Float32Array(S * H),
    topicCounts: new Int32Array(S * K),
  };
}

/** A sweep's output is a valid assignment and its logPhi finite. */
async function sweeps(k: Kernel, args: SweepArgs, label: string): Promise<Int32Array> {
  const topicsNext = new Int32Array(args.tokens.length);
  const result = await k.sweep({ ...args, topicsNext });
  assert.ok(Number.isFinite(result.logPhi) && result.logPhi <= 0, `${label}: logPhi ${result.logPhi}`);
  assert.ok(
    topicsNext.every((z) => z >= 0 && z < args.numTopics),
    `${label}: topics in range`,
  );
  return topicsNext;
}

async function filters(k: Kernel, args: FilterArgs, label: string): Promise<Float64Array> {
  const logLikelihood = new Float64Array(args.offsets.length - 1);
  await k.particleFilter({ ...args, logLikelihood });
  assert.ok(
    logLikelihood.every((x) => Number.isFinite(x) && x <= 0),
    `${label}: log-likelihoods ${Array.from(logLikelihood)}`,
  );
  return logLikelihood;
}

// ---------------------------------------------------------------- the table and its copies

test('the table: every limit frozen, min <= max, whole-number limits exact in a double, a reason for each', () => {
  assert.ok(Object.isFrozen(KERNEL_LIMITS));
  for (const [name, limit] of Object.entries(KERNEL_LIMITS)) {
    assert.ok(Object.isFrozen(limit), `${name} frozen`);
    assert.ok(limit.min <= limit.max, `${name}: min <= max`);
    if (limit.integer)
      assert.ok(Number.isSafeInteger(limit.min) && Number.isSafeInteger(limit.max), `${name}: safe integers`);
    assert.ok(limit.reason.length > 20 && !limit.reason.includes('\n'), `${name}: a one-line reason`);
  }
});

test('the native addon and both WASM builds were compiled with the limits of the table', async () => {
  const expected = Object.fromEntries(
    Object.entries(KERNEL_LIMITS).map(([name, { min, max }]) => [name, { min, max }]),
  );
  const builds: Array<[string, () => Promise<BuiltLimits>]> = [];
  if (BACKENDS.includes('native'))
    builds.push(['native (native/limits.h)', async () => loadNativeKernel().builtLimits()]);
  if (BACKENDS.includes('wasm')) {
    for (const shared of [true, false]) {
      builds.push([
        `wasm, ${shared ? 'shared' : 'plain'} memory (assembly/limits.ts)`,
        async () => {
          const kernel = await loadWasmKernel({ shared });
          try {
            return kernel.builtLimits();
          } finally {
            await kernel.close();
          }
        },
      ]);
    }
  }
  for (const [build, limits] of builds) assert.equal(await limits(), expected, build);
});

test('kernelLimitProblem and checkKernelLimits accept each bound and refuse what lies past it', () => {
  for (const [name, limit] of Object.entries(KERNEL_LIMITS) as Array<
    [KernelLimitName, (typeof KERNEL_LIMITS)[KernelLimitName]]
  >) {
    assert.is(kernelLimitProblem(name, limit.min), undefined, `${name} = min`);
    assert.is(kernelLimitProblem(name, limit.max), undefined, `${name} = max`);
    // a real limit from 0 (copyDecay) has nothing between 0 and its minimum: step below it instead
    const outside = limit.integer
      ? [limit.min - 1, limit.max + 1, limit.min + 0.5]
      : limit.min > 0
        ? [limit.min / 2, limit.max * 2, 0]
        : [limit.min - 0.5, limit.max * 2];
    for (const value of [...outside, Number.NaN, Infinity, `${limit.min}`, undefined, null]) {
      const problem = kernelLimitProblem(name, value);
      assert.ok(
        problem !== undefined && problem.includes(`[${limit.min}, ${limit.max}]`) && problem.includes(limit.reason),
        `${name} = ${String(value)}: ${problem}`,
      );
    }
  }
  checkKernelLimits({ topics: 50, particles: 65536, threads: 0, beta: 0.01 }, 'lla train');
  try {
    checkKernelLimits({ topics: 50, particles: 65537 }, 'lla train');
    assert.unreachable('65537 particles passed');
  } catch (error) {
    assert.instance(error, KernelLimitError);
    const failure = error as KernelLimitError;
    assert.is(failure.limit, 'particles');
    assert.is(failure.value, 65537);
    assert.match(failure.message, /^lla train: particles must be a whole number in \[1, 65536\], got number 65537/);
  }
  assert.throws(() => checkKernelLimits({ toString: 3 } as never), /'toString' is not a kernel limit/);
});

test('a token or sequence count past int32 is refused before any call (a typed array reporting that length)', async () => {
  // an array of 2^31 - 1 elements would take 8 GiB: a view that reports that many is enough for the check
  const reporting = (length: number) =>
    class extends Int32Array {
      override get length(): number {
        return length;
      }
    };
  const Long = reporting(L.tokens.max + 1),
    LongOffsets = reporting(L.sequences.max + 2);
  const checks = kernelArgumentChecks('test');
  const base = {
    mode: 'lda',
    exact: true,
    proposals: 'cycle',
    numTopics: 2,
    vocabularySize: 2,
    topicsPrev: new Int32Array(1),
    topicsNext: new Int32Array(1),
    beta: 0.1,
    alpha: 0.1,
    sequenceSmoothing: 0.1,
    seed: 1,
    iteration: 1,
    threads: 1,
  } as unknown as SweepArgs;
  await refused('sweep tokens', 'tokens', 'the token count', () =>
    checks.sweep({ ...base, tokens: new Long(1), offsets: Int32Array.of(0, 1) }),
  );
  await refused('sweep offsets', 'sequences', 'the sequence count (offsets.length - 1)', () =>
    checks.sweep({ ...base, tokens: new Int32Array(1), offsets: new LongOffsets(2) }),
  );
  await refused('lstmSteps inputs', 'tokens', 'the token count', () =>
    checks.lstmSteps(weights(3, 2, 2), new Long(1), new Float32Array(2), new Float32Array(2)),
  );
});

// ---------------------------------------------------------------- every bound on each backend

for (const backend of BACKENDS) {
  const title = `limits [${backend}]`;
  // a kernel of its own: the large calls below grow the WASM memory, which is then released with it
  let cached: Kernel | undefined;
  const kernel = async (): Promise<Kernel> =>
    (cached ??= backend === 'wasm' ? await loadWasmKernel() : await loadKernel({ backend }));
  test.after(async () => {
    if (cached !== undefined && backend === 'wasm') await (cached as WasmKernel).close();
  });

  test(`${title}: 2^20 topics work in every entry point that takes K; one more is refused`, async () => {
    const k = await kernel();
    const K = L.topics.max;
    const c = corpus(k, K, 5);
    assert.is(c.counts.topicTotals[K - 1], 2);
    const drawn = new Int32Array(c.T);
    k.randomTopics(c.offsets, drawn, K, 9);
    assert.ok(drawn.every((z) => z >= 0 && z < K));
    for (const exact of [false, true]) await sweeps(k, sweepArgs(c, 'lda', { exact }), `lda exact=${exact}`);
    const cell = weights(K + 1, K, 2);
    for (const exact of [false, true])
      await sweeps(k, sweepArgs(c, 'lla', { exact, weights: cell }), `lla exact=${exact}`);
    await filters(k, filterArgs(c, 'lda', { particles: 2 }), 'lda filter');
    const state = filterState(2, K, 0);
    const step = {
      mode: 'lda' as KernelMode,
      numTopics: K,
      vocabularySize: 5,
      counts: c.counts,
      beta: 0.1,
      alpha: 0.1,
      particles: 2,
      seed: 3,
      state,
      action: 4,
      sequenceIndex: 0,
      mixtureOut: new Float32Array(K),
    };
    assert.ok(Number.isFinite(k.filterStep(step)));
    // past it (the arrays stay those of K: the limit is checked first)
    const over = K + 1;
    await refused('randomTopics', 'topics', 'numTopics', () => k.randomTopics(c.offsets, drawn, over, 9));
    await refused('buildCounts', 'topics', 'numTopics', () =>
      k.buildCounts(c.tokens, c.wordOffsets, c.wordTokens, c.topics, over, c.counts),
    );
    await refused('buildAlias', 'topics', 'numTopics', () => k.buildAlias(c.counts, over, 0.1, c.alias));
    await refused('sweep', 'topics', 'numTopics', () => k.sweep(sweepArgs(c, 'lda', { numTopics: over })));
    await refused('particleFilter', 'topics', 'numTopics', () =>
      k.particleFilter(filterArgs(c, 'lda', { numTopics: over })),
    );
    await refused('filterStep', 'topics', 'numTopics', () => k.filterStep({ ...step, numTopics: over }));
    // transitions need sums [K][K]: at 2^20 topics that is 2^40 doubles, which no caller can allocate
    await refused('topicTransitions', 'topics', 'numTopics', () =>
      k.topicTransitions(c.offsets, c.topics, cell, over, new Float64Array(4), new Float64Array(2)),
    );
  });

  test(`${title}: 2^24 actions work; one more is refused`, async () => {
    const k = await kernel();
    const V = L.vocabulary.max;
    const c = corpus(k, 4, V);
    assert.is(c.counts.rowCounts[c.counts.rowOffsets[V - 1]], 2, 'the last action has its row');
    await sweeps(k, sweepArgs(c, 'lda'), 'lda sweep');
    await filters(k, filterArgs(c, 'lda'), 'lda filter');
    const state = filterState(4, 4, 0);
    assert.ok(
      Number.isFinite(
        k.filterStep({
          mode: 'lda',
          numTopics: 4,
          vocabularySize: V,
          counts: c.counts,
          beta: 0.1,
          alpha: 0.1,
          particles: 4,
          seed: 3,
          state,
          action: V - 1,
          sequenceIndex: 0,
        }),
      ),
    );
    await refused('sweep', 'vocabulary', 'vocabularySize', () =>
      k.sweep(sweepArgs(c, 'lda', { vocabularySize: V + 1 })),
    );
    await refused('particleFilter', 'vocabulary', 'vocabularySize', () =>
      k.particleFilter(filterArgs(c, 'lda', { vocabularySize: V + 1 })),
    );
    const longer = new Int32Array(V + 2);
    longer.set(c.wordOffsets);
    longer[V + 1] = c.T;
    await refused('buildCounts', 'vocabulary', 'wordOffsets.length - 1', () =>
      k.buildCounts(c.tokens, longer, c.wordTokens, c.topics, 4, c.counts),
    );
    await refused('buildAlias', 'vocabulary', 'counts.rowOffsets.length - 1', () =>
      k.buildAlias({ ...c.counts, rowOffsets: longer }, 4, 0.1, c.alias),
    );
  });

  test(`${title}: 4,096 hidden units work in the cell, the sweep and the filter; one more is refused`, async () => {
    const k = await kernel();
    const H = L.hidden.max,
      K = 2;
    const c = corpus(k, K, 3);
    const cell = widest();
    const hiddenOut = new Float32Array(2 * H),
      cellOut = new Float32Array(2 * H);
    k.lstmSteps(cell, Int32Array.of(K, 0), hiddenOut, cellOut);
    assert.ok(hiddenOut.every((h) => Number.isFinite(h) && Math.abs(h) < 1) && hiddenOut.some((h) => h !== 0));
    await sweeps(k, sweepArgs(c, 'lla', { weights: cell, exact: true }), 'lla sweep');
    await filters(k, filterArgs(c, 'lla', { weights: cell, particles: 2 }), 'lla filter');
    const sums = new Float64Array(K * K),
      rowCounts = new Float64Array(K);
    k.topicTransitions(c.offsets, c.topics, cell, K, sums, rowCounts);
    assert.ok(sums.every(Number.isFinite));
    const over = { ...cell, hidden: H + 1 };
    await refused('lstmSteps', 'hidden', 'weights.hidden', () =>
      k.lstmSteps(over, Int32Array.of(0), hiddenOut, cellOut),
    );
    await refused('sweep', 'hidden', 'weights.hidden', () => k.sweep(sweepArgs(c, 'lla', { weights: over })));
    await refused('particleFilter', 'hidden', 'weights.hidden', () =>
      k.particleFilter(filterArgs(c, 'lla', { weights: over })),
    );
    await refused('topicTransitions', 'hidden', 'weights.hidden', () =>
      k.topicTransitions(c.offsets, c.topics, over, K, sums, rowCounts),
    );
  });

  test(`${title}: 2^16 particles work in the filter and a session; one more is refused`, async () => {
    const k = await kernel();
    const S = L.particles.max,
      K = 3,
      H = 2;
    const c = corpus(k, K, 4);
    const cell = weights(K + 1, K, H);
    for (const mode of ['lda', 'lla'] as KernelMode[]) {
      const extra = { particles: S, weights: mode === 'lla' ? cell : undefined };
      await filters(k, filterArgs(c, mode, extra), `${mode} filter`);
      const state = filterState(S, K, H);
      assert.ok(
        Number.isFinite(
          k.filterStep({
            mode,
            numTopics: K,
            vocabularySize: 4,
            counts: c.counts,
            beta: 0.1,
            alpha: 0.1,
            ...extra,
            seed: 3,
            state,
            action: 1,
            sequenceIndex: 0,
          }),
        ),
      );
      assert.ok(state.previousTopic.every((z) => z >= 0 && z < K));
      await refused(`${mode} particleFilter`, 'particles', 'particles', () =>
        k.particleFilter(filterArgs(c, mode, { ...extra, particles: S + 1 })),
      );
      await refused(`${mode} filterStep`, 'particles', 'particles', () =>
        k.filterStep({
          mode,
          numTopics: K,
          vocabularySize: 4,
          counts: c.counts,
          beta: 0.1,
          alpha: 0.1,
          ...extra,
          particles: S + 1,
          seed: 3,
          state: filterState(S + 1, K, H),
          action: 1,
          sequenceIndex: 0,
        }),
      );
    }
  });

  test(`${title}: 1,000 MH steps and 1,024 threads work; one more of either is refused`, async () => {
    const k = await kernel();
    const c = corpus(k, 6, 5);
    const many = await k.sweep({ ...sweepArgs(c, 'lda', { mhSteps: L.mhSteps.max }), topicsNext: new Int32Array(c.T) });
    assert.is(many.proposalsMade, c.T * L.mhSteps.max);
    const threads = L.threads.max;
    const one = await sweeps(k, sweepArgs(c, 'lda', { threads: 1 }), '1 thread');
    assert.equal(Array.from(await sweeps(k, sweepArgs(c, 'lda', { threads }), `${threads} threads`)), Array.from(one));
    await filters(k, filterArgs(c, 'lda', { threads }), `filter on ${threads} threads`);
    assert.is(k.buildCounts(c.tokens, c.wordOffsets, c.wordTokens, c.topics, 6, c.counts, threads), c.nnz);
    k.buildAlias(c.counts, 6, 0.1, c.alias, threads);
    await refused('sweep mhSteps', 'mhSteps', 'mhSteps', () =>
      k.sweep(sweepArgs(c, 'lda', { mhSteps: L.mhSteps.max + 1 })),
    );
    await refused('sweep threads', 'threads', 'threads', () => k.sweep(sweepArgs(c, 'lda', { threads: threads + 1 })));
    await refused('particleFilter threads', 'threads', 'threads', () =>
      k.particleFilter(filterArgs(c, 'lda', { threads: threads + 1 })),
    );
    await refused('buildCounts threads', 'threads', 'threads', () =>
      k.buildCounts(c.tokens, c.wordOffsets, c.wordTokens, c.topics, 6, c.counts, threads + 1),
    );
    await refused('buildAlias threads', 'threads', 'threads', () =>
      k.buildAlias(c.counts, 6, 0.1, c.alias, threads + 1),
    );
  });

  test(`${title}: beta, alpha and the sequence smoothing at their bounds give finite results; past them they are refused`, async () => {
    const k = await kernel();
    const c = corpus(k, 4, 5);
    const cell = weights(5, 4, 2);
    for (const [name, value] of [
      ['beta', L.beta.min],
      ['beta', L.beta.max],
      ['alpha', L.alpha.min],
      ['alpha', L.alpha.max],
      ['sequenceSmoothing', L.sequenceSmoothing.min],
      ['sequenceSmoothing', L.sequenceSmoothing.max],
    ] as Array<[KernelLimitName, number]>) {
      const label = `${name} = ${value}`;
      if (name === 'beta') k.buildAlias(c.counts, 4, value, c.alias);
      for (const mode of ['lda', 'lla'] as KernelMode[]) {
        for (const exact of [false, true]) {
          await sweeps(
            k,
            sweepArgs(c, mode, { [name]: value, exact, weights: cell, proposals: 'cycle' }),
            `${label} ${mode} exact=${exact}`,
          );
        }
        await filters(k, filterArgs(c, mode, { [name]: value, weights: cell }), `${label} ${mode} filter`);
      }
      k.buildAlias(c.counts, 4, 0.1, c.alias);
    }
    for (const [name, value] of [
      ['beta', L.beta.min / 1.5],
      ['beta', L.beta.max * 1.5],
      ['alpha', L.alpha.min / 1.5],
      ['alpha', L.alpha.max * 1.5],
      ['sequenceSmoothing', L.sequenceSmoothing.min / 1.5],
      ['sequenceSmoothing', L.sequenceSmoothing.max * 1.5],
    ] as Array<[KernelLimitName, number]>) {
      await refused(`sweep ${name} = ${value}`, name, name, () => k.sweep(sweepArgs(c, 'lda', { [name]: value })));
      if (name !== 'sequenceSmoothing') {
        await refused(`particleFilter ${name} = ${value}`, name, name, () =>
          k.particleFilter(filterArgs(c, 'lda', { [name]: value })),
        );
      }
      if (name === 'beta')
        await refused(`buildAlias beta = ${value}`, 'beta', 'beta', () => k.buildAlias(c.counts, 4, value, c.alias));
    }
    // alpha is lda's prior alone: the other modes take any value, as they ignore it
    await sweeps(k, sweepArgs(c, 'lla', { alpha: -1, weights: cell }), 'lla with alpha -1');
  });

  test(`${title}: seeds, iterations and stream indices up to 2^53 - 1 work; 2^53 is refused`, async () => {
    const k = await kernel();
    const c = corpus(k, 4, 5);
    const top = L.seed.max;
    k.randomStream(top, top, top, new Uint32Array(2));
    k.randomTopics(c.offsets, new Int32Array(c.T), 4, top);
    await sweeps(k, sweepArgs(c, 'lda', { seed: top, iteration: top }), 'sweep');
    await filters(k, filterArgs(c, 'lda', { seed: top }), 'filter');
    const step = {
      mode: 'lda' as KernelMode,
      numTopics: 4,
      vocabularySize: 5,
      counts: c.counts,
      beta: 0.1,
      alpha: 0.1,
      particles: 4,
      seed: top,
      state: filterState(4, 4, 0),
      action: 1,
      sequenceIndex: top,
    };
    assert.ok(Number.isFinite(k.filterStep(step)));
    const over = top + 1;
    await refused('randomStream seed', 'seed', 'seed', () => k.randomStream(over, 0, 0, new Uint32Array(2)));
    await refused('randomStream index', 'seed', 'index', () => k.randomStream(0, 0, over, new Uint32Array(2)));
    await refused('sweep iteration', 'seed', 'iteration', () => k.sweep(sweepArgs(c, 'lda', { iteration: over })));
    await refused('filterStep sequenceIndex', 'seed', 'sequenceIndex', () =>
      k.filterStep({ ...step, state: filterState(4, 4, 0), sequenceIndex: over }),
    );
  });
}

// ---------------------------------------------------------------- the backends agree at the bounds

if (BACKENDS.includes('native') && BACKENDS.includes('wasm')) {
  test('native and WASM draw the same lda samples at the prior bounds, and the same session at stream index 2^31 and 2^53 - 1', async () => {
    const native = await loadKernel({ backend: 'native' });
    const wasm = await loadWasmKernel();
    try {
      const tables = [corpus(native, 4, 5), corpus(wasm, 4, 5)];
      for (const extra of [
        { beta: L.beta.min },
        { beta: L.beta.max },
        { alpha: L.alpha.min },
        { alpha: L.alpha.max },
        { sequenceSmoothing: L.sequenceSmoothing.min },
        { sequenceSmoothing: L.sequenceSmoothing.max },
      ] as Array<Partial<SweepArgs>>) {
        if (extra.beta !== undefined)
          [native, wasm].forEach((k, i) => k.buildAlias(tables[i].counts, 4, extra.beta!, tables[i].alias));
        const [a, b] = [
          await sweeps(native, sweepArgs(tables[0], 'lda', extra), 'native'),
          await sweeps(wasm, sweepArgs(tables[1], 'lda', extra), 'wasm'),
        ];
        assert.equal(Array.from(b), Array.from(a), `lda samples with ${JSON.stringify(extra)}`);
        if (extra.beta !== undefined)
          [native, wasm].forEach((k, i) => k.buildAlias(tables[i].counts, 4, 0.1, tables[i].alias));
      }
      for (const sequenceIndex of [2 ** 31, 2 ** 32 + 5, L.seed.max]) {
        const states = [filterState(8, 4, 0), filterState(8, 4, 0)];
        const steps = [native, wasm].map((k, i) =>
          k.filterStep({
            mode: 'lda',
            numTopics: 4,
            vocabularySize: 5,
            counts: tables[i].counts,
            beta: 0.1,
            alpha: 0.1,
            particles: 8,
            seed: 11,
            state: states[i],
            action: 1,
            sequenceIndex,
          }),
        );
        assert.ok(
          Math.abs(steps[0] - steps[1]) < 1e-12,
          `log p at sequenceIndex ${sequenceIndex}: ${steps[0]} vs ${steps[1]}`,
        );
        assert.equal(
          Array.from(states[1].previousTopic),
          Array.from(states[0].previousTopic),
          `particles at sequenceIndex ${sequenceIndex}`,
        );
      }
    } finally {
      await wasm.close();
    }
  });
}

if (BACKENDS.includes('native')) {
  test("the addon's own C++ checks refuse each limit + 1 when called without the TypeScript checks", async () => {
    const binding = createRequire(import.meta.url)('../build/Release/lla_native.node') as Omit<Kernel, 'name'>;
    const k = await loadKernel({ backend: 'native' });
    const c = corpus(k, 4, 5);
    const cell = weights(5, 4, 2);
    const throwsNamed = async (label: string, argument: string, run: () => unknown) => {
      let failure: unknown;
      try {
        await run();
      } catch (error) {
        failure = error;
      }
      assert.ok(
        failure instanceof Error && failure.message.startsWith('lla native') && failure.message.includes(argument),
        `${label}: ${failure instanceof Error ? failure.message : String(failure)}`,
      );
    };
    await throwsNamed('topics', 'numTopics', () => binding.sweep(sweepArgs(c, 'lda', { numTopics: L.topics.max + 1 })));
    await throwsNamed('vocabulary', 'vocabularySize', () =>
      binding.sweep(sweepArgs(c, 'lda', { vocabularySize: L.vocabulary.max + 1 })),
    );
    await throwsNamed('mhSteps', 'mhSteps', () => binding.sweep(sweepArgs(c, 'lda', { mhSteps: L.mhSteps.max + 1 })));
    await throwsNamed('threads', 'threads', () => binding.sweep(sweepArgs(c, 'lda', { threads: L.threads.max + 1 })));
    await throwsNamed('beta', 'beta', () => binding.sweep(sweepArgs(c, 'lda', { beta: L.beta.max * 1.5 })));
    await throwsNamed('alpha', 'alpha', () => binding.sweep(sweepArgs(c, 'lda', { alpha: L.alpha.min / 1.5 })));
    await throwsNamed('smoothing', 'sequenceSmoothing', () =>
      binding.sweep(sweepArgs(c, 'lda', { sequenceSmoothing: L.sequenceSmoothing.max * 1.5 })),
    );
    await throwsNamed('seed', 'seed', () => binding.sweep(sweepArgs(c, 'lda', { seed: L.seed.max + 1 })));
    await throwsNamed('hidden', 'weights.hidden', () =>
      binding.lstmSteps(
        { ...cell, hidden: L.hidden.max + 1 },
        Int32Array.of(0),
        new Float32Array(2),
        new Float32Array(2),
      ),
    );
    await throwsNamed('particles', 'particles', () =>
      binding.particleFilter(filterArgs(c, 'lda', { particles: L.particles.max + 1 })),
    );
    // the limits themselves pass the C++ checks
    await binding.sweep({
      ...sweepArgs(c, 'lda', { threads: L.threads.max, mhSteps: L.mhSteps.max, seed: L.seed.max }),
      topicsNext: new Int32Array(c.T),
    });
  });
}

if (BACKENDS.includes('wasm')) {
  test('WASM: 2^16 particles of 4,096 hidden units need more than its 4 GiB: a clear Error, and the kernel goes on working', async () => {
    const k = await loadWasmKernel();
    try {
      const c = corpus(k, 2, 3);
      const cell = widest();
      let failure: unknown;
      try {
        await k.particleFilter(filterArgs(c, 'lla', { weights: cell, particles: L.particles.max }));
      } catch (error) {
        failure = error;
      }
      assert.instance(failure, Error);
      assert.match((failure as Error).message, /cannot allocate \d+ bytes: the linear memory would exceed its maximum/);
      await filters(k, filterArgs(c, 'lla', { weights: cell, particles: 2 }), 'afterwards');
    } finally {
      await k.close();
    }
  });
}

test.run();
