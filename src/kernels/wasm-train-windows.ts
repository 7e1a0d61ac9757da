/**
 * The windows of one WASM lstmTrain call as one worker-pool job (wasm-pool.ts): the calling thread and any worker
 * that joins take the blocks of lanes of the open window by a ticket in shared memory (window * (blocks + 1) +
 * next block; a compare-and-swap claims one, so a thread holding an old window's ticket never claims a block of a
 * newer one). Whichever thread completes a window's last block finishes that window (gradient sums in block order,
 * Adam: assembly/lstm_train.ts trainFinish) and prepares and opens the next, so a joined worker stays in the job
 * from window to window instead of waking for each, and no thread ever waits for one that has not joined. The
 * weights do not depend on which thread did what. Kept apart from wasm-lstm-train.ts (argument checks, memory)
 * because every worker thread loads it.
 */
import type { RangeJob, WasmExports } from './wasm-layout.js';

/** The trainer's parameter block: a mirror of assembly/layout.ts TRAIN_* (test/wasm-layout.test.ts compares them). */
export const TRAIN = {
  symbols: 0,
  embedding: 4,
  hidden: 8,
  outputs: 12,
  table: 16,
  lanes: 20,
  steps: 24,
  window: 28,
  inputs: 32,
  targets: 36,
  parameters: 40,
  moments: 44,
  adam: 48,
  hiddenState: 52,
  cellState: 56,
  losses: 60,
  gradient: 64,
  shared: 68,
  blocks: 72,
  windows: 76,
  tokens: 80,
  scale: 84,
  learningRate: 88,
  bytes: 96,
} as const;

/** The exports of assembly/lstm_train.ts. */
export interface TrainExports {
  trainSharedBytes(params: number): number;
  trainBlockBytes(params: number): number;
  trainPrepare(params: number): void;
  trainBlocksRange(params: number, scratch: number, first: number, end: number): void;
  trainFinish(params: number): void;
}

/** The ticket words of a training job: i32 [2] in shared memory, TICKET then FINISHED (blocks done in the window). */
export interface WindowTickets {
  address: number;
  blocks: number;
  windows: number;
}

const TICKET = 0;
const FINISHED = 1;
/** ticket values that end the job: all windows trained, or a thread failed (the others stop waiting) */
const DONE = -1;
const FAILED = -2;

/** Sets the words for a job whose window 0 is already prepared. */
export function openTickets(memory: WebAssembly.Memory, address: number): void {
  const words = new Int32Array(memory.buffer, address, 2);
  Atomics.store(words, FINISHED, 0);
  Atomics.store(words, TICKET, 0);
}

/** One thread's part in a training job (called by drainChunks for a job with `windows`). */
export function drainWindows(exports: WasmExports, memory: WebAssembly.Memory, job: RangeJob, scratch: number): void {
  const { address, blocks, windows } = job.windows!;
  const train = exports as unknown as TrainExports;
  const words = new Int32Array(memory.buffer, address, 2);
  const stride = blocks + 1;
  try {
    for (;;) {
      const ticket = Atomics.load(words, TICKET);
      if (ticket < 0) return;
      const window = Math.floor(ticket / stride);
      const block = ticket - window * stride;
      if (block === blocks) {
        // every block of the window is taken: wait for the thread with its last one to open the next
        Atomics.wait(words, TICKET, ticket);
        continue;
      }
      if (Atomics.compareExchange(words, TICKET, ticket, ticket + 1) !== ticket) continue;
      train.trainBlocksRange(job.params, scratch, block, block + 1);
      if (Atomics.add(words, FINISHED, 1) + 1 < blocks) continue;
      train.trainFinish(job.params);
      if (window + 1 < windows) {
        // the window number is published to the other threads by the ticket's store below
        new Int32Array(memory.buffer, job.params + TRAIN.window, 1)[0] = window + 1;
        train.trainPrepare(job.params);
        Atomics.store(words, FINISHED, 0);
        Atomics.store(words, TICKET, (window + 1) * stride);
      } else {
        Atomics.store(words, TICKET, DONE);
      }
      Atomics.notify(words, TICKET);
    }
  } catch (error) {
    Atomics.store(words, TICKET, FAILED);
    Atomics.notify(words, TICKET);
    throw error;
  }
}
