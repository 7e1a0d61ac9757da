/**
 * Scheduling of the WASM backend's threaded calls (the counterpart of native/pool.*): how many threads a call gets,
 * how its work is cut into chunks, and running the chunks on the calling thread with idle workers joining in
 * (wasm-pool.ts runSync), each participant with zero-filled scratch of its own.
 *
 * sweep and particleFilter split sequences into chunks balanced by tokens, taken largest first; each sequence has
 * its own random stream and its own arithmetic, so results do not depend on the thread count. The count, alias and
 * count-hash rebuilds split actions into ranges; each range writes its own rows, so the tables are the same for
 * any thread count.
 */
import type { CallScope, LinearMemory } from './wasm-memory.js';
import { drainChunks, type RangeJob, type WasmExports } from './wasm-layout.js';
import { WorkerPool, controlWords } from './wasm-pool.js';

/** Chunks per thread: enough for dynamic scheduling to even out long and short sequences. */
const CHUNKS_PER_THREAD = 16;
/** bytes of a cache line (x86-64, and the common ARM cores) */
const CACHE_LINE = 64;
/** Row rebuilds (counts, alias, hash) use another thread only for this many tokens or entries per thread. */
const ROW_WORK_PER_THREAD = 32768;

export class WasmScheduler {
  private pool: WorkerPool | undefined;

  /** maxThreads: threads a call may use (the cores; 1 without shared memory, where no worker can join). */
  constructor(
    private readonly module: WebAssembly.Module,
    private readonly memory: WebAssembly.Memory,
    private readonly wasm: WasmExports,
    private readonly linear: LinearMemory,
    readonly maxThreads: number,
  ) {}

  /** Jobs run on several threads so far, and how often a worker joined one (diagnostics). */
  get threadedJobs(): { jobs: number; workerJoins: number } {
    return { jobs: this.pool?.syncJobs ?? 0, workerJoins: this.pool?.syncJoins ?? 0 };
  }

  /** The worker pool, started if it was not (diagnostics and tests); undefined without threads. */
  get threadPool(): WorkerPool | undefined {
    return this.linear.shared ? this.workerPool() : undefined;
  }

  /** Stop the worker threads (they are unref'd, so this is only needed to release them early). */
  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    if (pool !== undefined) await pool.close();
  }

  /**
   * Threads for a call over `sequences` sequences: `requested` (0 = all cores), at most the cores (more would only
   * take more scratch: idle workers, one per core, are all that can join) and the sequences.
   */
  sequenceThreads(requested: number, sequences: number): number {
    const wanted = requested === 0 ? this.maxThreads : requested;
    return Math.max(1, Math.min(wanted, this.maxThreads, sequences));
  }

  /** Threads for a row rebuild of `work` units (tokens or entries): none below ROW_WORK_PER_THREAD each. */
  rowThreads(requested: number, work: number): number {
    const wanted = requested === 0 ? this.maxThreads : requested;
    return Math.max(1, Math.min(wanted, this.maxThreads, Math.floor(work / ROW_WORK_PER_THREAD)));
  }

  /**
   * Run a row-range entry over actions [0, V) on `parts` threads (runJob; as one range when `parts` is 1), in
   * ranges of about equal `weight` (a non-decreasing prefix over actions: weight(V) = the total).
   * Returns the ranges' first actions [chunks+1] and the scratch of each participant (caller's first).
   */
  runRowRanges(
    scope: CallScope,
    entry: RangeJob['entry'],
    params: number,
    parts: number,
    scratchBytes: number,
    V: number,
    weight: (action: number) => number,
  ): { boundaries: Int32Array; scratch: number[] } {
    const chunks = parts === 1 ? 1 : Math.min(V, parts * CHUNKS_PER_THREAD);
    const total = weight(V);
    const boundaries = new Int32Array(chunks + 1);
    boundaries[chunks] = V;
    // first action whose prefix reaches c / chunks of the total (binary search: weight is non-decreasing)
    for (let c = 1; c < chunks; c++) {
      const target = (total * c) / chunks;
      let low = boundaries[c - 1],
        high = V;
      while (low < high) {
        const middle = (low + high) >>> 1;
        if (weight(middle) < target) low = middle + 1;
        else high = middle;
      }
      boundaries[c] = low;
    }
    return {
      boundaries,
      scratch: this.runJob(scope, { entry, params, counter: scope.scratch(4), boundaries }, parts, scratchBytes),
    };
  }

  /** Run `entry` over all sequences in chunks of about equal tokens on `threads` threads (runJob). */
  runSequences(
    scope: CallScope,
    entry: RangeJob['entry'],
    params: number,
    offsets: Int32Array,
    D: number,
    threads: number,
    scratchBytes: number,
  ): void {
    const boundaries = chunkBoundaries(offsets, D, threads);
    // largest chunks first: one long sequence (the event log's longest holds 5% of its tokens) taken last would
    // leave the other threads idle while it runs
    const order = Int32Array.from({ length: boundaries.length - 1 }, (_, c) => c).sort(
      (a, b) =>
        offsets[boundaries[b + 1]] - offsets[boundaries[b]] - (offsets[boundaries[a + 1]] - offsets[boundaries[a]]) ||
        a - b,
    );
    this.runJob(scope, { entry, params, counter: scope.scratch(4), boundaries, order }, threads, scratchBytes);
  }

  /**
   * Run `job` on this thread, with up to parts - 1 idle workers joining (wasm-pool.ts runSync); returns the scratch
   * (scratchBytes, zero-filled) of each participant, this thread's first. Not on workers alone while this thread
   * waits: side by side, with the calling thread idle and two workers sampling, the event log's lda sweeps at 2
   * threads gave 1.55-1.66x one thread; with this thread and one worker, 1.70-1.90x (the idle thread's CPU is then
   * used, and one worker fewer is woken). The event loop waits for the job, as it always did with one thread.
   */
  runJob(scope: CallScope, job: RangeJob, parts: number, scratchBytes: number): number[] {
    const scratch: number[] = [];
    for (let i = 0; i < parts; i++) scratch.push(cacheLineScratch(scope, scratchBytes));
    if (parts === 1) drainChunks(this.wasm, this.memory, job, scratch[0]);
    else this.workerPool().runSync(this.wasm, job, scratch);
    return scratch;
  }

  private workerPool(): WorkerPool {
    this.pool ??= new WorkerPool(
      this.module,
      this.memory,
      this.linear.allocate(4 * controlWords(this.maxThreads)),
      this.maxThreads,
    );
    return this.pool;
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
