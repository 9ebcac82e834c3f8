// core::FifoGate: at most `slots` callers inside at once, the others admitted in arrival order.
#include "core/fifo_gate.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

namespace billdrop::core {
namespace {

using namespace std::chrono_literals;

// Waits until `gate` has `count` callers waiting (each test thread is queued before the next
// one starts, so arrival order is the thread order).
void until_waiting(FifoGate& gate, std::size_t count) {
  const auto limit = std::chrono::steady_clock::now() + 10s;
  while (gate.waiting() != count && std::chrono::steady_clock::now() < limit)
    std::this_thread::sleep_for(1ms);
  ASSERT_EQ(gate.waiting(), count);
}

TEST(FifoGate, AdmitsWaitersInArrivalOrder) {
  FifoGate gate(2);
  gate.enter();
  gate.enter(); // both slots taken
  std::mutex mutex;
  std::vector<int> admitted;
  std::vector<std::thread> threads;
  for (int i = 0; i < 5; ++i) {
    threads.emplace_back([&, i] {
      gate.enter();
      const std::lock_guard lock(mutex);
      admitted.push_back(i);
    });
    until_waiting(gate, static_cast<std::size_t>(i + 1));
  }
  // Each leave() lets exactly the first waiter in; they never leave, so one per leave.
  for (int released = 1; released <= 5; ++released) {
    gate.leave();
    until_waiting(gate, static_cast<std::size_t>(5 - released));
    const auto limit = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < limit) {
      const std::lock_guard lock(mutex);
      if (admitted.size() == static_cast<std::size_t>(released))
        break;
    }
  }
  for (std::thread& t : threads)
    t.join();
  EXPECT_EQ(admitted, (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST(FifoGate, NeverMoreInsideThanItsSlots) {
  FifoGate gate(3);
  std::atomic<int> inside{0}, most{0}, passes{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      for (int n = 0; n < 2000; ++n) {
        const FifoGate::Pass pass(gate);
        const int now = ++inside;
        int seen = most.load();
        while (now > seen && !most.compare_exchange_weak(seen, now)) {
        }
        if (n % 100 == 0)
          std::this_thread::yield();
        --inside;
        ++passes;
      }
    });
  for (std::thread& t : threads)
    t.join();
  EXPECT_EQ(passes.load(), 8 * 2000);
  EXPECT_LE(most.load(), 3);
  EXPECT_GE(most.load(), 2); // eight threads did share it
  EXPECT_EQ(gate.waiting(), 0u);
}

} // namespace
} // namespace billdrop::core
