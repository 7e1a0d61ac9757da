// Builds the sparse count rows and evaluates phi from them.
#include "counts.h"

#include <algorithm>
#include <cstring>

#include "pool.h"

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

namespace {

// Rows [first, last) written back to back from rowTopics / rowCounts (at most `capacity` entries); each row's end
// (relative to those pointers) into rowEnds [last - first]; topic totals added into totals [K]. Returns the
// entries written, -1 when they would exceed capacity, or kMisgrouped with the index i into `misgrouped` when
// wordTokens[i] is a position of another action or not above the row's previous position (checked here, on the
// gather the count makes anyway: a separate pass over the index cost as much as a third of the rebuild). With both
// checks every position is listed exactly once: a position can only sit in its own action's row, strictly
// ascending rows hold it at most once, and the rows hold T positions in all.
constexpr int64_t kMisgrouped = -2;
// How far ahead the gather prefetches. Its reads miss to L3 (on the event log topics[] and tokens[] are 1.6 MB each,
// beyond L2 with the rest) or, on two threads, to the other core's cache, where the sweep's threads left half of
// topics[]: 16 ahead left the rebuild waiting (gitdev K=100: 1 thread 1.63-1.78 ms, 2 threads 1.02-1.09; 64 ahead
// 1.38-1.45 and 0.91-0.96; 128 gained nothing more).
constexpr int32_t kPrefetchAhead = 64;
int64_t countRows(const int32_t* tokens, const int32_t* wordOffsets, const int32_t* wordTokens, int32_t first,
                  int32_t last, const int32_t* topics, int32_t numTopics, int32_t* rowTopics, int32_t* rowCounts,
                  int64_t capacity, int32_t* rowEnds, int32_t* totals, int64_t* misgrouped) {
  // perTopic: [K] counts of the current row; touched: the topics it holds, in first-seen order; present: [K/64]
  // bit set of the same topics, scanned to emit a long row in ascending order without sorting it. Both are
  // cleared after each row, so the work is O(T + nnz + V K/64) at worst, never O(V K).
  std::vector<int32_t> perTopic(numTopics, 0);
  const int32_t words = (numTopics + 63) / 64;
  std::vector<uint64_t> present(words, 0);
  std::vector<int32_t> touched;
  touched.reserve(std::min<int32_t>(numTopics, 1024));
  const int32_t endToken = wordOffsets[last];
  int64_t written = 0;
  for (int32_t w = first; w < last; ++w) {
    touched.clear();
    const int32_t end = wordOffsets[w + 1];
    int32_t previous = -1;  // the row's previous position
    for (int32_t i = wordOffsets[w]; i < end; ++i) {
      // topics[] and tokens[] are gathered in random order: fetch kPrefetchAhead positions ahead (across row ends too)
      if (i + kPrefetchAhead < endToken) {
        __builtin_prefetch(topics + wordTokens[i + kPrefetchAhead]);
        __builtin_prefetch(tokens + wordTokens[i + kPrefetchAhead]);
      }
      const int32_t position = wordTokens[i];
      if (tokens[position] != w || position <= previous) {
        *misgrouped = i;
        return kMisgrouped;
      }
      previous = position;
      const int32_t k = topics[position];
      if (perTopic[k]++ == 0) touched.push_back(k);
    }
    const int64_t length = static_cast<int64_t>(touched.size());
    if (written + length > capacity) return -1;
    auto emit = [&](int32_t k) {
      rowTopics[written] = k;
      rowCounts[written] = perTopic[k];
      totals[k] += perTopic[k];
      perTopic[k] = 0;
      ++written;
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
    rowEnds[w - first] = static_cast<int32_t>(written);
  }
  return written;
}

}  // namespace

int64_t buildCounts(const int32_t* tokens, const int32_t* wordOffsets, const int32_t* wordTokens,
                    int32_t vocabularySize, const int32_t* topics, int32_t numTopics, CountOutput& out,
                    int64_t& misgrouped, int32_t threads) {
  misgrouped = -1;
  std::fill(out.topicTotals, out.topicTotals + numTopics, 0);
  out.rowOffsets[0] = 0;
  const int64_t totalTokens = wordOffsets[vocabularySize];
  // Several threads need room for T entries: each writes its range of rows where that range's tokens start (a
  // row has at most as many entries as tokens), and the ranges are then moved down back to back.
  const int32_t parts =
      out.capacity >= totalTokens ? resolveThreads(threads, std::max<int64_t>(totalTokens / 65536, 1)) : 1;
  if (parts == 1) {
    return countRows(tokens, wordOffsets, wordTokens, 0, vocabularySize, topics, numTopics, out.rowTopics,
                     out.rowCounts, out.capacity, out.rowOffsets + 1, out.topicTotals, &misgrouped);
  }
  // Rows are split into ranges of about equal token counts, several per thread, taken one at a time: a row of a
  // rare action costs more per token than one of a frequent action (per-row work, more entries per token), so one
  // range per thread left the thread with the frequent actions idle for half the time (Brown: 1.3 vs 2.8 ms).
  const int32_t chunks = static_cast<int32_t>(
      std::min<int64_t>(int64_t{parts} * kRangesPerThread, std::max<int64_t>(totalTokens / 8192, parts)));
  // firstRow: [chunks+1] first row of each range; totals: [parts][K] per thread; written: [chunks] entries per range
  std::vector<int32_t> firstRow(chunks + 1, vocabularySize);
  firstRow[0] = 0;
  for (int32_t index = 1; index < chunks; ++index) {
    const int64_t target = totalTokens * index / chunks;
    firstRow[index] =
        static_cast<int32_t>(std::lower_bound(wordOffsets, wordOffsets + vocabularySize, target) - wordOffsets);
  }
  std::vector<int32_t> totals(static_cast<size_t>(parts) * numTopics, 0);
  // written: [chunks] entries per range; misgroupedAt: [chunks] each range's first misgrouped index, or -1
  std::vector<int64_t> written(chunks, 0), misgroupedAt(chunks, -1);
  runChunks(parts, chunks, [&](int64_t index, int32_t thread) {
    const int32_t start = wordOffsets[firstRow[index]];
    written[index] = countRows(tokens, wordOffsets, wordTokens, firstRow[index], firstRow[index + 1], topics, numTopics,
                               out.rowTopics + start, out.rowCounts + start, totalTokens - start,
                               out.rowOffsets + firstRow[index] + 1,
                               totals.data() + static_cast<size_t>(thread) * numTopics, &misgroupedAt[index]);
  });
  // ranges in index order: the first one that found a misgrouped index holds the smallest
  for (int64_t at : misgroupedAt) {
    if (at >= 0) {
      misgrouped = at;
      return kMisgrouped;
    }
  }
  int64_t nnz = 0;
  for (int32_t index = 0; index < chunks; ++index) {
    const int32_t start = wordOffsets[firstRow[index]];
    if (nnz != start) {  // in range order: a range's destination never overlaps a later range's entries
      std::memmove(out.rowTopics + nnz, out.rowTopics + start, static_cast<size_t>(written[index]) * sizeof(int32_t));
      std::memmove(out.rowCounts + nnz, out.rowCounts + start, static_cast<size_t>(written[index]) * sizeof(int32_t));
    }
    for (int32_t w = firstRow[index]; w < firstRow[index + 1]; ++w) out.rowOffsets[w + 1] += static_cast<int32_t>(nnz);
    nnz += written[index];
  }
  for (int32_t thread = 0; thread < parts; ++thread) {
    const int32_t* mine = totals.data() + static_cast<size_t>(thread) * numTopics;
    for (int32_t k = 0; k < numTopics; ++k) out.topicTotals[k] += mine[k];
  }
  return nnz;
}

}  // namespace lla
