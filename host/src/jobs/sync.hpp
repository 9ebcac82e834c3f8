#pragma once
// The sync job and its parts, for one connection or many: convert a source's months into
// validated snapshots, decide which months may be sent, plan them, send them all at once (one
// request in flight per connection), and return plain result structs; no printing here (report/
// renders them for the CLI, and for the HTTP API to come).

#include "cbf/validation_report.hpp"
#include "core/cancel.hpp"
#include "core/file_lock.hpp"
#include "ingest/convert.hpp"
#include "jobs/connections.hpp"
#include "jobs/delivery.hpp"
#include "jobs/job_error.hpp"
#include "jobs/sync_status.hpp"
#include "plan/drop_plan.hpp"
#include "store/sync_store.hpp"

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace billdrop::jobs {

struct ConvertRequest {
  std::vector<Month> months;     // empty: every month the source holds
  std::filesystem::path out;     // snapshot folder; empty: the connection's (for sending)
  bool validate_only = false;    // check and count rows, write nothing (`validate`)
  std::size_t memory_mb = 128;   // row index budget before spilling to disk
  std::size_t max_errors = 1000; // row problems kept for the report
  bool progress = false;         // draw progress on the terminal
  const core::CancelToken* cancel = nullptr;
};

struct ConvertOutcome {
  std::filesystem::path out; // where the snapshots went ("" when validating only)
  ingest::ConvertResult result;
  cbf::ValidationReport report;
  // Months asked for that the source does not list ("2026-09 is not among the months ...").
  std::vector<std::string> warnings;
  // Why the conversion as a whole is not clean: the first failed month's kind, else `data` when
  // rows were invalid or rejected; nullopt when every month read whole and every row was valid.
  std::optional<FailureKind> failure;
};

// Converts (or validates) the source's months. Throws JobError for what stops everything (listing
// months, the output folder, a stop request); a month whose read failed is in the result.
ConvertOutcome convert_source(const ResolvedSource& source, const ConvertRequest& request);

// The months a conversion may send: the requested ones (a month whose rows only came as late rows
// of another read is partial and never sent), each with why it must not be sent, if so.
std::vector<MonthToDeliver> months_from_convert(const ingest::ConvertResult& result,
                                                bool allow_empty_month);
// The months of a snapshot folder (what `push` sends), by the same rules; only `only` when given.
std::vector<MonthToDeliver> months_from_snapshots(const std::filesystem::path& dir,
                                                  const std::vector<Month>& only,
                                                  bool allow_empty_month);

// A month as `plan` shows it: the plan that would be sent, or one measured without the month
// caps when it is over one (marked by caps.over(), without a digest), and why it cannot be sent.
struct PlannedMonth {
  Month month;
  std::optional<plan::DropPlan> plan;
  std::string problem;
};
std::vector<PlannedMonth> plan_months(const ResolvedSource& source,
                                      const std::vector<MonthToDeliver>& months, bool allow_rollup);

// What run and push take besides the sources.
struct SendSettings {
  bool allow_rollup = false;        // or'ed with each connection's own setting
  bool send_invalid = false;        // send months with invalid rows (their valid rows only)
  std::int64_t give_up_seconds = 0; // 0: the config's sending.give_up_seconds
  std::function<void(const send::Attempt&)> on_attempt; // progress and logs, any thread
  const core::CancelToken* cancel = nullptr;
};

// One connection's part of a sync: its months in, its deliveries out.
struct ConnectionSync {
  ResolvedSource source;
  std::vector<MonthToDeliver> months;
  std::optional<FailureKind> before_send; // a conversion that was not clean
  std::uint64_t rows_read = 0;            // when converted in this run
  std::filesystem::path from;             // when pushed from a folder
  std::vector<MonthDelivery> deliveries;  // filled by send_connections, by month
  OpenDestination* destination = nullptr;
};

// Destinations stay open (the embedded emulator running) while this lives.
struct SyncRun {
  std::vector<ConnectionSync> connections;
  std::vector<std::unique_ptr<OpenDestination>> destinations;
  bool cancelled = false; // a stop request ended it: what was not sent stays resumable
  // Given by a long-running caller (the daemon): the store to record in, and one embedded
  // emulator for every `local` connection; otherwise opened for this run.
  store::Store* store = nullptr;
  OpenDestination* shared_local = nullptr;
};

// The store a one-off command (`run`, `push`) records in: the config's [store]. On a shared
// PostgreSQL store the command first takes each of its connections' leases, as a `serve` host
// does (a fencing token each, every write checked against it, a self-fence before each
// request), renews them every TTL/3 while it runs and gives them back at the end; it is not
// counted as a host (the daemons' fair shares do not change). A connection whose lease another
// holder has (a daemon) is refused, FailureKind::busy, naming the holder and until when, or
// waited for up to `wait` (--wait-seconds).
class RunStore {
public:
  static std::unique_ptr<RunStore> open(const std::vector<ResolvedSource>& sources,
                                        std::chrono::milliseconds wait);
  ~RunStore();
  RunStore(const RunStore&) = delete;
  RunStore& operator=(const RunStore&) = delete;
  store::Store* get() const { return store_.get(); }

private:
  RunStore() = default;
  std::unique_ptr<store::Store> store_;
  std::thread heartbeat_;
  std::mutex mutex_;
  std::condition_variable stop_;
  bool stopping_ = false;
};

// Sends every connection's months at once through one sync store (the first connection's state
// directory) and one embedded emulator for all `local` connections. A month a failed send left
// partly replaced is sent first. Never throws for a failed month: its delivery says why.
void send_connections(SyncRun& run, const SendSettings& settings);

} // namespace billdrop::jobs

namespace billdrop::jobs {

// What the sync store says of a connection's months (`billdrop status`), read without sending.
struct MonthRecord {
  Month month;
  store::MonthStatus status;
};
struct ConnectionStatus {
  ResolvedSource source;
  std::vector<MonthRecord> months;
  SyncStatusEntry entry; // as GET /api/v1/billing/sync-status gives it (never "syncing" here)
};
// Reads the store of the sources' state directory; a state directory without a store yet means
// no month was ever sent (nothing is created).
std::vector<ConnectionStatus> connection_statuses(const std::vector<ResolvedSource>& sources,
                                                  const config::HostConfig& config);

} // namespace billdrop::jobs
