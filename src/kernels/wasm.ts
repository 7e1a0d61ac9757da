/**
 * The WebAssembly kernel backend: the AssemblyScript kernels of assembly/ (compiled into wasm/ by
 * scripts/build-wasm.mjs) behind the Kernel interface of ./types.ts. Split as the native side is: this file makes
 * the calls (loading, parameter blocks, results: native/binding.cc), wasm-tables.ts those of the count and alias
 * tables (native/counts.*, alias.*) and wasm-cluster.ts those of the initialisation (native/cluster.*);
 * wasm-arguments.ts and wasm-validate.ts check the arguments (native/args.*), after limits.ts has checked them
 * against the limits table as for the native backend; wasm-schedule.ts runs the threaded calls (native/pool.*), with wasm-pool.ts and wasm-worker.ts.
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
import type { BuildInfo, CellWeights, FilterArgs, Kernel, LstmTrainArgs, SweepArgs, SweepResult } from './types.js';
import {
  checkFilterStep,
  checkLstmSteps,
  checkParticleFilter,
  checkRandomTopics,
  checkSweep,
  checkTopicTransitions,
  usesSequenceProposal,
  type FilterShape,
} from './wasm-arguments.js';
import { CallScope, LinearMemory, withScope, type KernelArray } from './wasm-memory.js';
import { BlockWriter, FILTER, SWEEP, bindCell, builtLimitsOf, type WasmExports } from './wasm-layout.js';
import type { WorkerPool } from './wasm-pool.js';
import { WasmScheduler } from './wasm-schedule.js';
import { type ContentChecks, linearMemoryChecks, requireArray } from './wasm-validate.js';
import { lstmTrainWasm } from './wasm-lstm-train.js';
import type { TrainExports } from './wasm-train-windows.js';
import { buildAliasWasm, buildCountHash, buildCountsWasm, inverseTotals, type WasmCalls } from './wasm-tables.js';
import { contextFeaturesWasm, kmeansWasm, transitionTableWasm } from './wasm-cluster.js';
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
  /** what the calls in wasm-tables.ts and wasm-cluster.ts use of this kernel */
  private readonly calls: WasmCalls;

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
    this.calls = { linear: this.linear, memory, wasm, checks: this.checks, scheduler: this.scheduler };
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
    return withScope(this.linear, (scope) => this.wasm.checksum(scope.bind(values), values.length) >>> 0);
  }

  randomStream(seed: number, iteration: number, index: number, out: Uint32Array): void {
    this.check.randomStream(seed, iteration, index, out);
    requireArray('randomStream', 'out', out, Uint32Array);
    withScope(this.linear, (scope) => {
      this.wasm.randomStream(BigInt(seed), BigInt(iteration), BigInt(index), scope.bind(out, true), out.length);
      scope.finish();
    });
  }

  randomTopics(offsets: Int32Array, topics: Int32Array, numTopics: number, seed: number): void {
    this.check.randomTopics(offsets, topics, numTopics, seed);
    const D = checkRandomTopics(offsets, topics);
    withScope(this.linear, (scope) => {
      this.wasm.randomTopics(scope.bind(offsets), D, scope.bind(topics, true), numTopics, BigInt(seed));
      scope.finish();
    });
  }

  buildCounts(...args: Parameters<Kernel['buildCounts']>): number {
    this.check.buildCounts(...args);
    return buildCountsWasm(this.calls, ...args);
  }

  buildAlias(...args: Parameters<Kernel['buildAlias']>): void {
    this.check.buildAlias(...args);
    buildAliasWasm(this.calls, ...args);
  }

  async sweep(args: SweepArgs): Promise<SweepResult> {
    this.check.sweep(args);
    const shape = checkSweep(this.checks, args);
    const { K, V, D, H } = shape;
    const threads = this.scheduler.sequenceThreads(args.threads, D);
    return withScope(this.linear, (scope) => {
      const params = scope.scratch(SWEEP.bytes);
      const counts = args.counts;
      const perSequence = scope.scratch(24 * D);
      const pointers = {
        rowOffsets: scope.bind(counts.rowOffsets),
        rowTopics: scope.bind(counts.rowTopics),
        rowCounts: scope.bind(counts.rowCounts),
      };
      const hash = buildCountHash(this.calls, scope, pointers, counts.rowOffsets, V, shape.nnz, threads);
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
        .pointer(SWEEP.cell, H > 0 ? bindCell(this.memory, scope, args.weights!, H) : 0)
        .pointer(SWEEP.inverseTotals, inverseTotals(this.calls, scope, counts.topicTotals, V, args.beta))
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
    withScope(this.linear, (scope) => {
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
    return withScope(this.linear, (scope) => {
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
        shape.runLength ?? 0,
        BigInt(args.sequenceIndex),
        0,
      );
      // a repeat goes on the block (assembly/likelihood.ts continuesBlock): the position counts blocks
      const repeats = action === shape.previousAction;
      const next = shape.repeatRuns > 0 && repeats ? position : position + 1;
      if (args.mixtureOut !== undefined) {
        this.wasm.nextMixture(
          params,
          scratch,
          hidden,
          cellState,
          weights,
          topics,
          counts,
          history,
          action,
          next,
          scope.bind(args.mixtureOut, true),
        );
      }
      scope.finish();
      state.position[0] = next;
      state.previousAction[0] = action;
      // the run goes on with a repeat, else a new one starts (kept whenever the state has the field)
      if (shape.runLength !== undefined) state.runLength![0] = repeats ? shape.runLength + 1 : 1;
      return logProbability;
    });
  }

  lstmSteps(weights: CellWeights, inputs: Int32Array, hiddenOut: Float32Array, cellOut: Float32Array): void {
    this.check.lstmSteps(weights, inputs, hiddenOut, cellOut);
    const H = checkLstmSteps(this.checks, weights, inputs, hiddenOut, cellOut);
    withScope(this.linear, (scope) => {
      this.wasm.lstmSteps(
        bindCell(this.memory, scope, weights, H),
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
    withScope(this.linear, (scope) => {
      this.wasm.topicTransitions(
        bindCell(this.memory, scope, weights, H),
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

  transitionTable(...args: Parameters<Kernel['transitionTable']>): void {
    this.check.transitionTable(...args);
    transitionTableWasm(this.calls, ...args);
  }

  contextFeatures(...args: Parameters<Kernel['contextFeatures']>): void {
    this.check.contextFeatures(...args);
    contextFeaturesWasm(this.calls, ...args);
  }

  kmeans(...args: Parameters<Kernel['kmeans']>): number {
    this.check.kmeans(...args);
    return kmeansWasm(this.calls, ...args);
  }

  // ---- helpers ----

  /** The filter parameter block without the per-corpus fields (tokens, offsets, outputs). */
  private writeFilterParams(
    scope: CallScope,
    args: Omit<FilterArgs, 'tokens' | 'offsets' | 'logLikelihood' | 'threads'>,
    shape: FilterShape,
  ): number {
    const params = scope.scratch(FILTER.bytes);
    const counts = args.counts;
    const inverse = inverseTotals(this.calls, scope, counts.topicTotals, shape.V, args.beta);
    const cell = shape.H > 0 ? bindCell(this.memory, scope, args.weights!, shape.H) : 0;
    const block = new BlockWriter(this.memory.buffer, params, FILTER.bytes)
      .int(FILTER.mode, shape.modeCode)
      .int(FILTER.topics, shape.K)
      .int(FILTER.vocabulary, shape.V)
      .pointer(FILTER.rowOffsets, scope.bind(counts.rowOffsets))
      .pointer(FILTER.rowTopics, scope.bind(counts.rowTopics))
      .pointer(FILTER.rowCounts, scope.bind(counts.rowCounts))
      .pointer(FILTER.cell, cell)
      .pointer(FILTER.inverseTotals, inverse)
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
    block
      .pointer(FILTER.repeat, shape.repeatRuns > 0 ? scope.bind(args.repeat!) : 0)
      .int(FILTER.repeatRuns, Math.max(shape.repeatRuns, 1));
    return params;
  }
}

export type { KernelArray };
