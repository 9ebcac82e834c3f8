#include "app/delivery.hpp"

#include "send/send_scheduler.hpp"
#include "state/sync_store.hpp"
#include "util/log.hpp"

#include <billdrop/text.hpp>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace billdrop {

plan::PlanLimits plan_limits(const LimitsConfig& limits) {
  plan::PlanLimits out;
  out.max_body_bytes = static_cast<std::size_t>(limits.max_body_bytes);
  out.max_rows_per_month = static_cast<std::uint64_t>(limits.max_rows_per_month);
  out.max_bytes_per_month = static_cast<std::uint64_t>(limits.max_bytes_per_month);
  return out;
}

send::RetryPolicy retry_policy(const SendingConfig& sending) {
  send::RetryPolicy policy;
  policy.give_up_after = std::chrono::seconds(sending.give_up_seconds);
  policy.initial_backoff = std::chrono::milliseconds(sending.initial_backoff_ms);
  policy.max_backoff = std::chrono::milliseconds(sending.max_backoff_ms);
  return policy;
}

Result<std::string> read_api_key(const DeliveryConfig& delivery) {
  if (!delivery.api_key_file.empty()) {
    std::ifstream in(delivery.api_key_file, std::ios::binary);
    if (!in)
      return config_error("cannot read the API key file " + delivery.api_key_file.string());
    std::ostringstream text;
    text << in.rdbuf();
    const std::string key(trim_ascii(text.str()));
    if (key.empty())
      return config_error("the API key file " + delivery.api_key_file.string() + " is empty");
    return key;
  }
  const char* value = std::getenv(delivery.api_key_env.c_str());
  if (value == nullptr || *value == '\0')
    return config_error("no AnyCost API key: set the environment variable " + delivery.api_key_env +
                        " (or api_key_env / api_key_file under [connections.<name>.anycost])");
  return std::string(trim_ascii(value));
}

Result<OpenDestination> open_destination(const DeliveryConfig& delivery,
                                         const std::filesystem::path& state_dir,
                                         const LimitsConfig& limits) {
  OpenDestination open;
  switch (delivery.destination) {
  case DestinationKind::local: {
    std::error_code ec;
    std::filesystem::create_directories(state_dir, ec);
    if (ec)
      return source_error("cannot create the state directory " + state_dir.string() + ": " +
                          ec.message());
    emulator::EmulatorOptions options;
    options.store = state_dir / "emulator.db";
    options.max_body_bytes = static_cast<std::size_t>(limits.max_body_bytes);
    options.max_rows_per_month = static_cast<std::uint64_t>(limits.max_rows_per_month);
    options.max_bytes_per_month = static_cast<std::uint64_t>(limits.max_bytes_per_month);
    // The embedded emulator accepts one private key; nothing else can reach it but loopback.
    const std::string key = "local-emulator-key";
    options.api_keys = {key};
    open.local = std::make_unique<emulator::Emulator>(options);
    Result<std::uint16_t> port = open.local->start("127.0.0.1", 0);
    if (!port)
      return port.error();
    send::AnycostSettings settings;
    settings.base_url = open.local->base_url();
    settings.api_key = key;
    open.destination = send::make_anycost_destination(settings);
    open.description =
        "local emulator at " + open.local->base_url() + " (store " + options.store.string() + ")";
    return open;
  }
  case DestinationKind::anycost: {
    Result<std::string> key = read_api_key(delivery);
    if (!key)
      return key.error();
    send::AnycostSettings settings;
    settings.base_url = delivery.base_url;
    settings.api_key = *key;
    if (!delivery.test_key_env.empty()) {
      const char* test_key = std::getenv(delivery.test_key_env.c_str());
      if (test_key == nullptr || *test_key == '\0')
        return config_error("test_key_env names " + delivery.test_key_env + ", which is not set");
      settings.test_key = test_key;
    }
    settings.timeout = std::chrono::seconds(delivery.timeout_seconds);
    open.destination = send::make_anycost_destination(settings);
    open.description = "AnyCost Stream API at " + delivery.base_url;
    return open;
  }
  case DestinationKind::dir:
    open.destination = send::make_dir_destination(delivery.dir);
    open.description = "directory " + delivery.dir.string();
    return open;
  }
  return internal_error("unknown destination kind");
}

namespace {

// Plans one month, or says why it is not sent.
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

} // namespace

std::vector<std::vector<MonthDelivery>>
deliver_all(const std::vector<ConnectionToDeliver>& connections, const DeliveryOptions& options,
            const std::filesystem::path& sync_store_file) {
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

  std::unique_ptr<state::SyncStore> store;
  if (!sync_store_file.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(sync_store_file.parent_path(), ec);
    Result<std::unique_ptr<state::SyncStore>> opened = state::SyncStore::open(sync_store_file);
    if (!opened) {
      for (std::vector<MonthDelivery>& months : results)
        for (MonthDelivery& month : months)
          if (month.plan)
            month.problem = "cannot open the sync store: " + opened.error().message();
      return results;
    }
    store = std::move(*opened);
  }

  send::SchedulerOptions scheduler;
  scheduler.parallel_connections = options.parallel_connections;
  scheduler.retry = options.retry;
  scheduler.store = store.get();
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
      result.attempts = static_cast<std::uint32_t>(month.attempts.size());
      if (!month.synced)
        result.problem = month.error;
      if (connection.destination->local) {
        Result<emulator::MonthState> landed =
            connection.destination->local->month_state(connection.connection_id, result.month);
        if (landed)
          result.landed = std::move(*landed);
      }
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
                                   const std::filesystem::path& sync_store_file) {
  std::vector<ConnectionToDeliver> connections{{connection_id, months, &destination, false}};
  return std::move(deliver_all(connections, options, sync_store_file).front());
}

} // namespace billdrop
