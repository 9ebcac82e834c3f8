#include "jobs/scheduled_sync.hpp"

#include "core/log.hpp"
#include "ingest/incremental.hpp"
#include "jobs/readback.hpp"
#include "jobs/sync.hpp"
#include "snapshot/layout.hpp"

#include <algorithm>
#include <set>

namespace billdrop::jobs {

const char* to_string(MonthOutcomeKind kind) noexcept {
  switch (kind) {
  case MonthOutcomeKind::sent:
    return "sent";
  case MonthOutcomeKind::unchanged:
    return "unchanged";
  case MonthOutcomeKind::failed:
    return "failed";
  case MonthOutcomeKind::interrupted:
    return "interrupted";
  }
  return "failed";
}

bool ScheduledSyncResult::ok() const noexcept {
  return !busy && !cancelled && error.empty() &&
         std::none_of(months.begin(), months.end(), [](const MonthOutcome& m) {
           return m.kind == MonthOutcomeKind::failed || m.kind == MonthOutcomeKind::interrupted;
         });
}

std::vector<Month> month_window(Month newest, std::int64_t count) {
  std::vector<Month> months;
  Month month = newest;
  for (std::int64_t i = 0; i < count; ++i) {
    months.push_back(month);
    month = month.previous();
  }
  std::reverse(months.begin(), months.end());
  return months;
}

Month month_of(std::chrono::system_clock::time_point now) {
  const auto days = std::chrono::floor<std::chrono::days>(now);
  const std::chrono::year_month_day date(days);
  return Month(static_cast<int>(date.year()),
               static_cast<int>(static_cast<unsigned>(date.month())));
}

std::uint32_t months_backfilled(const store::SyncStore& store, const std::string& connection_id,
                                std::int64_t backfill_months,
                                std::chrono::system_clock::time_point now) {
  std::uint32_t count = 0;
  for (const Month& month : month_window(month_of(now), backfill_months)) {
    Result<store::MonthStatus> status = store.month_status(connection_id, month);
    if (status && status->state == store::MonthSyncState::synced)
      ++count;
  }
  return count;
}

ScheduledSyncResult run_scheduled_sync(const ScheduledSyncRequest& request) {
  const auto started = std::chrono::steady_clock::now();
  const ResolvedSource& source = *request.source;
  const config::ScheduleConfig& schedule = *request.schedule;
  store::Store& store = *request.store;
  const std::string& connection_id = source.delivery.connection_id;
  ScheduledSyncResult result;

  Result<core::FileLock> lock =
      core::FileLock::acquire(snapshot::connection_lock_file(source.state_dir, connection_id),
                              source.describe(), std::chrono::milliseconds(0));
  if (!lock) {
    result.busy = true;
    result.error = lock.error().message();
    return result;
  }

  Result<store::ConnectionRecord> loaded = store.connection(source.connection);
  if (!loaded) {
    result.error = loaded.error().message();
    return result;
  }
  store::ConnectionRecord record = std::move(*loaded);
  record.last_run = request.now;
  result.backfill = !record.backfilled;

  const auto finish = [&]() {
    result.months_backfilled =
        months_backfilled(store, connection_id, schedule.backfill_months, request.now);
    if (result.ok()) {
      record.last_success = request.now;
      record.last_error.clear();
      if (!record.backfilled)
        record.backfilled = true;
    } else if (!result.busy && !result.cancelled) {
      record.last_error_at = request.now;
      record.last_error = !result.error.empty() ? result.error : [&] {
        for (const MonthOutcome& month : result.months)
          if (month.kind == MonthOutcomeKind::failed)
            return month.problem;
        return std::string("a month was not synced");
      }();
    }
    record.months_backfilled = result.months_backfilled;
    if (Status saved = store.save_connection(record); !saved && result.error.empty())
      result.error = "recording the connection's state: " + saved.error().message();
    result.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return result;
  };

  try {
    // Which months: the source's, within the backfill window on the first sync (until it has
    // finished once), else within the reprocess window.
    std::unique_ptr<source::SourceSession> session = source.open_session();
    const std::int64_t window =
        record.backfilled ? schedule.reprocess_months : schedule.backfill_months;
    const std::vector<Month> window_months = month_window(month_of(request.now), window);
    std::vector<MonthToDeliver> candidates;
    if (session->incremental()) {
      // An incremental source gives what is new since the stored cursor; it is merged into the
      // month snapshots (rows of the same identity replaced), so each still holds the whole
      // month. The cursor is kept once the merge is in place (merging the same increment again
      // changes nothing); then every month of the window with a snapshot is a candidate, so a
      // month whose send failed last time is sent now.
      cbf::ValidationReport report(20);
      ingest::IncrementalOptions options;
      options.cancel = request.cancel;
      Result<ingest::IncrementalResult> merged = ingest::convert_incremental(
          *session, record.cursor, source.snapshots_dir(), options, report);
      if (!merged) {
        result.error = "reading the increment after cursor '" + record.cursor +
                       "' failed: " + merged.error().message();
        return finish();
      }
      result.rows_read = merged->rows_read;
      record.cursor = merged->cursor;
      if (Status saved = store.save_connection(record); !saved) {
        result.error = "recording the cursor: " + saved.error().message();
        return finish();
      }
      if (std::filesystem::is_directory(source.snapshots_dir()))
        candidates = months_from_snapshots(source.snapshots_dir(), window_months, false);
    } else {
      Result<std::vector<Month>> listed = session->months();
      if (!listed) {
        result.error = "listing the source's months failed: " + listed.error().message();
        return finish();
      }
      session.reset();
      const std::set<Month> in_window(window_months.begin(), window_months.end());
      std::vector<Month> months;
      for (const Month& month : *listed)
        if (in_window.count(month) != 0)
          months.push_back(month);
      if (months.empty())
        return finish(); // nothing the source holds is recent: nothing to do
      ConvertRequest convert;
      convert.months = months;
      convert.cancel = request.cancel;
      const ConvertOutcome converted = convert_source(source, convert);
      result.rows_read = converted.result.rows_read;
      candidates = months_from_convert(converted.result, false);
    }

    // Months whose plan equals the one last synced are unchanged; the others are sent, newest
    // first (a backfill shows its most useful months first).
    DeliveryOptions planning;
    planning.limits = plan_limits(source.limits);
    ConnectionSync sync{source};
    for (MonthToDeliver& month : candidates) {
      MonthOutcome outcome{month.summary.month};
      outcome.rows = month.summary.rows;
      outcome.cost = month.summary.cost;
      if (!month.failure.empty()) {
        outcome.problem = month.failure;
        result.months.push_back(std::move(outcome));
        continue;
      }
      const MonthDelivery planned = plan_delivery(month, source.delivery.allow_rollup, planning);
      Result<store::MonthStatus> status = store.month_status(connection_id, outcome.month);
      if (planned.plan && status && status->state == store::MonthSyncState::synced &&
          status->plan_digest == planned.plan->digest) {
        outcome.kind = MonthOutcomeKind::unchanged;
        result.months.push_back(std::move(outcome));
        continue;
      }
      sync.months.push_back(std::move(month));
    }
    std::sort(sync.months.begin(), sync.months.end(),
              [](const MonthToDeliver& a, const MonthToDeliver& b) {
                return b.summary.month < a.summary.month;
              });
    if (!sync.months.empty()) {
      SyncRun run;
      run.store = &store;
      run.shared_local = request.shared_local;
      run.connections.push_back(std::move(sync));
      SendSettings settings;
      settings.cancel = request.cancel;
      settings.on_attempt = request.on_attempt;
      settings.give_up_seconds = request.give_up_seconds;
      send_connections(run, settings);
      result.cancelled = run.cancelled;
      const ConnectionSync& sent = run.connections.front();
      for (const MonthDelivery& delivery : sent.deliveries) {
        MonthOutcome outcome{delivery.month};
        outcome.rows = delivery.rows;
        outcome.cost = delivery.cost;
        outcome.attempts = delivery.attempts;
        if (delivery.plan) {
          outcome.chunks = static_cast<std::uint32_t>(delivery.plan->chunks.size());
          for (const plan::Chunk& chunk : delivery.plan->chunks)
            outcome.bytes += chunk.body_bytes;
        }
        outcome.kind = delivery.synced      ? MonthOutcomeKind::sent
                       : delivery.cancelled ? MonthOutcomeKind::interrupted
                                            : MonthOutcomeKind::failed;
        outcome.problem = delivery.problem;
        // Read the landed month back and compare it with the snapshot (a rolled-up month is
        // compared by the planner's own checks: its snapshot is not what was sent).
        if (delivery.synced && schedule.readback && sent.destination != nullptr &&
            sent.destination->destination && delivery.plan && !delivery.plan->rollup) {
          const auto summary =
              std::find_if(sent.months.begin(), sent.months.end(), [&](const MonthToDeliver& m) {
                return m.summary.month == delivery.month;
              });
          Result<std::optional<send::LandedMonth>> landed =
              sent.destination->destination->read_back(connection_id, delivery.month);
          if (!landed) {
            outcome.kind = MonthOutcomeKind::failed;
            outcome.problem =
                "the month was sent but could not be read back: " + landed.error().message();
          } else if (*landed && summary != sent.months.end()) {
            if (std::optional<std::string> difference =
                    reconcile_month(summary->summary, **landed)) {
              outcome.kind = MonthOutcomeKind::failed;
              outcome.problem = *difference;
            }
          }
        }
        result.months.push_back(std::move(outcome));
      }
    }
  } catch (const JobError& e) {
    if (e.kind() == FailureKind::interrupted)
      result.cancelled = true;
    else
      result.error = e.what();
  } catch (const std::exception& e) {
    result.error = std::string("internal error: ") + e.what();
  }
  std::sort(result.months.begin(), result.months.end(),
            [](const MonthOutcome& a, const MonthOutcome& b) { return b.month < a.month; });
  return finish();
}

} // namespace billdrop::jobs
