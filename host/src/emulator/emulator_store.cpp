#include "emulator/emulator_store.hpp"

#include "core/sqlite_statement.hpp"

#include <algorithm>
#include <cstdio>
#include <set>

namespace billdrop::emulator {

using sqlite::Statement;
using sqlite::StatementUse;
using sqlite::TextBinding;

namespace {

std::uint64_t splitmix64(std::uint64_t x) noexcept {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

constexpr std::int64_t kSchemaVersion = 2; // PRAGMA user_version of a store this code reads

// Rows point at their (space, connection, month) by the drops row's integer id: a short index key
// keeps the per-row inserts and deletes cheap.
constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS drops (
  month_id INTEGER PRIMARY KEY,
  space TEXT NOT NULL,
  connection TEXT NOT NULL,
  month TEXT NOT NULL,
  drop_id TEXT NOT NULL,
  row_count INTEGER NOT NULL,
  json_bytes INTEGER NOT NULL,
  UNIQUE (space, connection, month));
CREATE TABLE IF NOT EXISTS rows (
  seq INTEGER PRIMARY KEY,
  month_id INTEGER NOT NULL REFERENCES drops (month_id),
  hour TEXT NOT NULL,
  cost TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  json TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS rows_by_hour ON rows (month_id, hour);
CREATE TABLE IF NOT EXISTS drop_log (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  space TEXT NOT NULL,
  connection TEXT NOT NULL,
  month TEXT NOT NULL,
  operation TEXT NOT NULL,
  body_rows INTEGER NOT NULL,
  applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')));
CREATE TABLE IF NOT EXISTS idempotency (
  space TEXT NOT NULL,
  method TEXT NOT NULL,
  path TEXT NOT NULL,
  key TEXT NOT NULL,
  status INTEGER NOT NULL,
  body TEXT NOT NULL,
  stored_ms INTEGER NOT NULL,
  PRIMARY KEY (space, method, path, key));
CREATE INDEX IF NOT EXISTS idempotency_by_age ON idempotency (stored_ms);
CREATE TABLE IF NOT EXISTS test_spaces (
  space TEXT PRIMARY KEY,
  created_ms INTEGER NOT NULL);
)sql";

// Version 1 had no expiry: its stored responses count from the upgrade.
constexpr const char* kUpgradeFrom1 = R"sql(
ALTER TABLE idempotency ADD COLUMN stored_ms INTEGER NOT NULL DEFAULT 0;
UPDATE idempotency SET stored_ms = CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER);
CREATE INDEX IF NOT EXISTS idempotency_by_age ON idempotency (stored_ms);
CREATE TABLE IF NOT EXISTS test_spaces (
  space TEXT PRIMARY KEY,
  created_ms INTEGER NOT NULL);
INSERT OR IGNORE INTO test_spaces (space, created_ms)
  SELECT DISTINCT space, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) FROM drops
  WHERE space != '';
)sql";

std::int64_t to_ms(StoreTime time) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
}

} // namespace

std::string drop_id_for(std::uint64_t sequence) {
  const std::uint64_t a = splitmix64(sequence); // a bijection: distinct sequences, distinct ids
  const std::uint64_t b = splitmix64(a);
  char text[40];
  std::snprintf(
      text, sizeof text, "%08llx-%04llx-%04llx-%04llx-%012llx",
      static_cast<unsigned long long>(a >> 32), static_cast<unsigned long long>((a >> 16) & 0xffff),
      static_cast<unsigned long long>(a & 0xffff), static_cast<unsigned long long>(b >> 48),
      static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return text;
}

Result<std::unique_ptr<EmulatorStore>> EmulatorStore::open(const std::filesystem::path& file,
                                                           Expiry expiry) {
  sqlite3* db = nullptr;
  const int rc =
      sqlite3_open_v2(file.string().c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return config_error("cannot open the emulator store " + file.string() + ": " + message);
  }
  std::unique_ptr<EmulatorStore> store(new EmulatorStore(db, expiry));
  sqlite3_busy_timeout(db, 5000);
  // WAL for a file (":memory:" keeps its own journal); NORMAL sync is durable enough for a test
  // double and keeps commits cheap.
  if (Status status = store->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"); !status)
    return std::move(status).error().with_context("emulator store " + file.string());
  if (Status status = store->create_schema(); !status)
    return std::move(status).error().with_context("emulator store " + file.string());
  if (Status status = store->prepare_all(); !status)
    return std::move(status).error().with_context("emulator store " + file.string());
  return store;
}

EmulatorStore::EmulatorStore(sqlite3* db, Expiry expiry) : db_(db), expiry_(expiry) {}

EmulatorStore::~EmulatorStore() {
  statements_.clear(); // finalize before closing
  sqlite3_close(db_);
}

Error EmulatorStore::sqlite_error(std::string_view what) const {
  return internal_error("emulator store: " + std::string(what) + ": " + sqlite3_errmsg(db_));
}

Status EmulatorStore::exec(const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    Error error = internal_error(std::string("emulator store: ") +
                                 (message != nullptr ? message : "SQL failed"));
    sqlite3_free(message);
    return error;
  }
  return {};
}

Result<std::int64_t> EmulatorStore::query_integer(const char* sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr) != SQLITE_OK)
    return sqlite_error(sql);
  Statement statement(stmt, TextBinding::borrowed);
  if (statement.step() != SQLITE_ROW)
    return sqlite_error(sql);
  return statement.column_integer(0);
}

Status EmulatorStore::create_schema() {
  Result<std::int64_t> version = query_integer("PRAGMA user_version");
  if (!version)
    return std::move(version).error();
  if (*version == 0) {
    Result<std::int64_t> tables =
        query_integer("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'");
    if (!tables)
      return std::move(tables).error();
    if (*tables > 0)
      return config_error("the file holds other tables, not an emulator store of schema version " +
                          std::to_string(kSchemaVersion) + "; move it away or choose another file");
    const std::string create = std::string("BEGIN IMMEDIATE;") + kSchema +
                               "PRAGMA user_version = " + std::to_string(kSchemaVersion) +
                               "; COMMIT;";
    if (Status status = exec(create.c_str()); !status) {
      (void)exec("ROLLBACK");
      return status;
    }
    return {};
  }
  if (*version == 1) {
    const std::string upgrade = std::string("BEGIN IMMEDIATE;") + kUpgradeFrom1 +
                                "PRAGMA user_version = " + std::to_string(kSchemaVersion) +
                                "; COMMIT;";
    if (Status status = exec(upgrade.c_str()); !status) {
      (void)exec("ROLLBACK");
      return status;
    }
    return {};
  }
  if (*version != kSchemaVersion)
    return config_error("the store has schema version " + std::to_string(*version) +
                        ", this billdrop reads version " + std::to_string(kSchemaVersion) +
                        "; move it away or choose another file");
  return {};
}

Status EmulatorStore::prepare_all() {
  const std::pair<Statement**, const char*> sql[] = {
      {&select_drop_, "SELECT month_id, drop_id, row_count, json_bytes FROM drops "
                      "WHERE space = ?1 AND connection = ?2 AND month = ?3"},
      {&insert_drop_, "INSERT INTO drops (space, connection, month, drop_id, row_count, "
                      "json_bytes) VALUES (?1, ?2, ?3, '', 0, 0)"},
      {&count_hour_, "SELECT COUNT(*), COALESCE(SUM(bytes), 0) FROM rows "
                     "WHERE month_id = ?1 AND hour = ?2"},
      {&delete_month_, "DELETE FROM rows WHERE month_id = ?1"},
      {&delete_hour_, "DELETE FROM rows WHERE month_id = ?1 AND hour = ?2"},
      {&insert_row_, "INSERT INTO rows (month_id, hour, cost, bytes, json) "
                     "VALUES (?1, ?2, ?3, ?4, ?5)"},
      {&insert_log_, "INSERT INTO drop_log (space, connection, month, operation, body_rows) "
                     "VALUES (?1, ?2, ?3, ?4, ?5)"},
      {&update_drop_, "UPDATE drops SET drop_id = ?2, row_count = ?3, json_bytes = ?4 "
                      "WHERE month_id = ?1"},
      {&select_drops_, "SELECT month, drop_id, row_count, json_bytes FROM drops "
                       "WHERE space = ?1 AND connection = ?2 AND drop_id != '' ORDER BY month"},
      {&select_rows_, "SELECT rows.json FROM drops JOIN rows ON rows.month_id = drops.month_id "
                      "WHERE drops.space = ?1 AND drops.connection = ?2 AND drops.month = ?3 "
                      "ORDER BY rows.hour, rows.seq"},
      {&select_costs_, "SELECT rows.hour, rows.cost FROM drops "
                       "JOIN rows ON rows.month_id = drops.month_id "
                       "WHERE drops.space = ?1 AND drops.connection = ?2 AND drops.month = ?3"},
      {&select_response_, "SELECT status, body FROM idempotency WHERE space = ?1 AND "
                          "method = ?2 AND path = ?3 AND key = ?4 AND stored_ms > ?5"},
      // The first response stays until it expires; then the next one takes its place.
      {&insert_response_, "INSERT INTO idempotency (space, method, path, key, status, body, "
                          "stored_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (space, "
                          "method, path, key) DO UPDATE SET status = excluded.status, body = "
                          "excluded.body, stored_ms = excluded.stored_ms WHERE stored_ms <= ?8"},
  };
  for (const auto& [slot, text] : sql) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v3(db_, text, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK)
      return sqlite_error(std::string("preparing \"") + text + "\"");
    statements_.push_back(std::make_unique<Statement>(stmt, TextBinding::borrowed));
    *slot = statements_.back().get();
  }
  return {};
}

Result<ApplyResult> EmulatorStore::apply(std::string_view space, std::string_view connection,
                                         Month month, cbf::DropOperation operation,
                                         const std::vector<StoredRow>& rows,
                                         const MonthLimits& limits) {
  const std::string month_text = month.to_string();
  const std::lock_guard lock(mutex_);
  if (Status status = exec("BEGIN IMMEDIATE"); !status)
    return std::move(status).error();
  bool committed = false;
  struct Rollback {
    EmulatorStore& store;
    bool& committed;
    ~Rollback() {
      if (!committed)
        (void)store.exec("ROLLBACK");
    }
  } rollback{*this, committed};

  ApplyResult result;
  result.drop.month = month;
  std::int64_t month_id = 0;
  {
    Statement& s = *select_drop_;
    StatementUse use(s);
    s.text(1, space).text(2, connection).text(3, month_text);
    const int rc = s.step();
    if (rc == SQLITE_ROW) {
      month_id = s.column_integer(0);
      result.drop.drop_id = s.column_text(1);
      result.drop.row_count = static_cast<std::uint64_t>(s.column_integer(2));
      result.drop.json_bytes = static_cast<std::uint64_t>(s.column_integer(3));
    } else if (rc != SQLITE_DONE) {
      return sqlite_error("reading the month's drop");
    }
  }

  std::uint64_t body_bytes = 0;
  std::set<std::string_view> hours;
  for (const StoredRow& row : rows) {
    body_bytes += row.json.size();
    hours.insert(row.hour);
  }
  std::uint64_t kept_rows = 0;
  std::uint64_t kept_bytes = 0;
  switch (operation) {
  case cbf::DropOperation::replace_drop:
    break;
  case cbf::DropOperation::sum:
    kept_rows = result.drop.row_count;
    kept_bytes = result.drop.json_bytes;
    break;
  case cbf::DropOperation::replace_hourly: {
    std::uint64_t removed_rows = 0;
    std::uint64_t removed_bytes = 0;
    for (std::string_view hour : hours) {
      if (month_id == 0)
        break;
      Statement& s = *count_hour_;
      StatementUse use(s);
      s.integer(1, month_id).text(2, hour);
      if (s.step() != SQLITE_ROW)
        return sqlite_error("counting an hour's rows");
      removed_rows += static_cast<std::uint64_t>(s.column_integer(0));
      removed_bytes += static_cast<std::uint64_t>(s.column_integer(1));
    }
    kept_rows = result.drop.row_count - removed_rows;
    kept_bytes = result.drop.json_bytes - removed_bytes;
    break;
  }
  }
  const std::uint64_t new_rows = kept_rows + rows.size();
  const std::uint64_t new_bytes = kept_bytes + body_bytes;
  if (new_rows > limits.max_rows) {
    result.refusal = "the month " + month_text + " would hold " + std::to_string(new_rows) +
                     " rows, over the limit of " + std::to_string(limits.max_rows) +
                     " rows per month per connection; nothing was stored";
    return result;
  }
  if (new_bytes > limits.max_bytes) {
    result.refusal = "the month " + month_text + " would hold " + std::to_string(new_bytes) +
                     " bytes of rows, over the limit of " + std::to_string(limits.max_bytes) +
                     " bytes per month per connection; nothing was stored";
    return result;
  }

  if (month_id == 0) {
    Statement& s = *insert_drop_;
    StatementUse use(s);
    s.text(1, space).text(2, connection).text(3, month_text);
    if (s.step() != SQLITE_DONE)
      return sqlite_error("creating the month's drop");
    month_id = sqlite3_last_insert_rowid(db_);
  } else if (operation == cbf::DropOperation::replace_drop) {
    Statement& s = *delete_month_;
    StatementUse use(s);
    s.integer(1, month_id);
    if (s.step() != SQLITE_DONE)
      return sqlite_error("clearing the month");
  } else if (operation == cbf::DropOperation::replace_hourly) {
    for (std::string_view hour : hours) {
      Statement& s = *delete_hour_;
      StatementUse use(s);
      s.integer(1, month_id).text(2, hour);
      if (s.step() != SQLITE_DONE)
        return sqlite_error("clearing an hour");
    }
  }
  for (const StoredRow& row : rows) {
    Statement& s = *insert_row_;
    StatementUse use(s);
    s.integer(1, month_id).text(2, row.hour).text(3, row.cost);
    s.integer(4, static_cast<std::int64_t>(row.json.size())).text(5, row.json);
    if (s.step() != SQLITE_DONE)
      return sqlite_error("storing a row");
  }
  std::int64_t sequence = 0;
  {
    Statement& s = *insert_log_;
    StatementUse use(s);
    s.text(1, space).text(2, connection).text(3, month_text).text(4, cbf::to_string(operation));
    s.integer(5, static_cast<std::int64_t>(rows.size()));
    if (s.step() != SQLITE_DONE)
      return sqlite_error("logging the drop");
    sequence = sqlite3_last_insert_rowid(db_);
  }
  result.drop.drop_id = drop_id_for(static_cast<std::uint64_t>(sequence));
  result.drop.row_count = new_rows;
  result.drop.json_bytes = new_bytes;
  {
    Statement& s = *update_drop_;
    StatementUse use(s);
    s.integer(1, month_id).text(2, result.drop.drop_id);
    s.integer(3, static_cast<std::int64_t>(new_rows))
        .integer(4, static_cast<std::int64_t>(new_bytes));
    if (s.step() != SQLITE_DONE)
      return sqlite_error("recording the drop");
  }
  if (Status status = exec("COMMIT"); !status)
    return std::move(status).error();
  committed = true;
  result.applied = true;
  return result;
}

Result<std::vector<DropRecord>> EmulatorStore::drops(std::string_view space,
                                                     std::string_view connection) {
  const std::lock_guard lock(mutex_);
  Statement& s = *select_drops_;
  StatementUse use(s);
  s.text(1, space).text(2, connection);
  std::vector<DropRecord> out;
  int rc = 0;
  while ((rc = s.step()) == SQLITE_ROW) {
    Result<Month> month = Month::parse(s.column_text(0));
    if (!month)
      return internal_error("emulator store: a drop has the month \"" +
                            std::string(s.column_text(0)) + "\"");
    out.push_back({std::string(s.column_text(1)), *month,
                   static_cast<std::uint64_t>(s.column_integer(2)),
                   static_cast<std::uint64_t>(s.column_integer(3))});
  }
  if (rc != SQLITE_DONE)
    return sqlite_error("listing drops");
  return out;
}

Result<std::optional<std::string>>
EmulatorStore::month_rows(std::string_view space, std::string_view connection, Month month) {
  const std::lock_guard lock(mutex_);
  Statement& s = *select_rows_;
  StatementUse use(s);
  s.text(1, space).text(2, connection).text(3, month.to_string());
  std::string out = "[";
  std::size_t count = 0;
  int rc = 0;
  while ((rc = s.step()) == SQLITE_ROW) {
    if (count++ > 0)
      out += ',';
    out += s.column_text(0);
  }
  if (rc != SQLITE_DONE)
    return sqlite_error("reading the month's rows");
  if (count == 0)
    return std::optional<std::string>();
  out += ']';
  return std::optional<std::string>(std::move(out));
}

Result<MonthState> EmulatorStore::month_state(std::string_view space, std::string_view connection,
                                              Month month) {
  const std::lock_guard lock(mutex_);
  Statement& s = *select_costs_;
  StatementUse use(s);
  s.text(1, space).text(2, connection).text(3, month.to_string());
  MonthState state;
  int rc = 0;
  while ((rc = s.step()) == SQLITE_ROW) {
    Result<Decimal> cost = Decimal::parse(s.column_text(1));
    if (!cost)
      return std::move(cost).error().with_context("emulator store: a stored cost");
    snapshot::HourTotals& hour = state.hours[std::string(s.column_text(0))];
    ++hour.rows;
    hour.cost += *cost;
    ++state.rows;
    state.cost += *cost;
  }
  if (rc != SQLITE_DONE)
    return sqlite_error("summing the month");
  return state;
}

Result<std::optional<StoredResponse>> EmulatorStore::find_response(const ResponseKey& key,
                                                                   StoreTime now) {
  const std::lock_guard lock(mutex_);
  Statement& s = *select_response_;
  StatementUse use(s);
  s.text(1, key.space).text(2, key.method).text(3, key.path).text(4, key.key);
  s.integer(5, to_ms(now - expiry_.idempotency_ttl));
  const int rc = s.step();
  if (rc == SQLITE_DONE)
    return std::optional<StoredResponse>();
  if (rc != SQLITE_ROW)
    return sqlite_error("reading a stored response");
  return std::optional<StoredResponse>(
      StoredResponse{static_cast<int>(s.column_integer(0)), std::string(s.column_text(1))});
}

Status EmulatorStore::remember_response(const ResponseKey& key, const StoredResponse& response,
                                        StoreTime now) {
  const std::lock_guard lock(mutex_);
  Statement& s = *insert_response_;
  StatementUse use(s);
  s.text(1, key.space).text(2, key.method).text(3, key.path).text(4, key.key);
  s.integer(5, response.status).text(6, response.body).integer(7, to_ms(now));
  s.integer(8, to_ms(now - expiry_.idempotency_ttl));
  if (s.step() != SQLITE_DONE)
    return sqlite_error("storing a response");
  return {};
}

template <class Bind>
Status EmulatorStore::run(const char* sql, Bind bind) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr) != SQLITE_OK)
    return sqlite_error(sql);
  Statement statement(stmt, TextBinding::borrowed);
  bind(statement);
  int rc = 0;
  while ((rc = statement.step()) == SQLITE_ROW) {
  }
  if (rc != SQLITE_DONE)
    return sqlite_error(sql);
  return {};
}

Status EmulatorStore::purge_space(std::string_view space) {
  for (const char* sql :
       {"DELETE FROM rows WHERE month_id IN (SELECT month_id FROM drops WHERE space = ?1)",
        "DELETE FROM drops WHERE space = ?1", "DELETE FROM drop_log WHERE space = ?1",
        "DELETE FROM idempotency WHERE space = ?1", "DELETE FROM test_spaces WHERE space = ?1"})
    if (Status status = run(sql, [&](Statement& s) { s.text(1, space); }); !status)
      return status;
  return {};
}

Status EmulatorStore::purge_expired(StoreTime now) {
  if (Status status =
          run("DELETE FROM idempotency WHERE stored_ms <= ?1",
              [&](Statement& s) { s.integer(1, to_ms(now - expiry_.idempotency_ttl)); });
      !status)
    return status;
  std::vector<std::string> expired;
  {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, "SELECT space FROM test_spaces WHERE created_ms <= ?1", -1, &stmt,
                           nullptr) != SQLITE_OK)
      return sqlite_error("listing test namespaces");
    Statement statement(stmt, TextBinding::borrowed);
    statement.integer(1, to_ms(now - expiry_.test_namespace_ttl));
    int rc = 0;
    while ((rc = statement.step()) == SQLITE_ROW)
      expired.emplace_back(statement.column_text(0));
    if (rc != SQLITE_DONE)
      return sqlite_error("listing test namespaces");
  }
  for (const std::string& space : expired)
    if (Status status = purge_space(space); !status)
      return status;
  return {};
}

Status EmulatorStore::arrive(std::string_view space, StoreTime now) {
  const std::lock_guard lock(mutex_);
  const auto transaction = [&](auto body) {
    return sqlite::immediate_transaction([this](const char* sql) { return exec(sql); }, body);
  };
  if (now >= next_purge_) {
    // Often enough that an expired namespace or response does not linger for long, rarely
    // enough to cost nothing.
    next_purge_ =
        now + std::min<std::chrono::milliseconds>(
                  {std::chrono::minutes(1), expiry_.test_namespace_ttl, expiry_.idempotency_ttl});
    if (Status status = transaction([&] { return purge_expired(now); }); !status)
      return status;
  }
  if (space.empty())
    return {};
  return transaction([&]() -> Status {
    std::optional<std::int64_t> created;
    {
      sqlite3_stmt* stmt = nullptr;
      if (sqlite3_prepare_v2(db_, "SELECT created_ms FROM test_spaces WHERE space = ?1", -1, &stmt,
                             nullptr) != SQLITE_OK)
        return sqlite_error("reading a test namespace");
      Statement statement(stmt, TextBinding::borrowed);
      statement.text(1, space);
      const int rc = statement.step();
      if (rc == SQLITE_ROW)
        created = statement.column_integer(0);
      else if (rc != SQLITE_DONE)
        return sqlite_error("reading a test namespace");
    }
    if (created && *created > to_ms(now - expiry_.test_namespace_ttl))
      return {};
    if (created)
      if (Status status = purge_space(space); !status)
        return status;
    return run("INSERT INTO test_spaces (space, created_ms) VALUES (?1, ?2)",
               [&](Statement& s) { s.text(1, space).integer(2, to_ms(now)); });
  });
}

} // namespace billdrop::emulator
