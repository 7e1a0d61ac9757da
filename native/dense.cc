// Register tiles of 4 rows x 16 columns: 8 independent multiply-add chains hide the FMA latency (4 cycles, 2 per
// cycle) with 8 accumulators, 2 matrix loads and a broadcast in the 16 AVX2 registers. The matrix's 16-column
// strip (inner x 64 bytes) stays in L1 while every row group passes over it.
#include "dense.h"

#include "lanes.h"

namespace lla {
namespace {

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"
// One tile: Rows rows of a times the matrix columns [0, Vectors * 8) of `matrix` (already offset to the strip).
template <int Rows, int Vectors>
inline void tile(const float* a, int32_t aStride, const float* matrix, int32_t matrixStride, int32_t inner, float* out,
                 int32_t outStride, bool accumulate) {
  Lanes sums[Rows][Vectors];
  for (int r = 0; r < Rows; ++r) {
    for (int v = 0; v < Vectors; ++v) sums[r][v] = accumulate ? loadLanes(out + r * outStride + v * kLanes) : Lanes{};
  }
  const float* row = matrix;
  for (int32_t j = 0; j < inner; ++j, row += matrixStride) {
    Lanes columns[Vectors];
    for (int v = 0; v < Vectors; ++v) columns[v] = loadLanes(row + v * kLanes);
    for (int r = 0; r < Rows; ++r) {
      const float x = a[r * aStride + j];
      for (int v = 0; v < Vectors; ++v) sums[r][v] += x * columns[v];
    }
  }
  for (int r = 0; r < Rows; ++r) {
    for (int v = 0; v < Vectors; ++v) storeLanes(out + r * outStride + v * kLanes, sums[r][v]);
  }
}

template <int Vectors>
void strip(const float* a, int32_t aStride, int32_t rows, const float* matrix, int32_t matrixStride, int32_t inner,
           float* out, int32_t outStride, bool accumulate) {
  int32_t r = 0;
  for (; r + 4 <= rows; r += 4) {
    tile<4, Vectors>(a + static_cast<int64_t>(r) * aStride, aStride, matrix, matrixStride, inner,
                     out + static_cast<int64_t>(r) * outStride, outStride, accumulate);
  }
  const float* aRest = a + static_cast<int64_t>(r) * aStride;
  float* outRest = out + static_cast<int64_t>(r) * outStride;
  switch (rows - r) {
    case 3: tile<3, Vectors>(aRest, aStride, matrix, matrixStride, inner, outRest, outStride, accumulate); break;
    case 2: tile<2, Vectors>(aRest, aStride, matrix, matrixStride, inner, outRest, outStride, accumulate); break;
    case 1: tile<1, Vectors>(aRest, aStride, matrix, matrixStride, inner, outRest, outStride, accumulate); break;
    default: break;
  }
}
#pragma GCC diagnostic pop

}  // namespace

void multiplyRows(const float* a, int32_t aStride, int32_t rows, const float* matrix, int32_t matrixStride,
                  int32_t inner, int32_t width, float* out, int32_t outStride, bool accumulate) {
  int32_t column = 0;
  for (; column + 2 * kLanes <= width; column += 2 * kLanes) {
    strip<2>(a, aStride, rows, matrix + column, matrixStride, inner, out + column, outStride, accumulate);
  }
  if (column < width)
    strip<1>(a, aStride, rows, matrix + column, matrixStride, inner, out + column, outStride, accumulate);
}

void transpose(const float* in, int32_t inStride, int32_t rows, int32_t columns, float* out, int32_t outStride) {
  for (int32_t r = 0; r < rows; ++r) {
    const float* row = in + static_cast<int64_t>(r) * inStride;
    for (int32_t c = 0; c < columns; ++c) out[static_cast<int64_t>(c) * outStride + r] = row[c];
  }
}

}  // namespace lla
