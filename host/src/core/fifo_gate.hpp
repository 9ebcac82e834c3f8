#pragma once
// A gate that lets at most `slots` callers in at a time and the others in the order they came
// (first come, first served). For CPU-bound work served to many clients at once: with a thread
// per connection, 50 clients computing side by side on 2 cores share the CPU, so every answer
// takes as long as the slowest; one at a time per core, each waits its turn and then runs at
// full speed, and the tail latency falls to about the mean.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>

namespace billdrop::core {

class FifoGate {
public:
  explicit FifoGate(std::size_t slots) : free_(slots == 0 ? 1 : slots) {}
  FifoGate(const FifoGate&) = delete;
  FifoGate& operator=(const FifoGate&) = delete;

  void enter() {
    std::unique_lock lock(mutex_);
    if (free_ > 0 && waiting_.empty()) {
      --free_;
      return;
    }
    Waiter me;
    waiting_.push_back(&me);
    me.wake.wait(lock, [&] { return me.admitted; });
  }

  // Hands the slot to the first caller waiting (only that one is woken), or frees it.
  void leave() {
    const std::lock_guard lock(mutex_);
    if (waiting_.empty()) {
      ++free_;
      return;
    }
    Waiter* next = waiting_.front();
    waiting_.pop_front();
    next->admitted = true;
    next->wake.notify_one();
  }

  // Callers waiting to enter.
  std::size_t waiting() {
    const std::lock_guard lock(mutex_);
    return waiting_.size();
  }

  // enter() now, leave() at the end of the scope.
  class Pass {
  public:
    explicit Pass(FifoGate& gate) : gate_(gate) { gate_.enter(); }
    ~Pass() { gate_.leave(); }
    Pass(const Pass&) = delete;
    Pass& operator=(const Pass&) = delete;

  private:
    FifoGate& gate_;
  };

private:
  struct Waiter {
    std::condition_variable wake;
    bool admitted = false;
  };
  std::mutex mutex_;
  std::size_t free_;
  std::deque<Waiter*> waiting_;
};

} // namespace billdrop::core
