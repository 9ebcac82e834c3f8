#pragma once
// Sends many connections' months at once: a thread pool with one strand per connection, so each
// connection has one request in flight while up to `parallel_connections` connections send side
// by side. A connection's months go in the order given; a month that fails does not stop the
// connection's later months (each month is its own drop).

#include "plan/drop_plan.hpp"
#include "send/connection_sender.hpp"
#include "send/destination.hpp"
#include "send/send_journal.hpp"

#include <cstddef>
#include <string>
#include <vector>

namespace billdrop::state {
class SyncStore;
}

namespace billdrop::send {

struct SendJob {
  std::string connection_id;
  Destination& destination; // may be shared between jobs: destinations are thread-safe
  std::vector<plan::DropPlan> plans;
};

struct SchedulerOptions {
  std::size_t parallel_connections = 8; // connections sending at the same time (threads)
  RetryPolicy retry;
  // When set, every attempt, acknowledged chunk and synced or failed month is recorded there.
  SendJournal* journal = nullptr;
  // A stop request: no month starts after it, a month in progress stops before its next request
  // and stays pending (resumable). May be null.
  const core::CancelToken* cancel = nullptr;
  // Called from the pool's threads, one connection's attempts in order: must be thread-safe.
  ConnectionSender::AttemptObserver observer;
  ConnectionSender::Sleeper sleeper; // empty: really sleep
};

struct ConnectionResult {
  std::string connection_id;
  std::vector<MonthSendResult> months; // in the order of the job's plans
  std::string store_error;             // the first failure to record to the store, if any

  bool all_synced() const noexcept;
};

// Runs every job and returns one result per distinct connection id, in the order the ids first
// appear. Jobs with the same connection id share its strand (still one request in flight).
std::vector<ConnectionResult> run_send_jobs(const std::vector<SendJob>& jobs,
                                            const SchedulerOptions& options);

} // namespace billdrop::send
