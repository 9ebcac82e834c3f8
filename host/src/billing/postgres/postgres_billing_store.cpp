#include "billing/postgres/postgres_billing_store.hpp"

#include "billing/search_words.hpp"
#include "billing/utc_time.hpp"
#include "core/postgres_rows.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>

namespace billdrop::billing {

namespace {

using core::pg::Params;
using core::pg::Rows;
using core::pg::text_array;
using core::pg::trimmed;

// Migration N brings the billing tables from version N to N + 1. Tables are named billing_* so
// that they never meet the sync store's (which has a sync_jobs table of its own).
constexpr const char* kMigrations[] = {
    R"sql(
CREATE TABLE billing_categories (
  id TEXT COLLATE "C" PRIMARY KEY,
  name TEXT NOT NULL,
  name_key TEXT COLLATE "C" NOT NULL UNIQUE, -- lower(name) in ASCII, as the SQLite store
  description TEXT,
  color TEXT,
  parent_id TEXT COLLATE "C",
  created_ms BIGINT NOT NULL,
  updated_ms BIGINT NOT NULL);
CREATE TABLE billing_items (
  id TEXT COLLATE "C" PRIMARY KEY,
  name TEXT NOT NULL,
  amount BIGINT NOT NULL,
  currency TEXT COLLATE "C" NOT NULL,
  provider TEXT COLLATE "C",
  provider_ref TEXT COLLATE "C",
  tags TEXT[] NOT NULL,
  description TEXT,
  recurring BOOLEAN NOT NULL,
  period TEXT,
  date_ms BIGINT NOT NULL,
  category TEXT COLLATE "C",
  service TEXT COLLATE "C",
  stage_app TEXT COLLATE "C",
  author TEXT COLLATE "C",
  source TEXT NOT NULL,
  adapter TEXT,
  amount_exact TEXT,
  created_ms BIGINT NOT NULL,
  updated_ms BIGINT NOT NULL,
  search TSVECTOR NOT NULL); -- the FTS5 tokens of name, description, provider, service, tags
CREATE UNIQUE INDEX billing_items_provider_ref ON billing_items (COALESCE(provider, ''),
  provider_ref) WHERE provider_ref IS NOT NULL;
CREATE INDEX billing_items_date ON billing_items (date_ms, id);
CREATE INDEX billing_items_provider ON billing_items (provider, date_ms);
CREATE INDEX billing_items_category ON billing_items (category);
CREATE INDEX billing_items_tags ON billing_items USING GIN (tags);
CREATE INDEX billing_items_search ON billing_items USING GIN (search);
CREATE TABLE billing_sync_jobs (
  id TEXT COLLATE "C" PRIMARY KEY,
  provider TEXT NOT NULL,
  connection TEXT,
  status TEXT NOT NULL,
  from_day TEXT NOT NULL,
  to_day TEXT NOT NULL,
  items_created BIGINT NOT NULL,
  items_updated BIGINT NOT NULL,
  items_unchanged BIGINT NOT NULL,
  error TEXT,
  started_ms BIGINT NOT NULL,
  completed_ms BIGINT);
CREATE INDEX billing_sync_jobs_started ON billing_sync_jobs (started_ms);
-- One write counter per open store (its `writer`), bumped by its own write transactions only, so
-- hosts never contend on it; generation() is their sum. A store that closes folds its count
-- into the row ''.
CREATE TABLE billing_generations (
  writer TEXT PRIMARY KEY,
  generation BIGINT NOT NULL);
)sql",
};
static_assert(std::size(kMigrations) == kPostgresBillingSchemaVersion);

// Serialization failure, deadlock: the transaction is run again.
constexpr const char* kRetryStates[] = {"40001", "40P01"};
constexpr const char* kUniqueViolation = "23505";
constexpr int kMaxAttempts = 12;

// A statement that failed: the message and the SQLSTATE (empty when the connection failed).
class PgError : public std::runtime_error {
public:
  PgError(const std::string& message, std::string state)
      : std::runtime_error(message), state_(std::move(state)) {}
  const std::string& state() const noexcept { return state_; }
  bool retryable() const {
    return std::any_of(std::begin(kRetryStates), std::end(kRetryStates),
                       [&](const char* s) { return state_ == s; });
  }

private:
  std::string state_;
};

// A text[] as PostgreSQL prints it: {a,"b c","d\"e"} (tags are never NULL).
std::vector<std::string> parse_text_array(std::string_view text) {
  std::vector<std::string> out;
  if (text.size() < 2 || text == "{}")
    return out;
  std::size_t i = 1;
  while (i < text.size()) {
    std::string value;
    if (text[i] == '"') {
      for (++i; i < text.size() && text[i] != '"'; ++i) {
        if (text[i] == '\\' && i + 1 < text.size())
          ++i;
        value += text[i];
      }
      ++i; // the closing quote
    } else {
      for (; i < text.size() && text[i] != ',' && text[i] != '}'; ++i)
        value += text[i];
    }
    out.push_back(std::move(value));
    if (i >= text.size() || text[i] == '}')
      break;
    ++i; // the comma
  }
  return out;
}

// A lexeme in tsvector/tsquery input syntax: quoted, so that nothing in it is read as syntax.
std::string lexeme(const std::string& token) {
  std::string out = "'";
  for (const char c : token) {
    if (c == '\'' || c == '\\')
      out += c == '\'' ? '\'' : '\\';
    out += c;
  }
  return out + "'";
}

// A lexeme may hold at most 2047 bytes: longer tokens keep their first 2000 (cut on a UTF-8
// boundary), which still answers every prefix query the API allows (`q` is at most 500 bytes).
std::string clip_token(std::string token) {
  if (token.size() <= 2000)
    return token;
  std::size_t end = 2000;
  while (end > 0 && (static_cast<unsigned char>(token[end]) & 0xC0) == 0x80)
    --end;
  token.resize(end);
  return token;
}

// The item's searchable text as a tsvector literal: the tokens FTS5 indexes for its columns
// (name, description, provider, service, tags joined by spaces), with positions; a gap between
// columns keeps a phrase from spanning two.
std::string search_vector(const Item& item) {
  std::string tags;
  for (const std::string& tag : item.tags)
    tags.append(tags.empty() ? "" : " ").append(tag);
  const std::string* columns[] = {&item.name, item.description ? &*item.description : nullptr,
                                  item.provider ? &*item.provider : nullptr,
                                  item.service ? &*item.service : nullptr, &tags};
  constexpr int kMaxPosition = 16383; // tsvector's limit
  constexpr std::size_t kMaxPositions = 256;
  std::map<std::string, std::vector<int>> positions;
  int position = 0;
  for (const std::string* column : columns) {
    if (column == nullptr)
      continue;
    for (std::string& token : unicode61_tokens(*column)) {
      position = std::min(position + 1, kMaxPosition);
      std::vector<int>& at = positions[clip_token(std::move(token))];
      if (at.size() < kMaxPositions && (at.empty() || at.back() != position))
        at.push_back(position);
    }
    position = std::min(position + 1, kMaxPosition);
  }
  std::string out;
  for (const auto& [token, at] : positions) {
    if (!out.empty())
      out += ' ';
    out += lexeme(token);
    for (std::size_t i = 0; i < at.size(); ++i) {
      out += i == 0 ? ':' : ',';
      out += std::to_string(at[i]);
    }
  }
  return out;
}

// `q` as a tsquery literal with FTS5's meaning of the SQLite store's query: every word required,
// as a prefix; a word FTS5 cuts into several tokens (joined by non-ASCII punctuation) is a phrase
// whose last token is a prefix; a word with no token is left out. "" when nothing is left.
std::string search_query(const std::string& q) {
  std::string out;
  for (const std::string& word : search_words(q)) {
    const std::vector<std::string> tokens = unicode61_tokens(word);
    if (tokens.empty())
      continue;
    std::string term;
    for (std::size_t i = 0; i < tokens.size(); ++i)
      term.append(i == 0 ? "" : " <-> ").append(lexeme(clip_token(tokens[i])));
    term += ":*";
    out.append(out.empty() ? "" : " & ").append(tokens.size() == 1 ? term : "(" + term + ")");
  }
  return out;
}

std::string lower_ascii(std::string text) {
  for (char& c : text)
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
  return text;
}

constexpr const char* kItemColumns =
    "items.id, items.name, items.amount, items.currency, items.provider, items.provider_ref, "
    "items.tags, items.description, items.recurring, items.period, items.date_ms, "
    "items.category, items.service, items.stage_app, items.author, items.source, items.adapter, "
    "items.amount_exact, items.created_ms, items.updated_ms";

Item read_item(const Rows& r, int row) {
  Item item;
  item.id = r.text(row, 0);
  item.name = r.text(row, 1);
  item.amount = r.integer(row, 2);
  item.currency = r.text(row, 3);
  item.provider = r.optional_text(row, 4);
  item.provider_ref = r.optional_text(row, 5);
  item.tags = parse_text_array(r.text(row, 6));
  item.description = r.optional_text(row, 7);
  item.recurring = r.boolean(row, 8);
  item.period = r.optional_text(row, 9);
  item.date_ms = r.integer(row, 10);
  item.category = r.optional_text(row, 11);
  item.service = r.optional_text(row, 12);
  item.stage_app = r.optional_text(row, 13);
  item.author = r.optional_text(row, 14);
  item.source = r.text(row, 15);
  item.adapter = r.optional_text(row, 16);
  item.amount_exact = r.optional_text(row, 17);
  item.created_ms = r.integer(row, 18);
  item.updated_ms = r.integer(row, 19);
  return item;
}

constexpr const char* kCategoryColumns =
    "id, name, description, color, parent_id, created_ms, updated_ms";

Category read_category(const Rows& r, int row) {
  Category c;
  c.id = r.text(row, 0);
  c.name = r.text(row, 1);
  c.description = r.optional_text(row, 2);
  c.color = r.optional_text(row, 3);
  c.parent_id = r.optional_text(row, 4);
  c.created_ms = r.integer(row, 5);
  c.updated_ms = r.integer(row, 6);
  return c;
}

constexpr const char* kJobColumns =
    "id, provider, connection, status, from_day, to_day, items_created, items_updated, "
    "items_unchanged, error, started_ms, completed_ms";

SyncJob read_job(const Rows& r, int row) {
  SyncJob job;
  job.id = r.text(row, 0);
  job.provider = r.text(row, 1);
  job.connection = r.optional_text(row, 2);
  job.status = r.text(row, 3);
  job.from = r.text(row, 4);
  job.to = r.text(row, 5);
  job.items_created = r.integer(row, 6);
  job.items_updated = r.integer(row, 7);
  job.items_unchanged = r.integer(row, 8);
  job.error = r.optional_text(row, 9);
  job.started_ms = r.integer(row, 10);
  if (!r.is_null(row, 11))
    job.completed_ms = r.integer(row, 11);
  return job;
}

// The WHERE clause of a filter (" WHERE …" or ""), its values appended to `params`.
std::string where_clause(const ItemFilter& f, Params& params) {
  std::vector<std::string> terms;
  auto equal = [&](const char* column, const std::optional<std::string>& value) {
    if (!value)
      return;
    params.text(*value);
    terms.push_back(std::string("items.") + column + " = " + params.last());
  };
  if (!f.categories.empty()) {
    params.text(text_array(f.categories));
    terms.push_back("items.category = ANY (" + params.last() + "::text[])");
  }
  equal("provider", f.provider);
  equal("service", f.service);
  equal("currency", f.currency);
  equal("stage_app", f.stage_app);
  equal("author", f.author);
  equal("source", f.source);
  if (f.from_ms) {
    params.integer(*f.from_ms);
    terms.push_back("items.date_ms >= " + params.last() + "::bigint");
  }
  if (f.to_ms) {
    params.integer(*f.to_ms);
    terms.push_back("items.date_ms < " + params.last() + "::bigint");
  }
  if (f.recurring)
    terms.push_back(*f.recurring ? "items.recurring" : "NOT items.recurring");
  if (!f.tags.empty()) {
    params.text(text_array(f.tags));
    terms.push_back("items.tags && " + params.last() + "::text[]");
  }
  std::string sql;
  for (const std::string& term : terms)
    sql += (sql.empty() ? " WHERE " : " AND ") + term;
  return sql;
}

Result<PGconn*> connect(const std::string& url) {
  PGconn* conn = PQconnectdb(url.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = trimmed(PQerrorMessage(conn));
    PQfinish(conn);
    // The message names host and port, never the password.
    return config_error("cannot connect to the PostgreSQL billing store: " + message);
  }
  // Notices (e.g. "relation already exists, skipping") are not for the log.
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  return conn;
}

} // namespace

class PostgresBillingStore final : public BillingStore {
public:
  explicit PostgresBillingStore(PGconn* conn) : conn_(conn), writer_(new_id()) {
    // Where, never with the password: postgresql://host:port/db, or a unix socket's folder.
    const std::string host = PQhost(conn_) != nullptr ? PQhost(conn_) : "";
    const std::string port = PQport(conn_) != nullptr ? PQport(conn_) : "";
    const std::string db = PQdb(conn_) != nullptr ? PQdb(conn_) : "";
    location_ = host.empty() || host[0] == '/'
                    ? "postgresql:///" + db + "?host=" + host + "&port=" + port
                    : "postgresql://" + host + ":" + port + "/" + db;
  }
  ~PostgresBillingStore() override {
    // This store's write count joins the row of closed stores: the sum, generation(), stays.
    try {
      exec("WITH gone AS (DELETE FROM billing_generations WHERE writer = $1 RETURNING generation) "
           "INSERT INTO billing_generations (writer, generation) SELECT '', generation FROM gone "
           "ON CONFLICT (writer) DO UPDATE SET generation = billing_generations.generation + "
           "excluded.generation",
           Params().text(writer_));
    } catch (const std::exception&) {
      // The database is gone: the row stays, and the sum with it.
    }
    PQfinish(conn_);
  }
  PostgresBillingStore(const PostgresBillingStore&) = delete;
  PostgresBillingStore& operator=(const PostgresBillingStore&) = delete;

  // Runs one statement (parameters: the extended protocol; none: the simple one, so that a
  // migration may hold several); throws PgError. A lost connection is re-established once,
  // outside a transaction.
  Rows exec(const std::string& sql, const Params& params = {}) const {
    if (PQstatus(conn_) != CONNECTION_OK && !in_transaction_)
      PQreset(conn_);
    const std::vector<const char*> values = params.pointers();
    PGresult* result = params.size() == 0 ? PQexec(conn_, sql.c_str())
                                          : PQexecParams(conn_, sql.c_str(), params.size(), nullptr,
                                                         values.data(), nullptr, nullptr, 0);
    const ExecStatusType status = PQresultStatus(result);
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK)
      return Rows(result);
    std::string message = result != nullptr ? PQresultErrorMessage(result) : "";
    if (message.empty())
      message = PQerrorMessage(conn_);
    const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
    std::string code = state != nullptr ? state : "";
    PQclear(result);
    std::string head = sql.substr(sql.find_first_not_of(" \n"));
    head = head.substr(0, std::min<std::size_t>(head.find('\n'), 60));
    throw PgError("billing store: \"" + head + "…\": " + trimmed(message), std::move(code));
  }

  void rollback() const {
    PGresult* result = PQexec(conn_, "ROLLBACK");
    PQclear(result);
  }

  // Runs `body` in one SERIALIZABLE transaction that also bumps this store's write counter:
  // committed when it returns a value, rolled back when it returns an error or throws. Aborted
  // for a concurrent write (serialization failure, deadlock), it runs again from the start.
  template <class T, class Body>
  Outcome<T> transaction(Body&& body) {
    for (int attempt = 1;; ++attempt) {
      try {
        exec("BEGIN ISOLATION LEVEL SERIALIZABLE");
        in_transaction_ = true;
        Outcome<T> outcome = body();
        if (!outcome) {
          in_transaction_ = false;
          rollback();
          return outcome;
        }
        exec("INSERT INTO billing_generations (writer, generation) VALUES ($1, 1) ON CONFLICT "
             "(writer) DO UPDATE SET generation = billing_generations.generation + 1",
             Params().text(writer_));
        exec("COMMIT");
        in_transaction_ = false;
        return outcome;
      } catch (const PgError& e) {
        in_transaction_ = false;
        rollback();
        if (!e.retryable() || attempt == kMaxAttempts)
          throw;
      } catch (...) {
        in_transaction_ = false;
        rollback();
        throw;
      }
      // Apart before the next try: about 1, 2, 4 … 64 ms, with jitter so that two hosts that
      // collided do not collide again.
      thread_local std::minstd_rand jitter{std::random_device{}()};
      const int ceiling = 1 << std::min(attempt, 6);
      std::this_thread::sleep_for(
          std::chrono::microseconds(ceiling * (500 + static_cast<int>(jitter() % 1000))));
    }
  }

  // Brings the tables to kPostgresBillingSchemaVersion; the version found.
  int migrate() {
    // Concurrent first starts race on creating the version table: the loser retries.
    for (int attempt = 1;; ++attempt) {
      try {
        exec("BEGIN");
        in_transaction_ = true;
        exec("CREATE TABLE IF NOT EXISTS billdrop_billing_schema (version INTEGER NOT NULL)");
        // One migrator at a time; the others wait here, then find the schema current.
        exec("LOCK TABLE billdrop_billing_schema IN ACCESS EXCLUSIVE MODE");
        const Rows rows = exec("SELECT version FROM billdrop_billing_schema");
        const int found = rows.size() == 0 ? 0 : static_cast<int>(rows.integer(0, 0));
        if (found > kPostgresBillingSchemaVersion || found < 0)
          throw std::invalid_argument(
              "the PostgreSQL billing tables have schema version " + std::to_string(found) +
              ", written by a newer billdrop; this one reads up to version " +
              std::to_string(kPostgresBillingSchemaVersion) + ": upgrade billdrop");
        for (int version = found; version < kPostgresBillingSchemaVersion; ++version)
          exec(kMigrations[version]);
        exec("DELETE FROM billdrop_billing_schema");
        exec("INSERT INTO billdrop_billing_schema (version) VALUES (" +
             std::to_string(kPostgresBillingSchemaVersion) + ")");
        exec("COMMIT");
        in_transaction_ = false;
        return found;
      } catch (const PgError&) {
        in_transaction_ = false;
        rollback();
        if (attempt == 5)
          throw;
        std::this_thread::sleep_for(std::chrono::milliseconds(20 * attempt));
      } catch (...) {
        in_transaction_ = false;
        rollback();
        throw;
      }
    }
  }

  // --- items

  // Checks `item` before a write; a category given by name becomes its id. `id`: the item's
  // id when it exists already.
  std::optional<ApiError> check_item(Item& item, const std::optional<std::string>& id) {
    if (item.category) {
      std::optional<Category> found = find_category(*item.category);
      if (!found)
        return validation_error("category",
                                "no category has the id or name '" + *item.category + "'");
      item.category = found->id;
    }
    if (item.provider_ref) {
      const Rows rows = exec("SELECT id FROM billing_items WHERE COALESCE(provider, '') = $1 AND "
                             "provider_ref = $2",
                             Params().text(item.provider.value_or("")).text(*item.provider_ref));
      if (rows.size() > 0 && (!id || rows.text(0, 0) != *id))
        return provider_ref_conflict(item, rows.text(0, 0));
    }
    return std::nullopt;
  }

  static ApiError provider_ref_conflict(const Item& item, const std::string& other) {
    return conflict("providerRef", "item " + other + " already has providerRef '" +
                                       item.provider_ref.value_or("") + "' for provider '" +
                                       item.provider.value_or("") + "'");
  }

  // Inserts `item`, or updates the row of `id`.
  void write_item(const Item& item, const std::optional<std::string>& id) {
    Params params;
    params.text(item.id)
        .text(item.name)
        .integer(item.amount)
        .text(item.currency)
        .optional(item.provider)
        .optional(item.provider_ref)
        .text(text_array(item.tags))
        .optional(item.description)
        .text(item.recurring ? "true" : "false")
        .optional(item.period)
        .integer(item.date_ms)
        .optional(item.category)
        .optional(item.service)
        .optional(item.stage_app)
        .optional(item.author)
        .text(item.source)
        .optional(item.adapter)
        .optional(item.amount_exact)
        .integer(item.created_ms)
        .integer(item.updated_ms)
        .text(search_vector(item));
    if (id) {
      params.text(*id);
      exec("UPDATE billing_items SET id = $1, name = $2, amount = $3::bigint, currency = $4, "
           "provider = $5, provider_ref = $6, tags = $7::text[], description = $8, "
           "recurring = $9::boolean, period = $10, date_ms = $11::bigint, category = $12, "
           "service = $13, stage_app = $14, author = $15, source = $16, adapter = $17, "
           "amount_exact = $18, created_ms = $19::bigint, updated_ms = $20::bigint, "
           "search = $21::tsvector WHERE id = $22",
           params);
      return;
    }
    exec(std::string(kInsertItem), params);
  }

  static constexpr const char* kInsertItem =
      "INSERT INTO billing_items (id, name, amount, currency, provider, provider_ref, tags, "
      "description, recurring, period, date_ms, category, service, stage_app, author, source, "
      "adapter, amount_exact, created_ms, updated_ms, search) VALUES ($1, $2, $3::bigint, $4, "
      "$5, $6, $7::text[], $8, $9::boolean, $10, $11::bigint, $12, $13, $14, $15, $16, $17, "
      "$18, $19::bigint, $20::bigint, $21::tsvector)";

  std::optional<Item> find_item(const std::string& id, bool for_update) {
    const Rows rows =
        exec(std::string("SELECT ") + kItemColumns + " FROM billing_items AS items WHERE id = $1" +
                 (for_update ? " FOR UPDATE" : ""),
             Params().text(id));
    if (rows.size() == 0)
      return std::nullopt;
    return read_item(rows, 0);
  }

  Outcome<Item> insert_item(const Item& given) override {
    const std::lock_guard lock(mutex_);
    return transaction<Item>([&]() -> Outcome<Item> {
      Item item = given;
      if (std::optional<ApiError> problem = check_item(item, std::nullopt))
        return *problem;
      try {
        write_item(item, std::nullopt);
      } catch (const PgError& e) {
        // Another host's item took the providerRef after the check (when PostgreSQL does not
        // report it as a serialization failure, which is run again and then answered above).
        if (e.state() != kUniqueViolation || !item.provider_ref)
          throw;
        return provider_ref_conflict(item, "(written concurrently)");
      }
      return item;
    });
  }

  Outcome<Item> update_item(const std::string& id,
                            const std::function<std::optional<ApiError>(Item&)>& edit) override {
    const std::lock_guard lock(mutex_);
    return transaction<Item>([&]() -> Outcome<Item> {
      std::optional<Item> item = find_item(id, true);
      if (!item)
        return not_found("Item not found: " + id);
      if (std::optional<ApiError> problem = edit(*item))
        return *problem;
      if (std::optional<ApiError> problem = check_item(*item, id))
        return *problem;
      try {
        write_item(*item, id);
      } catch (const PgError& e) {
        if (e.state() != kUniqueViolation || !item->provider_ref)
          throw;
        return provider_ref_conflict(*item, "(written concurrently)");
      }
      return *item;
    });
  }

  Outcome<Done> delete_item(const std::string& id) override {
    const std::lock_guard lock(mutex_);
    return transaction<Done>([&]() -> Outcome<Done> {
      const Rows rows =
          exec("DELETE FROM billing_items WHERE id = $1 RETURNING id", Params().text(id));
      if (rows.size() == 0)
        return not_found("Item not found: " + id);
      return Done{};
    });
  }

  std::optional<Item> item(const std::string& id) override {
    const std::lock_guard lock(mutex_);
    return find_item(id, false);
  }

  std::optional<Item> item_by_provider_ref(const std::optional<std::string>& provider,
                                           const std::string& provider_ref) override {
    const std::lock_guard lock(mutex_);
    const Rows rows = exec(std::string("SELECT ") + kItemColumns +
                               " FROM billing_items AS items WHERE COALESCE(provider, '') = $1 AND "
                               "provider_ref = $2",
                           Params().text(provider.value_or("")).text(provider_ref));
    if (rows.size() == 0)
      return std::nullopt;
    return read_item(rows, 0);
  }

  ItemPage list_items(const ItemFilter& filter, std::size_t limit,
                      const std::optional<ItemCursor>& after) override {
    Params params;
    const std::string where = where_clause(filter, params);
    std::string sql =
        std::string("SELECT ") + kItemColumns + " FROM billing_items AS items" + where;
    if (after) {
      params.integer(after->date_ms);
      const std::string date = params.last() + "::bigint";
      params.text(after->id);
      sql += std::string(where.empty() ? " WHERE " : " AND ") + "(items.date_ms, items.id) < (" +
             date + ", " + params.last() + ")";
    }
    params.integer(static_cast<std::int64_t>(limit + 1));
    sql += " ORDER BY items.date_ms DESC, items.id DESC LIMIT " + params.last() + "::bigint";
    const std::lock_guard lock(mutex_);
    const Rows rows = exec(sql, params);
    ItemPage page;
    for (int i = 0; i < rows.size(); ++i)
      page.items.push_back(read_item(rows, i));
    if (page.items.size() > limit) {
      page.items.resize(limit);
      page.next = ItemCursor{page.items.back().date_ms, page.items.back().id};
    }
    return page;
  }

  std::vector<Item> search(const std::string& text, std::size_t limit) override {
    const std::string query = search_query(text);
    std::vector<Item> found;
    if (query.empty())
      return found;
    const std::lock_guard lock(mutex_);
    // ts_rank's normalization 1 divides by 1 + log(the item's length), as bm25 favours short
    // documents.
    const Rows rows = exec(std::string("SELECT ") + kItemColumns +
                               " FROM billing_items AS items, CAST($1 AS tsquery) AS q WHERE "
                               "items.search @@ q ORDER BY ts_rank(items.search, q, 1) DESC, "
                               "items.date_ms DESC, items.id DESC LIMIT $2::bigint",
                           Params().text(query).integer(static_cast<std::int64_t>(limit)));
    for (int i = 0; i < rows.size(); ++i)
      found.push_back(read_item(rows, i));
    return found;
  }

  Upserted upsert_sync_item(const Item& incoming) override {
    const std::lock_guard lock(mutex_);
    Upserted result = Upserted::unchanged;
    transaction<Done>([&]() -> Outcome<Done> {
      result = Upserted::unchanged;
      // The unique index decides between hosts: of two inserting the same providerRef, one
      // inserts and the other finds its row (after a retry: SERIALIZABLE).
      const Rows inserted =
          exec(std::string(kInsertItem) +
                   " ON CONFLICT (COALESCE(provider, ''), provider_ref) WHERE provider_ref IS NOT "
                   "NULL DO NOTHING RETURNING id",
               Params()
                   .text(incoming.id)
                   .text(incoming.name)
                   .integer(incoming.amount)
                   .text(incoming.currency)
                   .optional(incoming.provider)
                   .optional(incoming.provider_ref)
                   .text(text_array(incoming.tags))
                   .optional(incoming.description)
                   .text(incoming.recurring ? "true" : "false")
                   .optional(incoming.period)
                   .integer(incoming.date_ms)
                   .optional(incoming.category)
                   .optional(incoming.service)
                   .optional(incoming.stage_app)
                   .optional(incoming.author)
                   .text(incoming.source)
                   .optional(incoming.adapter)
                   .optional(incoming.amount_exact)
                   .integer(incoming.created_ms)
                   .integer(incoming.updated_ms)
                   .text(search_vector(incoming)));
      if (inserted.size() == 1) {
        result = Upserted::created;
        return Done{};
      }
      const Rows rows = exec(
          std::string("SELECT ") + kItemColumns +
              " FROM billing_items AS items WHERE COALESCE(provider, '') = $1 "
              "AND provider_ref = $2 FOR UPDATE",
          Params().text(incoming.provider.value_or("")).text(incoming.provider_ref.value_or("")));
      if (rows.size() == 0) // deleted since: run again
        throw PgError("billing store: the item of providerRef '" +
                          incoming.provider_ref.value_or("") + "' vanished during its upsert",
                      kRetryStates[0]);
      Item item = read_item(rows, 0);
      if (item.amount == incoming.amount && item.amount_exact == incoming.amount_exact &&
          item.currency == incoming.currency && item.name == incoming.name &&
          item.service == incoming.service && item.adapter == incoming.adapter &&
          item.date_ms == incoming.date_ms)
        return Done{};
      item.amount = incoming.amount;
      item.amount_exact = incoming.amount_exact;
      item.currency = incoming.currency;
      item.name = incoming.name;
      item.service = incoming.service;
      item.adapter = incoming.adapter;
      item.date_ms = incoming.date_ms;
      item.source = incoming.source;
      item.updated_ms = incoming.updated_ms;
      const std::string id = item.id;
      write_item(item, id);
      result = Upserted::updated;
      return Done{};
    });
    return result;
  }

  // --- categories

  std::optional<ApiError> check_category(const Category& c) {
    const Rows named = exec("SELECT id FROM billing_categories WHERE name_key = $1 AND id <> $2",
                            Params().text(lower_ascii(c.name)).text(c.id));
    if (named.size() > 0)
      return conflict("name",
                      "category " + named.text(0, 0) + " is already named '" + c.name + "'");
    // The parent exists and is not the category itself nor one of its descendants.
    for (std::optional<std::string> parent = c.parent_id; parent;) {
      if (*parent == c.id)
        return validation_error("parentId", "category '" + c.id +
                                                "' cannot be its own ancestor (parentId '" +
                                                *c.parent_id + "')");
      const Rows rows =
          exec("SELECT parent_id FROM billing_categories WHERE id = $1", Params().text(*parent));
      if (rows.size() == 0)
        return validation_error("parentId", "no category has the id '" + *parent + "'");
      parent = rows.optional_text(0, 0);
    }
    return std::nullopt;
  }

  // Inserts or updates `c`; a name taken concurrently is a CONFLICT.
  std::optional<ApiError> write_category(const Category& c, bool exists) {
    try {
      exec(exists ? "UPDATE billing_categories SET name = $2, name_key = $3, description = $4, "
                    "color = $5, parent_id = $6, created_ms = $7::bigint, updated_ms = "
                    "$8::bigint WHERE id = $1"
                  : "INSERT INTO billing_categories (id, name, name_key, description, color, "
                    "parent_id, created_ms, updated_ms) VALUES ($1, $2, $3, $4, $5, $6, "
                    "$7::bigint, $8::bigint)",
           Params()
               .text(c.id)
               .text(c.name)
               .text(lower_ascii(c.name))
               .optional(c.description)
               .optional(c.color)
               .optional(c.parent_id)
               .integer(c.created_ms)
               .integer(c.updated_ms));
    } catch (const PgError& e) {
      if (e.state() != kUniqueViolation)
        throw;
      return conflict("name", "another category is already named '" + c.name + "'");
    }
    return std::nullopt;
  }

  std::optional<Category> find_category(const std::string& id_or_name) {
    {
      const Rows rows =
          exec(std::string("SELECT ") + kCategoryColumns + " FROM billing_categories WHERE id = $1",
               Params().text(id_or_name));
      if (rows.size() > 0)
        return read_category(rows, 0);
    }
    const Rows rows = exec(std::string("SELECT ") + kCategoryColumns +
                               " FROM billing_categories WHERE name_key = $1",
                           Params().text(lower_ascii(id_or_name)));
    if (rows.size() == 0)
      return std::nullopt;
    return read_category(rows, 0);
  }

  Outcome<Category> insert_category(const Category& category) override {
    const std::lock_guard lock(mutex_);
    return transaction<Category>([&]() -> Outcome<Category> {
      if (std::optional<ApiError> problem = check_category(category))
        return *problem;
      if (std::optional<ApiError> problem = write_category(category, false))
        return *problem;
      return category;
    });
  }

  Outcome<Category>
  update_category(const std::string& id,
                  const std::function<std::optional<ApiError>(Category&)>& edit) override {
    const std::lock_guard lock(mutex_);
    return transaction<Category>([&]() -> Outcome<Category> {
      std::optional<Category> found = find_category(id);
      if (!found)
        return not_found("Category not found: " + id);
      if (std::optional<ApiError> problem = edit(*found))
        return *problem;
      if (std::optional<ApiError> problem = check_category(*found))
        return *problem;
      if (std::optional<ApiError> problem = write_category(*found, true))
        return *problem;
      return *found;
    });
  }

  Outcome<Done> delete_category(const std::string& id) override {
    const std::lock_guard lock(mutex_);
    return transaction<Done>([&]() -> Outcome<Done> {
      std::optional<Category> found = find_category(id);
      if (!found)
        return not_found("Category not found: " + id);
      const Rows items =
          exec("SELECT COUNT(*) FROM billing_items WHERE category = $1", Params().text(found->id));
      if (const std::int64_t n = items.integer(0, 0); n > 0)
        return conflict("id", "category '" + found->name + "' is used by " + std::to_string(n) +
                                  " item(s): move them to another category first");
      const Rows children = exec("SELECT COUNT(*) FROM billing_categories WHERE parent_id = $1",
                                 Params().text(found->id));
      if (const std::int64_t n = children.integer(0, 0); n > 0)
        return conflict("id", "category '" + found->name + "' is the parent of " +
                                  std::to_string(n) + " categor" + (n == 1 ? "y" : "ies") +
                                  ": move or delete them first");
      exec("DELETE FROM billing_categories WHERE id = $1", Params().text(found->id));
      return Done{};
    });
  }

  std::optional<Category> category(const std::string& id_or_name) override {
    const std::lock_guard lock(mutex_);
    return find_category(id_or_name);
  }

  std::vector<Category> categories() override {
    const std::lock_guard lock(mutex_);
    const Rows rows = exec(std::string("SELECT ") + kCategoryColumns +
                           " FROM billing_categories ORDER BY name_key, id");
    std::vector<Category> all;
    for (int i = 0; i < rows.size(); ++i)
      all.push_back(read_category(rows, i));
    return all;
  }

  // --- reports

  std::vector<GroupTotal> totals(const ItemFilter& filter, GroupBy by) override {
    const char* key = "NULL::text";
    std::string from = " FROM billing_items AS items";
    switch (by) {
    case GroupBy::none:
      break;
    case GroupBy::provider:
      key = "items.provider";
      break;
    case GroupBy::category:
      key = "items.category";
      break;
    case GroupBy::service:
      key = "items.service";
      break;
    case GroupBy::recurring:
      key = "CASE WHEN items.recurring THEN 'true' ELSE 'false' END";
      break;
    case GroupBy::tag: // an item counts once per distinct tag, and once (key null) without tags
      key = "item_tag.tag";
      from += " LEFT JOIN LATERAL (SELECT DISTINCT t AS tag FROM unnest(items.tags) AS t) AS "
              "item_tag ON TRUE";
      break;
    case GroupBy::day: // integer division, as SQLite's
      key = "(items.date_ms / 86400000)::text";
      break;
    case GroupBy::week: // 1970-01-01 was a Thursday: weeks start on the Monday before
      key = "(items.date_ms / 86400000 - (items.date_ms / 86400000 + 3) % 7)::text";
      break;
    case GroupBy::month:
      key = "to_char(TIMESTAMP 'epoch' + (items.date_ms / 1000) * INTERVAL '1 second', "
            "'YYYY-MM')";
      break;
    }
    Params params;
    // SUM of bigint is numeric (exact); the cast fails, as SQLite's SUM does, past 2^63.
    const std::string sql = std::string("SELECT ") + key +
                            ", items.currency, SUM(items.amount)::bigint, COUNT(*)" + from +
                            where_clause(filter, params) + " GROUP BY 1, 2";
    std::vector<GroupTotal> groups;
    {
      const std::lock_guard lock(mutex_);
      const Rows rows = exec(sql, params);
      for (int i = 0; i < rows.size(); ++i) {
        GroupTotal g;
        if (!rows.is_null(i, 0))
          g.key = by == GroupBy::day || by == GroupBy::week ? format_day(rows.integer(i, 0))
                                                            : rows.text(i, 0);
        g.currency = rows.text(i, 1);
        g.amount = rows.integer(i, 2);
        g.count = rows.integer(i, 3);
        groups.push_back(std::move(g));
      }
    }
    sort_groups(groups, by);
    return groups;
  }

  // --- sync jobs

  void save_sync_job(const SyncJob& job) override {
    const std::lock_guard lock(mutex_);
    transaction<Done>([&]() -> Outcome<Done> {
      exec("INSERT INTO billing_sync_jobs (id, provider, connection, status, from_day, to_day, "
           "items_created, items_updated, items_unchanged, error, started_ms, completed_ms) "
           "VALUES ($1, $2, $3, $4, $5, $6, $7::bigint, $8::bigint, $9::bigint, $10, "
           "$11::bigint, $12::bigint) ON CONFLICT (id) DO UPDATE SET provider = "
           "excluded.provider, connection = excluded.connection, status = excluded.status, "
           "from_day = excluded.from_day, to_day = excluded.to_day, items_created = "
           "excluded.items_created, items_updated = excluded.items_updated, items_unchanged = "
           "excluded.items_unchanged, error = excluded.error, started_ms = excluded.started_ms, "
           "completed_ms = excluded.completed_ms",
           Params()
               .text(job.id)
               .text(job.provider)
               .optional(job.connection)
               .text(job.status)
               .text(job.from)
               .text(job.to)
               .integer(job.items_created)
               .integer(job.items_updated)
               .integer(job.items_unchanged)
               .optional(job.error)
               .integer(job.started_ms)
               .optional_integer(job.completed_ms));
      return Done{};
    });
  }

  std::optional<SyncJob> sync_job(const std::string& id) override {
    const std::lock_guard lock(mutex_);
    const Rows rows =
        exec(std::string("SELECT ") + kJobColumns + " FROM billing_sync_jobs WHERE id = $1",
             Params().text(id));
    if (rows.size() == 0)
      return std::nullopt;
    return read_job(rows, 0);
  }

  std::vector<SyncJob> sync_jobs(const std::optional<std::string>& provider,
                                 std::size_t limit) override {
    const std::lock_guard lock(mutex_);
    const Rows rows = exec(std::string("SELECT ") + kJobColumns +
                               " FROM billing_sync_jobs WHERE $1::text IS NULL OR provider = $1 "
                               "ORDER BY started_ms DESC, id DESC LIMIT $2::bigint",
                           Params().optional(provider).integer(static_cast<std::int64_t>(limit)));
    std::vector<SyncJob> jobs;
    for (int i = 0; i < rows.size(); ++i)
      jobs.push_back(read_job(rows, i));
    return jobs;
  }

  StoreStats stats() override {
    StoreStats stats;
    stats.totals_by_currency = totals(ItemFilter{}, GroupBy::none);
    const std::lock_guard lock(mutex_);
    const Rows rows = exec(
        "SELECT (SELECT COUNT(*) FROM billing_items), (SELECT COUNT(*) FROM billing_categories), "
        "(SELECT COUNT(*) FROM billing_sync_jobs), (pg_total_relation_size('billing_items') + "
        "pg_total_relation_size('billing_categories') + "
        "pg_total_relation_size('billing_sync_jobs'))::bigint");
    stats.items = rows.integer(0, 0);
    stats.categories = rows.integer(0, 1);
    stats.sync_jobs = rows.integer(0, 2);
    stats.bytes = rows.integer(0, 3);
    stats.schema_version = kPostgresBillingSchemaVersion;
    stats.storage_type = "postgres";
    stats.location = location_;
    return stats;
  }

  // One read of the database's counters answers every caller that arrived before it began:
  // 50 clients checking the report cache at once cost one round trip, not 50 in a row, and
  // none gets a value older than its call.
  std::uint64_t generation() const override {
    const std::uint64_t arrival = reads_started_.load();
    const std::lock_guard read_lock(generation_mutex_);
    if (last_read_ > arrival) // began after this call did
      return last_generation_;
    const std::uint64_t read = reads_started_.fetch_add(1) + 1;
    try {
      const std::lock_guard lock(mutex_);
      const Rows rows =
          exec("SELECT COALESCE(SUM(generation), 0)::bigint FROM billing_generations");
      last_generation_ = static_cast<std::uint64_t>(rows.integer(0, 0));
      last_read_ = read;
      return last_generation_;
    } catch (const std::exception&) {
      // Unknown: a value never seen before nor again, so that nothing is cached meanwhile.
      return (std::uint64_t{1} << 63) | unknown_.fetch_add(1);
    }
  }

private:
  mutable std::mutex mutex_;
  PGconn* conn_;
  mutable bool in_transaction_ = false;
  std::string writer_;
  std::string location_;
  mutable std::atomic<std::uint64_t> unknown_{0};
  mutable std::mutex generation_mutex_;                 // one generation read at a time
  mutable std::atomic<std::uint64_t> reads_started_{0}; // generation reads begun
  mutable std::uint64_t last_read_ = 0;                 // the number of the last one that succeeded
  mutable std::uint64_t last_generation_ = 0;           // and what it read
};

Result<std::unique_ptr<BillingStore>> open_postgres_billing_store(const std::string& url) {
  Result<PGconn*> conn = connect(url);
  if (!conn)
    return std::move(conn).error();
  auto store = std::make_unique<PostgresBillingStore>(*conn);
  try {
    store->migrate();
  } catch (const std::exception& e) {
    return config_error(e.what());
  }
  return std::unique_ptr<BillingStore>(std::move(store));
}

Result<int> migrate_postgres_billing_store(const std::string& url) {
  Result<PGconn*> conn = connect(url);
  if (!conn)
    return std::move(conn).error();
  PostgresBillingStore store(*conn);
  try {
    return store.migrate();
  } catch (const std::exception& e) {
    return config_error(e.what());
  }
}

} // namespace billdrop::billing
