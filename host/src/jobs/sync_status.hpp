#pragma once
// Each connection's sync status as seed 000 describes it (GET /api/v1/billing/sync-status and
// `billdrop status`): cloudAccountID, provider, lastSyncedAt, status (ok, stale, error, syncing,
// pending) with a message, monthsBackfilled; then next run, months pending, last error time.

#include "config/host_config.hpp"
#include "core/cron.hpp"
#include "store/sync_store.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace billdrop::jobs {

struct SyncStatusEntry {
  std::string connection;
  std::string cloud_account_id; // the connection's account_id, default its name
  std::string provider;         // the plugin's name
  std::string status;           // ok, stale, error, syncing, pending
  std::string message;          // for stale and error
  std::optional<std::chrono::system_clock::time_point> last_synced_at;
  std::uint32_t months_backfilled = 0;
  std::optional<std::chrono::system_clock::time_point> next_run_at;
  std::uint32_t months_pending = 0; // months whose last send did not finish synced
  std::optional<std::chrono::system_clock::time_point> last_error_at;
  bool enabled = true;
};

struct StatusInputs {
  const config::ConnectionConfig* connection = nullptr;
  std::string provider;
  std::string connection_id;
  bool syncing = false; // a sync of it runs now
  std::optional<std::chrono::system_clock::time_point> next_run_at;
  // The connection's parsed schedule when the caller keeps one (parsing walks a 400-year cycle:
  // a daemon answering for many connections parses once, at start); null: parsed here.
  const core::CronSchedule* schedule = nullptr;
};

// The entry of one connection from what the store records. "stale": no successful sync within
// twice the schedule's interval (core::CronSchedule::typical_interval); a schedule that does not
// parse makes the entry an error saying so.
SyncStatusEntry sync_status(const StatusInputs& inputs, const store::Store& store,
                            std::chrono::system_clock::time_point now);
// The entries of many connections, in the order of `inputs`, from two store reads.
std::vector<SyncStatusEntry> sync_statuses(const std::vector<StatusInputs>& inputs,
                                           const store::Store& store,
                                           std::chrono::system_clock::time_point now);

// "2026-04-29T05:00:00Z"
std::string utc_text(std::chrono::system_clock::time_point at);
// "4 days", "3 hours", "12 minutes", "40 seconds"
std::string describe_age(std::chrono::system_clock::duration age);

} // namespace billdrop::jobs
