/**
 * The worker_threads of the WASM backend, kept alive across calls. Each worker instantiates the module over the
 * one shared memory; a job posts the same parameter block to several workers, which take chunks of sequences
 * dynamically. Workers are unref'd between jobs (they never keep the process alive) and ref'd while working
 * (so an awaited job is never cut short by the process exiting). Jobs run one at a time.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { RangeJob } from './wasm-layout.js';

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
  const tsxApi = typeof import.meta.resolve === 'function'
    ? import.meta.resolve('tsx/esm/api')
    : pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const script = new URL('./wasm-worker.ts', import.meta.url).href;
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((api) => { api.register(); return import(${JSON.stringify(script)}); });`;
  return new Worker(bootstrap, { eval: true, workerData });
}

export class WorkerPool {
  private readonly workers: Worker[] = [];
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(private readonly module: WebAssembly.Module, private readonly memory: WebAssembly.Memory) {}

  get size(): number {
    return this.workers.length;
  }

  /** Run `job` on `threads` workers, worker i using scratch[i]. */
  run(job: RangeJob, scratch: number[]): Promise<void> {
    const next = this.queue.then(() => this.runNow(job, scratch));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async runNow(job: RangeJob, scratch: number[]): Promise<void> {
    if (this.closed) throw new Error('WASM kernel: the worker pool was closed; load the kernel again');
    while (this.workers.length < scratch.length) this.workers.push(this.spawn());
    const active = this.workers.slice(0, scratch.length);
    // allSettled: never return (and let the caller free the job's memory) while a worker may still be running.
    const results = await Promise.allSettled(active.map((worker, i) => this.post(worker, { ...job, scratch: scratch[i] })));
    for (const result of results) if (result.status === 'rejected') throw result.reason;
  }

  private spawn(): Worker {
    const worker = startWorker({ module: this.module, memory: this.memory });
    worker.unref();
    // A worker that dies is dropped from the pool; the job it was running rejects through post().
    worker.on('exit', () => {
      const index = this.workers.indexOf(worker);
      if (index >= 0) this.workers.splice(index, 1);
    });
    return worker;
  }

  private post(worker: Worker, message: RangeJob & { scratch: number }): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const cleanup = () => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
        worker.unref();
      };
      const onMessage = (reply: { ok: boolean; error?: string }) => {
        cleanup();
        if (reply.ok) resolve();
        else reject(new Error(`WASM kernel worker failed in ${message.entry}: ${reply.error}`));
      };
      const onError = (error: Error) => {
        cleanup();
        reject(new Error(`WASM kernel worker crashed in ${message.entry}: ${error.message}`));
      };
      const onExit = (code: number) => {
        cleanup();
        reject(new Error(`WASM kernel worker exited (code ${code}) during ${message.entry}`));
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      worker.ref();
      worker.postMessage(message);
    });
  }

  /** Terminate every worker (the kernel falls back to no threads afterwards only by reloading). */
  async close(): Promise<void> {
    this.closed = true;
    const workers = this.workers.splice(0);
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}
