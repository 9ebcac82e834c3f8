// The sync store: attempts round-trip with every field, chunk marks, and a month is synced only
// after every chunk of its plan was acknowledged (never after a failed send). Every test of the
// store's behaviour runs against both stores: SQLite and PostgreSQL (the tests' cluster).
#include "store/postgres/postgres_store.hpp"
#include "store/sqlite/sqlite_sync_store.hpp"
#include "support/postgres_cluster.hpp"
#include "support/temp_folder.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <fstream>

namespace billdrop::store {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using SystemTime = std::chrono::system_clock::time_point;

enum class Backend { sqlite, postgres };

std::string backend_name(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::sqlite ? "sqlite" : "postgres";
}

static_assert(SqliteSyncStore::kResumeWithin == PostgresStore::kResumeWithin);

// The same tests on either store: open() opens the test's store (again: the same file or
// database), open_other() another store.
class SyncStoreTest : public test::TempFolderTest, public ::testing::WithParamInterface<Backend> {
protected:
  std::unique_ptr<Store> open() { return open_at(dir_ / "state.db", database()); }
  std::unique_ptr<Store> open_other() {
    if (other_url_.empty() && GetParam() == Backend::postgres)
      other_url_ = test::PostgresCluster::shared().create_database();
    return open_at(dir_ / "other.db", other_url_);
  }

private:
  const std::string& database() {
    if (url_.empty() && GetParam() == Backend::postgres)
      url_ = test::PostgresCluster::shared().create_database();
    return url_;
  }
  std::unique_ptr<Store> open_at(const fs::path& file, const std::string& url) {
    if (GetParam() == Backend::sqlite) {
      Result<std::unique_ptr<SqliteSyncStore>> store = SqliteSyncStore::open(file);
      EXPECT_TRUE(store.ok()) << store.error().message();
      return std::move(store).value();
    }
    Result<std::unique_ptr<PostgresStore>> store =
        PostgresStore::open(url, std::chrono::seconds(60), false);
    EXPECT_TRUE(store.ok()) << store.error().message();
    return std::move(store).value();
  }
  std::string url_, other_url_;
};

INSTANTIATE_TEST_SUITE_P(Stores, SyncStoreTest,
                         ::testing::Values(Backend::sqlite, Backend::postgres), backend_name);

// What only the SQLite store has: its file.
class SqliteStoreTest : public test::TempFolderTest {
protected:
  std::unique_ptr<SqliteSyncStore> open() {
    Result<std::unique_ptr<SqliteSyncStore>> store = SqliteSyncStore::open(dir_ / "state.db");
    EXPECT_TRUE(store.ok()) << store.error().message();
    return std::move(store).value();
  }
};

// A plan of `chunks` chunks; the store reads only month, digest, rows, cost and the chunk count.
plan::DropPlan make_plan(std::size_t chunks, std::string digest = "digest-a") {
  plan::DropPlan plan;
  plan.month = Month(2026, 8);
  plan.digest = std::move(digest);
  plan.rows = 1234;
  plan.cost = Decimal::from_string("98765.4321");
  plan.chunks.resize(chunks);
  for (std::size_t i = 0; i < chunks; ++i)
    plan.chunks[i].index = static_cast<std::uint32_t>(i);
  return plan;
}

const SystemTime kAt = SystemTime(milliseconds(1'786'000'000'123));

send::Attempt sample_attempt(std::uint32_t chunk, std::uint32_t number) {
  send::Attempt attempt;
  attempt.connection_id = "acme";
  attempt.month = Month(2026, 8);
  attempt.plan_digest = "digest-a";
  attempt.chunk_index = chunk;
  attempt.attempt = number;
  attempt.operation = chunk == 0 ? cbf::DropOperation::replace_drop : cbf::DropOperation::sum;
  attempt.idempotency_key = "key-" + std::to_string(chunk) + "-r" + std::to_string(number);
  attempt.outcome = number == 1 ? send::Outcome::retryable : send::Outcome::acknowledged;
  attempt.http_status = number == 1 ? 503 : 200;
  attempt.message = number == 1 ? "busy, it's \"late\"" : "";
  attempt.drop_id = number == 1 ? "" : "drop-9";
  attempt.started = kAt + milliseconds(chunk * 1000 + number);
  attempt.duration = milliseconds(250 + chunk);
  return attempt;
}

TEST_F(SqliteStoreTest, RunsInWalMode) {
  { auto store = open(); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "state.db").c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "wal");
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

TEST_P(SyncStoreTest, AttemptsRoundTripWithEveryField) {
  auto store = open();
  const std::vector<send::Attempt> written{sample_attempt(0, 1), sample_attempt(0, 2),
                                           sample_attempt(1, 1)};
  for (const send::Attempt& attempt : written)
    ASSERT_TRUE(store->record_attempt(attempt).ok());
  send::Attempt elsewhere = sample_attempt(0, 1);
  elsewhere.connection_id = "other";
  ASSERT_TRUE(store->record_attempt(elsewhere).ok());
  send::Attempt later = sample_attempt(0, 1);
  later.month = Month(2026, 9);
  ASSERT_TRUE(store->record_attempt(later).ok());

  Result<std::vector<send::Attempt>> read = store->attempts("acme", Month(2026, 8));
  ASSERT_TRUE(read.ok()) << read.error().message();
  ASSERT_EQ(read->size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    const send::Attempt& a = (*read)[i];
    const send::Attempt& b = written[i];
    EXPECT_EQ(a.connection_id, b.connection_id);
    EXPECT_EQ(a.month, b.month);
    EXPECT_EQ(a.plan_digest, b.plan_digest);
    EXPECT_EQ(a.chunk_index, b.chunk_index);
    EXPECT_EQ(a.attempt, b.attempt);
    EXPECT_EQ(a.operation, b.operation);
    EXPECT_EQ(a.idempotency_key, b.idempotency_key);
    EXPECT_EQ(a.outcome, b.outcome);
    EXPECT_EQ(a.http_status, b.http_status);
    EXPECT_EQ(a.message, b.message);
    EXPECT_EQ(a.drop_id, b.drop_id);
    EXPECT_EQ(a.started, b.started); // whole milliseconds survive exactly
    EXPECT_EQ(a.duration, b.duration);
  }
  EXPECT_EQ(store->attempts("other", Month(2026, 8))->size(), 1u);
  EXPECT_EQ(store->attempts("acme", Month(2026, 9))->size(), 1u);
  EXPECT_TRUE(store->attempts("nobody", Month(2026, 8))->empty());
}

TEST_P(SyncStoreTest, AMonthIsSyncedOnlyAfterEveryChunkIsAcknowledged) {
  auto store = open();
  const plan::DropPlan plan = make_plan(3);
  EXPECT_EQ(store->month_status("acme", plan.month)->state, MonthSyncState::unknown);

  ASSERT_TRUE(store->begin_send("acme", plan.month, plan.digest).ok());
  EXPECT_EQ(store->month_status("acme", plan.month)->state, MonthSyncState::pending);
  ASSERT_TRUE(store->mark_chunk_acknowledged("acme", plan.month, plan.digest, 0, "d0", kAt).ok());
  ASSERT_TRUE(store->mark_chunk_acknowledged("acme", plan.month, plan.digest, 2, "d2", kAt).ok());

  // Chunk 1 is missing: refused, and the month stays pending.
  const Status early = store->mark_month_synced("acme", plan, kAt);
  ASSERT_FALSE(early.ok());
  EXPECT_NE(early.error().message().find("1 of 3 chunks"), std::string::npos)
      << early.error().message();
  EXPECT_NE(early.error().message().find("(chunk 1)"), std::string::npos)
      << early.error().message();
  Result<MonthStatus> pending = store->month_status("acme", plan.month);
  EXPECT_EQ(pending->state, MonthSyncState::pending);
  EXPECT_EQ(pending->chunks_acknowledged, 2u);

  ASSERT_TRUE(store->mark_chunk_acknowledged("acme", plan.month, plan.digest, 1, "d1", kAt).ok());
  ASSERT_TRUE(store->mark_month_synced("acme", plan, kAt + milliseconds(5)).ok());
  Result<MonthStatus> synced = store->month_status("acme", plan.month);
  ASSERT_TRUE(synced.ok());
  EXPECT_EQ(synced->state, MonthSyncState::synced);
  EXPECT_EQ(synced->plan_digest, "digest-a");
  EXPECT_EQ(synced->rows, 1234u);
  EXPECT_EQ(synced->cost, Decimal::from_string("98765.4321"));
  EXPECT_EQ(synced->cost.to_string(), "98765.4321");
  EXPECT_EQ(synced->synced_at, kAt + milliseconds(5));
  EXPECT_EQ(synced->chunks_acknowledged, 3u);
  EXPECT_EQ(synced->error, "");
  // Another connection's month is untouched.
  EXPECT_EQ(store->month_status("other", plan.month)->state, MonthSyncState::unknown);
}

TEST_P(SyncStoreTest, ANewSendMakesASyncedMonthPendingUntilItsLastChunk) {
  auto store = open();
  const plan::DropPlan first = make_plan(1, "digest-a");
  ASSERT_TRUE(store->begin_send("acme", first.month, first.digest).ok());
  ASSERT_TRUE(store->mark_chunk_acknowledged("acme", first.month, first.digest, 0, "d", kAt).ok());
  ASSERT_TRUE(store->mark_month_synced("acme", first, kAt).ok());

  // The same plan sent again: its old chunk marks do not count for the new send.
  ASSERT_TRUE(store->begin_send("acme", first.month, first.digest).ok());
  EXPECT_EQ(store->month_status("acme", first.month)->state, MonthSyncState::pending);
  EXPECT_FALSE(store->mark_month_synced("acme", first, kAt).ok());

  // A chunk acknowledged for a new plan (whatever the caller did before) also means pending.
  const plan::DropPlan second = make_plan(2, "digest-b");
  ASSERT_TRUE(
      store->mark_chunk_acknowledged("acme", second.month, second.digest, 0, "d", kAt).ok());
  Result<MonthStatus> status = store->month_status("acme", second.month);
  EXPECT_EQ(status->state, MonthSyncState::pending);
  EXPECT_EQ(status->plan_digest, "digest-b");
  EXPECT_EQ(status->chunks_acknowledged, 1u);
}

TEST_P(SyncStoreTest, AFailedSendNeverMarksTheMonthSynced) {
  auto store = open();
  const plan::DropPlan plan = make_plan(3);
  ASSERT_TRUE(store->begin_send("acme", plan.month, plan.digest).ok());
  ASSERT_TRUE(store->mark_chunk_acknowledged("acme", plan.month, plan.digest, 0, "d", kAt).ok());
  ASSERT_TRUE(store->mark_chunk_acknowledged("acme", plan.month, plan.digest, 1, "d", kAt).ok());
  ASSERT_TRUE(store
                  ->mark_month_failed("acme", plan.month, plan.digest,
                                      "2026-08 chunk 3 of 3 was rejected (HTTP 400: bad row)", kAt)
                  .ok());
  EXPECT_FALSE(store->mark_month_synced("acme", plan, kAt).ok());
  Result<MonthStatus> status = store->month_status("acme", plan.month);
  EXPECT_EQ(status->state, MonthSyncState::failed);
  EXPECT_EQ(status->error, "2026-08 chunk 3 of 3 was rejected (HTTP 400: bad row)");
  EXPECT_EQ(status->chunks_acknowledged, 2u);
  EXPECT_EQ(status->rows, 0u);
}

TEST_P(SyncStoreTest, SurvivesReopening) {
  const plan::DropPlan plan = make_plan(1);
  {
    auto store = open();
    ASSERT_TRUE(store->record_attempt(sample_attempt(0, 2)).ok());
    ASSERT_TRUE(store->begin_send("acme", plan.month, plan.digest).ok());
    ASSERT_TRUE(store->mark_chunk_acknowledged("acme", plan.month, plan.digest, 0, "d", kAt).ok());
    ASSERT_TRUE(store->mark_month_synced("acme", plan, kAt).ok());
  }
  auto store = open();
  EXPECT_EQ(store->month_status("acme", plan.month)->state, MonthSyncState::synced);
  EXPECT_EQ(store->attempts("acme", plan.month)->size(), 1u);
}

TEST_P(SyncStoreTest, EachNewSendOfAMonthIsANewGenerationOfAStableStore) {
  std::string id;
  const plan::DropPlan a = make_plan(2, "digest-a");
  const plan::DropPlan b = make_plan(2, "digest-b");
  {
    auto store = open();
    id = store->store_id();
    EXPECT_EQ(id.size(), 32u);
    EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
    // A, then B, then A again: three sends, three generations, whatever the plans.
    Result<send::SendStart> first = store->begin_send("acme", a.month, a.digest, kAt);
    ASSERT_TRUE(first.ok()) << first.error().message();
    EXPECT_EQ(first->generation.number, 1u);
    EXPECT_EQ(first->generation.store_id, id);
    EXPECT_FALSE(first->resumed);
    ASSERT_TRUE(store->mark_month_failed("acme", a.month, a.digest, "gave up", kAt).ok());
    Result<send::SendStart> second = store->begin_send("acme", b.month, b.digest, kAt);
    EXPECT_EQ(second->generation.number, 2u);
    ASSERT_TRUE(store->mark_chunk_acknowledged("acme", b.month, b.digest, 0, "d", kAt).ok());
    ASSERT_TRUE(store->mark_chunk_acknowledged("acme", b.month, b.digest, 1, "d", kAt).ok());
    ASSERT_TRUE(store->mark_month_synced("acme", b, kAt).ok());
    Result<send::SendStart> third = store->begin_send("acme", a.month, a.digest, kAt);
    EXPECT_EQ(third->generation.number, 3u);
    EXPECT_FALSE(third->resumed);
    // Generations count per connection and month.
    EXPECT_EQ(store->begin_send("other", a.month, a.digest, kAt)->generation.number, 1u);
    EXPECT_EQ(store->begin_send("acme", Month(2026, 9), a.digest, kAt)->generation.number, 1u);
  }
  // Reopened (another process): the same id, and the count goes on.
  auto store = open();
  EXPECT_EQ(store->store_id(), id);
  ASSERT_TRUE(store->mark_month_failed("acme", a.month, a.digest, "x", kAt).ok());
  EXPECT_EQ(store->begin_send("acme", a.month, a.digest, kAt)->generation.number, 4u);
  // Another file is another store.
  EXPECT_NE(open_other()->store_id(), id);
}

TEST_P(SyncStoreTest, AnInterruptedSendOfTheSamePlanResumesWithItsKeyState) {
  const plan::DropPlan a = make_plan(4, "digest-a");
  send::SendGeneration generation;
  {
    auto store = open();
    Result<send::SendStart> started = store->begin_send("acme", a.month, a.digest, kAt);
    ASSERT_TRUE(started.ok());
    generation = started->generation;
    ASSERT_TRUE(
        store->save_key_state("acme", a.month, generation, {{1, {0, 2}}, {2, {1, 0}}}).ok());
    ASSERT_TRUE(
        store->save_key_state("acme", a.month, generation, {{2, {2, 0}}, {3, {2, 1}}}).ok());
    ASSERT_TRUE(store->mark_chunk_acknowledged("acme", a.month, a.digest, 0, "d", kAt).ok());
    // The process dies here: neither synced nor failed.
  }
  auto store = open();
  Result<send::SendStart> resumed =
      store->begin_send("acme", a.month, a.digest, kAt + std::chrono::minutes(10));
  ASSERT_TRUE(resumed.ok()) << resumed.error().message();
  EXPECT_TRUE(resumed->resumed);
  EXPECT_EQ(resumed->generation.number, generation.number);
  EXPECT_EQ(resumed->generation.store_id, generation.store_id);
  const std::map<std::uint32_t, send::ChunkKeyState> expected{
      {1, {0, 2}}, {2, {2, 0}}, {3, {2, 1}}};
  EXPECT_EQ(resumed->chunks, expected);
  // Resuming clears the chunk marks like any send: every chunk must be acknowledged again.
  EXPECT_EQ(store->month_status("acme", a.month)->chunks_acknowledged, 0u);
  EXPECT_EQ(store->month_status("acme", a.month)->state, MonthSyncState::pending);

  // Interrupted again, then resumed past the window: a new generation with no key state.
  Result<send::SendStart> late = store->begin_send(
      "acme", a.month, a.digest, kAt + SqliteSyncStore::kResumeWithin + std::chrono::minutes(1));
  EXPECT_FALSE(late->resumed);
  EXPECT_EQ(late->generation.number, generation.number + 1);
  EXPECT_TRUE(late->chunks.empty());
  // The old generation's key state can no longer be saved.
  EXPECT_FALSE(store->save_key_state("acme", a.month, generation, {{1, {5, 0}}}).ok());

  // An interrupted send of another plan is not resumed either.
  const plan::DropPlan b = make_plan(4, "digest-b");
  Result<send::SendStart> other = store->begin_send(
      "acme", b.month, b.digest, kAt + SqliteSyncStore::kResumeWithin + std::chrono::minutes(2));
  EXPECT_FALSE(other->resumed);
  EXPECT_EQ(other->generation.number, generation.number + 2);
}

TEST_F(SqliteStoreTest, KeyStateIsInTheSqliteFile) {
  // Read back with plain SQLite, not through the store.
  const plan::DropPlan a = make_plan(2, "digest-a");
  {
    auto store = open();
    Result<send::SendStart> started = store->begin_send("acme", a.month, a.digest, kAt);
    ASSERT_TRUE(started.ok());
    ASSERT_TRUE(store->save_key_state("acme", a.month, started->generation, {{1, {3, 1}}}).ok());
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "state.db").c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db,
                               "SELECT s.generation, k.chunk_index, k.restarts, k.answered_errors "
                               "FROM month_sends s JOIN chunk_keys k ON k.connection_id = "
                               "s.connection_id AND k.month = s.month AND k.generation = "
                               "s.generation WHERE s.connection_id = 'acme' AND s.month = "
                               "'2026-08'",
                               -1, &stmt, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int64(stmt, 0), 1);
  EXPECT_EQ(sqlite3_column_int64(stmt, 1), 1);
  EXPECT_EQ(sqlite3_column_int64(stmt, 2), 3);
  EXPECT_EQ(sqlite3_column_int64(stmt, 3), 1);
  EXPECT_EQ(sqlite3_step(stmt), SQLITE_DONE);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

TEST_F(SqliteStoreTest, AnUnopenablePathIsAConfigError) {
  std::ofstream(dir_ / "file") << "x";
  Result<std::unique_ptr<SqliteSyncStore>> store =
      SqliteSyncStore::open(dir_ / "file" / "state.db");
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().kind(), ErrorKind::config);
  EXPECT_NE(store.error().message().find("state.db"), std::string::npos);
}

} // namespace
} // namespace billdrop::store

namespace billdrop::store {
namespace {

// The batch reads sync-status uses answer what the per-connection reads answer.
TEST_P(SyncStoreTest, BatchReadsMatchThePerConnectionReads) {
  auto store = open();
  const plan::DropPlan plan = make_plan(1);
  // acme: 2026-08 synced, 2026-09 pending; beta: 2026-08 pending; gamma: nothing sent.
  ASSERT_TRUE(store->begin_send("acme", plan.month, plan.digest).ok());
  ASSERT_TRUE(store->mark_chunk_acknowledged("acme", plan.month, plan.digest, 0, "d0", kAt).ok());
  ASSERT_TRUE(store->mark_month_synced("acme", plan, kAt).ok());
  ASSERT_TRUE(store->begin_send("acme", Month(2026, 9), "digest-b").ok());
  ASSERT_TRUE(store->begin_send("beta", plan.month, plan.digest).ok());
  ConnectionRecord acme;
  acme.connection = "acme";
  acme.last_run = kAt;
  acme.last_success = kAt + milliseconds(7);
  acme.months_backfilled = 2;
  acme.cursor = "c-1";
  ASSERT_TRUE(store->save_connection(acme).ok());
  ConnectionRecord beta;
  beta.connection = "beta";
  beta.last_error_at = kAt;
  beta.last_error = "it broke";
  ASSERT_TRUE(store->save_connection(beta).ok());

  Result<std::map<std::string, std::vector<std::pair<Month, MonthSyncState>>>> all =
      store->all_month_states();
  ASSERT_TRUE(all.ok()) << all.error().message();
  const std::vector<std::pair<Month, MonthSyncState>> acme_months = {
      {Month(2026, 8), MonthSyncState::synced}, {Month(2026, 9), MonthSyncState::pending}};
  const std::vector<std::pair<Month, MonthSyncState>> beta_months = {
      {Month(2026, 8), MonthSyncState::pending}};
  EXPECT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)["acme"], acme_months);
  EXPECT_EQ((*all)["beta"], beta_months);
  EXPECT_EQ(*store->month_states("acme"), acme_months);
  EXPECT_EQ(*store->month_states("beta"), beta_months);
  EXPECT_TRUE(store->month_states("gamma")->empty());

  Result<std::vector<ConnectionRecord>> records = store->connections();
  ASSERT_TRUE(records.ok()) << records.error().message();
  ASSERT_EQ(records->size(), 2u);
  EXPECT_EQ((*records)[0].connection, "acme");
  EXPECT_EQ((*records)[0].last_success, kAt + milliseconds(7));
  EXPECT_EQ((*records)[0].months_backfilled, 2u);
  EXPECT_EQ((*records)[0].cursor, "c-1");
  EXPECT_EQ((*records)[1].connection, "beta");
  EXPECT_EQ((*records)[1].last_error, "it broke");
  EXPECT_EQ((*records)[1].last_error_at, kAt);
  EXPECT_EQ(store->connection("beta")->last_error, "it broke");
  EXPECT_EQ(store->connection("gamma")->last_run, SystemTime{});
}

// Run requests: asked once, pending until a run marks them done with its job, read back from
// another opening of the store (another host) exactly as written.
TEST_P(SyncStoreTest, RunRequestsArePendingUntilARunMarksThemDone) {
  auto asker = open();
  auto runner = open(); // the same store, as another host (or a later process) sees it
  const SystemTime before = std::chrono::system_clock::now() - std::chrono::seconds(1);
  Result<std::vector<std::string>> ids = asker->request_runs({"acme", "globex", "acme"}, "job_v");
  ASSERT_TRUE(ids.ok()) << ids.error().message();
  ASSERT_EQ(ids->size(), 3u);
  EXPECT_NE((*ids)[0], (*ids)[1]);
  EXPECT_NE((*ids)[0], (*ids)[2]);

  Result<std::vector<RunRequest>> all = runner->pending_runs();
  ASSERT_TRUE(all.ok()) << all.error().message();
  ASSERT_EQ(all->size(), 3u);
  // Oldest first, every field as asked.
  EXPECT_EQ((*all)[0].id, (*ids)[0]);
  EXPECT_EQ((*all)[0].connection, "acme");
  EXPECT_EQ((*all)[1].connection, "globex");
  EXPECT_EQ((*all)[2].id, (*ids)[2]);
  for (const RunRequest& request : *all) {
    EXPECT_EQ(request.parent, "job_v");
    EXPECT_FALSE(request.done);
    EXPECT_GE(request.requested, before);
    EXPECT_EQ(request.done_at, SystemTime{});
    EXPECT_EQ(request.job, "");
  }
  Result<std::vector<RunRequest>> acme = runner->pending_runs({"acme"});
  ASSERT_TRUE(acme.ok());
  ASSERT_EQ(acme->size(), 2u);
  EXPECT_EQ((*acme)[0].id, (*ids)[0]);
  EXPECT_EQ((*acme)[1].id, (*ids)[2]);
  EXPECT_TRUE(runner->pending_runs({"initech"})->empty());

  // A run of acme carries out the two requests it found pending; a later one stays pending.
  Result<std::vector<std::string>> later = asker->request_runs({"acme"});
  ASSERT_TRUE(later.ok());
  ASSERT_TRUE(runner->finish_runs("acme", {(*ids)[0], (*ids)[2]}, "job_s1").ok());
  // A request of another connection is not marked by acme's run.
  ASSERT_TRUE(runner->finish_runs("acme", {(*ids)[1]}, "job_s1").ok());
  Result<std::vector<RunRequest>> pending = asker->pending_runs();
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 2u);
  EXPECT_EQ((*pending)[0].id, (*ids)[1]);
  EXPECT_EQ((*pending)[1].id, (*later)[0]);
  EXPECT_EQ((*pending)[1].parent, "");

  Result<std::vector<RunRequest>> read = asker->run_requests({(*ids)[2], "run_unknown", (*ids)[1]});
  ASSERT_TRUE(read.ok()) << read.error().message();
  ASSERT_EQ(read->size(), 2u); // the unknown id is left out
  const auto find = [&](const std::string& id) {
    return *std::find_if(read->begin(), read->end(),
                         [&](const RunRequest& r) { return r.id == id; });
  };
  const RunRequest done = find((*ids)[2]);
  EXPECT_TRUE(done.done);
  EXPECT_EQ(done.job, "job_s1");
  EXPECT_GE(done.done_at, done.requested);
  EXPECT_FALSE(find((*ids)[1]).done);

  // Marking again (a second run) keeps the first run's job.
  ASSERT_TRUE(runner->finish_runs("acme", {(*ids)[0]}, "job_s2").ok());
  EXPECT_EQ(asker->run_requests({(*ids)[0]})->at(0).job, "job_s1");
  // Survives reopening.
  runner.reset();
  asker.reset();
  auto reopened = open();
  EXPECT_EQ(reopened->pending_runs()->size(), 2u);
  EXPECT_TRUE(reopened->run_requests({(*ids)[0]})->at(0).done);
}

} // namespace
} // namespace billdrop::store
