// Cell arithmetic; the gate loops vectorise because exponential() is branch-free.
#include "lstm_cell.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "exponential.h"
#include "lanes.h"

namespace lla {

PreparedCell::PreparedCell(const CellView& cell, bool needAllLogits) : view(cell) {
  const int32_t hidden = cell.hidden;
  const int32_t gates = 4 * hidden;
  gateWidth = paddedWidth(gates);
  recurrentT.assign(static_cast<size_t>(hidden) * gateWidth, 0.0f);
  for (int32_t r = 0; r < gates; ++r) {
    for (int32_t j = 0; j < hidden; ++j)
      recurrentT[static_cast<size_t>(j) * gateWidth + r] = cell.recurrent[static_cast<size_t>(r) * hidden + j];
  }
  if (needAllLogits) {
    logitWidth = laneWidth(cell.numTopics);
    outputT.assign(static_cast<size_t>(hidden) * logitWidth, 0.0f);
    for (int32_t k = 0; k < cell.numTopics; ++k) {
      for (int32_t j = 0; j < hidden; ++j)
        outputT[static_cast<size_t>(j) * logitWidth + k] = cell.outputWeights[static_cast<size_t>(k) * hidden + j];
    }
  }
}

// Columns per register block: three (or two) batch members x 4 registers of accumulators share each row load;
// 12 independent multiply-add chains hide the FMA latency that bounded a one-member block of 8, and 12
// accumulators plus a broadcast still fit in the 16 AVX2 registers (rows are read as memory operands).
constexpr int32_t kPairBlock = 4 * kLanes;
static_assert(kLaneWidth == kLanes, "laneWidth pads to one register of the batched product");

// Internal and inlined (up to the end of batchedProduct), so the vector ABI warning of pre-AVX builds (-Wpsabi)
// concerns no real call boundary.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"

// The 3-, 2- and 1-member blocks below are written out by hand on purpose: one `template <int N>` block with
// arrays of accumulators gives bit-identical results but ran 5% slower (bench lla K=100 gitdev, 1 thread: 1.44-1.47
// against 1.49-1.56 M tokens/s over 3 alternating runs, with the inputs hoisted and the member loop unrolled).
void batchedProduct(const float* matrixT, int32_t inner, int32_t width, const float* const* inputs, int32_t batch,
                    float* const* outputs) {
  // Each output is the same chain of multiply-adds over j = 0 .. inner-1, whatever its block or batch mates.
  // The matrix part (inner x 32 floats) stays in L1 while every batch member uses it.
  int32_t part = 0;
  for (; part + kPairBlock <= width; part += kPairBlock) {
    int32_t b = 0;
    for (; b + 3 <= batch; b += 3) {
      const float* first = inputs[b];
      const float* second = inputs[b + 1];
      const float* third = inputs[b + 2];
      Lanes a0 = {}, a1 = {}, a2 = {}, a3 = {}, c0 = {}, c1 = {}, c2 = {}, c3 = {}, e0 = {}, e1 = {}, e2 = {}, e3 = {};
      const float* row = matrixT + part;
      for (int32_t j = 0; j < inner; ++j, row += width) {
        const Lanes r0 = loadLanes(row), r1 = loadLanes(row + kLanes), r2 = loadLanes(row + 2 * kLanes),
                    r3 = loadLanes(row + 3 * kLanes);
        const float x = first[j];
        a0 += x * r0;
        a1 += x * r1;
        a2 += x * r2;
        a3 += x * r3;
        const float y = second[j];
        c0 += y * r0;
        c1 += y * r1;
        c2 += y * r2;
        c3 += y * r3;
        const float z = third[j];
        e0 += z * r0;
        e1 += z * r1;
        e2 += z * r2;
        e3 += z * r3;
      }
      float* outFirst = outputs[b] + part;
      float* outSecond = outputs[b + 1] + part;
      float* outThird = outputs[b + 2] + part;
      storeLanes(outFirst, a0);
      storeLanes(outFirst + kLanes, a1);
      storeLanes(outFirst + 2 * kLanes, a2);
      storeLanes(outFirst + 3 * kLanes, a3);
      storeLanes(outSecond, c0);
      storeLanes(outSecond + kLanes, c1);
      storeLanes(outSecond + 2 * kLanes, c2);
      storeLanes(outSecond + 3 * kLanes, c3);
      storeLanes(outThird, e0);
      storeLanes(outThird + kLanes, e1);
      storeLanes(outThird + 2 * kLanes, e2);
      storeLanes(outThird + 3 * kLanes, e3);
    }
    for (; b + 2 <= batch; b += 2) {
      const float* first = inputs[b];
      const float* second = inputs[b + 1];
      Lanes a0 = {}, a1 = {}, a2 = {}, a3 = {}, c0 = {}, c1 = {}, c2 = {}, c3 = {};
      const float* row = matrixT + part;
      for (int32_t j = 0; j < inner; ++j, row += width) {
        const Lanes r0 = loadLanes(row), r1 = loadLanes(row + kLanes), r2 = loadLanes(row + 2 * kLanes),
                    r3 = loadLanes(row + 3 * kLanes);
        const float x = first[j];
        a0 += x * r0;
        a1 += x * r1;
        a2 += x * r2;
        a3 += x * r3;
        const float y = second[j];
        c0 += y * r0;
        c1 += y * r1;
        c2 += y * r2;
        c3 += y * r3;
      }
      float* outFirst = outputs[b] + part;
      float* outSecond = outputs[b + 1] + part;
      storeLanes(outFirst, a0);
      storeLanes(outFirst + kLanes, a1);
      storeLanes(outFirst + 2 * kLanes, a2);
      storeLanes(outFirst + 3 * kLanes, a3);
      storeLanes(outSecond, c0);
      storeLanes(outSecond + kLanes, c1);
      storeLanes(outSecond + 2 * kLanes, c2);
      storeLanes(outSecond + 3 * kLanes, c3);
    }
    for (; b < batch; ++b) {
      const float* input = inputs[b];
      Lanes a0 = {}, a1 = {}, a2 = {}, a3 = {};
      const float* row = matrixT + part;
      for (int32_t j = 0; j < inner; ++j, row += width) {
        const float x = input[j];
        a0 += x * loadLanes(row);
        a1 += x * loadLanes(row + kLanes);
        a2 += x * loadLanes(row + 2 * kLanes);
        a3 += x * loadLanes(row + 3 * kLanes);
      }
      float* out = outputs[b] + part;
      storeLanes(out, a0);
      storeLanes(out + kLanes, a1);
      storeLanes(out + 2 * kLanes, a2);
      storeLanes(out + 3 * kLanes, a3);
    }
  }
  // A width that is not a multiple of 32 (K logits padded to 8 only: K=100 would waste 28% of the product at 128)
  // ends in parts of one register, four batch members at a time for independent multiply-add chains.
  for (; part < width; part += kLanes) {
    int32_t b = 0;
    for (; b + 4 <= batch; b += 4) {
      const float* first = inputs[b];
      const float* second = inputs[b + 1];
      const float* third = inputs[b + 2];
      const float* fourth = inputs[b + 3];
      Lanes a = {}, c = {}, e = {}, g = {};
      const float* row = matrixT + part;
      for (int32_t j = 0; j < inner; ++j, row += width) {
        const Lanes r = loadLanes(row);
        a += first[j] * r;
        c += second[j] * r;
        e += third[j] * r;
        g += fourth[j] * r;
      }
      storeLanes(outputs[b] + part, a);
      storeLanes(outputs[b + 1] + part, c);
      storeLanes(outputs[b + 2] + part, e);
      storeLanes(outputs[b + 3] + part, g);
    }
    for (; b < batch; ++b) {
      const float* input = inputs[b];
      Lanes a = {};
      const float* row = matrixT + part;
      for (int32_t j = 0; j < inner; ++j, row += width) a += input[j] * loadLanes(row);
      storeLanes(outputs[b] + part, a);
    }
  }
}

#pragma GCC diagnostic pop

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
  return cell.outputBias[k] +
         (((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7])) + tail);
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
