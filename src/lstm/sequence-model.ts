/**
 * The trainable LSTM sequence model shared by the topic LSTM (lla, word-lla) and the action-level baseline:
 * R input symbols (the last is the begin symbol), an O-way softmax over the symbol at each position.
 * Training: Adam, truncated back-propagation through time over windows of B lanes x L steps, a token budget per
 * call, the lanes' states carried (detached) from window to window and from call to call over the same corpus.
 * Forward-only evaluation lives in sequence-evaluation.ts.
 */
import type * as tfTypes from '@tensorflow/tfjs';
import { ensureTf, type TfBackendChoice, type TfRuntime, type Tf } from './tf-backend.js';
import {
  assignVariables,
  createVariables,
  forwardWindow,
  gatherRows,
  initialParameters,
  outputLogits,
  readVariables,
  type InputPath,
  type NetworkVariables,
} from './network.js';
import type { TrainingWindow } from './sequence-windows.js';
import {
  evaluateSequences,
  forwardStates,
  type EvaluateArgs,
  type EvaluateResult,
  type ForwardNetwork,
} from './sequence-evaluation.js';
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
  parameterCount,
  validateParameters,
  validateShape,
  type LstmParameters,
  type NetworkShape,
} from './weights.js';

export type { TrainArgs, TrainerState, TrainResult } from './training-stream.js';

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

/** The private fields of TF.js 4.x's AdamOptimizer that hold beta1^t and beta2^t (setWeights recomputes them
 * with pow, which can differ from the running float32 product in the last bit). */
interface AdamPowers {
  accBeta1: tfTypes.Variable;
  accBeta2: tfTypes.Variable;
}

function adamPowers(optimizer: tfTypes.Optimizer): AdamPowers {
  const powers = optimizer as unknown as Partial<AdamPowers>;
  if (
    !(powers.accBeta1 instanceof Object) ||
    !(powers.accBeta2 instanceof Object) ||
    typeof powers.accBeta1.assign !== 'function' ||
    typeof powers.accBeta2.assign !== 'function'
  ) {
    throw new Error(
      'TF.js AdamOptimizer has no accBeta1/accBeta2 variables (a TF.js version other than 4.x?): ' +
        'the optimizer state cannot be saved or restored exactly; use the TF.js version in package.json',
    );
  }
  return powers as AdamPowers;
}

export class SequenceModel {
  readonly shape: NetworkShape;
  readonly learningRate: number;
  readonly tf: Tf;
  readonly runtime: TfRuntime;
  private readonly variables: NetworkVariables;
  private optimizer: tfTypes.Optimizer | null = null;
  /** the window schedule training continues (shared rules with the kernel trainer) */
  private readonly stream: TrainingStream;
  private hidden: Tensor2D | null = null;
  private cell: Tensor2D | null = null;
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
    this.stream = new TrainingStream(this.shape.inputSymbols, options.seed);
    const parameters = options.parameters ?? initialParameters(this.shape, options.seed);
    checkSameShape(parameters.shape, this.shape);
    this.variables = createVariables(this.tf, parameters);
  }

  private checkAlive(): void {
    if (this.disposed) throw new Error('this LSTM model was disposed; create or load a new one');
  }

  async train(args: TrainArgs): Promise<TrainResult> {
    this.checkAlive();
    checkTrainArgs(args, this.shape);
    const started = performance.now();
    const { scheduler, fresh } = this.stream.schedulerFor(args, args.batch);
    if (fresh) {
      const lanes = Math.max(1, scheduler.lanes);
      this.replaceState(this.tf.zeros([lanes, this.shape.hidden]), this.tf.zeros([lanes, this.shape.hidden]));
    }
    if (scheduler.sequences === 0) throw new RangeError('LSTM train: the corpus has no tokens to train on');
    const tf = this.tf;
    const optimizer = (this.optimizer ??= tf.train.adam(this.learningRate));
    const variableList = Object.values(this.variables);
    return trainOnBudget(args, started, async () => {
      const window = scheduler.next(args.bptt);
      let nextHidden: Tensor2D | null = null;
      let nextCell: Tensor2D | null = null;
      const loss = optimizer.minimize(
        () => {
          const forward = forwardWindow(
            tf,
            this.variables,
            this.shape,
            window,
            this.hidden!,
            this.cell!,
            this.inputPath ?? undefined,
          );
          nextHidden = tf.keep(forward.h);
          nextCell = tf.keep(forward.c);
          return this.windowLoss(window, forward.hiddenStates);
        },
        true,
        variableList,
      );
      this.replaceState(nextHidden!, nextCell!);
      const value = (await loss!.data())[0]!;
      loss!.dispose();
      return { tokens: window.tokens, lossSum: value * window.tokens, windows: 1 };
    });
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

  private replaceState(hidden: Tensor2D | null, cell: Tensor2D | null): void {
    this.hidden?.dispose();
    this.cell?.dispose();
    this.hidden = hidden;
    this.cell = cell;
  }

  /**
   * Runs the trained cell (the same TF.js ops as training) from the zero state over input symbols,
   * returning h and c after every step: hidden, cell [steps][H]. Used to check parity with the kernels.
   */
  forwardStates(inputs: Int32Array): Promise<{ hidden: Float32Array; cell: Float32Array }> {
    this.checkAlive();
    return forwardStates(this.network(), inputs);
  }

  /** Exact per-sequence log-likelihood (and optional next-symbol scores), forward only, in batches. */
  evaluate(args: EvaluateArgs): Promise<EvaluateResult> {
    this.checkAlive();
    return evaluateSequences(this.network(), args);
  }

  /** the weights and sizes the forward-only passes read */
  private network(): ForwardNetwork {
    return { tf: this.tf, variables: this.variables, shape: this.shape, inputPath: this.inputPath ?? undefined };
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
    this.stream.reset();
    this.hidden?.dispose();
    this.cell?.dispose();
    this.hidden = null;
    this.cell = null;
  }

  /** A copy of the training state besides the weights (see TrainerState). */
  async getTrainerState(): Promise<TrainerState> {
    this.checkAlive();
    const variableList = Object.values(this.variables);
    let adam: TrainerState['adam'] = null;
    let adamMoments = new Float32Array(0);
    if (this.optimizer !== null) {
      const named = await this.optimizer.getWeights();
      // [iterations, m_0..m_{n-1}, v_0..v_{n-1}], moment i belonging to variableList[i] (minimize's varList order)
      const steps = (await named[0]!.tensor.data())[0]!;
      named[0]!.tensor.dispose();
      const moments = named.slice(1);
      if (moments.length === 2 * variableList.length) {
        const powers = adamPowers(this.optimizer);
        adam = {
          steps,
          beta1Power: (await powers.accBeta1.data())[0]!,
          beta2Power: (await powers.accBeta2.data())[0]!,
        };
        adamMoments = new Float32Array(2 * parameterCount(this.shape));
        let at = 0;
        for (const moment of moments) {
          const values = (await moment.tensor.data()) as Float32Array;
          adamMoments.set(values, at);
          at += values.length;
        }
        if (at !== adamMoments.length)
          throw new Error(`Adam's moments hold ${at} values, expected ${adamMoments.length}`);
      } else if (moments.length !== 0) {
        throw new Error(
          `Adam holds ${moments.length} moments for ${variableList.length} variables: cannot save its state`,
        );
      }
    }
    const position = this.stream.position();
    const scheduler: TrainerState['scheduler'] =
      position === null
        ? null
        : {
            offsets: position.offsets,
            batch: position.batch,
            ...position.state,
            hidden: ((await this.hidden!.data()) as Float32Array).slice(),
            cell: ((await this.cell!.data()) as Float32Array).slice(),
          };
    return { adam, adamMoments, schedulersCreated: this.stream.schedulersCreated, scheduler };
  }

  /**
   * Continues training from a state read with getTrainerState (after the matching weights were set): Adam's
   * moments and step, and, for the next call on the same corpus and batch, the lanes and their carried states.
   */
  async setTrainerState(state: TrainerState): Promise<void> {
    this.checkAlive();
    const tf = this.tf;
    const P = parameterCount(this.shape);
    const H = this.shape.hidden;
    checkTrainerState(state, this.shape);
    this.optimizer?.dispose();
    this.optimizer = tf.train.adam(this.learningRate);
    if (state.adam !== null) {
      const variableList = Object.values(this.variables);
      const named: Array<{ name: string; tensor: tfTypes.Tensor }> = [
        { name: 'iter', tensor: tf.scalar(state.adam.steps, 'int32') },
      ];
      for (const kind of ['m', 'v'] as const) {
        let at = kind === 'm' ? 0 : P;
        for (const variable of variableList) {
          const size = variable.size;
          named.push({
            name: `${variable.name}/${kind}`,
            tensor: tf.tensor(state.adamMoments.subarray(at, at + size), variable.shape, 'float32'),
          });
          at += size;
        }
      }
      await this.optimizer.setWeights(named);
      // the moments became variables sharing these tensors' data: the tensors themselves can go
      for (const entry of named) entry.tensor.dispose();
      const powers = adamPowers(this.optimizer);
      tf.tidy(() => {
        powers.accBeta1.assign(tf.scalar(state.adam!.beta1Power, 'float32'));
        powers.accBeta2.assign(tf.scalar(state.adam!.beta2Power, 'float32'));
      });
    }
    this.stream.restore(state);
    if (state.scheduler !== null) {
      const B = state.scheduler.lanes.length / 2;
      this.replaceState(
        tf.tensor2d(state.scheduler.hidden, [B, H], 'float32'),
        tf.tensor2d(state.scheduler.cell, [B, H], 'float32'),
      );
    } else {
      this.replaceState(null, null);
    }
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
  if (
    a.inputSymbols !== b.inputSymbols ||
    a.embedding !== b.embedding ||
    a.hidden !== b.hidden ||
    a.outputs !== b.outputs
  ) {
    throw new RangeError(
      `LSTM weights are for R=${a.inputSymbols} E=${a.embedding} H=${a.hidden} O=${a.outputs} but the ` +
        `model has R=${b.inputSymbols} E=${b.embedding} H=${b.hidden} O=${b.outputs}: load weights saved with the same sizes`,
    );
  }
}
