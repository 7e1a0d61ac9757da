/**
 * What the topic LSTM (topic-lstm.ts) and the action-level baseline (action-lstm.ts) share around their
 * SequenceModel: the backend that trains it, its size, and its weights as arrays for the model file.
 */
import type { TfBackendName } from './tf-backend.js';
import type { SequenceModel } from './sequence-model.js';
import { packParameters, parameterCount, unpackParameters, type LstmParameters, type NetworkShape } from './weights.js';

export abstract class LstmModel {
  readonly shape: NetworkShape;

  constructor(readonly model: SequenceModel) {
    this.shape = model.shape;
  }

  /** which TF.js backend trains this model */
  get tfBackend(): TfBackendName {
    return this.model.runtime.name;
  }

  /** dense parameters (embedding, LSTM and softmax) */
  get parameterCount(): number {
    return parameterCount(this.shape);
  }

  getParameters(): Promise<LstmParameters> {
    return this.model.getParameters();
  }

  setParameters(parameters: LstmParameters): void {
    this.model.setParameters(parameters);
  }

  /** all trainable tensors in one array (PARAMETER_ORDER), for the model file */
  async packedParameters(): Promise<Float32Array> {
    return packParameters(await this.model.getParameters());
  }

  /** loads weights written by `packedParameters` (training can continue from them) */
  loadPackedParameters(packed: Float32Array): void {
    this.model.setParameters(unpackParameters(this.shape, packed));
  }

  dispose(): void {
    this.model.dispose();
  }
}
