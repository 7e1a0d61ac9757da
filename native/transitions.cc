#include "transitions.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace lla {

void topicTransitions(const CellView& cell, const int32_t* offsets, int32_t numSequences, const int32_t* topics,
                      double* sums, double* rowCounts) {
  const int32_t K = cell.numTopics;
  const int32_t H = cell.hidden;
  const PreparedCell prepared(cell, true);
  std::vector<float> hidden(H), cellState(H), scratch(prepared.gateWidth + 4 * H), logits(prepared.logitWidth);
  std::vector<double> pi(K);
  std::fill(sums, sums + static_cast<size_t>(K) * K, 0.0);
  std::fill(rowCounts, rowCounts + K, 0.0);
  for (int32_t d = 0; d < numSequences; ++d) {
    const int32_t begin = offsets[d];
    const int32_t end = offsets[d + 1];
    if (end - begin < 2) continue;
    std::fill(hidden.begin(), hidden.end(), 0.0f);
    std::fill(cellState.begin(), cellState.end(), 0.0f);
    cellStep(prepared, K, hidden.data(), cellState.data(), scratch.data());  // begin symbol: pi_0 is not used
    for (int32_t i = begin; i + 1 < end; ++i) {
      const int32_t topic = topics[i];
      cellStep(prepared, topic, hidden.data(), cellState.data(), scratch.data());
      const float* hiddenInput = hidden.data();
      float* logitOutput = logits.data();
      allLogits(prepared, &hiddenInput, 1, &logitOutput);
      const float largest = *std::max_element(logits.begin(), logits.begin() + K);
      double normaliser = 0;
      for (int32_t k = 0; k < K; ++k) {
        pi[k] = std::exp(static_cast<double>(logits[k]) - largest);
        normaliser += pi[k];
      }
      double* row = sums + static_cast<size_t>(topic) * K;
      for (int32_t k = 0; k < K; ++k) row[k] += pi[k] / normaliser;
      rowCounts[topic] += 1;
    }
  }
}

}  // namespace lla
