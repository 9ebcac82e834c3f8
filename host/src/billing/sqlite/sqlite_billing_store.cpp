#include "billing/sqlite/sqlite_billing_store.hpp"

#include "billing/search_words.hpp"
#include "billing/utc_time.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <stdexcept>
#include <type_traits>
#include <variant>

namespace billdrop::billing {

namespace {

constexpr int kSchemaVersion = 1;

// Migration N brings the schema from version N to N + 1.
constexpr const char* kMigrations[] = {
    R"sql(
CREATE TABLE categories (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  name_key TEXT NOT NULL UNIQUE, -- lower(name): names are unique regardless of case
  description TEXT,
  color TEXT,
  parent_id TEXT,
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL
);
CREATE TABLE items (
  rowid INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  amount INTEGER NOT NULL,
  currency TEXT NOT NULL,
  provider TEXT,
  provider_ref TEXT,
  tags TEXT NOT NULL, -- joined by U+001F
  description TEXT,
  recurring INTEGER NOT NULL,
  period TEXT,
  date_ms INTEGER NOT NULL,
  category TEXT,
  service TEXT,
  stage_app TEXT,
  author TEXT,
  source TEXT NOT NULL,
  adapter TEXT,
  amount_exact TEXT,
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL
);
CREATE UNIQUE INDEX items_provider_ref ON items (IFNULL(provider, ''), provider_ref)
  WHERE provider_ref IS NOT NULL;
CREATE INDEX items_date ON items (date_ms, id);
-- Covers the reports' columns, so that a report reads this index and never the rows.
CREATE INDEX items_report ON items (date_ms, currency, amount, provider, category, service,
  recurring, source);
CREATE INDEX items_provider ON items (provider, date_ms);
CREATE INDEX items_category ON items (category);
CREATE TABLE item_tags (
  tag TEXT NOT NULL,
  item_rowid INTEGER NOT NULL,
  PRIMARY KEY (tag, item_rowid)
) WITHOUT ROWID;
CREATE INDEX item_tags_item ON item_tags (item_rowid);
CREATE VIRTUAL TABLE items_fts USING fts5 (
  name, description, provider, service, tags, tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TABLE sync_jobs (
  id TEXT PRIMARY KEY,
  provider TEXT NOT NULL,
  connection TEXT,
  status TEXT NOT NULL,
  from_day TEXT NOT NULL,
  to_day TEXT NOT NULL,
  items_created INTEGER NOT NULL,
  items_updated INTEGER NOT NULL,
  items_unchanged INTEGER NOT NULL,
  error TEXT,
  started_ms INTEGER NOT NULL,
  completed_ms INTEGER
);
CREATE INDEX sync_jobs_started ON sync_jobs (started_ms);
)sql",
};
static_assert(std::size(kMigrations) == kSchemaVersion);

constexpr char kTagSeparator = '\x1f';

// Qualified: the search joins items_fts, whose columns share some names.
constexpr const char* kItemColumns =
    "items.rowid, items.id, items.name, items.amount, items.currency, items.provider, "
    "items.provider_ref, items.tags, items.description, items.recurring, items.period, "
    "items.date_ms, items.category, items.service, items.stage_app, items.author, items.source, "
    "items.adapter, items.amount_exact, items.created_ms, items.updated_ms";

using Value = std::variant<std::monostate, std::int64_t, std::string>;

Value text_or_null(const std::optional<std::string>& text) {
  return text ? Value(*text) : Value();
}

std::string join_tags(const std::vector<std::string>& tags, char separator) {
  std::string out;
  for (const std::string& tag : tags) {
    if (!out.empty())
      out += separator;
    out += tag;
  }
  return out;
}

// A prepared statement, reset however the scope that used it ends.
class Query {
public:
  Query(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~Query() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;

  Query& bind(int index, const Value& value) {
    if (const auto* number = std::get_if<std::int64_t>(&value))
      sqlite3_bind_int64(stmt_, index, *number);
    else if (const auto* text = std::get_if<std::string>(&value))
      sqlite3_bind_text(stmt_, index, text->data(), static_cast<int>(text->size()),
                        SQLITE_TRANSIENT);
    else
      sqlite3_bind_null(stmt_, index);
    return *this;
  }
  Query& bind_all(const std::vector<Value>& values, int first = 1) {
    for (std::size_t i = 0; i < values.size(); ++i)
      bind(first + static_cast<int>(i), values[i]);
    return *this;
  }
  // True for a row, false when done; throws on an error.
  bool step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW)
      return true;
    if (rc == SQLITE_DONE)
      return false;
    throw std::runtime_error(std::string("billing store: ") + sqlite3_errmsg(db_));
  }
  void run() {
    while (step()) {
    }
  }
  std::int64_t integer(int column) { return sqlite3_column_int64(stmt_, column); }
  bool is_null(int column) { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
  std::string text(int column) {
    const auto* data = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
    return data == nullptr
               ? std::string()
               : std::string(data, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)));
  }
  std::optional<std::string> optional_text(int column) {
    if (is_null(column))
      return std::nullopt;
    return text(column);
  }

private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

Item read_item(Query& q) {
  Item item;
  item.id = q.text(1);
  item.name = q.text(2);
  item.amount = q.integer(3);
  item.currency = q.text(4);
  item.provider = q.optional_text(5);
  item.provider_ref = q.optional_text(6);
  const std::string tags = q.text(7);
  for (std::size_t start = 0; start < tags.size();) {
    const std::size_t end = std::min(tags.find(kTagSeparator, start), tags.size());
    item.tags.push_back(tags.substr(start, end - start));
    start = end + 1;
  }
  item.description = q.optional_text(8);
  item.recurring = q.integer(9) != 0;
  item.period = q.optional_text(10);
  item.date_ms = q.integer(11);
  item.category = q.optional_text(12);
  item.service = q.optional_text(13);
  item.stage_app = q.optional_text(14);
  item.author = q.optional_text(15);
  item.source = q.text(16);
  item.adapter = q.optional_text(17);
  item.amount_exact = q.optional_text(18);
  item.created_ms = q.integer(19);
  item.updated_ms = q.integer(20);
  return item;
}

Category read_category(Query& q) {
  Category c;
  c.id = q.text(0);
  c.name = q.text(1);
  c.description = q.optional_text(2);
  c.color = q.optional_text(3);
  c.parent_id = q.optional_text(4);
  c.created_ms = q.integer(5);
  c.updated_ms = q.integer(6);
  return c;
}

constexpr const char* kCategoryColumns =
    "id, name, description, color, parent_id, created_ms, updated_ms";

SyncJob read_job(Query& q) {
  SyncJob job;
  job.id = q.text(0);
  job.provider = q.text(1);
  job.connection = q.optional_text(2);
  job.status = q.text(3);
  job.from = q.text(4);
  job.to = q.text(5);
  job.items_created = q.integer(6);
  job.items_updated = q.integer(7);
  job.items_unchanged = q.integer(8);
  job.error = q.optional_text(9);
  job.started_ms = q.integer(10);
  if (!q.is_null(11))
    job.completed_ms = q.integer(11);
  return job;
}

constexpr const char* kJobColumns =
    "id, provider, connection, status, from_day, to_day, items_created, items_updated, "
    "items_unchanged, error, started_ms, completed_ms";

std::string lower_ascii(std::string text) {
  for (char& c : text)
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
  return text;
}

// The WHERE clause of a filter (" WHERE …" or ""), its values appended to `values`.
std::string where_clause(const ItemFilter& f, std::vector<Value>& values) {
  std::vector<std::string> terms;
  auto placeholders = [&](const std::vector<std::string>& list) {
    std::string text;
    for (const std::string& value : list) {
      values.emplace_back(value);
      text += (text.empty() ? "?" : ", ?") + std::to_string(values.size());
    }
    return text;
  };
  auto equal = [&](const char* column, const std::optional<std::string>& value) {
    if (!value)
      return;
    values.emplace_back(*value);
    terms.push_back(std::string(column) + " = ?" + std::to_string(values.size()));
  };
  if (!f.categories.empty())
    terms.push_back("category IN (" + placeholders(f.categories) + ")");
  equal("provider", f.provider);
  equal("service", f.service);
  equal("currency", f.currency);
  equal("stage_app", f.stage_app);
  equal("author", f.author);
  equal("source", f.source);
  if (f.from_ms) {
    values.emplace_back(*f.from_ms);
    terms.push_back("date_ms >= ?" + std::to_string(values.size()));
  }
  if (f.to_ms) {
    values.emplace_back(*f.to_ms);
    terms.push_back("date_ms < ?" + std::to_string(values.size()));
  }
  if (f.recurring)
    terms.push_back(*f.recurring ? "recurring = 1" : "recurring = 0");
  if (!f.tags.empty())
    terms.push_back("items.rowid IN (SELECT item_rowid FROM item_tags WHERE tag IN (" +
                    placeholders(f.tags) + "))");
  std::string sql;
  for (const std::string& term : terms)
    sql += (sql.empty() ? " WHERE " : " AND ") + term;
  return sql;
}

// `text` as an FTS5 query: every word (search_words.hpp) quoted, so that no word is read as an
// operator, and taken as a prefix, all of them required.
std::string fts_query(const std::string& text) {
  std::string query;
  for (const std::string& word : search_words(text))
    query += (query.empty() ? "\"" : " \"") + word + "\"*";
  return query;
}

// `sql` prepared once per connection and kept in `cache`.
Query prepared(sqlite3* db, std::map<std::string, sqlite3_stmt*>& cache, const std::string& sql) {
  auto found = cache.find(sql);
  if (found == cache.end()) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v3(db, sql.c_str(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                           &stmt, nullptr) != SQLITE_OK)
      throw std::runtime_error(std::string("billing store: ") + sqlite3_errmsg(db) + " in " + sql);
    found = cache.emplace(sql, stmt).first;
  }
  return Query(db, found->second);
}

} // namespace

class SqliteBillingStore final : public BillingStore {
public:
  SqliteBillingStore(sqlite3* db, std::filesystem::path file) : db_(db), file_(std::move(file)) {}
  ~SqliteBillingStore() override {
    for (auto& [sql, stmt] : statements_)
      sqlite3_finalize(stmt);
    sqlite3_close(db_);
  }

  void exec(const char* sql) {
    char* message = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) != SQLITE_OK) {
      std::string text = message != nullptr ? message : sqlite3_errmsg(db_);
      sqlite3_free(message);
      throw std::runtime_error("billing store: " + text);
    }
  }

  Query query(const std::string& sql) { return prepared(db_, statements_, sql); }

  // Opens the read-only connections searches and lists run on, so that they run side by side
  // (WAL lets readers go on while the one writer writes) instead of queueing behind `mutex_`.
  void open_readers(std::size_t count) {
    for (std::size_t i = 0; i < count; ++i) {
      sqlite3* db = nullptr;
      if (sqlite3_open_v2(file_.string().c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
                          nullptr) != SQLITE_OK) {
        sqlite3_close(db);
        return; // the main connection serves the reads
      }
      sqlite3_busy_timeout(db, 5000);
      sqlite3_exec(db, "PRAGMA cache_size = -16384; PRAGMA mmap_size = 268435456;", nullptr,
                   nullptr, nullptr);
      auto reader = std::make_unique<Reader>();
      reader->db = db;
      readers_.push_back(std::move(reader));
    }
  }

  // Runs `body` in one IMMEDIATE transaction: committed when it returns, rolled back when it
  // throws or returns an error.
  template <class T, class Body>
  Outcome<T> transaction(Body&& body) {
    exec("BEGIN IMMEDIATE");
    try {
      Outcome<T> outcome = body();
      exec(outcome ? "COMMIT" : "ROLLBACK");
      if (outcome)
        generation_.fetch_add(1);
      return outcome;
    } catch (...) {
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
  }

  void migrate() {
    for (;;) {
      int version = 0;
      {
        Query q = query("PRAGMA user_version");
        q.step();
        version = static_cast<int>(q.integer(0));
      }
      if (version == kSchemaVersion)
        return;
      if (version > kSchemaVersion || version < 0)
        throw std::runtime_error("the billing store " + file_.string() + " has schema version " +
                                 std::to_string(version) +
                                 ", written by a newer billdrop; this one reads up to version " +
                                 std::to_string(kSchemaVersion) + ": upgrade billdrop");
      transaction<Done>([&]() -> Outcome<Done> {
        exec(kMigrations[version]);
        exec(("PRAGMA user_version = " + std::to_string(version + 1)).c_str());
        return Done{};
      });
    }
  }

  // --- items

  // Checks `item` before a write; a category given by name becomes its id.
  std::optional<ApiError> check_item(Item& item, std::optional<std::int64_t> rowid) {
    if (item.category) {
      std::optional<Category> found = find_category(*item.category);
      if (!found)
        return validation_error("category",
                                "no category has the id or name '" + *item.category + "'");
      item.category = found->id;
    }
    if (item.provider_ref) {
      Query q = query("SELECT rowid, id FROM items WHERE IFNULL(provider, '') = ?1 AND "
                      "provider_ref = ?2");
      q.bind(1, item.provider.value_or("")).bind(2, *item.provider_ref);
      if (q.step() && (!rowid || q.integer(0) != *rowid))
        return conflict("providerRef", "item " + q.text(1) + " already has providerRef '" +
                                           *item.provider_ref + "' for provider '" +
                                           item.provider.value_or("") + "'");
    }
    return std::nullopt;
  }

  void write_item(const Item& item, std::optional<std::int64_t> rowid) {
    std::vector<Value> values = {item.id,
                                 item.name,
                                 item.amount,
                                 item.currency,
                                 text_or_null(item.provider),
                                 text_or_null(item.provider_ref),
                                 join_tags(item.tags, kTagSeparator),
                                 text_or_null(item.description),
                                 std::int64_t{item.recurring ? 1 : 0},
                                 text_or_null(item.period),
                                 item.date_ms,
                                 text_or_null(item.category),
                                 text_or_null(item.service),
                                 text_or_null(item.stage_app),
                                 text_or_null(item.author),
                                 item.source,
                                 text_or_null(item.adapter),
                                 text_or_null(item.amount_exact),
                                 item.created_ms,
                                 item.updated_ms};
    std::int64_t row = 0;
    if (rowid) {
      Query q = query(
          "UPDATE items SET id = ?1, name = ?2, amount = ?3, currency = ?4, provider = ?5, "
          "provider_ref = ?6, tags = ?7, description = ?8, recurring = ?9, period = ?10, "
          "date_ms = ?11, category = ?12, service = ?13, stage_app = ?14, author = ?15, "
          "source = ?16, adapter = ?17, amount_exact = ?18, created_ms = ?19, updated_ms = ?20 "
          "WHERE rowid = ?21");
      q.bind_all(values).bind(21, *rowid).run();
      row = *rowid;
      query("DELETE FROM item_tags WHERE item_rowid = ?1").bind(1, row).run();
      query("DELETE FROM items_fts WHERE rowid = ?1").bind(1, row).run();
    } else {
      Query q = query("INSERT INTO items (id, name, amount, currency, provider, provider_ref, "
                      "tags, description, recurring, period, date_ms, category, service, "
                      "stage_app, author, source, adapter, amount_exact, created_ms, updated_ms) "
                      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, "
                      "?15, ?16, ?17, ?18, ?19, ?20)");
      q.bind_all(values).run();
      row = sqlite3_last_insert_rowid(db_);
    }
    for (const std::string& tag : item.tags)
      query("INSERT OR IGNORE INTO item_tags (tag, item_rowid) VALUES (?1, ?2)")
          .bind(1, tag)
          .bind(2, row)
          .run();
    query("INSERT INTO items_fts (rowid, name, description, provider, service, tags) "
          "VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
        .bind(1, row)
        .bind(2, item.name)
        .bind(3, item.description.value_or(""))
        .bind(4, item.provider.value_or(""))
        .bind(5, item.service.value_or(""))
        .bind(6, join_tags(item.tags, ' '))
        .run();
  }

  // The item and its rowid.
  std::optional<std::pair<std::int64_t, Item>> find_item(const std::string& id) {
    Query q = query(std::string("SELECT ") + kItemColumns + " FROM items WHERE id = ?1");
    q.bind(1, id);
    if (!q.step())
      return std::nullopt;
    return std::make_pair(q.integer(0), read_item(q));
  }

  Outcome<Item> insert_item(const Item& given) override {
    const std::lock_guard lock(mutex_);
    return transaction<Item>([&]() -> Outcome<Item> {
      Item item = given;
      if (std::optional<ApiError> problem = check_item(item, std::nullopt))
        return *problem;
      write_item(item, std::nullopt);
      return item;
    });
  }

  Outcome<Item> update_item(const std::string& id,
                            const std::function<std::optional<ApiError>(Item&)>& edit) override {
    const std::lock_guard lock(mutex_);
    return transaction<Item>([&]() -> Outcome<Item> {
      auto found = find_item(id);
      if (!found)
        return not_found("Item not found: " + id);
      Item& item = found->second;
      if (std::optional<ApiError> problem = edit(item))
        return *problem;
      if (std::optional<ApiError> problem = check_item(item, found->first))
        return *problem;
      write_item(item, found->first);
      return item;
    });
  }

  Outcome<Done> delete_item(const std::string& id) override {
    const std::lock_guard lock(mutex_);
    return transaction<Done>([&]() -> Outcome<Done> {
      auto found = find_item(id);
      if (!found)
        return not_found("Item not found: " + id);
      const std::int64_t row = found->first;
      query("DELETE FROM item_tags WHERE item_rowid = ?1").bind(1, row).run();
      query("DELETE FROM items_fts WHERE rowid = ?1").bind(1, row).run();
      query("DELETE FROM items WHERE rowid = ?1").bind(1, row).run();
      return Done{};
    });
  }

  std::optional<Item> item(const std::string& id) override {
    return read(std::string("SELECT ") + kItemColumns + " FROM items WHERE id = ?1",
                [&](Query& q) -> std::optional<Item> {
                  q.bind(1, id);
                  if (!q.step())
                    return std::nullopt;
                  return read_item(q);
                });
  }

  std::vector<Item> items(const std::vector<std::string>& ids) override {
    std::string list = "[";
    for (const std::string& id : ids) {
      list += list.size() == 1 ? "\"" : ",\"";
      for (const char c : id) {
        if (c == '"' || c == '\\')
          list += '\\';
        list += c;
      }
      list += '"';
    }
    list += ']';
    return read(std::string("SELECT ") + kItemColumns +
                    " FROM json_each(?1) AS wanted JOIN items ON items.id = wanted.value "
                    "ORDER BY wanted.key",
                [&](Query& q) {
                  q.bind(1, list);
                  std::vector<Item> found;
                  while (q.step())
                    found.push_back(read_item(q));
                  return found;
                });
  }

  std::optional<Item> item_by_provider_ref(const std::optional<std::string>& provider,
                                           const std::string& provider_ref) override {
    const std::lock_guard lock(mutex_);
    Query q = query(std::string("SELECT ") + kItemColumns +
                    " FROM items WHERE IFNULL(provider, '') = ?1 AND provider_ref = ?2");
    q.bind(1, provider.value_or("")).bind(2, provider_ref);
    if (!q.step())
      return std::nullopt;
    return read_item(q);
  }

  ItemPage list_items(const ItemFilter& filter, std::size_t limit,
                      const std::optional<ItemCursor>& after) override {
    std::vector<Value> values;
    const std::string where = where_clause(filter, values);
    std::string sql = std::string("SELECT ") + kItemColumns + " FROM items" + where;
    if (after) {
      values.emplace_back(after->date_ms);
      const std::string date = "?" + std::to_string(values.size());
      values.emplace_back(after->id);
      const std::string id = "?" + std::to_string(values.size());
      sql += std::string(where.empty() ? " WHERE " : " AND ") + "(date_ms < " + date +
             " OR (date_ms = " + date + " AND id < " + id + "))";
    }
    values.emplace_back(static_cast<std::int64_t>(limit + 1));
    sql += " ORDER BY date_ms DESC, id DESC LIMIT ?" + std::to_string(values.size());
    ItemPage page = read(sql, [&](Query& q) {
      q.bind_all(values);
      ItemPage rows;
      while (q.step())
        rows.items.push_back(read_item(q));
      return rows;
    });
    if (page.items.size() > limit) {
      page.items.resize(limit);
      page.next = ItemCursor{page.items.back().date_ms, page.items.back().id};
    }
    return page;
  }

  std::vector<Item> search(const std::string& text, std::size_t limit) override {
    const std::string match = fts_query(text);
    std::vector<Item> found;
    if (match.empty())
      return found;
    return read(std::string("SELECT ") + kItemColumns +
                    " FROM items_fts JOIN items ON items.rowid = items_fts.rowid WHERE "
                    "items_fts MATCH ?1 ORDER BY items_fts.rank, items.date_ms DESC, "
                    "items.id DESC LIMIT ?2",
                [&](Query& q) {
                  q.bind(1, match).bind(2, static_cast<std::int64_t>(limit));
                  while (q.step())
                    found.push_back(read_item(q));
                  return std::move(found);
                });
  }

  Upserted upsert_sync_item(const Item& incoming) override {
    const std::lock_guard lock(mutex_);
    Upserted result = Upserted::unchanged;
    transaction<Done>([&]() -> Outcome<Done> {
      Query q = query(std::string("SELECT ") + kItemColumns +
                      " FROM items WHERE IFNULL(provider, '') = ?1 AND provider_ref = ?2");
      q.bind(1, incoming.provider.value_or("")).bind(2, incoming.provider_ref.value_or(""));
      if (!q.step()) {
        write_item(incoming, std::nullopt);
        result = Upserted::created;
        return Done{};
      }
      const std::int64_t row = q.integer(0);
      Item item = read_item(q);
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
      write_item(item, row);
      result = Upserted::updated;
      return Done{};
    });
    return result;
  }

  // --- categories

  std::optional<ApiError> check_category(const Category& c) {
    Query q = query("SELECT id FROM categories WHERE name_key = ?1 AND id <> ?2");
    q.bind(1, lower_ascii(c.name)).bind(2, c.id);
    if (q.step())
      return conflict("name", "category " + q.text(0) + " is already named '" + c.name + "'");
    // The parent exists and is not the category itself nor one of its descendants.
    for (std::optional<std::string> parent = c.parent_id; parent;) {
      if (*parent == c.id)
        return validation_error("parentId", "category '" + c.id +
                                                "' cannot be its own ancestor (parentId '" +
                                                *c.parent_id + "')");
      Query p = query("SELECT parent_id FROM categories WHERE id = ?1");
      p.bind(1, *parent);
      if (!p.step())
        return validation_error("parentId", "no category has the id '" + *parent + "'");
      parent = p.optional_text(0);
    }
    return std::nullopt;
  }

  void write_category(const Category& c, bool exists) {
    Query q = query(exists ? "UPDATE categories SET name = ?2, name_key = ?3, description = ?4, "
                             "color = ?5, parent_id = ?6, created_ms = ?7, updated_ms = ?8 "
                             "WHERE id = ?1"
                           : "INSERT INTO categories (id, name, name_key, description, color, "
                             "parent_id, created_ms, updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, "
                             "?6, ?7, ?8)");
    q.bind(1, c.id)
        .bind(2, c.name)
        .bind(3, lower_ascii(c.name))
        .bind(4, text_or_null(c.description))
        .bind(5, text_or_null(c.color))
        .bind(6, text_or_null(c.parent_id))
        .bind(7, c.created_ms)
        .bind(8, c.updated_ms)
        .run();
  }

  std::optional<Category> find_category(const std::string& id_or_name) {
    {
      Query q = query(std::string("SELECT ") + kCategoryColumns + " FROM categories WHERE id = ?1");
      q.bind(1, id_or_name);
      if (q.step())
        return read_category(q);
    }
    Query q =
        query(std::string("SELECT ") + kCategoryColumns + " FROM categories WHERE name_key = ?1");
    q.bind(1, lower_ascii(id_or_name));
    if (q.step())
      return read_category(q);
    return std::nullopt;
  }

  Outcome<Category> insert_category(const Category& category) override {
    const std::lock_guard lock(mutex_);
    return transaction<Category>([&]() -> Outcome<Category> {
      if (std::optional<ApiError> problem = check_category(category))
        return *problem;
      write_category(category, false);
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
      write_category(*found, true);
      return *found;
    });
  }

  Outcome<Done> delete_category(const std::string& id) override {
    const std::lock_guard lock(mutex_);
    return transaction<Done>([&]() -> Outcome<Done> {
      std::optional<Category> found = find_category(id);
      if (!found)
        return not_found("Category not found: " + id);
      {
        Query q = query("SELECT COUNT(*) FROM items WHERE category = ?1");
        q.bind(1, found->id).step();
        if (const std::int64_t n = q.integer(0); n > 0)
          return conflict("id", "category '" + found->name + "' is used by " + std::to_string(n) +
                                    " item(s): move them to another category first");
      }
      {
        Query q = query("SELECT COUNT(*) FROM categories WHERE parent_id = ?1");
        q.bind(1, found->id).step();
        if (const std::int64_t n = q.integer(0); n > 0)
          return conflict("id", "category '" + found->name + "' is the parent of " +
                                    std::to_string(n) + " categor" + (n == 1 ? "y" : "ies") +
                                    ": move or delete them first");
      }
      query("DELETE FROM categories WHERE id = ?1").bind(1, found->id).run();
      return Done{};
    });
  }

  std::optional<Category> category(const std::string& id_or_name) override {
    const std::lock_guard lock(mutex_);
    return find_category(id_or_name);
  }

  std::vector<Category> categories() override {
    const std::lock_guard lock(mutex_);
    Query q =
        query(std::string("SELECT ") + kCategoryColumns + " FROM categories ORDER BY name_key, id");
    std::vector<Category> all;
    while (q.step())
      all.push_back(read_category(q));
    return all;
  }

  // --- reports

  std::vector<GroupTotal> totals(const ItemFilter& filter, GroupBy by) override {
    const char* key = "NULL";
    std::string from = " FROM items";
    switch (by) {
    case GroupBy::none:
      break;
    case GroupBy::provider:
      key = "provider";
      break;
    case GroupBy::category:
      key = "category";
      break;
    case GroupBy::service:
      key = "service";
      break;
    case GroupBy::recurring:
      key = "CASE recurring WHEN 1 THEN 'true' ELSE 'false' END";
      break;
    case GroupBy::tag:
      key = "item_tags.tag";
      from = " FROM items LEFT JOIN item_tags ON item_tags.item_rowid = items.rowid";
      break;
    case GroupBy::day:
      key = "date_ms / 86400000";
      break;
    case GroupBy::week: // 1970-01-01 was a Thursday: weeks start on the Monday before
      key = "date_ms / 86400000 - (date_ms / 86400000 + 3) % 7";
      break;
    case GroupBy::month:
      key = "strftime('%Y-%m', date_ms / 1000, 'unixepoch')";
      break;
    }
    std::vector<Value> values;
    const std::string sql = std::string("SELECT ") + key + ", currency, SUM(amount), COUNT(*)" +
                            from + where_clause(filter, values) + " GROUP BY 1, 2";
    std::vector<GroupTotal> groups;
    {
      const std::lock_guard lock(mutex_);
      Query q = query(sql);
      q.bind_all(values);
      while (q.step()) {
        GroupTotal g;
        if (!q.is_null(0))
          g.key = by == GroupBy::day || by == GroupBy::week ? format_day(q.integer(0)) : q.text(0);
        g.currency = q.text(1);
        g.amount = q.integer(2);
        g.count = q.integer(3);
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
      query("INSERT OR REPLACE INTO sync_jobs (id, provider, connection, status, from_day, "
            "to_day, items_created, items_updated, items_unchanged, error, started_ms, "
            "completed_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)")
          .bind(1, job.id)
          .bind(2, job.provider)
          .bind(3, text_or_null(job.connection))
          .bind(4, job.status)
          .bind(5, job.from)
          .bind(6, job.to)
          .bind(7, job.items_created)
          .bind(8, job.items_updated)
          .bind(9, job.items_unchanged)
          .bind(10, text_or_null(job.error))
          .bind(11, job.started_ms)
          .bind(12, job.completed_ms ? Value(*job.completed_ms) : Value())
          .run();
      return Done{};
    });
  }

  std::optional<SyncJob> sync_job(const std::string& id) override {
    const std::lock_guard lock(mutex_);
    Query q = query(std::string("SELECT ") + kJobColumns + " FROM sync_jobs WHERE id = ?1");
    q.bind(1, id);
    if (!q.step())
      return std::nullopt;
    return read_job(q);
  }

  std::vector<SyncJob> sync_jobs(const std::optional<std::string>& provider,
                                 std::size_t limit) override {
    const std::lock_guard lock(mutex_);
    Query q = query(std::string("SELECT ") + kJobColumns +
                    " FROM sync_jobs WHERE ?1 IS NULL OR provider = ?1 "
                    "ORDER BY started_ms DESC, id DESC LIMIT ?2");
    q.bind(1, text_or_null(provider)).bind(2, static_cast<std::int64_t>(limit));
    std::vector<SyncJob> jobs;
    while (q.step())
      jobs.push_back(read_job(q));
    return jobs;
  }

  StoreStats stats() override {
    StoreStats stats;
    stats.totals_by_currency = totals(ItemFilter{}, GroupBy::none);
    const std::lock_guard lock(mutex_);
    auto count = [&](const char* sql) {
      Query q = query(sql);
      q.step();
      return q.integer(0);
    };
    stats.items = count("SELECT COUNT(*) FROM items");
    stats.categories = count("SELECT COUNT(*) FROM categories");
    stats.sync_jobs = count("SELECT COUNT(*) FROM sync_jobs");
    stats.bytes = count("SELECT page_count * page_size FROM pragma_page_count, pragma_page_size");
    stats.schema_version = kSchemaVersion;
    stats.storage_type = "sqlite";
    stats.location = file_.string();
    return stats;
  }

  std::uint64_t generation() const override { return generation_.load(); }

private:
  struct Reader {
    std::mutex mutex;
    sqlite3* db = nullptr;
    std::map<std::string, sqlite3_stmt*> statements;
    ~Reader() {
      for (auto& [sql, stmt] : statements)
        sqlite3_finalize(stmt);
      sqlite3_close(db);
    }
  };

  // Runs `body(Query)` for `sql` on a free reader (or waits for one), else on the main connection.
  template <class Body>
  std::invoke_result_t<Body&, Query&> read(const std::string& sql, Body&& body) {
    if (readers_.empty()) {
      const std::lock_guard lock(mutex_);
      Query q = query(sql);
      return body(q);
    }
    for (const auto& reader : readers_)
      if (reader->mutex.try_lock()) {
        const std::lock_guard lock(reader->mutex, std::adopt_lock);
        Query q = prepared(reader->db, reader->statements, sql);
        return body(q);
      }
    Reader& reader = *readers_[next_reader_.fetch_add(1) % readers_.size()];
    const std::lock_guard lock(reader.mutex);
    Query q = prepared(reader.db, reader.statements, sql);
    return body(q);
  }

  std::vector<std::unique_ptr<Reader>> readers_;
  std::atomic<std::size_t> next_reader_{0};
  std::mutex mutex_;
  sqlite3* db_;
  std::filesystem::path file_;
  std::map<std::string, sqlite3_stmt*> statements_;
  std::atomic<std::uint64_t> generation_{0};
};

Result<std::unique_ptr<BillingStore>> open_sqlite_billing_store(const std::filesystem::path& file) {
  sqlite3* db = nullptr;
  const int rc =
      sqlite3_open_v2(file.string().c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return config_error("cannot open the billing store " + file.string() + ": " + message);
  }
  sqlite3_busy_timeout(db, 5000);
  auto store = std::make_unique<SqliteBillingStore>(db, file);
  try {
    store->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=OFF;");
    store->migrate();
    store->open_readers(4);
  } catch (const std::exception& e) {
    return config_error(e.what());
  }
  return std::unique_ptr<BillingStore>(std::move(store));
}

} // namespace billdrop::billing
