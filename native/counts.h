// Sparse topic-action counts (CountTables of src/kernels/types.ts): memory O(nnz + K), never O(V K).
#pragma once
#include <cstdint>
#include <vector>

namespace lla {

// Read-only view of the previous sweep's counts.
struct CountView {
  int32_t numTopics = 0;                 // K
  int32_t vocabularySize = 0;            // V
  const int32_t* rowOffsets = nullptr;   // [V+1] row w is entries rowOffsets[w] .. rowOffsets[w+1]
  const int32_t* rowTopics = nullptr;    // [nnz] topic k of each non-zero n_{k,w}, ascending within a row
  const int32_t* rowCounts = nullptr;    // [nnz] n_{k,w} > 0
  const int32_t* topicTotals = nullptr;  // [K] n_k
};

// n_{k,w} by binary search in row w (0 when absent).
inline int32_t countOf(const CountView& counts, int32_t w, int32_t k) {
  int32_t low = counts.rowOffsets[w];
  int32_t high = counts.rowOffsets[w + 1];
  while (low < high) {
    const int32_t middle = low + ((high - low) >> 1);
    const int32_t topic = counts.rowTopics[middle];
    if (topic < k) low = middle + 1;
    else if (topic > k) high = middle;
    else return counts.rowCounts[middle];
  }
  return 0;
}

// phiScale: [K] 1 / (n_k + V beta), so that phi_{k,w} = (n_{k,w} + beta) * phiScale[k].
std::vector<double> phiScales(const CountView& counts, double beta);

// phi_{k,w} for all k of one action: dense part beta * scale plus the sparse row. phi: [K].
void phiColumn(const CountView& counts, const std::vector<double>& phiScale, double beta, int32_t w, double* phi);

// Writable tables that buildCounts fills; capacity is the length of rowTopics and rowCounts.
struct CountOutput {
  int32_t* rowOffsets;   // [V+1]
  int32_t* rowTopics;    // [capacity]
  int32_t* rowCounts;    // [capacity]
  int32_t* topicTotals;  // [K]
  int64_t capacity;
};

// Counts from assignments; inputs already range-checked (positions < T, topics < K). Returns nnz, -1 when the
// output capacity is too small, or -2 when wordTokens is not every position once, grouped by action and ascending
// within each action: misgrouped is then the first index i with tokens[wordTokens[i]] != the action w whose range
// wordOffsets[w] .. wordOffsets[w+1] holds i, or with wordTokens[i] not above wordTokens[i-1] in that range (else
// -1), and the output tables are left partly written. threads: 0 = all cores; the tables do not depend on it.
int64_t buildCounts(const int32_t* tokens, const int32_t* wordOffsets, const int32_t* wordTokens,
                    int32_t vocabularySize, const int32_t* topics, int32_t numTopics, CountOutput& out,
                    int64_t& misgrouped, int32_t threads = 1);

}  // namespace lla
