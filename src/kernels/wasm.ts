/**
 * The WebAssembly kernel backend: the AssemblyScript kernels of assembly/ (compiled into wasm/ by
 * scripts/build-wasm.mjs) behind the Kernel interface of ./types.ts.
 *
 * - Memory: one shared WebAssembly.Memory when shared memory is available (always in Node 20), so worker
 *   threads run over the same data and `alloc*` arrays are used in place; otherwise a plain memory,
 *   single-threaded, with every array copied in and out per call.
 * - Validation: every argument is checked here, before any call (the kernels trust their inputs).
 * - Threads: every threaded call runs on the calling thread, with idle workers joining in (wasm-pool.ts runSync)
 *   to take chunks by an atomic counter. sweep and particleFilter split sequences into chunks balanced by tokens,
 *   taken largest first; each sequence has its own random stream and its own arithmetic, so results do not depend
 *   on the thread count. The count, alias and count-hash rebuilds split actions into ranges; each range writes its
 *   own rows, so the tables are the same for any thread count.
 */
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import {
  MODE_CODE, PROPOSAL_CODE, type AliasTables, type BuildInfo, type CellWeights, type CountTables, type FilterArgs,
  type FilterState, type Kernel, type KernelMode, type LstmTrainArgs, type SweepArgs, type SweepResult,
} from './types.js';
import { CallScope, LinearMemory, type KernelArray } from './wasm-memory.js';
import { BlockWriter, CELL, FILTER, ROWS, SWEEP, drainChunks, type RangeJob, type WasmExports } from './wasm-layout.js';
import { WorkerPool, controlWords } from './wasm-pool.js';
import { packageRoot, packageVersion } from '../package-info.js';
import { lstmTrainWasm } from './wasm-lstm-train.js';
import type { TrainExports } from './wasm-train-windows.js';
import {
  type ContentChecks, describe, fail, inputRows, requireAlias, requireArray, requireCounts, requireIds, requireInteger, requireOffsets,
  requirePositive, requireRowsAscending, requireSeed, requireWeights, wordIndexProblem,
} from './wasm-validate.js';

/** 65536 pages = 4 GiB, as declared by lla-threads.wasm (scripts/build-wasm.mjs). */
const MAXIMUM_PAGES = 65536;
const INITIAL_PAGES = 16;
/** Chunks per thread: enough for dynamic scheduling to even out long and short sequences. */
const CHUNKS_PER_THREAD = 16;
/** bytes of a cache line (x86-64, and the common ARM cores) */
const CACHE_LINE = 64;
/** Row rebuilds (counts, alias, hash) use another thread only for this many tokens or entries per thread. */
const ROW_WORK_PER_THREAD = 32768;
const MAX_THREADS = 256;
const MAX_TOPICS = 1 << 20;
const MAX_PARTICLES = 1 << 16;

export interface WasmKernelOptions {
  /** false forces the plain-memory single-threaded path (tests); default: shared when available. */
  shared?: boolean;
}

function sharedMemoryWorks(): boolean {
  if (typeof SharedArrayBuffer === 'undefined') return false;
  try {
    new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    return true;
  } catch {
    return false;
  }
}

export async function loadWasmKernel(options: WasmKernelOptions = {}): Promise<WasmKernel> {
  const root = packageRoot();
  const shared = options.shared ?? sharedMemoryWorks();
  if (shared && !sharedMemoryWorks()) {
    throw new Error('WASM kernel: shared WebAssembly memory is not available in this runtime; load with { shared: false }');
  }
  const file = join(root, 'wasm', shared ? 'lla-threads.wasm' : 'lla.wasm');
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw new Error(`WASM kernel: cannot read ${file} (${(error as Error).message}): build it with \`npm run build:wasm\``);
  }
  const module = await WebAssembly.compile(new Uint8Array(bytes));
  const memory = new WebAssembly.Memory(shared
    ? { initial: INITIAL_PAGES, maximum: MAXIMUM_PAGES, shared: true }
    : { initial: INITIAL_PAGES, maximum: MAXIMUM_PAGES });
  const instance = await WebAssembly.instantiate(module, { env: { memory } });
  const version = packageVersion();
  return new WasmKernel(module, memory, instance.exports as unknown as WasmExports, shared, version);
}

export class WasmKernel implements Kernel {
  readonly name = 'wasm' as const;
  private readonly linear: LinearMemory;
  private readonly maxThreads: number;
  private pool: WorkerPool | undefined;
  /** argument contents checked in WebAssembly where the arrays are in linear memory (wasm-validate.ts) */
  private readonly checks: ContentChecks;

  constructor(private readonly module: WebAssembly.Module, private readonly memory: WebAssembly.Memory,
    private readonly wasm: WasmExports, private readonly shared: boolean, private readonly version: string) {
    this.linear = new LinearMemory(memory, shared, wasm.heapBase(), MAXIMUM_PAGES);
    this.maxThreads = shared ? Math.max(1, availableParallelism()) : 1;
    const linear = this.linear;
    this.checks = {
      ids(values, limit, count) {
        const address = linear.addressOf(values);
        return address === undefined ? undefined : wasm.idsInRange(address, count, limit) === 1;
      },
      counts(counts, V, K) {
        const addresses = [counts.rowOffsets, counts.rowTopics, counts.rowCounts, counts.topicTotals].map((a) => linear.addressOf(a));
        if (addresses.some((a) => a === undefined)) return undefined;
        const [rowOffsets, rowTopics, rowCounts, topicTotals] = addresses as number[];
        return wasm.countsValid(rowOffsets, rowTopics, rowCounts, topicTotals, V, K) === 1;
      },
      finiteNonNegative(values) {
        const address = linear.addressOf(values);
        return address === undefined ? undefined : wasm.finiteNonNegative(address, values.length) === 1;
      },
      rowsAscending(wordOffsets, wordTokens) {
        const offsets = linear.addressOf(wordOffsets), positions = linear.addressOf(wordTokens);
        if (offsets === undefined || positions === undefined) return undefined;
        return wasm.rowsAscending(offsets, wordOffsets.length - 1, positions, wordTokens.length) === 1;
      },
    };
  }

  buildInfo(): BuildInfo {
    return {
      backend: 'wasm',
      version: this.version,
      napiVersion: null,
      instructionSet: this.shared ? 'wasm32 simd128 (shared memory, worker_threads)' : 'wasm32 simd128 (single thread)',
      threads: this.shared,
      maxThreads: this.maxThreads,
    };
  }

  allocInt32(length: number): Int32Array { return this.linear.allocArray(Int32Array, length); }
  allocFloat32(length: number): Float32Array { return this.linear.allocArray(Float32Array, length); }
  allocFloat64(length: number): Float64Array { return this.linear.allocArray(Float64Array, length); }

  /** Bytes of linear memory in use by live allocations (diagnostics, leak tests). */
  get usedBytes(): number { return this.linear.usedBytes; }

  /** Jobs run on several threads so far (sweeps, filters, rebuilds), and how often a worker joined one (diagnostics). */
  get threadedJobs(): { jobs: number; workerJoins: number } {
    return { jobs: this.pool?.syncJobs ?? 0, workerJoins: this.pool?.syncJoins ?? 0 };
  }

  /** The worker pool, started if it was not (diagnostics and tests); undefined without threads. */
  get threadPool(): WorkerPool | undefined {
    return this.buildInfo().threads ? this.workerPool() : undefined;
  }

  /** Stop the worker threads (they are unref'd, so this is only needed to release them early). */
  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    if (pool !== undefined) await pool.close();
  }

  checksum(values: Int32Array): number {
    requireArray('checksum', 'values', values, Int32Array);
    return this.withScope((scope) => this.wasm.checksum(scope.bind(values), values.length) >>> 0);
  }

  randomStream(seed: number, iteration: number, index: number, out: Uint32Array): void {
    const entry = 'randomStream';
    const s = requireSeed(entry, 'seed', seed), it = requireSeed(entry, 'iteration', iteration);
    const i = requireSeed(entry, 'index', index);
    requireArray(entry, 'out', out, Uint32Array);
    this.withScope((scope) => {
      this.wasm.randomStream(s, it, i, scope.bind(out, true), out.length);
      scope.finish();
    });
  }

  randomTopics(offsets: Int32Array, topics: Int32Array, numTopics: number, seed: number): void {
    const entry = 'randomTopics';
    requireArray(entry, 'topics', topics, Int32Array);
    const D = requireOffsets(entry, offsets, topics.length);
    const K = requireInteger(entry, 'numTopics', numTopics, 1, MAX_TOPICS);
    const s = requireSeed(entry, 'seed', seed);
    this.withScope((scope) => {
      this.wasm.randomTopics(scope.bind(offsets), D, scope.bind(topics, true), K, s);
      scope.finish();
    });
  }

  buildCounts(tokens: Int32Array, wordOffsets: Int32Array, wordTokens: Int32Array, topics: Int32Array,
    numTopics: number, out: CountTables, threads?: number): number {
    const entry = 'buildCounts';
    const threadsAsked = threads === undefined ? 1 : requireInteger(entry, 'threads', threads, 0, MAX_THREADS);
    requireArray(entry, 'tokens', tokens, Int32Array);
    const T = tokens.length;
    requireArray(entry, 'wordTokens', wordTokens, Int32Array, T);
    const V = requireOffsets(entry, wordOffsets, T, 'wordOffsets');
    requireIds(entry, 'tokens', tokens, V, this.checks);
    requireIds(entry, 'wordTokens', wordTokens, T, this.checks);
    requireRowsAscending(entry, wordOffsets, wordTokens, this.checks);
    const K = requireInteger(entry, 'numTopics', numTopics, 1, MAX_TOPICS);
    requireArray(entry, 'topics', topics, Int32Array, T);
    requireIds(entry, 'topics', topics, K, this.checks);
    if (typeof out !== 'object' || out === null) fail(entry, `out must be a CountTables object, got ${describe(out)}`);
    requireArray(entry, 'out.rowOffsets', out.rowOffsets, Int32Array, V + 1);
    requireArray(entry, 'out.rowTopics', out.rowTopics, Int32Array);
    requireArray(entry, 'out.rowCounts', out.rowCounts, Int32Array);
    requireArray(entry, 'out.topicTotals', out.topicTotals, Int32Array, K);
    const capacity = Math.min(out.rowTopics.length, out.rowCounts.length);
    // several threads write each range of rows where its tokens start, so they need room for T entries
    const parts = capacity >= T ? this.rowThreads(threadsAsked, T) : 1;
    const nnz = this.withScope((scope) => {
      if (parts > 1) {
        const params = scope.scratch(ROWS.bytes);
        new BlockWriter(this.memory.buffer, params, ROWS.bytes)
          .pointer(ROWS.tokens, scope.bind(tokens)).pointer(ROWS.wordOffsets, scope.bind(wordOffsets))
          .pointer(ROWS.wordTokens, scope.bind(wordTokens)).pointer(ROWS.assignments, scope.bind(topics))
          .int(ROWS.topics, K).int(ROWS.vocabulary, V).pointer(ROWS.rowOffsets, scope.bind(out.rowOffsets, true))
          .pointer(ROWS.rowTopics, scope.bind(out.rowTopics, true)).pointer(ROWS.rowCounts, scope.bind(out.rowCounts, true));
        const scratchBytes = this.wasm.countRowsScratchBytes(K);
        const { boundaries, scratch } = this.runRowRanges(scope, 'countRowsRange', params, parts, scratchBytes, V,
          (w) => wordOffsets[w]);
        const error = this.linear.view(Int32Array, params + ROWS.error, 1)[0];
        if (error !== 0) return error;
        const result = this.wasm.compactCountRows(params, scope.bind(boundaries), boundaries.length - 1);
        // topic totals: the sum of every participant's (at the start of its scratch; zero if it never joined)
        const totals = out.topicTotals;
        totals.fill(0);
        for (const start of scratch) {
          const partial = this.linear.view(Int32Array, start, K);
          for (let k = 0; k < K; k++) totals[k] += partial[k];
        }
        scope.finish();
        return result;
      }
      const result = this.wasm.buildCounts(scope.bind(tokens), scope.bind(wordOffsets), V, scope.bind(wordTokens),
        scope.bind(topics), K, scope.bind(out.rowOffsets, true), scope.bind(out.rowTopics, true),
        scope.bind(out.rowCounts, true), capacity, scope.bind(out.topicTotals, true),
        scope.scratch(this.wasm.countsScratchBytes(K)));
      if (result >= 0) scope.finish();
      return result;
    });
    if (nnz === -1) {
      fail(entry, `out.rowTopics/out.rowCounts hold ${capacity} entries, fewer than the non-zero counts: allocate T = ${T}`);
    }
    if (nnz === -2) fail(entry, wordIndexProblem(tokens, wordOffsets, wordTokens));
    return nnz;
  }

  buildAlias(counts: CountTables, numTopics: number, beta: number, out: AliasTables, threads?: number): void {
    const entry = 'buildAlias';
    const threadsAsked = threads === undefined ? 1 : requireInteger(entry, 'threads', threads, 0, MAX_THREADS);
    const K = requireInteger(entry, 'numTopics', numTopics, 1, MAX_TOPICS);
    if (typeof counts !== 'object' || counts === null || !(counts.rowOffsets instanceof Int32Array)) {
      fail(entry, `counts must be a CountTables object with an Int32Array rowOffsets, got ${describe(counts)}`);
    }
    const V = counts.rowOffsets.length - 1;
    if (V < 1) fail(entry, 'counts.rowOffsets must hold V+1 >= 2 entries');
    const nnz = requireCounts(entry, counts, V, K, this.checks);
    const b = requirePositive(entry, 'beta', beta);
    if (typeof out !== 'object' || out === null) fail(entry, `out must be an AliasTables object, got ${describe(out)}`);
    requireArray(entry, 'out.sparseProb', out.sparseProb, Float32Array, nnz, true);
    requireArray(entry, 'out.sparseAlias', out.sparseAlias, Int32Array, nnz, true);
    requireArray(entry, 'out.sparseMass', out.sparseMass, Float64Array, V);
    requireArray(entry, 'out.denseProb', out.denseProb, Float32Array, K);
    requireArray(entry, 'out.denseAlias', out.denseAlias, Int32Array, K);
    requireArray(entry, 'out.denseMass', out.denseMass, Float64Array, 1);
    this.withScope((scope) => {
      const params = scope.scratch(ROWS.bytes);
      const topicTotals = scope.bind(counts.topicTotals);
      new BlockWriter(this.memory.buffer, params, ROWS.bytes)
        .pointer(ROWS.rowOffsets, scope.bind(counts.rowOffsets)).pointer(ROWS.rowTopics, scope.bind(counts.rowTopics))
        .pointer(ROWS.rowCounts, scope.bind(counts.rowCounts)).pointer(ROWS.topicTotals, topicTotals)
        .int(ROWS.topics, K).int(ROWS.vocabulary, V).float64(ROWS.beta, b)
        .pointer(ROWS.sparseProb, scope.bind(out.sparseProb, true)).pointer(ROWS.sparseAlias, scope.bind(out.sparseAlias, true))
        .pointer(ROWS.sparseMass, scope.bind(out.sparseMass, true));
      const { scratch } = this.runRowRanges(scope, 'aliasRowsRange', params, this.rowThreads(threadsAsked, nnz + V),
        16 * K, V, (w) => counts.rowOffsets[w] + w);
      this.wasm.buildDenseAlias(topicTotals, V, K, b, scope.bind(out.denseProb, true), scope.bind(out.denseAlias, true),
        scope.bind(out.denseMass, true), scratch[0]);
      scope.finish();
    });
  }

  async sweep(args: SweepArgs): Promise<SweepResult> {
    const entry = 'sweep';
    if (typeof args !== 'object' || args === null) fail(entry, `args must be a SweepArgs object, got ${describe(args)}`);
    const mode = requireMode(entry, args.mode);
    const K = requireInteger(entry, 'numTopics', args.numTopics, 1, MAX_TOPICS);
    const V = requireInteger(entry, 'vocabularySize', args.vocabularySize, 1, 0x7ffffffe);
    requireArray(entry, 'tokens', args.tokens, Int32Array);
    const T = args.tokens.length;
    requireIds(entry, 'tokens', args.tokens, V, this.checks);
    const D = requireOffsets(entry, args.offsets, T);
    requireArray(entry, 'topicsPrev', args.topicsPrev, Int32Array, T);
    requireIds(entry, 'topicsPrev', args.topicsPrev, K, this.checks);
    requireArray(entry, 'topicsNext', args.topicsNext, Int32Array, T);
    if (typeof args.exact !== 'boolean') fail(entry, `exact must be a boolean, got ${describe(args.exact)}`);
    const proposals = PROPOSAL_CODE[args.proposals];
    if (!args.exact && proposals === undefined) {
      fail(entry, `proposals must be one of ${Object.keys(PROPOSAL_CODE).join(', ')}, got ${describe(args.proposals)}`);
    }
    const mhSteps = args.exact ? 0 : requireInteger(entry, 'mhSteps', args.mhSteps, 1, 1000);
    const nnz = requireCounts(entry, args.counts, V, K, this.checks);
    if (!args.exact) requireAlias(entry, args.alias, V, K, nnz, this.checks);
    const beta = requirePositive(entry, 'beta', args.beta);
    const alpha = mode === 'lda' ? requirePositive(entry, 'alpha', args.alpha) : 0;
    const smoothing = !args.exact && (proposals & PROPOSAL_CODE.sequence) !== 0
      ? requirePositive(entry, 'sequenceSmoothing', args.sequenceSmoothing) : 1;
    const H = mode === 'lda' ? 0
      : requireWeights(entry, args.weights, inputRows(mode, K, V), K, `${mode} mode samples with the LSTM`);
    const seed = requireSeed(entry, 'seed', args.seed);
    const iteration = requireSeed(entry, 'iteration', args.iteration);
    const threads = this.threadCount(entry, args.threads, D);

    const scope = new CallScope(this.linear);
    try {
      const params = scope.scratch(SWEEP.bytes);
      const counts = args.counts;
      const alias = args.alias;
      const perSequence = scope.scratch(24 * D);
      const inverseTotals = this.inverseTotals(scope, counts.topicTotals, V, beta);
      const pointers = {
        tokens: scope.bind(args.tokens), offsets: scope.bind(args.offsets), topicsPrev: scope.bind(args.topicsPrev),
        topicsNext: scope.bind(args.topicsNext, true), rowOffsets: scope.bind(counts.rowOffsets),
        rowTopics: scope.bind(counts.rowTopics), rowCounts: scope.bind(counts.rowCounts),
        topicTotals: scope.bind(counts.topicTotals),
        alias: args.exact ? [0, 0, 0, 0, 0, 0] : [scope.bind(alias.sparseProb), scope.bind(alias.sparseAlias),
          scope.bind(alias.sparseMass), scope.bind(alias.denseProb), scope.bind(alias.denseAlias),
          scope.bind(alias.denseMass)],
        cell: H > 0 ? this.bindCell(scope, args.weights!, H) : 0,
      };
      // n_{k,w} hash tables for the sweep's phi lookups (assembly/count_hash.ts), rebuilt per call: O(V + nnz).
      const hashSlotCount = this.wasm.countHashSlots(pointers.rowOffsets, V);
      if (hashSlotCount < 0) {
        fail(entry, 'the count hash tables exceed 2^31 slots: use fewer topics or a smaller corpus');
      }
      // every row header and slot is written by the build: no zero fill (it cost ~0.5 ms per sweep on the event log)
      const hashRows = scope.scratch(8 * V, false);
      const hashSlots = scope.scratch(8 * hashSlotCount, false);
      this.wasm.countHashLayout(pointers.rowOffsets, V, hashRows, hashSlots);
      const hashParams = scope.scratch(ROWS.bytes);
      new BlockWriter(this.memory.buffer, hashParams, ROWS.bytes).pointer(ROWS.rowOffsets, pointers.rowOffsets)
        .pointer(ROWS.rowTopics, pointers.rowTopics).pointer(ROWS.rowCounts, pointers.rowCounts)
        .pointer(ROWS.hashRows, hashRows).pointer(ROWS.hashSlots, hashSlots);
      const rowOffsets = args.counts.rowOffsets;
      this.runRowRanges(scope, 'countHashRange', hashParams, this.rowThreads(threads, nnz + V), 0, V,
        (w) => rowOffsets[w] + w);
      new BlockWriter(this.memory.buffer, params, SWEEP.bytes)
        .int(SWEEP.mode, MODE_CODE[mode]).int(SWEEP.exact, args.exact ? 1 : 0).int(SWEEP.mhSteps, mhSteps)
        .int(SWEEP.proposals, args.exact ? 0 : proposals).int(SWEEP.topics, K).int(SWEEP.vocabulary, V)
        .int(SWEEP.sequences, D)
        .pointer(SWEEP.tokens, pointers.tokens).pointer(SWEEP.offsets, pointers.offsets)
        .pointer(SWEEP.topicsPrev, pointers.topicsPrev).pointer(SWEEP.topicsNext, pointers.topicsNext)
        .pointer(SWEEP.rowOffsets, pointers.rowOffsets).pointer(SWEEP.rowTopics, pointers.rowTopics)
        .pointer(SWEEP.rowCounts, pointers.rowCounts).pointer(SWEEP.topicTotals, pointers.topicTotals)
        .pointer(SWEEP.sparseProb, pointers.alias[0]).pointer(SWEEP.sparseAlias, pointers.alias[1])
        .pointer(SWEEP.sparseMass, pointers.alias[2]).pointer(SWEEP.denseProb, pointers.alias[3])
        .pointer(SWEEP.denseAlias, pointers.alias[4]).pointer(SWEEP.denseMass, pointers.alias[5])
        .pointer(SWEEP.cell, pointers.cell).pointer(SWEEP.inverseTotals, inverseTotals)
        .pointer(SWEEP.perSequence, perSequence)
        .float64(SWEEP.beta, beta).float64(SWEEP.alpha, alpha).float64(SWEEP.smoothing, smoothing)
        .unsigned64(SWEEP.seed, seed).unsigned64(SWEEP.iteration, iteration)
        .pointer(SWEEP.hashRows, hashRows).pointer(SWEEP.hashSlots, hashSlots);
      const scratchBytes = this.wasm.sweepScratchBytes(K, H);
      this.runRanges(scope, 'sweepRange', params, args.offsets, D, threads, scratchBytes);
      const stats = this.linear.view(Float64Array, perSequence, 3 * D);
      let logPhi = 0, made = 0, accepted = 0;
      for (let d = 0; d < D; d++) {
        logPhi += stats[3 * d];
        made += stats[3 * d + 1];
        accepted += stats[3 * d + 2];
      }
      scope.finish();
      return { logPhi, proposalsMade: made, proposalsAccepted: accepted };
    } finally {
      scope.release();
    }
  }

  async particleFilter(args: FilterArgs): Promise<void> {
    const entry = 'particleFilter';
    if (typeof args !== 'object' || args === null) fail(entry, `args must be a FilterArgs object, got ${describe(args)}`);
    const common = this.validateFilterCommon(entry, args);
    const { mode, K, V } = common;
    requireArray(entry, 'tokens', args.tokens, Int32Array);
    const T = args.tokens.length;
    requireIds(entry, 'tokens', args.tokens, V, this.checks);
    const D = requireOffsets(entry, args.offsets, T);
    requireArray(entry, 'logLikelihood', args.logLikelihood, Float64Array, D);
    let P = 0;
    if (args.mixturePositions !== undefined) {
      requireArray(entry, 'mixturePositions', args.mixturePositions, Int32Array);
      const positions = args.mixturePositions;
      P = positions.length;
      for (let p = 0; p < P; p++) {
        if (!(positions[p] >= 0 && positions[p] < T) || (p > 0 && positions[p] <= positions[p - 1])) {
          fail(entry, `mixturePositions must be strictly ascending token positions in [0, ${T}); entry ${p} is ${positions[p]}`);
        }
      }
      requireArray(entry, 'mixtures', args.mixtures, Float32Array, P * K);
    } else if (args.mixtures !== undefined) {
      fail(entry, 'mixtures was given without mixturePositions: pass both or neither');
    }
    const threads = this.threadCount(entry, args.threads, D);
    const scope = new CallScope(this.linear);
    try {
      const params = this.writeFilterParams(scope, args, common);
      const block = new BlockWriter(this.memory.buffer, params, FILTER.bytes)
        .int(FILTER.sequences, D).pointer(FILTER.tokens, scope.bind(args.tokens))
        .pointer(FILTER.offsets, scope.bind(args.offsets))
        .pointer(FILTER.logLikelihood, scope.bind(args.logLikelihood, true)).int(FILTER.mixtureCount, P);
      if (P > 0) {
        block.pointer(FILTER.mixturePositions, scope.bind(args.mixturePositions!))
          .pointer(FILTER.mixtures, scope.bind(args.mixtures!, true));
      }
      const scratchBytes = this.wasm.filterScratchBytes(K, common.H, common.particlesUsed, mode === 'lda' ? 1 : 0);
      this.runRanges(scope, 'filterRange', params, args.offsets, D, threads, scratchBytes);
      scope.finish();
    } finally {
      scope.release();
    }
  }

  filterStep(args: Parameters<Kernel['filterStep']>[0]): number {
    const entry = 'filterStep';
    if (typeof args !== 'object' || args === null) fail(entry, `args must be an object, got ${describe(args)}`);
    const common = this.validateFilterCommon(entry, args);
    const { mode, K, V, H, particlesUsed: S } = common;
    const action = requireInteger(entry, 'action', args.action, 0, V - 1);
    const sequenceIndex = requireInteger(entry, 'sequenceIndex', args.sequenceIndex, 0);
    const state = args.state as FilterState;
    if (typeof state !== 'object' || state === null) fail(entry, `state must be a FilterState object, got ${describe(state)}`);
    requireArray(entry, 'state.position', state.position, Int32Array, 1);
    requireArray(entry, 'state.previousAction', state.previousAction, Int32Array, 1);
    requireArray(entry, 'state.weights', state.weights, Float64Array, S, true);
    requireArray(entry, 'state.previousTopic', state.previousTopic, Int32Array, S, true);
    requireArray(entry, 'state.hiddenState', state.hiddenState, Float32Array, S * H, true);
    requireArray(entry, 'state.cellState', state.cellState, Float32Array, S * H, true);
    if (mode === 'lda') requireArray(entry, 'state.topicCounts', state.topicCounts, Int32Array, S * K, true);
    const position = requireInteger(entry, 'state.position[0]', state.position[0], 0, 0x7ffffffe);
    const previousAction = requireInteger(entry, 'state.previousAction[0]', state.previousAction[0], -1, V - 1);
    for (let s = 0; s < S; s++) {
      const z = state.previousTopic[s];
      if (!(z >= -1 && z < K)) fail(entry, `state.previousTopic[${s}] = ${z} must be -1 (start) or a topic below ${K}`);
    }
    if (args.mixtureOut !== undefined) requireArray(entry, 'mixtureOut', args.mixtureOut, Float32Array, K);
    return this.withScope((scope) => {
      const params = this.writeFilterParams(scope, args, common);
      const scratch = scope.scratch(this.wasm.filterTokenScratchBytes(K, H, S, mode === 'lda' ? 1 : 0));
      const hidden = scope.bind(state.hiddenState, true), cellState = scope.bind(state.cellState, true);
      const weights = scope.bind(state.weights, true), topics = scope.bind(state.previousTopic, true);
      const counts = mode === 'lda' ? scope.bind(state.topicCounts, true) : 0;
      const logProbability = this.wasm.filterToken(params, scratch, hidden, cellState, weights, topics, counts,
        action, previousAction, position, sequenceIndex, 0);
      if (args.mixtureOut !== undefined) {
        this.wasm.nextMixture(params, scratch, hidden, cellState, weights, topics, counts, action, position + 1,
          scope.bind(args.mixtureOut, true));
      }
      scope.finish();
      state.position[0] = position + 1;
      state.previousAction[0] = action;
      return logProbability;
    });
  }

  lstmSteps(weights: CellWeights, inputs: Int32Array, hiddenOut: Float32Array, cellOut: Float32Array): void {
    const entry = 'lstmSteps';
    if (typeof weights !== 'object' || weights === null) fail(entry, `weights must be CellWeights, got ${describe(weights)}`);
    const H = requireInteger(entry, 'weights.hidden', weights.hidden, 1, 1 << 16);
    requireArray(entry, 'weights.inputTable', weights.inputTable, Float32Array);
    const rows = weights.inputTable.length / (4 * H);
    if (!Number.isInteger(rows) || rows < 1) {
      fail(entry, `weights.inputTable has ${weights.inputTable.length} floats, not a positive multiple of 4H = ${4 * H}`);
    }
    requireWeights(entry, weights, rows, undefined, 'the cell');
    requireArray(entry, 'inputs', inputs, Int32Array);
    requireIds(entry, 'inputs', inputs, rows, this.checks);
    requireArray(entry, 'hiddenOut', hiddenOut, Float32Array, inputs.length * H);
    requireArray(entry, 'cellOut', cellOut, Float32Array, inputs.length * H);
    this.withScope((scope) => {
      this.wasm.lstmSteps(this.bindCell(scope, weights, H), scope.bind(inputs), inputs.length,
        scope.bind(hiddenOut, true), scope.bind(cellOut, true), scope.scratch(24 * H));
      scope.finish();
    });
  }

  topicTransitions(offsets: Int32Array, topics: Int32Array, weights: CellWeights, numTopics: number,
    sums: Float64Array, rowCounts: Float64Array): void {
    const entry = 'topicTransitions';
    requireArray(entry, 'topics', topics, Int32Array);
    const D = requireOffsets(entry, offsets, topics.length);
    const K = requireInteger(entry, 'numTopics', numTopics, 1, MAX_TOPICS);
    requireIds(entry, 'topics', topics, K, this.checks);
    const H = requireWeights(entry, weights, K + 1, K, 'topic transitions need the lla LSTM');
    requireArray(entry, 'sums', sums, Float64Array, K * K);
    requireArray(entry, 'rowCounts', rowCounts, Float64Array, K);
    this.withScope((scope) => {
      this.wasm.topicTransitions(this.bindCell(scope, weights, H), scope.bind(offsets), D, scope.bind(topics), K,
        scope.bind(sums, true), scope.bind(rowCounts, true), scope.scratch(24 * H + 4 * K + 16 + 8 * K));
      scope.finish();
    });
  }

  lstmTrain(args: LstmTrainArgs): Promise<void> {
    return lstmTrainWasm({
      linear: this.linear, memory: this.memory, exports: this.wasm as unknown as TrainExports,
      threads: (entry, requested, units) => this.threadCount(entry, requested, units),
      runJob: (scope, job, parts, bytes) => this.runJob(scope, job, parts, bytes),
    }, args);
  }

  // ---- helpers ----

  private withScope<T>(body: (scope: CallScope) => T): T {
    const scope = new CallScope(this.linear);
    try {
      return body(scope);
    } finally {
      scope.release();
    }
  }

  private threadCount(entry: string, requested: unknown, sequences: number): number {
    const asked = requireInteger(entry, 'threads', requested, 0, MAX_THREADS);
    const wanted = asked === 0 ? this.maxThreads : asked;
    if (!this.shared) return 1;
    return Math.max(1, Math.min(wanted, sequences));
  }

  /** Threads for a row rebuild of `work` units (tokens or entries): none below ROW_WORK_PER_THREAD each. */
  private rowThreads(requested: number, work: number): number {
    if (!this.shared) return 1;
    const wanted = requested === 0 ? this.maxThreads : requested;
    return Math.max(1, Math.min(wanted, this.maxThreads, Math.floor(work / ROW_WORK_PER_THREAD)));
  }

  /**
   * Run a row-range entry over actions [0, V) on `parts` threads (runJob; as one range when `parts` is 1), in
   * ranges of about equal `weight` (a non-decreasing prefix over actions: weight(V) = the total).
   * Returns the ranges' first actions [chunks+1] and the scratch of each participant (caller's first).
   */
  private runRowRanges(scope: CallScope, entry: RangeJob['entry'], params: number, parts: number, scratchBytes: number,
    V: number, weight: (action: number) => number): { boundaries: Int32Array; scratch: number[] } {
    const chunks = parts === 1 ? 1 : Math.min(V, parts * CHUNKS_PER_THREAD);
    const total = weight(V);
    const boundaries = new Int32Array(chunks + 1);
    boundaries[chunks] = V;
    // first action whose prefix reaches c / chunks of the total (binary search: weight is non-decreasing)
    for (let c = 1; c < chunks; c++) {
      const target = (total * c) / chunks;
      let low = boundaries[c - 1], high = V;
      while (low < high) {
        const middle = (low + high) >>> 1;
        if (weight(middle) < target) low = middle + 1; else high = middle;
      }
      boundaries[c] = low;
    }
    return { boundaries, scratch: this.runJob(scope, { entry, params, counter: scope.scratch(4), boundaries }, parts, scratchBytes) };
  }

  /**
   * Run `job` on this thread, with up to parts - 1 idle workers joining (wasm-pool.ts runSync); returns the scratch
   * (scratchBytes, zero-filled) of each participant, this thread's first. Not on workers alone while this thread
   * waits: side by side, with the calling thread idle and two workers sampling, the event log's lda sweeps at 2
   * threads gave 1.55-1.66x one thread; with this thread and one worker, 1.70-1.90x (the idle thread's CPU is then
   * used, and one worker fewer is woken). The event loop waits for the job, as it always did with one thread.
   */
  private runJob(scope: CallScope, job: RangeJob, parts: number, scratchBytes: number): number[] {
    const scratch: number[] = [];
    for (let i = 0; i < parts; i++) scratch.push(cacheLineScratch(scope, scratchBytes));
    if (parts === 1) drainChunks(this.wasm, this.memory, job, scratch[0]);
    else this.workerPool().runSync(this.wasm, job, scratch);
    return scratch;
  }

  private workerPool(): WorkerPool {
    this.pool ??= new WorkerPool(this.module, this.memory, this.linear.allocate(4 * controlWords(this.maxThreads)),
      this.maxThreads);
    return this.pool;
  }

  /** 1 / (n_k + V beta) for every topic, computed once per call (f64 [K]). */
  private inverseTotals(scope: CallScope, topicTotals: Int32Array, V: number, beta: number): number {
    const K = topicTotals.length;
    const start = scope.scratch(8 * K);
    const view = this.linear.view(Float64Array, start, K);
    for (let k = 0; k < K; k++) view[k] = 1 / (topicTotals[k] + V * beta);
    return start;
  }

  private bindCell(scope: CallScope, weights: CellWeights, H: number): number {
    const start = scope.scratch(CELL.bytes);
    const inputTable = scope.bind(weights.inputTable), recurrent = scope.bind(weights.recurrent);
    const gateBias = scope.bind(weights.gateBias);
    const outputWeights = weights.outputWeights instanceof Float32Array ? scope.bind(weights.outputWeights) : 0;
    const outputBias = weights.outputBias instanceof Float32Array ? scope.bind(weights.outputBias) : 0;
    new BlockWriter(this.memory.buffer, start, CELL.bytes).int(CELL.hidden, H)
      .pointer(CELL.inputTable, inputTable).pointer(CELL.recurrent, recurrent).pointer(CELL.gateBias, gateBias)
      .pointer(CELL.outputWeights, outputWeights).pointer(CELL.outputBias, outputBias);
    return start;
  }

  private validateFilterCommon(entry: string, args: Omit<FilterArgs, 'tokens' | 'offsets' | 'logLikelihood' | 'threads'>) {
    const mode = requireMode(entry, args.mode);
    const K = requireInteger(entry, 'numTopics', args.numTopics, 1, MAX_TOPICS);
    const V = requireInteger(entry, 'vocabularySize', args.vocabularySize, 1, 0x7ffffffe);
    requireCounts(entry, args.counts, V, K, this.checks);
    const beta = requirePositive(entry, 'beta', args.beta);
    const alpha = mode === 'lda' ? requirePositive(entry, 'alpha', args.alpha) : 0;
    const H = mode === 'lda' ? 0
      : requireWeights(entry, args.weights, inputRows(mode, K, V), K, `${mode} likelihood runs the LSTM`);
    const particles = requireInteger(entry, 'particles', args.particles, 1, MAX_PARTICLES);
    const seed = requireSeed(entry, 'seed', args.seed);
    return { mode, K, V, H, beta, alpha, seed, particles, particlesUsed: mode === 'word-lla' ? 1 : particles };
  }

  /** The filter parameter block without the per-corpus fields (tokens, offsets, outputs). */
  private writeFilterParams(scope: CallScope, args: Omit<FilterArgs, 'tokens' | 'offsets' | 'logLikelihood' | 'threads'>,
    common: ReturnType<WasmKernel['validateFilterCommon']>): number {
    const params = scope.scratch(FILTER.bytes);
    const counts = args.counts;
    const inverseTotals = this.inverseTotals(scope, counts.topicTotals, common.V, common.beta);
    const cell = common.H > 0 ? this.bindCell(scope, args.weights!, common.H) : 0;
    new BlockWriter(this.memory.buffer, params, FILTER.bytes)
      .int(FILTER.mode, MODE_CODE[common.mode]).int(FILTER.topics, common.K).int(FILTER.vocabulary, common.V)
      .pointer(FILTER.rowOffsets, scope.bind(counts.rowOffsets)).pointer(FILTER.rowTopics, scope.bind(counts.rowTopics))
      .pointer(FILTER.rowCounts, scope.bind(counts.rowCounts)).pointer(FILTER.cell, cell)
      .pointer(FILTER.inverseTotals, inverseTotals).int(FILTER.particles, common.particles)
      .float64(FILTER.beta, common.beta).float64(FILTER.alpha, common.alpha).unsigned64(FILTER.seed, common.seed);
    return params;
  }

  /** Run `entry` over all sequences in chunks of about equal tokens on `threads` threads (runJob). */
  private runRanges(scope: CallScope, entry: RangeJob['entry'], params: number, offsets: Int32Array,
    D: number, threads: number, scratchBytes: number): void {
    const boundaries = chunkBoundaries(offsets, D, threads);
    // largest chunks first: one long sequence (the event log's longest holds 5% of its tokens) taken last would
    // leave the other threads idle while it runs
    const order = Int32Array.from({ length: boundaries.length - 1 }, (_, c) => c)
      .sort((a, b) => (offsets[boundaries[b + 1]] - offsets[boundaries[b]]) - (offsets[boundaries[a + 1]] - offsets[boundaries[a]]) || a - b);
    this.runJob(scope, { entry, params, counter: scope.scratch(4), boundaries, order }, threads, scratchBytes);
  }
}

/**
 * Zero-filled scratch of one thread on cache lines of its own (at least 64 bytes from any other block): the
 * threads' blocks are allocated one after the other, and two threads' per-token counters must not share a line.
 * The 2-thread lda sweep of the event log at K=100 went from 15.5-16 to 14-15 ms.
 */
function cacheLineScratch(scope: CallScope, bytes: number): number {
  const start = scope.scratch(bytes + 2 * CACHE_LINE);
  return Math.ceil(start / CACHE_LINE) * CACHE_LINE + CACHE_LINE;
}

function requireMode(entry: string, mode: unknown): KernelMode {
  if (typeof mode !== 'string' || !(mode in MODE_CODE)) {
    fail(entry, `mode must be one of ${Object.keys(MODE_CODE).join(', ')}, got ${describe(mode)}`);
  }
  return mode as KernelMode;
}

/** Sequence boundaries of chunks holding about T / (threads * CHUNKS_PER_THREAD) tokens each (one chunk for one thread). */
function chunkBoundaries(offsets: Int32Array, D: number, threads: number): Int32Array {
  if (threads === 1 || D === 0) return Int32Array.of(0, D);
  const target = Math.max(1, Math.ceil(offsets[D] / (threads * CHUNKS_PER_THREAD)));
  const boundaries = [0];
  let chunkStart = 0;
  for (let d = 1; d <= D; d++) {
    if (offsets[d] - offsets[chunkStart] >= target || d === D) {
      boundaries.push(d);
      chunkStart = d;
    }
  }
  return Int32Array.from(boundaries);
}

export type { KernelArray };
