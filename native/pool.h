// Threads for the long kernels: a fixed set of std::threads per call, and a shared queue of sequences,
// longest first, that they take one at a time (dynamic scheduling balances by tokens even when one sequence
// holds a large share of the corpus).
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <vector>

namespace lla {

// 0 = all cores; never more threads than units of work.
int32_t resolveThreads(int32_t requested, int64_t workUnits);
int32_t hardwareThreads();

// Runs body(threadIndex) on `threads` threads (the calling thread is one of them, the others are pooled helper
// threads kept between calls) and returns when all are done.
// The first exception thrown by a body is rethrown after all threads finished.
void runParallel(int32_t threads, const std::function<void(int32_t)>& body);

class SequenceQueue {
 public:
  // order: sequence indices by token count, longest first (ties by index).
  SequenceQueue(const int32_t* offsets, int32_t numSequences);
  // the next sequence, or -1 when all were taken.
  int32_t take() {
    const int64_t i = next_.fetch_add(1, std::memory_order_relaxed);
    return i < static_cast<int64_t>(order_.size()) ? order_[i] : -1;
  }

 private:
  std::vector<int32_t> order_;
  std::atomic<int64_t> next_{0};
};

}  // namespace lla
