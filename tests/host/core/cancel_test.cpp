// core::CancelToken: a sleep ends at once when a stop is requested, and runs its time otherwise.
#include "core/cancel.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace billdrop::core {
namespace {

using std::chrono::milliseconds;

TEST(CancelTokenTest, SleepRunsItsTimeWithoutAStop) {
  CancelToken token;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(token.sleep_for(milliseconds(50)));
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(45));
  EXPECT_FALSE(token.cancelled());
}

TEST(CancelTokenTest, AStopWakesASleeperAtOnce) {
  CancelToken token;
  std::thread stopper([&] {
    std::this_thread::sleep_for(milliseconds(50));
    token.cancel();
  });
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(token.sleep_for(milliseconds(60'000)));
  const auto took = std::chrono::steady_clock::now() - start;
  stopper.join();
  EXPECT_LT(took, milliseconds(5000));
  EXPECT_TRUE(token.cancelled());
  EXPECT_TRUE(token.sleep_for(milliseconds(60'000))); // already stopped: no wait at all
}

} // namespace
} // namespace billdrop::core
