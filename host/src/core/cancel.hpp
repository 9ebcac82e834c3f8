#pragma once
// A stop request shared by a job and everything it runs: convert checks it between batches, the
// sender before each request and during every backoff sleep, the scheduler before each month. A
// signal handler thread (or the daemon's shutdown) calls cancel(); whatever is waiting wakes at
// once, so a stop ends a job within the time of one request, never of a backoff.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

namespace billdrop::core {

class CancelToken {
public:
  void cancel() noexcept {
    {
      const std::lock_guard lock(mutex_);
      cancelled_.store(true, std::memory_order_release);
    }
    wake_.notify_all();
  }
  bool cancelled() const noexcept { return cancelled_.load(std::memory_order_acquire); }

  // Sleeps for `duration` or until cancel(); true when cancelled.
  bool sleep_for(std::chrono::milliseconds duration) const {
    std::unique_lock lock(mutex_);
    return wake_.wait_for(lock, duration, [this] { return cancelled(); });
  }

private:
  std::atomic<bool> cancelled_{false};
  mutable std::mutex mutex_;
  mutable std::condition_variable wake_;
};

} // namespace billdrop::core
