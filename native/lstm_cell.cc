// Cell arithmetic; the gate loops vectorise because exponential() is branch-free.
#include "lstm_cell.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "exponential.h"

namespace lla {
namespace {

inline float sigmoid(float x) { return 1.0f / (1.0f + exponential(-x)); }
inline float hyperbolicTangent(float x) { return 2.0f / (1.0f + exponential(-2.0f * x)) - 1.0f; }

}  // namespace

PreparedCell::PreparedCell(const CellView& cell, bool needAllLogits) : view(cell) {
  const int32_t hidden = cell.hidden;
  const int32_t gates = 4 * hidden;
  gateWidth = paddedWidth(gates);
  recurrentT.assign(static_cast<size_t>(hidden) * gateWidth, 0.0f);
  for (int32_t r = 0; r < gates; ++r) {
    for (int32_t j = 0; j < hidden; ++j) recurrentT[static_cast<size_t>(j) * gateWidth + r] = cell.recurrent[static_cast<size_t>(r) * hidden + j];
  }
  if (needAllLogits) {
    logitWidth = paddedWidth(cell.numTopics);
    outputT.assign(static_cast<size_t>(hidden) * logitWidth, 0.0f);
    for (int32_t k = 0; k < cell.numTopics; ++k) {
      for (int32_t j = 0; j < hidden; ++j) outputT[static_cast<size_t>(j) * logitWidth + k] = cell.outputWeights[static_cast<size_t>(k) * hidden + j];
    }
  }
}

void batchedProduct(const float* matrixT, int32_t inner, int32_t width, const float* const* inputs, int32_t batch,
                    float* const* outputs) {
  // The block of the matrix (inner x 64 floats) stays in L1 while every batch member uses it.
  for (int32_t column = 0; column < width; column += kColumnBlock) {
    for (int32_t b = 0; b < batch; ++b) {
      float accumulator[kColumnBlock] = {};
      const float* input = inputs[b];
      const float* row = matrixT + column;
      for (int32_t j = 0; j < inner; ++j, row += width) {
        const float value = input[j];
        for (int32_t l = 0; l < kColumnBlock; ++l) accumulator[l] += value * row[l];
      }
      std::memcpy(outputs[b] + column, accumulator, sizeof accumulator);
    }
  }
}

void cellUpdate(const CellView& cell, int32_t input, const float* recurrentPart, float* hidden, float* cellState,
                float* scratch) {
  const int32_t H = cell.hidden;
  const float* inputRow = cell.inputTable + static_cast<size_t>(input) * 4 * H;
  for (int32_t r = 0; r < 4 * H; ++r) scratch[r] = (inputRow[r] + cell.gateBias[r]) + recurrentPart[r];
  for (int32_t r = 0; r < 2 * H; ++r) scratch[r] = sigmoid(scratch[r]);
  for (int32_t r = 2 * H; r < 3 * H; ++r) scratch[r] = hyperbolicTangent(scratch[r]);
  for (int32_t r = 3 * H; r < 4 * H; ++r) scratch[r] = sigmoid(scratch[r]);
  for (int32_t j = 0; j < H; ++j) {
    const float next = scratch[H + j] * cellState[j] + scratch[j] * scratch[2 * H + j];
    cellState[j] = next;
    hidden[j] = scratch[3 * H + j] * hyperbolicTangent(next);
  }
}

void cellStep(const PreparedCell& prepared, int32_t input, float* hidden, float* cellState, float* scratch) {
  float* gates = scratch;
  const float* hiddenInput = hidden;
  batchedProduct(prepared.recurrentT.data(), prepared.view.hidden, prepared.gateWidth, &hiddenInput, 1, &gates);
  cellUpdate(prepared.view, input, gates, hidden, cellState, scratch + prepared.gateWidth);
}

float logitOf(const CellView& cell, const float* hidden, int32_t k) {
  const int32_t H = cell.hidden;
  const float* row = cell.outputWeights + static_cast<size_t>(k) * H;
  float lanes[8] = {};
  int32_t j = 0;
  for (; j + 8 <= H; j += 8) {
    for (int32_t l = 0; l < 8; ++l) lanes[l] += row[j + l] * hidden[j + l];
  }
  float tail = 0;
  for (; j < H; ++j) tail += row[j] * hidden[j];
  return cell.outputBias[k] + (((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) +
                               ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7])) + tail);
}

void allLogits(const PreparedCell& prepared, const float* const* hiddens, int32_t batch, float* const* logits) {
  batchedProduct(prepared.outputT.data(), prepared.view.hidden, prepared.logitWidth, hiddens, batch, logits);
  for (int32_t b = 0; b < batch; ++b) {
    for (int32_t k = 0; k < prepared.view.numTopics; ++k) logits[b][k] += prepared.view.outputBias[k];
  }
}

}  // namespace lla

namespace lla {

void runCellSteps(const CellView& cell, const int32_t* inputs, int32_t steps, float* hiddenOut, float* cellOut) {
  const PreparedCell prepared(cell, false);
  const int32_t H = cell.hidden;
  std::vector<float> hidden(H, 0.0f), cellState(H, 0.0f), scratch(prepared.gateWidth + 4 * H);
  for (int32_t t = 0; t < steps; ++t) {
    cellStep(prepared, inputs[t], hidden.data(), cellState.data(), scratch.data());
    std::copy(hidden.begin(), hidden.end(), hiddenOut + static_cast<size_t>(t) * H);
    std::copy(cellState.begin(), cellState.end(), cellOut + static_cast<size_t>(t) * H);
  }
}

}  // namespace lla
