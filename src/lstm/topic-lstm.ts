/**
 * The topic LSTM of LLA (SPEC 2, 3 step 3): a next-topic language model trained on the topic sequences the E-step
 * sampled, then exported to the kernels as fixed CellWeights. This file: the TF.js engine (TopicLstm) and what
 * both engines offer the training loop (TopicLstmEngine; the kernel engine is kernel-trainer.ts KernelTopicLstm).
 * - `lla` (Topic-LLA): input the previous topic, K+1 input symbols (begin symbol K); output softmax over K.
 * - `word-lla`: input the previous action, V+1 input symbols (begin symbol V); output softmax over K.
 */
import type { CellWeights } from '../kernels/types.js';
import type { TfBackendChoice } from './tf-backend.js';
import { SequenceModel, type TrainerState, type TrainResult } from './sequence-model.js';
import { toCellWeights, type LstmParameters, type NetworkShape } from './weights.js';
import { LstmModel } from './lstm-model.js';

export type TopicLstmVariant = 'lla' | 'word-lla';

export interface TopicLstmOptions {
  variant: TopicLstmVariant;
  /** K */
  numTopics: number;
  /** V (needed for word-lla's input table; recorded for lla) */
  vocabularySize: number;
  /** H */
  hidden: number;
  /** E */
  embedding: number;
  learningRate: number;
  seed: number;
  tfBackend?: TfBackendChoice;
  /** start from saved weights (see `packedParameters`) instead of a fresh initialisation */
  parameters?: LstmParameters;
}

export interface TopicTrainArgs {
  /** inputs: [T] lla: the sampled topics; word-lla: the actions. Position t's input is inputs[t-1] (begin at t=0). */
  inputs: Int32Array;
  /** targets: [T] the sampled topics. */
  targets: Int32Array;
  /** offsets: [D+1] */
  offsets: Int32Array;
  tokenBudget: number;
  bptt: number;
  batch: number;
  signal?: AbortSignal;
}

/** What the training loop (src/train/trainer.ts) asks of a topic LSTM, whichever engine trains it. */
export interface TopicLstmEngine {
  readonly engine: 'kernel' | 'tfjs';
  /** One M-step: train on `tokenBudget` tokens of the given topic sequences. */
  train(args: TopicTrainArgs): Promise<TrainResult>;
  /** the current weights in the sweep kernels' layout */
  cellWeights(): Promise<CellWeights>;
  getParameters(): Promise<LstmParameters> | LstmParameters;
  /** all trainable tensors in one array (PARAMETER_ORDER), as model files and checkpoints store them */
  packedParameters(): Promise<Float32Array> | Float32Array;
  /** loads weights written by `packedParameters` by either engine (Adam and the carried states restart) */
  loadPackedParameters(packed: Float32Array): void;
  /** Adam's moments, the visiting order and the carried states, in one format for both engines */
  trainerState(): Promise<TrainerState>;
  setTrainerState(state: TrainerState): Promise<void>;
  dispose(): void;
}

export function topicLstmShape(
  variant: TopicLstmVariant,
  numTopics: number,
  vocabularySize: number,
  hidden: number,
  embedding: number,
): NetworkShape {
  if (variant !== 'lla' && variant !== 'word-lla') {
    throw new RangeError(`topic LSTM variant must be 'lla' or 'word-lla', got ${JSON.stringify(variant)}`);
  }
  for (const [name, value] of [
    ['numTopics', numTopics],
    ['vocabularySize', vocabularySize],
    ['hidden', hidden],
    ['embedding', embedding],
  ] as const) {
    if (!Number.isInteger(value) || value < 1)
      throw new RangeError(`topic LSTM: ${name} must be a positive integer, got ${value}`);
  }
  return {
    inputSymbols: (variant === 'lla' ? numTopics : vocabularySize) + 1,
    embedding,
    hidden,
    outputs: numTopics,
  };
}

export class TopicLstm extends LstmModel implements TopicLstmEngine {
  readonly engine = 'tfjs' as const;
  readonly variant: TopicLstmVariant;
  readonly numTopics: number;
  readonly vocabularySize: number;

  constructor(model: SequenceModel, options: TopicLstmOptions) {
    super(model);
    this.variant = options.variant;
    this.numTopics = options.numTopics;
    this.vocabularySize = options.vocabularySize;
  }

  /** the begin-of-sequence input symbol (K for lla, V for word-lla) */
  get beginSymbol(): number {
    return this.shape.inputSymbols - 1;
  }

  /** One M-step: train on `tokenBudget` tokens of the given topic sequences. */
  train(args: TopicTrainArgs): Promise<TrainResult> {
    return this.model.train(args);
  }

  /** The current weights in the kernels' layout. */
  async cellWeights(): Promise<CellWeights> {
    return toCellWeights(await this.model.getParameters());
  }

  /** Adam's moments, the visiting order and the carried states: saved in checkpoints to resume exactly */
  trainerState(): Promise<TrainerState> {
    return this.model.getTrainerState();
  }

  /** continues from a trainer state saved with `trainerState` (call after loading the matching weights) */
  setTrainerState(state: TrainerState): Promise<void> {
    return this.model.setTrainerState(state);
  }

  /** h and c [steps][H] after each step from the zero state, computed by the TF.js cell that trains */
  forwardStates(inputs: Int32Array): Promise<{ hidden: Float32Array; cell: Float32Array }> {
    return this.model.forwardStates(inputs);
  }
}

export async function createTopicLstm(options: TopicLstmOptions): Promise<TopicLstm> {
  const shape = topicLstmShape(
    options.variant,
    options.numTopics,
    options.vocabularySize,
    options.hidden,
    options.embedding,
  );
  const model = await SequenceModel.create({
    shape,
    learningRate: options.learningRate,
    seed: options.seed,
    ...(options.tfBackend === undefined ? {} : { tfBackend: options.tfBackend }),
    ...(options.parameters === undefined ? {} : { parameters: options.parameters }),
  });
  return new TopicLstm(model, options);
}
