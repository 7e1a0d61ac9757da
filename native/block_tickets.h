// The threads of one lstmTrain call (lstm_train.cc) share the blocks of each window through these tickets.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

namespace lla {

// Hands out the blocks of one window after another to the calling thread and any helpers that joined the call.
// The calling thread prepares and finishes each window itself and publishes its blocks as tickets (window << 32 |
// next block); a thread claims a block by advancing the ticket, so a helper still holding an old window's ticket
// can never claim a block of a newer one. The calling thread waits only for blocks that were claimed, never for a
// helper to wake: on these shared 2-core machines a helper may sleep for milliseconds (pool.h), and a barrier that
// waited for every thread made 2 threads 4x slower than one under load. A thread with nothing to do spins for a
// moment (the calling thread's part between two windows is short) and then sleeps, so that on a busy machine it
// leaves its core to others rather than spin.
class BlockTickets {
 public:
  static constexpr uint32_t kDone = 0xFFFFFFFFu;  // the window number that ends the call

  // nothing is open until the first publish: window 0 with no block left
  explicit BlockTickets(int32_t blocks) : blocks_(static_cast<uint32_t>(blocks)), ticket_(blocks_) {}

  // calling thread: open window `window`; then take blocks with next() and wait for the others with waitFinished()
  void publish(uint32_t window) {
    finished_.store(0);
    setTicket(static_cast<uint64_t>(window) << 32);
  }
  void close() { setTicket(static_cast<uint64_t>(kDone) << 32); }

  // claims a block of the open window: true with (window, block), false when the window has none left
  bool next(uint32_t& window, uint32_t& block) {
    uint64_t ticket = ticket_.load();
    while (open(ticket)) {
      if (ticket_.compare_exchange_weak(ticket, ticket + 1)) {
        window = static_cast<uint32_t>(ticket >> 32);
        block = static_cast<uint32_t>(ticket);
        return true;
      }
    }
    return false;
  }
  void blockDone() {
    finished_.fetch_add(1);
    wake();
  }
  void waitFinished() {
    waitUntil([&] { return finished_.load() >= blocks_; });
  }

  // helpers: run blocks until the call ends, waiting while no block is open
  template <typename RunBlock>
  void help(RunBlock runBlock) {
    for (;;) {
      uint32_t window, block;
      if (next(window, block)) {
        runBlock(window, block);
        blockDone();
        continue;
      }
      waitUntil([&] {
        const uint64_t ticket = ticket_.load();
        return open(ticket) || static_cast<uint32_t>(ticket >> 32) == kDone;
      });
      if (static_cast<uint32_t>(ticket_.load() >> 32) == kDone) return;
    }
  }

 private:
  bool open(uint64_t ticket) const {
    return static_cast<uint32_t>(ticket >> 32) != kDone && static_cast<uint32_t>(ticket) < blocks_;
  }
  void setTicket(uint64_t ticket) {
    ticket_.store(ticket);
    wake();
  }
  // Sequentially consistent throughout: a waiter counts itself as sleeping before its last look at the condition,
  // and a waker changes the condition before it looks for sleepers, so one of the two always sees the other.
  void wake() {
    if (sleepers_.load() == 0) return;
    std::lock_guard<std::mutex> guard(lock_);
    changed_.notify_all();
  }
  template <typename Ready>
  void waitUntil(Ready ready) {
    const auto spinUntil = std::chrono::steady_clock::now() + kSpin;
    while (!ready()) {
      if (std::chrono::steady_clock::now() < spinUntil) {
        std::this_thread::yield();
        continue;
      }
      std::unique_lock<std::mutex> guard(lock_);
      sleepers_.fetch_add(1);
      changed_.wait(guard, ready);
      sleepers_.fetch_sub(1);
      return;
    }
  }
  // about the calling thread's part between two windows at the default sizes
  static constexpr std::chrono::microseconds kSpin{200};
  const uint32_t blocks_;
  std::atomic<uint64_t> ticket_;
  std::atomic<uint32_t> finished_{0};
  std::atomic<int32_t> sleepers_{0};
  std::mutex lock_;
  std::condition_variable changed_;
};

}  // namespace lla
