#include "store/sqlite/sqlite_sync_store.hpp"

#include "core/numbers.hpp"
#include "core/sqlite_statement.hpp"

#include <cerrno>
#include <iterator>
#include <map>
#include <mutex>
#include <set>

#include <signal.h>
#include <unistd.h>

namespace billdrop::store {

using sqlite::Statement;
using sqlite::StatementUse;

namespace {

using SystemTime = std::chrono::system_clock::time_point;

// Version 1: what billdrop wrote before stores were versioned (user_version 0); every statement
// is IF NOT EXISTS, so it is also the migration of such a store.
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE IF NOT EXISTS send_attempts (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  connection_id TEXT NOT NULL,
  month TEXT NOT NULL,
  plan_digest TEXT NOT NULL,
  chunk_index INTEGER NOT NULL,
  attempt INTEGER NOT NULL,
  operation TEXT NOT NULL,
  idempotency_key TEXT NOT NULL,
  outcome TEXT NOT NULL,
  http_status INTEGER NOT NULL,
  message TEXT NOT NULL,
  drop_id TEXT NOT NULL,
  started_ms INTEGER NOT NULL,
  duration_ms INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS send_attempts_by_month ON send_attempts (connection_id, month, seq);
CREATE TABLE IF NOT EXISTS chunk_status (
  connection_id TEXT NOT NULL,
  month TEXT NOT NULL,
  plan_digest TEXT NOT NULL,
  chunk_index INTEGER NOT NULL,
  drop_id TEXT NOT NULL,
  acknowledged_ms INTEGER NOT NULL,
  PRIMARY KEY (connection_id, month, plan_digest, chunk_index));
CREATE TABLE IF NOT EXISTS month_sync (
  connection_id TEXT NOT NULL,
  month TEXT NOT NULL,
  state TEXT NOT NULL,
  plan_digest TEXT NOT NULL,
  rows INTEGER NOT NULL DEFAULT 0,
  cost TEXT NOT NULL DEFAULT '0',
  synced_ms INTEGER NOT NULL DEFAULT 0,
  updated_ms INTEGER NOT NULL,
  error TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (connection_id, month));
CREATE TABLE IF NOT EXISTS store_info (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS month_sends (
  connection_id TEXT NOT NULL,
  month TEXT NOT NULL,
  generation INTEGER NOT NULL,
  plan_digest TEXT NOT NULL,
  started_ms INTEGER NOT NULL,
  finished INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (connection_id, month));
CREATE TABLE IF NOT EXISTS chunk_keys (
  connection_id TEXT NOT NULL,
  month TEXT NOT NULL,
  generation INTEGER NOT NULL,
  chunk_index INTEGER NOT NULL,
  restarts INTEGER NOT NULL,
  answered_errors INTEGER NOT NULL,
  PRIMARY KEY (connection_id, month, generation, chunk_index));
)sql";

// Version 2: the daemon's jobs and per-connection schedule state.
constexpr const char* kSchemaV2 = R"sql(
CREATE TABLE IF NOT EXISTS sync_jobs (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  connection TEXT NOT NULL,
  parent TEXT NOT NULL DEFAULT '',
  state TEXT NOT NULL,
  started_ms INTEGER NOT NULL,
  finished_ms INTEGER NOT NULL DEFAULT 0,
  message TEXT NOT NULL DEFAULT '',
  result_json TEXT NOT NULL DEFAULT '',
  pid INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS sync_jobs_by_kind ON sync_jobs (kind, started_ms);
CREATE TABLE IF NOT EXISTS connection_state (
  connection TEXT PRIMARY KEY,
  last_run_ms INTEGER NOT NULL DEFAULT 0,
  last_success_ms INTEGER NOT NULL DEFAULT 0,
  last_error_ms INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  backfilled INTEGER NOT NULL DEFAULT 0,
  months_backfilled INTEGER NOT NULL DEFAULT 0,
  cursor TEXT NOT NULL DEFAULT '');
)sql";

// Version 3: run requests (POST /verify, a run asked through the Billing API), as in the
// PostgreSQL store; carried out by the daemon's next run of the connection.
constexpr const char* kSchemaV3 = R"sql(
CREATE TABLE IF NOT EXISTS run_requests (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  connection TEXT NOT NULL,
  parent TEXT NOT NULL DEFAULT '',
  requested_ms INTEGER NOT NULL,
  done INTEGER NOT NULL DEFAULT 0,
  done_ms INTEGER NOT NULL DEFAULT 0,
  job TEXT NOT NULL DEFAULT '',
  done_by TEXT NOT NULL DEFAULT '',
  token INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS run_requests_pending ON run_requests (done, connection, seq);
)sql";

// The migrations in order: migration i takes a store from version i to i + 1.
constexpr const char* kMigrations[] = {kSchemaV1, kSchemaV2, kSchemaV3};
static_assert(std::size(kMigrations) == SqliteSyncStore::kSchemaVersion,
              "one migration per schema version");

std::int64_t to_ms(SystemTime time) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
}

SystemTime from_ms(std::int64_t ms) {
  return SystemTime(std::chrono::milliseconds(ms));
}

std::optional<send::Outcome> parse_outcome(std::string_view text) {
  for (const send::Outcome outcome : {send::Outcome::acknowledged, send::Outcome::rejected,
                                      send::Outcome::retryable, send::Outcome::ambiguous})
    if (text == send::to_string(outcome))
      return outcome;
  return std::nullopt;
}

std::optional<MonthSyncState> parse_state(std::string_view text) {
  for (const MonthSyncState state : {MonthSyncState::unknown, MonthSyncState::pending,
                                     MonthSyncState::synced, MonthSyncState::failed})
    if (text == to_string(state))
      return state;
  return std::nullopt;
}

} // namespace

class SqliteSyncStore::Impl {
public:
  Impl(sqlite3* db, std::string name) : db_(db), name_(std::move(name)) {}
  ~Impl() {
    statements_.clear(); // finalize before closing
    sqlite3_close(db_);
  }

  Error sqlite_error(std::string_view what) const {
    return internal_error("sync store " + name_ + ": " + std::string(what) + ": " +
                          sqlite3_errmsg(db_));
  }

  Status exec(const char* sql) {
    char* message = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) != SQLITE_OK) {
      Error error = internal_error("sync store " + name_ + ": " +
                                   (message != nullptr ? message : "SQL failed"));
      sqlite3_free(message);
      return error;
    }
    return {};
  }

  // The statement for `sql`, prepared on first use and kept.
  Result<Statement*> statement(const char* sql) {
    if (auto found = statements_.find(sql); found != statements_.end())
      return found->second.get();
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK)
      return sqlite_error(std::string("preparing \"") + sql + "\"");
    auto [it, inserted] = statements_.emplace(sql, std::make_unique<Statement>(stmt));
    return it->second.get();
  }

  // Runs a statement that returns no rows.
  template <class Bind>
  Status run(const char* sql, Bind bind) {
    Result<Statement*> prepared = statement(sql);
    if (!prepared)
      return std::move(prepared).error();
    Statement& stmt = **prepared;
    const StatementUse use(stmt);
    bind(stmt);
    if (stmt.step() != SQLITE_DONE)
      return sqlite_error(std::string("running \"") + sql + "\"");
    return {};
  }

  // Runs `body` in one IMMEDIATE transaction: committed when it succeeds, else rolled back.
  template <class Body>
  Status transaction(Body body) {
    return sqlite::immediate_transaction([this](const char* sql) { return exec(sql); }, body);
  }

  // Brings the schema to kSchemaVersion, one migration per version, each in its own transaction
  // (so a crash leaves the store at a version, never between two). Refuses a newer store.
  Status migrate() {
    for (;;) {
      int version = 0;
      {
        Result<Statement*> select = statement("PRAGMA user_version");
        if (!select)
          return std::move(select).error();
        Statement& stmt = **select;
        const StatementUse use(stmt);
        if (stmt.step() != SQLITE_ROW)
          return sqlite_error("reading the schema version");
        version = static_cast<int>(stmt.column_integer(0));
      }
      if (version == SqliteSyncStore::kSchemaVersion)
        return {};
      if (version > SqliteSyncStore::kSchemaVersion || version < 0)
        return config_error("the sync store " + name_ + " has schema version " +
                            std::to_string(version) + ", written by a newer billdrop; this one " +
                            "reads up to version " +
                            std::to_string(SqliteSyncStore::kSchemaVersion) + ": upgrade billdrop");
      const std::string set_version = "PRAGMA user_version = " + std::to_string(version + 1);
      Status migrated = transaction([&]() -> Status {
        if (Status applied = exec(kMigrations[version]); !applied)
          return applied;
        return exec(set_version.c_str());
      });
      if (!migrated)
        return migrated.error().with_context("migrating the sync store to version " +
                                             std::to_string(version + 1));
    }
  }

  // The month's current send is over: the next one is a new generation.
  Status finish_send(std::string_view connection_id, std::string_view month_text) {
    return run("UPDATE month_sends SET finished = 1 WHERE connection_id = ?1 AND month = ?2",
               [&](Statement& stmt) { stmt.text(1, connection_id).text(2, month_text); });
  }

  mutable std::mutex mutex_;
  sqlite3* db_;
  std::string name_;
  std::string store_id_;
  std::map<const char*, std::unique_ptr<Statement>> statements_; // keyed by the literal's address
};

namespace {

// Marks the month pending unless it already is (the first acknowledged chunk of a send).
constexpr const char* kMarkPending =
    "INSERT INTO month_sync (connection_id, month, state, plan_digest, updated_ms) "
    "VALUES (?1, ?2, 'pending', ?3, ?4) ON CONFLICT (connection_id, month) DO UPDATE SET "
    "state = 'pending', plan_digest = excluded.plan_digest, updated_ms = excluded.updated_ms, "
    "error = ''";

} // namespace

SqliteSyncStore::SqliteSyncStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SqliteSyncStore::~SqliteSyncStore() = default;

Result<std::unique_ptr<SqliteSyncStore>> SqliteSyncStore::open(const std::filesystem::path& file) {
  sqlite3* db = nullptr;
  const int rc =
      sqlite3_open_v2(file.string().c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return config_error("cannot open the sync store " + file.string() + ": " + message);
  }
  auto impl = std::make_unique<Impl>(db, file.string());
  sqlite3_busy_timeout(db, 5000);
  // WAL lets readers (the status API, the sqlite3 shell) look while senders write; NORMAL sync in
  // WAL mode loses nothing on a process crash, only possibly the last commits on power loss.
  if (Status status = impl->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"); !status)
    return std::move(status).error();
  if (Status status = impl->migrate(); !status)
    return std::move(status).error();
  // The first opener's id wins; every later one reads it.
  const std::string candidate = core::random_hex(4); // 128 random bits: the store's id
  if (Status status =
          impl->run("INSERT OR IGNORE INTO store_info (name, value) VALUES ('store_id', ?1)",
                    [&](Statement& stmt) { stmt.text(1, candidate); });
      !status)
    return std::move(status).error();
  {
    Result<Statement*> select =
        impl->statement("SELECT value FROM store_info WHERE name = 'store_id'");
    if (!select)
      return std::move(select).error();
    Statement& stmt = **select;
    const StatementUse use(stmt);
    if (stmt.step() != SQLITE_ROW)
      return impl->sqlite_error("reading the store id");
    impl->store_id_ = stmt.column_text(0);
  }
  return std::unique_ptr<SqliteSyncStore>(new SqliteSyncStore(std::move(impl)));
}

Status SqliteSyncStore::record_attempt(const send::Attempt& attempt) {
  const std::lock_guard lock(impl_->mutex_);
  return impl_->run(
      "INSERT INTO send_attempts (connection_id, month, plan_digest, chunk_index, attempt, "
      "operation, idempotency_key, outcome, http_status, message, drop_id, started_ms, "
      "duration_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
      [&](Statement& stmt) {
        stmt.text(1, attempt.connection_id)
            .text(2, attempt.month.to_string())
            .text(3, attempt.plan_digest)
            .integer(4, attempt.chunk_index)
            .integer(5, attempt.attempt)
            .text(6, cbf::to_string(attempt.operation))
            .text(7, attempt.idempotency_key)
            .text(8, send::to_string(attempt.outcome))
            .integer(9, attempt.http_status)
            .text(10, attempt.message)
            .text(11, attempt.drop_id)
            .integer(12, to_ms(attempt.started))
            .integer(13, attempt.duration.count());
      });
}

const std::string& SqliteSyncStore::store_id() const noexcept {
  return impl_->store_id_;
}

Result<send::SendStart> SqliteSyncStore::begin_send(std::string_view connection_id, Month month,
                                                    std::string_view plan_digest, SystemTime now,
                                                    std::chrono::milliseconds resume_within) {
  const std::lock_guard lock(impl_->mutex_);
  const std::string month_text = month.to_string();
  send::SendStart start;
  start.generation.store_id = impl_->store_id_;
  Status status = impl_->transaction([&]() -> Status {
    std::uint64_t last = 0;
    {
      Result<Statement*> select =
          impl_->statement("SELECT generation, plan_digest, started_ms, finished FROM month_sends "
                           "WHERE connection_id = ?1 AND month = ?2");
      if (!select)
        return std::move(select).error();
      Statement& stmt = **select;
      const StatementUse use(stmt);
      stmt.text(1, connection_id).text(2, month_text);
      const int rc = stmt.step();
      if (rc == SQLITE_ROW) {
        last = static_cast<std::uint64_t>(stmt.column_integer(0));
        const bool same_plan = stmt.column_text(1) == plan_digest;
        const SystemTime started = from_ms(stmt.column_integer(2));
        const bool finished = stmt.column_integer(3) != 0;
        start.resumed = same_plan && !finished && started <= now && now - started < resume_within;
      } else if (rc != SQLITE_DONE) {
        return impl_->sqlite_error("reading the month's send");
      }
    }
    if (start.resumed) {
      start.generation.number = last;
      Result<Statement*> select = impl_->statement(
          "SELECT chunk_index, restarts, answered_errors FROM chunk_keys WHERE connection_id = ?1 "
          "AND month = ?2 AND generation = ?3");
      if (!select)
        return std::move(select).error();
      Statement& stmt = **select;
      const StatementUse use(stmt);
      stmt.text(1, connection_id).text(2, month_text).integer(3, static_cast<std::int64_t>(last));
      int rc = 0;
      while ((rc = stmt.step()) == SQLITE_ROW)
        start.chunks[static_cast<std::uint32_t>(stmt.column_integer(0))] =
            send::ChunkKeyState{static_cast<std::uint32_t>(stmt.column_integer(1)),
                                static_cast<std::uint32_t>(stmt.column_integer(2))};
      if (rc != SQLITE_DONE)
        return impl_->sqlite_error("reading the chunks' key state");
    } else {
      start.generation.number = last + 1;
      if (Status cleared =
              impl_->run("DELETE FROM chunk_keys WHERE connection_id = ?1 AND month = ?2",
                         [&](Statement& stmt) { stmt.text(1, connection_id).text(2, month_text); });
          !cleared)
        return cleared;
      if (Status saved = impl_->run(
              "INSERT INTO month_sends (connection_id, month, generation, plan_digest, "
              "started_ms, finished) VALUES (?1, ?2, ?3, ?4, ?5, 0) ON CONFLICT (connection_id, "
              "month) DO UPDATE SET generation = excluded.generation, plan_digest = "
              "excluded.plan_digest, started_ms = excluded.started_ms, finished = 0",
              [&](Statement& stmt) {
                stmt.text(1, connection_id)
                    .text(2, month_text)
                    .integer(3, static_cast<std::int64_t>(start.generation.number))
                    .text(4, plan_digest)
                    .integer(5, to_ms(now));
              });
          !saved)
        return saved;
    }
    if (Status cleared =
            impl_->run("DELETE FROM chunk_status WHERE connection_id = ?1 AND "
                       "month = ?2 AND plan_digest = ?3",
                       [&](Statement& stmt) {
                         stmt.text(1, connection_id).text(2, month_text).text(3, plan_digest);
                       });
        !cleared)
      return cleared;
    return impl_->run(kMarkPending, [&](Statement& stmt) {
      stmt.text(1, connection_id).text(2, month_text).text(3, plan_digest).integer(4, to_ms(now));
    });
  });
  if (!status)
    return std::move(status).error();
  return start;
}

Status SqliteSyncStore::save_key_state(std::string_view connection_id, Month month,
                                       const send::SendGeneration& generation,
                                       const std::map<std::uint32_t, send::ChunkKeyState>& chunks) {
  const std::lock_guard lock(impl_->mutex_);
  const std::string month_text = month.to_string();
  if (generation.store_id != impl_->store_id_)
    return internal_error("sync store " + impl_->name_ + ": key state of another store's send (" +
                          generation.store_id + ")");
  return impl_->transaction([&]() -> Status {
    {
      Result<Statement*> select = impl_->statement(
          "SELECT generation FROM month_sends WHERE connection_id = ?1 AND month = ?2");
      if (!select)
        return std::move(select).error();
      Statement& stmt = **select;
      const StatementUse use(stmt);
      stmt.text(1, connection_id).text(2, month_text);
      if (stmt.step() != SQLITE_ROW ||
          static_cast<std::uint64_t>(stmt.column_integer(0)) != generation.number)
        return internal_error("sync store " + impl_->name_ + ": send " +
                              std::to_string(generation.number) + " of " +
                              std::string(connection_id) + " " + month_text +
                              " is not the month's current send (another send began since)");
    }
    for (const auto& [index, state] : chunks) {
      Status saved = impl_->run(
          "INSERT INTO chunk_keys (connection_id, month, generation, chunk_index, restarts, "
          "answered_errors) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (connection_id, month, "
          "generation, chunk_index) DO UPDATE SET restarts = excluded.restarts, "
          "answered_errors = excluded.answered_errors",
          [&](Statement& stmt) {
            stmt.text(1, connection_id)
                .text(2, month_text)
                .integer(3, static_cast<std::int64_t>(generation.number))
                .integer(4, index)
                .integer(5, state.restarts)
                .integer(6, state.answered_errors);
          });
      if (!saved)
        return saved;
    }
    return {};
  });
}

Status SqliteSyncStore::mark_chunk_acknowledged(std::string_view connection_id, Month month,
                                                std::string_view plan_digest,
                                                std::uint32_t chunk_index, std::string_view drop_id,
                                                SystemTime at) {
  const std::lock_guard lock(impl_->mutex_);
  const std::string month_text = month.to_string();
  return impl_->transaction([&]() -> Status {
    Status status = impl_->run(
        "INSERT INTO chunk_status (connection_id, month, plan_digest, chunk_index, drop_id, "
        "acknowledged_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (connection_id, month, "
        "plan_digest, chunk_index) DO UPDATE SET drop_id = excluded.drop_id, "
        "acknowledged_ms = excluded.acknowledged_ms",
        [&](Statement& stmt) {
          stmt.text(1, connection_id)
              .text(2, month_text)
              .text(3, plan_digest)
              .integer(4, chunk_index)
              .text(5, drop_id)
              .integer(6, to_ms(at));
        });
    if (!status)
      return status;
    return impl_->run(kMarkPending, [&](Statement& stmt) {
      stmt.text(1, connection_id).text(2, month_text).text(3, plan_digest).integer(4, to_ms(at));
    });
  });
}

Status SqliteSyncStore::mark_month_synced(std::string_view connection_id,
                                          const plan::DropPlan& plan, SystemTime at) {
  const std::lock_guard lock(impl_->mutex_);
  const std::string month_text = plan.month.to_string();
  Result<Statement*> select =
      impl_->statement("SELECT chunk_index FROM chunk_status WHERE connection_id = ?1 AND "
                       "month = ?2 AND plan_digest = ?3");
  if (!select)
    return std::move(select).error();
  std::vector<bool> acknowledged(plan.chunks.size(), false);
  {
    Statement& stmt = **select;
    const StatementUse use(stmt);
    stmt.text(1, connection_id).text(2, month_text).text(3, plan.digest);
    int rc = 0;
    while ((rc = stmt.step()) == SQLITE_ROW) {
      const std::int64_t index = stmt.column_integer(0);
      if (index >= 0 && static_cast<std::size_t>(index) < acknowledged.size())
        acknowledged[static_cast<std::size_t>(index)] = true;
    }
    if (rc != SQLITE_DONE)
      return impl_->sqlite_error("reading chunk status");
  }
  std::string missing;
  std::size_t missing_count = 0;
  for (std::size_t i = 0; i < acknowledged.size(); ++i) {
    if (acknowledged[i])
      continue;
    if (++missing_count <= 10)
      missing += (missing.empty() ? "" : ", ") + std::to_string(i);
  }
  if (missing_count > 0 || plan.chunks.empty())
    return internal_error(std::string(connection_id) + " " + month_text +
                          " cannot be marked synced: " + std::to_string(missing_count) + " of " +
                          std::to_string(plan.chunks.size()) + " chunks of plan " + plan.digest +
                          " are not acknowledged (chunk " + (missing.empty() ? "none" : missing) +
                          ")");
  return impl_->transaction([&]() -> Status {
    if (Status finished = impl_->finish_send(connection_id, month_text); !finished)
      return finished;
    return impl_->run(
        "INSERT INTO month_sync (connection_id, month, state, plan_digest, rows, cost, synced_ms, "
        "updated_ms, error) VALUES (?1, ?2, 'synced', ?3, ?4, ?5, ?6, ?6, '') "
        "ON CONFLICT (connection_id, month) DO UPDATE SET state = 'synced', "
        "plan_digest = excluded.plan_digest, rows = excluded.rows, cost = excluded.cost, "
        "synced_ms = excluded.synced_ms, updated_ms = excluded.updated_ms, error = ''",
        [&](Statement& stmt) {
          stmt.text(1, connection_id)
              .text(2, month_text)
              .text(3, plan.digest)
              .integer(4, static_cast<std::int64_t>(plan.rows))
              .text(5, plan.cost.to_string())
              .integer(6, to_ms(at));
        });
  });
}

Status SqliteSyncStore::mark_month_failed(std::string_view connection_id, Month month,
                                          std::string_view plan_digest, std::string_view error,
                                          SystemTime at) {
  const std::lock_guard lock(impl_->mutex_);
  const std::string month_text = month.to_string();
  return impl_->transaction([&]() -> Status {
    if (Status finished = impl_->finish_send(connection_id, month_text); !finished)
      return finished;
    return impl_->run(
        "INSERT INTO month_sync (connection_id, month, state, plan_digest, updated_ms, error) "
        "VALUES (?1, ?2, 'failed', ?3, ?4, ?5) ON CONFLICT (connection_id, month) DO UPDATE SET "
        "state = 'failed', plan_digest = excluded.plan_digest, updated_ms = excluded.updated_ms, "
        "error = excluded.error",
        [&](Statement& stmt) {
          stmt.text(1, connection_id)
              .text(2, month_text)
              .text(3, plan_digest)
              .integer(4, to_ms(at))
              .text(5, error);
        });
  });
}

Result<std::vector<Month>> SqliteSyncStore::months(std::string_view connection_id) const {
  const std::lock_guard lock(impl_->mutex_);
  Result<Statement*> select =
      impl_->statement("SELECT month FROM month_sync WHERE connection_id = ?1 ORDER BY month");
  if (!select)
    return std::move(select).error();
  Statement& stmt = **select;
  const StatementUse use(stmt);
  stmt.text(1, connection_id);
  std::vector<Month> months;
  for (int rc = stmt.step(); rc != SQLITE_DONE; rc = stmt.step()) {
    if (rc != SQLITE_ROW)
      return impl_->sqlite_error("listing months");
    Result<Month> month = Month::parse(stmt.column_text(0));
    if (!month)
      return internal_error("sync store " + impl_->name_ + ": bad month \"" +
                            std::string(stmt.column_text(0)) + "\"");
    months.push_back(*month);
  }
  return months;
}

Result<std::vector<std::pair<Month, MonthSyncState>>>
SqliteSyncStore::month_states(std::string_view connection_id) const {
  const std::lock_guard lock(impl_->mutex_);
  Result<Statement*> select = impl_->statement(
      "SELECT month, state FROM month_sync WHERE connection_id = ?1 ORDER BY month");
  if (!select)
    return std::move(select).error();
  Statement& stmt = **select;
  const StatementUse use(stmt);
  stmt.text(1, connection_id);
  std::vector<std::pair<Month, MonthSyncState>> states;
  for (int rc = stmt.step(); rc != SQLITE_DONE; rc = stmt.step()) {
    if (rc != SQLITE_ROW)
      return impl_->sqlite_error("listing month states");
    Result<Month> month = Month::parse(stmt.column_text(0));
    const std::optional<MonthSyncState> state = parse_state(stmt.column_text(1));
    if (!month || !state)
      return internal_error("sync store " + impl_->name_ + ": bad month row \"" +
                            std::string(stmt.column_text(0)) + "\" \"" +
                            std::string(stmt.column_text(1)) + "\"");
    states.emplace_back(*month, *state);
  }
  return states;
}

Result<std::map<std::string, std::vector<std::pair<Month, MonthSyncState>>>>
SqliteSyncStore::all_month_states() const {
  const std::lock_guard lock(impl_->mutex_);
  Result<Statement*> select = impl_->statement(
      "SELECT connection_id, month, state FROM month_sync ORDER BY connection_id, month");
  if (!select)
    return std::move(select).error();
  Statement& stmt = **select;
  const StatementUse use(stmt);
  std::map<std::string, std::vector<std::pair<Month, MonthSyncState>>> states;
  for (int rc = stmt.step(); rc != SQLITE_DONE; rc = stmt.step()) {
    if (rc != SQLITE_ROW)
      return impl_->sqlite_error("listing month states");
    Result<Month> month = Month::parse(stmt.column_text(1));
    const std::optional<MonthSyncState> state = parse_state(stmt.column_text(2));
    if (!month || !state)
      return internal_error("sync store " + impl_->name_ + ": bad month row \"" +
                            std::string(stmt.column_text(1)) + "\" \"" +
                            std::string(stmt.column_text(2)) + "\"");
    states[std::string(stmt.column_text(0))].emplace_back(*month, *state);
  }
  return states;
}

Result<MonthStatus> SqliteSyncStore::month_status(std::string_view connection_id,
                                                  Month month) const {
  const std::lock_guard lock(impl_->mutex_);
  const std::string month_text = month.to_string();
  MonthStatus status;
  {
    Result<Statement*> select = impl_->statement(
        "SELECT state, plan_digest, rows, cost, synced_ms, updated_ms, error FROM month_sync "
        "WHERE connection_id = ?1 AND month = ?2");
    if (!select)
      return std::move(select).error();
    Statement& stmt = **select;
    const StatementUse use(stmt);
    stmt.text(1, connection_id).text(2, month_text);
    const int rc = stmt.step();
    if (rc == SQLITE_DONE)
      return status; // unknown
    if (rc != SQLITE_ROW)
      return impl_->sqlite_error("reading month status");
    const std::optional<MonthSyncState> state = parse_state(stmt.column_text(0));
    if (!state)
      return internal_error("sync store " + impl_->name_ + ": unknown month state \"" +
                            std::string(stmt.column_text(0)) + "\"");
    status.state = *state;
    status.plan_digest = stmt.column_text(1);
    status.rows = static_cast<std::uint64_t>(stmt.column_integer(2));
    Result<Decimal> cost = Decimal::parse(stmt.column_text(3));
    if (!cost)
      return std::move(cost).error().with_context("sync store " + impl_->name_ + ": month cost");
    status.cost = *cost;
    status.synced_at = from_ms(stmt.column_integer(4));
    status.updated_at = from_ms(stmt.column_integer(5));
    status.error = stmt.column_text(6);
  }
  Result<Statement*> count = impl_->statement(
      "SELECT COUNT(*) FROM chunk_status WHERE connection_id = ?1 AND month = ?2 AND "
      "plan_digest = ?3");
  if (!count)
    return std::move(count).error();
  Statement& stmt = **count;
  const StatementUse use(stmt);
  stmt.text(1, connection_id).text(2, month_text).text(3, status.plan_digest);
  if (stmt.step() != SQLITE_ROW)
    return impl_->sqlite_error("counting acknowledged chunks");
  status.chunks_acknowledged = static_cast<std::uint32_t>(stmt.column_integer(0));
  return status;
}

Result<std::vector<send::Attempt>> SqliteSyncStore::attempts(std::string_view connection_id,
                                                             Month month) const {
  const std::lock_guard lock(impl_->mutex_);
  Result<Statement*> select = impl_->statement(
      "SELECT connection_id, month, plan_digest, chunk_index, attempt, operation, "
      "idempotency_key, outcome, http_status, message, drop_id, started_ms, duration_ms "
      "FROM send_attempts WHERE connection_id = ?1 AND month = ?2 ORDER BY seq");
  if (!select)
    return std::move(select).error();
  Statement& stmt = **select;
  const StatementUse use(stmt);
  stmt.text(1, connection_id).text(2, month.to_string());
  std::vector<send::Attempt> out;
  int rc = 0;
  while ((rc = stmt.step()) == SQLITE_ROW) {
    send::Attempt attempt;
    attempt.connection_id = stmt.column_text(0);
    Result<Month> parsed_month = Month::parse(stmt.column_text(1));
    const std::optional<cbf::DropOperation> operation =
        cbf::parse_drop_operation(stmt.column_text(5));
    const std::optional<send::Outcome> outcome = parse_outcome(stmt.column_text(7));
    if (!parsed_month || !operation || !outcome)
      return internal_error("sync store " + impl_->name_ +
                            ": an attempt row has an unknown month, operation or outcome");
    attempt.month = *parsed_month;
    attempt.plan_digest = stmt.column_text(2);
    attempt.chunk_index = static_cast<std::uint32_t>(stmt.column_integer(3));
    attempt.attempt = static_cast<std::uint32_t>(stmt.column_integer(4));
    attempt.operation = *operation;
    attempt.idempotency_key = stmt.column_text(6);
    attempt.outcome = *outcome;
    attempt.http_status = static_cast<int>(stmt.column_integer(8));
    attempt.message = stmt.column_text(9);
    attempt.drop_id = stmt.column_text(10);
    attempt.started = from_ms(stmt.column_integer(11));
    attempt.duration = std::chrono::milliseconds(stmt.column_integer(12));
    out.push_back(std::move(attempt));
  }
  if (rc != SQLITE_DONE)
    return impl_->sqlite_error("reading attempts");
  return out;
}

// ---- ServiceStore ----

namespace {

std::optional<JobState> parse_job_state(std::string_view text) {
  for (const JobState state :
       {JobState::running, JobState::completed, JobState::failed, JobState::interrupted})
    if (text == to_string(state))
      return state;
  return std::nullopt;
}

// Is process `pid` alive (or owned by someone else, which is alive too)?
bool process_alive(std::int64_t pid) {
  return pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM);
}

constexpr const char* kSelectJob = "SELECT id, kind, connection, parent, state, started_ms, "
                                   "finished_ms, message, result_json, pid FROM sync_jobs";

Result<JobRecord> read_job(Statement& stmt) {
  JobRecord job;
  job.id = stmt.column_text(0);
  job.kind = stmt.column_text(1);
  job.connection = stmt.column_text(2);
  job.parent = stmt.column_text(3);
  const std::optional<JobState> state = parse_job_state(stmt.column_text(4));
  if (!state)
    return internal_error("sync store: unknown job state \"" + std::string(stmt.column_text(4)) +
                          "\"");
  job.state = *state;
  job.started = from_ms(stmt.column_integer(5));
  job.finished = from_ms(stmt.column_integer(6));
  job.message = stmt.column_text(7);
  job.result_json = stmt.column_text(8);
  job.pid = stmt.column_integer(9);
  return job;
}

} // namespace

Result<std::string> SqliteSyncStore::begin_job(std::string_view kind, std::string_view connection,
                                               std::string_view parent) {
  const std::lock_guard lock(impl_->mutex_);
  std::string id = "job_" + core::random_hex(2);
  Status status =
      impl_->run("INSERT INTO sync_jobs (id, kind, connection, parent, state, started_ms, pid) "
                 "VALUES (?1, ?2, ?3, ?4, 'running', ?5, ?6)",
                 [&](Statement& stmt) {
                   stmt.text(1, id)
                       .text(2, kind)
                       .text(3, connection)
                       .text(4, parent)
                       .integer(5, to_ms(std::chrono::system_clock::now()))
                       .integer(6, static_cast<std::int64_t>(::getpid()));
                 });
  if (!status)
    return std::move(status).error();
  return id;
}

Status SqliteSyncStore::finish_job(std::string_view id, JobState state, std::string_view message,
                                   std::string_view result_json) {
  const std::lock_guard lock(impl_->mutex_);
  return impl_->run("UPDATE sync_jobs SET state = ?2, finished_ms = ?3, message = ?4, "
                    "result_json = CASE WHEN ?5 = '' THEN result_json ELSE ?5 END WHERE id = ?1",
                    [&](Statement& stmt) {
                      stmt.text(1, id)
                          .text(2, to_string(state))
                          .integer(3, to_ms(std::chrono::system_clock::now()))
                          .text(4, message)
                          .text(5, result_json);
                    });
}

Status SqliteSyncStore::set_job_result(std::string_view id, std::string_view result_json) {
  const std::lock_guard lock(impl_->mutex_);
  return impl_->run("UPDATE sync_jobs SET result_json = ?2 WHERE id = ?1",
                    [&](Statement& stmt) { stmt.text(1, id).text(2, result_json); });
}

Result<std::optional<JobRecord>> SqliteSyncStore::job(std::string_view id) const {
  const std::lock_guard lock(impl_->mutex_);
  static const std::string sql = std::string(kSelectJob) + " WHERE id = ?1";
  Result<Statement*> select = impl_->statement(sql.c_str());
  if (!select)
    return std::move(select).error();
  Statement& stmt = **select;
  const StatementUse use(stmt);
  stmt.text(1, id);
  const int rc = stmt.step();
  if (rc == SQLITE_DONE)
    return std::optional<JobRecord>();
  if (rc != SQLITE_ROW)
    return impl_->sqlite_error("reading a job");
  Result<JobRecord> job = read_job(stmt);
  if (!job)
    return std::move(job).error();
  return std::optional<JobRecord>(std::move(*job));
}

Result<std::vector<JobRecord>> SqliteSyncStore::jobs(std::string_view kind,
                                                     std::size_t limit) const {
  const std::lock_guard lock(impl_->mutex_);
  static const std::string sql = std::string(kSelectJob) +
                                 " WHERE (?1 = '' OR kind = ?1) ORDER BY started_ms DESC, rowid "
                                 "DESC LIMIT ?2";
  Result<Statement*> select = impl_->statement(sql.c_str());
  if (!select)
    return std::move(select).error();
  Statement& stmt = **select;
  const StatementUse use(stmt);
  stmt.text(1, kind).integer(2, static_cast<std::int64_t>(limit));
  std::vector<JobRecord> jobs;
  for (int rc = stmt.step(); rc != SQLITE_DONE; rc = stmt.step()) {
    if (rc != SQLITE_ROW)
      return impl_->sqlite_error("listing jobs");
    Result<JobRecord> job = read_job(stmt);
    if (!job)
      return std::move(job).error();
    jobs.push_back(std::move(*job));
  }
  return jobs;
}

Result<std::size_t> SqliteSyncStore::interrupt_orphaned_jobs() {
  std::vector<JobRecord> running;
  {
    Result<std::vector<JobRecord>> all = jobs({}, 100'000);
    if (!all)
      return std::move(all).error();
    for (JobRecord& job : *all)
      if (job.state == JobState::running && (job.pid == ::getpid() || !process_alive(job.pid)))
        running.push_back(std::move(job));
  }
  for (const JobRecord& job : running)
    if (Status status = finish_job(job.id, JobState::interrupted,
                                   "interrupted: the billdrop process running it (pid " +
                                       std::to_string(job.pid) + ") stopped before it ended");
        !status)
      return std::move(status).error();
  return running.size();
}

namespace {

constexpr const char* kConnectionColumns =
    "connection, last_run_ms, last_success_ms, last_error_ms, last_error, backfilled, "
    "months_backfilled, cursor";

ConnectionRecord connection_record(Statement& stmt) {
  ConnectionRecord record;
  record.connection = stmt.column_text(0);
  record.last_run = from_ms(stmt.column_integer(1));
  record.last_success = from_ms(stmt.column_integer(2));
  record.last_error_at = from_ms(stmt.column_integer(3));
  record.last_error = stmt.column_text(4);
  record.backfilled = stmt.column_integer(5) != 0;
  record.months_backfilled = static_cast<std::uint32_t>(stmt.column_integer(6));
  record.cursor = stmt.column_text(7);
  return record;
}

} // namespace

Result<ConnectionRecord> SqliteSyncStore::connection(std::string_view connection) const {
  const std::lock_guard lock(impl_->mutex_);
  static const std::string sql =
      std::string("SELECT ") + kConnectionColumns + " FROM connection_state WHERE connection = ?1";
  Result<Statement*> select = impl_->statement(sql.c_str());
  if (!select)
    return std::move(select).error();
  Statement& stmt = **select;
  const StatementUse use(stmt);
  stmt.text(1, connection);
  const int rc = stmt.step();
  if (rc == SQLITE_DONE) {
    ConnectionRecord record;
    record.connection = std::string(connection);
    return record;
  }
  if (rc != SQLITE_ROW)
    return impl_->sqlite_error("reading a connection's state");
  return connection_record(stmt);
}

Result<std::vector<ConnectionRecord>> SqliteSyncStore::connections() const {
  const std::lock_guard lock(impl_->mutex_);
  static const std::string sql =
      std::string("SELECT ") + kConnectionColumns + " FROM connection_state ORDER BY connection";
  Result<Statement*> select = impl_->statement(sql.c_str());
  if (!select)
    return std::move(select).error();
  Statement& stmt = **select;
  const StatementUse use(stmt);
  std::vector<ConnectionRecord> records;
  for (int rc = stmt.step(); rc != SQLITE_DONE; rc = stmt.step()) {
    if (rc != SQLITE_ROW)
      return impl_->sqlite_error("listing connection states");
    records.push_back(connection_record(stmt));
  }
  return records;
}

Status SqliteSyncStore::save_connection(const ConnectionRecord& record) {
  const std::lock_guard lock(impl_->mutex_);
  return impl_->run(
      "INSERT INTO connection_state (connection, last_run_ms, last_success_ms, last_error_ms, "
      "last_error, backfilled, months_backfilled, cursor) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
      "ON CONFLICT (connection) DO UPDATE SET last_run_ms = excluded.last_run_ms, "
      "last_success_ms = excluded.last_success_ms, last_error_ms = excluded.last_error_ms, "
      "last_error = excluded.last_error, backfilled = excluded.backfilled, "
      "months_backfilled = excluded.months_backfilled, cursor = excluded.cursor",
      [&](Statement& stmt) {
        stmt.text(1, record.connection)
            .integer(2, to_ms(record.last_run))
            .integer(3, to_ms(record.last_success))
            .integer(4, to_ms(record.last_error_at))
            .text(5, record.last_error)
            .integer(6, record.backfilled ? 1 : 0)
            .integer(7, static_cast<std::int64_t>(record.months_backfilled))
            .text(8, record.cursor);
      });
}

// ---- run requests ----

namespace {

constexpr const char* kSelectRunRequest = "SELECT id, connection, parent, requested_ms, done, "
                                          "done_ms, job, done_by, token FROM run_requests";

RunRequest read_run_request(Statement& stmt) {
  RunRequest request;
  request.id = stmt.column_text(0);
  request.connection = stmt.column_text(1);
  request.parent = stmt.column_text(2);
  request.requested = from_ms(stmt.column_integer(3));
  request.done = stmt.column_integer(4) != 0;
  request.done_at = from_ms(stmt.column_integer(5));
  request.job = stmt.column_text(6);
  request.done_by = stmt.column_text(7);
  request.token = static_cast<std::uint64_t>(stmt.column_integer(8));
  return request;
}

} // namespace

Result<std::vector<std::string>>
SqliteSyncStore::request_runs(const std::vector<std::string>& connections,
                              std::string_view parent) {
  const std::lock_guard lock(impl_->mutex_);
  std::vector<std::string> ids;
  const std::int64_t now = to_ms(std::chrono::system_clock::now());
  Status status = impl_->transaction([&]() -> Status {
    // Requests done more than a week ago are history nobody reads: pruned as new ones come.
    if (Status pruned =
            impl_->run("DELETE FROM run_requests WHERE done = 1 AND done_ms < ?1",
                       [&](Statement& stmt) { stmt.integer(1, now - 7LL * 24 * 3600 * 1000); });
        !pruned)
      return pruned;
    for (const std::string& connection : connections) {
      std::string id = "run_" + core::random_hex(2);
      if (Status inserted = impl_->run(
              "INSERT INTO run_requests (id, connection, parent, requested_ms) VALUES (?1, ?2, "
              "?3, ?4)",
              [&](Statement& stmt) {
                stmt.text(1, id).text(2, connection).text(3, parent).integer(4, now);
              });
          !inserted)
        return inserted;
      ids.push_back(std::move(id));
    }
    return {};
  });
  if (!status)
    return std::move(status).error();
  return ids;
}

Result<std::vector<RunRequest>>
SqliteSyncStore::pending_runs(const std::vector<std::string>& connections) const {
  const std::lock_guard lock(impl_->mutex_);
  static const std::string sql = std::string(kSelectRunRequest) + " WHERE done = 0 ORDER BY seq";
  Result<Statement*> select = impl_->statement(sql.c_str());
  if (!select)
    return std::move(select).error();
  Statement& stmt = **select;
  const StatementUse use(stmt);
  const std::set<std::string_view> wanted(connections.begin(), connections.end());
  std::vector<RunRequest> out;
  for (int rc = stmt.step(); rc != SQLITE_DONE; rc = stmt.step()) {
    if (rc != SQLITE_ROW)
      return impl_->sqlite_error("listing run requests");
    RunRequest request = read_run_request(stmt);
    if (wanted.empty() || wanted.count(request.connection) != 0)
      out.push_back(std::move(request));
  }
  return out;
}

Status SqliteSyncStore::finish_runs(std::string_view connection,
                                    const std::vector<std::string>& ids, std::string_view job,
                                    std::uint64_t token) {
  const std::lock_guard lock(impl_->mutex_);
  const std::int64_t now = to_ms(std::chrono::system_clock::now());
  return impl_->transaction([&]() -> Status {
    for (const std::string& id : ids)
      if (Status marked = impl_->run(
              "UPDATE run_requests SET done = 1, done_ms = ?3, job = ?4, token = ?5 WHERE id = "
              "?1 AND connection = ?2 AND done = 0",
              [&](Statement& stmt) {
                stmt.text(1, id)
                    .text(2, connection)
                    .integer(3, now)
                    .text(4, job)
                    .integer(5, static_cast<std::int64_t>(token));
              });
          !marked)
        return marked;
    return {};
  });
}

Result<std::vector<RunRequest>>
SqliteSyncStore::run_requests(const std::vector<std::string>& ids) const {
  const std::lock_guard lock(impl_->mutex_);
  static const std::string sql = std::string(kSelectRunRequest) + " WHERE id = ?1";
  Result<Statement*> select = impl_->statement(sql.c_str());
  if (!select)
    return std::move(select).error();
  std::vector<RunRequest> out;
  for (const std::string& id : ids) {
    Statement& stmt = **select;
    const StatementUse use(stmt);
    stmt.text(1, id);
    const int rc = stmt.step();
    if (rc == SQLITE_ROW)
      out.push_back(read_run_request(stmt));
    else if (rc != SQLITE_DONE)
      return impl_->sqlite_error("reading a run request");
  }
  return out;
}

} // namespace billdrop::store
