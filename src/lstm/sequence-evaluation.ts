/**
 * Forward-only passes of a SequenceModel's network (sequence-model.ts trains it): exact per-sequence
 * log-likelihoods with optional full next-symbol score rows, and the cell's states step by step (parity checks
 * against the kernels). Nothing here changes the weights or the training state.
 */
import type * as tfTypes from '@tensorflow/tfjs';
import type { Tf } from './tf-backend.js';
import { forwardWindow, outputLogits, type InputPath, type NetworkVariables, type WindowData } from './network.js';
import { validateSequenceData, WindowScheduler, type SequenceData } from './sequence-windows.js';
import type { NetworkShape } from './weights.js';
import { interruptionPoint } from '../errors.js';

type Tensor2D = tfTypes.Tensor2D;

/** What a forward pass reads: the TF.js runtime, the trained variables and their sizes. */
export interface ForwardNetwork {
  tf: Tf;
  variables: NetworkVariables;
  shape: NetworkShape;
  /** forced input path (tests and benchmarks); undefined chooses by size */
  inputPath: InputPath | undefined;
}

export interface EvaluateArgs extends SequenceData {
  /** lanes per forward batch (default 64). */
  batch?: number;
  /** steps per forward window (default 64). */
  window?: number;
  /** optional sorted global token positions whose full log-softmax row to return (next-symbol scores). */
  positions?: Int32Array;
  /** checked between windows: once aborted, the evaluation stops with an InterruptedError */
  signal?: AbortSignal;
}

export interface EvaluateResult {
  /** logLikelihood: [D] sum over each sequence of log p(target_t | inputs before t). */
  logLikelihood: Float64Array;
  /** scores: [P][O] log-probabilities of every symbol at each requested position (empty without positions). */
  scores: Float32Array;
}

/** bound on the log-probability values one evaluation window materialises (16 MB of float32) */
const EVALUATION_WINDOW_FLOATS = 4 << 20;

/** h and c [steps][H] after every step from the zero state, through the same TF.js ops as training. */
export async function forwardStates(
  network: ForwardNetwork,
  inputs: Int32Array,
): Promise<{ hidden: Float32Array; cell: Float32Array }> {
  const { tf, variables, shape } = network;
  for (let t = 0; t < inputs.length; t++) {
    if (inputs[t]! < 0 || inputs[t]! >= shape.inputSymbols) {
      throw new RangeError(`forwardStates: input ${inputs[t]} at step ${t} is outside 0..${shape.inputSymbols - 1}`);
    }
  }
  const H = shape.hidden;
  if (inputs.length === 0) return { hidden: new Float32Array(0), cell: new Float32Array(0) };
  const window: WindowData = {
    lanes: 1,
    steps: inputs.length,
    inputs,
    keep: new Float32Array(inputs.length).fill(1),
    stepHasReset: new Uint8Array(inputs.length),
  };
  const [hidden, cell] = tf.tidy(() => {
    const forward = forwardWindow(
      tf,
      variables,
      shape,
      window,
      tf.zeros([1, H]),
      tf.zeros([1, H]),
      network.inputPath,
      true,
    );
    return [forward.hiddenStates, forward.cellStates!];
  });
  const result = { hidden: (await hidden!.data()) as Float32Array, cell: (await cell!.data()) as Float32Array };
  hidden!.dispose();
  cell!.dispose();
  return result;
}

/** Exact per-sequence log-likelihood (and optional next-symbol scores), forward only, in batches. */
export async function evaluateSequences(network: ForwardNetwork, args: EvaluateArgs): Promise<EvaluateResult> {
  const { tf, variables, shape } = network;
  validateSequenceData(args, shape.inputSymbols, shape.outputs, 'LSTM evaluate');
  const lanes = args.batch ?? 64;
  // a window holds [B*L][O] log-probabilities: keep it near 4M floats for a large softmax (V-way baseline)
  const steps =
    args.window ?? Math.max(1, Math.min(64, Math.floor(EVALUATION_WINDOW_FLOATS / (lanes * shape.outputs))));
  if (!Number.isInteger(lanes) || lanes < 1 || !Number.isInteger(steps) || steps < 1) {
    throw new RangeError(`LSTM evaluate: batch and window must be positive integers, got ${lanes} and ${steps}`);
  }
  const positions = args.positions ?? new Int32Array(0);
  for (let p = 0; p < positions.length; p++) {
    if (positions[p]! < 0 || positions[p]! >= args.targets.length || (p > 0 && positions[p]! <= positions[p - 1]!)) {
      throw new RangeError(
        `LSTM evaluate: positions must be strictly increasing token positions below ${args.targets.length}`,
      );
    }
  }
  const O = shape.outputs;
  const H = shape.hidden;
  const numSequences = args.offsets.length - 1;
  const logLikelihood = new Float64Array(numSequences);
  const scores = new Float32Array(positions.length * O);
  const scheduler = new WindowScheduler(args, shape.inputSymbols, lanes, null);
  let hidden: Tensor2D = tf.zeros([scheduler.lanes, H]);
  let cell: Tensor2D = tf.zeros([scheduler.lanes, H]);
  try {
    while (!scheduler.done) {
      await interruptionPoint(args.signal);
      const window = scheduler.next(steps);
      // rows of this window whose full score row was asked for, and their rank in `positions`
      const rows: number[] = [];
      const ranks: number[] = [];
      if (positions.length > 0) {
        for (let n = 0; n < window.position.length; n++) {
          const rank = findSorted(positions, window.position[n]!);
          if (rank >= 0) {
            rows.push(n);
            ranks.push(rank);
          }
        }
      }
      const previousHidden = hidden;
      const previousCell = cell;
      const [picked, selected, h, c] = tf.tidy(() => {
        const forward = forwardWindow(tf, variables, shape, window, previousHidden, previousCell, network.inputPath);
        const logProbabilities = tf.logSoftmax(outputLogits(tf, variables, forward.hiddenStates));
        const flatIndex = new Int32Array(window.targets.length);
        for (let n = 0; n < flatIndex.length; n++) flatIndex[n] = n * O + window.targets[n]!;
        const pickedValues = tf.gather(
          tf.reshape(logProbabilities, [flatIndex.length * O]),
          tf.tensor1d(flatIndex, 'int32'),
        );
        const selectedRows = rows.length > 0 ? tf.gather(logProbabilities, tf.tensor1d(rows, 'int32')) : tf.zeros([0]);
        return [pickedValues, selectedRows, forward.h, forward.c];
      });
      previousHidden.dispose();
      previousCell.dispose();
      hidden = h as Tensor2D;
      cell = c as Tensor2D;
      const pickedValues = (await picked!.data()) as Float32Array;
      for (let n = 0; n < pickedValues.length; n++) {
        if (window.weight[n] !== 0) logLikelihood[window.sequence[n]!] += pickedValues[n]!;
      }
      if (rows.length > 0) {
        const selectedValues = (await selected!.data()) as Float32Array;
        for (let r = 0; r < ranks.length; r++) scores.set(selectedValues.subarray(r * O, (r + 1) * O), ranks[r]! * O);
      }
      picked!.dispose();
      selected!.dispose();
    }
  } finally {
    hidden.dispose();
    cell.dispose();
  }
  return { logLikelihood, scores };
}

/** index of value in a strictly increasing array, or -1 */
function findSorted(values: Int32Array, value: number): number {
  let low = 0;
  let high = values.length - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const v = values[middle]!;
    if (v === value) return middle;
    if (v < value) low = middle + 1;
    else high = middle - 1;
  }
  return -1;
}
