#include "pool.h"

#include <algorithm>
#include <exception>
#include <mutex>
#include <numeric>
#include <thread>

namespace lla {

int32_t hardwareThreads() {
  const unsigned count = std::thread::hardware_concurrency();
  return count == 0 ? 1 : static_cast<int32_t>(count);
}

int32_t resolveThreads(int32_t requested, int64_t workUnits) {
  int64_t threads = requested <= 0 ? hardwareThreads() : requested;
  threads = std::min<int64_t>(threads, std::max<int64_t>(workUnits, 1));
  return static_cast<int32_t>(std::max<int64_t>(threads, 1));
}

void runParallel(int32_t threads, const std::function<void(int32_t)>& body) {
  std::exception_ptr failure;
  std::mutex failureLock;
  auto guarded = [&](int32_t index) {
    try {
      body(index);
    } catch (...) {
      std::lock_guard<std::mutex> lock(failureLock);
      if (!failure) failure = std::current_exception();
    }
  };
  std::vector<std::thread> workers;
  workers.reserve(threads > 1 ? threads - 1 : 0);
  for (int32_t t = 1; t < threads; ++t) workers.emplace_back(guarded, t);
  guarded(0);
  for (auto& worker : workers) worker.join();
  if (failure) std::rethrow_exception(failure);
}

SequenceQueue::SequenceQueue(const int32_t* offsets, int32_t numSequences) : order_(numSequences) {
  std::iota(order_.begin(), order_.end(), 0);
  std::stable_sort(order_.begin(), order_.end(), [offsets](int32_t a, int32_t b) {
    return offsets[a + 1] - offsets[a] > offsets[b + 1] - offsets[b];
  });
}

}  // namespace lla
