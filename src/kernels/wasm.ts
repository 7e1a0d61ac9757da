/**
 * The WebAssembly kernel backend: the AssemblyScript kernels of assembly/ (compiled into wasm/ by
 * scripts/build-wasm.mjs) behind the Kernel interface of ./types.ts. Split as the native side is: this file makes
 * the calls (loading, parameter blocks, results: native/binding.cc); wasm-arguments.ts and wasm-validate.ts check
 * the arguments (native/args.*), after limits.ts has checked them against the limits table as for the native
 * backend; wasm-schedule.ts runs the threaded calls (native/pool.*), with wasm-pool.ts and wasm-worker.ts.
 *
 * - Memory: one shared WebAssembly.Memory when shared memory is available (always in Node 20), so worker
 *   threads run over the same data and `alloc*` arrays are used in place; otherwise a plain memory,
 *   single-threaded, with every array copied in and out per call (wasm-memory.ts).
 * - Validation: every argument is checked before any call (the kernels trust their inputs).
 * - Threads: every threaded call runs on the calling thread, with idle workers joining in (wasm-schedule.ts).
 */
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { kernelArgumentChecks, type BuiltLimits } from './limits.js';
import {
  transitionCells,
  type AliasTables,
  type BuildInfo,
  type CellWeights,
  type CountTables,
  type FilterArgs,
  type Kernel,
  type LstmTrainArgs,
  type SweepArgs,
  type SweepResult,
} from './types.js';
import {
  checkBuildAlias,
  checkBuildCounts,
  checkFilterStep,
  checkLstmSteps,
  checkParticleFilter,
  checkRandomTopics,
  checkSweep,
  checkTopicTransitions,
  checkTransitionTable,
  checkContextFeatures,
  checkKMeans,
  usesSequenceProposal,
  type FilterShape,
} from './wasm-arguments.js';
import { CallScope, LinearMemory, type KernelArray } from './wasm-memory.js';
import { BlockWriter, CELL, FILTER, ROWS, SWEEP, builtLimitsOf, type WasmExports } from './wasm-layout.js';
import type { WorkerPool } from './wasm-pool.js';
import { WasmScheduler } from './wasm-schedule.js';
import { type ContentChecks, fail, linearMemoryChecks, requireArray, wordIndexProblem } from './wasm-validate.js';
import { lstmTrainWasm } from './wasm-lstm-train.js';
import type { TrainExports } from './wasm-train-windows.js';
import { packageRoot, packageVersion } from '../package-info.js';

/** 65536 pages = 4 GiB, as declared by lla-threads.wasm (scripts/build-wasm.mjs). */
const MAXIMUM_PAGES = 65536;
const INITIAL_PAGES = 16;

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
    throw new Error(
      'WASM kernel: shared WebAssembly memory is not available in this runtime; load with { shared: false }',
    );
  }
  const file = join(root, 'wasm', shared ? 'lla-threads.wasm' : 'lla.wasm');
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw new Error(
      `WASM kernel: cannot read ${file} (${(error as Error).message}): build it with \`npm run build:wasm\``,
    );
  }
  const module = await WebAssembly.compile(new Uint8Array(bytes));
  const memory = new WebAssembly.Memory(
    shared
      ? { initial: INITIAL_PAGES, maximum: MAXIMUM_PAGES, shared: true }
      : { initial: INITIAL_PAGES, maximum: MAXIMUM_PAGES },
  );
  const instance = await WebAssembly.instantiate(module, { env: { memory } });
  const version = packageVersion();
  return new WasmKernel(module, memory, instance.exports as unknown as WasmExports, shared, version);
}

export class WasmKernel implements Kernel {
  readonly name = 'wasm' as const;
  private readonly linear: LinearMemory;
  private readonly scheduler: WasmScheduler;
  /** the limits and names, checked as for the native backend (limits.ts) */
  private readonly check = kernelArgumentChecks('WASM kernel');
  /** argument contents checked in WebAssembly where the arrays are in linear memory (wasm-validate.ts) */
  private readonly checks: ContentChecks;

  constructor(
    module: WebAssembly.Module,
    private readonly memory: WebAssembly.Memory,
    private readonly wasm: WasmExports,
    private readonly shared: boolean,
    private readonly version: string,
  ) {
    this.linear = new LinearMemory(memory, shared, wasm.heapBase(), MAXIMUM_PAGES);
    this.scheduler = new WasmScheduler(
      module,
      memory,
      wasm,
      this.linear,
      shared ? Math.max(1, availableParallelism()) : 1,
    );
    this.checks = linearMemoryChecks(this.linear, wasm);
  }

  buildInfo(): BuildInfo {
    return {
      backend: 'wasm',
      version: this.version,
      napiVersion: null,
      instructionSet: this.shared ? 'wasm32 simd128 (shared memory, worker_threads)' : 'wasm32 simd128 (single thread)',
      threads: this.shared,
      maxThreads: this.scheduler.maxThreads,
    };
  }

  /** The limits the module was compiled with (assembly/limits.ts; tests compare them with KERNEL_LIMITS). */
  builtLimits(): BuiltLimits {
    return builtLimitsOf(this.wasm);
  }

  allocInt32(length: number): Int32Array {
    return this.linear.allocArray(Int32Array, length);
  }
  allocFloat32(length: number): Float32Array {
    return this.linear.allocArray(Float32Array, length);
  }
  allocFloat64(length: number): Float64Array {
    return this.linear.allocArray(Float64Array, length);
  }

  /** Bytes of linear memory in use by live allocations (diagnostics, leak tests). */
  get usedBytes(): number {
    return this.linear.usedBytes;
  }

  /** Jobs run on several threads so far (sweeps, filters, rebuilds), and how often a worker joined one (diagnostics). */
  get threadedJobs(): { jobs: number; workerJoins: number } {
    return this.scheduler.threadedJobs;
  }

  /** The worker pool, started if it was not (diagnostics and tests); undefined without threads. */
  get threadPool(): WorkerPool | undefined {
    return this.scheduler.threadPool;
  }

  /** Stop the worker threads (they are unref'd, so this is only needed to release them early). */
  async close(): Promise<void> {
    await this.scheduler.close();
  }

  checksum(values: Int32Array): number {
    requireArray('checksum', 'values', values, Int32Array);
    return this.withScope((scope) => this.wasm.checksum(scope.bind(values), values.length) >>> 0);
  }

  randomStream(seed: number, iteration: number, index: number, out: Uint32Array): void {
    this.check.randomStream(seed, iteration, index, out);
    requireArray('randomStream', 'out', out, Uint32Array);
    this.withScope((scope) => {
      this.wasm.randomStream(BigInt(seed), BigInt(iteration), BigInt(index), scope.bind(out, true), out.length);
      scope.finish();
    });
  }

  randomTopics(offsets: Int32Array, topics: Int32Array, numTopics: number, seed: number): void {
    this.check.randomTopics(offsets, topics, numTopics, seed);
    const D = checkRandomTopics(offsets, topics);
    this.withScope((scope) => {
      this.wasm.randomTopics(scope.bind(offsets), D, scope.bind(topics, true), numTopics, BigInt(seed));
      scope.finish();
    });
  }

  buildCounts(
    tokens: Int32Array,
    wordOffsets: Int32Array,
    wordTokens: Int32Array,
    topics: Int32Array,
    numTopics: number,
    out: CountTables,
    threads?: number,
  ): number {
    this.check.buildCounts(tokens, wordOffsets, wordTokens, topics, numTopics, out, threads);
    const K = numTopics;
    const { T, V, capacity } = checkBuildCounts(this.checks, tokens, wordOffsets, wordTokens, topics, K, out);
    // several threads write each range of rows where its tokens start, so they need room for T entries
    const parts = capacity >= T ? this.scheduler.rowThreads(threads ?? 1, T) : 1;
    const nnz = this.withScope((scope) => {
      if (parts > 1) {
        const params = scope.scratch(ROWS.bytes);
        new BlockWriter(this.memory.buffer, params, ROWS.bytes)
          .pointer(ROWS.tokens, scope.bind(tokens))
          .pointer(ROWS.wordOffsets, scope.bind(wordOffsets))
          .pointer(ROWS.wordTokens, scope.bind(wordTokens))
          .pointer(ROWS.assignments, scope.bind(topics))
          .int(ROWS.topics, K)
          .int(ROWS.vocabulary, V)
          .pointer(ROWS.rowOffsets, scope.bind(out.rowOffsets, true))
          .pointer(ROWS.rowTopics, scope.bind(out.rowTopics, true))
          .pointer(ROWS.rowCounts, scope.bind(out.rowCounts, true));
        const { boundaries, scratch } = this.scheduler.runRowRanges(
          scope,
          'countRowsRange',
          params,
          parts,
          this.wasm.countRowsScratchBytes(K),
          V,
          (w) => wordOffsets[w],
        );
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
      const result = this.wasm.buildCounts(
        scope.bind(tokens),
        scope.bind(wordOffsets),
        V,
        scope.bind(wordTokens),
        scope.bind(topics),
        K,
        scope.bind(out.rowOffsets, true),
        scope.bind(out.rowTopics, true),
        scope.bind(out.rowCounts, true),
        capacity,
        scope.bind(out.topicTotals, true),
        scope.scratch(this.wasm.countsScratchBytes(K)),
      );
      if (result >= 0) scope.finish();
      return result;
    });
    if (nnz === -1) {
      fail(
        'buildCounts',
        `out.rowTopics/out.rowCounts hold ${capacity} entries, fewer than the non-zero counts: allocate T = ${T}`,
      );
    }
    if (nnz === -2) fail('buildCounts', wordIndexProblem(tokens, wordOffsets, wordTokens));
    return nnz;
  }

  buildAlias(counts: CountTables, numTopics: number, beta: number, out: AliasTables, threads?: number): void {
    this.check.buildAlias(counts, numTopics, beta, out, threads);
    const K = numTopics;
    const { V, nnz } = checkBuildAlias(this.checks, counts, K, out);
    this.withScope((scope) => {
      const params = scope.scratch(ROWS.bytes);
      const topicTotals = scope.bind(counts.topicTotals);
      new BlockWriter(this.memory.buffer, params, ROWS.bytes)
        .pointer(ROWS.rowOffsets, scope.bind(counts.rowOffsets))
        .pointer(ROWS.rowTopics, scope.bind(counts.rowTopics))
        .pointer(ROWS.rowCounts, scope.bind(counts.rowCounts))
        .pointer(ROWS.topicTotals, topicTotals)
        .int(ROWS.topics, K)
        .int(ROWS.vocabulary, V)
        .float64(ROWS.beta, beta)
        .pointer(ROWS.sparseProb, scope.bind(out.sparseProb, true))
        .pointer(ROWS.sparseAlias, scope.bind(out.sparseAlias, true))
        .pointer(ROWS.sparseMass, scope.bind(out.sparseMass, true));
      const { scratch } = this.scheduler.runRowRanges(
        scope,
        'aliasRowsRange',
        params,
        this.scheduler.rowThreads(threads ?? 1, nnz + V),
        16 * K,
        V,
        (w) => counts.rowOffsets[w] + w,
      );
      this.wasm.buildDenseAlias(
        topicTotals,
        V,
        K,
        beta,
        scope.bind(out.denseProb, true),
        scope.bind(out.denseAlias, true),
        scope.bind(out.denseMass, true),
        scratch[0],
      );
      scope.finish();
    });
  }

  async sweep(args: SweepArgs): Promise<SweepResult> {
    this.check.sweep(args);
    const shape = checkSweep(this.checks, args);
    const { K, V, D, H } = shape;
    const threads = this.scheduler.sequenceThreads(args.threads, D);
    return this.withScope((scope) => {
      const params = scope.scratch(SWEEP.bytes);
      const counts = args.counts;
      const perSequence = scope.scratch(24 * D);
      const pointers = {
        rowOffsets: scope.bind(counts.rowOffsets),
        rowTopics: scope.bind(counts.rowTopics),
        rowCounts: scope.bind(counts.rowCounts),
      };
      const hash = this.buildCountHash(scope, pointers, counts.rowOffsets, V, shape.nnz, threads);
      const alias = args.exact
        ? [0, 0, 0, 0, 0, 0]
        : [
            args.alias.sparseProb,
            args.alias.sparseAlias,
            args.alias.sparseMass,
            args.alias.denseProb,
            args.alias.denseAlias,
            args.alias.denseMass,
          ].map((array) => scope.bind(array));
      new BlockWriter(this.memory.buffer, params, SWEEP.bytes)
        .int(SWEEP.mode, shape.modeCode)
        .int(SWEEP.exact, args.exact ? 1 : 0)
        .int(SWEEP.mhSteps, shape.mhSteps)
        .int(SWEEP.proposals, shape.proposals)
        .int(SWEEP.topics, K)
        .int(SWEEP.vocabulary, V)
        .int(SWEEP.sequences, D)
        .pointer(SWEEP.tokens, scope.bind(args.tokens))
        .pointer(SWEEP.offsets, scope.bind(args.offsets))
        .pointer(SWEEP.topicsPrev, scope.bind(args.topicsPrev))
        .pointer(SWEEP.topicsNext, scope.bind(args.topicsNext, true))
        .pointer(SWEEP.rowOffsets, pointers.rowOffsets)
        .pointer(SWEEP.rowTopics, pointers.rowTopics)
        .pointer(SWEEP.rowCounts, pointers.rowCounts)
        .pointer(SWEEP.topicTotals, scope.bind(counts.topicTotals))
        .pointer(SWEEP.sparseProb, alias[0])
        .pointer(SWEEP.sparseAlias, alias[1])
        .pointer(SWEEP.sparseMass, alias[2])
        .pointer(SWEEP.denseProb, alias[3])
        .pointer(SWEEP.denseAlias, alias[4])
        .pointer(SWEEP.denseMass, alias[5])
        .pointer(SWEEP.cell, H > 0 ? this.bindCell(scope, args.weights!, H) : 0)
        .pointer(SWEEP.inverseTotals, this.inverseTotals(scope, counts.topicTotals, V, args.beta))
        .pointer(SWEEP.perSequence, perSequence)
        .float64(SWEEP.beta, args.beta)
        .float64(SWEEP.alpha, shape.alpha)
        .float64(SWEEP.smoothing, usesSequenceProposal(shape) ? args.sequenceSmoothing : 1)
        .unsigned64(SWEEP.seed, shape.seed)
        .unsigned64(SWEEP.iteration, shape.iteration)
        .pointer(SWEEP.hashRows, hash.rows)
        .pointer(SWEEP.hashSlots, hash.slots)
        .unsigned64(SWEEP.firstSequence, BigInt(args.firstSequence ?? 0))
        .int(SWEEP.lookahead, shape.lookahead ? 1 : 0)
        .pointer(SWEEP.transitions, shape.mode === 'hmm' ? scope.bind(args.transitions!) : 0)
        .int(SWEEP.transitionOrder, args.transitionOrder ?? 1);
      this.scheduler.runSequences(
        scope,
        'sweepRange',
        params,
        args.offsets,
        D,
        threads,
        this.wasm.sweepScratchBytes(K, H),
      );
      const stats = this.linear.view(Float64Array, perSequence, 3 * D);
      let logPhi = 0,
        made = 0,
        accepted = 0;
      for (let d = 0; d < D; d++) {
        logPhi += stats[3 * d];
        made += stats[3 * d + 1];
        accepted += stats[3 * d + 2];
      }
      scope.finish();
      return { logPhi, proposalsMade: made, proposalsAccepted: accepted };
    });
  }

  async particleFilter(args: FilterArgs): Promise<void> {
    this.check.particleFilter(args);
    const shape = checkParticleFilter(this.checks, args);
    const { K, D, P } = shape;
    const threads = this.scheduler.sequenceThreads(args.threads, D);
    this.withScope((scope) => {
      const params = this.writeFilterParams(scope, args, shape);
      const block = new BlockWriter(this.memory.buffer, params, FILTER.bytes)
        .int(FILTER.sequences, D)
        .pointer(FILTER.tokens, scope.bind(args.tokens))
        .pointer(FILTER.offsets, scope.bind(args.offsets))
        .pointer(FILTER.logLikelihood, scope.bind(args.logLikelihood, true))
        .int(FILTER.mixtureCount, P)
        .unsigned64(FILTER.firstSequence, BigInt(args.firstSequence ?? 0));
      if (P > 0) {
        block
          .pointer(FILTER.mixturePositions, scope.bind(args.mixturePositions!))
          .pointer(FILTER.mixtures, scope.bind(args.mixtures!, true));
      }
      const scratchBytes = this.wasm.filterScratchBytes(
        K,
        shape.H,
        shape.particlesUsed,
        shape.mode === 'lda' ? 1 : 0,
        shape.copyWindow,
      );
      this.scheduler.runSequences(scope, 'filterRange', params, args.offsets, D, threads, scratchBytes);
      scope.finish();
    });
  }

  filterStep(args: Parameters<Kernel['filterStep']>[0]): number {
    this.check.filterStep(args);
    const shape = checkFilterStep(this.checks, args);
    const { mode, K, H, particlesUsed: S, action, position } = shape;
    const state = args.state;
    return this.withScope((scope) => {
      const params = this.writeFilterParams(scope, args, shape);
      const scratch = scope.scratch(this.wasm.filterTokenScratchBytes(K, H, S, mode === 'lda' ? 1 : 0));
      const hidden = scope.bind(state.hiddenState, true),
        cellState = scope.bind(state.cellState, true);
      const weights = scope.bind(state.weights, true),
        topics = scope.bind(state.previousTopic, true);
      const counts = mode === 'lda' ? scope.bind(state.topicCounts, true) : 0;
      const history = shape.copyWindow > 0 ? scope.bind(state.copyHistory!, true) : 0;
      const logProbability = this.wasm.filterToken(
        params,
        scratch,
        hidden,
        cellState,
        weights,
        topics,
        counts,
        history,
        action,
        shape.previousAction,
        position,
        BigInt(args.sequenceIndex),
        0,
      );
      if (args.mixtureOut !== undefined) {
        this.wasm.nextMixture(
          params,
          scratch,
          hidden,
          cellState,
          weights,
          topics,
          counts,
          action,
          position + 1,
          scope.bind(args.mixtureOut, true),
        );
      }
      scope.finish();
      state.position[0] = position + 1;
      state.previousAction[0] = action;
      return logProbability;
    });
  }

  lstmSteps(weights: CellWeights, inputs: Int32Array, hiddenOut: Float32Array, cellOut: Float32Array): void {
    this.check.lstmSteps(weights, inputs, hiddenOut, cellOut);
    const H = checkLstmSteps(this.checks, weights, inputs, hiddenOut, cellOut);
    this.withScope((scope) => {
      this.wasm.lstmSteps(
        this.bindCell(scope, weights, H),
        scope.bind(inputs),
        inputs.length,
        scope.bind(hiddenOut, true),
        scope.bind(cellOut, true),
        scope.scratch(24 * H),
      );
      scope.finish();
    });
  }

  topicTransitions(
    offsets: Int32Array,
    topics: Int32Array,
    weights: CellWeights,
    numTopics: number,
    sums: Float64Array,
    rowCounts: Float64Array,
  ): void {
    this.check.topicTransitions(offsets, topics, weights, numTopics, sums, rowCounts);
    const K = numTopics;
    const { D, H } = checkTopicTransitions(this.checks, offsets, topics, weights, K, sums, rowCounts);
    this.withScope((scope) => {
      this.wasm.topicTransitions(
        this.bindCell(scope, weights, H),
        scope.bind(offsets),
        D,
        scope.bind(topics),
        K,
        scope.bind(sums, true),
        scope.bind(rowCounts, true),
        scope.scratch(24 * H + 4 * K + 16 + 8 * K),
      );
      scope.finish();
    });
  }

  async lstmTrain(args: LstmTrainArgs): Promise<void> {
    this.check.lstmTrain(args);
    return lstmTrainWasm(
      {
        linear: this.linear,
        memory: this.memory,
        exports: this.wasm as unknown as TrainExports,
        threads: (requested, units) => this.scheduler.sequenceThreads(requested, units),
        runJob: (scope, job, parts, bytes) => this.scheduler.runJob(scope, job, parts, bytes),
      },
      args,
    );
  }

  transitionTable(
    offsets: Int32Array,
    topics: Int32Array,
    numTopics: number,
    smoothing: number,
    out: Float64Array,
    order = 1,
  ): void {
    this.check.transitionTable(offsets, topics, numTopics, smoothing, out, order);
    const D = checkTransitionTable(this.checks, offsets, topics, numTopics, out, order);
    this.withScope((scope) => {
      this.wasm.transitionTable(
        scope.bind(offsets),
        D,
        scope.bind(topics),
        numTopics,
        order,
        smoothing,
        scope.bind(out, true),
        scope.scratch(8 * transitionCells(numTopics, order)),
      );
      scope.finish();
    });
  }

  // one thread here: the features never depend on `threads`
  contextFeatures(
    tokens: Int32Array,
    offsets: Int32Array,
    vocabularySize: number,
    dimensions: number,
    seed: number,
    features: Float32Array,
    threads?: number,
  ): void {
    this.check.contextFeatures(tokens, offsets, vocabularySize, dimensions, seed, features, threads);
    const D = checkContextFeatures(this.checks, tokens, offsets, vocabularySize, dimensions, features);
    this.withScope((scope) => {
      this.wasm.contextFeatures(
        scope.bind(tokens),
        tokens.length,
        scope.bind(offsets),
        D,
        vocabularySize,
        dimensions,
        BigInt(seed),
        scope.bind(features, true),
        scope.scratch(this.wasm.contextScratchBytes(tokens.length, vocabularySize, dimensions), false),
      );
      scope.finish();
    });
  }

  // one thread here: the labels never depend on `threads`
  kmeans(
    points: Float32Array,
    dimensions: number,
    weights: Float64Array,
    clusters: number,
    iterations: number,
    seed: number,
    labels: Int32Array,
    threads?: number,
  ): number {
    this.check.kmeans(points, dimensions, weights, clusters, iterations, seed, labels, threads);
    const n = checkKMeans(points, dimensions, weights, labels);
    return this.withScope((scope) => {
      const objective = this.wasm.kmeans(
        scope.bind(points),
        n,
        dimensions,
        scope.bind(weights),
        clusters,
        iterations,
        BigInt(seed),
        scope.bind(labels, true),
        scope.scratch(this.wasm.kmeansScratchBytes(n, dimensions, clusters), false),
      );
      scope.finish();
      return objective;
    });
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

  /** n_{k,w} hash tables for the sweep's phi lookups (assembly/count_hash.ts), rebuilt per call: O(V + nnz). */
  private buildCountHash(
    scope: CallScope,
    pointers: { rowOffsets: number; rowTopics: number; rowCounts: number },
    rowOffsets: Int32Array,
    V: number,
    nnz: number,
    threads: number,
  ): { rows: number; slots: number } {
    const slotCount = this.wasm.countHashSlots(pointers.rowOffsets, V);
    if (slotCount < 0) fail('sweep', 'the count hash tables exceed 2^31 slots: use fewer topics or a smaller corpus');
    // every row header and slot is written by the build: no zero fill (it cost ~0.5 ms per sweep on the event log)
    const rows = scope.scratch(8 * V, false);
    const slots = scope.scratch(8 * slotCount, false);
    this.wasm.countHashLayout(pointers.rowOffsets, V, rows, slots);
    const params = scope.scratch(ROWS.bytes);
    new BlockWriter(this.memory.buffer, params, ROWS.bytes)
      .pointer(ROWS.rowOffsets, pointers.rowOffsets)
      .pointer(ROWS.rowTopics, pointers.rowTopics)
      .pointer(ROWS.rowCounts, pointers.rowCounts)
      .pointer(ROWS.hashRows, rows)
      .pointer(ROWS.hashSlots, slots);
    this.scheduler.runRowRanges(
      scope,
      'countHashRange',
      params,
      this.scheduler.rowThreads(threads, nnz + V),
      0,
      V,
      (w) => rowOffsets[w] + w,
    );
    return { rows, slots };
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
    const inputTable = scope.bind(weights.inputTable),
      recurrent = scope.bind(weights.recurrent);
    const gateBias = scope.bind(weights.gateBias);
    const outputWeights = weights.outputWeights instanceof Float32Array ? scope.bind(weights.outputWeights) : 0;
    const outputBias = weights.outputBias instanceof Float32Array ? scope.bind(weights.outputBias) : 0;
    new BlockWriter(this.memory.buffer, start, CELL.bytes)
      .int(CELL.hidden, H)
      .pointer(CELL.inputTable, inputTable)
      .pointer(CELL.recurrent, recurrent)
      .pointer(CELL.gateBias, gateBias)
      .pointer(CELL.outputWeights, outputWeights)
      .pointer(CELL.outputBias, outputBias);
    return start;
  }

  /** The filter parameter block without the per-corpus fields (tokens, offsets, outputs). */
  private writeFilterParams(
    scope: CallScope,
    args: Omit<FilterArgs, 'tokens' | 'offsets' | 'logLikelihood' | 'threads'>,
    shape: FilterShape,
  ): number {
    const params = scope.scratch(FILTER.bytes);
    const counts = args.counts;
    const inverseTotals = this.inverseTotals(scope, counts.topicTotals, shape.V, args.beta);
    const cell = shape.H > 0 ? this.bindCell(scope, args.weights!, shape.H) : 0;
    const block = new BlockWriter(this.memory.buffer, params, FILTER.bytes)
      .int(FILTER.mode, shape.modeCode)
      .int(FILTER.topics, shape.K)
      .int(FILTER.vocabulary, shape.V)
      .pointer(FILTER.rowOffsets, scope.bind(counts.rowOffsets))
      .pointer(FILTER.rowTopics, scope.bind(counts.rowTopics))
      .pointer(FILTER.rowCounts, scope.bind(counts.rowCounts))
      .pointer(FILTER.cell, cell)
      .pointer(FILTER.inverseTotals, inverseTotals)
      .int(FILTER.particles, shape.particles)
      .float64(FILTER.beta, args.beta)
      .float64(FILTER.alpha, shape.alpha)
      .unsigned64(FILTER.seed, shape.seed);
    if (shape.copyWindow > 0) {
      const copy = args.copy!;
      block
        .pointer(FILTER.copyRate, scope.bind(copy.rate))
        .pointer(FILTER.copyMass, scope.bind(copy.mass))
        .int(FILTER.copyWindow, shape.copyWindow)
        .float64(FILTER.copyDecay, copy.decay);
    } else {
      block.int(FILTER.copyWindow, 0);
    }
    return params;
  }
}

export type { KernelArray };
