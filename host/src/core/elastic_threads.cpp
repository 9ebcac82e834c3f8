#include "core/elastic_threads.hpp"

#include <algorithm>

namespace billdrop::core {

ElasticThreads::ElasticThreads(std::size_t max) : max_(std::max<std::size_t>(max, 1)) {}

ElasticThreads::~ElasticThreads() {
  shutdown();
}

void ElasticThreads::enqueue(std::function<void()> job) {
  const std::lock_guard lock(mutex_);
  jobs_.push_back(std::move(job));
  // Each idle thread takes one job; a job beyond those needs a thread of its own.
  if (jobs_.size() > idle_ && threads_.size() < max_)
    threads_.emplace_back([this] { work(); });
  else
    ready_.notify_one();
}

void ElasticThreads::shutdown() {
  std::vector<std::thread> threads;
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
    threads.swap(threads_);
  }
  ready_.notify_all();
  for (std::thread& thread : threads)
    thread.join();
}

void ElasticThreads::work() {
  std::unique_lock lock(mutex_);
  for (;;) {
    ++idle_;
    ready_.wait(lock, [this] { return !jobs_.empty() || stopping_; });
    --idle_;
    if (jobs_.empty())
      return; // stopping, and every job run
    std::function<void()> job = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    job();
    lock.lock();
  }
}

} // namespace billdrop::core
