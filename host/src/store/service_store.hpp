#pragma once
// What the daemon (`billdrop serve`) keeps besides sends: its jobs (a connection's sync, an
// org-wide verify) and, per connection, its schedule state, backfill progress and the cursor of an
// incremental source. Implemented by store/sqlite beside the SyncStore, in the same database; a
// shared PostgreSQL store with leases implements the same interfaces later.

#include <billdrop/result.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace billdrop::store {

using TimePoint = std::chrono::system_clock::time_point;

enum class JobState { running, completed, failed, interrupted };
const char* to_string(JobState state) noexcept;

struct JobRecord {
  std::string id;
  std::string kind;       // "sync", "verify"
  std::string connection; // "" for an org-wide job
  std::string parent;     // the verify job a connection's sync belongs to, if any
  JobState state = JobState::running;
  TimePoint started{};
  TimePoint finished{};    // zero while running
  std::string message;     // what failed, or a summary
  std::string result_json; // the job's own result document (verify: per-connection results)
  std::int64_t pid = 0;    // the process that ran it
};

struct ConnectionRecord {
  std::string connection;
  TimePoint last_run{};     // a sync started (zero: never)
  TimePoint last_success{}; // a sync ended with every month synced or unchanged
  TimePoint last_error_at{};
  std::string last_error;  // "" after a success
  bool backfilled = false; // the first sync's backfill finished
  std::uint32_t months_backfilled = 0;
  std::string cursor; // an incremental source's position ("" : from the start)
};

// A request to run a connection now (POST /verify, POST /api/v1/billing/sync), kept in the store:
// with a shared store whichever host holds the connection's lease, or claims it next, carries it
// out. A request is done by a sync that began after it (it read the source after the request),
// marked by that sync's job; with leases only under the lease token the sync ran with, so a host
// that lost the lease meanwhile marks nothing and the request waits for the next holder.
struct RunRequest {
  std::string id;
  std::string connection;
  std::string parent; // the job that asked (a verify job), "" when none
  TimePoint requested{};
  bool done = false;
  TimePoint done_at{};     // zero while pending
  std::string job;         // the sync job that carried it out
  std::string done_by;     // that job's host ("" for a single host's store)
  std::uint64_t token = 0; // the lease token it ran with (0 without leases)
};

class ServiceStore {
public:
  virtual ~ServiceStore() = default;

  // A new job, running, owned by this process; returns its id.
  virtual Result<std::string> begin_job(std::string_view kind, std::string_view connection,
                                        std::string_view parent = {}) = 0;
  virtual Status finish_job(std::string_view id, JobState state, std::string_view message,
                            std::string_view result_json = {}) = 0;
  virtual Status set_job_result(std::string_view id, std::string_view result_json) = 0;
  virtual Result<std::optional<JobRecord>> job(std::string_view id) const = 0;
  // Newest first; only of `kind` when given.
  virtual Result<std::vector<JobRecord>> jobs(std::string_view kind = {},
                                              std::size_t limit = 100) const = 0;
  // At start-up: every job still `running` whose process is gone becomes `interrupted` (and its
  // connection will run again). Returns how many.
  virtual Result<std::size_t> interrupt_orphaned_jobs() = 0;

  // The connection's record; an empty one (never run) when there is none.
  virtual Result<ConnectionRecord> connection(std::string_view connection) const = 0;
  // Every connection the store has a record of: one query.
  virtual Result<std::vector<ConnectionRecord>> connections() const = 0;
  virtual Status save_connection(const ConnectionRecord& record) = 0;

  // Run requests. One request per connection named, all asked by `parent`; their ids, in order.
  virtual Result<std::vector<std::string>> request_runs(const std::vector<std::string>& connections,
                                                        std::string_view parent = {}) = 0;
  // The pending requests of `connections` (of every connection when empty), oldest first.
  virtual Result<std::vector<RunRequest>>
  pending_runs(const std::vector<std::string>& connections = {}) const = 0;
  // Marks requests of `connection` done by the sync job `job`, run under the lease token `token`
  // (0 without leases). With leases: only while this host still holds the connection's lease
  // with that token (a fenced error otherwise, and nothing is marked). Requests already done stay
  // as they were.
  virtual Status finish_runs(std::string_view connection, const std::vector<std::string>& ids,
                             std::string_view job, std::uint64_t token = 0) = 0;
  // The requests with these ids (unknown ids are left out).
  virtual Result<std::vector<RunRequest>>
  run_requests(const std::vector<std::string>& ids) const = 0;
};

} // namespace billdrop::store
