// Dense float products for the LSTM trainer (lstm_train.ts), as native/dense.cc: one row-times-matrix primitive
// serves the forward and backward products and the weight gradients. Rows of the matrices it reads or writes are
// padded to a multiple of PAD_FLOATS floats (zero beyond the logical width); all strides are in floats.

/** The padding unit of every matrix row (two 128-bit vectors; the same layout as the native build's). */
export const PAD_FLOATS = 8;

// @ts-ignore: decorator
@inline export function paddedFloats(n: i32): i32 {
  return (n + PAD_FLOATS - 1) / PAD_FLOATS * PAD_FLOATS;
}

// Four rows x 8 columns: 8 accumulators, two column loads and one broadcast per row and inner step.
// @ts-ignore: decorator
@inline function tileFour(a: usize, aStride: usize, matrix: usize, matrixStride: usize, inner: i32, out: usize,
  outStride: usize, accumulate: bool): void {
  const a1 = a + aStride, a2 = a1 + aStride, a3 = a2 + aStride;
  const o1 = out + outStride, o2 = o1 + outStride, o3 = o2 + outStride;
  const zero = f32x4.splat(0);
  let s00 = accumulate ? v128.load(out) : zero, s01 = accumulate ? v128.load(out, 16) : zero;
  let s10 = accumulate ? v128.load(o1) : zero, s11 = accumulate ? v128.load(o1, 16) : zero;
  let s20 = accumulate ? v128.load(o2) : zero, s21 = accumulate ? v128.load(o2, 16) : zero;
  let s30 = accumulate ? v128.load(o3) : zero, s31 = accumulate ? v128.load(o3, 16) : zero;
  let row = matrix;
  for (let j = 0; j < inner; j++) {
    const c0 = v128.load(row), c1 = v128.load(row, 16);
    const offset = <usize>j << 2;
    let x = v128.load32_splat(a + offset);
    s00 = f32x4.add(s00, f32x4.mul(x, c0)); s01 = f32x4.add(s01, f32x4.mul(x, c1));
    x = v128.load32_splat(a1 + offset);
    s10 = f32x4.add(s10, f32x4.mul(x, c0)); s11 = f32x4.add(s11, f32x4.mul(x, c1));
    x = v128.load32_splat(a2 + offset);
    s20 = f32x4.add(s20, f32x4.mul(x, c0)); s21 = f32x4.add(s21, f32x4.mul(x, c1));
    x = v128.load32_splat(a3 + offset);
    s30 = f32x4.add(s30, f32x4.mul(x, c0)); s31 = f32x4.add(s31, f32x4.mul(x, c1));
    row += matrixStride;
  }
  v128.store(out, s00); v128.store(out, s01, 16);
  v128.store(o1, s10); v128.store(o1, s11, 16);
  v128.store(o2, s20); v128.store(o2, s21, 16);
  v128.store(o3, s30); v128.store(o3, s31, 16);
}

// One row x 8 columns.
// @ts-ignore: decorator
@inline function tileOne(a: usize, matrix: usize, matrixStride: usize, inner: i32, out: usize, accumulate: bool): void {
  const zero = f32x4.splat(0);
  let s0 = accumulate ? v128.load(out) : zero, s1 = accumulate ? v128.load(out, 16) : zero;
  let row = matrix;
  for (let j = 0; j < inner; j++) {
    const x = v128.load32_splat(a + (<usize>j << 2));
    s0 = f32x4.add(s0, f32x4.mul(x, v128.load(row)));
    s1 = f32x4.add(s1, f32x4.mul(x, v128.load(row, 16)));
    row += matrixStride;
  }
  v128.store(out, s0); v128.store(out, s1, 16);
}

/**
 * out[r][c] = (accumulate ? out[r][c] : 0) + sum_{j < inner} a[r][j] * matrix[j][c] for r < rows, c < width
 * (width, matrixStride and outStride multiples of PAD_FLOATS). Column strips of 8 outer, so the strip of the
 * matrix stays in cache while every row group passes over it.
 */
export function multiplyRows(a: usize, aStride: i32, rows: i32, matrix: usize, matrixStride: i32, inner: i32,
  width: i32, out: usize, outStride: i32, accumulate: bool): void {
  const aBytes = <usize>aStride << 2, matrixBytes = <usize>matrixStride << 2, outBytes = <usize>outStride << 2;
  for (let column = 0; column < width; column += PAD_FLOATS) {
    const strip = matrix + (<usize>column << 2);
    const outStrip = out + (<usize>column << 2);
    let r = 0;
    for (; r + 4 <= rows; r += 4) {
      tileFour(a + <usize>r * aBytes, aBytes, strip, matrixBytes, inner, outStrip + <usize>r * outBytes, outBytes, accumulate);
    }
    for (; r < rows; r++) tileOne(a + <usize>r * aBytes, strip, matrixBytes, inner, outStrip + <usize>r * outBytes, accumulate);
  }
}

/** out[c][r] = in[r][c] for r < rows, c < columns. */
export function transpose(input: usize, inStride: i32, rows: i32, columns: i32, out: usize, outStride: i32): void {
  for (let r = 0; r < rows; r++) {
    const row = input + (<usize>r * <usize>inStride << 2);
    for (let c = 0; c < columns; c++) {
      store<f32>(out + ((<usize>c * <usize>outStride + <usize>r) << 2), load<f32>(row + (<usize>c << 2)));
    }
  }
}

/** out[c] = sum over rows in order of in[r][c], c < columns. */
export function columnSums(input: usize, stride: i32, rows: i32, columns: i32, out: usize): void {
  memory.fill(out, 0, <usize>columns << 2);
  for (let r = 0; r < rows; r++) {
    const row = input + (<usize>r * <usize>stride << 2);
    for (let c = 0; c < columns; c++) {
      const at = out + (<usize>c << 2);
      store<f32>(at, load<f32>(at) + load<f32>(row + (<usize>c << 2)));
    }
  }
}

/** [rows][paddedColumns] copy of a row-major [rows][columns] matrix (the pads are left as they are: zero). */
export function padRows(source: usize, rows: i32, columns: i32, target: usize, paddedColumns: i32): void {
  for (let r = 0; r < rows; r++) {
    memory.copy(target + (<usize>r * <usize>paddedColumns << 2), source + (<usize>r * <usize>columns << 2), <usize>columns << 2);
  }
}
