/**
 * lstmTrain of the WASM backend: the fused LSTM trainer of assembly/lstm_train.ts behind the kernel interface.
 * Every argument is checked here (the WebAssembly code trusts its inputs). The call's windows run as one job on
 * this thread with idle workers joining in (wasm-pool.ts, wasm-train-windows.ts); each block of lanes is computed
 * whole by one thread and trainFinish sums the blocks in block order, so the weights do not depend on the thread
 * count. Without shared memory one thread runs and the arrays are copied in and out once per call.
 */
import { KERNEL_LIMITS, type LstmTrainArgs } from './types.js';
import { CallScope, type KernelArray, type LinearMemory } from './wasm-memory.js';
import { BlockWriter, type RangeJob } from './wasm-layout.js';
import { openTickets, TRAIN, type TrainExports } from './wasm-train-windows.js';
import { describe, fail, requireArray, requireInteger } from './wasm-validate.js';

/** assembly/lstm_train.ts LANES_PER_BLOCK (the native build's kLanesPerBlock is the same). */
const LANES_PER_BLOCK = 8;
/** window positions (N L B) and parameters of one call (native/lstm_train.h kMaxTrainPositions) */
const MAX_POSITIONS = 1 << 30;

/** What the trainer uses of the WasmKernel. */
export interface TrainHost {
  linear: LinearMemory;
  memory: WebAssembly.Memory;
  exports: TrainExports;
  /** threads for a job of `units` units of work (1 without shared memory) */
  threads(requested: number, units: number): number;
  /** runs `job` on this thread with idle workers joining in (WasmKernel.runJob) */
  runJob(scope: CallScope, job: RangeJob, parts: number, scratchBytes: number): number[];
}

interface CheckedTrain {
  R: number;
  E: number;
  H: number;
  K: number;
  table: boolean;
  B: number;
  L: number;
  N: number;
  P: number;
}

const ENTRY = 'lstmTrain';

/** Shapes, lengths, ids and contents (the scalars' limits were checked by limits.ts before). */
function checkTrainArgs(args: LstmTrainArgs): CheckedTrain {
  if (typeof args !== 'object' || args === null)
    fail(ENTRY, `args must be an LstmTrainArgs object, got ${describe(args)}`);
  const shape = args.shape;
  if (typeof shape !== 'object' || shape === null) fail(ENTRY, `shape must be an object, got ${describe(shape)}`);
  const R = requireInteger(ENTRY, 'shape.inputSymbols', shape.inputSymbols, 2, KERNEL_LIMITS.vocabulary.max + 1);
  const E = requireInteger(ENTRY, 'shape.embedding', shape.embedding, 1, KERNEL_LIMITS.embedding.max);
  const H = requireInteger(ENTRY, 'shape.hidden', shape.hidden, 1, KERNEL_LIMITS.hidden.max);
  const K = requireInteger(ENTRY, 'shape.outputs', shape.outputs, 1, KERNEL_LIMITS.topics.max);
  if (args.inputPath !== 'table' && args.inputPath !== 'gather') {
    fail(ENTRY, `inputPath must be 'table' or 'gather', got ${describe(args.inputPath)}`);
  }
  const B = requireInteger(ENTRY, 'lanes', args.lanes, 1, KERNEL_LIMITS.lanes.max);
  const L = requireInteger(ENTRY, 'steps', args.steps, 1, KERNEL_LIMITS.steps.max);
  const N = requireInteger(ENTRY, 'windows', args.windows, 0, MAX_POSITIONS);
  const positions = N * L * B;
  const P = R * E + E * 4 * H + H * 4 * H + 4 * H + H * K + K;
  if (positions > MAX_POSITIONS || P > MAX_POSITIONS) {
    fail(
      ENTRY,
      `args describe ${positions} window positions and ${P} parameters, more than 2^30: train fewer windows per call or a smaller network`,
    );
  }
  requireArray(ENTRY, 'inputs', args.inputs, Int32Array, positions);
  requireArray(ENTRY, 'targets', args.targets, Int32Array, positions);
  for (let i = 0; i < positions; i++) {
    const x = args.inputs[i];
    if (!(x >= 0 && x < R))
      fail(ENTRY, `inputs[${i}] = ${x} is outside [0, ${R}): input symbols must be below shape.inputSymbols`);
    const y = args.targets[i];
    if (!(y >= -1 && y < K))
      fail(ENTRY, `targets[${i}] = ${y} is outside [-1, ${K}): targets are outputs, or -1 for padding`);
  }
  requireArray(ENTRY, 'parameters', args.parameters, Float32Array, P);
  requireArray(ENTRY, 'moments', args.moments, Float32Array, 2 * P);
  requireArray(ENTRY, 'adam', args.adam, Float64Array, 3);
  requireArray(ENTRY, 'hiddenState', args.hiddenState, Float32Array, B * H);
  requireArray(ENTRY, 'cellState', args.cellState, Float32Array, B * H);
  requireArray(ENTRY, 'losses', args.losses, Float64Array, N);
  if (args.gradient !== undefined && args.gradient !== null)
    requireArray(ENTRY, 'gradient', args.gradient, Float32Array, P);
  const [steps, beta1Power, beta2Power] = args.adam;
  const fresh = 'pass [0, 0.9, 0.999] for a new trainer, or the array a previous call updated';
  if (!(Number.isSafeInteger(steps) && steps >= 0))
    fail(ENTRY, `adam[0] (steps taken) is ${steps}, not a whole number >= 0: ${fresh}`);
  if (!(beta1Power > 0 && beta1Power < 1))
    fail(ENTRY, `adam[1] (a bias-correction power) is ${beta1Power}, not in (0, 1): ${fresh}`);
  if (!(beta2Power > 0 && beta2Power < 1))
    fail(ENTRY, `adam[2] (a bias-correction power) is ${beta2Power}, not in (0, 1): ${fresh}`);
  requireApart({
    parameters: args.parameters,
    moments: args.moments,
    adam: args.adam,
    hiddenState: args.hiddenState,
    cellState: args.cellState,
    losses: args.losses,
    gradient: args.gradient,
    inputs: args.inputs,
    targets: args.targets,
  });
  return { R, E, H, K, table: args.inputPath === 'table', B, L, N, P };
}

/** No two of the arrays share memory (the kernel writes some while it reads the others). */
function requireApart(arrays: Record<string, KernelArray | undefined | null>): void {
  const named = Object.entries(arrays).filter((entry): entry is [string, KernelArray] => ArrayBuffer.isView(entry[1]));
  for (let a = 0; a < named.length; a++) {
    for (let b = a + 1; b < named.length; b++) {
      const [nameA, x] = named[a],
        [nameB, y] = named[b];
      if (x.buffer !== y.buffer || x.byteLength === 0 || y.byteLength === 0) continue;
      if (x.byteOffset < y.byteOffset + y.byteLength && y.byteOffset < x.byteOffset + x.byteLength) {
        fail(ENTRY, `${nameA} shares memory with ${nameB}: pass a separate array for each`);
      }
    }
  }
}

export async function lstmTrainWasm(host: TrainHost, args: LstmTrainArgs): Promise<void> {
  const c = checkTrainArgs(args);
  const blocks = Math.ceil(c.B / LANES_PER_BLOCK);
  const threads = host.threads(args.threads, blocks);
  if (c.N === 0) return;
  const scope = new CallScope(host.linear);
  try {
    const params = scope.scratch(TRAIN.bytes);
    // a fresh view each time: allocating may grow (and, without shared memory, detach) the memory
    const block = () => new BlockWriter(host.memory.buffer, params, TRAIN.bytes);
    block()
      .int(TRAIN.symbols, c.R)
      .int(TRAIN.embedding, c.E)
      .int(TRAIN.hidden, c.H)
      .int(TRAIN.outputs, c.K)
      .int(TRAIN.table, c.table ? 1 : 0)
      .int(TRAIN.lanes, c.B)
      .int(TRAIN.steps, c.L)
      .int(TRAIN.windows, c.N);
    const sharedBytes = host.exports.trainSharedBytes(params);
    const blockBytes = host.exports.trainBlockBytes(params);
    const shared = scope.scratch(sharedBytes);
    const blockSpace = scope.scratch(blocks * blockBytes);
    const tickets = scope.scratch(8);
    const pointers = {
      inputs: scope.bind(args.inputs),
      targets: scope.bind(args.targets),
      parameters: scope.bind(args.parameters, true),
      moments: scope.bind(args.moments, true),
      adam: scope.bind(args.adam, true),
      hiddenState: scope.bind(args.hiddenState, true),
      cellState: scope.bind(args.cellState, true),
      losses: scope.bind(args.losses, true),
      gradient: args.gradient ? scope.bind(args.gradient, true) : 0,
    };
    block()
      .pointer(TRAIN.inputs, pointers.inputs)
      .pointer(TRAIN.targets, pointers.targets)
      .pointer(TRAIN.parameters, pointers.parameters)
      .pointer(TRAIN.moments, pointers.moments)
      .pointer(TRAIN.adam, pointers.adam)
      .pointer(TRAIN.hiddenState, pointers.hiddenState)
      .pointer(TRAIN.cellState, pointers.cellState)
      .pointer(TRAIN.losses, pointers.losses)
      .pointer(TRAIN.gradient, pointers.gradient)
      .pointer(TRAIN.shared, shared)
      .pointer(TRAIN.blocks, blockSpace);
    new DataView(host.memory.buffer, params, TRAIN.bytes).setFloat32(TRAIN.learningRate, args.learningRate, true);
    block().int(TRAIN.window, 0);
    host.exports.trainPrepare(params);
    openTickets(host.memory, tickets);
    // one chunk: the job's windows and blocks are handed out by the tickets, not by the chunk counter
    const job: RangeJob = {
      entry: 'trainBlocksRange',
      params,
      counter: scope.scratch(4),
      boundaries: Int32Array.of(0, 1),
      windows: { address: tickets, blocks, windows: c.N },
    };
    host.runJob(scope, job, threads, 0);
    scope.finish();
  } finally {
    scope.release();
  }
}
