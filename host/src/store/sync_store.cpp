#include "store/sync_store.hpp"

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

} // namespace billdrop::store
