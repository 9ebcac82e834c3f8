#include "store/postgres/postgres_store.hpp"

#include "core/numbers.hpp"
#include "core/postgres_rows.hpp"

#include <algorithm>
#include <iterator>
#include <map>
#include <mutex>
#include <optional>
#include <set>

#include <unistd.h>

namespace billdrop::store {

namespace {

using core::pg::Params;
using core::pg::Rows;
using core::pg::text_array;

using SystemTime = std::chrono::system_clock::time_point;

// Version 1: the SQLite store's tables at its version 2, plus leases and hosts.
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE send_attempts (
  seq BIGSERIAL PRIMARY KEY,
  connection_id TEXT NOT NULL,
  month TEXT NOT NULL,
  plan_digest TEXT NOT NULL,
  chunk_index BIGINT NOT NULL,
  attempt BIGINT NOT NULL,
  operation TEXT NOT NULL,
  idempotency_key TEXT NOT NULL,
  outcome TEXT NOT NULL,
  http_status BIGINT NOT NULL,
  message TEXT NOT NULL,
  drop_id TEXT NOT NULL,
  started_ms BIGINT NOT NULL,
  duration_ms BIGINT NOT NULL,
  host TEXT NOT NULL DEFAULT '');
CREATE INDEX send_attempts_by_month ON send_attempts (connection_id, month, seq);
CREATE TABLE chunk_status (
  connection_id TEXT NOT NULL,
  month TEXT NOT NULL,
  plan_digest TEXT NOT NULL,
  chunk_index BIGINT NOT NULL,
  drop_id TEXT NOT NULL,
  acknowledged_ms BIGINT NOT NULL,
  PRIMARY KEY (connection_id, month, plan_digest, chunk_index));
CREATE TABLE month_sync (
  connection_id TEXT NOT NULL,
  month TEXT NOT NULL,
  state TEXT NOT NULL,
  plan_digest TEXT NOT NULL,
  rows BIGINT NOT NULL DEFAULT 0,
  cost TEXT NOT NULL DEFAULT '0',
  synced_ms BIGINT NOT NULL DEFAULT 0,
  updated_ms BIGINT NOT NULL,
  error TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (connection_id, month));
CREATE TABLE store_info (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL);
CREATE TABLE month_sends (
  connection_id TEXT NOT NULL,
  month TEXT NOT NULL,
  generation BIGINT NOT NULL,
  plan_digest TEXT NOT NULL,
  started_ms BIGINT NOT NULL,
  finished BOOLEAN NOT NULL DEFAULT FALSE,
  PRIMARY KEY (connection_id, month));
CREATE TABLE chunk_keys (
  connection_id TEXT NOT NULL,
  month TEXT NOT NULL,
  generation BIGINT NOT NULL,
  chunk_index BIGINT NOT NULL,
  restarts BIGINT NOT NULL,
  answered_errors BIGINT NOT NULL,
  PRIMARY KEY (connection_id, month, generation, chunk_index));
CREATE TABLE sync_jobs (
  seq BIGSERIAL UNIQUE,
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  connection TEXT NOT NULL,
  parent TEXT NOT NULL DEFAULT '',
  state TEXT NOT NULL,
  started_ms BIGINT NOT NULL,
  finished_ms BIGINT NOT NULL DEFAULT 0,
  message TEXT NOT NULL DEFAULT '',
  result_json TEXT NOT NULL DEFAULT '',
  pid BIGINT NOT NULL,
  host TEXT NOT NULL);
CREATE INDEX sync_jobs_by_kind ON sync_jobs (kind, started_ms);
CREATE TABLE connection_state (
  connection TEXT PRIMARY KEY,
  last_run_ms BIGINT NOT NULL DEFAULT 0,
  last_success_ms BIGINT NOT NULL DEFAULT 0,
  last_error_ms BIGINT NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  backfilled BOOLEAN NOT NULL DEFAULT FALSE,
  months_backfilled BIGINT NOT NULL DEFAULT 0,
  cursor TEXT NOT NULL DEFAULT '');
CREATE TABLE leases (
  name TEXT PRIMARY KEY,
  owner TEXT NOT NULL DEFAULT '',
  token BIGINT NOT NULL DEFAULT 0,
  expires_at TIMESTAMPTZ NOT NULL DEFAULT '-infinity',
  previous_owner TEXT NOT NULL DEFAULT '',
  previous_expired BOOLEAN NOT NULL DEFAULT FALSE,
  claimed_at TIMESTAMPTZ);
CREATE INDEX leases_by_expiry ON leases (expires_at);
CREATE TABLE hosts (
  owner TEXT PRIMARY KEY,
  started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  expires_at TIMESTAMPTZ NOT NULL,
  pid BIGINT NOT NULL DEFAULT 0);
)sql";

// Version 2: run requests (a verify or a run-now asked of any host, carried out by the host that
// holds the connection's lease, marked done with its token); a host's machine name, for messages
// that say who holds a lease.
constexpr const char* kSchemaV2 = R"sql(
CREATE TABLE run_requests (
  seq BIGSERIAL PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  connection TEXT NOT NULL,
  parent TEXT NOT NULL DEFAULT '',
  requested_ms BIGINT NOT NULL,
  requested_by TEXT NOT NULL DEFAULT '',
  done BOOLEAN NOT NULL DEFAULT FALSE,
  done_ms BIGINT NOT NULL DEFAULT 0,
  job TEXT NOT NULL DEFAULT '',
  done_by TEXT NOT NULL DEFAULT '',
  token BIGINT NOT NULL DEFAULT 0);
CREATE INDEX run_requests_pending ON run_requests (connection, seq) WHERE NOT done;
ALTER TABLE hosts ADD COLUMN hostname TEXT NOT NULL DEFAULT '';
)sql";

constexpr const char* kMigrations[] = {kSchemaV1, kSchemaV2};
static_assert(std::size(kMigrations) == PostgresStore::kSchemaVersion,
              "one migration per schema version");

std::int64_t to_ms(SystemTime time) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
}

SystemTime from_ms(std::int64_t ms) {
  return SystemTime(std::chrono::milliseconds(ms));
}

template <class Enum, std::size_t N>
std::optional<Enum> parse_enum(std::string_view text, const Enum (&values)[N]) {
  for (const Enum value : values)
    if (text == to_string(value))
      return value;
  return std::nullopt;
}

constexpr send::Outcome kOutcomes[] = {send::Outcome::acknowledged, send::Outcome::rejected,
                                       send::Outcome::retryable, send::Outcome::ambiguous};
constexpr MonthSyncState kMonthStates[] = {MonthSyncState::unknown, MonthSyncState::pending,
                                           MonthSyncState::synced, MonthSyncState::failed};
constexpr JobState kJobStates[] = {JobState::running, JobState::completed, JobState::failed,
                                   JobState::interrupted};

} // namespace

class PostgresStore::Impl {
public:
  Impl(PGconn* conn, std::chrono::milliseconds ttl, bool leased, bool serving)
      : conn_(conn), ttl_(ttl), leased_(leased), serving_(serving),
        owner_((serving ? "host_" : "cli_") + core::random_hex(2)) {}
  ~Impl() { PQfinish(conn_); }

  Error pg_error(std::string_view what) const {
    const std::string message = core::pg::trimmed(PQerrorMessage(conn_));
    return internal_error("postgres store: " + std::string(what) + ": " + message);
  }

  // Runs one statement; a lost connection is re-established once (outside a transaction).
  Result<Rows> exec(const char* sql, const Params& params = {}) const {
    if (PQstatus(conn_) != CONNECTION_OK && !in_transaction_) {
      PQreset(conn_);
      if (PQstatus(conn_) == CONNECTION_OK)
        (void)session_setup();
    }
    const std::vector<const char*> values = params.pointers();
    // Without parameters, the simple protocol: a migration is several statements.
    PGresult* result = params.size() == 0 ? PQexec(conn_, sql)
                                          : PQexecParams(conn_, sql, params.size(), nullptr,
                                                         values.data(), nullptr, nullptr, 0);
    const ExecStatusType status = PQresultStatus(result);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      std::string message = result != nullptr ? PQresultErrorMessage(result) : "";
      if (message.empty())
        message = PQerrorMessage(conn_);
      message = core::pg::trimmed(std::move(message));
      PQclear(result);
      std::string head(sql);
      head.erase(0, head.find_first_not_of(" \n"));
      head = head.substr(0, std::min<std::size_t>(head.find('\n'), 60));
      return internal_error("postgres store: \"" + head + "…\": " + message);
    }
    return Rows(result);
  }

  // Per session: a transaction left open by a host that stalls mid-write (a paused process holds
  // the lease row FOR SHARE, so no claim could take it) is ended by the server after a third of
  // the TTL, and no statement waits longer than that for a lock; so a paused host never keeps
  // its lease past the TTL. Our own transactions last milliseconds.
  bool session_setup() const {
    const std::string limit =
        std::to_string(std::max<std::int64_t>(500, static_cast<std::int64_t>(ttl_.count() / 3)));
    const std::string sql =
        "SET idle_in_transaction_session_timeout = " + limit + "; SET lock_timeout = " + limit;
    PGresult* result = PQexec(conn_, sql.c_str());
    const bool ok = PQresultStatus(result) == PGRES_COMMAND_OK;
    PQclear(result);
    return ok;
  }

  Status run(const char* sql, const Params& params = {}) {
    Result<Rows> rows = exec(sql, params);
    if (!rows)
      return std::move(rows).error();
    return {};
  }

  // Runs `body` in one transaction: committed when it succeeds, else rolled back.
  template <class Body>
  Status transaction(Body body) {
    if (Status begun = run("BEGIN"); !begun)
      return begun;
    in_transaction_ = true;
    Status status = body();
    in_transaction_ = false;
    if (!status) {
      (void)run("ROLLBACK");
      return status;
    }
    return run("COMMIT");
  }

  // Inside a transaction: locks this host's lease of the connection named `name` (FOR SHARE: a
  // claim skips it until the transaction ends) or fails when the lease is no longer this host's.
  // Without leases, or for an org-wide write (name ""), there is nothing to check.
  Status check_lease(const std::string& name) {
    if (!leased_ || name.empty())
      return {};
    const auto held = held_.find(name);
    if (held == held_.end())
      return fenced_error(name, "this host holds no lease of it");
    Result<Rows> rows = exec(
        "SELECT 1 FROM leases WHERE name = $1 AND owner = $2 AND token = $3 "
        "AND expires_at > now() FOR SHARE",
        Params().text(name).text(owner_).integer(static_cast<std::int64_t>(held->second.token)));
    if (!rows)
      return std::move(rows).error();
    if (rows->size() == 0) {
      const std::uint64_t token = held->second.token;
      forget(name);
      return fenced_error(name, "its lease (token " + std::to_string(token) +
                                    ") expired or was claimed by another host");
    }
    return {};
  }

  Error fenced_error(const std::string& name, const std::string& why) const {
    return source_error("connection '" + name + "' is fenced: " + why +
                        "; this host writes and sends nothing more for it");
  }

  // The name of the connection whose sends are journaled under `connection_id` ("" when leases
  // are off); a connection id this host holds no lease for is fenced.
  Result<std::string> lease_name(std::string_view connection_id) const {
    if (!leased_)
      return std::string();
    const auto found = by_connection_id_.find(std::string(connection_id));
    if (found == by_connection_id_.end())
      return fenced_error(std::string(connection_id), "this host holds no lease of it");
    return found->second;
  }

  // A write of the connection journaled under `connection_id`: `body` in a transaction that
  // first checks the lease.
  template <class Body>
  Status fenced(std::string_view connection_id, Body body) {
    Result<std::string> name = lease_name(connection_id);
    if (!name)
      return std::move(name).error();
    return transaction([&]() -> Status {
      if (Status held = check_lease(*name); !held)
        return held;
      return body();
    });
  }

  void forget(const std::string& name) {
    const auto held = held_.find(name);
    if (held == held_.end())
      return;
    by_connection_id_.erase(held->second.connection_id);
    held_.erase(held);
  }

  Status migrate() {
    // Concurrent first starts race on creating the version table: the loser retries.
    Status status;
    for (int attempt = 0; attempt < 5; ++attempt) {
      status = transaction([&]() -> Status {
        if (Status created = run("CREATE TABLE IF NOT EXISTS billdrop_schema (version INTEGER "
                                 "NOT NULL)");
            !created)
          return created;
        // One migrator at a time; the others wait here, then find the schema current.
        if (Status locked = run("LOCK TABLE billdrop_schema IN ACCESS EXCLUSIVE MODE"); !locked)
          return locked;
        Result<Rows> rows = exec("SELECT version FROM billdrop_schema");
        if (!rows)
          return std::move(rows).error();
        int version = rows->size() == 0 ? 0 : static_cast<int>(rows->integer(0, 0));
        found_version_ = version;
        if (version > PostgresStore::kSchemaVersion)
          return config_error("the PostgreSQL store has schema version " + std::to_string(version) +
                              ", written by a newer billdrop; this one reads up to version " +
                              std::to_string(PostgresStore::kSchemaVersion) + ": upgrade billdrop");
        for (; version < PostgresStore::kSchemaVersion; ++version)
          if (Status applied = run(kMigrations[version]); !applied)
            return applied.error().with_context("migrating the PostgreSQL store to version " +
                                                std::to_string(version + 1));
        if (Status cleared = run("DELETE FROM billdrop_schema"); !cleared)
          return cleared;
        return run("INSERT INTO billdrop_schema (version) VALUES ($1)",
                   Params().integer(PostgresStore::kSchemaVersion));
      });
      if (status || status.error().kind() == ErrorKind::config)
        return status;
    }
    return status;
  }

  // A serving host's presence (its share of the connections counts it); a one-off command's
  // store is not a host.
  Status register_host() {
    if (!serving_)
      return {};
    char name[256] = {};
    (void)::gethostname(name, sizeof name - 1);
    return run("INSERT INTO hosts (owner, expires_at, pid, hostname) VALUES ($1, now() + $2 * "
               "interval '1 millisecond', $3, $4) ON CONFLICT (owner) DO UPDATE SET expires_at = "
               "excluded.expires_at",
               Params().text(owner_).integer(ttl_.count()).integer(::getpid()).text(name));
  }

  struct Held {
    std::uint64_t token = 0;
    std::string connection_id;
  };

  mutable std::mutex mutex_;
  PGconn* conn_;
  mutable bool in_transaction_ = false;
  std::chrono::milliseconds ttl_;
  bool leased_;
  bool serving_;
  std::string owner_;
  std::string store_id_;
  int found_version_ = 0;
  std::map<std::string, Held> held_;                    // by connection name
  std::map<std::string, std::string> by_connection_id_; // connection id -> name
  std::map<std::string, std::string> job_connections_;  // this host's job id -> connection name
};

PostgresStore::PostgresStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PostgresStore::~PostgresStore() {
  // Leases held are given back, so another host need not wait for their expiry.
  if (impl_ && impl_->leased_ && PQstatus(impl_->conn_) == CONNECTION_OK) {
    (void)impl_->run("UPDATE leases SET expires_at = '-infinity' WHERE owner = $1 AND expires_at "
                     "> now()",
                     Params().text(impl_->owner_));
    (void)impl_->run("DELETE FROM hosts WHERE owner = $1", Params().text(impl_->owner_));
  }
}

namespace {

// `message` with the connection string's secrets taken out: libpq's messages about a malformed
// URI quote the whole URI, password included. Every password-like value (the URI's user:password,
// `password=` in either form) and the string itself become "***".
std::string without_secrets(std::string message, const std::string& url) {
  std::vector<std::string> secrets = {url};
  const auto add = [&](std::size_t begin, std::size_t end) {
    if (end > begin)
      secrets.push_back(url.substr(begin, end - begin));
  };
  // postgresql://user:password@host
  if (const std::size_t scheme = url.find("://"); scheme != std::string::npos) {
    const std::size_t at = url.find('@', scheme + 3);
    const std::size_t colon = url.find(':', scheme + 3);
    if (at != std::string::npos && colon != std::string::npos && colon < at)
      add(colon + 1, at);
  }
  // password=value (keyword form, or a URI query parameter), quoted or not
  for (std::size_t at = url.find("password"); at != std::string::npos;
       at = url.find("password", at + 1)) {
    std::size_t value = url.find_first_not_of(' ', at + 8);
    if (value == std::string::npos || url[value] != '=')
      continue;
    value = url.find_first_not_of(' ', value + 1);
    if (value == std::string::npos)
      break;
    if (url[value] == '\'') {
      add(value + 1,
          url.find('\'', value + 1) == std::string::npos ? url.size() : url.find('\'', value + 1));
    } else {
      add(value, std::min(url.find_first_of(" &", value), url.size()));
    }
  }
  // Longest first, so a secret inside the whole string is not half replaced.
  std::sort(secrets.begin(), secrets.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  for (const std::string& secret : secrets)
    for (std::size_t at = message.find(secret); !secret.empty() && at != std::string::npos;
         at = message.find(secret, at + 3))
      message.replace(at, secret.size(), "***");
  return message;
}

Result<PGconn*> connect(const std::string& url) {
  PGconn* conn = PQconnectdb(url.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    const std::string message = core::pg::trimmed(PQerrorMessage(conn));
    PQfinish(conn);
    // libpq's message names host and port; a malformed URI is quoted whole: without secrets.
    return config_error("cannot connect to the PostgreSQL store: " +
                        without_secrets(std::move(message), url));
  }
  // Notices (e.g. "relation already exists, skipping") are not for the log.
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  return conn;
}

} // namespace

Result<int> PostgresStore::migrate(const std::string& url) {
  Result<PGconn*> conn = connect(url);
  if (!conn)
    return std::move(conn).error();
  Impl impl(*conn, std::chrono::milliseconds(60'000), false, false);
  if (Status migrated = impl.migrate(); !migrated)
    return std::move(migrated).error();
  return impl.found_version_;
}

Result<std::unique_ptr<PostgresStore>> PostgresStore::open(const std::string& url,
                                                           std::chrono::milliseconds lease_ttl,
                                                           bool leased,
                                                           std::optional<bool> serving) {
  Result<PGconn*> conn = connect(url);
  if (!conn)
    return std::move(conn).error();
  auto impl = std::make_unique<Impl>(*conn, lease_ttl, leased, serving.value_or(leased));
  if (!impl->session_setup())
    return impl->pg_error("setting the session's timeouts");
  if (Status migrated = impl->migrate(); !migrated)
    return std::move(migrated).error();
  const std::string candidate = core::random_hex(4); // 128 random bits: the store's id
  if (Status status = impl->run("INSERT INTO store_info (name, value) VALUES ('store_id', $1) "
                                "ON CONFLICT (name) DO NOTHING",
                                Params().text(candidate));
      !status)
    return std::move(status).error();
  Result<Rows> id = impl->exec("SELECT value FROM store_info WHERE name = 'store_id'");
  if (!id)
    return std::move(id).error();
  if (id->size() != 1)
    return internal_error("postgres store: no store id");
  impl->store_id_ = id->text(0, 0);
  if (Status registered = impl->register_host(); !registered)
    return std::move(registered).error();
  return std::unique_ptr<PostgresStore>(new PostgresStore(std::move(impl)));
}

const std::string& PostgresStore::store_id() const noexcept {
  return impl_->store_id_;
}

// ---- sending ----

Result<send::SendStart> PostgresStore::begin_send(std::string_view connection_id, Month month,
                                                  std::string_view plan_digest, SystemTime now) {
  const std::lock_guard lock(impl_->mutex_);
  const std::string month_text = month.to_string();
  send::SendStart start;
  start.generation.store_id = impl_->store_id_;
  Status status = impl_->fenced(connection_id, [&]() -> Status {
    Result<Rows> last_send =
        impl_->exec("SELECT generation, plan_digest, started_ms, finished FROM month_sends WHERE "
                    "connection_id = $1 AND month = $2 FOR UPDATE",
                    Params().text(connection_id).text(month_text));
    if (!last_send)
      return std::move(last_send).error();
    std::uint64_t last = 0;
    if (last_send->size() == 1) {
      last = static_cast<std::uint64_t>(last_send->integer(0, 0));
      const bool same_plan = last_send->text(0, 1) == plan_digest;
      const SystemTime started = from_ms(last_send->integer(0, 2));
      const bool finished = last_send->boolean(0, 3);
      start.resumed = same_plan && !finished && started <= now && now - started < kResumeWithin;
    }
    if (start.resumed) {
      start.generation.number = last;
      Result<Rows> keys = impl_->exec(
          "SELECT chunk_index, restarts, answered_errors FROM chunk_keys WHERE connection_id = $1 "
          "AND month = $2 AND generation = $3",
          Params().text(connection_id).text(month_text).integer(static_cast<std::int64_t>(last)));
      if (!keys)
        return std::move(keys).error();
      for (int i = 0; i < keys->size(); ++i)
        start.chunks[static_cast<std::uint32_t>(keys->integer(i, 0))] =
            send::ChunkKeyState{static_cast<std::uint32_t>(keys->integer(i, 1)),
                                static_cast<std::uint32_t>(keys->integer(i, 2))};
    } else {
      start.generation.number = last + 1;
      if (Status cleared =
              impl_->run("DELETE FROM chunk_keys WHERE connection_id = $1 AND month = $2",
                         Params().text(connection_id).text(month_text));
          !cleared)
        return cleared;
      if (Status saved =
              impl_->run("INSERT INTO month_sends (connection_id, month, generation, plan_digest, "
                         "started_ms, finished) VALUES ($1, $2, $3, $4, $5, FALSE) ON CONFLICT "
                         "(connection_id, month) DO UPDATE SET generation = excluded.generation, "
                         "plan_digest = excluded.plan_digest, started_ms = excluded.started_ms, "
                         "finished = FALSE",
                         Params()
                             .text(connection_id)
                             .text(month_text)
                             .integer(static_cast<std::int64_t>(start.generation.number))
                             .text(plan_digest)
                             .integer(to_ms(now)));
          !saved)
        return saved;
    }
    if (Status cleared =
            impl_->run("DELETE FROM chunk_status WHERE connection_id = $1 AND "
                       "month = $2 AND plan_digest = $3",
                       Params().text(connection_id).text(month_text).text(plan_digest));
        !cleared)
      return cleared;
    return impl_->run(
        "INSERT INTO month_sync (connection_id, month, state, plan_digest, updated_ms) VALUES "
        "($1, $2, 'pending', $3, $4) ON CONFLICT (connection_id, month) DO UPDATE SET state = "
        "'pending', plan_digest = excluded.plan_digest, updated_ms = excluded.updated_ms, "
        "error = ''",
        Params().text(connection_id).text(month_text).text(plan_digest).integer(to_ms(now)));
  });
  if (!status)
    return std::move(status).error();
  return start;
}

Status PostgresStore::save_key_state(std::string_view connection_id, Month month,
                                     const send::SendGeneration& generation,
                                     const std::map<std::uint32_t, send::ChunkKeyState>& chunks) {
  const std::lock_guard lock(impl_->mutex_);
  const std::string month_text = month.to_string();
  if (generation.store_id != impl_->store_id_)
    return internal_error("postgres store: key state of another store's send (" +
                          generation.store_id + ")");
  return impl_->fenced(connection_id, [&]() -> Status {
    Result<Rows> current = impl_->exec(
        "SELECT generation FROM month_sends WHERE connection_id = $1 AND month = $2 FOR UPDATE",
        Params().text(connection_id).text(month_text));
    if (!current)
      return std::move(current).error();
    if (current->size() != 1 ||
        static_cast<std::uint64_t>(current->integer(0, 0)) != generation.number)
      return internal_error("postgres store: send " + std::to_string(generation.number) + " of " +
                            std::string(connection_id) + " " + month_text +
                            " is not the month's current send (another send began since)");
    for (const auto& [index, state] : chunks)
      if (Status saved = impl_->run(
              "INSERT INTO chunk_keys (connection_id, month, generation, chunk_index, restarts, "
              "answered_errors) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (connection_id, "
              "month, generation, chunk_index) DO UPDATE SET restarts = excluded.restarts, "
              "answered_errors = excluded.answered_errors",
              Params()
                  .text(connection_id)
                  .text(month_text)
                  .integer(static_cast<std::int64_t>(generation.number))
                  .integer(index)
                  .integer(state.restarts)
                  .integer(state.answered_errors));
          !saved)
        return saved;
    return {};
  });
}

Status PostgresStore::record_attempt(const send::Attempt& attempt) {
  const std::lock_guard lock(impl_->mutex_);
  return impl_->fenced(attempt.connection_id, [&]() -> Status {
    return impl_->run(
        "INSERT INTO send_attempts (connection_id, month, plan_digest, chunk_index, attempt, "
        "operation, idempotency_key, outcome, http_status, message, drop_id, started_ms, "
        "duration_ms, host) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        Params()
            .text(attempt.connection_id)
            .text(attempt.month.to_string())
            .text(attempt.plan_digest)
            .integer(attempt.chunk_index)
            .integer(attempt.attempt)
            .text(cbf::to_string(attempt.operation))
            .text(attempt.idempotency_key)
            .text(send::to_string(attempt.outcome))
            .integer(attempt.http_status)
            .text(attempt.message)
            .text(attempt.drop_id)
            .integer(to_ms(attempt.started))
            .integer(attempt.duration.count())
            .text(impl_->owner_));
  });
}

Status PostgresStore::mark_chunk_acknowledged(std::string_view connection_id, Month month,
                                              std::string_view plan_digest,
                                              std::uint32_t chunk_index, std::string_view drop_id,
                                              SystemTime at) {
  const std::lock_guard lock(impl_->mutex_);
  const std::string month_text = month.to_string();
  return impl_->fenced(connection_id, [&]() -> Status {
    if (Status marked = impl_->run(
            "INSERT INTO chunk_status (connection_id, month, plan_digest, chunk_index, drop_id, "
            "acknowledged_ms) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (connection_id, month, "
            "plan_digest, chunk_index) DO UPDATE SET drop_id = excluded.drop_id, "
            "acknowledged_ms = excluded.acknowledged_ms",
            Params()
                .text(connection_id)
                .text(month_text)
                .text(plan_digest)
                .integer(chunk_index)
                .text(drop_id)
                .integer(to_ms(at)));
        !marked)
      return marked;
    return impl_->run(
        "INSERT INTO month_sync (connection_id, month, state, plan_digest, updated_ms) VALUES "
        "($1, $2, 'pending', $3, $4) ON CONFLICT (connection_id, month) DO UPDATE SET state = "
        "'pending', plan_digest = excluded.plan_digest, updated_ms = excluded.updated_ms, "
        "error = ''",
        Params().text(connection_id).text(month_text).text(plan_digest).integer(to_ms(at)));
  });
}

Status PostgresStore::mark_month_synced(std::string_view connection_id, const plan::DropPlan& plan,
                                        SystemTime at) {
  const std::lock_guard lock(impl_->mutex_);
  const std::string month_text = plan.month.to_string();
  return impl_->fenced(connection_id, [&]() -> Status {
    Result<Rows> acked =
        impl_->exec("SELECT chunk_index FROM chunk_status WHERE connection_id = "
                    "$1 AND month = $2 AND plan_digest = $3",
                    Params().text(connection_id).text(month_text).text(plan.digest));
    if (!acked)
      return std::move(acked).error();
    std::vector<bool> acknowledged(plan.chunks.size(), false);
    for (int i = 0; i < acked->size(); ++i) {
      const std::int64_t index = acked->integer(i, 0);
      if (index >= 0 && static_cast<std::size_t>(index) < acknowledged.size())
        acknowledged[static_cast<std::size_t>(index)] = true;
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
    if (Status finished = impl_->run("UPDATE month_sends SET finished = TRUE WHERE "
                                     "connection_id = $1 AND month = $2",
                                     Params().text(connection_id).text(month_text));
        !finished)
      return finished;
    return impl_->run(
        "INSERT INTO month_sync (connection_id, month, state, plan_digest, rows, cost, synced_ms, "
        "updated_ms, error) VALUES ($1, $2, 'synced', $3, $4, $5, $6, $6, '') ON CONFLICT "
        "(connection_id, month) DO UPDATE SET state = 'synced', plan_digest = "
        "excluded.plan_digest, rows = excluded.rows, cost = excluded.cost, synced_ms = "
        "excluded.synced_ms, updated_ms = excluded.updated_ms, error = ''",
        Params()
            .text(connection_id)
            .text(month_text)
            .text(plan.digest)
            .integer(static_cast<std::int64_t>(plan.rows))
            .text(plan.cost.to_string())
            .integer(to_ms(at)));
  });
}

Status PostgresStore::mark_month_failed(std::string_view connection_id, Month month,
                                        std::string_view plan_digest, std::string_view error,
                                        SystemTime at) {
  const std::lock_guard lock(impl_->mutex_);
  const std::string month_text = month.to_string();
  return impl_->fenced(connection_id, [&]() -> Status {
    if (Status finished = impl_->run("UPDATE month_sends SET finished = TRUE WHERE "
                                     "connection_id = $1 AND month = $2",
                                     Params().text(connection_id).text(month_text));
        !finished)
      return finished;
    return impl_->run(
        "INSERT INTO month_sync (connection_id, month, state, plan_digest, updated_ms, error) "
        "VALUES ($1, $2, 'failed', $3, $4, $5) ON CONFLICT (connection_id, month) DO UPDATE SET "
        "state = 'failed', plan_digest = excluded.plan_digest, updated_ms = excluded.updated_ms, "
        "error = excluded.error",
        Params()
            .text(connection_id)
            .text(month_text)
            .text(plan_digest)
            .integer(to_ms(at))
            .text(error));
  });
}

Status PostgresStore::check_before_request(std::string_view connection_id) {
  const std::lock_guard lock(impl_->mutex_);
  if (!impl_->leased_)
    return {};
  // The self-fence: a short read of the lease row, no transaction left open over the request.
  return impl_->fenced(connection_id, [] { return Status(); });
}

// ---- reads ----

namespace {

Result<std::vector<std::pair<Month, MonthSyncState>>> month_state_rows(const Rows& rows,
                                                                       int first_column) {
  std::vector<std::pair<Month, MonthSyncState>> states;
  for (int i = 0; i < rows.size(); ++i) {
    Result<Month> month = Month::parse(rows.text(i, first_column));
    const std::optional<MonthSyncState> state =
        parse_enum(rows.text(i, first_column + 1), kMonthStates);
    if (!month || !state)
      return internal_error("postgres store: bad month row \"" + rows.text(i, first_column) +
                            "\" \"" + rows.text(i, first_column + 1) + "\"");
    states.emplace_back(*month, *state);
  }
  return states;
}

} // namespace

Result<MonthStatus> PostgresStore::month_status(std::string_view connection_id, Month month) const {
  const std::lock_guard lock(impl_->mutex_);
  const std::string month_text = month.to_string();
  Result<Rows> rows = impl_->exec(
      "SELECT m.state, m.plan_digest, m.rows, m.cost, m.synced_ms, m.updated_ms, m.error, "
      "(SELECT COUNT(*) FROM chunk_status c WHERE c.connection_id = m.connection_id AND c.month = "
      "m.month AND c.plan_digest = m.plan_digest) FROM month_sync m WHERE m.connection_id = $1 "
      "AND m.month = $2",
      Params().text(connection_id).text(month_text));
  if (!rows)
    return std::move(rows).error();
  MonthStatus status;
  if (rows->size() == 0)
    return status; // unknown
  const std::optional<MonthSyncState> state = parse_enum(rows->text(0, 0), kMonthStates);
  if (!state)
    return internal_error("postgres store: unknown month state \"" + rows->text(0, 0) + "\"");
  status.state = *state;
  status.plan_digest = rows->text(0, 1);
  status.rows = static_cast<std::uint64_t>(rows->integer(0, 2));
  Result<Decimal> cost = Decimal::parse(rows->text(0, 3));
  if (!cost)
    return std::move(cost).error().with_context("postgres store: month cost");
  status.cost = *cost;
  status.synced_at = from_ms(rows->integer(0, 4));
  status.updated_at = from_ms(rows->integer(0, 5));
  status.error = rows->text(0, 6);
  status.chunks_acknowledged = static_cast<std::uint32_t>(rows->integer(0, 7));
  return status;
}

Result<std::vector<Month>> PostgresStore::months(std::string_view connection_id) const {
  Result<std::vector<std::pair<Month, MonthSyncState>>> states = month_states(connection_id);
  if (!states)
    return std::move(states).error();
  std::vector<Month> months;
  for (const auto& [month, state] : *states)
    months.push_back(month);
  return months;
}

Result<std::vector<std::pair<Month, MonthSyncState>>>
PostgresStore::month_states(std::string_view connection_id) const {
  const std::lock_guard lock(impl_->mutex_);
  Result<Rows> rows =
      impl_->exec("SELECT month, state FROM month_sync WHERE connection_id = $1 ORDER BY month",
                  Params().text(connection_id));
  if (!rows)
    return std::move(rows).error();
  return month_state_rows(*rows, 0);
}

Result<std::map<std::string, std::vector<std::pair<Month, MonthSyncState>>>>
PostgresStore::all_month_states() const {
  const std::lock_guard lock(impl_->mutex_);
  Result<Rows> rows = impl_->exec(
      "SELECT connection_id, month, state FROM month_sync ORDER BY connection_id, month");
  if (!rows)
    return std::move(rows).error();
  std::map<std::string, std::vector<std::pair<Month, MonthSyncState>>> states;
  for (int i = 0; i < rows->size(); ++i) {
    Result<Month> month = Month::parse(rows->text(i, 1));
    const std::optional<MonthSyncState> state = parse_enum(rows->text(i, 2), kMonthStates);
    if (!month || !state)
      return internal_error("postgres store: bad month row \"" + rows->text(i, 1) + "\" \"" +
                            rows->text(i, 2) + "\"");
    states[rows->text(i, 0)].emplace_back(*month, *state);
  }
  return states;
}

Result<std::vector<send::Attempt>> PostgresStore::attempts(std::string_view connection_id,
                                                           Month month) const {
  const std::lock_guard lock(impl_->mutex_);
  Result<Rows> rows = impl_->exec(
      "SELECT connection_id, month, plan_digest, chunk_index, attempt, operation, "
      "idempotency_key, outcome, http_status, message, drop_id, started_ms, duration_ms FROM "
      "send_attempts WHERE connection_id = $1 AND month = $2 ORDER BY seq",
      Params().text(connection_id).text(month.to_string()));
  if (!rows)
    return std::move(rows).error();
  std::vector<send::Attempt> out;
  for (int i = 0; i < rows->size(); ++i) {
    send::Attempt attempt;
    attempt.connection_id = rows->text(i, 0);
    Result<Month> parsed_month = Month::parse(rows->text(i, 1));
    const std::optional<cbf::DropOperation> operation = cbf::parse_drop_operation(rows->text(i, 5));
    const std::optional<send::Outcome> outcome = parse_enum(rows->text(i, 7), kOutcomes);
    if (!parsed_month || !operation || !outcome)
      return internal_error(
          "postgres store: an attempt row has an unknown month, operation or outcome");
    attempt.month = *parsed_month;
    attempt.plan_digest = rows->text(i, 2);
    attempt.chunk_index = static_cast<std::uint32_t>(rows->integer(i, 3));
    attempt.attempt = static_cast<std::uint32_t>(rows->integer(i, 4));
    attempt.operation = *operation;
    attempt.idempotency_key = rows->text(i, 6);
    attempt.outcome = *outcome;
    attempt.http_status = static_cast<int>(rows->integer(i, 8));
    attempt.message = rows->text(i, 9);
    attempt.drop_id = rows->text(i, 10);
    attempt.started = from_ms(rows->integer(i, 11));
    attempt.duration = std::chrono::milliseconds(rows->integer(i, 12));
    out.push_back(std::move(attempt));
  }
  return out;
}

// ---- ServiceStore ----

namespace {

constexpr const char* kJobColumns = "id, kind, connection, parent, state, started_ms, finished_ms, "
                                    "message, result_json, pid";

Result<JobRecord> job_row(const Rows& rows, int i) {
  JobRecord job;
  job.id = rows.text(i, 0);
  job.kind = rows.text(i, 1);
  job.connection = rows.text(i, 2);
  job.parent = rows.text(i, 3);
  const std::optional<JobState> state = parse_enum(rows.text(i, 4), kJobStates);
  if (!state)
    return internal_error("postgres store: unknown job state \"" + rows.text(i, 4) + "\"");
  job.state = *state;
  job.started = from_ms(rows.integer(i, 5));
  job.finished = from_ms(rows.integer(i, 6));
  job.message = rows.text(i, 7);
  job.result_json = rows.text(i, 8);
  job.pid = rows.integer(i, 9);
  return job;
}

} // namespace

Result<std::string> PostgresStore::begin_job(std::string_view kind, std::string_view connection,
                                             std::string_view parent) {
  const std::lock_guard lock(impl_->mutex_);
  std::string id = "job_" + core::random_hex(2);
  const std::string name(connection);
  Status status = impl_->transaction([&]() -> Status {
    if (Status held = impl_->check_lease(name); !held)
      return held;
    return impl_->run("INSERT INTO sync_jobs (id, kind, connection, parent, state, started_ms, "
                      "pid, host) VALUES ($1, $2, $3, $4, 'running', $5, $6, $7)",
                      Params()
                          .text(id)
                          .text(kind)
                          .text(connection)
                          .text(parent)
                          .integer(to_ms(std::chrono::system_clock::now()))
                          .integer(::getpid())
                          .text(impl_->owner_));
  });
  if (!status)
    return std::move(status).error();
  impl_->job_connections_[id] = name;
  return id;
}

Status PostgresStore::finish_job(std::string_view id, JobState state, std::string_view message,
                                 std::string_view result_json) {
  const std::lock_guard lock(impl_->mutex_);
  // A job row is its host's own record: finished by the host that began it (`host = me`), even
  // after its lease was lost (then as interrupted: what it did after is not trusted).
  const auto found = impl_->job_connections_.find(std::string(id));
  const std::string name = found != impl_->job_connections_.end() ? found->second : "";
  if (found != impl_->job_connections_.end())
    impl_->job_connections_.erase(found);
  std::string text(message);
  if (impl_->leased_ && !name.empty() && impl_->held_.count(name) == 0) {
    state = JobState::interrupted;
    text = "interrupted: this host lost the connection's lease" +
           (text.empty() ? std::string() : " (" + text + ")");
  }
  return impl_->run(
      "UPDATE sync_jobs SET state = $2, finished_ms = $3, message = $4, result_json = CASE WHEN "
      "$5 = '' THEN result_json ELSE $5 END WHERE id = $1 AND (host = $6 OR NOT $7)",
      Params()
          .text(id)
          .text(to_string(state))
          .integer(to_ms(std::chrono::system_clock::now()))
          .text(text)
          .text(result_json)
          .text(impl_->owner_)
          .text(impl_->leased_ ? "true" : "false"));
}

Status PostgresStore::set_job_result(std::string_view id, std::string_view result_json) {
  const std::lock_guard lock(impl_->mutex_);
  return impl_->run("UPDATE sync_jobs SET result_json = $2 WHERE id = $1",
                    Params().text(id).text(result_json));
}

Result<std::optional<JobRecord>> PostgresStore::job(std::string_view id) const {
  const std::lock_guard lock(impl_->mutex_);
  static const std::string sql =
      std::string("SELECT ") + kJobColumns + " FROM sync_jobs WHERE id = $1";
  Result<Rows> rows = impl_->exec(sql.c_str(), Params().text(id));
  if (!rows)
    return std::move(rows).error();
  if (rows->size() == 0)
    return std::optional<JobRecord>();
  Result<JobRecord> job = job_row(*rows, 0);
  if (!job)
    return std::move(job).error();
  return std::optional<JobRecord>(std::move(*job));
}

Result<std::vector<JobRecord>> PostgresStore::jobs(std::string_view kind, std::size_t limit) const {
  const std::lock_guard lock(impl_->mutex_);
  static const std::string sql = std::string("SELECT ") + kJobColumns +
                                 " FROM sync_jobs WHERE ($1 = '' OR kind = $1) ORDER BY "
                                 "started_ms DESC, seq DESC LIMIT $2";
  Result<Rows> rows =
      impl_->exec(sql.c_str(), Params().text(kind).integer(static_cast<std::int64_t>(limit)));
  if (!rows)
    return std::move(rows).error();
  std::vector<JobRecord> out;
  for (int i = 0; i < rows->size(); ++i) {
    Result<JobRecord> job = job_row(*rows, i);
    if (!job)
      return std::move(job).error();
    out.push_back(std::move(*job));
  }
  return out;
}

Result<std::size_t> PostgresStore::interrupt_orphaned_jobs() {
  const std::lock_guard lock(impl_->mutex_);
  Result<Rows> rows = impl_->exec(
      "UPDATE sync_jobs SET state = 'interrupted', finished_ms = $1, message = 'interrupted: the "
      "host running it (' || host || ', pid ' || pid || ') stopped before it ended' WHERE state = "
      "'running' AND host <> $2 AND host NOT IN (SELECT owner FROM hosts WHERE expires_at > "
      "now()) RETURNING id",
      Params().integer(to_ms(std::chrono::system_clock::now())).text(impl_->owner_));
  if (!rows)
    return std::move(rows).error();
  return static_cast<std::size_t>(rows->size());
}

namespace {

constexpr const char* kConnectionColumns =
    "connection, last_run_ms, last_success_ms, last_error_ms, last_error, backfilled, "
    "months_backfilled, cursor";

ConnectionRecord connection_row(const Rows& rows, int i) {
  ConnectionRecord record;
  record.connection = rows.text(i, 0);
  record.last_run = from_ms(rows.integer(i, 1));
  record.last_success = from_ms(rows.integer(i, 2));
  record.last_error_at = from_ms(rows.integer(i, 3));
  record.last_error = rows.text(i, 4);
  record.backfilled = rows.boolean(i, 5);
  record.months_backfilled = static_cast<std::uint32_t>(rows.integer(i, 6));
  record.cursor = rows.text(i, 7);
  return record;
}

} // namespace

Result<ConnectionRecord> PostgresStore::connection(std::string_view connection) const {
  const std::lock_guard lock(impl_->mutex_);
  static const std::string sql =
      std::string("SELECT ") + kConnectionColumns + " FROM connection_state WHERE connection = $1";
  Result<Rows> rows = impl_->exec(sql.c_str(), Params().text(connection));
  if (!rows)
    return std::move(rows).error();
  if (rows->size() == 0) {
    ConnectionRecord record;
    record.connection = std::string(connection);
    return record;
  }
  return connection_row(*rows, 0);
}

Result<std::vector<ConnectionRecord>> PostgresStore::connections() const {
  const std::lock_guard lock(impl_->mutex_);
  static const std::string sql =
      std::string("SELECT ") + kConnectionColumns + " FROM connection_state ORDER BY connection";
  Result<Rows> rows = impl_->exec(sql.c_str());
  if (!rows)
    return std::move(rows).error();
  std::vector<ConnectionRecord> records;
  for (int i = 0; i < rows->size(); ++i)
    records.push_back(connection_row(*rows, i));
  return records;
}

Status PostgresStore::save_connection(const ConnectionRecord& record) {
  const std::lock_guard lock(impl_->mutex_);
  return impl_->transaction([&]() -> Status {
    if (Status held = impl_->check_lease(record.connection); !held)
      return held;
    return impl_->run(
        "INSERT INTO connection_state (connection, last_run_ms, last_success_ms, last_error_ms, "
        "last_error, backfilled, months_backfilled, cursor) VALUES ($1, $2, $3, $4, $5, $6, $7, "
        "$8) ON CONFLICT (connection) DO UPDATE SET last_run_ms = excluded.last_run_ms, "
        "last_success_ms = excluded.last_success_ms, last_error_ms = excluded.last_error_ms, "
        "last_error = excluded.last_error, backfilled = excluded.backfilled, months_backfilled = "
        "excluded.months_backfilled, cursor = excluded.cursor",
        Params()
            .text(record.connection)
            .integer(to_ms(record.last_run))
            .integer(to_ms(record.last_success))
            .integer(to_ms(record.last_error_at))
            .text(record.last_error)
            .text(record.backfilled ? "true" : "false")
            .integer(record.months_backfilled)
            .text(record.cursor));
  });
}

// ---- run requests ----

namespace {

constexpr std::int64_t kRunRequestsKeptMs = 7LL * 24 * 3600 * 1000;

constexpr const char* kRunRequestColumns =
    "id, connection, parent, requested_ms, done, done_ms, job, done_by, token";

RunRequest run_request_row(const Rows& rows, int i) {
  RunRequest request;
  request.id = rows.text(i, 0);
  request.connection = rows.text(i, 1);
  request.parent = rows.text(i, 2);
  request.requested = from_ms(rows.integer(i, 3));
  request.done = rows.boolean(i, 4);
  request.done_at = from_ms(rows.integer(i, 5));
  request.job = rows.text(i, 6);
  request.done_by = rows.text(i, 7);
  request.token = static_cast<std::uint64_t>(rows.integer(i, 8));
  return request;
}

} // namespace

Result<std::vector<std::string>>
PostgresStore::request_runs(const std::vector<std::string>& connections, std::string_view parent) {
  const std::lock_guard lock(impl_->mutex_);
  std::vector<std::string> ids;
  for (std::size_t i = 0; i < connections.size(); ++i)
    ids.push_back("run_" + core::random_hex(2));
  if (ids.empty())
    return ids;
  // Requests done more than a week ago are history nobody reads: pruned as new ones come.
  if (Status pruned = impl_->run(
          "DELETE FROM run_requests WHERE done AND done_ms < $1",
          Params().integer(to_ms(std::chrono::system_clock::now()) - kRunRequestsKeptMs));
      !pruned)
    return std::move(pruned).error();
  // One statement: every request of the batch is visible to the hosts at once.
  if (Status inserted = impl_->run(
          "INSERT INTO run_requests (id, connection, parent, requested_ms, requested_by) SELECT "
          "r.id, r.connection, $3::text, $4::bigint, $5::text FROM unnest($1::text[], $2::text[]) "
          "AS r(id, connection)",
          Params()
              .text(text_array(ids))
              .text(text_array(connections))
              .text(parent)
              .integer(to_ms(std::chrono::system_clock::now()))
              .text(impl_->owner_));
      !inserted)
    return std::move(inserted).error();
  return ids;
}

Result<std::vector<RunRequest>>
PostgresStore::pending_runs(const std::vector<std::string>& connections) const {
  const std::lock_guard lock(impl_->mutex_);
  static const std::string sql = std::string("SELECT ") + kRunRequestColumns +
                                 " FROM run_requests WHERE NOT done AND ($1 OR connection = "
                                 "ANY($2::text[])) ORDER BY seq";
  Result<Rows> rows = impl_->exec(
      sql.c_str(),
      Params().text(connections.empty() ? "true" : "false").text(text_array(connections)));
  if (!rows)
    return std::move(rows).error();
  std::vector<RunRequest> out;
  for (int i = 0; i < rows->size(); ++i)
    out.push_back(run_request_row(*rows, i));
  return out;
}

Status PostgresStore::finish_runs(std::string_view connection, const std::vector<std::string>& ids,
                                  std::string_view job, std::uint64_t token) {
  const std::lock_guard lock(impl_->mutex_);
  if (ids.empty())
    return {};
  const std::string name(connection);
  return impl_->transaction([&]() -> Status {
    if (impl_->leased_) {
      // The token the sync ran under must still be this host's: a lease lost and claimed again
      // meanwhile has a new token, and the run under the old one may have been cut short.
      const auto held = impl_->held_.find(name);
      if (held != impl_->held_.end() && held->second.token != token)
        return impl_->fenced_error(name, "the sync ran under token " + std::to_string(token) +
                                             ", which is not this host's any more");
      if (Status checked = impl_->check_lease(name); !checked)
        return checked;
    }
    return impl_->run("UPDATE run_requests SET done = TRUE, done_ms = $3, job = $4, done_by = $5, "
                      "token = $6 WHERE id = ANY($1::text[]) AND connection = $2 AND NOT done",
                      Params()
                          .text(text_array(ids))
                          .text(connection)
                          .integer(to_ms(std::chrono::system_clock::now()))
                          .text(job)
                          .text(impl_->owner_)
                          .integer(static_cast<std::int64_t>(token)));
  });
}

Result<std::vector<RunRequest>>
PostgresStore::run_requests(const std::vector<std::string>& ids) const {
  const std::lock_guard lock(impl_->mutex_);
  static const std::string sql = std::string("SELECT ") + kRunRequestColumns +
                                 " FROM run_requests WHERE id = ANY($1::text[]) ORDER BY seq";
  Result<Rows> rows = impl_->exec(sql.c_str(), Params().text(text_array(ids)));
  if (!rows)
    return std::move(rows).error();
  std::vector<RunRequest> out;
  for (int i = 0; i < rows->size(); ++i)
    out.push_back(run_request_row(*rows, i));
  return out;
}

// ---- leases ----

LeaseKeeper* PostgresStore::leases() noexcept {
  return impl_->leased_ ? this : nullptr;
}

const std::string& PostgresStore::owner() const noexcept {
  return impl_->owner_;
}

std::chrono::milliseconds PostgresStore::ttl() const noexcept {
  return impl_->ttl_;
}

Result<HeartbeatResult> PostgresStore::heartbeat() {
  const std::lock_guard lock(impl_->mutex_);
  HeartbeatResult result;
  if (Status registered = impl_->register_host(); !registered)
    return std::move(registered).error();
  if (!impl_->held_.empty()) {
    std::vector<std::string> names;
    std::vector<std::string> tokens;
    for (const auto& [name, held] : impl_->held_) {
      names.push_back(name);
      tokens.push_back(std::to_string(held.token));
    }
    // Renewed only while unexpired and still ours with the same token: a lease that lapsed
    // (this host was paused past the TTL) is lost even if nobody claimed it yet.
    Result<Rows> renewed = impl_->exec(
        "UPDATE leases l SET expires_at = now() + $2 * interval '1 millisecond' FROM "
        "unnest($3::text[], $4::bigint[]) AS h(name, token) WHERE l.name = h.name AND l.token = "
        "h.token AND l.owner = $1 AND l.expires_at > now() RETURNING l.name",
        Params()
            .text(impl_->owner_)
            .integer(impl_->ttl_.count())
            .text(text_array(names))
            .text(text_array(tokens)));
    if (!renewed)
      return std::move(renewed).error();
    std::set<std::string> kept;
    for (int i = 0; i < renewed->size(); ++i)
      kept.insert(renewed->text(i, 0));
    for (const std::string& name : names)
      if (kept.count(name) == 0) {
        impl_->forget(name);
        result.lost.push_back(name);
      }
  }
  Result<Rows> live = impl_->exec("SELECT COUNT(*) FROM hosts WHERE expires_at > now()");
  if (!live)
    return std::move(live).error();
  result.live_hosts = std::max<std::size_t>(1, static_cast<std::size_t>(live->integer(0, 0)));
  return result;
}

Result<std::vector<Lease>> PostgresStore::claim(const std::vector<LeaseKey>& candidates,
                                                std::size_t limit) {
  const std::lock_guard lock(impl_->mutex_);
  std::vector<Lease> won;
  if (candidates.empty() || limit == 0)
    return won;
  std::vector<std::string> names;
  std::map<std::string, const LeaseKey*> by_name;
  for (const LeaseKey& key : candidates)
    if (impl_->held_.count(key.name) == 0) {
      names.push_back(key.name);
      by_name[key.name] = &key;
    }
  if (names.empty())
    return won;
  const std::string array = text_array(names);
  // Every connection has a lease row, free until first claimed.
  if (Status rows = impl_->run("INSERT INTO leases (name) SELECT unnest($1::text[]) ON CONFLICT "
                               "(name) DO NOTHING",
                               Params().text(array));
      !rows)
    return std::move(rows).error();
  // One statement, its own short transaction: free or expired leases, locked with SKIP LOCKED
  // so hosts claiming at once take different ones, each taken with the next token.
  Result<Rows> claimed = impl_->exec(
      "WITH free AS (SELECT name FROM leases WHERE name = ANY($1::text[]) AND expires_at <= now() "
      "ORDER BY expires_at, name LIMIT $2 FOR UPDATE SKIP LOCKED) "
      "UPDATE leases l SET previous_owner = l.owner, previous_expired = (l.owner <> '' AND "
      "l.expires_at <> '-infinity'), owner = $3, token = l.token + 1, expires_at = now() + $4 * "
      "interval '1 millisecond', claimed_at = now() FROM free WHERE l.name = free.name "
      "RETURNING l.name, l.token, l.previous_expired",
      Params()
          .text(array)
          .integer(static_cast<std::int64_t>(limit))
          .text(impl_->owner_)
          .integer(impl_->ttl_.count()));
  if (!claimed)
    return std::move(claimed).error();
  for (int i = 0; i < claimed->size(); ++i) {
    Lease lease;
    lease.name = claimed->text(i, 0);
    lease.token = static_cast<std::uint64_t>(claimed->integer(i, 1));
    lease.taken_over = claimed->boolean(i, 2);
    const LeaseKey& key = *by_name.at(lease.name);
    impl_->held_[lease.name] = Impl::Held{lease.token, key.connection_id};
    impl_->by_connection_id_[key.connection_id] = lease.name;
    won.push_back(std::move(lease));
  }
  return won;
}

Status PostgresStore::release(const std::string& name) {
  const std::lock_guard lock(impl_->mutex_);
  const auto held = impl_->held_.find(name);
  if (held == impl_->held_.end())
    return {};
  const std::uint64_t token = held->second.token;
  impl_->forget(name);
  return impl_->run(
      "UPDATE leases SET expires_at = '-infinity' WHERE name = $1 AND owner = $2 "
      "AND token = $3",
      Params().text(name).text(impl_->owner_).integer(static_cast<std::int64_t>(token)));
}

Result<std::optional<LeaseHolder>> PostgresStore::holder(const std::string& name) const {
  const std::lock_guard lock(impl_->mutex_);
  Result<Rows> rows = impl_->exec(
      "SELECT l.owner, COALESCE(h.hostname, ''), COALESCE(h.pid, 0), l.token, "
      "(extract(epoch FROM l.expires_at) * 1000)::bigint FROM leases l LEFT JOIN hosts h ON "
      "h.owner = l.owner WHERE l.name = $1 AND l.expires_at > now()",
      Params().text(name));
  if (!rows)
    return std::move(rows).error();
  if (rows->size() == 0)
    return std::optional<LeaseHolder>();
  LeaseHolder holder;
  holder.owner = rows->text(0, 0);
  holder.hostname = rows->text(0, 1);
  holder.pid = rows->integer(0, 2);
  holder.token = static_cast<std::uint64_t>(rows->integer(0, 3));
  holder.expires = from_ms(rows->integer(0, 4));
  return std::optional<LeaseHolder>(std::move(holder));
}

std::uint64_t PostgresStore::token(const std::string& name) const {
  const std::lock_guard lock(impl_->mutex_);
  const auto held = impl_->held_.find(name);
  return held == impl_->held_.end() ? 0 : held->second.token;
}

bool PostgresStore::holds(const std::string& name) const {
  const std::lock_guard lock(impl_->mutex_);
  return impl_->held_.count(name) != 0;
}

std::size_t PostgresStore::held() const {
  const std::lock_guard lock(impl_->mutex_);
  return impl_->held_.size();
}

} // namespace billdrop::store
