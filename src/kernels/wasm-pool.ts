/**
 * The worker_threads of the WASM backend, kept alive across calls. Each worker instantiates the module over the
 * one shared memory. Workers are unref'd: they never keep the process alive.
 *
 * Every job (the sweep and the particle filter as well as the count, alias and hash rebuilds) runs on the calling
 * thread, and idle workers join in (runSync): a worker may take chunks only while the job is open, and the caller
 * closes it when it has taken the last chunk. So the caller never waits for a worker to wake up (1.5-3.5 ms on
 * these virtualised machines, longer than a whole rebuild), only for chunks a worker is running. Each worker has
 * one state word in the control block (shared memory) for this hand-shake.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { SYNC_STATE, drainChunks, type RangeJob, type WasmExports } from './wasm-layout.js';

const { open, joined, done } = SYNC_STATE;
/** generations wrap well below 2^29 so that 4g + 3 stays an i32 */
const GENERATIONS = 1 << 28;

/**
 * A job for worker `worker`: join generation `sync` through state word control[worker], with its scratch; and the
 * linear memory's size when the job was posted (a worker whose view of the memory is smaller refreshes it first,
 * or stays out of the job: wasm-worker.ts).
 */
export interface SyncMessage extends RangeJob {
  scratch: number;
  memoryBytes: number;
  sync: number;
  worker: number;
  control: number;
  /** index of the control block's error word */
  errorWord: number;
}

/** Words of the control block for up to `workers` workers: one state word each, then the error word. */
export function controlWords(workers: number): number {
  return workers + 1;
}

/**
 * A worker running the script next to this file: wasm-worker.js after tsc; under tsx (tests run the sources) a
 * small bootstrap registers tsx's ESM loader inside the worker first, because a worker does not inherit the
 * loaders of a `-r tsx` parent and `--import` in a worker's execArgv is not honoured by every Node 20 release.
 */
function startWorker(workerData: unknown): Worker {
  if (!import.meta.url.endsWith('.ts')) {
    return new Worker(new URL('./wasm-worker.js', import.meta.url), { workerData });
  }
  // The ESM entry of tsx's API (its CommonJS entry cannot be imported from an ESM worker).
  const tsxApi =
    typeof import.meta.resolve === 'function'
      ? import.meta.resolve('tsx/esm/api')
      : pathToFileURL(
          createRequire(import.meta.url)
            .resolve('tsx/esm/api')
            .replace(/\.cjs$/, '.mjs'),
        ).href;
  const script = new URL('./wasm-worker.ts', import.meta.url).href;
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((api) => { api.register(); return import(${JSON.stringify(script)}); });`;
  return new Worker(bootstrap, { eval: true, workerData });
}

export class WorkerPool {
  private readonly workers: Worker[] = [];
  private closed = false;
  private generation = 0;
  /** synchronous jobs run, and worker joins over them (diagnostics and tests) */
  syncJobs = 0;
  syncJoins = 0;
  /**
   * Added to the memory size announced to workers. Tests set it to make every worker stay out of its jobs as one
   * whose view of the memory is stale would (wasm-worker.ts); 0 otherwise.
   */
  announcedExtraBytes = 0;

  /** control: byte address of controlWords(maxWorkers) i32 words of zeroed shared memory, kept for the pool's life */
  constructor(
    private readonly module: WebAssembly.Module,
    private readonly memory: WebAssembly.Memory,
    private readonly control: number,
    private readonly maxWorkers: number,
  ) {}

  get size(): number {
    return this.workers.length;
  }

  /**
   * Run `job` here, on the calling thread (scratch[0]), with up to scratch.length - 1 idle workers joining in
   * (scratch[1 + i] for worker i). Returns when every chunk is done; throws the first failure.
   */
  runSync(exports: WasmExports, job: RangeJob, scratch: number[]): void {
    if (this.closed) throw new Error('WASM kernel: the worker pool was closed; load the kernel again');
    const helpers = Math.min(scratch.length - 1, this.maxWorkers);
    // workers start asynchronously: one spawned now joins a later job, never this one
    while (this.workers.length < helpers) this.workers.push(this.spawn());
    const states = new Int32Array(this.memory.buffer, this.control, controlWords(this.maxWorkers));
    const errorWord = this.maxWorkers;
    this.generation = (this.generation % (GENERATIONS - 1)) + 1;
    const g = this.generation;
    const invited = this.workers.slice(0, helpers);
    invited.forEach((worker, i) => {
      Atomics.store(states, i, open(g));
      const message: SyncMessage = {
        ...job,
        sync: g,
        worker: i,
        control: this.control,
        errorWord,
        scratch: scratch[1 + i],
        memoryBytes: this.memory.buffer.byteLength + this.announcedExtraBytes,
      };
      worker.postMessage(message);
    });
    let failure: unknown;
    try {
      drainChunks(exports, this.memory, job, scratch[0]);
    } catch (error) {
      failure = error;
    }
    // close the job to workers that have not joined; wait for those that have
    this.syncJobs += 1;
    invited.forEach((_, i) => {
      if (Atomics.compareExchange(states, i, open(g), 0) === open(g)) return;
      this.syncJoins += 1;
      while (Atomics.load(states, i) !== done(g)) Atomics.wait(states, i, joined(g));
    });
    if (failure !== undefined) throw failure;
    if (Atomics.exchange(states, errorWord, 0) !== 0) {
      throw new Error(
        `WASM kernel worker failed in ${job.entry} (a WebAssembly trap): the arguments passed the checks, so this is a bug; please report it`,
      );
    }
  }

  private spawn(): Worker {
    const worker = startWorker({ module: this.module, memory: this.memory });
    worker.unref();
    // A worker that dies is dropped from the pool (it reports a trap in a job through the error word instead).
    worker.on('exit', () => {
      const index = this.workers.indexOf(worker);
      if (index >= 0) this.workers.splice(index, 1);
    });
    return worker;
  }

  /** Terminate every worker (the kernel falls back to no threads afterwards only by reloading). */
  async close(): Promise<void> {
    this.closed = true;
    const workers = this.workers.splice(0);
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}
