/**
 * The sampler benchmark behind `lla bench` (SPEC section 3): E-step throughput of one kernel backend on one
 * corpus, with random fixed LSTM weights (Glorot scale), so the sampler is measured without TF.js training.
 *
 * Set-up (not timed): random initial topics (kernel.randomTopics), the word-token index, kernel-allocated
 * count and alias tables, a first buildCounts + buildAlias, and the random cell weights.
 * Warm-up (not timed): `warmup` E-step iterations (default 1). The first sweep of a process pays one-time costs
 * that a training run pays once, not per iteration: the kernel's per-sweep buffers are allocated and first touched
 * (page faults), WASM worker threads are started, and JIT tiers settle. The chain goes on from the warm-up's topics.
 * Timed: `iterations` E-step iterations, each = buildCounts + buildAlias of the previous sweep's topics + one
 * sweep into the other topic buffer (double buffering). tokensPerSecond = tokens x iterations / timed seconds.
 */
import type { AliasTables, CellWeights, CountTables, Kernel, KernelMode, ProposalSchedule } from '../kernels/types.js';
import { allocAlias, allocCounts, groupTokensByAction, toKernelInt32 } from '../kernels/buffers.js';
import { GeneratorRandom } from '../generate/random.js';
import { InterruptedError } from '../errors.js';
import { DEFAULT_SETTINGS } from '../train/settings.js';

export const BENCH_MODES: readonly KernelMode[] = ['lda', 'lla', 'word-lla'];

/** The benchmark's settings unless asked otherwise (`lla bench`); the priors and sampler steps are training's. */
export const BENCH_DEFAULTS = Object.freeze({
  mode: 'lla' as KernelMode,
  topics: 100,
  threads: DEFAULT_SETTINGS.threads,
  iterations: 5,
  warmup: 1,
  seed: DEFAULT_SETTINGS.seed,
  hidden: DEFAULT_SETTINGS.hidden,
  mhSteps: DEFAULT_SETTINGS.mhSteps,
  alpha: DEFAULT_SETTINGS.alpha,
  beta: DEFAULT_SETTINGS.beta,
  sequenceSmoothing: DEFAULT_SETTINGS.sequenceSmoothing,
  // the paper's sampler, so that the benchmark's figures stay comparable across versions (--lookahead 1 for train's)
  lookahead: 0,
});

export interface BenchCorpus {
  /** offsets: [D+1] sequence d is tokens[offsets[d] .. offsets[d+1]) */
  offsets: Int32Array;
  /** tokens: [T] action ids 0..V-1 */
  tokens: Int32Array;
  vocabularySize: number;
}

export interface BenchSettings {
  mode: KernelMode;
  topics: number;
  /** 0 = all cores */
  threads: number;
  iterations: number;
  /** untimed iterations run first (default 1) */
  warmup?: number;
  seed: number;
  /** LSTM hidden size H (lla, word-lla) */
  hidden: number;
  mhSteps: number;
  exact: boolean;
  /** lla only: the E-step's lookahead factor (default false, the paper's sampler) */
  lookahead?: boolean;
  proposals?: ProposalSchedule;
  alpha?: number;
  beta?: number;
  sequenceSmoothing?: number;
  /**
   * Also run a second chain with this many threads, the two chains taking turns iteration by iteration, and report
   * it as `comparison`: a thread-scaling ratio measured side by side, where a slow spell of the machine weighs on
   * both alike (separate runs minutes apart differed by up to 20% here). The chains share the seed, so they sample
   * the same topics (checked at the end); the peak memory is that of both.
   */
  compareThreads?: number;
  /**
   * lla only: also run a second chain with the other lookahead setting (same threads and seed), turn about as with
   * compareThreads, so that the cost of lookahead is a ratio measured side by side. The chains sample different
   * topics (their conditionals differ), so only the speed is compared.
   */
  compareLookahead?: boolean;
  signal?: AbortSignal;
  /** called after each timed iteration */
  onIteration?: (iteration: number, seconds: number) => void;
}

export interface PhaseSeconds {
  /** set-up: index, tables, initial topics, weights, first counts and alias (not in tokensPerSecond) */
  setup: number;
  /** the untimed warm-up iterations (not in tokensPerSecond) */
  warmup: number;
  /** per-iteration count rebuilds, alias rebuilds and sweeps, summed over the timed iterations */
  counts: number;
  alias: number;
  sweep: number;
}

export interface BenchResult {
  backend: string;
  instructionSet: string;
  model: KernelMode;
  topics: number;
  /** threads asked for (0 = all cores), and what the kernel's build info says that means (1 without threads) */
  threads: number;
  threadsUsed: number;
  hidden: number | null;
  mhSteps: number;
  exact: boolean;
  lookahead: boolean;
  sequences: number;
  vocabulary: number;
  tokens: number;
  iterations: number;
  warmupIterations: number;
  /** timed seconds: sum over iterations of counts + alias + sweep */
  seconds: number;
  tokensPerSecond: number;
  /** tokens per second of the sweeps alone */
  sweepTokensPerSecond: number;
  phases: PhaseSeconds;
  /** accepted / made MH proposals over all timed sweeps; null in exact mode */
  acceptanceRate: number | null;
  /** non-zeros of the count table after the last rebuild */
  countNonZeros: number;
  /** mean log phi_{z,w} per token of the last sweep (a sanity figure: it rises as topics form) */
  logPhiPerToken: number;
  peakRssBytes: number;
  /** with compareThreads or compareLookahead: the comparison chain's figures, timed over the same iterations, turn
   * about */
  comparison?: ComparisonResult;
}

export interface ComparisonResult {
  threads: number;
  threadsUsed: number;
  /** the comparison chain's lookahead (the other setting with compareLookahead, else the main chain's) */
  lookahead: boolean;
  seconds: number;
  tokensPerSecond: number;
  sweepTokensPerSecond: number;
  phases: PhaseSeconds;
  /** tokensPerSecond of the main chain over that of the comparison chain */
  speedup: number;
}

/** Keras-style Glorot-uniform limit for a weight matrix with these fan-in and fan-out. */
function glorotLimit(fanIn: number, fanOut: number): number {
  return Math.sqrt(6 / (fanIn + fanOut));
}

/**
 * Random fixed LSTM weights in the CellWeights layout (src/kernels/types.ts): inputTable [R][4H] with R = K+1
 * (lla) or V+1 (word-lla), recurrent [4H][H], gateBias [4H] (forget gate 1, as Keras' unitForgetBias),
 * outputWeights [K][H], outputBias [K] zero. `alloc` places them where the kernel reads them in place.
 */
export function randomCellWeights(
  mode: KernelMode,
  numTopics: number,
  vocabularySize: number,
  hidden: number,
  seed: number,
  alloc: (length: number) => Float32Array = (n) => new Float32Array(n),
): CellWeights {
  if (mode === 'lda') throw new Error('randomCellWeights: the lda mode has no LSTM');
  if (!Number.isInteger(hidden) || hidden < 1) throw new Error(`randomCellWeights: hidden size ${hidden} must be >= 1`);
  const random = new GeneratorRandom(seed);
  const rows = mode === 'lla' ? numTopics + 1 : vocabularySize + 1;
  const gates = 4 * hidden;
  const fill = (array: Float32Array, limit: number) => {
    for (let i = 0; i < array.length; i += 1) array[i] = (2 * random.uniform() - 1) * limit;
    return array;
  };
  // allocate everything first: a growing WASM memory would detach views made before the last allocation
  const inputTable = alloc(rows * gates);
  const recurrent = alloc(gates * hidden);
  const gateBias = alloc(gates);
  const outputWeights = alloc(numTopics * hidden);
  const outputBias = alloc(numTopics);
  // the input table is a one-hot input times the input kernel: Glorot over (rows, 4H)
  fill(inputTable, glorotLimit(rows, gates));
  fill(recurrent, glorotLimit(hidden, gates));
  gateBias.fill(0);
  gateBias.fill(1, hidden, 2 * hidden);
  fill(outputWeights, glorotLimit(hidden, numTopics));
  outputBias.fill(0);
  return { hidden, inputTable, recurrent, gateBias, outputWeights, outputBias };
}

export function validateBenchSettings(settings: BenchSettings, corpus: BenchCorpus): void {
  const whole = (name: string, value: number, min: number) => {
    if (!Number.isInteger(value) || value < min)
      throw new RangeError(`bench: ${name} must be a whole number >= ${min}, got ${value}`);
  };
  if (!BENCH_MODES.includes(settings.mode))
    throw new RangeError(`bench: unknown mode '${settings.mode}'; use ${BENCH_MODES.join(', ')}`);
  whole('topics', settings.topics, 1);
  whole('threads', settings.threads, 0);
  if (settings.compareThreads !== undefined) whole('compareThreads', settings.compareThreads, 0);
  whole('iterations', settings.iterations, 1);
  whole('warmup', settings.warmup ?? BENCH_DEFAULTS.warmup, 0);
  whole('hidden', settings.hidden, 1);
  whole('mhSteps', settings.mhSteps, 1);
  whole('seed', settings.seed, 0);
  if ((settings.lookahead === true || settings.compareLookahead === true) && settings.mode !== 'lla') {
    throw new RangeError(`bench: lookahead applies to the lla mode only, not ${settings.mode}`);
  }
  if (settings.compareLookahead === true && settings.compareThreads !== undefined) {
    throw new RangeError('bench: compare either threads or lookahead in one run, not both');
  }
  whole('vocabularySize', corpus.vocabularySize, 1);
  if (corpus.tokens.length === 0) throw new RangeError('bench: the corpus has no tokens');
}

export function peakRssBytes(): number {
  return process.resourceUsage().maxRSS * 1024;
}

/** The time of each phase of one E-step iteration, in seconds. */
interface IterationTimes {
  counts: number;
  alias: number;
  sweep: number;
}

/**
 * One Markov chain of the benchmark: its topic buffers and tables, stepped one E-step iteration at a time. The
 * corpus arrays (and the word index) are shared between chains; everything a sweep writes is the chain's own.
 */
class BenchChain {
  /** topicsPrev, topicsNext: [T] the last sweep's topics and the next sweep's (swapped after each sweep) */
  private topicsPrev: Int32Array;
  private topicsNext: Int32Array;
  /** the count table of the last topics (capacity min(T, V K)) and its alias tables */
  private readonly counts: CountTables;
  private readonly alias: AliasTables;
  nonZeros = 0;
  proposalsMade = 0;
  proposalsAccepted = 0;
  logPhi = 0;

  constructor(
    private readonly kernel: Kernel,
    private readonly input: BenchInput,
    private readonly settings: BenchSettings,
    readonly threads: number,
    readonly lookahead: boolean,
  ) {
    const { tokens, offsets, wordOffsets, wordTokens, vocabularySize } = input;
    const numTopics = settings.topics;
    this.topicsPrev = kernel.allocInt32(tokens.length);
    this.topicsNext = kernel.allocInt32(tokens.length);
    const capacity = Math.min(tokens.length, vocabularySize * numTopics);
    this.counts = allocCounts(kernel, vocabularySize, numTopics, capacity);
    this.alias = allocAlias(kernel, vocabularySize, numTopics, capacity);
    kernel.randomTopics(offsets, this.topicsPrev, numTopics, settings.seed);
    // one untimed rebuild so that first-touch page faults of the tables are not billed to iteration 1
    kernel.buildCounts(tokens, wordOffsets, wordTokens, this.topicsPrev, numTopics, this.counts, threads);
    kernel.buildAlias(this.counts, numTopics, input.beta, this.alias, threads);
  }

  /** The topics of the last sweep. */
  get topics(): Int32Array {
    return this.topicsPrev;
  }

  /** One E-step iteration (number `iteration`, from 1): count and alias rebuilds of the last topics, one sweep. */
  async step(iteration: number, counted: boolean): Promise<IterationTimes> {
    const { kernel, settings, input } = this;
    const { tokens, offsets, wordOffsets, wordTokens, vocabularySize } = input;
    const numTopics = settings.topics;
    const started = performance.now();
    this.nonZeros = kernel.buildCounts(
      tokens,
      wordOffsets,
      wordTokens,
      this.topicsPrev,
      numTopics,
      this.counts,
      this.threads,
    );
    const rebuilt = performance.now();
    kernel.buildAlias(this.counts, numTopics, input.beta, this.alias, this.threads);
    const aliased = performance.now();
    const result = await kernel.sweep({
      mode: settings.mode,
      exact: settings.exact,
      mhSteps: settings.mhSteps,
      proposals: settings.proposals ?? 'cycle',
      numTopics,
      vocabularySize,
      tokens,
      offsets,
      topicsPrev: this.topicsPrev,
      topicsNext: this.topicsNext,
      counts: this.counts,
      alias: this.alias,
      beta: input.beta,
      alpha: input.alpha,
      sequenceSmoothing: settings.sequenceSmoothing ?? BENCH_DEFAULTS.sequenceSmoothing,
      weights: input.weights,
      seed: settings.seed,
      iteration,
      threads: this.threads,
      lookahead: this.lookahead,
    });
    const swept = performance.now();
    [this.topicsPrev, this.topicsNext] = [this.topicsNext, this.topicsPrev];
    if (counted) {
      this.proposalsMade += result.proposalsMade;
      this.proposalsAccepted += result.proposalsAccepted;
    }
    this.logPhi = result.logPhi;
    return { counts: (rebuilt - started) / 1000, alias: (aliased - rebuilt) / 1000, sweep: (swept - aliased) / 1000 };
  }
}

/** What the chains share: the corpus in kernel memory, its word index, the priors and the cell weights. */
interface BenchInput {
  tokens: Int32Array;
  offsets: Int32Array;
  wordOffsets: Int32Array;
  wordTokens: Int32Array;
  vocabularySize: number;
  alpha: number;
  beta: number;
  weights: CellWeights | undefined;
}

function threadsUsed(kernel: Kernel, threads: number): number {
  const info = kernel.buildInfo();
  return !info.threads ? 1 : threads === 0 ? info.maxThreads : threads;
}

export async function runSamplerBench(
  kernel: Kernel,
  corpus: BenchCorpus,
  settings: BenchSettings,
): Promise<BenchResult> {
  validateBenchSettings(settings, corpus);
  const { mode, topics: numTopics, iterations } = settings;
  const vocabularySize = corpus.vocabularySize;
  const info = kernel.buildInfo();

  const setupStarted = performance.now();
  // same allocation order as the training driver: corpus, index, topics, tables, weights
  const tokens = toKernelInt32(kernel, corpus.tokens);
  const offsets = toKernelInt32(kernel, corpus.offsets);
  const { wordOffsets, wordTokens } = groupTokensByAction(tokens, vocabularySize, (n) => kernel.allocInt32(n));
  const input: BenchInput = {
    tokens,
    offsets,
    wordOffsets,
    wordTokens,
    vocabularySize,
    alpha: settings.alpha ?? BENCH_DEFAULTS.alpha,
    beta: settings.beta ?? BENCH_DEFAULTS.beta,
    weights: undefined,
  };
  const lookahead = settings.lookahead === true;
  const chain = new BenchChain(kernel, input, settings, settings.threads, lookahead);
  // the comparison chain: the same seed, so the same topics at every step, whatever the thread counts (with the
  // other lookahead setting, other topics)
  const comparison =
    settings.compareThreads !== undefined
      ? new BenchChain(kernel, input, settings, settings.compareThreads, lookahead)
      : settings.compareLookahead === true
        ? new BenchChain(kernel, input, settings, settings.threads, !lookahead)
        : undefined;
  input.weights =
    mode === 'lda'
      ? undefined
      : randomCellWeights(mode, numTopics, vocabularySize, settings.hidden, settings.seed, (n) =>
          kernel.allocFloat32(n),
        );
  const setup = (performance.now() - setupStarted) / 1000;

  const phases: PhaseSeconds = { setup, warmup: 0, counts: 0, alias: 0, sweep: 0 };
  const comparisonPhases: PhaseSeconds = { setup: 0, warmup: 0, counts: 0, alias: 0, sweep: 0 };
  const add = (into: PhaseSeconds, times: IterationTimes, timed: boolean) => {
    if (!timed) {
      into.warmup += times.counts + times.alias + times.sweep;
      return;
    }
    into.counts += times.counts;
    into.alias += times.alias;
    into.sweep += times.sweep;
  };
  const warmup = settings.warmup ?? BENCH_DEFAULTS.warmup;
  for (let iteration = 0; iteration < warmup + iterations; iteration += 1) {
    if (settings.signal?.aborted) throw new InterruptedError('lla bench: interrupted');
    const timed = iteration >= warmup;
    // with a comparison chain the two take turns going first, so that neither always runs on the other's caches
    const comparisonFirst = comparison !== undefined && iteration % 2 === 1;
    if (comparisonFirst) add(comparisonPhases, await comparison.step(iteration + 1, timed), timed);
    const times = await chain.step(iteration + 1, timed);
    add(phases, times, timed);
    if (comparison !== undefined && !comparisonFirst)
      add(comparisonPhases, await comparison.step(iteration + 1, timed), timed);
    if (timed) settings.onIteration?.(iteration + 1 - warmup, times.counts + times.alias + times.sweep);
  }
  const seconds = phases.counts + phases.alias + phases.sweep;
  const sampled = tokens.length * iterations;
  const result: BenchResult = {
    backend: kernel.name,
    instructionSet: info.instructionSet,
    model: mode,
    topics: numTopics,
    threads: settings.threads,
    threadsUsed: threadsUsed(kernel, settings.threads),
    hidden: mode === 'lda' ? null : settings.hidden,
    mhSteps: settings.mhSteps,
    exact: settings.exact,
    lookahead: settings.lookahead === true,
    sequences: offsets.length - 1,
    vocabulary: vocabularySize,
    tokens: tokens.length,
    iterations,
    warmupIterations: warmup,
    seconds,
    tokensPerSecond: sampled / Math.max(1e-9, seconds),
    sweepTokensPerSecond: sampled / Math.max(1e-9, phases.sweep),
    phases,
    acceptanceRate: settings.exact || chain.proposalsMade === 0 ? null : chain.proposalsAccepted / chain.proposalsMade,
    countNonZeros: chain.nonZeros,
    logPhiPerToken: chain.logPhi / tokens.length,
    peakRssBytes: peakRssBytes(),
  };
  if (comparison !== undefined) {
    // the kernels promise the same topics for any thread count: a difference is a bug, not a slower run
    const mismatch =
      comparison.lookahead !== lookahead ? -1 : chain.topics.findIndex((topic, i) => topic !== comparison.topics[i]);
    if (mismatch >= 0) {
      throw new Error(
        `lla bench: ${settings.threads} and ${settings.compareThreads} threads sampled different topics ` +
          `(token ${mismatch}); the kernel's results must not depend on the thread count, so this is a bug: please report it`,
      );
    }
    const comparisonSeconds = comparisonPhases.counts + comparisonPhases.alias + comparisonPhases.sweep;
    const comparisonTokensPerSecond = sampled / Math.max(1e-9, comparisonSeconds);
    result.comparison = {
      threads: comparison.threads,
      threadsUsed: threadsUsed(kernel, comparison.threads),
      lookahead: comparison.lookahead,
      seconds: comparisonSeconds,
      tokensPerSecond: comparisonTokensPerSecond,
      sweepTokensPerSecond: sampled / Math.max(1e-9, comparisonPhases.sweep),
      phases: comparisonPhases,
      speedup: result.tokensPerSecond / comparisonTokensPerSecond,
    };
  }
  return result;
}
