/**
 * The WASM wrapper's checks of each entry point's arguments (the counterpart of the checks at the top of each entry
 * point in native/binding.cc): shapes, ids and contents, with the primitives of wasm-validate.ts. Each returns the
 * sizes the call needs. They run after kernelArgumentChecks (limits.ts) has checked every scalar that the limits
 * table bounds and the names of the mode and the proposal schedule, so those are read here as given.
 */
import { modeCode, proposalCode } from './limits.js';
import {
  KERNEL_LIMITS,
  PROPOSAL_CODE,
  type AliasTables,
  type CellWeights,
  type CountTables,
  type FilterArgs,
  type FilterState,
  transitionCells,
  type Kernel,
  type KernelMode,
  type SweepArgs,
  type SweepMode,
} from './types.js';
import {
  type ContentChecks,
  describe,
  fail,
  inputRows,
  requireAlias,
  requireAliasShapes,
  requireArray,
  requireCounts,
  requireIds,
  requireInteger,
  requireOffsets,
  requireRowsAscending,
  requireTransitions,
  requireWeights,
} from './wasm-validate.js';

type FilterCommonArgs = Omit<FilterArgs, 'tokens' | 'offsets' | 'logLikelihood' | 'threads'>;
type FilterStepArgs = Parameters<Kernel['filterStep']>[0];

/** randomTopics: returns D. */
export function checkRandomTopics(offsets: Int32Array, topics: Int32Array): number {
  requireArray('randomTopics', 'topics', topics, Int32Array);
  return requireOffsets('randomTopics', offsets, topics.length);
}

/** buildCounts: the word index, the assignments and the output tables. */
export function checkBuildCounts(
  checks: ContentChecks,
  tokens: Int32Array,
  wordOffsets: Int32Array,
  wordTokens: Int32Array,
  topics: Int32Array,
  K: number,
  out: CountTables,
): { T: number; V: number; capacity: number } {
  const entry = 'buildCounts';
  requireArray(entry, 'tokens', tokens, Int32Array);
  const T = tokens.length;
  requireArray(entry, 'wordTokens', wordTokens, Int32Array, T);
  const V = requireOffsets(entry, wordOffsets, T, 'wordOffsets');
  requireIds(entry, 'tokens', tokens, V, checks);
  requireIds(entry, 'wordTokens', wordTokens, T, checks);
  requireRowsAscending(entry, wordOffsets, wordTokens, checks);
  requireArray(entry, 'topics', topics, Int32Array, T);
  requireIds(entry, 'topics', topics, K, checks);
  if (typeof out !== 'object' || out === null) fail(entry, `out must be a CountTables object, got ${describe(out)}`);
  requireArray(entry, 'out.rowOffsets', out.rowOffsets, Int32Array, V + 1);
  requireArray(entry, 'out.rowTopics', out.rowTopics, Int32Array);
  requireArray(entry, 'out.rowCounts', out.rowCounts, Int32Array);
  requireArray(entry, 'out.topicTotals', out.topicTotals, Int32Array, K);
  return { T, V, capacity: Math.min(out.rowTopics.length, out.rowCounts.length) };
}

/** buildAlias: the count tables and the output tables. */
export function checkBuildAlias(
  checks: ContentChecks,
  counts: CountTables,
  K: number,
  out: AliasTables,
): { V: number; nnz: number } {
  const entry = 'buildAlias';
  if (typeof counts !== 'object' || counts === null || !(counts.rowOffsets instanceof Int32Array)) {
    fail(entry, `counts must be a CountTables object with an Int32Array rowOffsets, got ${describe(counts)}`);
  }
  const V = counts.rowOffsets.length - 1;
  if (V < 1) fail(entry, 'counts.rowOffsets must hold V+1 >= 2 entries');
  const nnz = requireCounts(entry, counts, V, K, checks);
  requireAliasShapes(entry, 'out', out, V, K, nnz);
  return { V, nnz };
}

/** What a sweep writes into its parameter block, checked. */
export interface SweepShape {
  mode: SweepMode;
  modeCode: number;
  /** 0 in exact mode */
  proposals: number;
  mhSteps: number;
  K: number;
  V: number;
  T: number;
  D: number;
  nnz: number;
  /** 0 for lda and hmm */
  H: number;
  alpha: number;
  /** lla and hmm: the next topic's factor in each target */
  lookahead: boolean;
  seed: bigint;
  iteration: bigint;
}

export function checkSweep(checks: ContentChecks, args: SweepArgs): SweepShape {
  const entry = 'sweep';
  if (typeof args !== 'object' || args === null) fail(entry, `args must be a SweepArgs object, got ${describe(args)}`);
  const mode = args.mode,
    K = args.numTopics,
    V = args.vocabularySize;
  requireArray(entry, 'tokens', args.tokens, Int32Array);
  const T = args.tokens.length;
  requireIds(entry, 'tokens', args.tokens, V, checks);
  const D = requireOffsets(entry, args.offsets, T);
  requireArray(entry, 'topicsPrev', args.topicsPrev, Int32Array, T);
  requireIds(entry, 'topicsPrev', args.topicsPrev, K, checks);
  requireArray(entry, 'topicsNext', args.topicsNext, Int32Array, T);
  if (typeof args.exact !== 'boolean') fail(entry, `exact must be a boolean, got ${describe(args.exact)}`);
  const nnz = requireCounts(entry, args.counts, V, K, checks);
  if (!args.exact) requireAlias(entry, args.alias, V, K, nnz, checks);
  const H =
    mode === 'lda' || mode === 'hmm'
      ? 0
      : requireWeights(entry, args.weights, inputRows(mode, K, V), K, `${mode} mode samples with the LSTM`);
  if (mode === 'hmm') requireTransitions(entry, args.transitions, K, args.transitionOrder ?? 1);
  return {
    mode,
    modeCode: modeCode(mode)!,
    proposals: args.exact ? 0 : proposalCode(args.proposals)!,
    mhSteps: args.exact ? 0 : args.mhSteps,
    K,
    V,
    T,
    D,
    nnz,
    H,
    alpha: mode === 'lda' ? args.alpha : 0,
    lookahead: args.lookahead === true,
    seed: BigInt(args.seed),
    iteration: BigInt(args.iteration),
  };
}

/** Whether a sweep's proposals include the sequence proposal (which reads the smoothing constant). */
export function usesSequenceProposal(shape: SweepShape): boolean {
  return (shape.proposals & PROPOSAL_CODE.sequence) !== 0;
}

/** What particleFilter and filterStep share, checked. */
export interface FilterShape {
  mode: KernelMode;
  modeCode: number;
  K: number;
  V: number;
  /** 0 for lda */
  H: number;
  alpha: number;
  seed: bigint;
  /** particles as given; particlesUsed: 1 for word-lla, whose likelihood is exact */
  particles: number;
  particlesUsed: number;
  /** the copy component's history length; 0 without it */
  copyWindow: number;
  /** repeat blocks: R of the `repeat` table [V][R] given, 0 without one */
  repeatRuns: number;
}

export function checkFilterCommon(
  entry: string,
  checks: ContentChecks,
  args: FilterCommonArgs,
  repeatRows: 'all' | number = 'all',
): FilterShape {
  const mode = args.mode,
    K = args.numTopics,
    V = args.vocabularySize;
  requireCounts(entry, args.counts, V, K, checks);
  const H =
    mode === 'lda'
      ? 0
      : requireWeights(entry, args.weights, inputRows(mode, K, V), K, `${mode} likelihood runs the LSTM`);
  return {
    mode,
    modeCode: modeCode(mode)!,
    K,
    V,
    H,
    alpha: mode === 'lda' ? args.alpha : 0,
    seed: BigInt(args.seed),
    particles: args.particles,
    particlesUsed: mode === 'word-lla' ? 1 : args.particles,
    copyWindow: checkCopy(entry, args.copy, K),
    repeatRuns: checkRepeat(entry, args.repeat, V, repeatRows),
  };
}

/** The copy component (absent or null: none): rate [K] in [0, 1], mass [K] finite >= 0. Returns its window, or 0. */
function checkCopy(entry: string, copy: unknown, K: number): number {
  if (copy === undefined || copy === null) return 0;
  if (typeof copy !== 'object')
    fail(entry, `copy must be CopyParameters (decay, window, rate, mass), got ${describe(copy)}`);
  const { rate, mass, window } = copy as { rate: unknown; mass: unknown; window: number };
  requireArray(entry, 'copy.rate', rate, Float64Array, K);
  requireArray(entry, 'copy.mass', mass, Float64Array, K);
  for (let k = 0; k < K; k++) {
    const rho = (rate as Float64Array)[k];
    const mu = (mass as Float64Array)[k];
    if (!(rho >= 0 && rho <= 1))
      fail(entry, `copy.rate[${k}] = ${rho} is not in [0, 1]: pass each topic's copy rate rho_k`);
    if (!(mu >= 0 && Number.isFinite(mu)))
      fail(entry, `copy.mass[${k}] = ${mu} is not a finite number >= 0: pass each topic's history mass mu_k`);
  }
  return window;
}

/** The longest run-length dependence of the repeat probabilities (R of `repeat`; native kMaxRepeatRuns). */
export const MAX_REPEAT_RUNS = 64;

/**
 * Repeat blocks (absent or null: none): repeat [V][R], R in [1, MAX_REPEAT_RUNS], each r(w, L) strictly inside
 * (0, 1). Returns R, or 0 when absent. `rows`: 'all', or the one row a filterStep reads (its previous action; -1:
 * none): a session step reads one row, and checking all V x R values at every step would cost more than the step.
 */
function checkRepeat(entry: string, repeat: unknown, V: number, rows: 'all' | number = 'all'): number {
  if (repeat === undefined || repeat === null) return 0;
  requireArray(entry, 'repeat', repeat, Float64Array);
  const r = repeat as Float64Array;
  const R = r.length / V;
  if (!(Number.isInteger(R) && R >= 1 && R <= MAX_REPEAT_RUNS)) {
    fail(
      entry,
      `repeat has length ${r.length}, not V * R with V = ${V} and R in [1, ${MAX_REPEAT_RUNS}]: pass [V][R] repeat probabilities r(w, L), L = 1 .. R (R = 1: one per action)`,
    );
  }
  const from = rows === 'all' ? 0 : Math.max(0, rows) * R;
  const to = rows === 'all' ? r.length : rows < 0 ? 0 : from + R;
  for (let i = from; i < to; i++) {
    // r(w, L) of 0 or 1 would score a repeat, or every new block, log 0
    if (!(r[i] > 0 && r[i] < 1)) {
      fail(
        entry,
        `repeat[${i}] = ${r[i]} is not in (0, 1): pass each repeat probability r(w, L) strictly between 0 and 1 (smoothed counts)`,
      );
    }
  }
  return R;
}

/** particleFilter: the common arguments, the corpus, the outputs. P: the mixture positions (0 when none). */
export function checkParticleFilter(checks: ContentChecks, args: FilterArgs): FilterShape & { D: number; P: number } {
  const entry = 'particleFilter';
  if (typeof args !== 'object' || args === null) fail(entry, `args must be a FilterArgs object, got ${describe(args)}`);
  const common = checkFilterCommon(entry, checks, args);
  requireArray(entry, 'tokens', args.tokens, Int32Array);
  const T = args.tokens.length;
  requireIds(entry, 'tokens', args.tokens, common.V, checks);
  const D = requireOffsets(entry, args.offsets, T);
  requireArray(entry, 'logLikelihood', args.logLikelihood, Float64Array, D);
  let P = 0;
  if (args.mixturePositions !== undefined) {
    requireArray(entry, 'mixturePositions', args.mixturePositions, Int32Array);
    const positions = args.mixturePositions;
    P = positions.length;
    for (let p = 0; p < P; p++) {
      if (!(positions[p] >= 0 && positions[p] < T) || (p > 0 && positions[p] <= positions[p - 1])) {
        fail(
          entry,
          `mixturePositions must be strictly ascending token positions in [0, ${T}); entry ${p} is ${positions[p]}`,
        );
      }
    }
    requireArray(entry, 'mixtures', args.mixtures, Float32Array, P * common.K);
  } else if (args.mixtures !== undefined) {
    fail(entry, 'mixtures was given without mixturePositions: pass both or neither');
  }
  return { ...common, D, P };
}

/** filterStep: the common arguments, the action and the session state. */
export function checkFilterStep(
  checks: ContentChecks,
  args: FilterStepArgs,
): FilterShape & { action: number; position: number; previousAction: number; runLength: number | undefined } {
  const entry = 'filterStep';
  if (typeof args !== 'object' || args === null) fail(entry, `args must be an object, got ${describe(args)}`);
  // the step reads the repeat table's row of the previous action only (checked as an id below)
  const previousRow = args.state?.previousAction instanceof Int32Array ? args.state.previousAction[0] : -1;
  const common = checkFilterCommon(
    entry,
    checks,
    args,
    Number.isInteger(previousRow) && previousRow >= 0 && previousRow < args.vocabularySize ? previousRow : -1,
  );
  const { mode, K, V, H, particlesUsed: S } = common;
  const action = requireInteger(entry, 'action', args.action, 0, V - 1);
  const state = args.state as FilterState;
  if (typeof state !== 'object' || state === null)
    fail(entry, `state must be a FilterState object, got ${describe(state)}`);
  requireArray(entry, 'state.position', state.position, Int32Array, 1);
  requireArray(entry, 'state.previousAction', state.previousAction, Int32Array, 1);
  requireArray(entry, 'state.weights', state.weights, Float64Array, S, true);
  requireArray(entry, 'state.previousTopic', state.previousTopic, Int32Array, S, true);
  requireArray(entry, 'state.hiddenState', state.hiddenState, Float32Array, S * H, true);
  requireArray(entry, 'state.cellState', state.cellState, Float32Array, S * H, true);
  if (mode === 'lda') requireArray(entry, 'state.topicCounts', state.topicCounts, Int32Array, S * K, true);
  if (common.copyWindow > 0) {
    requireArray(entry, 'state.copyHistory', state.copyHistory, Int32Array, common.copyWindow, true);
    // -1 marks a slot not written yet (a session's start); a slot is read only once written
    const history = state.copyHistory!;
    for (let i = 0; i < common.copyWindow; i++) {
      if (!(history[i] >= -1 && history[i] < V))
        fail(entry, `state.copyHistory[${i}] = ${history[i]} must be -1 or an action below ${V}`);
    }
  }
  // tokens consumed so far: a token count (the count after this step still fits int32)
  const position = requireInteger(entry, 'state.position[0]', state.position[0], 0, KERNEL_LIMITS.tokens.max);
  const previousAction = requireInteger(entry, 'state.previousAction[0]', state.previousAction[0], -1, V - 1);
  // the length of the current run: required with repeat blocks (it picks r(w, L)); without them kept when given
  let runLength: number | undefined;
  if (common.repeatRuns > 0 || (state.runLength !== undefined && state.runLength !== null)) {
    if (state.runLength === undefined || state.runLength === null) {
      fail(
        entry,
        'state.runLength is missing, and repeat blocks read it: allocate it with kernel.allocInt32(1), 0 at a session start, and keep what filterStep writes',
      );
    }
    requireArray(entry, 'state.runLength', state.runLength, Int32Array, 1, true);
    runLength = requireInteger(entry, 'state.runLength[0]', state.runLength[0], 0, KERNEL_LIMITS.tokens.max);
  }
  for (let s = 0; s < S; s++) {
    const z = state.previousTopic[s];
    if (!(z >= -1 && z < K)) fail(entry, `state.previousTopic[${s}] = ${z} must be -1 (start) or a topic below ${K}`);
  }
  if (args.mixtureOut !== undefined) requireArray(entry, 'mixtureOut', args.mixtureOut, Float32Array, K);
  return { ...common, action, position, previousAction, runLength };
}

/** lstmSteps: the cell (its input rows taken from the input table) and the outputs. Returns H. */
export function checkLstmSteps(
  checks: ContentChecks,
  weights: CellWeights,
  inputs: Int32Array,
  hiddenOut: Float32Array,
  cellOut: Float32Array,
): number {
  const entry = 'lstmSteps';
  if (typeof weights !== 'object' || weights === null)
    fail(entry, `weights must be CellWeights, got ${describe(weights)}`);
  const H = weights.hidden;
  requireArray(entry, 'weights.inputTable', weights.inputTable, Float32Array);
  const rows = weights.inputTable.length / (4 * H);
  if (!Number.isInteger(rows) || rows < 1) {
    fail(entry, `weights.inputTable has ${weights.inputTable.length} floats, not a positive multiple of 4H = ${4 * H}`);
  }
  requireWeights(entry, weights, rows, undefined, 'the cell');
  requireArray(entry, 'inputs', inputs, Int32Array);
  requireIds(entry, 'inputs', inputs, rows, checks);
  requireArray(entry, 'hiddenOut', hiddenOut, Float32Array, inputs.length * H);
  requireArray(entry, 'cellOut', cellOut, Float32Array, inputs.length * H);
  return H;
}

/** topicTransitions: the topics, the lla cell and the outputs. */
export function checkTopicTransitions(
  checks: ContentChecks,
  offsets: Int32Array,
  topics: Int32Array,
  weights: CellWeights,
  K: number,
  sums: Float64Array,
  rowCounts: Float64Array,
): { D: number; H: number } {
  const entry = 'topicTransitions';
  requireArray(entry, 'topics', topics, Int32Array);
  const D = requireOffsets(entry, offsets, topics.length);
  requireIds(entry, 'topics', topics, K, checks);
  const H = requireWeights(entry, weights, K + 1, K, 'topic transitions need the lla LSTM');
  requireArray(entry, 'sums', sums, Float64Array, K * K);
  requireArray(entry, 'rowCounts', rowCounts, Float64Array, K);
  return { D, H };
}

/** Ids in corpus layout (`name`: [T] below `limit`, sequence d at offsets[d] .. offsets[d+1]); returns D. */
function requireCorpusIds(
  entry: string,
  checks: ContentChecks,
  offsets: Int32Array,
  ids: Int32Array,
  name: string,
  limit: number,
): number {
  requireArray(entry, name, ids, Int32Array);
  const D = requireOffsets(entry, offsets, ids.length);
  requireIds(entry, name, ids, limit, checks);
  return D;
}

/** transitionTable: the topics of a corpus and the [(K+1)^order][K] output; returns D. */
export function checkTransitionTable(
  checks: ContentChecks,
  offsets: Int32Array,
  topics: Int32Array,
  K: number,
  out: Float64Array,
  order: number,
): number {
  const D = requireCorpusIds('transitionTable', checks, offsets, topics, 'topics', K);
  requireArray('transitionTable', 'out', out, Float64Array, transitionCells(K, order));
  return D;
}

/** contextFeatures: the corpus and the [V][2 dimensions] output; returns D. */
export function checkContextFeatures(
  checks: ContentChecks,
  tokens: Int32Array,
  offsets: Int32Array,
  V: number,
  dimensions: number,
  features: Float32Array,
): number {
  const D = requireCorpusIds('contextFeatures', checks, offsets, tokens, 'tokens', V);
  requireArray('contextFeatures', 'features', features, Float32Array, V * 2 * dimensions);
  return D;
}

/** kmeans: points [n][dimensions] finite, weights [n] finite and > 0, labels [n]; returns n. */
export function checkKMeans(
  points: Float32Array,
  dimensions: number,
  weights: Float64Array,
  labels: Int32Array,
): number {
  const entry = 'kmeans';
  requireArray(entry, 'points', points, Float32Array);
  const n = points.length / dimensions;
  if (!Number.isInteger(n) || n < 1 || n > KERNEL_LIMITS.vocabulary.max) {
    fail(
      entry,
      `points has ${points.length} floats: pass 1 to ${KERNEL_LIMITS.vocabulary.max} points (one per action) of ${dimensions} dimensions`,
    );
  }
  for (let i = 0; i < points.length; i++)
    if (!Number.isFinite(points[i])) fail(entry, `points[${i}] = ${points[i]} must be finite`);
  requireArray(entry, 'weights', weights, Float64Array, n);
  for (let i = 0; i < n; i++) {
    if (!(weights[i] > 0) || !Number.isFinite(weights[i])) {
      fail(entry, `weights[${i}] = ${weights[i]} must be finite and > 0 (weigh every point, e.g. by its count + 1)`);
    }
  }
  requireArray(entry, 'labels', labels, Int32Array, n);
  return n;
}
