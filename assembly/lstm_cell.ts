// The LSTM cell of the contract (Keras gate order i, f, c, o; logistic sigmoid), evaluated with fixed weights.
// Mat-vecs use 128-bit SIMD with four rows at a time so each load of h feeds four multiply-adds.
// A sequence's arithmetic depends only on its own inputs: the summation order is fixed by H alone.

/** Pointers to the weights in linear memory (layout of CellWeights in src/kernels/types.ts). */
@unmanaged export class Cell {
  hidden: i32;
  inputTable: usize;    // f32 [R][4H]
  recurrent: usize;     // f32 [4H][H]
  gateBias: usize;      // f32 [4H]
  outputWeights: usize; // f32 [K][H]
  outputBias: usize;    // f32 [K]
}

// @ts-ignore: decorator
@inline function horizontalSum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

/** sum_j row[j] vector[j] over n floats. */
export function dot(row: usize, vector: usize, n: i32): f32 {
  let accumulator = f32x4.splat(0);
  const vectorEnd = n & ~3;
  let j = 0;
  for (; j < vectorEnd; j += 4) {
    const offset = <usize>j << 2;
    accumulator = f32x4.add(accumulator, f32x4.mul(v128.load(row + offset), v128.load(vector + offset)));
  }
  let sum = horizontalSum(accumulator);
  for (; j < n; j++) sum += load<f32>(row + (<usize>j << 2)) * load<f32>(vector + (<usize>j << 2));
  return sum;
}

/** out[r] = bias[r] + sum_j matrix[r][j] vector[j] for r < rows (matrix row-major [rows][n]); bias may be 0. */
export function matVec(matrix: usize, vector: usize, bias: usize, rows: i32, n: i32, out: usize): void {
  const rowBytes = <usize>n << 2;
  const vectorEnd = n & ~3;
  let r = 0;
  for (; r + 4 <= rows; r += 4) {
    const row0 = matrix + <usize>r * rowBytes;
    const row1 = row0 + rowBytes;
    const row2 = row1 + rowBytes;
    const row3 = row2 + rowBytes;
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    for (let j = 0; j < vectorEnd; j += 4) {
      const offset = <usize>j << 2;
      const v = v128.load(vector + offset);
      a0 = f32x4.add(a0, f32x4.mul(v128.load(row0 + offset), v));
      a1 = f32x4.add(a1, f32x4.mul(v128.load(row1 + offset), v));
      a2 = f32x4.add(a2, f32x4.mul(v128.load(row2 + offset), v));
      a3 = f32x4.add(a3, f32x4.mul(v128.load(row3 + offset), v));
    }
    let s0 = horizontalSum(a0), s1 = horizontalSum(a1), s2 = horizontalSum(a2), s3 = horizontalSum(a3);
    for (let j = vectorEnd; j < n; j++) {
      const x = load<f32>(vector + (<usize>j << 2));
      const offset = <usize>j << 2;
      s0 += load<f32>(row0 + offset) * x;
      s1 += load<f32>(row1 + offset) * x;
      s2 += load<f32>(row2 + offset) * x;
      s3 += load<f32>(row3 + offset) * x;
    }
    if (bias != 0) {
      const b = bias + (<usize>r << 2);
      s0 += load<f32>(b); s1 += load<f32>(b, 4); s2 += load<f32>(b, 8); s3 += load<f32>(b, 12);
    }
    const o = out + (<usize>r << 2);
    store<f32>(o, s0); store<f32>(o, s1, 4); store<f32>(o, s2, 8); store<f32>(o, s3, 12);
  }
  for (; r < rows; r++) {
    let s = dot(matrix + <usize>r * rowBytes, vector, n);
    if (bias != 0) s += load<f32>(bias + (<usize>r << 2));
    store<f32>(out + (<usize>r << 2), s);
  }
}

// @ts-ignore: decorator
@inline function sigmoid(x: f32): f32 {
  return 1.0 / (1.0 + Mathf.exp(-x));
}

// exp on four lanes (Cephes expf: range reduction by ln 2, degree-5 polynomial, about 2 ulp): the gate
// nonlinearities cost more than the mat-vec with scalar Mathf.exp, and 1e-5 parity with TF.js needs no more.
// @ts-ignore: decorator
@inline export function exp4(x: v128): v128 {
  x = f32x4.min(f32x4.max(x, f32x4.splat(-87.3)), f32x4.splat(88.3));
  const n = f32x4.floor(f32x4.add(f32x4.mul(x, f32x4.splat(1.44269504088896341)), f32x4.splat(0.5)));
  x = f32x4.sub(x, f32x4.mul(n, f32x4.splat(0.693359375)));
  x = f32x4.sub(x, f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
  let y = f32x4.splat(1.9875691500e-4);
  y = f32x4.add(f32x4.mul(y, x), f32x4.splat(1.3981999507e-3));
  y = f32x4.add(f32x4.mul(y, x), f32x4.splat(8.3334519073e-3));
  y = f32x4.add(f32x4.mul(y, x), f32x4.splat(4.1665795894e-2));
  y = f32x4.add(f32x4.mul(y, x), f32x4.splat(1.6666665459e-1));
  y = f32x4.add(f32x4.mul(y, x), f32x4.splat(5.0000001201e-1));
  y = f32x4.add(f32x4.add(f32x4.mul(y, f32x4.mul(x, x)), x), f32x4.splat(1.0));
  const scale = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  return f32x4.mul(y, scale);
}

// @ts-ignore: decorator
@inline export function sigmoid4(x: v128): v128 {
  const one = f32x4.splat(1.0);
  return f32x4.div(one, f32x4.add(one, exp4(f32x4.neg(x))));
}

// tanh(x) = 2 sigmoid(2x) - 1: absolute error about 1e-7 (relative error grows near 0, harmless here).
// @ts-ignore: decorator
@inline export function tanh4(x: v128): v128 {
  const one = f32x4.splat(1.0);
  return f32x4.sub(f32x4.mul(f32x4.splat(2.0), sigmoid4(f32x4.add(x, x))), one);
}

/** One step with input symbol x: (h, c) <- cell((h, c), x). `gates` is scratch f32 [4H]. */
export function cellStep(cell: Cell, x: i32, h: usize, c: usize, gates: usize): void {
  matVec(cell.recurrent, h, 0, cell.hidden << 2, cell.hidden, gates);
  cellUpdate(cell, x, gates, h, c);
}

/** The rest of a step given recurrentPart = recurrent . h (f32 [4H], only read): (h, c) <- cell((h, c), x). The
 * lookahead shares one recurrent product among all candidate topics x. */
export function cellUpdate(cell: Cell, x: i32, gates: usize, h: usize, c: usize): void {
  const H = cell.hidden;
  const width = H << 2;
  const inputRow = cell.inputTable + (<usize>x * <usize>width << 2);
  const bias = cell.gateBias;
  const stride = <usize>H << 2;
  const vectorEnd = H & ~3;
  let j = 0;
  for (; j < vectorEnd; j += 4) {
    const o = <usize>j << 2;
    const gi = f32x4.add(f32x4.add(v128.load(gates + o), v128.load(inputRow + o)), v128.load(bias + o));
    const gf = f32x4.add(f32x4.add(v128.load(gates + stride + o), v128.load(inputRow + stride + o)), v128.load(bias + stride + o));
    const gc = f32x4.add(f32x4.add(v128.load(gates + 2 * stride + o), v128.load(inputRow + 2 * stride + o)), v128.load(bias + 2 * stride + o));
    const go = f32x4.add(f32x4.add(v128.load(gates + 3 * stride + o), v128.load(inputRow + 3 * stride + o)), v128.load(bias + 3 * stride + o));
    const cNew = f32x4.add(f32x4.mul(sigmoid4(gf), v128.load(c + o)), f32x4.mul(sigmoid4(gi), tanh4(gc)));
    v128.store(c + o, cNew);
    v128.store(h + o, f32x4.mul(sigmoid4(go), tanh4(cNew)));
  }
  for (; j < H; j++) {
    const o = <usize>j << 2;
    const gi = load<f32>(gates + o) + load<f32>(inputRow + o) + load<f32>(bias + o);
    const gf = load<f32>(gates + stride + o) + load<f32>(inputRow + stride + o) + load<f32>(bias + stride + o);
    const gc = load<f32>(gates + 2 * stride + o) + load<f32>(inputRow + 2 * stride + o) + load<f32>(bias + 2 * stride + o);
    const go = load<f32>(gates + 3 * stride + o) + load<f32>(inputRow + 3 * stride + o) + load<f32>(bias + 3 * stride + o);
    const cNew = sigmoid(gf) * load<f32>(c + o) + sigmoid(gi) * Mathf.tanh(gc);
    store<f32>(c + o, cNew);
    store<f32>(h + o, sigmoid(go) * Mathf.tanh(cNew));
  }
}

/** l_k = outputBias[k] + sum_j outputWeights[k][j] h[j]: one logit, O(H). */
// @ts-ignore: decorator
@inline export function logit(cell: Cell, h: usize, k: i32): f32 {
  const H = cell.hidden;
  return load<f32>(cell.outputBias + (<usize>k << 2)) + dot(cell.outputWeights + (<usize>k * <usize>H << 2), h, H);
}

/** All K logits into out f32 [K]. */
export function allLogits(cell: Cell, h: usize, K: i32, out: usize): void {
  matVec(cell.outputWeights, h, cell.outputBias, K, cell.hidden, out);
}

/** log softmax(logits)[next] over logits f32 [K]: the lookahead factor of one candidate topic. Summed in four
 * f32 lanes, then in f64; as native/sweep.cc's logSoftmaxAt to within float rounding. */
export function logSoftmaxAt(logits: usize, K: i32, next: i32): f64 {
  let largest: f32 = load<f32>(logits);
  for (let k = 1; k < K; k++) largest = max(largest, load<f32>(logits + (<usize>k << 2)));
  const shift = f32x4.splat(largest);
  let lanes = f32x4.splat(0);
  const vectorEnd = K & ~3;
  let k = 0;
  for (; k < vectorEnd; k += 4) lanes = f32x4.add(lanes, exp4(f32x4.sub(v128.load(logits + (<usize>k << 2)), shift)));
  let total: f64 = (<f64>f32x4.extract_lane(lanes, 0) + <f64>f32x4.extract_lane(lanes, 1))
    + (<f64>f32x4.extract_lane(lanes, 2) + <f64>f32x4.extract_lane(lanes, 3));
  for (; k < K; k++) total += <f64>Mathf.exp(load<f32>(logits + (<usize>k << 2)) - largest);
  return <f64>(load<f32>(logits + (<usize>next << 2)) - largest) - Math.log(total);
}

/** softmax of logits f32 [K] into probabilities f64 [K]. */
export function softmax(logits: usize, K: i32, out: usize): void {
  let maximum: f32 = -Infinity;
  for (let k = 0; k < K; k++) maximum = max(maximum, load<f32>(logits + (<usize>k << 2)));
  let total: f64 = 0;
  for (let k = 0; k < K; k++) {
    const e = Math.exp(<f64>(load<f32>(logits + (<usize>k << 2)) - maximum));
    store<f64>(out + (<usize>k << 3), e);
    total += e;
  }
  const inverse = 1.0 / total;
  for (let k = 0; k < K; k++) store<f64>(out + (<usize>k << 3), load<f64>(out + (<usize>k << 3)) * inverse);
}

/** lstmSteps entry: run over inputs [steps] from zero state; h and c after each step into [steps][H].
 * `state` is scratch f32 [2H + 4H]. */
export function lstmSteps(cell: Cell, inputs: usize, steps: i32, hiddenOut: usize, cellOut: usize, state: usize): void {
  const H = cell.hidden;
  const bytes = <usize>H << 2;
  const h = state, c = state + bytes, gates = state + 2 * bytes;
  memory.fill(h, 0, 2 * bytes);
  for (let t = 0; t < steps; t++) {
    cellStep(cell, load<i32>(inputs + (<usize>t << 2)), h, c, gates);
    memory.copy(hiddenOut + <usize>t * bytes, h, bytes);
    memory.copy(cellOut + <usize>t * bytes, c, bytes);
  }
}

/** topicTransitions entry (lla weights): sums[z_t][k] += pi_{t+1,k}, rowCounts[z_t] += 1 over all positions but
 * each sequence's last. `scratch` is f32 [2H + 4H + K] then f64 [K] (16-byte aligned pieces). */
export function topicTransitions(cell: Cell, offsets: usize, sequences: i32, topics: usize, K: i32,
  sums: usize, rowCounts: usize, scratch: usize): void {
  const H = cell.hidden;
  const bytes = <usize>H << 2;
  const h = scratch, c = h + bytes, gates = c + bytes;
  const logits = gates + 4 * bytes;
  const probabilities = (logits + (<usize>K << 2) + 15) & ~15;
  memory.fill(sums, 0, <usize>K * <usize>K << 3);
  memory.fill(rowCounts, 0, <usize>K << 3);
  for (let d = 0; d < sequences; d++) {
    const start = load<i32>(offsets + (<usize>d << 2));
    const end = load<i32>(offsets + (<usize>(d + 1) << 2));
    if (end - start < 2) continue;
    memory.fill(h, 0, 2 * bytes);
    cellStep(cell, K, h, c, gates); // the begin symbol: state of position 0
    for (let t = start; t < end - 1; t++) {
      const z = load<i32>(topics + (<usize>t << 2));
      cellStep(cell, z, h, c, gates);
      allLogits(cell, h, K, logits);
      softmax(logits, K, probabilities);
      const row = sums + (<usize>z * <usize>K << 3);
      for (let k = 0; k < K; k++) {
        const at = row + (<usize>k << 3);
        store<f64>(at, load<f64>(at) + load<f64>(probabilities + (<usize>k << 3)));
      }
      const countAt = rowCounts + (<usize>z << 3);
      store<f64>(countAt, load<f64>(countAt) + 1.0);
    }
  }
}
