#pragma once
// The store in PostgreSQL, shared by several `billdrop serve` hosts: the same tables as the SQLite
// store (what sending records, the daemon's jobs and connection state), plus leases.
//
// Leases (store/leases.hpp): a row per connection with an owner, an expiry (the database's clock,
// so hosts' clocks need not agree) and a fencing token that grows on every claim. Claims take
// free or expired leases in one short statement whose `SELECT … FOR UPDATE SKIP LOCKED` lets
// hosts claim side by side without waiting on each other. With leases on, every write of a
// connection's state (send generation, key state, attempts, chunk marks, month state, the
// connection's record, its jobs) runs in a short transaction that first locks the lease row
// `FOR SHARE` where `owner = me AND token = $mine AND expires_at > now()`: a host that lost the
// lease writes nothing, and a claim cannot slip between the check and the write. No transaction
// is ever held across an HTTP request; advisory locks are not used.
//
// One libpq connection behind a mutex: every method may be called from any thread.

#include "store/sync_store.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace billdrop::store {

class PostgresStore final : public Store, public LeaseKeeper {
public:
  // Connects with the libpq connection string `url` and migrates the schema. `leased`: writes
  // fenced by leases (the daemon, a one-off sync); without, writes are not fenced (`status`).
  // `serving` (default: `leased`): a `serve` host, registered among the live hosts whose count
  // sets each host's fair share; a one-off command takes its leases without being one.
  static Result<std::unique_ptr<PostgresStore>> open(const std::string& url,
                                                     std::chrono::milliseconds lease_ttl,
                                                     bool leased,
                                                     std::optional<bool> serving = std::nullopt);
  // Connects and brings the schema to kSchemaVersion; returns the version it found.
  static Result<int> migrate(const std::string& url);
  ~PostgresStore() override;
  PostgresStore(const PostgresStore&) = delete;
  PostgresStore& operator=(const PostgresStore&) = delete;

  static constexpr int kSchemaVersion = 2;
  // As SqliteSyncStore::kResumeWithin.
  static constexpr std::chrono::milliseconds kResumeWithin{60 * 60 * 1000};

  // SyncStore
  const std::string& store_id() const noexcept override;
  Result<send::SendStart> begin_send(std::string_view connection_id, Month month,
                                     std::string_view plan_digest,
                                     std::chrono::system_clock::time_point now) override;
  Status save_key_state(std::string_view connection_id, Month month,
                        const send::SendGeneration& generation,
                        const std::map<std::uint32_t, send::ChunkKeyState>& chunks) override;
  Status record_attempt(const send::Attempt& attempt) override;
  Status mark_chunk_acknowledged(std::string_view connection_id, Month month,
                                 std::string_view plan_digest, std::uint32_t chunk_index,
                                 std::string_view drop_id,
                                 std::chrono::system_clock::time_point at) override;
  Status mark_month_synced(std::string_view connection_id, const plan::DropPlan& plan,
                           std::chrono::system_clock::time_point at) override;
  Status mark_month_failed(std::string_view connection_id, Month month,
                           std::string_view plan_digest, std::string_view error,
                           std::chrono::system_clock::time_point at) override;
  Status check_before_request(std::string_view connection_id) override;
  Result<MonthStatus> month_status(std::string_view connection_id, Month month) const override;
  Result<std::vector<Month>> months(std::string_view connection_id) const override;
  Result<std::vector<std::pair<Month, MonthSyncState>>>
  month_states(std::string_view connection_id) const override;
  Result<std::map<std::string, std::vector<std::pair<Month, MonthSyncState>>>>
  all_month_states() const override;
  Result<std::vector<send::Attempt>> attempts(std::string_view connection_id,
                                              Month month) const override;

  // ServiceStore
  Result<std::string> begin_job(std::string_view kind, std::string_view connection,
                                std::string_view parent = {}) override;
  Status finish_job(std::string_view id, JobState state, std::string_view message,
                    std::string_view result_json = {}) override;
  Status set_job_result(std::string_view id, std::string_view result_json) override;
  Result<std::optional<JobRecord>> job(std::string_view id) const override;
  Result<std::vector<JobRecord>> jobs(std::string_view kind = {},
                                      std::size_t limit = 100) const override;
  // Jobs still running whose host's heartbeat stopped (TTL passed) become interrupted.
  Result<std::size_t> interrupt_orphaned_jobs() override;
  Result<ConnectionRecord> connection(std::string_view connection) const override;
  Result<std::vector<ConnectionRecord>> connections() const override;
  Status save_connection(const ConnectionRecord& record) override;
  Result<std::vector<std::string>> request_runs(const std::vector<std::string>& connections,
                                                std::string_view parent = {}) override;
  Result<std::vector<RunRequest>>
  pending_runs(const std::vector<std::string>& connections = {}) const override;
  Status finish_runs(std::string_view connection, const std::vector<std::string>& ids,
                     std::string_view job, std::uint64_t token = 0) override;
  Result<std::vector<RunRequest>> run_requests(const std::vector<std::string>& ids) const override;

  // Store
  LeaseKeeper* leases() noexcept override;

  // LeaseKeeper
  const std::string& owner() const noexcept override;
  std::chrono::milliseconds ttl() const noexcept override;
  Result<HeartbeatResult> heartbeat() override;
  Result<std::vector<Lease>> claim(const std::vector<LeaseKey>& candidates,
                                   std::size_t limit) override;
  Status release(const std::string& name) override;
  std::uint64_t token(const std::string& name) const override;
  Result<std::optional<LeaseHolder>> holder(const std::string& name) const override;
  bool holds(const std::string& name) const override;
  std::size_t held() const override;

private:
  class Impl;
  explicit PostgresStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

} // namespace billdrop::store
