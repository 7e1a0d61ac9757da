/**
 * A plain float64 TypeScript implementation of the kernel's LSTM cell over CellWeights, exactly as
 * src/kernels/types.ts defines it. It is the yardstick in tests: the TF.js cell that is trained and the native
 * and WASM kernels are all compared against it.
 */
import type { CellWeights } from '../kernels/types.js';

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

export interface ReferenceStates {
  /** hidden: [steps][H] h after each step. */
  hidden: Float64Array;
  /** cell: [steps][H] c after each step. */
  cell: Float64Array;
}

/** Runs the cell from the zero state over `inputs` (input-table row ids), recording h and c after each step. */
export function referenceSteps(weights: CellWeights, inputs: Int32Array): ReferenceStates {
  const H = weights.hidden;
  const G = 4 * H;
  if (!Number.isInteger(H) || H < 1)
    throw new RangeError(`referenceSteps: hidden must be a positive integer, got ${H}`);
  if (weights.inputTable.length % G !== 0) {
    throw new RangeError(
      `referenceSteps: inputTable length ${weights.inputTable.length} is not a multiple of 4H = ${G}`,
    );
  }
  if (weights.recurrent.length !== G * H || weights.gateBias.length !== G) {
    throw new RangeError(`referenceSteps: recurrent must be [4H][H] = ${G * H} and gateBias [4H] = ${G} values`);
  }
  const rows = weights.inputTable.length / G;
  const hidden = new Float64Array(inputs.length * H);
  const cell = new Float64Array(inputs.length * H);
  let h = new Float64Array(H);
  const c = new Float64Array(H);
  const gates = new Float64Array(G);
  for (let t = 0; t < inputs.length; t++) {
    const x = inputs[t]!;
    if (!Number.isInteger(x) || x < 0 || x >= rows) {
      throw new RangeError(`referenceSteps: input ${x} at step ${t} is outside the input table's ${rows} rows`);
    }
    for (let r = 0; r < G; r++) {
      let g = weights.inputTable[x * G + r]! + weights.gateBias[r]!;
      const row = r * H;
      for (let j = 0; j < H; j++) g += weights.recurrent[row + j]! * h[j]!;
      gates[r] = g;
    }
    const next = new Float64Array(H);
    for (let j = 0; j < H; j++) {
      const input = sigmoid(gates[j]!);
      const forget = sigmoid(gates[H + j]!);
      const candidate = Math.tanh(gates[2 * H + j]!);
      const output = sigmoid(gates[3 * H + j]!);
      c[j] = forget * c[j]! + input * candidate;
      next[j] = output * Math.tanh(c[j]!);
    }
    h = next;
    hidden.set(h, t * H);
    cell.set(c, t * H);
  }
  return { hidden, cell };
}

/** Softmax logits l_k = outputBias[k] + sum_j outputWeights[k][j] h[j] for one hidden state. */
export function referenceLogits(weights: CellWeights, hidden: ArrayLike<number>): Float64Array {
  const H = weights.hidden;
  const K = weights.outputBias.length;
  const logits = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    let l = weights.outputBias[k]!;
    for (let j = 0; j < H; j++) l += weights.outputWeights[k * H + j]! * hidden[j]!;
    logits[k] = l;
  }
  return logits;
}
