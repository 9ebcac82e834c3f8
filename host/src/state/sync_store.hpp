#pragma once
// billdrop's record of sending, in SQLite (WAL): every attempt, which chunks of which plan were
// acknowledged, and each month's sync state. A month becomes synced only through
// mark_month_synced, which refuses unless every chunk of the plan was acknowledged since the send
// started; any acknowledged chunk puts a synced month back to pending, because from the first
// chunk of a new send until its last the API holds a mix of old and new rows.
//
// One SQLite connection behind a mutex: every method may be called from any thread.

#include "plan/drop_plan.hpp"
#include "send/connection_sender.hpp"

#include <billdrop/decimal.hpp>
#include <billdrop/result.hpp>
#include <billdrop/timestamp.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace billdrop::state {

enum class MonthSyncState {
  unknown, // never sent
  pending, // a send started (or chunks were acknowledged) and has not finished
  synced,  // every chunk of plan_digest acknowledged
  failed,  // the last send gave up or was rejected; `error` says why
};

const char* to_string(MonthSyncState state) noexcept;

struct MonthStatus {
  MonthSyncState state = MonthSyncState::unknown;
  std::string plan_digest; // the plan last started, synced or failed
  std::uint64_t rows = 0;  // when synced: the plan's rows and exact cost
  Decimal cost;
  std::chrono::system_clock::time_point synced_at{}; // when synced
  std::chrono::system_clock::time_point updated_at{};
  std::uint32_t chunks_acknowledged = 0; // of plan_digest, since its send started
  std::string error;                     // when failed
};

class SyncStore {
public:
  // Opens (creating when missing) the store; ":memory:" for a private in-memory store.
  static Result<std::unique_ptr<SyncStore>> open(const std::filesystem::path& file);
  ~SyncStore();
  SyncStore(const SyncStore&) = delete;
  SyncStore& operator=(const SyncStore&) = delete;

  Status record_attempt(const send::Attempt& attempt);

  // A send of this plan begins: the month is pending and the plan's chunk marks are cleared.
  Status mark_month_started(std::string_view connection_id, Month month,
                            std::string_view plan_digest);
  Status mark_chunk_acknowledged(std::string_view connection_id, Month month,
                                 std::string_view plan_digest, std::uint32_t chunk_index,
                                 std::string_view drop_id,
                                 std::chrono::system_clock::time_point at);
  // Refuses (an internal error naming the missing chunks) unless every chunk of `plan` is
  // acknowledged for its digest.
  Status mark_month_synced(std::string_view connection_id, const plan::DropPlan& plan,
                           std::chrono::system_clock::time_point at);
  Status mark_month_failed(std::string_view connection_id, Month month,
                           std::string_view plan_digest, std::string_view error,
                           std::chrono::system_clock::time_point at);

  Result<MonthStatus> month_status(std::string_view connection_id, Month month) const;
  // In the order they were recorded.
  Result<std::vector<send::Attempt>> attempts(std::string_view connection_id, Month month) const;

private:
  class Impl;
  explicit SyncStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

} // namespace billdrop::state
