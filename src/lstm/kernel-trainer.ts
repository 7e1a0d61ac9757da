/**
 * The kernel engine of the LSTM M-step: the same training as the TF.js SequenceModel (network, loss, Adam, window
 * schedule, carried states: src/kernels/types.ts lstmTrain), with the per-token work in the fused trainer of the
 * kernels. TypeScript keeps the schedule (WindowScheduler through TrainingStream, as the TF.js trainer) and hands
 * the kernel whole groups of windows; the weights, Adam's moments and the carried states live in kernel-allocated
 * arrays (in place on the WASM backend). Its TrainerState is the TF.js trainer's, so checkpoints cross engines.
 */
import type { CellWeights, Kernel, LstmInputPath } from '../kernels/types.js';
import { initialParameters } from './network.js';
import type { TrainingWindow } from './sequence-windows.js';
import { topicLstmShape, type TopicLstmEngine, type TopicLstmOptions } from './topic-lstm.js';
import {
  checkTrainArgs,
  checkTrainerState,
  trainOnBudget,
  TrainingStream,
  type TrainArgs,
  type TrainerState,
  type TrainResult,
} from './training-stream.js';
import {
  packParameters,
  parameterCount,
  toCellWeights,
  unpackParameters,
  validateParameters,
  validateShape,
  type LstmParameters,
  type NetworkShape,
} from './weights.js';

export interface KernelTrainerOptions {
  kernel: Kernel;
  shape: NetworkShape;
  /** Adam's learning rate. */
  learningRate: number;
  /** seeds the initial weights and the order in which training visits sequences (as the TF.js trainer). */
  seed: number;
  /** start from these weights instead of a fresh Glorot initialisation. */
  parameters?: LstmParameters;
  /** kernel threads (0 = all cores; default 0); the weights do not depend on it. */
  threads?: number;
  /** input side; default: the folded table when the input symbols are no more than a window's tokens. */
  inputPath?: LstmInputPath;
}

/**
 * Windows per kernel call: about this many tokens, so that a call is long enough to make its crossing and thread
 * start-up negligible and short enough that an abort is noticed soon (the signal is checked between calls).
 */
const TOKENS_PER_CALL = 32768;

/** Adam's state before the first step: no steps, beta1 and beta2 as float32 (TF.js's accBeta1 / accBeta2). */
const INITIAL_ADAM = [0, Math.fround(0.9), Math.fround(0.999)] as const;

export class KernelSequenceTrainer {
  readonly shape: NetworkShape;
  readonly learningRate: number;
  readonly kernel: Kernel;
  threads: number;
  /** forced input side (tests and benchmarks); null chooses by size per call */
  inputPath: LstmInputPath | null;
  /** parameters: [P] packed in PARAMETER_ORDER; moments: [2][P]; adam: [3] steps, beta1Power, beta2Power */
  private readonly parameters: Float32Array;
  private readonly moments: Float32Array;
  private readonly adam: Float64Array;
  /** hidden, cell: [B][H] the lanes' carried states; null before the first call on a corpus */
  private hidden: Float32Array | null = null;
  private cell: Float32Array | null = null;
  private readonly stream: TrainingStream;
  /** the window group of a call: inputs, targets [G][L][B]; losses [G] (reallocated when G, L or B change) */
  private group: {
    windows: number;
    steps: number;
    lanes: number;
    inputs: Int32Array;
    targets: Int32Array;
    losses: Float64Array;
  } | null = null;

  constructor(options: KernelTrainerOptions) {
    validateShape(options.shape);
    if (!(options.learningRate > 0) || !Number.isFinite(options.learningRate)) {
      throw new RangeError(`LSTM learning rate must be a positive number, got ${options.learningRate}`);
    }
    if (!Number.isInteger(options.seed)) throw new RangeError(`LSTM seed must be an integer, got ${options.seed}`);
    const threads = options.threads ?? 0;
    if (!Number.isInteger(threads) || threads < 0)
      throw new RangeError(`LSTM threads must be a whole number >= 0, got ${threads}`);
    this.kernel = options.kernel;
    this.shape = { ...options.shape };
    this.learningRate = options.learningRate;
    this.threads = threads;
    this.inputPath = options.inputPath ?? null;
    const P = parameterCount(this.shape);
    this.parameters = this.kernel.allocFloat32(P);
    this.moments = this.kernel.allocFloat32(2 * P);
    this.adam = this.kernel.allocFloat64(3);
    this.adam.set(INITIAL_ADAM);
    this.stream = new TrainingStream(this.shape.inputSymbols, options.seed);
    this.writeParameters(options.parameters ?? initialParameters(this.shape, options.seed));
  }

  async train(args: TrainArgs): Promise<TrainResult> {
    checkTrainArgs(args, this.shape);
    const started = performance.now();
    const { bptt, tokenBudget } = args;
    const { scheduler, fresh } = this.stream.schedulerFor(args, args.batch);
    const H = this.shape.hidden;
    if (fresh) {
      const lanes = Math.max(1, scheduler.lanes);
      this.hidden = this.kernel.allocFloat32(lanes * H);
      this.cell = this.kernel.allocFloat32(lanes * H);
    }
    if (scheduler.sequences === 0) throw new RangeError('LSTM train: the corpus has no tokens to train on');
    const B = scheduler.lanes;
    const group = this.groupFor(Math.max(1, Math.floor(TOKENS_PER_CALL / (bptt * B))), bptt, B);
    const windowTokens = new Float64Array(group.windows);
    const inputPath = this.inputPath ?? (this.shape.inputSymbols <= bptt * B ? 'table' : 'gather');
    return trainOnBudget(args, started, async (tokens) => {
      // the windows the TF.js trainer would train next (it checks the budget before each window)
      let count = 0;
      let groupTokens = 0;
      while (count < group.windows && tokens + groupTokens < tokenBudget) {
        const window = scheduler.next(bptt);
        this.writeWindow(group, count, window);
        windowTokens[count] = window.tokens;
        groupTokens += window.tokens;
        count++;
      }
      const whole = count === group.windows;
      await this.kernel.lstmTrain({
        shape: this.shape,
        inputPath,
        lanes: B,
        steps: bptt,
        windows: count,
        inputs: whole ? group.inputs : group.inputs.subarray(0, count * bptt * B),
        targets: whole ? group.targets : group.targets.subarray(0, count * bptt * B),
        parameters: this.parameters,
        moments: this.moments,
        adam: this.adam,
        hiddenState: this.hidden!,
        cellState: this.cell!,
        learningRate: this.learningRate,
        losses: whole ? group.losses : group.losses.subarray(0, count),
        threads: this.threads,
      });
      let lossSum = 0;
      for (let w = 0; w < count; w++) lossSum += group.losses[w]! * windowTokens[w]!;
      return { tokens: groupTokens, lossSum, windows: count };
    });
  }

  /** A copy of the current weights. */
  getParameters(): LstmParameters {
    return unpackParameters(this.shape, this.parameters);
  }

  /** Replaces the weights (e.g. loaded from a model file); Adam's moments and the carried states restart. */
  setParameters(parameters: LstmParameters): void {
    this.writeParameters(parameters);
    this.moments.fill(0);
    this.adam.set(INITIAL_ADAM);
    this.stream.reset();
    this.hidden = null;
    this.cell = null;
  }

  /** All trainable tensors in one array (PARAMETER_ORDER), as the model file stores them (a copy). */
  packedParameters(): Float32Array {
    return this.parameters.slice();
  }

  /** Loads weights written by `packedParameters` (training continues from them with a fresh Adam). */
  loadPackedParameters(packed: Float32Array): void {
    this.setParameters(unpackParameters(this.shape, packed));
  }

  /** The current weights in the sweep kernels' layout. */
  async cellWeights(): Promise<CellWeights> {
    return toCellWeights(this.getParameters());
  }

  /** Adam's moments, the visiting order and the carried states, in the TF.js trainer's format (a copy). */
  async trainerState(): Promise<TrainerState> {
    const steps = this.adam[0]!;
    const adam = steps > 0 ? { steps, beta1Power: this.adam[1]!, beta2Power: this.adam[2]! } : null;
    const position = this.stream.position();
    return {
      adam,
      adamMoments: adam === null ? new Float32Array(0) : this.moments.slice(),
      schedulersCreated: this.stream.schedulersCreated,
      scheduler:
        position === null
          ? null
          : {
              offsets: position.offsets,
              batch: position.batch,
              ...position.state,
              hidden: this.hidden!.slice(),
              cell: this.cell!.slice(),
            },
    };
  }

  /** Continues from a trainer state of either engine (call after loading the matching weights). */
  async setTrainerState(state: TrainerState): Promise<void> {
    checkTrainerState(state, this.shape);
    if (state.adam === null) {
      this.moments.fill(0);
      this.adam.set(INITIAL_ADAM);
    } else {
      this.moments.set(state.adamMoments);
      this.adam.set([state.adam.steps, state.adam.beta1Power, state.adam.beta2Power]);
    }
    this.stream.restore(state);
    this.hidden = null;
    this.cell = null;
    if (state.scheduler !== null) {
      this.hidden = this.kernel.allocFloat32(state.scheduler.hidden.length);
      this.cell = this.kernel.allocFloat32(state.scheduler.cell.length);
      this.hidden.set(state.scheduler.hidden);
      this.cell.set(state.scheduler.cell);
    }
  }

  private writeParameters(parameters: LstmParameters): void {
    validateParameters(parameters);
    const { inputSymbols, embedding, hidden, outputs } = parameters.shape;
    const s = this.shape;
    if (inputSymbols !== s.inputSymbols || embedding !== s.embedding || hidden !== s.hidden || outputs !== s.outputs) {
      throw new RangeError(
        `LSTM weights are for R=${inputSymbols} E=${embedding} H=${hidden} O=${outputs} but the ` +
          `model has R=${s.inputSymbols} E=${s.embedding} H=${s.hidden} O=${s.outputs}: load weights saved with the same sizes`,
      );
    }
    this.parameters.set(packParameters(parameters));
  }

  private groupFor(windows: number, steps: number, lanes: number): NonNullable<KernelSequenceTrainer['group']> {
    const current = this.group;
    if (current !== null && current.windows === windows && current.steps === steps && current.lanes === lanes)
      return current;
    const size = windows * steps * lanes;
    this.group = {
      windows,
      steps,
      lanes,
      inputs: this.kernel.allocInt32(size),
      targets: this.kernel.allocInt32(size),
      losses: this.kernel.allocFloat64(windows),
    };
    return this.group;
  }

  /** Window `slot` of the group: its inputs, and its targets with -1 where it pads. */
  private writeWindow(group: NonNullable<KernelSequenceTrainer['group']>, slot: number, window: TrainingWindow): void {
    const size = window.steps * window.lanes;
    group.inputs.set(window.inputs, slot * size);
    const targets = group.targets.subarray(slot * size, (slot + 1) * size);
    for (let n = 0; n < size; n++) targets[n] = window.weight[n] !== 0 ? window.targets[n]! : -1;
  }
}

export interface KernelTopicLstmOptions extends Omit<TopicLstmOptions, 'tfBackend'> {
  kernel: Kernel;
  /** kernel threads (0 = all cores; default 0) */
  threads?: number;
  inputPath?: LstmInputPath;
}

/**
 * The topic LSTM of lla / word-lla (topic-lstm.ts) on the kernel engine: the same shape from the same options, and
 * what the SEM loop asks of an LSTM trainer (src/train/sem.ts LstmTrainer), checkpoints and the model file.
 */
export class KernelTopicLstm extends KernelSequenceTrainer implements TopicLstmEngine {
  readonly engine = 'kernel' as const;
  readonly variant: TopicLstmOptions['variant'];
  readonly numTopics: number;
  readonly vocabularySize: number;

  constructor(options: KernelTopicLstmOptions) {
    super({
      kernel: options.kernel,
      shape: topicLstmShape(
        options.variant,
        options.numTopics,
        options.vocabularySize,
        options.hidden,
        options.embedding,
      ),
      learningRate: options.learningRate,
      seed: options.seed,
      ...(options.parameters === undefined ? {} : { parameters: options.parameters }),
      ...(options.threads === undefined ? {} : { threads: options.threads }),
      ...(options.inputPath === undefined ? {} : { inputPath: options.inputPath }),
    });
    this.variant = options.variant;
    this.numTopics = options.numTopics;
    this.vocabularySize = options.vocabularySize;
  }

  /** the begin-of-sequence input symbol (K for lla, V for word-lla) */
  get beginSymbol(): number {
    return this.shape.inputSymbols - 1;
  }

  /** dense parameters (embedding, LSTM and softmax) */
  get parameterCount(): number {
    return parameterCount(this.shape);
  }

  /** Nothing to free: the arrays belong to the kernel's memory and go with the trainer. */
  dispose(): void {}
}
