// The LSTM cell with fixed weights (layout and gate order i, f, c, o in src/kernels/types.ts), evaluated for a
// lock-step batch of sequences so that the 4H x H recurrent matrix is read once per batch step. Every
// sequence's arithmetic is the same whatever its batch mates: each output is its own fixed-order sum.
#pragma once
#include <cstdint>
#include <vector>

namespace lla {

struct CellView {
  int32_t hidden = 0;                    // H
  int32_t inputRows = 0;                 // R: K+1 (lla) or V+1 (word-lla); the begin symbol is the last row
  int32_t numTopics = 0;                 // K
  const float* inputTable = nullptr;     // [R][4H] embedding(x) . W_input
  const float* recurrent = nullptr;      // [4H][H] row r is gate unit r
  const float* gateBias = nullptr;       // [4H]
  const float* outputWeights = nullptr;  // [K][H]
  const float* outputBias = nullptr;     // [K]
};

// Column block of the batched product: 64 floats are 8 AVX2 registers of accumulators.
constexpr int32_t kColumnBlock = 64;
inline int32_t paddedWidth(int32_t n) { return (n + kColumnBlock - 1) / kColumnBlock * kColumnBlock; }
// The narrowest width the batched product takes: one register (kLanes in lanes.h) of 8 floats.
constexpr int32_t kLaneWidth = 8;
inline int32_t laneWidth(int32_t n) { return (n + kLaneWidth - 1) / kLaneWidth * kLaneWidth; }

// Transposed, zero-padded copies of the matrices for the batched product (built once per kernel call).
struct PreparedCell {
  CellView view;
  int32_t gateWidth = 0;          // 4H rounded up to the column block
  std::vector<float> recurrentT;  // [H][gateWidth] recurrent transposed
  int32_t logitWidth = 0;         // K rounded up to 8 (0 unless all logits are needed)
  std::vector<float> outputT;     // [H][logitWidth] outputWeights transposed
  PreparedCell(const CellView& cell, bool allLogits);
};

// outputs[b][r] = sum_j inputs[b][j] * matrixT[j][r] for r < width (width a multiple of kLaneWidth).
void batchedProduct(const float* matrixT, int32_t inner, int32_t width, const float* const* inputs, int32_t batch,
                    float* const* outputs);

// Finishes one step for input symbol x given recurrentPart = recurrent . h (from batchedProduct): updates
// hidden and cellState in place. scratch: [4H].
void cellUpdate(const CellView& cell, int32_t input, const float* recurrentPart, float* hidden, float* cellState,
                float* scratch);

// One step of a single sequence. scratch: [gateWidth + 4H].
void cellStep(const PreparedCell& prepared, int32_t input, float* hidden, float* cellState, float* scratch);

// l_k = outputBias[k] + outputWeights[k] . h
float logitOf(const CellView& cell, const float* hidden, int32_t k);

// All K logits of a batch: logits[b] is [logitWidth]; requires PreparedCell(..., allLogits = true).
void allLogits(const PreparedCell& prepared, const float* const* hiddens, int32_t batch, float* const* logits);

}  // namespace lla

namespace lla {

// lstmSteps: the cell over inputs [steps] from zero state; h and c after every step into [steps][H].
void runCellSteps(const CellView& cell, const int32_t* inputs, int32_t steps, float* hiddenOut, float* cellOut);

}  // namespace lla
