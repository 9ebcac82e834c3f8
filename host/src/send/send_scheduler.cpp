#include "send/send_scheduler.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>

namespace billdrop::send {

bool ConnectionResult::all_synced() const noexcept {
  return std::all_of(months.begin(), months.end(),
                     [](const MonthSendResult& month) { return month.synced; });
}

namespace {

using Strand = boost::asio::strand<boost::asio::thread_pool::executor_type>;

// One connection's work: touched only from its strand, so it needs no lock.
struct ConnectionWork {
  explicit ConnectionWork(Strand on) : strand(std::move(on)) {}
  Strand strand;
  ConnectionResult result;
};

void keep_first_error(ConnectionResult& result, const Status& status) {
  if (!status && result.store_error.empty())
    result.store_error = status.error().message();
}

// Sends one month of one job on its connection's strand.
void send_month(const SendJob& job, const plan::DropPlan& plan, ConnectionSender& sender,
                const SchedulerOptions& options, ConnectionResult& result) {
  if (options.cancel != nullptr && options.cancel->cancelled()) {
    MonthSendResult month;
    month.month = plan.month;
    month.cancelled = true;
    month.error = plan.month.to_string() + ": not sent: a stop was requested";
    result.months.push_back(std::move(month));
    return;
  }
  SendJournal* store = options.journal;
  SendStart start;
  if (store != nullptr) {
    Result<SendStart> begun = store->begin_send(job.connection_id, plan.month, plan.digest);
    if (!begun) {
      // Without a recorded generation the keys could repeat an earlier send's: do not send.
      keep_first_error(result, begun.error());
      MonthSendResult month;
      month.month = plan.month;
      month.error = plan.month.to_string() + ": not sent: the send could not be recorded in the " +
                    "sync store: " + begun.error().message();
      result.months.push_back(std::move(month));
      return;
    }
    start = std::move(*begun);
    sender.on_key_state([&](const SendGeneration& generation,
                            const std::map<std::uint32_t, ChunkKeyState>& chunks) {
      return store->save_key_state(job.connection_id, plan.month, generation, chunks);
    });
  } else {
    start = unrecorded_send_start();
  }
  sender.on_attempt([&](const Attempt& attempt) {
    if (store != nullptr) {
      keep_first_error(result, store->record_attempt(attempt));
      if (attempt.outcome == Outcome::acknowledged)
        keep_first_error(result, store->mark_chunk_acknowledged(
                                     attempt.connection_id, attempt.month, attempt.plan_digest,
                                     attempt.chunk_index, attempt.drop_id,
                                     attempt.started + attempt.duration));
    }
    if (options.observer)
      options.observer(attempt);
  });

  sender.set_cancel(options.cancel);
  if (store != nullptr)
    sender.before_request([&] { return store->check_before_request(job.connection_id); });
  MonthSendResult month;
  try {
    month = sender.send(plan, start);
  } catch (const std::exception& e) {
    month.month = plan.month;
    month.synced = false;
    month.error = plan.month.to_string() + ": sending failed unexpectedly: " + e.what();
  }
  // A send stopped on request is neither synced nor failed: it stays pending, and the next send
  // of the same plan resumes it with the keys it reached.
  if (store != nullptr && !month.cancelled) {
    const auto now = std::chrono::system_clock::now();
    if (month.synced)
      keep_first_error(result, store->mark_month_synced(job.connection_id, plan, now));
    else
      keep_first_error(result, store->mark_month_failed(job.connection_id, plan.month, plan.digest,
                                                        month.error, now));
  }
  result.months.push_back(std::move(month));
}

} // namespace

std::vector<ConnectionResult> run_send_jobs(const std::vector<SendJob>& jobs,
                                            const SchedulerOptions& options) {
  boost::asio::thread_pool pool(std::max<std::size_t>(1, options.parallel_connections));

  // Strands first, in the order connection ids appear, so results keep that order.
  std::vector<std::unique_ptr<ConnectionWork>> work;
  std::map<std::string, ConnectionWork*> by_connection;
  for (const SendJob& job : jobs) {
    if (by_connection.count(job.connection_id) != 0)
      continue;
    work.push_back(std::make_unique<ConnectionWork>(boost::asio::make_strand(pool)));
    work.back()->result.connection_id = job.connection_id;
    by_connection.emplace(job.connection_id, work.back().get());
  }

  // One sender per job (a job fixes the destination); created and used only on its strand.
  std::vector<std::unique_ptr<ConnectionSender>> senders;
  for (std::size_t j = 0; j < jobs.size(); ++j) {
    const SendJob& job = jobs[j];
    RetryPolicy policy = options.retry;
    if (policy.jitter_seed != 0) // reproducible, but not the same jitter for every connection
      policy.jitter_seed += 0x9e3779b97f4a7c15ULL * (j + 1);
    senders.push_back(
        std::make_unique<ConnectionSender>(job.connection_id, job.destination, policy));
    if (options.sleeper)
      senders.back()->set_sleeper(options.sleeper);
  }

  for (std::size_t j = 0; j < jobs.size(); ++j) {
    ConnectionWork& connection = *by_connection.at(jobs[j].connection_id);
    for (const plan::DropPlan& plan : jobs[j].plans) {
      boost::asio::post(connection.strand,
                        [&job = jobs[j], &plan, &sender = *senders[j], &options, &connection] {
                          send_month(job, plan, sender, options, connection.result);
                        });
    }
  }
  pool.join();

  std::vector<ConnectionResult> results;
  results.reserve(work.size());
  for (const std::unique_ptr<ConnectionWork>& connection : work)
    results.push_back(std::move(connection->result));
  return results;
}

} // namespace billdrop::send
