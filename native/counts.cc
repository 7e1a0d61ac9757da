// Builds the sparse count rows and evaluates phi from them.
#include "counts.h"

#include <algorithm>

namespace lla {

std::vector<double> phiScales(const CountView& counts, double beta) {
  std::vector<double> scale(counts.numTopics);
  const double smoothing = static_cast<double>(counts.vocabularySize) * beta;
  for (int32_t k = 0; k < counts.numTopics; ++k) scale[k] = 1.0 / (counts.topicTotals[k] + smoothing);
  return scale;
}

void phiColumn(const CountView& counts, const std::vector<double>& phiScale, double beta, int32_t w, double* phi) {
  for (int32_t k = 0; k < counts.numTopics; ++k) phi[k] = beta * phiScale[k];
  for (int32_t e = counts.rowOffsets[w]; e < counts.rowOffsets[w + 1]; ++e) {
    const int32_t k = counts.rowTopics[e];
    phi[k] = (counts.rowCounts[e] + beta) * phiScale[k];
  }
}

int64_t buildCounts(const int32_t* wordOffsets, const int32_t* wordTokens, int32_t vocabularySize,
                    const int32_t* topics, int32_t numTopics, CountOutput& out) {
  // perTopic: [K] counts of the current row; touched: the topics it holds, in first-seen order; present: [K/64]
  // bit set of the same topics, scanned to emit a long row in ascending order without sorting it. Both are
  // cleared after each row, so the work is O(T + nnz + V K/64) at worst, never O(V K).
  std::vector<int32_t> perTopic(numTopics, 0);
  const int32_t words = (numTopics + 63) / 64;
  std::vector<uint64_t> present(words, 0);
  std::vector<int32_t> touched;
  touched.reserve(std::min<int32_t>(numTopics, 1024));
  std::fill(out.topicTotals, out.topicTotals + numTopics, 0);
  const int32_t totalTokens = wordOffsets[vocabularySize];
  int64_t nnz = 0;
  out.rowOffsets[0] = 0;
  for (int32_t w = 0; w < vocabularySize; ++w) {
    touched.clear();
    const int32_t end = wordOffsets[w + 1];
    for (int32_t i = wordOffsets[w]; i < end; ++i) {
      // topics[] is gathered in random order: fetch a few tokens ahead (across row ends too)
      if (i + 16 < totalTokens) __builtin_prefetch(topics + wordTokens[i + 16]);
      const int32_t k = topics[wordTokens[i]];
      if (perTopic[k]++ == 0) touched.push_back(k);
    }
    const int64_t length = static_cast<int64_t>(touched.size());
    if (nnz + length > out.capacity) return -1;
    auto emit = [&](int32_t k) {
      out.rowTopics[nnz] = k;
      out.rowCounts[nnz] = perTopic[k];
      out.topicTotals[k] += perTopic[k];
      perTopic[k] = 0;
      ++nnz;
    };
    if (length <= 8 || length * 4 < words) {
      std::sort(touched.begin(), touched.end());
      for (int32_t k : touched) emit(k);
    } else {
      for (int32_t k : touched) present[k >> 6] |= uint64_t{1} << (k & 63);
      for (int32_t word = 0; word < words; ++word) {
        for (uint64_t bits = present[word]; bits != 0; bits &= bits - 1) emit(word * 64 + __builtin_ctzll(bits));
        present[word] = 0;
      }
    }
    out.rowOffsets[w + 1] = static_cast<int32_t>(nnz);
  }
  return nnz;
}

}  // namespace lla
