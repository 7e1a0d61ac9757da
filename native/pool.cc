#include "pool.h"

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <numeric>
#include <thread>
#include <vector>

#if defined(__linux__)
#include <pthread.h>
#include <sched.h>
#endif

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

namespace {

// Waits until `count` helpers have finished their part of one runParallel call.
class Latch {
 public:
  explicit Latch(int32_t count) : count_(count) {}
  // Notified under the lock, so the waiter (who destroys the latch on return) can only wake after the last
  // helper has let go of it.
  void done() {
    std::lock_guard<std::mutex> lock(lock_);
    if (--count_ == 0) zero_.notify_all();
  }
  void wait() {
    std::unique_lock<std::mutex> lock(lock_);
    zero_.wait(lock, [this] { return count_ == 0; });
  }

 private:
  std::mutex lock_;
  std::condition_variable zero_;
  int32_t count_;
};

// A thread kept for later calls: starting a std::thread cost ~0.5 ms here (more than a whole buildCounts range
// takes), and a sweep iteration starts several parallel sections.
class Helper {
 public:
  Helper() : thread_([this] { loop(); }) {
#if defined(__linux__)
    handle_ = thread_.native_handle();
#endif
    thread_.detach();  // lives until the process exits
  }
  void start(std::function<void()> job) {
    keepOffCallersCpu();
    std::lock_guard<std::mutex> lock(lock_);
    job_ = std::move(job);
    hasJob_ = true;
    wake_.notify_one();
  }

 private:
  void loop() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock<std::mutex> lock(lock_);
        wake_.wait(lock, [this] { return hasJob_; });
        job = std::move(job_);  // moved out: the next start() may refill job_ while this one still runs
        hasJob_ = false;
      }
      job();
    }
  }

  // Linux wakes a thread on the CPU of the thread that wakes it when it can ("wake affine"), and on these 2-vCPU
  // machines it often did: the helper then pre-empted the calling thread, which waited 1.5-3.5 ms to be moved to
  // the idle CPU, and one sweep in four or five took 13-17 instead of 11 ms (sched_getcpu traces of the gitdev lda
  // sweep). So before waking the helper, its CPU set becomes the caller's minus the caller's current CPU. The set
  // is left as it is when that would empty it (one CPU), and any error is ignored: placement is only a hint here.
  void keepOffCallersCpu() {
#if defined(__linux__)
    const int callerCpu = sched_getcpu();
    if (callerCpu < 0 || callerCpu == excludedCpu_) return;
    cpu_set_t allowed;
    CPU_ZERO(&allowed);
    if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0 || callerCpu >= CPU_SETSIZE) return;
    CPU_CLR(callerCpu, &allowed);
    if (CPU_COUNT(&allowed) == 0) return;
    if (pthread_setaffinity_np(handle_, sizeof(allowed), &allowed) == 0) excludedCpu_ = callerCpu;
#endif
  }

  std::mutex lock_;
  std::condition_variable wake_;
  std::function<void()> job_;
  bool hasJob_ = false;
#if defined(__linux__)
  pthread_t handle_{};
  int excludedCpu_ = -1;  // the CPU left out of the helper's set by the last keepOffCallersCpu (-1: none yet)
#endif
  std::thread thread_;
};

// Idle helpers. Concurrent (or nested) runParallel and runShared calls each take helpers of their own; a call that
// finds too few idle makes new ones, so the pool grows to the largest number ever busy at once and no call waits for
// another. Never freed: helpers may still be parked on their condition variables at process exit.
std::mutex idleLock;
std::vector<Helper*>* idle = new std::vector<Helper*>();

Helper* takeHelper() {
  {
    std::lock_guard<std::mutex> lock(idleLock);
    if (!idle->empty()) {
      Helper* helper = idle->back();
      idle->pop_back();
      return helper;
    }
  }
  return new Helper();
}

void releaseHelper(Helper* helper) {
  std::lock_guard<std::mutex> lock(idleLock);
  idle->push_back(helper);
}

// The body of one parallel call, run by every participant, keeping the first exception any of them throws for the
// calling thread.
class GuardedBody {
 public:
  explicit GuardedBody(const std::function<void(int32_t)>& body) : body_(body) {}
  void operator()(int32_t index) {
    try {
      body_(index);
    } catch (...) {
      std::lock_guard<std::mutex> lock(lock_);
      if (!failure_) failure_ = std::current_exception();
    }
  }
  void rethrow() {
    if (failure_) std::rethrow_exception(failure_);
  }

 private:
  const std::function<void(int32_t)>& body_;
  std::mutex lock_;
  std::exception_ptr failure_;
};

}  // namespace

void runParallel(int32_t threads, const std::function<void(int32_t)>& body) {
  GuardedBody guarded(body);
  if (threads > 1) {
    Latch latch(threads - 1);
    for (int32_t t = 1; t < threads; ++t) {
      Helper* helper = takeHelper();
      // idle again before the latch opens, so a call right after this one finds it
      helper->start([&guarded, &latch, helper, t] {
        guarded(t);
        releaseHelper(helper);
        latch.done();
      });
    }
    guarded(0);
    latch.wait();
  } else {
    guarded(0);
  }
  guarded.rethrow();
}

namespace {

// A helper's part in one runShared call, shared by the caller and the helper (the helper may wake after the call
// returned): the helper may join while it is open; the caller closes it once its own body has returned.
struct SharedSlot {
  enum State { kOpen, kJoined, kDone, kClosed };
  std::atomic<int> state{kOpen};
  std::mutex lock;
  std::condition_variable finished;
};

}  // namespace

void runShared(int32_t threads, const std::function<void(int32_t)>& body) {
  GuardedBody guarded(body);
  std::vector<std::shared_ptr<SharedSlot>> slots;
  for (int32_t t = 1; t < threads; ++t) {
    auto slot = std::make_shared<SharedSlot>();
    slots.push_back(slot);
    Helper* helper = takeHelper();
    // `guarded` lives on the caller's stack: the helper touches it only after joining, and the caller waits for
    // every helper that joined
    helper->start([slot, helper, run = &guarded, t] {
      int expected = SharedSlot::kOpen;
      if (slot->state.compare_exchange_strong(expected, SharedSlot::kJoined)) {
        (*run)(t);
        releaseHelper(helper);  // idle again before the caller can return, so its next call finds it
        std::lock_guard<std::mutex> lock(slot->lock);
        slot->state = SharedSlot::kDone;
        slot->finished.notify_all();
      } else {
        releaseHelper(helper);
      }
    });
  }
  guarded(0);
  for (auto& slot : slots) {
    int expected = SharedSlot::kOpen;
    if (slot->state.compare_exchange_strong(expected, SharedSlot::kClosed)) continue;  // never joined
    std::unique_lock<std::mutex> lock(slot->lock);
    slot->finished.wait(lock, [&] { return slot->state.load() == SharedSlot::kDone; });
  }
  guarded.rethrow();
}

void runChunks(int32_t threads, int64_t chunks, const std::function<void(int64_t, int32_t)>& body) {
  std::atomic<int64_t> next{0};
  runShared(std::max<int32_t>(1, static_cast<int32_t>(std::min<int64_t>(threads, chunks))), [&](int32_t participant) {
    for (int64_t chunk = next.fetch_add(1); chunk < chunks; chunk = next.fetch_add(1)) body(chunk, participant);
  });
}

SequenceQueue::SequenceQueue(const int32_t* offsets, int32_t numSequences) : order_(numSequences) {
  std::iota(order_.begin(), order_.end(), 0);
  std::stable_sort(order_.begin(), order_.end(), [offsets](int32_t a, int32_t b) {
    return offsets[a + 1] - offsets[a] > offsets[b + 1] - offsets[b];
  });
}

}  // namespace lla
