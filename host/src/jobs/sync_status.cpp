#include "jobs/sync_status.hpp"

#include "core/cron.hpp"
#include "jobs/scheduled_sync.hpp"

#include <algorithm>
#include <ctime>
#include <map>

namespace billdrop::jobs {

std::string utc_text(std::chrono::system_clock::time_point at) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(at);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

std::string describe_age(std::chrono::system_clock::duration age) {
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(age).count();
  const auto say = [](long long n, const char* unit) {
    return std::to_string(n) + " " + unit + (n == 1 ? "" : "s");
  };
  if (seconds >= 86400)
    return say(seconds / 86400, "day");
  if (seconds >= 3600)
    return say(seconds / 3600, "hour");
  if (seconds >= 60)
    return say(seconds / 60, "minute");
  return say(seconds, "second");
}

namespace {

using MonthStates = std::vector<std::pair<Month, store::MonthSyncState>>;

// The entry from what the store holds of the connection (`record`, `states`: read by the caller).
SyncStatusEntry entry_from(const StatusInputs& inputs,
                           const Result<store::ConnectionRecord>& record,
                           const Result<MonthStates>& states,
                           std::chrono::system_clock::time_point now) {
  const config::ConnectionConfig& connection = *inputs.connection;
  SyncStatusEntry entry;
  entry.connection = connection.name;
  entry.cloud_account_id =
      connection.schedule.account_id.empty() ? connection.name : connection.schedule.account_id;
  entry.provider = inputs.provider;
  entry.enabled = connection.schedule.enabled;
  entry.next_run_at = inputs.next_run_at;
  const auto zero = std::chrono::system_clock::time_point{};

  if (!record) {
    entry.status = "error";
    entry.message = "the store cannot be read: " + record.error().message();
    return entry;
  }
  if (record->last_success != zero)
    entry.last_synced_at = record->last_success;
  if (record->last_error_at != zero)
    entry.last_error_at = record->last_error_at;
  if (states) {
    const std::vector<Month> window =
        month_window(month_of(now), connection.schedule.backfill_months);
    for (const auto& [month, state] : *states) {
      if (state != store::MonthSyncState::synced)
        ++entry.months_pending;
      else if (std::find(window.begin(), window.end(), month) != window.end())
        ++entry.months_backfilled;
    }
  }

  Result<core::CronSchedule> schedule =
      inputs.schedule != nullptr ? Result<core::CronSchedule>(*inputs.schedule)
                                 : core::CronSchedule::parse(connection.schedule.schedule);
  if (inputs.syncing) {
    entry.status = "syncing";
  } else if (!schedule) {
    entry.status = "error";
    entry.message = schedule.error().message();
  } else if (!record->last_error.empty() && record->last_error_at >= record->last_success) {
    entry.status = "error";
    entry.message = record->last_error;
  } else if (record->last_success == zero) {
    entry.status = "pending";
    entry.message = record->last_run == zero ? "Never synced" : "No sync has succeeded yet";
  } else if (now - record->last_success > 2 * schedule->typical_interval()) {
    entry.status = "stale";
    entry.message = "Last successful sync was " + describe_age(now - record->last_success) + " ago";
  } else {
    entry.status = "ok";
  }
  return entry;
}

} // namespace

SyncStatusEntry sync_status(const StatusInputs& inputs, const store::Store& store,
                            std::chrono::system_clock::time_point now) {
  return entry_from(inputs, store.connection(inputs.connection->name),
                    store.month_states(inputs.connection_id), now);
}

std::vector<SyncStatusEntry> sync_statuses(const std::vector<StatusInputs>& inputs,
                                           const store::Store& store,
                                           std::chrono::system_clock::time_point now) {
  // Two reads for all connections: a daemon answers this for every connection on every request.
  Result<std::vector<store::ConnectionRecord>> records = store.connections();
  Result<std::map<std::string, MonthStates>> states = store.all_month_states();
  std::map<std::string_view, const store::ConnectionRecord*> by_name;
  if (records)
    for (const store::ConnectionRecord& r : *records)
      by_name.emplace(r.connection, &r);
  const MonthStates none;
  std::vector<SyncStatusEntry> entries;
  entries.reserve(inputs.size());
  for (const StatusInputs& in : inputs) {
    Result<store::ConnectionRecord> record = [&]() -> Result<store::ConnectionRecord> {
      if (!records)
        return records.error();
      if (const auto found = by_name.find(in.connection->name); found != by_name.end())
        return *found->second;
      store::ConnectionRecord fresh;
      fresh.connection = in.connection->name;
      return fresh;
    }();
    Result<MonthStates> months = [&]() -> Result<MonthStates> {
      if (!states)
        return states.error();
      const auto found = states->find(in.connection_id);
      return found != states->end() ? found->second : none;
    }();
    entries.push_back(entry_from(in, record, months, now));
  }
  return entries;
}

} // namespace billdrop::jobs
