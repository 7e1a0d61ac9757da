/**
 * The `lstm` baseline (SPEC 2): a plain action-level LSTM language model, input the previous action (V+1
 * symbols, begin symbol V), a V-way softmax over the next action. It never reaches the kernels: training and
 * evaluation both run in TF.js. The caller may cap the vocabulary by mapping rare actions to one OOV id.
 */
import type { TfBackendChoice } from './tf-backend.js';
import { SequenceModel, type TrainResult } from './sequence-model.js';
import type { EvaluateResult } from './sequence-evaluation.js';
import { type LstmParameters, type NetworkShape } from './weights.js';
import { LstmModel } from './lstm-model.js';

export interface ActionLstmOptions {
  /** V: action ids 0..V-1 (including any OOV id the caller reserved). */
  vocabularySize: number;
  hidden: number;
  embedding: number;
  learningRate: number;
  seed: number;
  tfBackend?: TfBackendChoice;
  parameters?: LstmParameters;
}

export interface ActionSequences {
  /** tokens: [T] action ids */
  tokens: Int32Array;
  /** offsets: [D+1] */
  offsets: Int32Array;
}

export function actionLstmShape(vocabularySize: number, hidden: number, embedding: number): NetworkShape {
  for (const [name, value] of [
    ['vocabularySize', vocabularySize],
    ['hidden', hidden],
    ['embedding', embedding],
  ] as const) {
    if (!Number.isInteger(value) || value < 1)
      throw new RangeError(`action LSTM: ${name} must be a positive integer, got ${value}`);
  }
  return { inputSymbols: vocabularySize + 1, embedding, hidden, outputs: vocabularySize };
}

export class ActionLstm extends LstmModel {
  readonly vocabularySize: number;

  constructor(model: SequenceModel) {
    super(model);
    this.vocabularySize = model.shape.outputs;
  }

  /** train as a next-action model on `tokenBudget` tokens */
  train(
    args: ActionSequences & { tokenBudget: number; bptt: number; batch: number; signal?: AbortSignal },
  ): Promise<TrainResult> {
    const { tokens, ...rest } = args;
    return this.model.train({ ...rest, inputs: tokens, targets: tokens });
  }

  /**
   * Exact log p(w_d) = sum_t log p(w_t | w_<t) of each sequence: logLikelihood [D]. With `positions` (sorted
   * global token positions), also the log-probabilities of every action there: scores [P][V] (rank them for
   * next-action prediction; position t's row conditions on the tokens before t only).
   */
  evaluate(
    sequences: ActionSequences & { positions?: Int32Array; batch?: number; window?: number; signal?: AbortSignal },
  ): Promise<EvaluateResult> {
    const { tokens, ...rest } = sequences;
    return this.model.evaluate({ ...rest, inputs: tokens, targets: tokens });
  }

  async logLikelihood(sequences: ActionSequences): Promise<Float64Array> {
    return (await this.evaluate(sequences)).logLikelihood;
  }

  /** next-action log-probabilities [P][V] at the given sorted positions */
  async nextActionScores(
    sequences: ActionSequences & { signal?: AbortSignal },
    positions: Int32Array,
  ): Promise<Float32Array> {
    return (await this.evaluate({ ...sequences, positions })).scores;
  }
}

export async function createActionLstm(options: ActionLstmOptions): Promise<ActionLstm> {
  const model = await SequenceModel.create({
    shape: actionLstmShape(options.vocabularySize, options.hidden, options.embedding),
    learningRate: options.learningRate,
    seed: options.seed,
    ...(options.tfBackend === undefined ? {} : { tfBackend: options.tfBackend }),
    ...(options.parameters === undefined ? {} : { parameters: options.parameters }),
  });
  return new ActionLstm(model);
}
