#pragma once
// The store's interfaces: what the host keeps about sending (the SendJournal the sender writes,
// plus what it reads back: each month's sync state and every attempt). One implementation today,
// store/sqlite (the embedded default, a file in the state directory); the layers above depend on
// these interfaces and open a store through open_sync_store(), never a database themselves.

#include "plan/drop_plan.hpp"
#include "send/connection_sender.hpp"
#include "send/send_journal.hpp"
#include "store/leases.hpp"
#include "store/service_store.hpp"

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
#include <utility>
#include <vector>

namespace billdrop::store {

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

class SyncStore : public send::SendJournal {
public:
  // The store's random id, made when it was created: idempotency keys of two stores never meet.
  virtual const std::string& store_id() const noexcept = 0;
  virtual Result<MonthStatus> month_status(std::string_view connection_id, Month month) const = 0;
  // The months the store knows for the connection (a send began for them), in order.
  virtual Result<std::vector<Month>> months(std::string_view connection_id) const = 0;
  // Every known month's state, in month order: one query, for status views over many
  // connections (month_status also counts acknowledged chunks).
  virtual Result<std::vector<std::pair<Month, MonthSyncState>>>
  month_states(std::string_view connection_id) const = 0;
  // month_states of every connection the store knows, keyed by connection id: one query.
  virtual Result<std::map<std::string, std::vector<std::pair<Month, MonthSyncState>>>>
  all_month_states() const = 0;
  // In the order they were recorded.
  virtual Result<std::vector<send::Attempt>> attempts(std::string_view connection_id,
                                                      Month month) const = 0;
};

// The store of a state directory: what sending records and what the daemon keeps, one database.
class Store : public SyncStore, public ServiceStore {
public:
  // The leases of a store shared by several hosts; nullptr for a single host's store.
  virtual LeaseKeeper* leases() noexcept { return nullptr; }
};

// Opens (creating when missing, migrating an older one) the store of a state directory:
// <state_dir>/sync.db.
Result<std::unique_ptr<Store>> open_sync_store(const std::filesystem::path& state_dir);

// Which store to open: the state directory's SQLite file, or a shared PostgreSQL database.
struct StoreOptions {
  enum class Kind { sqlite, postgres };
  Kind kind = Kind::sqlite;
  std::filesystem::path state_dir; // sqlite: <state_dir>/sync.db
  std::string url;                 // postgres: a libpq connection string (never logged)
  std::chrono::milliseconds lease_ttl{60'000};
  // postgres: leases enabled (the daemon, a one-off sync); without, writes are not fenced
  // (`status`).
  bool leased = false;
  // postgres: a `serve` host, counted among the live hosts that share the connections (a
  // one-off sync takes its connections' leases without being one).
  bool serving = false;
};

Result<std::unique_ptr<Store>> open_store(const StoreOptions& options);

// `billdrop store migrate`: brings the store's schema to this billdrop's version (opening a store
// does too; this does it once, ahead of starting several hosts). The versions before and after.
struct Migration {
  int from = 0;
  int to = 0;
};
Result<Migration> migrate_store(const StoreOptions& options);

} // namespace billdrop::store
