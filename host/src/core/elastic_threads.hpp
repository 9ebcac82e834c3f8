#pragma once
// A thread per job in flight: a job that finds no idle thread starts one, up to `max`, and the
// thread is kept for the next job; jobs beyond `max` wait in line. HTTP servers run each
// connection as one job, so an idle keep-alive client never holds up another's request (a fixed
// pool of N threads stalls the (N+1)th keep-alive client until one of the first N leaves).

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace billdrop::core {

class ElasticThreads {
public:
  explicit ElasticThreads(std::size_t max);
  ~ElasticThreads(); // shutdown()
  ElasticThreads(const ElasticThreads&) = delete;
  ElasticThreads& operator=(const ElasticThreads&) = delete;

  void enqueue(std::function<void()> job);
  // Runs every queued job, then joins the threads; enqueue() is not called after it.
  void shutdown();

private:
  void work();

  const std::size_t max_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> jobs_;
  std::vector<std::thread> threads_;
  std::size_t idle_ = 0; // threads waiting for a job
  bool stopping_ = false;
};

} // namespace billdrop::core
