#pragma once
// billdrop's record of sending, in SQLite (WAL): every attempt, which chunks of which plan were
// acknowledged, and each month's sync state. A month becomes synced only through
// mark_month_synced, which refuses unless every chunk of the plan was acknowledged since the send
// started; any acknowledged chunk puts a synced month back to pending, because from the first
// chunk of a new send until its last the API holds a mix of old and new rows.
//
// It also keeps what idempotency keys are made of (docs/architecture.md, "Idempotency keys"): a
// random id for the store, the generation of each (connection, month)'s send, and the key state
// of each chunk of the current generation, so a key is never reused for a different send, even
// across processes, while a send resumed after a crash repeats exactly the keys it had reached.
//
// One SQLite connection behind a mutex: every method may be called from any thread.

#include "store/sync_store.hpp"

#include <billdrop/decimal.hpp>
#include <billdrop/result.hpp>
#include <billdrop/timestamp.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace billdrop::store {

class SqliteSyncStore final : public Store {
public:
  // Opens (creating when missing) the store; ":memory:" for a private in-memory store.
  static Result<std::unique_ptr<SqliteSyncStore>> open(const std::filesystem::path& file);
  ~SqliteSyncStore() override;
  SqliteSyncStore(const SqliteSyncStore&) = delete;
  SqliteSyncStore& operator=(const SqliteSyncStore&) = delete;

  // How long after it began an interrupted send may still be resumed with its keys. Past it a
  // new generation starts: the API keeps stored responses for a limited time, and a resumed send
  // whose first keys had expired while later ones had not would replay those later chunks onto a
  // month its first chunk had just emptied.
  static constexpr std::chrono::milliseconds kResumeWithin{60 * 60 * 1000};

  // The store's random id, made when the file was created.
  const std::string& store_id() const noexcept override;

  Status record_attempt(const send::Attempt& attempt) override;

  // A send of this plan begins: the month is pending and the plan's chunk marks are cleared. When
  // the month's last send was of the same plan, was never finished (marked synced or failed) and
  // began less than `resume_within` before `now` -- the process died during it -- the send
  // resumes: same generation, and the chunks' key state as last saved. Otherwise the generation
  // moves on by one and the key state starts empty.
  Result<send::SendStart> begin_send(std::string_view connection_id, Month month,
                                     std::string_view plan_digest,
                                     std::chrono::system_clock::time_point now,
                                     std::chrono::milliseconds resume_within);
  Result<send::SendStart> begin_send(
      std::string_view connection_id, Month month, std::string_view plan_digest,
      std::chrono::system_clock::time_point now = std::chrono::system_clock::now()) override {
    return begin_send(connection_id, month, plan_digest, now, kResumeWithin);
  }
  // Saves the key state of chunks of the month's current send (ConnectionSender::KeyStateSaver).
  // Refuses when `generation` is no longer the month's current one.
  Status save_key_state(std::string_view connection_id, Month month,
                        const send::SendGeneration& generation,
                        const std::map<std::uint32_t, send::ChunkKeyState>& chunks) override;
  Status mark_chunk_acknowledged(std::string_view connection_id, Month month,
                                 std::string_view plan_digest, std::uint32_t chunk_index,
                                 std::string_view drop_id,
                                 std::chrono::system_clock::time_point at) override;
  // Refuses (an internal error naming the missing chunks) unless every chunk of `plan` is
  // acknowledged for its digest. Synced or failed, the month's current send is finished.
  Status mark_month_synced(std::string_view connection_id, const plan::DropPlan& plan,
                           std::chrono::system_clock::time_point at) override;
  Status mark_month_failed(std::string_view connection_id, Month month,
                           std::string_view plan_digest, std::string_view error,
                           std::chrono::system_clock::time_point at) override;

  Result<MonthStatus> month_status(std::string_view connection_id, Month month) const override;
  Result<std::vector<Month>> months(std::string_view connection_id) const override;
  Result<std::vector<std::pair<Month, MonthSyncState>>>
  month_states(std::string_view connection_id) const override;
  Result<std::map<std::string, std::vector<std::pair<Month, MonthSyncState>>>>
  all_month_states() const override;
  // In the order they were recorded.
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

  // The schema version this billdrop writes (PRAGMA user_version); older stores are migrated
  // when opened, newer ones refused.
  static constexpr int kSchemaVersion = 3;

private:
  class Impl;
  explicit SqliteSyncStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

} // namespace billdrop::store
