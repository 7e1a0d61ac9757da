// Deterministic Vose construction: small and large slots are kept on stacks filled in slot order, so the same
// weights always give the same table.
#include "alias.h"

#include <algorithm>
#include <vector>

#include "counts.h"
#include "pool.h"

namespace lla {
namespace {

// scaled: [n] weights times n / total (consumed); small, large: scratch stacks of capacity n.
void vose(double* scaled, int32_t n, const int32_t* ownTopics, float* prob, int32_t* alias, std::vector<int32_t>& small,
          std::vector<int32_t>& large) {
  small.clear();
  large.clear();
  for (int32_t i = 0; i < n; ++i) (scaled[i] < 1.0 ? small : large).push_back(i);
  while (!small.empty() && !large.empty()) {
    const int32_t less = small.back();
    small.pop_back();
    const int32_t more = large.back();
    prob[less] = static_cast<float>(scaled[less]);
    alias[less] = ownTopics ? ownTopics[more] : more;
    scaled[more] = (scaled[more] + scaled[less]) - 1.0;
    if (scaled[more] < 1.0) {
      large.pop_back();
      small.push_back(more);
    }
  }
  // Left-overs hold (up to rounding) a full slot of their own.
  for (int32_t i : large) {
    prob[i] = 1.0f;
    alias[i] = ownTopics ? ownTopics[i] : i;
  }
  for (int32_t i : small) {
    prob[i] = 1.0f;
    alias[i] = ownTopics ? ownTopics[i] : i;
  }
}

}  // namespace

void buildAlias(const CountView& counts, double beta, AliasOutput& out, int32_t threads) {
  const int32_t numTopics = counts.numTopics;
  const std::vector<double> scale = phiScales(counts, beta);
  {
    std::vector<double> scaled(numTopics);
    std::vector<int32_t> small, large;
    small.reserve(numTopics);
    large.reserve(numTopics);
    double denseMass = 0;
    for (int32_t k = 0; k < numTopics; ++k) denseMass += beta * scale[k];
    for (int32_t k = 0; k < numTopics; ++k) scaled[k] = beta * scale[k] * numTopics / denseMass;
    vose(scaled.data(), numTopics, nullptr, out.denseProb, out.denseAlias, small, large);
    out.denseMass[0] = denseMass;
  }
  // Each row's table depends on that row alone: ranges of rows with about equal entries go to the threads.
  const int32_t V = counts.vocabularySize;
  const int64_t nonZeros = counts.rowOffsets[V];
  const int32_t parts = resolveThreads(threads, std::max<int64_t>(nonZeros / 32768, 1));
  const int32_t ranges = parts == 1 ? 1 : parts * kRangesPerThread;
  // scratch of each participant: the scaled weights [K] (a row has at most K entries: validated strictly
  // ascending, < K) and Vose's two work lists
  struct Scratch {
    std::vector<double> scaled;
    std::vector<int32_t> small, large;
  };
  std::vector<Scratch> scratch(parts);
  runChunks(parts, ranges, [&](int64_t range, int32_t participant) {
    auto rowAt = [&](int64_t part) {
      return static_cast<int32_t>(std::lower_bound(counts.rowOffsets, counts.rowOffsets + V, nonZeros * part / ranges) -
                                  counts.rowOffsets);
    };
    const int32_t first = range == 0 ? 0 : rowAt(range);
    const int32_t last = range + 1 == ranges ? V : rowAt(range + 1);
    Scratch& mine = scratch[participant];
    if (mine.scaled.empty()) {
      mine.scaled.resize(numTopics);
      mine.small.reserve(numTopics);
      mine.large.reserve(numTopics);
    }
    for (int32_t w = first; w < last; ++w) {
      const int32_t begin = counts.rowOffsets[w];
      const int32_t length = counts.rowOffsets[w + 1] - begin;
      double mass = 0;
      for (int32_t i = 0; i < length; ++i) mass += counts.rowCounts[begin + i] * scale[counts.rowTopics[begin + i]];
      out.sparseMass[w] = mass;
      if (length == 0) continue;
      for (int32_t i = 0; i < length; ++i) {
        mine.scaled[i] = counts.rowCounts[begin + i] * scale[counts.rowTopics[begin + i]] * length / mass;
      }
      vose(mine.scaled.data(), length, counts.rowTopics + begin, out.sparseProb + begin, out.sparseAlias + begin,
           mine.small, mine.large);
    }
  });
}

}  // namespace lla
