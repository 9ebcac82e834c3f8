#pragma once
// The emulator's state in SQLite: stored rows, one drop record per (connection, month), a log of
// applied requests, and the responses kept for idempotency-key replay. One connection guarded by
// a mutex (SQLite writes are serial anyway); a file store runs in WAL mode so readers such as the
// sqlite3 shell can look while the emulator writes.
//
// A "space" separates namespaces: "" for real calls, "test:<key>" for calls made with a
// cloudzero-test-key. Money is stored as decimal text and summed with Decimal.

#include "cbf/drop_body_reader.hpp"
#include "emulator/emulator.hpp"

#include <billdrop/result.hpp>
#include <billdrop/timestamp.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace billdrop::sqlite {
class Statement;
} // namespace billdrop::sqlite

namespace billdrop::emulator {

struct MonthLimits {
  std::uint64_t max_rows = 0;
  std::uint64_t max_bytes = 0; // of the rows' canonical JSON
};

struct DropRecord {
  std::string drop_id; // of the last request applied to the month
  Month month;
  std::uint64_t row_count = 0;  // rows stored for the month
  std::uint64_t json_bytes = 0; // their JSON bytes
};

struct ApplyResult {
  bool applied = false;
  DropRecord drop;     // the month after the request (before it, when not applied)
  std::string refusal; // why nothing was applied (a month cap)
};

struct ResponseKey {
  std::string space;
  std::string method;
  std::string path;
  std::string key;
};

struct StoredResponse {
  int status = 0;
  std::string body;
};

using StoreTime = std::chrono::system_clock::time_point;

// How long things last (EmulatorOptions holds the settings).
struct Expiry {
  std::chrono::milliseconds test_namespace_ttl{std::chrono::hours(1)};
  std::chrono::milliseconds idempotency_ttl{std::chrono::hours(24)};
};

class EmulatorStore {
public:
  static Result<std::unique_ptr<EmulatorStore>> open(const std::filesystem::path& file,
                                                     Expiry expiry = {});
  ~EmulatorStore();
  EmulatorStore(const EmulatorStore&) = delete;
  EmulatorStore& operator=(const EmulatorStore&) = delete;

  // Applies one request atomically: replace_drop replaces the month, replace_hourly the hours the
  // rows cover, sum appends. When the month would then exceed a limit, stores nothing and says why.
  Result<ApplyResult> apply(std::string_view space, std::string_view connection, Month month,
                            cbf::DropOperation operation, const std::vector<StoredRow>& rows,
                            const MonthLimits& limits);

  // One record per month with a drop, in month order.
  Result<std::vector<DropRecord>> drops(std::string_view space, std::string_view connection);

  // The month's rows as a JSON array, in hour order and arrival order within an hour; nullopt
  // when no row is stored.
  Result<std::optional<std::string>> month_rows(std::string_view space, std::string_view connection,
                                                Month month);

  Result<MonthState> month_state(std::string_view space, std::string_view connection, Month month);

  // The response stored for the key less than the idempotency TTL before `now`.
  Result<std::optional<StoredResponse>> find_response(const ResponseKey& key, StoreTime now);
  // Keeps the first response stored for a key; later ones are ignored until it expires.
  Status remember_response(const ResponseKey& key, const StoredResponse& response, StoreTime now);

  // A request in `space` arrives at `now`. A test namespace ("test:<key>") is purged -- rows,
  // drops, log and stored responses -- once its TTL has passed since its first request, and
  // starts again with this one. Also forgets, now and then, every stored response and test
  // namespace that has expired, so the file does not keep them.
  Status arrive(std::string_view space, StoreTime now);

private:
  EmulatorStore(sqlite3* db, Expiry expiry);
  Status create_schema();
  Status purge_space(std::string_view space);
  Status purge_expired(StoreTime now);
  // Runs `sql` (prepared for this use) with `bind` applied; rows it returns are ignored.
  template <class Bind>
  Status run(const char* sql, Bind bind);
  Status prepare_all();
  Result<std::int64_t> query_integer(const char* sql);
  Error sqlite_error(std::string_view what) const;
  Status exec(const char* sql);

  sqlite3* db_;
  Expiry expiry_;
  StoreTime next_purge_{}; // when purge_expired runs next (guarded by mutex_)
  std::mutex mutex_;
  std::vector<std::unique_ptr<sqlite::Statement>> statements_; // owns the prepared statements below
  sqlite::Statement* select_drop_ = nullptr;
  sqlite::Statement* insert_drop_ = nullptr;
  sqlite::Statement* count_hour_ = nullptr;
  sqlite::Statement* delete_month_ = nullptr;
  sqlite::Statement* delete_hour_ = nullptr;
  sqlite::Statement* insert_row_ = nullptr;
  sqlite::Statement* insert_log_ = nullptr;
  sqlite::Statement* update_drop_ = nullptr;
  sqlite::Statement* select_drops_ = nullptr;
  sqlite::Statement* select_rows_ = nullptr;
  sqlite::Statement* select_costs_ = nullptr;
  sqlite::Statement* select_response_ = nullptr;
  sqlite::Statement* insert_response_ = nullptr;
};

// A UUID-shaped drop id, unique for each sequence number (a bijective mix of it).
std::string drop_id_for(std::uint64_t sequence);

} // namespace billdrop::emulator
