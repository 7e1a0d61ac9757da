// The fused LSTM trainer (entry point lstmTrain of src/kernels/types.ts), as native/lstm_train.cc: per window, the
// forward pass from the carried states, back-propagation through the window, the softmax cross-entropy, every
// parameter's gradient and one Adam step. The wrapper (src/kernels/wasm-lstm-train.ts) runs each window in three
// phases: trainPrepare (calling thread: padded and transposed matrices, lla's folded input table), trainBlocksRange
// (any thread takes whole blocks of LANES_PER_BLOCK lanes), trainFinish (calling thread: the blocks' gradients
// summed in block order, the input side's gradient scattered by token, Adam). Block rows are step-major
// (row n = t * lanes + lane). Nothing here allocates: the wrapper allocates the work spaces this file lays out.

import { PAD_FLOATS, paddedFloats, multiplyRows, transpose, columnSums, padRows } from './dense';
import { adamUpdate, nextBeta1Power, nextBeta2Power } from './adam';
import { exp4, sigmoid4, tanh4 } from './lstm_cell';
import {
  TRAIN_SYMBOLS, TRAIN_EMBEDDING, TRAIN_HIDDEN, TRAIN_OUTPUTS, TRAIN_TABLE, TRAIN_LANES, TRAIN_STEPS, TRAIN_WINDOW,
  TRAIN_INPUTS, TRAIN_TARGETS, TRAIN_PARAMETERS, TRAIN_MOMENTS, TRAIN_ADAM, TRAIN_HIDDEN_STATE, TRAIN_CELL_STATE,
  TRAIN_LOSSES, TRAIN_GRADIENT, TRAIN_SHARED, TRAIN_BLOCKS, TRAIN_WINDOWS, TRAIN_TOKENS, TRAIN_SCALE,
  TRAIN_LEARNING_RATE,
} from './layout';

/** Lanes per block: gradients are summed per block and the blocks in block order (never by thread). */
export const LANES_PER_BLOCK = 8;

// The shared work space's areas, in order (floats; rows padded to Hp, Gp, Kp, Ep).
const RECURRENT_PADDED = 0;      // [H][Gp] recurrentKernel
const RECURRENT_TRANSPOSED = 1;  // [4H][Hp]
const OUTPUT_PADDED = 2;         // [H][Kp] outputKernel
const OUTPUT_TRANSPOSED = 3;     // [K][Hp]
const INPUT_PADDED = 4;          // [E][Gp] inputKernel
const INPUT_TRANSPOSED = 5;      // [4H][Ep]
const GRADIENT = 6;              // [P] the window's gradient, packed as the parameters
const TABLE = 7;                 // table: [R][Gp] embedding . inputKernel + gateBias
const TABLE_GRADIENT = 8;        // table: [R][Gp]
const FOLD_ROWS = 9;             // table: [R][Ep]
const EMBEDDING_TRANSPOSED = 10; // table: [E][R]
const FOLD_INPUT = 11;           // table: [E][Gp]
const SHARED_AREAS = 12;

// A block's areas, in order (n = L x LANES_PER_BLOCK rows).
const LOSS = 0;                  // f64: sum of -log p over the block's real tokens (8 floats reserved)
const HIDDEN_BEFORE = 1;         // [n][Hp] h entering each step (zero after a reset)
const CELL_BEFORE = 2;           // [n][Hp]
const HIDDEN = 3;                // [n][Hp] h after each step
const TANH_CELL = 4;             // [n][Hp]
const GATES = 5;                 // [n][Gp] activations i, f, cand, o
const GATE_GRADIENTS = 6;        // [n][Gp] read by trainFinish
const LOGITS = 7;                // [n][Kp] logits, then their gradient
const HIDDEN_FROM_OUTPUT = 8;    // [n][Hp]
const TRANSPOSED = 9;            // [max(H, E)][n]
const CELL_NOW = 10;             // [lanes][Hp]
const HIDDEN_CARRY = 11;         // [lanes][Hp]
const CELL_CARRY = 12;           // [lanes][Hp]
const EMBEDDED = 13;             // gather: [n][Ep]
const EMBEDDED_GRADIENTS = 14;   // gather: [n][Ep] read by trainFinish
const RECURRENT_GRADIENT = 15;   // [H][Gp]
const OUTPUT_GRADIENT = 16;      // [H][Kp]
const OUTPUT_BIAS_GRADIENT = 17; // [Kp]
const INPUT_GRADIENT = 18;       // gather: [E][Gp]
const BIAS_GRADIENT = 19;        // gather: [Gp]
const BLOCK_TABLE_GRADIENT = 20; // table: [R][Gp] the block's tokens' gate gradients added by input symbol
const BLOCK_AREAS = 21;

// ---- sizes and layout ----

// @ts-ignore: decorator
@inline function symbols(params: usize): i32 { return load<i32>(params + TRAIN_SYMBOLS); }
// @ts-ignore: decorator
@inline function embeddingSize(params: usize): i32 { return load<i32>(params + TRAIN_EMBEDDING); }
// @ts-ignore: decorator
@inline function hiddenSize(params: usize): i32 { return load<i32>(params + TRAIN_HIDDEN); }
// @ts-ignore: decorator
@inline function outputCount(params: usize): i32 { return load<i32>(params + TRAIN_OUTPUTS); }
// @ts-ignore: decorator
@inline function usesTable(params: usize): bool { return load<i32>(params + TRAIN_TABLE) != 0; }
// @ts-ignore: decorator
@inline function laneCount(params: usize): i32 { return load<i32>(params + TRAIN_LANES); }
// @ts-ignore: decorator
@inline function stepCount(params: usize): i32 { return load<i32>(params + TRAIN_STEPS); }

/** Offsets (floats) of the packed parameters: 0 embedding, 1 inputKernel, 2 recurrentKernel, 3 gateBias,
 * 4 outputKernel, 5 outputBias, 6 the total P. */
function parameterOffset(params: usize, tensor: i32): usize {
  const R = <usize>symbols(params), E = <usize>embeddingSize(params), H = <usize>hiddenSize(params);
  const K = <usize>outputCount(params), G = H << 2;
  let offset: usize = 0;
  if (tensor > 0) offset += R * E;
  if (tensor > 1) offset += E * G;
  if (tensor > 2) offset += H * G;
  if (tensor > 3) offset += G;
  if (tensor > 4) offset += H * K;
  if (tensor > 5) offset += K;
  return offset;
}

// Area sizes in floats, computed in float64 so that an absurd shape cannot wrap around: the wrapper refuses a work
// space beyond the linear memory before any pointer is formed from these.
function sharedFloats(params: usize, area: i32): f64 {
  const R = <f64>symbols(params), E = <f64>embeddingSize(params), H = <f64>hiddenSize(params);
  const K = <f64>outputCount(params), G = 4 * H;
  const Hp = <f64>paddedFloats(hiddenSize(params)), Gp = <f64>paddedFloats(4 * hiddenSize(params));
  const Kp = <f64>paddedFloats(outputCount(params)), Ep = <f64>paddedFloats(embeddingSize(params));
  const table = usesTable(params);
  switch (area) {
    case RECURRENT_PADDED: return H * Gp;
    case RECURRENT_TRANSPOSED: return G * Hp;
    case OUTPUT_PADDED: return H * Kp;
    case OUTPUT_TRANSPOSED: return K * Hp;
    case INPUT_PADDED: return E * Gp;
    case INPUT_TRANSPOSED: return G * Ep;
    case GRADIENT: return R * E + E * G + H * G + G + H * K + K;
    case TABLE: return table ? R * Gp : 0;
    case TABLE_GRADIENT: return table ? R * Gp : 0;
    case FOLD_ROWS: return table ? R * Ep : 0;
    case EMBEDDING_TRANSPOSED: return table ? E * R : 0;
    case FOLD_INPUT: return table ? E * Gp : 0;
  }
  return 0;
}

function blockFloats(params: usize, area: i32): f64 {
  const R = <f64>symbols(params), E = <f64>embeddingSize(params), H = <f64>hiddenSize(params);
  const Hp = <f64>paddedFloats(hiddenSize(params)), Gp = <f64>paddedFloats(4 * hiddenSize(params));
  const Kp = <f64>paddedFloats(outputCount(params)), Ep = <f64>paddedFloats(embeddingSize(params));
  const n = <f64>stepCount(params) * LANES_PER_BLOCK;
  const lanes = <f64>LANES_PER_BLOCK;
  const gather = !usesTable(params);
  switch (area) {
    case LOSS: return PAD_FLOATS;
    case HIDDEN_BEFORE: case CELL_BEFORE: case HIDDEN: case TANH_CELL: case HIDDEN_FROM_OUTPUT: return n * Hp;
    case GATES: case GATE_GRADIENTS: return n * Gp;
    case LOGITS: return n * Kp;
    case TRANSPOSED: return (H > E ? H : E) * n;
    case CELL_NOW: case HIDDEN_CARRY: case CELL_CARRY: return lanes * Hp;
    case EMBEDDED: case EMBEDDED_GRADIENTS: return gather ? n * Ep : 0;
    case RECURRENT_GRADIENT: return H * Gp;
    case OUTPUT_GRADIENT: return H * Kp;
    case OUTPUT_BIAS_GRADIENT: return Kp;
    case INPUT_GRADIENT: return gather ? E * Gp : 0;
    case BIAS_GRADIENT: return gather ? Gp : 0;
    case BLOCK_TABLE_GRADIENT: return gather ? 0 : R * Gp;
  }
  return 0;
}

// areas start on 32-byte boundaries (whole padded rows)
// @ts-ignore: decorator
@inline function areaBytes(floats: f64): f64 { return Math.ceil(floats / PAD_FLOATS) * PAD_FLOATS * 4; }

/** Bytes of the shared work space (zero-filled by the wrapper). */
export function trainSharedBytes(params: usize): f64 {
  let bytes: f64 = 0;
  for (let area = 0; area < SHARED_AREAS; area++) bytes += areaBytes(sharedFloats(params, area));
  return bytes;
}

/** Bytes of one block's work space (zero-filled by the wrapper; ceil(B / LANES_PER_BLOCK) of them). */
export function trainBlockBytes(params: usize): f64 {
  let bytes: f64 = 0;
  for (let area = 0; area < BLOCK_AREAS; area++) bytes += areaBytes(blockFloats(params, area));
  return bytes;
}

function sharedArea(params: usize, area: i32): usize {
  let at = load<usize>(params + TRAIN_SHARED);
  for (let i = 0; i < area; i++) at += <usize>areaBytes(sharedFloats(params, i));
  return at;
}

function blockArea(params: usize, block: i32, area: i32): usize {
  let at = load<usize>(params + TRAIN_BLOCKS) + <usize>block * <usize>trainBlockBytes(params);
  for (let i = 0; i < area; i++) at += <usize>areaBytes(blockFloats(params, i));
  return at;
}

// @ts-ignore: decorator
@inline function rowAt(base: usize, n: i32, stride: i32): usize { return base + (<usize>n * <usize>stride << 2); }

// ---- the window's phases ----

/** Phase 1 (calling thread): count the window's real tokens; padded and transposed matrices; lla's table. */
export function trainPrepare(params: usize): void {
  const R = symbols(params), E = embeddingSize(params), H = hiddenSize(params), K = outputCount(params), G = 4 * H;
  const Hp = paddedFloats(H), Gp = paddedFloats(G), Kp = paddedFloats(K), Ep = paddedFloats(E);
  const B = laneCount(params), L = stepCount(params);
  const w = load<usize>(params + TRAIN_PARAMETERS);
  const size = <usize>L * <usize>B;
  const targets = load<usize>(params + TRAIN_TARGETS) + (<usize>load<i32>(params + TRAIN_WINDOW) * size << 2);
  let tokens = 0;
  for (let i: usize = 0; i < size; i++) if (load<i32>(targets + (i << 2)) >= 0) tokens++;
  store<i32>(params + TRAIN_TOKENS, tokens);
  // the loss is the mean over the window's real tokens, as the TF.js path divides by max(1, tokens)
  const denominator = tokens > 1 ? tokens : 1;
  store<f32>(params + TRAIN_SCALE, <f32>1.0 / <f32>denominator);
  const recurrent = w + (parameterOffset(params, 2) << 2), output = w + (parameterOffset(params, 4) << 2);
  const input = w + (parameterOffset(params, 1) << 2);
  padRows(recurrent, H, G, sharedArea(params, RECURRENT_PADDED), Gp);
  transpose(recurrent, G, H, G, sharedArea(params, RECURRENT_TRANSPOSED), Hp);
  padRows(output, H, K, sharedArea(params, OUTPUT_PADDED), Kp);
  transpose(output, K, H, K, sharedArea(params, OUTPUT_TRANSPOSED), Hp);
  const inputPadded = sharedArea(params, INPUT_PADDED);
  padRows(input, E, G, inputPadded, Gp);
  transpose(input, G, E, G, sharedArea(params, INPUT_TRANSPOSED), Ep);
  if (usesTable(params)) {
    const table = sharedArea(params, TABLE);
    multiplyRows(w, E, R, inputPadded, Gp, E, Gp, table, Gp, false);
    const bias = w + (parameterOffset(params, 3) << 2);
    for (let r = 0; r < R; r++) addRow(rowAt(table, r, Gp), bias, G);
  }
}

/** Phase 2 (any thread, wasm-pool.ts job): blocks [first, end) of the current window. */
export function trainBlocksRange(params: usize, scratch: usize, first: i32, end: i32): void {
  for (let block = first; block < end; block++) runBlock(params, block);
}

/** Phase 3 (calling thread): the window's gradient from the blocks in block order, its loss, and Adam. */
export function trainFinish(params: usize): void {
  const R = symbols(params), E = embeddingSize(params), H = hiddenSize(params), K = outputCount(params), G = 4 * H;
  const Gp = paddedFloats(G), Kp = paddedFloats(K), Ep = paddedFloats(E);
  const B = laneCount(params), L = stepCount(params);
  const blocks = (B + LANES_PER_BLOCK - 1) / LANES_PER_BLOCK;
  const table = usesTable(params);
  const w = load<usize>(params + TRAIN_PARAMETERS);
  const g = sharedArea(params, GRADIENT);
  const window = load<i32>(params + TRAIN_WINDOW);
  const inputs = load<usize>(params + TRAIN_INPUTS) + (<usize>window * <usize>L * <usize>B << 2);
  sumBlocks(params, blocks, RECURRENT_GRADIENT, H, G, Gp, g + (parameterOffset(params, 2) << 2));
  sumBlocks(params, blocks, OUTPUT_GRADIENT, H, K, Kp, g + (parameterOffset(params, 4) << 2));
  sumBlocks(params, blocks, OUTPUT_BIAS_GRADIENT, 1, K, Kp, g + (parameterOffset(params, 5) << 2));
  if (table) {
    // table = embedding . inputKernel + gateBias: d embedding = dT . inputKernel^T, d inputKernel = embedding^T . dT
    const tableGradient = sharedArea(params, TABLE_GRADIENT);
    sumBlocks(params, blocks, BLOCK_TABLE_GRADIENT, R, Gp, Gp, tableGradient);
    const foldRows = sharedArea(params, FOLD_ROWS);
    multiplyRows(tableGradient, Gp, R, sharedArea(params, INPUT_TRANSPOSED), Ep, G, Ep, foldRows, Ep, false);
    for (let r = 0; r < R; r++) memory.copy(g + (<usize>r * <usize>E << 2), rowAt(foldRows, r, Ep), <usize>E << 2);
    const embeddingTransposed = sharedArea(params, EMBEDDING_TRANSPOSED);
    const foldInput = sharedArea(params, FOLD_INPUT);
    transpose(w, E, R, E, embeddingTransposed, R);
    multiplyRows(embeddingTransposed, R, E, tableGradient, Gp, R, Gp, foldInput, Gp, false);
    const inputGradient = g + (parameterOffset(params, 1) << 2);
    for (let e = 0; e < E; e++) memory.copy(inputGradient + (<usize>e * <usize>G << 2), rowAt(foldInput, e, Gp), <usize>G << 2);
    columnSums(tableGradient, Gp, R, G, g + (parameterOffset(params, 3) << 2));
  } else {
    sumBlocks(params, blocks, INPUT_GRADIENT, E, G, Gp, g + (parameterOffset(params, 1) << 2));
    sumBlocks(params, blocks, BIAS_GRADIENT, 1, G, Gp, g + (parameterOffset(params, 3) << 2));
    // each token's embedding gradient added to its symbol's row, blocks in order, rows in order
    memory.fill(g, 0, <usize>R * <usize>E << 2);
    for (let block = 0; block < blocks; block++) {
      const first = block * LANES_PER_BLOCK;
      const lanes = min(LANES_PER_BLOCK, B - first);
      const embeddedGradients = blockArea(params, block, EMBEDDED_GRADIENTS);
      for (let n = 0; n < L * lanes; n++) {
        addRow(rowAt(g, inputOf(inputs, n, lanes, B, first), E), rowAt(embeddedGradients, n, Ep), E);
      }
    }
  }
  let loss: f64 = 0;
  for (let block = 0; block < blocks; block++) loss += load<f64>(blockArea(params, block, LOSS));
  const tokens = load<i32>(params + TRAIN_TOKENS);
  const denominator = tokens > 1 ? tokens : 1;
  store<f64>(load<usize>(params + TRAIN_LOSSES) + (<usize>window << 3), loss / <f64>denominator);
  const P = <i32>parameterOffset(params, 6);
  const adam = load<usize>(params + TRAIN_ADAM);
  const moments = load<usize>(params + TRAIN_MOMENTS);
  const beta1Power = <f32>load<f64>(adam, 8), beta2Power = <f32>load<f64>(adam, 16);
  adamUpdate(w, moments, moments + (<usize>P << 2), g, P, load<f32>(params + TRAIN_LEARNING_RATE), beta1Power, beta2Power);
  store<f64>(adam, load<f64>(adam) + 1);
  store<f64>(adam, <f64>nextBeta1Power(beta1Power), 8);
  store<f64>(adam, <f64>nextBeta2Power(beta2Power), 16);
  const gradientOut = load<usize>(params + TRAIN_GRADIENT);
  if (gradientOut != 0 && window == load<i32>(params + TRAIN_WINDOWS) - 1) memory.copy(gradientOut, g, <usize>P << 2);
}

// ---- one block ----

function runBlock(params: usize, block: i32): void {
  const R = symbols(params), E = embeddingSize(params), H = hiddenSize(params), K = outputCount(params), G = 4 * H;
  const Hp = paddedFloats(H), Gp = paddedFloats(G), Kp = paddedFloats(K), Ep = paddedFloats(E);
  const B = laneCount(params), L = stepCount(params);
  const table = usesTable(params);
  const first = block * LANES_PER_BLOCK;
  const lanes = min(LANES_PER_BLOCK, B - first);
  const rows = L * lanes;
  const begin = R - 1;
  const window = load<i32>(params + TRAIN_WINDOW);
  const windowStart = <usize>window * <usize>L * <usize>B << 2;
  const inputs = load<usize>(params + TRAIN_INPUTS) + windowStart;
  const targets = load<usize>(params + TRAIN_TARGETS) + windowStart;
  const w = load<usize>(params + TRAIN_PARAMETERS);
  const hiddenState = load<usize>(params + TRAIN_HIDDEN_STATE), cellState = load<usize>(params + TRAIN_CELL_STATE);
  const scale = load<f32>(params + TRAIN_SCALE);
  const hiddenBytes = <usize>H << 2;
  const bias = w + (parameterOffset(params, 3) << 2);
  const outputBias = w + (parameterOffset(params, 5) << 2);

  const hiddenBefore = blockArea(params, block, HIDDEN_BEFORE), cellBefore = blockArea(params, block, CELL_BEFORE);
  const hidden = blockArea(params, block, HIDDEN), tanhCell = blockArea(params, block, TANH_CELL);
  const gates = blockArea(params, block, GATES), gateGradients = blockArea(params, block, GATE_GRADIENTS);
  const logits = blockArea(params, block, LOGITS), hiddenFromOutput = blockArea(params, block, HIDDEN_FROM_OUTPUT);
  const transposed = blockArea(params, block, TRANSPOSED), cellNow = blockArea(params, block, CELL_NOW);
  const hiddenCarry = blockArea(params, block, HIDDEN_CARRY), cellCarry = blockArea(params, block, CELL_CARRY);

  if (!table) {
    // gather: the window's embedding rows times inputKernel, plus the bias, in one product
    const embedded = blockArea(params, block, EMBEDDED);
    for (let n = 0; n < rows; n++) {
      const x = inputOf(inputs, n, lanes, B, first);
      memory.copy(rowAt(embedded, n, Ep), w + (<usize>x * <usize>E << 2), <usize>E << 2);
    }
    multiplyRows(embedded, Ep, rows, sharedArea(params, INPUT_PADDED), Gp, E, Gp, gates, Gp, false);
    for (let n = 0; n < rows; n++) addRow(rowAt(gates, n, Gp), bias, G);
  }
  const tableRows = table ? sharedArea(params, TABLE) : 0;
  const recurrentPadded = sharedArea(params, RECURRENT_PADDED);
  // forward through the window
  for (let t = 0; t < L; t++) {
    for (let lane = 0; lane < lanes; lane++) {
      const n = t * lanes + lane;
      const x = inputOf(inputs, n, lanes, B, first);
      const hBefore = rowAt(hiddenBefore, n, Hp), cBefore = rowAt(cellBefore, n, Hp);
      if (x == begin) {
        memory.fill(hBefore, 0, hiddenBytes);
        memory.fill(cBefore, 0, hiddenBytes);
      } else if (t == 0) {
        memory.copy(hBefore, rowAt(hiddenState, first + lane, H), hiddenBytes);
        memory.copy(cBefore, rowAt(cellState, first + lane, H), hiddenBytes);
      } else {
        memory.copy(hBefore, rowAt(hidden, n - lanes, Hp), hiddenBytes);
        memory.copy(cBefore, rowAt(cellNow, lane, Hp), hiddenBytes);
      }
      if (table) memory.copy(rowAt(gates, n, Gp), rowAt(tableRows, x, Gp), <usize>Gp << 2);
    }
    multiplyRows(rowAt(hiddenBefore, t * lanes, Hp), Hp, lanes, recurrentPadded, Gp, H, Gp, rowAt(gates, t * lanes, Gp), Gp, true);
    for (let lane = 0; lane < lanes; lane++) {
      const n = t * lanes + lane;
      activate(rowAt(gates, n, Gp), rowAt(cellBefore, n, Hp), rowAt(cellNow, lane, Hp), rowAt(tanhCell, n, Hp),
        rowAt(hidden, n, Hp), H);
    }
  }
  // the states carried into the next window
  for (let lane = 0; lane < lanes; lane++) {
    memory.copy(rowAt(hiddenState, first + lane, H), rowAt(hidden, (L - 1) * lanes + lane, Hp), hiddenBytes);
    memory.copy(rowAt(cellState, first + lane, H), rowAt(cellNow, lane, Hp), hiddenBytes);
  }
  // the softmax over all the block's steps at once
  multiplyRows(hidden, Hp, rows, sharedArea(params, OUTPUT_PADDED), Kp, H, Kp, logits, Kp, false);
  let loss: f64 = 0;
  for (let n = 0; n < rows; n++) {
    loss += softmaxGradient(rowAt(logits, n, Kp), outputBias, K, inputOf(targets, n, lanes, B, first), scale);
  }
  store<f64>(blockArea(params, block, LOSS), loss);
  transpose(hidden, Hp, rows, H, transposed, rows);
  multiplyRows(transposed, rows, H, logits, Kp, rows, Kp, blockArea(params, block, OUTPUT_GRADIENT), Kp, false);
  columnSums(logits, Kp, rows, K, blockArea(params, block, OUTPUT_BIAS_GRADIENT));
  multiplyRows(logits, Kp, rows, sharedArea(params, OUTPUT_TRANSPOSED), Hp, K, Hp, hiddenFromOutput, Hp, false);
  // backward through time; a lane's state was zeroed where it read the begin symbol, so nothing flows past it
  const carryBytes = <usize>lanes * <usize>Hp << 2;
  memory.fill(hiddenCarry, 0, carryBytes);
  memory.fill(cellCarry, 0, carryBytes);
  const recurrentTransposed = sharedArea(params, RECURRENT_TRANSPOSED);
  for (let t = L - 1; t >= 0; t--) {
    for (let lane = 0; lane < lanes; lane++) {
      const n = t * lanes + lane;
      backwardStep(rowAt(gates, n, Gp), rowAt(tanhCell, n, Hp), rowAt(cellBefore, n, Hp), rowAt(hiddenFromOutput, n, Hp),
        rowAt(hiddenCarry, lane, Hp), rowAt(cellCarry, lane, Hp), rowAt(gateGradients, n, Gp), H);
    }
    if (t == 0) break; // the carried-in state is detached: nothing flows into the previous window
    multiplyRows(rowAt(gateGradients, t * lanes, Gp), Gp, lanes, recurrentTransposed, Hp, G, Hp, hiddenCarry, Hp, false);
    for (let lane = 0; lane < lanes; lane++) {
      if (inputOf(inputs, t * lanes + lane, lanes, B, first) != begin) continue;
      memory.fill(rowAt(hiddenCarry, lane, Hp), 0, <usize>Hp << 2);
      memory.fill(rowAt(cellCarry, lane, Hp), 0, <usize>Hp << 2);
    }
  }
  transpose(hiddenBefore, Hp, rows, H, transposed, rows);
  multiplyRows(transposed, rows, H, gateGradients, Gp, rows, Gp, blockArea(params, block, RECURRENT_GRADIENT), Gp, false);
  if (table) {
    // the table's gradient: each token's gate gradients added to its input symbol's row, rows in order
    const tableGradient = blockArea(params, block, BLOCK_TABLE_GRADIENT);
    memory.fill(tableGradient, 0, <usize>R * <usize>Gp << 2);
    for (let n = 0; n < rows; n++) {
      addRow(rowAt(tableGradient, inputOf(inputs, n, lanes, B, first), Gp), rowAt(gateGradients, n, Gp), G);
    }
  } else {
    transpose(blockArea(params, block, EMBEDDED), Ep, rows, E, transposed, rows);
    multiplyRows(transposed, rows, E, gateGradients, Gp, rows, Gp, blockArea(params, block, INPUT_GRADIENT), Gp, false);
    columnSums(gateGradients, Gp, rows, G, blockArea(params, block, BIAS_GRADIENT));
    multiplyRows(gateGradients, Gp, rows, sharedArea(params, INPUT_TRANSPOSED), Ep, G, Ep,
      blockArea(params, block, EMBEDDED_GRADIENTS), Ep, false);
  }
}

/** The value of a [L][B] window array at block row n (step n / lanes, lane first + n % lanes). */
// @ts-ignore: decorator
@inline function inputOf(values: usize, n: i32, lanes: i32, B: i32, first: i32): i32 {
  return load<i32>(values + (<usize>((n / lanes) * B + first + n % lanes) << 2));
}

/** target[c] += source[c] for c < count. */
function addRow(target: usize, source: usize, count: i32): void {
  for (let c = 0; c < count; c++) {
    const at = target + (<usize>c << 2);
    store<f32>(at, load<f32>(at) + load<f32>(source + (<usize>c << 2)));
  }
}

/** out[r][c] = sum over blocks in order of the block's area[r][c] (padded stride), r < rows, c < columns. */
function sumBlocks(params: usize, blocks: i32, area: i32, rows: i32, columns: i32, stride: i32, out: usize): void {
  for (let r = 0; r < rows; r++) {
    const target = out + (<usize>r * <usize>columns << 2);
    memory.copy(target, rowAt(blockArea(params, 0, area), r, stride), <usize>columns << 2);
    for (let block = 1; block < blocks; block++) addRow(target, rowAt(blockArea(params, block, area), r, stride), columns);
  }
}

// @ts-ignore: decorator
@inline function sigmoid(x: f32): f32 {
  return 1.0 / (1.0 + Mathf.exp(-x));
}

// @ts-ignore: decorator
@inline function hyperbolicTangent(x: f32): f32 {
  return 2.0 / (1.0 + Mathf.exp(-2.0 * x)) - 1.0;
}

/** Gate activations of one row (i, f, cand, o: in place), the new cell state, its tanh and the hidden state. */
function activate(gates: usize, cellBefore: usize, cellNow: usize, tanhCell: usize, hidden: usize, H: i32): void {
  const stride = <usize>H << 2;
  let j = 0;
  for (; j + 4 <= H; j += 4) {
    const o = <usize>j << 2;
    const i = sigmoid4(v128.load(gates + o));
    const f = sigmoid4(v128.load(gates + stride + o));
    const candidate = tanh4(v128.load(gates + 2 * stride + o));
    const output = sigmoid4(v128.load(gates + 3 * stride + o));
    v128.store(gates + o, i);
    v128.store(gates + stride + o, f);
    v128.store(gates + 2 * stride + o, candidate);
    v128.store(gates + 3 * stride + o, output);
    const c = f32x4.add(f32x4.mul(f, v128.load(cellBefore + o)), f32x4.mul(i, candidate));
    const tc = tanh4(c);
    v128.store(cellNow + o, c);
    v128.store(tanhCell + o, tc);
    v128.store(hidden + o, f32x4.mul(output, tc));
  }
  for (; j < H; j++) {
    const o = <usize>j << 2;
    const i = sigmoid(load<f32>(gates + o));
    const f = sigmoid(load<f32>(gates + stride + o));
    const candidate = hyperbolicTangent(load<f32>(gates + 2 * stride + o));
    const output = sigmoid(load<f32>(gates + 3 * stride + o));
    store<f32>(gates + o, i);
    store<f32>(gates + stride + o, f);
    store<f32>(gates + 2 * stride + o, candidate);
    store<f32>(gates + 3 * stride + o, output);
    const c = f * load<f32>(cellBefore + o) + i * candidate;
    const tc = hyperbolicTangent(c);
    store<f32>(cellNow + o, c);
    store<f32>(tanhCell + o, tc);
    store<f32>(hidden + o, output * tc);
  }
}

/** One step of one lane backwards (native/lstm_train.cc backwardStep). */
function backwardStep(gates: usize, tanhCell: usize, cellBefore: usize, hiddenFromOutput: usize, hiddenCarry: usize,
  cellCarry: usize, gateGradients: usize, H: i32): void {
  const stride = <usize>H << 2;
  const one = f32x4.splat(1.0);
  let j = 0;
  for (; j + 4 <= H; j += 4) {
    const o = <usize>j << 2;
    const i = v128.load(gates + o), f = v128.load(gates + stride + o);
    const candidate = v128.load(gates + 2 * stride + o), output = v128.load(gates + 3 * stride + o);
    const tc = v128.load(tanhCell + o);
    const dh = f32x4.add(v128.load(hiddenFromOutput + o), v128.load(hiddenCarry + o));
    const dc = f32x4.add(v128.load(cellCarry + o), f32x4.mul(f32x4.mul(dh, output), f32x4.sub(one, f32x4.mul(tc, tc))));
    v128.store(gateGradients + o, f32x4.mul(f32x4.mul(f32x4.mul(dc, candidate), i), f32x4.sub(one, i)));
    v128.store(gateGradients + stride + o,
      f32x4.mul(f32x4.mul(f32x4.mul(dc, v128.load(cellBefore + o)), f), f32x4.sub(one, f)));
    v128.store(gateGradients + 2 * stride + o, f32x4.mul(f32x4.mul(dc, i), f32x4.sub(one, f32x4.mul(candidate, candidate))));
    v128.store(gateGradients + 3 * stride + o, f32x4.mul(f32x4.mul(f32x4.mul(dh, tc), output), f32x4.sub(one, output)));
    v128.store(cellCarry + o, f32x4.mul(dc, f));
  }
  for (; j < H; j++) {
    const o = <usize>j << 2;
    const i = load<f32>(gates + o), f = load<f32>(gates + stride + o);
    const candidate = load<f32>(gates + 2 * stride + o), output = load<f32>(gates + 3 * stride + o);
    const tc = load<f32>(tanhCell + o);
    const dh = load<f32>(hiddenFromOutput + o) + load<f32>(hiddenCarry + o);
    const dc = load<f32>(cellCarry + o) + dh * output * (1.0 - tc * tc);
    store<f32>(gateGradients + o, dc * candidate * i * (1.0 - i));
    store<f32>(gateGradients + stride + o, dc * load<f32>(cellBefore + o) * f * (1.0 - f));
    store<f32>(gateGradients + 2 * stride + o, dc * i * (1.0 - candidate * candidate));
    store<f32>(gateGradients + 3 * stride + o, dh * tc * output * (1.0 - output));
    store<f32>(cellCarry + o, dc * f);
  }
}

/** Softmax cross-entropy of one row (native/lstm_train.cc softmaxGradient): logits become (p - onehot) * scale;
 * returns -log p(target), 0 for padding (target < 0). */
function softmaxGradient(logits: usize, bias: usize, K: i32, target: i32, scale: f32): f64 {
  if (target < 0) {
    memory.fill(logits, 0, <usize>K << 2);
    return 0;
  }
  let maximum: f32 = -Infinity;
  for (let k = 0; k < K; k++) {
    const at = logits + (<usize>k << 2);
    const value = load<f32>(at) + load<f32>(bias + (<usize>k << 2));
    store<f32>(at, value);
    maximum = max(maximum, value);
  }
  const targetLogit = load<f32>(logits + (<usize>target << 2));
  // exponentials four at a time (the polynomial of the gates), then their sum in order
  const shift = f32x4.splat(maximum);
  let k = 0;
  for (; k + 4 <= K; k += 4) {
    const at = logits + (<usize>k << 2);
    v128.store(at, exp4(f32x4.sub(v128.load(at), shift)));
  }
  for (; k < K; k++) {
    const at = logits + (<usize>k << 2);
    store<f32>(at, Mathf.exp(load<f32>(at) - maximum));
  }
  let total: f32 = 0;
  for (k = 0; k < K; k++) total += load<f32>(logits + (<usize>k << 2));
  const factor = scale / total;
  for (let k = 0; k < K; k++) {
    const at = logits + (<usize>k << 2);
    store<f32>(at, load<f32>(at) * factor);
  }
  const at = logits + (<usize>target << 2);
  store<f32>(at, load<f32>(at) - scale);
  return -(<f64>(targetLogit - maximum) - Math.log(<f64>total));
}
