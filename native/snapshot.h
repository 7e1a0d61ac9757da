// Private copies of the int32 arrays whose values index memory (ids, offsets, counts), taken before an async
// kernel starts: the caller may write into its arrays while the kernel runs on other threads, and a value changed
// after validation must not send a read out of bounds. The copies are taken synchronously (before the call returns
// to JS) and the checks run on the copies, so a racing writer cannot matter.
// Why buffers are pooled: a fresh multi-megabyte allocation is zero-filled page by page (page faults, then the
// std::vector fill), which cost several milliseconds per sweep on one thread; pooled buffers are reused without
// any fill, and big copies are split over threads.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "counts.h"

namespace lla {

// The first i in [begin, end) with values[i] outside [low, high), or end (branch-free blocks: vectorises).
size_t firstOutsideRange(const int32_t* values, size_t begin, size_t end, int64_t low, int64_t high);
// The same over [0, count), split over threads (0 = all cores) when count is large.
size_t firstOutsideRange(const int32_t* values, size_t count, int64_t low, int64_t high, int32_t threads);

class Snapshot {
 public:
  // threads: threads for big copies (0 = all cores, as for the kernels)
  explicit Snapshot(int32_t threads = 1) : threads_(threads) {}
  Snapshot(Snapshot&&) = default;
  Snapshot& operator=(Snapshot&&) = delete;
  Snapshot(const Snapshot&) = delete;
  ~Snapshot();  // returns the buffers to the pool

  // a copy of data[0 .. length)
  const int32_t* keep(const int32_t* data, size_t length);
  // copies of the four tables (already checked: for callers that validated the source synchronously)
  CountView keep(CountView view);
  // a copy of data[0 .. length), checked while copying: firstOutside is the first index of the COPY whose value
  // is outside [low, high), or length when all are inside
  const int32_t* keepChecked(const int32_t* data, size_t length, int64_t low, int64_t high, size_t& firstOutside);

 private:
  struct Buffer {
    std::unique_ptr<int32_t[]> values;  // [capacity] not initialised
    size_t capacity = 0;
  };
  int32_t* take(size_t length);
  int32_t threads_;
  std::vector<Buffer> buffers_;  // the buffers this snapshot holds; each is filled by one keep
};

}  // namespace lla
