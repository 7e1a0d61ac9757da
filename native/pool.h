// Threads for the long kernels: pooled helper threads that work beside the calling thread. The sweep and the
// particle filter take sequences from a shared queue, longest first (dynamic scheduling balances by tokens even
// when one sequence holds a large share of the corpus), with every thread taking part (runParallel). The short
// rebuilds and copies take ranges with runChunks, where a helper that wakes late is skipped instead of waited for.
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
// threads) and returns when all are done: for long sections where every thread should take part from the start.
// The first exception thrown by a body is rethrown after all threads finished.
void runParallel(int32_t threads, const std::function<void(int32_t)>& body);

// Runs body(participant) on the calling thread (participant 0) and up to threads-1 pooled helpers, for a body that
// takes its work from a shared queue or counter until none is left. A helper that has not started when the calling
// thread's body returns is skipped rather than waited for: waking a sleeping thread could take 1.5-3.5 ms on these
// virtualised machines (when it was woken on the caller's CPU; helpers are now kept off it, see pool.cc), longer
// than a whole count or alias rebuild, and the work is done by then. Helpers that did start are waited for. The
// first exception thrown by a body is rethrown.
void runShared(int32_t threads, const std::function<void(int32_t)>& body);

// Ranges per thread for runChunks callers: enough that a thread finding its ranges slower (rare actions, cache
// misses) or waking late leaves little to the others at the end.
constexpr int32_t kRangesPerThread = 8;

// Runs body(chunk, participant) for every chunk in [0, chunks), each taken once, by runShared: participant
// (< threads) indexes per-thread scratch, which stays untouched for a participant that never started.
void runChunks(int32_t threads, int64_t chunks, const std::function<void(int64_t, int32_t)>& body);

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
