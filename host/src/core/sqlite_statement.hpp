#pragma once
// The few pieces of SQLite both stores (the sync store and the emulator's) need: a prepared
// statement with typed binds and reads, a guard that resets it however a scope is left, and an
// IMMEDIATE transaction. Included only by the stores' .cpp files (it brings in sqlite3.h).

#include <billdrop/result.hpp>

#include <sqlite3.h>

#include <cstdint>
#include <string_view>

namespace billdrop::sqlite {

// How a statement binds text: copied at bind time (the value may die before step()), or borrowed
// (the caller keeps it alive until reset(): no copy, for the emulator's per-row inserts).
enum class TextBinding { copied, borrowed };

// A prepared statement, finalized with the object; bound, stepped and reset in one scope (see
// StatementUse).
class Statement {
public:
  explicit Statement(sqlite3_stmt* stmt, TextBinding binding = TextBinding::copied)
      : stmt_(stmt), binding_(binding) {}
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& text(int index, std::string_view value) {
    // A null data pointer would bind NULL, not "".
    sqlite3_bind_text(stmt_, index, value.data() != nullptr ? value.data() : "",
                      static_cast<int>(value.size()),
                      binding_ == TextBinding::copied ? SQLITE_TRANSIENT : SQLITE_STATIC);
    return *this;
  }
  Statement& integer(int index, std::int64_t value) {
    sqlite3_bind_int64(stmt_, index, value);
    return *this;
  }
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int step() { return sqlite3_step(stmt_); }
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  std::int64_t column_integer(int index) { return sqlite3_column_int64(stmt_, index); }
  // Valid until the next step() or reset().
  std::string_view column_text(int index) {
    const auto* data = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, index));
    return data == nullptr
               ? std::string_view()
               : std::string_view(data,
                                  static_cast<std::size_t>(sqlite3_column_bytes(stmt_, index)));
  }

private:
  sqlite3_stmt* stmt_;
  TextBinding binding_;
};

// Resets a statement however the scope is left.
class StatementUse {
public:
  explicit StatementUse(Statement& statement) : statement_(statement) {}
  ~StatementUse() { statement_.reset(); }
  StatementUse(const StatementUse&) = delete;
  StatementUse& operator=(const StatementUse&) = delete;

private:
  Statement& statement_;
};

// Runs `body` in one IMMEDIATE transaction, through the store's `exec` (SQL text to Status):
// committed when it succeeds, else rolled back.
template <class Exec, class Body>
Status immediate_transaction(Exec&& exec, Body&& body) {
  if (Status status = exec("BEGIN IMMEDIATE"); !status)
    return status;
  Status status = body();
  if (Status ended = exec(status ? "COMMIT" : "ROLLBACK"); !ended && status)
    return ended;
  return status;
}

} // namespace billdrop::sqlite
