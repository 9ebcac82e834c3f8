#include "store/sync_store.hpp"

#include "store/postgres/postgres_store.hpp"
#include "store/sqlite/sqlite_sync_store.hpp"

namespace billdrop::store {

const char* to_string(JobState state) noexcept {
  switch (state) {
  case JobState::running:
    return "running";
  case JobState::completed:
    return "completed";
  case JobState::failed:
    return "failed";
  case JobState::interrupted:
    return "interrupted";
  }
  return "running";
}

const char* to_string(MonthSyncState state) noexcept {
  switch (state) {
  case MonthSyncState::unknown:
    return "unknown";
  case MonthSyncState::pending:
    return "pending";
  case MonthSyncState::synced:
    return "synced";
  case MonthSyncState::failed:
    return "failed";
  }
  return "unknown";
}

Result<std::unique_ptr<Store>> open_sync_store(const std::filesystem::path& state_dir) {
  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);
  if (ec)
    return source_error("cannot create the state directory " + state_dir.string() + ": " +
                        ec.message());
  Result<std::unique_ptr<SqliteSyncStore>> opened = SqliteSyncStore::open(state_dir / "sync.db");
  if (!opened)
    return opened.error();
  return std::unique_ptr<Store>(std::move(*opened));
}

Result<std::unique_ptr<Store>> open_store(const StoreOptions& options) {
  if (options.kind == StoreOptions::Kind::sqlite)
    return open_sync_store(options.state_dir);
  Result<std::unique_ptr<PostgresStore>> opened =
      PostgresStore::open(options.url, options.lease_ttl, options.leased, options.serving);
  if (!opened)
    return opened.error();
  return std::unique_ptr<Store>(std::move(*opened));
}

Result<Migration> migrate_store(const StoreOptions& options) {
  if (options.kind == StoreOptions::Kind::sqlite) {
    Result<std::unique_ptr<Store>> opened = open_sync_store(options.state_dir);
    if (!opened)
      return opened.error();
    return Migration{SqliteSyncStore::kSchemaVersion, SqliteSyncStore::kSchemaVersion};
  }
  Result<int> from = PostgresStore::migrate(options.url);
  if (!from)
    return from.error();
  return Migration{*from, PostgresStore::kSchemaVersion};
}

} // namespace billdrop::store
