/**
 * A worker thread of the WASM backend: instantiates the compiled module over the shared memory it is given and
 * runs chunks of sequences on request. It never allocates: the main thread passes the parameter block and this
 * worker's scratch, both already in the shared memory.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SYNC_STATE, drainChunks, type RangeJob, type WasmExports } from './wasm-layout.js';
import type { SyncMessage } from './wasm-pool.js';

interface WorkerInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
}

const { module, memory } = workerData as WorkerInit;
const instance = new WebAssembly.Instance(module, { env: { memory } });
const exports = instance.exports as unknown as WasmExports;

/** A synchronous job (wasm-pool.ts runSync): join only while the caller keeps it open. */
function runSync(message: SyncMessage): void {
  const states = new Int32Array(memory.buffer, message.control, message.errorWord + 1);
  const g = message.sync;
  if (Atomics.compareExchange(states, message.worker, SYNC_STATE.open(g), SYNC_STATE.joined(g)) !== SYNC_STATE.open(g)) return;
  try {
    drainChunks(exports, memory, message, message.scratch);
  } catch {
    Atomics.store(states, message.errorWord, 1);
  }
  Atomics.store(states, message.worker, SYNC_STATE.done(g));
  Atomics.notify(states, message.worker);
}

parentPort!.on('message', (message: (RangeJob & { scratch: number }) | SyncMessage) => {
  if ('sync' in message) {
    runSync(message);
    return;
  }
  try {
    drainChunks(exports, memory, message, message.scratch);
    parentPort!.postMessage({ ok: true });
  } catch (error) {
    parentPort!.postMessage({ ok: false, error: error instanceof Error ? error.message : String(error) });
  }
});
