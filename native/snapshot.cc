#include "snapshot.h"

#include <algorithm>
#include <cstring>
#include <mutex>

#include "pool.h"

namespace lla {
namespace {

// Values per thread below which a copy stays on the calling thread (starting a thread costs ~30 us).
constexpr size_t kValuesPerThread = 1 << 18;
// Values copied then checked at a time, so that the check reads the copy from cache.
constexpr size_t kBlock = 1 << 13;
// Free buffers kept for reuse; beyond this the smallest is freed.
constexpr size_t kPoolLimit = 24;

std::mutex poolLock;
// free buffers: [values, capacity]; shared by all snapshots of the process (sweeps may overlap)
std::vector<std::pair<std::unique_ptr<int32_t[]>, size_t>>& freeBuffers() {
  static auto* buffers = new std::vector<std::pair<std::unique_ptr<int32_t[]>, size_t>>();  // never destroyed:
  return *buffers;  // a worker may release buffers after static destruction started at exit
}

// firstIn(begin, end) over [0, count): the first index it reports (its own end for none), or count. Large counts are
// split into ranges that `threads` threads take (0 = all cores), and the smallest index any range found wins.
template <typename FirstIn>
size_t firstInRanges(size_t count, int32_t threads, const FirstIn& firstIn) {
  const int32_t parts = resolveThreads(threads, static_cast<int64_t>(count / kValuesPerThread));
  if (parts <= 1) return firstIn(size_t{0}, count);
  const int32_t ranges = parts * kRangesPerThread;
  std::vector<size_t> found(ranges, count);
  runChunks(parts, ranges, [&](int64_t range, int32_t) {
    const size_t begin = count * range / ranges;
    const size_t end = count * (range + 1) / ranges;
    const size_t index = firstIn(begin, end);
    found[range] = index < end ? index : count;
  });
  return *std::min_element(found.begin(), found.end());
}

// Copies [begin, end) and returns the first index outside [low, high), or end.
size_t copyChecked(const int32_t* source, int32_t* target, size_t begin, size_t end, int64_t low, int64_t high) {
  for (size_t block = begin; block < end; block += kBlock) {
    const size_t blockEnd = std::min(end, block + kBlock);
    std::memcpy(target + block, source + block, (blockEnd - block) * sizeof(int32_t));
    const size_t found = firstOutsideRange(target, block, blockEnd, low, high);
    if (found < blockEnd) return found;
  }
  return end;
}

}  // namespace

size_t firstOutsideRange(const int32_t* values, size_t begin, size_t end, int64_t low, int64_t high) {
  // v in [low, high) <=> (u32)(v - low) < (u32)(high - low), one unsigned compare that vectorises on int32 lanes;
  // a span of 2^32 or more admits every int32
  const int64_t span = high - low;
  if (span >= (int64_t{1} << 32)) return end;
  const uint32_t lowBits = static_cast<uint32_t>(low);
  const uint32_t spanBits = static_cast<uint32_t>(std::max<int64_t>(span, 0));
  for (size_t block = begin; block < end; block += kBlock) {
    const size_t blockEnd = std::min(end, block + kBlock);
    uint32_t outside = 0;
    // branch-free test of the whole block first; the exact index only when one fails
    for (size_t i = block; i < blockEnd; ++i) {
      outside |= static_cast<uint32_t>(static_cast<uint32_t>(values[i]) - lowBits >= spanBits);
    }
    if (outside != 0) {
      for (size_t i = block; i < blockEnd; ++i) {
        if (values[i] < low || values[i] >= high) return i;
      }
    }
  }
  return end;
}

size_t firstOutsideRange(const int32_t* values, size_t count, int64_t low, int64_t high, int32_t threads) {
  return firstInRanges(count, threads,
                       [&](size_t begin, size_t end) { return firstOutsideRange(values, begin, end, low, high); });
}

Snapshot::~Snapshot() {
  if (buffers_.empty()) return;
  std::lock_guard<std::mutex> lock(poolLock);
  auto& pool = freeBuffers();
  for (auto& buffer : buffers_) pool.emplace_back(std::move(buffer.values), buffer.capacity);
  while (pool.size() > kPoolLimit) {
    auto smallest =
        std::min_element(pool.begin(), pool.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
    pool.erase(smallest);
  }
}

int32_t* Snapshot::take(size_t length) {
  Buffer buffer;
  {
    // the smallest free buffer that fits
    std::lock_guard<std::mutex> lock(poolLock);
    auto& pool = freeBuffers();
    auto best = pool.end();
    for (auto it = pool.begin(); it != pool.end(); ++it) {
      if (it->second >= length && (best == pool.end() || it->second < best->second)) best = it;
    }
    if (best != pool.end()) {
      buffer.values = std::move(best->first);
      buffer.capacity = best->second;
      pool.erase(best);
    }
  }
  if (!buffer.values) {
    buffer.capacity = std::max<size_t>(length, 1);
    buffer.values.reset(new int32_t[buffer.capacity]);  // no value-initialisation: every value is copied over
  }
  int32_t* values = buffer.values.get();
  buffers_.push_back(std::move(buffer));
  return values;
}

const int32_t* Snapshot::keep(const int32_t* data, size_t length) {
  size_t firstOutside = 0;
  return keepChecked(data, length, INT32_MIN, static_cast<int64_t>(INT32_MAX) + 1, firstOutside);
}

CountView Snapshot::keep(CountView view) {
  const size_t nnz = static_cast<size_t>(view.rowOffsets[view.vocabularySize]);
  view.rowOffsets = keep(view.rowOffsets, static_cast<size_t>(view.vocabularySize) + 1);
  view.rowTopics = keep(view.rowTopics, nnz);
  view.rowCounts = keep(view.rowCounts, nnz);
  view.topicTotals = keep(view.topicTotals, static_cast<size_t>(view.numTopics));
  return view;
}

const int32_t* Snapshot::keepChecked(const int32_t* data, size_t length, int64_t low, int64_t high,
                                     size_t& firstOutside) {
  int32_t* copy = take(length);
  // a range's copy stops at its first bad value; the caller's check reports the first one overall
  firstOutside = firstInRanges(
      length, threads_, [&](size_t begin, size_t end) { return copyChecked(data, copy, begin, end, low, high); });
  return copy;
}

}  // namespace lla
