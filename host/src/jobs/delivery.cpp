#include "jobs/delivery.hpp"

#include "core/log.hpp"
#include "send/send_scheduler.hpp"

#include <billdrop/text.hpp>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace billdrop::jobs {

plan::PlanLimits plan_limits(const config::LimitsConfig& limits) {
  plan::PlanLimits out;
  out.max_body_bytes = static_cast<std::size_t>(limits.max_body_bytes);
  out.max_rows_per_month = static_cast<std::uint64_t>(limits.max_rows_per_month);
  out.max_bytes_per_month = static_cast<std::uint64_t>(limits.max_bytes_per_month);
  return out;
}

send::RetryPolicy retry_policy(const config::SendingConfig& sending) {
  send::RetryPolicy policy;
  policy.give_up_after = std::chrono::seconds(sending.give_up_seconds);
  policy.initial_backoff = std::chrono::milliseconds(sending.initial_backoff_ms);
  policy.max_backoff = std::chrono::milliseconds(sending.max_backoff_ms);
  return policy;
}

MonthDelivery plan_delivery(const MonthToDeliver& month, bool allow_rollup,
                            const DeliveryOptions& options) {
  MonthDelivery result;
  result.month = month.summary.month;
  result.rows = month.summary.rows;
  result.cost = month.summary.cost;
  if (!month.failure.empty()) {
    result.problem = "not sent: " + month.failure;
    return result;
  }
  const std::uint64_t unplaced = month.summary.unplaced_records;
  if ((month.invalid_rows > 0 || unplaced > 0) && !options.send_months_with_invalid_rows) {
    std::string missing;
    if (month.invalid_rows > 0)
      missing = std::to_string(month.invalid_rows) + " invalid row(s)";
    if (unplaced > 0)
      missing += (missing.empty() ? "" : " and ") + std::to_string(unplaced) +
                 (unplaced == 1 ? " record that" : " records that") +
                 " could not be placed in a month (" + (unplaced == 1 ? "it" : "any of them") +
                 " may belong to this one)";
    result.problem = missing + ": not sent, the month would be incomplete (fix the source, or pass "
                               "--send-invalid to send the valid rows only)";
    return result;
  }
  Result<plan::DropPlan> plan =
      plan::plan_month(month.summary, options.limits,
                       allow_rollup ? plan::CapPolicy::rollup : plan::CapPolicy::fail);
  if (!plan)
    result.problem = plan.error().message();
  else
    result.plan = std::move(*plan);
  return result;
}

std::vector<std::vector<MonthDelivery>>
deliver_all(const std::vector<ConnectionToDeliver>& connections, const DeliveryOptions& options,
            send::SendJournal* journal) {
  std::vector<std::vector<MonthDelivery>> results(connections.size());
  std::vector<send::SendJob> jobs;
  std::vector<std::size_t> job_connection; // jobs[j] sends connections[job_connection[j]]
  for (std::size_t c = 0; c < connections.size(); ++c) {
    const ConnectionToDeliver& connection = connections[c];
    std::vector<plan::DropPlan> plans;
    for (const MonthToDeliver& month : connection.months) {
      results[c].push_back(
          plan_delivery(month, options.allow_rollup || connection.allow_rollup, options));
      if (results[c].back().plan)
        plans.push_back(*results[c].back().plan);
    }
    if (plans.empty())
      continue;
    if (connection.destination == nullptr || !connection.destination->destination) {
      for (MonthDelivery& month : results[c])
        if (month.plan)
          month.problem = "not sent: the connection has no open destination";
      continue;
    }
    jobs.push_back(
        send::SendJob{connection.connection_id, *connection.destination->destination, plans});
    job_connection.push_back(c);
  }
  if (jobs.empty())
    return results;

  send::SchedulerOptions scheduler;
  scheduler.parallel_connections = options.parallel_connections;
  scheduler.retry = options.retry;
  scheduler.journal = journal;
  scheduler.cancel = options.cancel;
  scheduler.observer = options.on_attempt;
  const std::vector<send::ConnectionResult> sent = send::run_send_jobs(jobs, scheduler);

  for (std::size_t j = 0; j < jobs.size(); ++j) {
    const ConnectionToDeliver& connection = connections[job_connection[j]];
    std::vector<MonthDelivery>& months = results[job_connection[j]];
    // run_send_jobs gives one result per distinct connection id, in first-appearance order.
    const auto found =
        std::find_if(sent.begin(), sent.end(), [&](const send::ConnectionResult& result) {
          return result.connection_id == connection.connection_id;
        });
    if (found == sent.end())
      continue;
    // Jobs sharing a connection id share its result: this job's months are the next ones in it.
    std::size_t first = 0;
    for (std::size_t earlier = 0; earlier < j; ++earlier)
      if (jobs[earlier].connection_id == connection.connection_id)
        first += jobs[earlier].plans.size();
    std::size_t next = first;
    for (MonthDelivery& result : months) {
      if (!result.plan || next >= found->months.size())
        continue;
      const send::MonthSendResult& month = found->months[next++];
      result.synced = month.synced;
      result.cancelled = month.cancelled;
      result.attempts = static_cast<std::uint32_t>(month.attempts.size());
      if (!month.synced)
        result.problem = month.error;
      result.landed = connection.destination->landed(connection.connection_id, result.month);
    }
    if (!found->store_error.empty() && first == 0)
      log::warn("sync_store.error",
                {{"connection", connection.connection_id}, {"message", found->store_error}});
  }
  return results;
}

std::vector<MonthDelivery> deliver(const std::string& connection_id,
                                   const std::vector<MonthToDeliver>& months,
                                   OpenDestination& destination, const DeliveryOptions& options,
                                   send::SendJournal* journal) {
  std::vector<ConnectionToDeliver> connections{{connection_id, months, &destination, false}};
  return std::move(deliver_all(connections, options, journal).front());
}

} // namespace billdrop::jobs
