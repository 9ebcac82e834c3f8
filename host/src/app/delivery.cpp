#include "app/delivery.hpp"

#include "send/send_scheduler.hpp"
#include "state/sync_store.hpp"
#include "util/log.hpp"

#include <billdrop/text.hpp>

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

std::vector<MonthDelivery> deliver(const std::string& connection_id,
                                   const std::vector<MonthToDeliver>& months,
                                   OpenDestination& destination, const DeliveryOptions& options,
                                   const std::filesystem::path& sync_store_file) {
  std::vector<MonthDelivery> results;
  std::vector<plan::DropPlan> plans;
  std::vector<std::size_t> planned_index; // results[planned_index[i]] belongs to plans[i]
  for (const MonthToDeliver& month : months) {
    MonthDelivery result;
    result.month = month.summary.month;
    result.rows = month.summary.rows;
    result.cost = month.summary.cost;
    if (!month.failure.empty()) {
      result.problem = "not sent: " + month.failure;
      results.push_back(std::move(result));
      continue;
    }
    if (month.invalid_rows > 0 && !options.send_months_with_invalid_rows) {
      result.problem = std::to_string(month.invalid_rows) +
                       " invalid row(s): not sent, the month would be incomplete (fix the source, "
                       "or pass --send-invalid to send the valid rows only)";
      results.push_back(std::move(result));
      continue;
    }
    Result<plan::DropPlan> plan =
        plan::plan_month(month.summary, options.limits,
                         options.allow_rollup ? plan::CapPolicy::rollup : plan::CapPolicy::fail);
    if (!plan) {
      result.problem = plan.error().message();
      results.push_back(std::move(result));
      continue;
    }
    result.plan = *plan;
    plans.push_back(std::move(*plan));
    planned_index.push_back(results.size());
    results.push_back(std::move(result));
  }
  if (plans.empty())
    return results;

  std::unique_ptr<state::SyncStore> store;
  if (!sync_store_file.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(sync_store_file.parent_path(), ec);
    Result<std::unique_ptr<state::SyncStore>> opened = state::SyncStore::open(sync_store_file);
    if (!opened) {
      for (std::size_t index : planned_index)
        results[index].problem = "cannot open the sync store: " + opened.error().message();
      return results;
    }
    store = std::move(*opened);
  }

  send::SchedulerOptions scheduler;
  scheduler.parallel_connections = options.parallel_connections;
  scheduler.retry = options.retry;
  scheduler.store = store.get();
  scheduler.observer = options.on_attempt;
  std::vector<send::SendJob> jobs;
  jobs.push_back(send::SendJob{connection_id, *destination.destination, plans});
  const std::vector<send::ConnectionResult> sent = send::run_send_jobs(jobs, scheduler);
  const send::ConnectionResult& connection = sent.front();
  for (std::size_t i = 0; i < connection.months.size() && i < planned_index.size(); ++i) {
    MonthDelivery& result = results[planned_index[i]];
    const send::MonthSendResult& month = connection.months[i];
    result.synced = month.synced;
    result.attempts = static_cast<std::uint32_t>(month.attempts.size());
    if (!month.synced)
      result.problem = month.error;
    if (destination.local) {
      Result<emulator::MonthState> landed =
          destination.local->month_state(connection_id, result.month);
      if (landed)
        result.landed = std::move(*landed);
    }
  }
  if (!connection.store_error.empty())
    log::warn("sync_store.error", {{"message", connection.store_error}});
  return results;
}

} // namespace billdrop
