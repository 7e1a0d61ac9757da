/**
 * The trainable LSTM sequence model shared by the topic LSTM (lla, word-lla) and the action-level baseline:
 * R input symbols (the last is the begin symbol), an O-way softmax over the symbol at each position.
 * Training: Adam, truncated back-propagation through time over windows of B lanes x L steps, a token budget per
 * call, the lanes' states carried (detached) from window to window and from call to call over the same corpus.
 */
import type * as tfTypes from '@tensorflow/tfjs';
import { ensureTf, type TfBackendChoice, type TfRuntime, type Tf } from './tf-backend.js';
import {
  assignVariables, createVariables, forwardWindow, gatherRows, initialParameters, outputLogits, readVariables,
  type InputPath, type NetworkVariables, type WindowData,
} from './network.js';
import { validateSequenceData, WindowScheduler, type SequenceData, type TrainingWindow } from './sequence-windows.js';
import { validateParameters, validateShape, type LstmParameters, type NetworkShape } from './weights.js';

type Tensor2D = tfTypes.Tensor2D;

export interface SequenceModelOptions {
  shape: NetworkShape;
  /** Adam's learning rate. */
  learningRate: number;
  /** seeds the initial weights and the order in which training visits sequences. */
  seed: number;
  /** TF.js backend; default: the one already initialised, else LLA_TF_BACKEND, else auto. */
  tfBackend?: TfBackendChoice;
  /** start from these weights instead of a fresh Glorot initialisation (e.g. loaded from a model file). */
  parameters?: LstmParameters;
}

export interface TrainArgs extends SequenceData {
  /** train on (at least) this many tokens, in whole windows. */
  tokenBudget: number;
  /** truncated BPTT window length L. */
  bptt: number;
  /** sequences per minibatch B (lanes). */
  batch: number;
  /** checked between windows: once aborted, the call returns early with `interrupted: true` (the weights keep
   * the windows that finished, so the caller can still export and checkpoint them). */
  signal?: AbortSignal;
}

export interface TrainResult {
  /** mean cross-entropy (nats per token) over the tokens trained on in this call; NaN if no window ran. */
  meanLoss: number;
  tokens: number;
  seconds: number;
  windows: number;
  /** the signal stopped training before the budget was spent */
  interrupted: boolean;
}

export interface EvaluateArgs extends SequenceData {
  /** lanes per forward batch (default 64). */
  batch?: number;
  /** steps per forward window (default 64). */
  window?: number;
  /** optional sorted global token positions whose full log-softmax row to return (next-symbol scores). */
  positions?: Int32Array;
}

export interface EvaluateResult {
  /** logLikelihood: [D] sum over each sequence of log p(target_t | inputs before t). */
  logLikelihood: Float64Array;
  /** scores: [P][O] log-probabilities of every symbol at each requested position (empty without positions). */
  scores: Float32Array;
}

/** bound on the log-probability values one evaluation window materialises (16 MB of float32) */
const EVALUATION_WINDOW_FLOATS = 4 << 20;

export class SequenceModel {
  readonly shape: NetworkShape;
  readonly learningRate: number;
  readonly tf: Tf;
  readonly runtime: TfRuntime;
  private readonly variables: NetworkVariables;
  private optimizer: tfTypes.Optimizer | null = null;
  private scheduler: WindowScheduler | null = null;
  /** offsets and lanes of the corpus the scheduler streams, to tell whether a new call continues it. */
  private schedulerOffsets: Int32Array | null = null;
  private schedulerLanes = 0;
  private schedulerCount = 0;
  private hidden: Tensor2D | null = null;
  private cell: Tensor2D | null = null;
  private readonly seed: number;
  private disposed = false;
  /** forced input path (tests and benchmarks); null chooses by size. */
  inputPath: InputPath | null = null;

  static async create(options: SequenceModelOptions): Promise<SequenceModel> {
    validateShape(options.shape);
    if (!(options.learningRate > 0) || !Number.isFinite(options.learningRate)) {
      throw new RangeError(`LSTM learning rate must be a positive number, got ${options.learningRate}`);
    }
    if (!Number.isInteger(options.seed)) throw new RangeError(`LSTM seed must be an integer, got ${options.seed}`);
    const runtime = await ensureTf(options.tfBackend === undefined ? {} : { backend: options.tfBackend });
    return new SequenceModel(runtime, options);
  }

  private constructor(runtime: TfRuntime, options: SequenceModelOptions) {
    this.runtime = runtime;
    this.tf = runtime.tf;
    this.shape = { ...options.shape };
    this.learningRate = options.learningRate;
    this.seed = options.seed;
    const parameters = options.parameters ?? initialParameters(this.shape, options.seed);
    checkSameShape(parameters.shape, this.shape);
    this.variables = createVariables(this.tf, parameters);
  }

  private checkAlive(): void {
    if (this.disposed) throw new Error('this LSTM model was disposed; create or load a new one');
  }

  async train(args: TrainArgs): Promise<TrainResult> {
    this.checkAlive();
    const { tokenBudget, bptt, batch } = args;
    for (const [name, value] of [['tokenBudget', tokenBudget], ['bptt', bptt], ['batch', batch]] as const) {
      if (!Number.isInteger(value) || value < 1) throw new RangeError(`LSTM train: ${name} must be a positive integer, got ${value}`);
    }
    validateSequenceData(args, this.shape.inputSymbols, this.shape.outputs, 'LSTM train');
    const started = performance.now();
    const scheduler = this.schedulerFor(args, batch);
    if (scheduler.sequences === 0) throw new RangeError('LSTM train: the corpus has no tokens to train on');
    const tf = this.tf;
    this.optimizer ??= tf.train.adam(this.learningRate);
    const variableList = Object.values(this.variables);
    let tokens = 0;
    let lossSum = 0;
    let windows = 0;
    let interrupted = false;
    while (tokens < tokenBudget) {
      if (args.signal?.aborted === true) {
        interrupted = true;
        break;
      }
      const window = scheduler.next(bptt);
      let nextHidden: Tensor2D | null = null;
      let nextCell: Tensor2D | null = null;
      const loss = this.optimizer.minimize(() => {
        const forward = forwardWindow(tf, this.variables, this.shape, window, this.hidden!, this.cell!,
          this.inputPath ?? undefined);
        nextHidden = tf.keep(forward.h);
        nextCell = tf.keep(forward.c);
        return this.windowLoss(window, forward.hiddenStates);
      }, true, variableList);
      this.replaceState(nextHidden!, nextCell!);
      const value = (await loss!.data())[0]!;
      loss!.dispose();
      lossSum += value * window.tokens;
      tokens += window.tokens;
      windows++;
    }
    return {
      meanLoss: tokens > 0 ? lossSum / tokens : Number.NaN,
      tokens,
      seconds: (performance.now() - started) / 1000,
      windows,
      interrupted,
    };
  }

  /** mean negative log-likelihood of the window's real tokens */
  private windowLoss(window: TrainingWindow, hiddenStates: Tensor2D): tfTypes.Scalar {
    const tf = this.tf;
    const picked = this.pickedLogProbabilities(window, hiddenStates);
    const weighted = window.tokens === window.weight.length ? picked : tf.mul(picked, tf.tensor1d(window.weight));
    return tf.div(tf.neg(tf.sum(weighted)), Math.max(1, window.tokens)) as tfTypes.Scalar;
  }

  /** log p(target) [L*B] for every position of the window */
  private pickedLogProbabilities(window: TrainingWindow, hiddenStates: Tensor2D): tfTypes.Tensor1D {
    const tf = this.tf;
    const O = this.shape.outputs;
    const logProbabilities = tf.logSoftmax(outputLogits(tf, this.variables, hiddenStates));
    // flat index n * O + target picks each row's target: a gather with the ScatterNd gradient of network.ts
    const flatIndex = new Int32Array(window.targets.length);
    for (let n = 0; n < flatIndex.length; n++) flatIndex[n] = n * O + window.targets[n]!;
    const column = tf.reshape(logProbabilities, [flatIndex.length * O, 1]) as Tensor2D;
    return tf.reshape(gatherRows(tf, column, tf.tensor1d(flatIndex, 'int32')), [flatIndex.length]);
  }

  /** Reuses the lanes (and their carried states) when the corpus has the same sequences and batch. */
  private schedulerFor(data: SequenceData, batch: number): WindowScheduler {
    const same = this.scheduler !== null && this.schedulerLanes === batch && this.schedulerOffsets !== null
      && equalArrays(this.schedulerOffsets, data.offsets);
    if (same) {
      this.scheduler!.replaceData(data);
      return this.scheduler!;
    }
    // a new corpus: seed the cursor from the model seed and how many corpora came before (reproducible)
    this.scheduler = new WindowScheduler(data, this.shape.inputSymbols, batch,
      (this.seed ^ Math.imul(++this.schedulerCount, 0x2545f491)) | 0);
    this.schedulerOffsets = data.offsets.slice();
    this.schedulerLanes = batch;
    const lanes = Math.max(1, this.scheduler.lanes);
    this.replaceState(this.tf.zeros([lanes, this.shape.hidden]), this.tf.zeros([lanes, this.shape.hidden]));
    return this.scheduler;
  }

  private replaceState(hidden: Tensor2D, cell: Tensor2D): void {
    this.hidden?.dispose();
    this.cell?.dispose();
    this.hidden = hidden;
    this.cell = cell;
  }

  /**
   * Runs the trained cell (the same TF.js ops as training) from the zero state over input symbols,
   * returning h and c after every step: hidden, cell [steps][H]. Used to check parity with the kernels.
   */
  async forwardStates(inputs: Int32Array): Promise<{ hidden: Float32Array; cell: Float32Array }> {
    this.checkAlive();
    for (let t = 0; t < inputs.length; t++) {
      if (inputs[t]! < 0 || inputs[t]! >= this.shape.inputSymbols) {
        throw new RangeError(`forwardStates: input ${inputs[t]} at step ${t} is outside 0..${this.shape.inputSymbols - 1}`);
      }
    }
    const tf = this.tf;
    const H = this.shape.hidden;
    if (inputs.length === 0) return { hidden: new Float32Array(0), cell: new Float32Array(0) };
    const window: WindowData = {
      lanes: 1, steps: inputs.length, inputs, keep: new Float32Array(inputs.length).fill(1),
      stepHasReset: new Uint8Array(inputs.length),
    };
    const [hidden, cell] = tf.tidy(() => {
      const forward = forwardWindow(tf, this.variables, this.shape, window, tf.zeros([1, H]), tf.zeros([1, H]),
        this.inputPath ?? undefined, true);
      return [forward.hiddenStates, forward.cellStates!];
    });
    const result = { hidden: (await hidden!.data()) as Float32Array, cell: (await cell!.data()) as Float32Array };
    hidden!.dispose();
    cell!.dispose();
    return result;
  }

  /** Exact per-sequence log-likelihood (and optional next-symbol scores), forward only, in batches. */
  async evaluate(args: EvaluateArgs): Promise<EvaluateResult> {
    this.checkAlive();
    validateSequenceData(args, this.shape.inputSymbols, this.shape.outputs, 'LSTM evaluate');
    const lanes = args.batch ?? 64;
    // a window holds [B*L][O] log-probabilities: keep it near 4M floats for a large softmax (V-way baseline)
    const steps = args.window ?? Math.max(1, Math.min(64, Math.floor(EVALUATION_WINDOW_FLOATS / (lanes * this.shape.outputs))));
    if (!Number.isInteger(lanes) || lanes < 1 || !Number.isInteger(steps) || steps < 1) {
      throw new RangeError(`LSTM evaluate: batch and window must be positive integers, got ${lanes} and ${steps}`);
    }
    const positions = args.positions ?? new Int32Array(0);
    for (let p = 0; p < positions.length; p++) {
      if (positions[p]! < 0 || positions[p]! >= args.targets.length || (p > 0 && positions[p]! <= positions[p - 1]!)) {
        throw new RangeError(`LSTM evaluate: positions must be strictly increasing token positions below ${args.targets.length}`);
      }
    }
    const tf = this.tf;
    const O = this.shape.outputs;
    const H = this.shape.hidden;
    const numSequences = args.offsets.length - 1;
    const logLikelihood = new Float64Array(numSequences);
    const scores = new Float32Array(positions.length * O);
    const scheduler = new WindowScheduler(args, this.shape.inputSymbols, lanes, null);
    let hidden: Tensor2D = tf.zeros([scheduler.lanes, H]);
    let cell: Tensor2D = tf.zeros([scheduler.lanes, H]);
    try {
      while (!scheduler.done) {
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
          const forward = forwardWindow(tf, this.variables, this.shape, window, previousHidden, previousCell,
            this.inputPath ?? undefined);
          const logProbabilities = tf.logSoftmax(outputLogits(tf, this.variables, forward.hiddenStates));
          const flatIndex = new Int32Array(window.targets.length);
          for (let n = 0; n < flatIndex.length; n++) flatIndex[n] = n * O + window.targets[n]!;
          const pickedValues = tf.gather(tf.reshape(logProbabilities, [flatIndex.length * O]), tf.tensor1d(flatIndex, 'int32'));
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

  async getParameters(): Promise<LstmParameters> {
    this.checkAlive();
    return readVariables(this.variables, this.shape);
  }

  /** Replaces the weights (e.g. loaded from a model file); Adam's moments and the carried states restart. */
  setParameters(parameters: LstmParameters): void {
    this.checkAlive();
    validateParameters(parameters);
    checkSameShape(parameters.shape, this.shape);
    assignVariables(this.tf, this.variables, parameters);
    this.optimizer?.dispose();
    this.optimizer = null;
    this.scheduler = null;
    this.schedulerOffsets = null;
    this.hidden?.dispose();
    this.cell?.dispose();
    this.hidden = null;
    this.cell = null;
  }

  /** Frees every tensor the model holds (weights, optimizer moments, carried states). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const variable of Object.values(this.variables)) variable.dispose();
    this.optimizer?.dispose();
    this.hidden?.dispose();
    this.cell?.dispose();
    this.hidden = null;
    this.cell = null;
  }
}

function checkSameShape(a: NetworkShape, b: NetworkShape): void {
  if (a.inputSymbols !== b.inputSymbols || a.embedding !== b.embedding || a.hidden !== b.hidden || a.outputs !== b.outputs) {
    throw new RangeError(`LSTM weights are for R=${a.inputSymbols} E=${a.embedding} H=${a.hidden} O=${a.outputs} but the ` +
      `model has R=${b.inputSymbols} E=${b.embedding} H=${b.hidden} O=${b.outputs}: load weights saved with the same sizes`);
  }
}

function equalArrays(a: Int32Array, b: Int32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
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
