// The store's schema versions: a store written by the release before versioning (user_version 0,
// the send tables only) is migrated when opened and keeps every row; a store from a newer billdrop
// is refused; the service tables (jobs, connection state) work after the migration.
#include "store/sqlite/sqlite_sync_store.hpp"

#include "support/temp_folder.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

namespace billdrop::store {
namespace {

class StoreMigrationTest : public test::TempFolderTest {
protected:
  void exec(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ / "sync.db").c_str(), &db), SQLITE_OK);
    char* message = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message), SQLITE_OK)
        << (message ? message : "");
    sqlite3_free(message);
    sqlite3_close(db);
  }
  int user_version() {
    sqlite3* db = nullptr;
    sqlite3_open((dir_ / "sync.db").c_str(), &db);
    sqlite3_stmt* stmt = nullptr;
    sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, nullptr);
    sqlite3_step(stmt);
    const int version = sqlite3_column_int(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return version;
  }
};

// The tables exactly as the release before schema versions created them (user_version 0).
constexpr const char* kReleaseSchema = R"sql(
CREATE TABLE send_attempts (seq INTEGER PRIMARY KEY AUTOINCREMENT, connection_id TEXT NOT NULL,
  month TEXT NOT NULL, plan_digest TEXT NOT NULL, chunk_index INTEGER NOT NULL,
  attempt INTEGER NOT NULL, operation TEXT NOT NULL, idempotency_key TEXT NOT NULL,
  outcome TEXT NOT NULL, http_status INTEGER NOT NULL, message TEXT NOT NULL,
  drop_id TEXT NOT NULL, started_ms INTEGER NOT NULL, duration_ms INTEGER NOT NULL);
CREATE INDEX send_attempts_by_month ON send_attempts (connection_id, month, seq);
CREATE TABLE chunk_status (connection_id TEXT NOT NULL, month TEXT NOT NULL,
  plan_digest TEXT NOT NULL, chunk_index INTEGER NOT NULL, drop_id TEXT NOT NULL,
  acknowledged_ms INTEGER NOT NULL, PRIMARY KEY (connection_id, month, plan_digest, chunk_index));
CREATE TABLE month_sync (connection_id TEXT NOT NULL, month TEXT NOT NULL, state TEXT NOT NULL,
  plan_digest TEXT NOT NULL, rows INTEGER NOT NULL DEFAULT 0, cost TEXT NOT NULL DEFAULT '0',
  synced_ms INTEGER NOT NULL DEFAULT 0, updated_ms INTEGER NOT NULL,
  error TEXT NOT NULL DEFAULT '', PRIMARY KEY (connection_id, month));
CREATE TABLE store_info (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE month_sends (connection_id TEXT NOT NULL, month TEXT NOT NULL,
  generation INTEGER NOT NULL, plan_digest TEXT NOT NULL, started_ms INTEGER NOT NULL,
  finished INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (connection_id, month));
CREATE TABLE chunk_keys (connection_id TEXT NOT NULL, month TEXT NOT NULL,
  generation INTEGER NOT NULL, chunk_index INTEGER NOT NULL, restarts INTEGER NOT NULL,
  answered_errors INTEGER NOT NULL, PRIMARY KEY (connection_id, month, generation, chunk_index));
INSERT INTO store_info VALUES ('store_id', 'feedfacefeedfacefeedfacefeedface');
INSERT INTO month_sync VALUES ('acme', '2026-08', 'synced', 'digest-1', 4599,
  '14033.03195153', 1777000000000, 1777000000000, '');
INSERT INTO month_sends VALUES ('acme', '2026-08', 3, 'digest-1', 1777000000000, 1);
)sql";

TEST_F(StoreMigrationTest, AStoreOfTheReleaseBeforeVersionsIsMigratedAndKeepsItsRows) {
  exec(kReleaseSchema);
  ASSERT_EQ(user_version(), 0);
  Result<std::unique_ptr<SqliteSyncStore>> store = SqliteSyncStore::open(dir_ / "sync.db");
  ASSERT_TRUE(store.ok()) << store.error().message();
  EXPECT_EQ(user_version(), SqliteSyncStore::kSchemaVersion);
  EXPECT_EQ((*store)->store_id(), "feedfacefeedfacefeedfacefeedface");
  Result<MonthStatus> status = (*store)->month_status("acme", Month(2026, 8));
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->state, MonthSyncState::synced);
  EXPECT_EQ(status->rows, 4599u);
  EXPECT_EQ(status->cost.to_string(), "14033.03195153");
  // The next send of the month is generation 4: the old generations are kept.
  Result<send::SendStart> next = (*store)->begin_send("acme", Month(2026, 8), "digest-2");
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->generation.number, 4u);
  // The new tables work.
  Result<std::string> job = (*store)->begin_job("sync", "acme");
  ASSERT_TRUE(job.ok()) << job.error().message();
  ConnectionRecord record;
  record.connection = "acme";
  record.months_backfilled = 13;
  record.backfilled = true;
  ASSERT_TRUE((*store)->save_connection(record).ok());
  Result<ConnectionRecord> read = (*store)->connection("acme");
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->months_backfilled, 13u);
  EXPECT_TRUE(read->backfilled);
}

TEST_F(StoreMigrationTest, OpeningAgainChangesNothing) {
  {
    Result<std::unique_ptr<SqliteSyncStore>> store = SqliteSyncStore::open(dir_ / "sync.db");
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->begin_job("verify", "").ok());
  }
  Result<std::unique_ptr<SqliteSyncStore>> again = SqliteSyncStore::open(dir_ / "sync.db");
  ASSERT_TRUE(again.ok()) << again.error().message();
  Result<std::vector<JobRecord>> jobs = (*again)->jobs("verify");
  ASSERT_TRUE(jobs.ok());
  EXPECT_EQ(jobs->size(), 1u);
}

TEST_F(StoreMigrationTest, AStoreOfANewerBilldropIsRefused) {
  exec("PRAGMA user_version = 99");
  Result<std::unique_ptr<SqliteSyncStore>> store = SqliteSyncStore::open(dir_ / "sync.db");
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.error().message().find("schema version 99, written by a newer billdrop"),
            std::string::npos)
      << store.error().message();
}

TEST_F(StoreMigrationTest, JobsOfADeadProcessAreInterruptedAtStartUp) {
  Result<std::unique_ptr<SqliteSyncStore>> store = SqliteSyncStore::open(dir_ / "sync.db");
  ASSERT_TRUE(store.ok());
  Result<std::string> job = (*store)->begin_job("sync", "acme");
  ASSERT_TRUE(job.ok());
  // A job of a process that no longer exists (pid 2^22 + 1 is above Linux's pid_max default).
  exec("INSERT INTO sync_jobs (id, kind, connection, state, started_ms, pid) VALUES "
       "('job_dead', 'sync', 'other', 'running', 1, 4194305)");
  Result<std::size_t> interrupted = (*store)->interrupt_orphaned_jobs();
  ASSERT_TRUE(interrupted.ok());
  EXPECT_EQ(*interrupted, 2u); // ours (the process is starting up) and the dead one
  Result<std::optional<JobRecord>> dead = (*store)->job("job_dead");
  ASSERT_TRUE(dead.ok() && dead->has_value());
  EXPECT_EQ((*dead)->state, JobState::interrupted);
  EXPECT_NE((*dead)->message.find("pid 4194305"), std::string::npos);
}

} // namespace
} // namespace billdrop::store
