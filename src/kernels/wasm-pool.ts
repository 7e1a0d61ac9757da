/**
 * The worker_threads of the WASM backend, kept alive across calls. Each worker instantiates the module over the
 * one shared memory; a job posts the same parameter block to several workers, which take chunks of sequences
 * dynamically. Workers are unref'd between jobs (they never keep the process alive) and ref'd while working
 * (so an awaited job is never cut short by the process exiting). Jobs run one at a time.
 */
import { Worker } from 'node:worker_threads';
import type { RangeJob } from './wasm-layout.js';

/** The worker script next to this file: .ts under tsx (tests run sources), .js after tsc. */
function workerScript(): { url: URL; execArgv: string[] } {
  const fromSources = import.meta.url.endsWith('.ts');
  const url = new URL(fromSources ? './wasm-worker.ts' : './wasm-worker.js', import.meta.url);
  return { url, execArgv: fromSources ? ['--import', 'tsx'] : [] };
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
    const { url, execArgv } = workerScript();
    const worker = new Worker(url, { workerData: { module: this.module, memory: this.memory }, execArgv });
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
