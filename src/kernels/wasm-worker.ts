/**
 * A worker thread of the WASM backend: instantiates the compiled module over the shared memory it is given and
 * runs chunks of sequences on request. It never allocates: the main thread passes the parameter block and this
 * worker's scratch, both already in the shared memory.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { drainChunks, type RangeJob, type WasmExports } from './wasm-layout.js';

interface WorkerInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
}

const { module, memory } = workerData as WorkerInit;
const instance = new WebAssembly.Instance(module, { env: { memory } });
const exports = instance.exports as unknown as WasmExports;

parentPort!.on('message', (message: RangeJob & { scratch: number }) => {
  try {
    drainChunks(exports, memory, message, message.scratch);
    parentPort!.postMessage({ ok: true });
  } catch (error) {
    parentPort!.postMessage({ ok: false, error: error instanceof Error ? error.message : String(error) });
  }
});
