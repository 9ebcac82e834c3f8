#include "manual_items.hpp"

#include <libpq-fe.h>
#include <sqlite3.h>

#include <cstdlib>
#include <memory>

namespace manual {

namespace {

struct CloseDb {
  void operator()(sqlite3* db) const noexcept { sqlite3_close(db); }
};
struct FinalizeStmt {
  void operator()(sqlite3_stmt* stmt) const noexcept { sqlite3_finalize(stmt); }
};

std::string column_text(sqlite3_stmt* stmt, int column) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, column));
  return text == nullptr
             ? std::string()
             : std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(stmt, column)));
}

int period_months(const std::string& period) {
  return period == "monthly" ? 1 : period == "quarterly" ? 3 : period == "yearly" ? 12 : 0;
}

// Milliseconds to seconds, toward the past.
billdrop::UtcTime from_ms(std::int64_t ms) {
  return billdrop::UtcTime{ms / 1000 - (ms % 1000 < 0 ? 1 : 0)};
}

int days_in_month(int year, int month) {
  for (int day = 31; day > 28; --day)
    if (billdrop::is_valid_date(year, static_cast<unsigned>(month), static_cast<unsigned>(day)))
      return day;
  return 28;
}

} // namespace

billdrop::Result<std::vector<ManualItem>> read_manual_items(const std::filesystem::path& file) {
  if (!std::filesystem::exists(file))
    return billdrop::config_error("the Billing API store " + file.string() +
                                  " does not exist: point `database` at the billing.db in the "
                                  "state directory of `billdrop serve`");
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(file.string().c_str(), &raw, SQLITE_OPEN_READONLY, nullptr);
  std::unique_ptr<sqlite3, CloseDb> db(raw);
  if (rc != SQLITE_OK)
    return billdrop::source_error("cannot open " + file.string() + ": " +
                                  (raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  sqlite3_busy_timeout(db.get(), 5000);
  auto prepare =
      [&](const char* sql) -> billdrop::Result<std::unique_ptr<sqlite3_stmt, FinalizeStmt>> {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db.get(), sql, -1, &stmt, nullptr) != SQLITE_OK)
      return billdrop::source_error("reading " + file.string() + ": " + sqlite3_errmsg(db.get()));
    return std::unique_ptr<sqlite3_stmt, FinalizeStmt>(stmt);
  };
  {
    auto version = prepare("PRAGMA user_version");
    if (!version)
      return version.error();
    sqlite3_step(version->get());
    const int found = sqlite3_column_int(version->get(), 0);
    if (found != kBillingSchemaVersion)
      return billdrop::config_error(file.string() + " has schema version " + std::to_string(found) +
                                    "; this manual plugin reads version " +
                                    std::to_string(kBillingSchemaVersion) +
                                    ": use the plugin shipped with that billdrop");
  }
  auto select = prepare(
      "SELECT items.id, items.name, items.amount, items.currency, IFNULL(items.provider, ''), "
      "IFNULL(items.provider_ref, ''), IFNULL(items.service, ''), IFNULL(categories.name, ''), "
      "items.recurring, IFNULL(items.period, ''), items.date_ms FROM items LEFT JOIN categories "
      "ON categories.id = items.category WHERE items.source = 'manual' "
      "ORDER BY items.date_ms, items.id");
  if (!select)
    return select.error();
  std::vector<ManualItem> items;
  for (;;) {
    const int step = sqlite3_step(select->get());
    if (step == SQLITE_DONE)
      break;
    if (step != SQLITE_ROW)
      return billdrop::source_error("reading " + file.string() + ": " + sqlite3_errmsg(db.get()),
                                    true);
    sqlite3_stmt* row = select->get();
    ManualItem item;
    item.id = column_text(row, 0);
    item.name = column_text(row, 1);
    item.amount = sqlite3_column_int64(row, 2);
    item.currency = column_text(row, 3);
    item.provider = column_text(row, 4);
    item.provider_ref = column_text(row, 5);
    item.service = column_text(row, 6);
    item.category = column_text(row, 7);
    item.recurring = sqlite3_column_int(row, 8) != 0;
    item.period_months = period_months(column_text(row, 9));
    item.date = from_ms(sqlite3_column_int64(row, 10));
    items.push_back(std::move(item));
  }
  return items;
}

namespace {

struct ClosePg {
  void operator()(PGconn* conn) const noexcept { PQfinish(conn); }
};
struct ClearResult {
  void operator()(PGresult* result) const noexcept { PQclear(result); }
};

// libpq's last message, on one line.
std::string pg_message(PGconn* conn, PGresult* result = nullptr) {
  std::string message = result != nullptr ? PQresultErrorMessage(result) : "";
  if (message.empty())
    message = PQerrorMessage(conn);
  for (char& c : message)
    if (c == '\n')
      c = ' ';
  while (!message.empty() && message.back() == ' ')
    message.pop_back();
  return message;
}

} // namespace

billdrop::Result<std::vector<ManualItem>> read_manual_items_postgres(const std::string& url,
                                                                     const std::string& where) {
  std::unique_ptr<PGconn, ClosePg> conn(PQconnectdb(url.c_str()));
  if (PQstatus(conn.get()) != CONNECTION_OK)
    return billdrop::source_error("cannot connect to the PostgreSQL billing store (" + where +
                                      "): " + pg_message(conn.get()),
                                  true);
  auto query = [&](const char* sql) -> billdrop::Result<std::unique_ptr<PGresult, ClearResult>> {
    std::unique_ptr<PGresult, ClearResult> result(PQexec(conn.get(), sql));
    if (PQresultStatus(result.get()) != PGRES_TUPLES_OK)
      return billdrop::source_error("reading the PostgreSQL billing store (" + where +
                                        "): " + pg_message(conn.get(), result.get()),
                                    true);
    return result;
  };
  {
    auto version = query("SELECT version FROM billdrop_billing_schema");
    if (!version)
      return billdrop::config_error(version.error().message() +
                                    " (is it the store of a `billdrop serve` with [store] kind = "
                                    "\"postgres\"?)");
    const int found =
        PQntuples(version->get()) == 1 ? std::atoi(PQgetvalue(version->get(), 0, 0)) : 0;
    if (found != kPostgresBillingSchemaVersion)
      return billdrop::config_error("the PostgreSQL billing store (" + where +
                                    ") has schema version " + std::to_string(found) +
                                    "; this manual plugin reads version " +
                                    std::to_string(kPostgresBillingSchemaVersion) +
                                    ": use the plugin shipped with that billdrop");
  }
  auto rows = query("SELECT i.id, i.name, i.amount, i.currency, COALESCE(i.provider, ''), "
                    "COALESCE(i.provider_ref, ''), COALESCE(i.service, ''), COALESCE(c.name, ''), "
                    "CASE WHEN i.recurring THEN 1 ELSE 0 END, COALESCE(i.period, ''), i.date_ms "
                    "FROM billing_items i LEFT JOIN billing_categories c ON c.id = i.category "
                    "WHERE i.source = 'manual' ORDER BY i.date_ms, i.id");
  if (!rows)
    return rows.error();
  std::vector<ManualItem> items;
  PGresult* result = rows->get();
  for (int r = 0; r < PQntuples(result); ++r) {
    auto text = [&](int column) {
      return std::string(PQgetvalue(result, r, column),
                         static_cast<std::size_t>(PQgetlength(result, r, column)));
    };
    ManualItem item;
    item.id = text(0);
    item.name = text(1);
    item.amount = std::stoll(text(2));
    item.currency = text(3);
    item.provider = text(4);
    item.provider_ref = text(5);
    item.service = text(6);
    item.category = text(7);
    item.recurring = text(8) == "1";
    item.period_months = period_months(text(9));
    item.date = from_ms(std::stoll(text(10)));
    items.push_back(std::move(item));
  }
  return items;
}

std::vector<billdrop::UtcTime> occurrences(const ManualItem& item, billdrop::Month until) {
  std::vector<billdrop::UtcTime> times;
  const billdrop::Month first = billdrop::Month::of(item.date);
  if (!item.recurring || item.period_months <= 0) {
    if (!(until < first))
      times.push_back(item.date);
    return times;
  }
  const std::int64_t day_seconds = 86'400;
  const std::int64_t first_day =
      billdrop::days_from_civil(first.year(), static_cast<unsigned>(first.month()), 1);
  const std::int64_t in_month = item.date.seconds - first_day * day_seconds; // offset from the 1st
  const int day_of_month = static_cast<int>(in_month / day_seconds) + 1;
  const std::int64_t time_of_day = in_month % day_seconds;
  int step = 0;
  for (billdrop::Month month = first; !(until < month); month = month.next(), ++step) {
    if (step % item.period_months != 0)
      continue;
    const int day = std::min(day_of_month, days_in_month(month.year(), month.month()));
    const std::int64_t days = billdrop::days_from_civil(
        month.year(), static_cast<unsigned>(month.month()), static_cast<unsigned>(day));
    times.push_back(billdrop::UtcTime{days * day_seconds + time_of_day});
  }
  return times;
}

std::string minor_units_text(std::int64_t amount, int exponent) {
  const bool negative = amount < 0;
  std::string digits = std::to_string(negative ? -amount : amount); // |amount| <= 2^53 - 1
  if (exponent > 0) {
    if (digits.size() <= static_cast<std::size_t>(exponent))
      digits.insert(0, static_cast<std::size_t>(exponent) + 1 - digits.size(), '0');
    digits.insert(digits.size() - static_cast<std::size_t>(exponent), 1, '.');
  }
  return negative ? "-" + digits : digits;
}

} // namespace manual
