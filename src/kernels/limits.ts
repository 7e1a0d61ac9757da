/**
 * The argument checks that both kernel backends share, in one place: every scalar against KERNEL_LIMITS
 * (./limits-table.ts), and the names of modes and proposal schedules. src/kernels/native.ts and the WASM wrapper run
 * `kernelArgumentChecks` before every kernel call, so a value outside a limit fails the same way on both; the CLI
 * and the API run `checkKernelLimits` (or `kernelLimitProblem`, to word their own message) on settings before
 * any work, so a run never fails inside a kernel after its training.
 *
 * Names are looked up as own properties only: `toString` or `__proto__` is a key of every object, not a mode.
 */
import {
  KERNEL_LIMITS,
  MODE_CODE,
  PROPOSAL_CODE,
  type Kernel,
  type KernelLimitName,
  type ProposalSchedule,
  type SweepMode,
} from './types.js';

/** The bounds a backend was compiled with (native/limits.h, assembly/limits.ts), by limit: tests compare them. */
export type BuiltLimits = Record<KernelLimitName, { min: number; max: number }>;

/** A value outside its kernel limit. `argument` is the name the caller used (e.g. numTopics for the topics limit). */
export class KernelLimitError extends RangeError {
  readonly limit: KernelLimitName;
  readonly argument: string;
  readonly value: unknown;
  constructor(where: string, argument: string, limit: KernelLimitName, value: unknown, problem: string) {
    super(`${where}: ${argument} ${problem}`);
    this.name = 'KernelLimitError';
    this.argument = argument;
    this.limit = limit;
    this.value = value;
  }
}

/** What is wrong with `value` as limit `name`, or undefined when it is inside the limit. */
export function kernelLimitProblem(name: KernelLimitName, value: unknown): string | undefined {
  const limit = KERNEL_LIMITS[name];
  if (
    typeof value === 'number' &&
    (limit.integer ? Number.isInteger(value) : Number.isFinite(value)) &&
    value >= limit.min &&
    value <= limit.max
  )
    return undefined;
  return (
    `must be ${limit.integer ? 'a whole number' : 'a number'} in [${limit.min}, ${limit.max}], got ` +
    `${describe(value)} (the kernel limit on ${name}: ${limit.reason})`
  );
}

/**
 * Throws a KernelLimitError for the first of `values` outside its limit (`where` starts the message, e.g.
 * `lla train`). For settings, before any work: e.g. checkKernelLimits({ topics: K, particles: S }, 'lla train').
 */
export function checkKernelLimits(values: Partial<Record<KernelLimitName, unknown>>, where = 'lla'): void {
  for (const [name, value] of Object.entries(values)) {
    if (!Object.hasOwn(KERNEL_LIMITS, name)) {
      throw new TypeError(
        `${where}: '${name}' is not a kernel limit (the limits are ${Object.keys(KERNEL_LIMITS).join(', ')})`,
      );
    }
    checkOne(where, name, name as KernelLimitName, value);
  }
}

/** The code of a mode, or undefined for anything that is not one of MODE_CODE's own names. */
export function modeCode(name: unknown): number | undefined {
  return typeof name === 'string' && Object.hasOwn(MODE_CODE, name) ? MODE_CODE[name as SweepMode] : undefined;
}

/** The code of a proposal schedule, or undefined for anything that is not one of PROPOSAL_CODE's own names. */
export function proposalCode(name: unknown): number | undefined {
  return typeof name === 'string' && Object.hasOwn(PROPOSAL_CODE, name)
    ? PROPOSAL_CODE[name as ProposalSchedule]
    : undefined;
}

/** The entry points that take bounded scalars or names. */
type CheckedEntry =
  | 'randomStream'
  | 'randomTopics'
  | 'buildCounts'
  | 'buildAlias'
  | 'sweep'
  | 'particleFilter'
  | 'filterStep'
  | 'lstmSteps'
  | 'topicTransitions'
  | 'lstmTrain'
  | 'transitionTable'
  | 'contextFeatures'
  | 'kmeans';

/** For each entry point: throws on an argument outside the limits or an unknown name; takes the call's arguments. */
export type KernelArgumentChecks = { readonly [E in CheckedEntry]: (...args: Parameters<Kernel[E]>) => void };

/**
 * The checks run before each call of a backend whose messages start with `prefix` (e.g. `lla native`). Only what
 * the table bounds is checked here; shapes, ids and contents are each backend's own checks, which follow.
 * Arguments of the wrong kind (no object where one is due) are left to those checks too, which name them.
 */
export function kernelArgumentChecks(prefix: string): KernelArgumentChecks {
  const at = (entry: string) => `${prefix} ${entry}`;
  return Object.freeze({
    randomStream(seed, iteration, index) {
      const where = at('randomStream');
      checkOne(where, 'seed', 'seed', seed);
      checkOne(where, 'iteration', 'seed', iteration);
      checkOne(where, 'index', 'seed', index);
    },
    randomTopics(offsets, topics, numTopics, seed) {
      const where = at('randomTopics');
      checkCorpusLengths(where, topics, offsets);
      checkOne(where, 'numTopics', 'topics', numTopics);
      checkOne(where, 'seed', 'seed', seed);
    },
    buildCounts(tokens, wordOffsets, _wordTokens, _topics, numTopics, _out, threads) {
      const where = at('buildCounts');
      checkCorpusLengths(where, tokens);
      if (ArrayBuffer.isView(wordOffsets) && wordOffsets.length > 0) {
        checkOne(where, 'wordOffsets.length - 1', 'vocabulary', wordOffsets.length - 1);
      }
      checkOne(where, 'numTopics', 'topics', numTopics);
      if (threads !== undefined) checkOne(where, 'threads', 'threads', threads);
    },
    buildAlias(counts, numTopics, beta, _out, threads) {
      const where = at('buildAlias');
      checkOne(where, 'numTopics', 'topics', numTopics);
      checkTableVocabulary(where, counts);
      checkOne(where, 'beta', 'beta', beta);
      if (threads !== undefined) checkOne(where, 'threads', 'threads', threads);
    },
    sweep(args) {
      const where = at('sweep');
      if (!isObject(args)) return;
      checkModelArguments(where, args, true);
      if (args.lookahead !== undefined && typeof args.lookahead !== 'boolean') {
        throw new Error(`${where}: lookahead must be a boolean, got ${describe(args.lookahead)}`);
      }
      if (args.transitionOrder !== undefined) checkWhole(where, 'transitionOrder', args.transitionOrder, 1, 2);
      if (args.lookahead === true && args.mode !== 'lla' && args.mode !== 'hmm') {
        throw new Error(
          `${where}: lookahead is set in ${String(args.mode)} mode: it applies to lla and hmm only ` +
            "(lda's and word-lla's conditionals need none); pass false",
        );
      }
      if (proposalCode(args.proposals) === undefined) {
        throw new Error(
          `${where}: proposals must be one of ${Object.keys(PROPOSAL_CODE).join(', ')}, got ${describe(args.proposals)}`,
        );
      }
      if (args.exact !== true || args.mhSteps !== undefined) checkOne(where, 'mhSteps', 'mhSteps', args.mhSteps);
      checkOne(where, 'sequenceSmoothing', 'sequenceSmoothing', args.sequenceSmoothing);
      checkOne(where, 'iteration', 'seed', args.iteration);
      if (args.firstSequence !== undefined) checkOne(where, 'firstSequence', 'seed', args.firstSequence);
      checkOne(where, 'threads', 'threads', args.threads);
      checkCorpusLengths(where, args.tokens, args.offsets);
    },
    particleFilter(args) {
      const where = at('particleFilter');
      if (!isObject(args)) return;
      checkModelArguments(where, args);
      checkOne(where, 'particles', 'particles', args.particles);
      if (args.firstSequence !== undefined) checkOne(where, 'firstSequence', 'seed', args.firstSequence);
      checkOne(where, 'threads', 'threads', args.threads);
      checkCorpusLengths(where, args.tokens, args.offsets);
      checkCopy(where, args.copy);
    },
    filterStep(args) {
      const where = at('filterStep');
      if (!isObject(args)) return;
      checkModelArguments(where, args);
      checkOne(where, 'particles', 'particles', args.particles);
      checkOne(where, 'sequenceIndex', 'seed', args.sequenceIndex);
      checkCopy(where, args.copy);
    },
    lstmSteps(weights, inputs) {
      const where = at('lstmSteps');
      checkHidden(where, weights);
      checkCorpusLengths(where, inputs);
    },
    topicTransitions(offsets, topics, weights, numTopics) {
      const where = at('topicTransitions');
      checkCorpusLengths(where, topics, offsets);
      checkOne(where, 'numTopics', 'topics', numTopics);
      checkHidden(where, weights);
    },
    lstmTrain(args) {
      const where = at('lstmTrain');
      if (!isObject(args)) return;
      const shape = args.shape as unknown;
      if (isObject(shape)) {
        // R - 1 symbols besides the begin symbol: the K topics (lla) or the V actions (word-lla)
        if (typeof shape.inputSymbols === 'number')
          checkOne(where, 'shape.inputSymbols - 1', 'vocabulary', shape.inputSymbols - 1);
        else checkOne(where, 'shape.inputSymbols', 'vocabulary', shape.inputSymbols);
        checkOne(where, 'shape.embedding', 'embedding', shape.embedding);
        checkOne(where, 'shape.hidden', 'hidden', shape.hidden);
        checkOne(where, 'shape.outputs', 'topics', shape.outputs);
      }
      checkOne(where, 'lanes', 'lanes', args.lanes);
      checkOne(where, 'steps', 'steps', args.steps);
      checkOne(where, 'learningRate', 'learningRate', args.learningRate);
      checkOne(where, 'threads', 'threads', args.threads);
    },
    // the initialisation's kernels: bounds outside the table are their own (types.ts)
    transitionTable(offsets, topics, numTopics, smoothing, _out, order) {
      const where = at('transitionTable');
      checkCorpusLengths(where, topics, offsets);
      checkOne(where, 'numTopics', 'topics', numTopics);
      if (typeof smoothing !== 'number' || !(smoothing > 0) || !Number.isFinite(smoothing)) {
        throw new RangeError(`${where}: smoothing must be a finite number > 0, got ${describe(smoothing)}`);
      }
      if (order !== undefined) checkWhole(where, 'order', order, 1, 2);
    },
    contextFeatures(tokens, offsets, vocabularySize, dimensions, seed, _features, threads) {
      const where = at('contextFeatures');
      checkCorpusLengths(where, tokens, offsets);
      checkOne(where, 'vocabularySize', 'vocabulary', vocabularySize);
      checkWhole(where, 'dimensions', dimensions, 1, CONTEXT_DIMENSIONS_MAX);
      checkOne(where, 'seed', 'seed', seed);
      if (threads !== undefined) checkOne(where, 'threads', 'threads', threads);
    },
    kmeans(_points, dimensions, _weights, clusters, iterations, seed, _labels, threads) {
      const where = at('kmeans');
      checkWhole(where, 'dimensions', dimensions, 1, 2 * CONTEXT_DIMENSIONS_MAX);
      checkOne(where, 'clusters', 'topics', clusters);
      checkWhole(where, 'iterations', iterations, 1, KMEANS_ITERATIONS_MAX);
      checkOne(where, 'seed', 'seed', seed);
      if (threads !== undefined) checkOne(where, 'threads', 'threads', threads);
    },
  });
}

/**
 * The arguments sweep, particleFilter and filterStep share: the mode by name, K, V, the priors (alpha only where
 * lda uses it), the seed, and H where the mode runs the LSTM.
 */
function checkModelArguments(
  where: string,
  args: {
    mode: unknown;
    numTopics: unknown;
    vocabularySize: unknown;
    beta: unknown;
    alpha: unknown;
    seed: unknown;
    weights?: unknown;
  },
  sweep = false,
): void {
  if (modeCode(args.mode) === undefined) {
    throw new Error(`${where}: mode must be one of ${Object.keys(MODE_CODE).join(', ')}, got ${describe(args.mode)}`);
  }
  if (args.mode === 'hmm' && !sweep) {
    throw new Error(
      `${where}: mode hmm is an initialisation mode of the sweep only: evaluate with lda, lla or word-lla`,
    );
  }
  const mode = args.mode as SweepMode;
  checkOne(where, 'numTopics', 'topics', args.numTopics);
  checkOne(where, 'vocabularySize', 'vocabulary', args.vocabularySize);
  checkOne(where, 'beta', 'beta', args.beta);
  if (mode === 'lda') checkOne(where, 'alpha', 'alpha', args.alpha);
  checkOne(where, 'seed', 'seed', args.seed);
  if (mode !== 'lda' && mode !== 'hmm') checkHidden(where, args.weights);
}

/** The copy component's decay and window, when it is given as an object (its arrays are the backend's to check). */
function checkCopy(where: string, copy: unknown): void {
  if (!isObject(copy)) return;
  checkOne(where, 'copy.decay', 'copyDecay', copy.decay);
  checkOne(where, 'copy.window', 'copyWindow', copy.window);
}

/** weights.hidden, when weights are an object (missing weights are the backend's to name). */
function checkHidden(where: string, weights: unknown): void {
  if (isObject(weights)) checkOne(where, 'weights.hidden', 'hidden', (weights as { hidden?: unknown }).hidden);
}

/** V of count tables, from their row offsets [V+1] when they are an array. */
function checkTableVocabulary(where: string, counts: unknown): void {
  const rowOffsets = isObject(counts) ? (counts as { rowOffsets?: unknown }).rowOffsets : undefined;
  if (ArrayBuffer.isView(rowOffsets) && (rowOffsets as Int32Array).length > 0) {
    checkOne(where, 'counts.rowOffsets.length - 1', 'vocabulary', (rowOffsets as Int32Array).length - 1);
  }
}

/** T from a token-length array and D from offsets [D+1], where they are arrays. */
function checkCorpusLengths(where: string, tokens: unknown, offsets?: unknown): void {
  if (ArrayBuffer.isView(tokens)) checkOne(where, 'the token count', 'tokens', (tokens as Int32Array).length);
  if (ArrayBuffer.isView(offsets) && (offsets as Int32Array).length > 0) {
    checkOne(where, 'the sequence count (offsets.length - 1)', 'sequences', (offsets as Int32Array).length - 1);
  }
}

/** contextFeatures' projection size per side, and kmeans' rounds (as native/binding.cc bounds them). */
const CONTEXT_DIMENSIONS_MAX = 4096;
const KMEANS_ITERATIONS_MAX = 1 << 20;

/** A whole number in [min, max] that the limits table does not bound. */
function checkWhole(where: string, argument: string, value: unknown, min: number, max: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${where}: ${argument} must be a whole number in [${min}, ${max}], got ${describe(value)}`);
  }
}

function checkOne(where: string, argument: string, name: KernelLimitName, value: unknown): void {
  const problem = kernelLimitProblem(name, value);
  if (problem !== undefined) throw new KernelLimitError(where, argument, name, value, problem);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** A value as a message shows it: its kind and, for a scalar, the value. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (ArrayBuffer.isView(value)) return `${value.constructor.name}(${(value as Int32Array).length})`;
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object';
  return `${typeof value} ${String(value)}`;
}
