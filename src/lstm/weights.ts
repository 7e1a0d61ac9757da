/**
 * The LSTM's trainable parameters as plain Float32Arrays: the form they take in the model file, and the
 * conversion to the kernels' fixed-weight layout (CellWeights of src/kernels/types.ts).
 */
import type { CellWeights } from '../kernels/types.js';

/** Sizes of one LSTM network. */
export interface NetworkShape {
  /** R: input symbols including the begin symbol (the last one, R-1). */
  inputSymbols: number;
  /** E: embedding size. */
  embedding: number;
  /** H: hidden units. */
  hidden: number;
  /** O: softmax outputs (K topics, or V actions for the action-level baseline). */
  outputs: number;
}

/** All trainable tensors, row-major float32. Gate order everywhere: i, f, c (candidate), o. */
export interface LstmParameters {
  shape: NetworkShape;
  /** embedding: [R][E] one row per input symbol. */
  embedding: Float32Array;
  /** inputKernel: [E][4H] maps an embedding to the four gates' pre-activations. */
  inputKernel: Float32Array;
  /** recurrentKernel: [H][4H] maps the previous hidden state to the gates (TF.js orientation). */
  recurrentKernel: Float32Array;
  /** gateBias: [4H] */
  gateBias: Float32Array;
  /** outputKernel: [H][O] hidden state to softmax logits (TF.js orientation). */
  outputKernel: Float32Array;
  /** outputBias: [O] */
  outputBias: Float32Array;
}

export type ParameterName =
  'embedding' | 'inputKernel' | 'recurrentKernel' | 'gateBias' | 'outputKernel' | 'outputBias';

/** The fixed order in which parameters are packed (the model file depends on it: append, never reorder). */
export const PARAMETER_ORDER: readonly ParameterName[] = [
  'embedding',
  'inputKernel',
  'recurrentKernel',
  'gateBias',
  'outputKernel',
  'outputBias',
];

/** The [rows, columns] of each parameter. */
export function parameterShapes(shape: NetworkShape): Record<ParameterName, [number, number]> {
  const { inputSymbols: R, embedding: E, hidden: H, outputs: O } = shape;
  return {
    embedding: [R, E],
    inputKernel: [E, 4 * H],
    recurrentKernel: [H, 4 * H],
    gateBias: [1, 4 * H],
    outputKernel: [H, O],
    outputBias: [1, O],
  };
}

/** Number of dense parameters (reported as the model's parameter count). */
export function parameterCount(shape: NetworkShape): number {
  const shapes = parameterShapes(shape);
  let total = 0;
  for (const name of PARAMETER_ORDER) total += shapes[name][0] * shapes[name][1];
  return total;
}

export function validateShape(shape: NetworkShape, what = 'LSTM shape'): void {
  for (const key of ['inputSymbols', 'embedding', 'hidden', 'outputs'] as const) {
    const v = shape[key];
    if (!Number.isInteger(v) || v < 1) {
      throw new RangeError(`${what}: ${key} must be a positive integer, got ${String(v)}`);
    }
  }
  if (shape.inputSymbols < 2) {
    throw new RangeError(
      `${what}: inputSymbols must count at least one symbol plus the begin symbol, got ${shape.inputSymbols}`,
    );
  }
}

/** Checks that every array has its shape's length; throws naming the first that does not. */
export function validateParameters(parameters: LstmParameters): void {
  validateShape(parameters.shape);
  const shapes = parameterShapes(parameters.shape);
  for (const name of PARAMETER_ORDER) {
    const values = parameters[name];
    const expected = shapes[name][0] * shapes[name][1];
    if (!(values instanceof Float32Array)) throw new TypeError(`LSTM parameter ${name} must be a Float32Array`);
    if (values.length !== expected) {
      throw new RangeError(
        `LSTM parameter ${name} has ${values.length} values, expected ${expected} ` +
          `(${shapes[name][0]} x ${shapes[name][1]}): the weights do not match the model's sizes`,
      );
    }
  }
}

/** Concatenates all parameters in PARAMETER_ORDER into one array (a binary section of the model file). */
export function packParameters(parameters: LstmParameters): Float32Array {
  validateParameters(parameters);
  const packed = new Float32Array(parameterCount(parameters.shape));
  let at = 0;
  for (const name of PARAMETER_ORDER) {
    packed.set(parameters[name], at);
    at += parameters[name].length;
  }
  return packed;
}

/** Splits a packed array back into parameters (copies: the result does not alias `packed`). */
export function unpackParameters(shape: NetworkShape, packed: Float32Array): LstmParameters {
  validateShape(shape);
  const expected = parameterCount(shape);
  if (!(packed instanceof Float32Array) || packed.length !== expected) {
    throw new RangeError(
      `packed LSTM weights have ${packed?.length} values, expected ${expected} for ` +
        `R=${shape.inputSymbols} E=${shape.embedding} H=${shape.hidden} O=${shape.outputs}: the model file's weights section does not match its header`,
    );
  }
  const shapes = parameterShapes(shape);
  const out: Partial<Record<ParameterName, Float32Array>> = {};
  let at = 0;
  for (const name of PARAMETER_ORDER) {
    const n = shapes[name][0] * shapes[name][1];
    out[name] = packed.slice(at, at + n);
    at += n;
  }
  return { shape: { ...shape }, ...(out as Record<ParameterName, Float32Array>) };
}

/**
 * The kernel's fixed-weight layout: inputTable [R][4H] = embedding · inputKernel (summed in float64, rounded
 * once to float32, so the table does not depend on the TF.js backend), recurrent [4H][H] = the transpose of
 * recurrentKernel, outputWeights [O][H] = the transpose of outputKernel.
 */
export function toCellWeights(parameters: LstmParameters): CellWeights {
  validateParameters(parameters);
  const { inputSymbols: R, embedding: E, hidden: H, outputs: O } = parameters.shape;
  const G = 4 * H;
  const inputTable = new Float32Array(R * G);
  const row = new Float64Array(G);
  for (let r = 0; r < R; r++) {
    row.fill(0);
    for (let e = 0; e < E; e++) {
      const x = parameters.embedding[r * E + e]!;
      if (x === 0) continue;
      const kernelRow = e * G;
      for (let g = 0; g < G; g++) row[g]! += x * parameters.inputKernel[kernelRow + g]!;
    }
    for (let g = 0; g < G; g++) inputTable[r * G + g] = row[g]!;
  }
  const recurrent = new Float32Array(G * H);
  for (let j = 0; j < H; j++) {
    for (let g = 0; g < G; g++) recurrent[g * H + j] = parameters.recurrentKernel[j * G + g]!;
  }
  const outputWeights = new Float32Array(O * H);
  for (let j = 0; j < H; j++) {
    for (let k = 0; k < O; k++) outputWeights[k * H + j] = parameters.outputKernel[j * O + k]!;
  }
  return {
    hidden: H,
    inputTable,
    recurrent,
    gateBias: parameters.gateBias.slice(),
    outputWeights,
    outputBias: parameters.outputBias.slice(),
  };
}
