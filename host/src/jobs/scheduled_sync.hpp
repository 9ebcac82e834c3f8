#pragma once
// One scheduled sync of a connection, as the daemon runs it: the first sync backfills every month
// of the last `backfill_months` the source holds (newest first); later syncs re-read the
// `reprocess_months` window (providers restate recent months) and send only the months whose plan
// differs from the one last synced; an unchanged month is recorded as such, not re-sent. Progress
// is in the store month by month, so a restart continues where it stopped.

#include "core/cancel.hpp"
#include "jobs/connections.hpp"
#include "jobs/delivery.hpp"
#include "store/sync_store.hpp"

#include <billdrop/decimal.hpp>
#include <billdrop/timestamp.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace billdrop::jobs {

struct ScheduledSyncRequest {
  const ResolvedSource* source = nullptr;
  const config::ScheduleConfig* schedule = nullptr;
  store::Store* store = nullptr;
  OpenDestination* shared_local = nullptr; // the daemon's embedded emulator, when it has one
  const core::CancelToken* cancel = nullptr;
  std::chrono::system_clock::time_point now = std::chrono::system_clock::now();
  std::function<void(const send::Attempt&)> on_attempt;
  std::int64_t give_up_seconds = 0; // 0: the config's
};

enum class MonthOutcomeKind { sent, unchanged, failed, interrupted };
const char* to_string(MonthOutcomeKind kind) noexcept;

struct MonthOutcome {
  Month month;
  MonthOutcomeKind kind = MonthOutcomeKind::failed;
  std::uint64_t rows = 0;
  Decimal cost;
  std::uint64_t bytes = 0;    // body bytes sent
  std::uint32_t chunks = 0;   // chunks of the plan sent
  std::uint32_t attempts = 0; // requests made
  std::string problem;        // why it failed
};

struct ScheduledSyncResult {
  bool busy = false;      // another process holds the connection: nothing was done
  bool cancelled = false; // a stop request ended it; what was sent stays resumable
  bool backfill = false;  // this was (part of) the first sync's backfill
  std::string error;      // what stopped the whole sync (the source, the store), if anything
  std::vector<MonthOutcome> months; // newest first
  std::uint64_t rows_read = 0;
  std::uint32_t months_backfilled = 0;
  double seconds = 0;

  bool ok() const noexcept; // no error, no failed month, not busy or cancelled
};

// Runs the sync, holding the connection's lock (refusing, busy, when another process has it) and
// recording the connection's state (last run, last success or error, backfill progress).
ScheduledSyncResult run_scheduled_sync(const ScheduledSyncRequest& request);

// The months of [newest - (count - 1), newest], oldest first.
std::vector<Month> month_window(Month newest, std::int64_t count);
// The UTC month of `now`.
Month month_of(std::chrono::system_clock::time_point now);

// How many months of the backfill window ending at `now` the store records as synced.
std::uint32_t months_backfilled(const store::SyncStore& store, const std::string& connection_id,
                                std::int64_t backfill_months,
                                std::chrono::system_clock::time_point now);

} // namespace billdrop::jobs
