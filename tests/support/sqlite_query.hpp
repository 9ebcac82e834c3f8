#pragma once
// Test support: one value from a SQLite file (billdrop's sync.db), read with SQLite itself rather
// than through billdrop's code; "" when there is no such row. Header-only.

#include <sqlite3.h>

#include <filesystem>
#include <string>

namespace billdrop::test {

inline std::string query_text(const std::filesystem::path& db_file, const std::string& sql) {
  sqlite3* db = nullptr;
  std::string value;
  if (sqlite3_open_v2(db_file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0) != nullptr)
      value = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    sqlite3_finalize(stmt);
  }
  sqlite3_close(db);
  return value;
}

} // namespace billdrop::test
