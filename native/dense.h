// Dense float products for the LSTM trainer (lstm_train.cc): one row-times-matrix primitive serves the forward
// and backward products and the weight gradients (a gradient G[j][c] = sum_n X[n][j] Y[n][c] is row j of X
// transposed times Y). Matrices the primitive reads or writes have rows padded to a multiple of kPadFloats
// floats, zero beyond their logical width, so every row is whole vector registers.
#pragma once
#include <cstdint>

namespace lla {

// floats of one vector register of the widest build (AVX2); the padding unit of every matrix row
constexpr int32_t kPadFloats = 8;
inline int32_t paddedFloats(int32_t n) { return (n + kPadFloats - 1) / kPadFloats * kPadFloats; }

// out[r][c] = (accumulate ? out[r][c] : 0) + sum_{j < inner} a[r][j] * matrix[j][c] for r < rows, c < width.
// Row strides in floats (a's is free; matrix's, out's and width are multiples of kPadFloats). Each output is one
// fixed chain of multiply-adds over j = 0 .. inner-1, whatever rows share its tile.
void multiplyRows(const float* a, int32_t aStride, int32_t rows, const float* matrix, int32_t matrixStride,
                  int32_t inner, int32_t width, float* out, int32_t outStride, bool accumulate);

// out[c][r] = in[r][c] for r < rows, c < columns (strides in floats).
void transpose(const float* in, int32_t inStride, int32_t rows, int32_t columns, float* out, int32_t outStride);

}  // namespace lla
