/**
 * The LSTM network in TF.js ops, hand-written rather than tf.layers: the gate activation must be the logistic
 * sigmoid (tf.layers defaults to a hard sigmoid), the gate order must be Keras's i, f, c, o (the kernels'
 * layout), and the WASM backend lacks the gather gradient (UnsortedSegmentSum) behind tf.layers.embedding, so
 * row lookups here carry their own gradient (a ScatterNd, which every backend has and which sums duplicates).
 */
import type * as tfTypes from '@tensorflow/tfjs';
import type { Tf } from './tf-backend.js';
import { SeededRandom } from './seeded-random.js';
import {
  PARAMETER_ORDER,
  parameterShapes,
  validateParameters,
  validateShape,
  type LstmParameters,
  type NetworkShape,
  type ParameterName,
} from './weights.js';

type Tensor = tfTypes.Tensor;
type Tensor2D = tfTypes.Tensor2D;

export type NetworkVariables = Record<ParameterName, tfTypes.Variable>;

/** TF.js variable names must be unique per process: number every model's variables */
let nextVariableId = 0;

/**
 * Glorot-uniform kernels and embedding (limit sqrt(6 / (fan_in + fan_out))), zero biases except the forget
 * gate's, which starts at 1 (as Keras's unit_forget_bias) so early training does not forget everything.
 * Drawn in JS so the initial weights are the same on every backend.
 */
export function initialParameters(shape: NetworkShape, seed: number): LstmParameters {
  validateShape(shape);
  const random = new SeededRandom(seed);
  const shapes = parameterShapes(shape);
  const glorot = (name: ParameterName): Float32Array => {
    const [rows, columns] = shapes[name];
    const limit = Math.sqrt(6 / (rows + columns));
    const values = new Float32Array(rows * columns);
    for (let i = 0; i < values.length; i++) values[i] = (2 * random.uniform() - 1) * limit;
    return values;
  };
  const H = shape.hidden;
  const gateBias = new Float32Array(4 * H);
  gateBias.fill(1, H, 2 * H);
  return {
    shape: { ...shape },
    embedding: glorot('embedding'),
    inputKernel: glorot('inputKernel'),
    recurrentKernel: glorot('recurrentKernel'),
    gateBias,
    outputKernel: glorot('outputKernel'),
    outputBias: new Float32Array(shape.outputs),
  };
}

export function createVariables(tf: Tf, parameters: LstmParameters): NetworkVariables {
  validateParameters(parameters);
  const shapes = parameterShapes(parameters.shape);
  const out: Partial<NetworkVariables> = {};
  for (const name of PARAMETER_ORDER) {
    const [rows, columns] = shapes[name];
    const isVector = name === 'gateBias' || name === 'outputBias';
    const values = tf.tensor(parameters[name], isVector ? [columns] : [rows, columns], 'float32');
    out[name] = tf.variable(values, true, `lla_${name}_${nextVariableId++}`);
    values.dispose();
  }
  return out as NetworkVariables;
}

/** Overwrites the variables' values (shapes must match). */
export function assignVariables(tf: Tf, variables: NetworkVariables, parameters: LstmParameters): void {
  validateParameters(parameters);
  for (const name of PARAMETER_ORDER) {
    const variable = variables[name];
    tf.tidy(() => variable.assign(tf.tensor(parameters[name], variable.shape, 'float32')));
  }
}

export async function readVariables(variables: NetworkVariables, shape: NetworkShape): Promise<LstmParameters> {
  const out: Partial<Record<ParameterName, Float32Array>> = {};
  for (const name of PARAMETER_ORDER) out[name] = Float32Array.from((await variables[name].data()) as Float32Array);
  return { shape: { ...shape }, ...(out as Record<ParameterName, Float32Array>) };
}

/** rows `indices` of `table` [N][C], with a gradient (ScatterNd) that works on the WASM backend too. */
export function gatherRows(tf: Tf, table: Tensor2D, indices: tfTypes.Tensor1D): Tensor2D {
  const rows = table.shape;
  // the gradient needs the indices after the forward scope ends: `save` keeps them alive until it has run
  const lookup = tf.customGrad((...args: Array<Tensor | tfTypes.GradSaveFunc>) => {
    const source = args[0] as Tensor;
    (args[1] as tfTypes.GradSaveFunc)([indices]);
    return {
      value: tf.gather(source, indices) as Tensor2D,
      gradFunc: (dy: Tensor2D, saved: Tensor[]) => tf.scatterND(tf.expandDims(saved[0]!, 1), dy, rows),
    };
  });
  return lookup(table) as Tensor2D;
}

/**
 * One step of the cell. `gateInputs` [B][4H] already holds embedding(x) · inputKernel + gateBias.
 * g = gateInputs + h · recurrentKernel; i, f, cand, o = split(g); c' = sig(f) c + sig(i) tanh(cand);
 * h' = sig(o) tanh(c').
 */
export function cellStep(
  tf: Tf,
  recurrentKernel: Tensor2D,
  gateInputs: Tensor2D,
  h: Tensor2D,
  c: Tensor2D,
): { h: Tensor2D; c: Tensor2D } {
  const gates = tf.add(gateInputs, tf.matMul(h, recurrentKernel)) as Tensor2D;
  const [i, f, candidate, o] = tf.split(gates, 4, 1) as Tensor2D[];
  const cNext = tf.add(tf.mul(tf.sigmoid(f!), c), tf.mul(tf.sigmoid(i!), tf.tanh(candidate!))) as Tensor2D;
  const hNext = tf.mul(tf.sigmoid(o!), tf.tanh(cNext)) as Tensor2D;
  return { h: hNext, c: cNext };
}

/** One truncated-BPTT window of B lanes and L steps, laid out time-major (index t * B + lane). */
export interface WindowData {
  lanes: number;
  steps: number;
  /** inputs: [L*B] input symbol of each lane at each step. */
  inputs: Int32Array;
  /** keep: [L*B] 0 where the lane starts a new sequence at that step (its state is zeroed first), else 1. */
  keep: Float32Array;
  /** stepHasReset: [L] whether any lane starts a sequence at step t (skips the state masking otherwise). */
  stepHasReset: Uint8Array;
}

/**
 * How the input-side product reaches each step. 'table': one [R][4H] product embedding · inputKernel, then a
 * row lookup per step (cheap when R is small: lla's K+1 topics). 'window': gather the window's L*B embeddings,
 * one [L*B][E] · [E][4H] product, then unstack by step (for large R such as word-lla's V+1 actions, where the
 * table or the per-step gradients into it would be larger than the window).
 */
export type InputPath = 'table' | 'window';

export function chooseInputPath(shape: NetworkShape, lanes: number): InputPath {
  // The table path's per-step gradients scatter into all R rows (about L * R * 4H); the window path avoids that
  // but pays for unstacking, which is slow on WASM. Measured on wasm (B=64, L=50, H=64, E=32, K=50): table
  // 22k vs window 8k tokens/s at R=201, about even at R=2001, table 10k vs window 19k at R=10001.
  return shape.inputSymbols <= 32 * lanes ? 'table' : 'window';
}

/**
 * Runs the network over one window from states (h, c) [B][H]. Returns the hidden state after every step,
 * concatenated time-major [L*B][H], and the final states. Call inside tidy / a gradient scope.
 */
export function forwardWindow(
  tf: Tf,
  variables: NetworkVariables,
  shape: NetworkShape,
  window: WindowData,
  h0: Tensor2D,
  c0: Tensor2D,
  path: InputPath = chooseInputPath(shape, window.lanes),
  recordCells = false,
): { hiddenStates: Tensor2D; cellStates: Tensor2D | null; h: Tensor2D; c: Tensor2D } {
  const { lanes: B, steps: L } = window;
  const G = 4 * shape.hidden;
  const recurrentKernel = variables.recurrentKernel as Tensor2D;
  let stepInputs: Tensor2D[];
  const allInputs = tf.tensor1d(window.inputs, 'int32');
  if (path === 'table') {
    const table = tf.add(
      tf.matMul(variables.embedding as Tensor2D, variables.inputKernel as Tensor2D),
      variables.gateBias,
    ) as Tensor2D;
    const perStep = tf.unstack(tf.reshape(allInputs, [L, B])) as tfTypes.Tensor1D[];
    stepInputs = perStep.map((indices) => gatherRows(tf, table, indices));
  } else {
    const embedded = gatherRows(tf, variables.embedding as Tensor2D, allInputs);
    const products = tf.add(tf.matMul(embedded, variables.inputKernel as Tensor2D), variables.gateBias);
    stepInputs = tf.unstack(tf.reshape(products, [L, B, G])) as Tensor2D[];
  }
  const keep = window.stepHasReset.some((v) => v !== 0) ? tf.tensor2d(window.keep, [L * B, 1]) : null;
  const keepPerStep = keep === null ? null : (tf.unstack(tf.reshape(keep, [L, B, 1])) as Tensor2D[]);
  let h = h0;
  let c = c0;
  const hiddenStates: Tensor2D[] = [];
  const cellStates: Tensor2D[] = [];
  for (let t = 0; t < L; t++) {
    if (keepPerStep !== null && window.stepHasReset[t] !== 0) {
      h = tf.mul(h, keepPerStep[t]!) as Tensor2D;
      c = tf.mul(c, keepPerStep[t]!) as Tensor2D;
    }
    ({ h, c } = cellStep(tf, recurrentKernel, stepInputs[t]!, h, c));
    hiddenStates.push(h);
    if (recordCells) cellStates.push(c);
  }
  return {
    hiddenStates: tf.concat(hiddenStates, 0),
    cellStates: recordCells ? tf.concat(cellStates, 0) : null,
    h,
    c,
  };
}

/** Softmax logits [N][O] for hidden states [N][H]. */
export function outputLogits(tf: Tf, variables: NetworkVariables, hiddenStates: Tensor2D): Tensor2D {
  return tf.add(tf.matMul(hiddenStates, variables.outputKernel as Tensor2D), variables.outputBias) as Tensor2D;
}
