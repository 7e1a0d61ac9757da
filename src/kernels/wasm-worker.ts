/**
 * A worker thread of the WASM backend: instantiates the compiled module over the shared memory it is given and
 * joins the jobs the calling thread opens (wasm-pool.ts runSync), taking chunks until none is left. It never
 * allocates: the main thread passes the parameter block and this worker's scratch, both already in the shared memory.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SYNC_STATE, drainChunks, type WasmExports } from './wasm-layout.js';
import type { SyncMessage } from './wasm-pool.js';

interface WorkerInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
}

const { module, memory } = workerData as WorkerInit;
const instance = new WebAssembly.Instance(module, { env: { memory } });
const exports = instance.exports as unknown as WasmExports;

/**
 * Whether this worker's view of the shared memory covers its first `bytes` (the size when the job was posted),
 * refreshing it if not. V8 tells every isolate sharing a memory that it grew, but an isolate still being set up
 * when the main thread grows the memory can miss it (V8 11: it creates the worker's memory object with the size of
 * that moment and only then registers the isolate for growth notices). Its view then stays short until the next
 * growth, and wasm code in it traps past that size: 4 `lla bench --compare-threads` runs in about 380 on the event
 * log failed so, at a scratch address past the worker's 23.3 MB against the main thread's 30 MB. memory.grow(0)
 * re-reads the size for this isolate's memory objects and the instances using them, without growing.
 */
function viewCovers(bytes: number): boolean {
  if (memory.buffer.byteLength >= bytes) return true;
  memory.grow(0);
  return memory.buffer.byteLength >= bytes;
}

/** Join a job (wasm-pool.ts runSync) only while the caller keeps it open. */
function join(message: SyncMessage): void {
  const states = new Int32Array(memory.buffer, message.control, message.errorWord + 1);
  const g = message.sync;
  // a worker that cannot see the job's memory stays out: the caller runs the chunks
  if (!viewCovers(message.memoryBytes)) return;
  if (Atomics.compareExchange(states, message.worker, SYNC_STATE.open(g), SYNC_STATE.joined(g)) !== SYNC_STATE.open(g))
    return;
  try {
    drainChunks(exports, memory, message, message.scratch);
  } catch {
    Atomics.store(states, message.errorWord, 1);
  }
  Atomics.store(states, message.worker, SYNC_STATE.done(g));
  Atomics.notify(states, message.worker);
}

parentPort!.on('message', join);
