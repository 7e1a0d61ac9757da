/**
 * Byte offsets of the parameter blocks read by the WebAssembly kernels: a mirror of assembly/layout.ts, which the
 * module exports as constants and test/wasm-layout.test.ts compares with these. The wrapper writes a block into
 * linear memory once per call; every worker reads it there. Also: the module's other exports, and the
 * synchronisation words and chunk loop that the calling thread and the workers share.
 */
import type { BuiltLimits } from './limits.js';
import { KERNEL_LIMITS, type CellWeights, type KernelLimitName } from './types.js';
import type { CallScope } from './wasm-memory.js';
import { drainWindows, type WindowTickets } from './wasm-train-windows.js';

export const SWEEP = {
  mode: 0,
  exact: 4,
  mhSteps: 8,
  proposals: 12,
  topics: 16,
  vocabulary: 20,
  sequences: 24,
  tokens: 28,
  offsets: 32,
  topicsPrev: 36,
  topicsNext: 40,
  rowOffsets: 44,
  rowTopics: 48,
  rowCounts: 52,
  topicTotals: 56,
  sparseProb: 60,
  sparseAlias: 64,
  sparseMass: 68,
  denseProb: 72,
  denseAlias: 76,
  denseMass: 80,
  cell: 84,
  inverseTotals: 88,
  perSequence: 92,
  beta: 96,
  alpha: 104,
  smoothing: 112,
  seed: 120,
  iteration: 128,
  hashRows: 136,
  hashSlots: 140,
  firstSequence: 144,
  lookahead: 152,
  transitions: 156,
  transitionOrder: 160,
  bytes: 168,
} as const;

export const FILTER = {
  mode: 0,
  topics: 4,
  vocabulary: 8,
  sequences: 12,
  tokens: 16,
  offsets: 20,
  rowOffsets: 24,
  rowTopics: 28,
  rowCounts: 32,
  cell: 36,
  inverseTotals: 40,
  particles: 44,
  logLikelihood: 48,
  mixturePositions: 52,
  mixtureCount: 56,
  mixtures: 60,
  beta: 64,
  alpha: 72,
  seed: 80,
  firstSequence: 88,
  copyRate: 96,
  copyMass: 100,
  copyWindow: 104,
  repeat: 108,
  copyDecay: 112,
  repeatRuns: 120,
  bytes: 128,
} as const;

/** The block of the row-range jobs (countRowsRange, aliasRowsRange, countHashRange): assembly/layout.ts ROWS_*. */
export const ROWS = {
  rowOffsets: 0,
  rowTopics: 4,
  rowCounts: 8,
  topicTotals: 12,
  topics: 16,
  vocabulary: 20,
  tokens: 24,
  wordOffsets: 28,
  wordTokens: 32,
  assignments: 36,
  error: 40,
  sparseProb: 44,
  sparseAlias: 48,
  sparseMass: 52,
  hashRows: 56,
  hashSlots: 60,
  beta: 64,
  bytes: 72,
} as const;

/** The Cell struct of assembly/lstm_cell.ts: i32 hidden, then five u32 pointers. */
export const CELL = {
  hidden: 0,
  inputTable: 4,
  recurrent: 8,
  gateBias: 12,
  outputWeights: 16,
  outputBias: 20,
  bytes: 24,
} as const;

/** A parameter block under construction: typed writes at byte offsets of a fresh view. */
export class BlockWriter {
  private readonly data: DataView;
  constructor(buffer: ArrayBufferLike, start: number, bytes: number) {
    this.data = new DataView(buffer, start, bytes);
  }
  int(offset: number, value: number): this {
    this.data.setInt32(offset, value, true);
    return this;
  }
  pointer(offset: number, value: number): this {
    this.data.setUint32(offset, value, true);
    return this;
  }
  float64(offset: number, value: number): this {
    this.data.setFloat64(offset, value, true);
    return this;
  }
  unsigned64(offset: number, value: bigint): this {
    this.data.setBigUint64(offset, value, true);
    return this;
  }
}

/** Writes the cell block (CELL) of `weights` into the scope; returns its address. */
export function bindCell(memory: WebAssembly.Memory, scope: CallScope, weights: CellWeights, H: number): number {
  const start = scope.scratch(CELL.bytes);
  const inputTable = scope.bind(weights.inputTable);
  const recurrent = scope.bind(weights.recurrent);
  const gateBias = scope.bind(weights.gateBias);
  const outputWeights = weights.outputWeights instanceof Float32Array ? scope.bind(weights.outputWeights) : 0;
  const outputBias = weights.outputBias instanceof Float32Array ? scope.bind(weights.outputBias) : 0;
  new BlockWriter(memory.buffer, start, CELL.bytes)
    .int(CELL.hidden, H)
    .pointer(CELL.inputTable, inputTable)
    .pointer(CELL.recurrent, recurrent)
    .pointer(CELL.gateBias, gateBias)
    .pointer(CELL.outputWeights, outputWeights)
    .pointer(CELL.outputBias, outputBias);
  return start;
}

/** The exports of assembly/index.ts (pointers are byte addresses; u64 arguments are BigInts). */
export interface WasmExports {
  heapBase(): number;
  randomStream(seed: bigint, iteration: bigint, index: bigint, out: number, count: number): void;
  randomTopics(offsets: number, sequences: number, topics: number, numTopics: number, seed: bigint): void;
  checksum(values: number, count: number): number;
  countsScratchBytes(K: number): number;
  transitionTable(
    offsets: number,
    sequences: number,
    topics: number,
    K: number,
    order: number,
    smoothing: number,
    out: number,
    scratch: number,
  ): void;
  contextScratchBytes(T: number, V: number, dimensions: number): number;
  contextFeatures(
    tokens: number,
    T: number,
    offsets: number,
    sequences: number,
    V: number,
    dimensions: number,
    seed: bigint,
    features: number,
    scratch: number,
  ): void;
  kmeansScratchBytes(n: number, dimensions: number, K: number): number;
  kmeans(
    points: number,
    n: number,
    dimensions: number,
    weights: number,
    K: number,
    iterations: number,
    seed: bigint,
    labels: number,
    scratch: number,
  ): number;
  buildCounts(
    tokens: number,
    wordOffsets: number,
    V: number,
    wordTokens: number,
    topics: number,
    K: number,
    rowOffsets: number,
    rowTopics: number,
    rowCounts: number,
    capacity: number,
    topicTotals: number,
    scratch: number,
  ): number;
  countRowsRange(params: number, scratch: number, first: number, end: number): void;
  countRowsScratchBytes(K: number): number;
  compactCountRows(params: number, boundaries: number, chunks: number): number;
  aliasRowsRange(params: number, scratch: number, first: number, end: number): void;
  buildDenseAlias(
    topicTotals: number,
    V: number,
    K: number,
    beta: number,
    denseProb: number,
    denseAlias: number,
    denseMass: number,
    scratch: number,
  ): void;
  countHashLayout(rowOffsets: number, V: number, hashRows: number, hashSlots: number): void;
  countHashRange(params: number, scratch: number, first: number, end: number): void;
  countHashSlots(rowOffsets: number, V: number): number;
  idsInRange(values: number, count: number, limit: number): number;
  countsValid(
    rowOffsets: number,
    rowTopics: number,
    rowCounts: number,
    topicTotals: number,
    V: number,
    K: number,
  ): number;
  rowsAscending(wordOffsets: number, V: number, wordTokens: number, T: number): number;
  finiteNonNegative(values: number, count: number): number;
  lstmSteps(cell: number, inputs: number, steps: number, hiddenOut: number, cellOut: number, state: number): void;
  topicTransitions(
    cell: number,
    offsets: number,
    sequences: number,
    topics: number,
    K: number,
    sums: number,
    rowCounts: number,
    scratch: number,
  ): void;
  sweepRange(params: number, scratch: number, first: number, end: number): void;
  sweepScratchBytes(K: number, H: number): number;
  filterRange(params: number, scratch: number, first: number, end: number): void;
  filterToken(
    params: number,
    scratch: number,
    hidden: number,
    cellState: number,
    weights: number,
    topics: number,
    counts: number,
    history: number,
    action: number,
    previousAction: number,
    position: number,
    runLength: number,
    sequence: bigint,
    mixtureOut: number,
  ): number;
  nextMixture(
    params: number,
    scratch: number,
    hidden: number,
    cellState: number,
    weights: number,
    topics: number,
    counts: number,
    history: number,
    action: number,
    position: number,
    mixtureOut: number,
  ): void;
  /** bytes as an f64: at the kernel limits they can pass 2^32 */
  filterScratchBytes(K: number, H: number, S: number, lda: number, copyWindow: number): number;
  filterTokenScratchBytes(K: number, H: number, S: number, lda: number): number;
  /** the LSTM trainer's block job (src/kernels/wasm-lstm-train.ts has its other exports) */
  trainBlocksRange(params: number, scratch: number, first: number, end: number): void;
}

/**
 * The limits the module was compiled with: the globals LIMIT_<NAME>_MIN / _MAX of assembly/limits.ts (NAME in
 * capitals with underscores: mhSteps is MH_STEPS), by the names of KERNEL_LIMITS. A missing global reads NaN.
 */
export function builtLimitsOf(exports: WasmExports): BuiltLimits {
  const globals = exports as unknown as Record<string, WebAssembly.Global | undefined>;
  const read = (name: string, bound: 'MIN' | 'MAX') => {
    const global = globals[`LIMIT_${name.replace(/[A-Z]/g, (letter) => `_${letter}`).toUpperCase()}_${bound}`];
    return global === undefined ? Number.NaN : Number(global.value);
  };
  const limits = {} as BuiltLimits;
  for (const name of Object.keys(KERNEL_LIMITS) as KernelLimitName[])
    limits[name] = { min: read(name, 'MIN'), max: read(name, 'MAX') };
  return limits;
}

/** A worker's state word for synchronous job g (wasm-pool.ts runSync): OPEN it may join, JOINED running chunks,
 * DONE finished; 0 closed. */
export const SYNC_STATE = {
  open: (g: number) => 4 * g + 1,
  joined: (g: number) => 4 * g + 2,
  done: (g: number) => 4 * g + 3,
} as const;

/**
 * A parallel job: the calling thread and any workers that join take chunks [boundaries[c], boundaries[c+1]) of
 * sequences (sweepRange, filterRange) or actions (the row-range entries) by an atomic counter.
 */
export interface RangeJob {
  entry: 'sweepRange' | 'filterRange' | 'countRowsRange' | 'aliasRowsRange' | 'countHashRange' | 'trainBlocksRange';
  params: number;
  /** counter: byte address of an i32 in shared memory, the next chunk to take. */
  counter: number;
  boundaries: Int32Array;
  /** the order in which chunks are taken (largest first, so that the last ones taken are short); default 0, 1, ... */
  order?: Int32Array;
  /** the LSTM trainer's windows: taken by their tickets instead of the chunks (wasm-train-windows.ts) */
  windows?: WindowTickets;
}

/** Run the chunks of a job on one instance until none are left (workers and the in-process path alike). */
export function drainChunks(exports: WasmExports, memory: WebAssembly.Memory, job: RangeJob, scratch: number): void {
  if (job.windows !== undefined) return drainWindows(exports, memory, job, scratch);
  const counter = new Int32Array(memory.buffer, job.counter, 1);
  const chunks = job.boundaries.length - 1;
  const run = exports[job.entry];
  for (let c = Atomics.add(counter, 0, 1); c < chunks; c = Atomics.add(counter, 0, 1)) {
    const chunk = job.order === undefined ? c : job.order[c];
    run(job.params, scratch, job.boundaries[chunk], job.boundaries[chunk + 1]);
  }
}
