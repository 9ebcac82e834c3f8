#include "billing/sqlite/fts5_tokenizer.hpp"

#include <sqlite3.h>

#include <memory>
#include <mutex>

namespace billdrop::billing {

namespace {

// An in-memory SQLite connection kept open for the tokenizer, which lives in its FTS5 module.
struct TokenizerState {
  sqlite3* db = nullptr;
  fts5_tokenizer methods{};
  ::Fts5Tokenizer* tokenizer = nullptr;
  std::mutex mutex; // a tokenizer instance is not safe to share between threads

  ~TokenizerState() {
    if (tokenizer != nullptr)
      methods.xDelete(tokenizer);
    sqlite3_close(db);
  }
};

int collect(void* context, int /*flags*/, const char* token, int size, int /*start*/, int /*end*/) {
  static_cast<std::vector<std::string>*>(context)->emplace_back(token,
                                                                static_cast<std::size_t>(size));
  return SQLITE_OK;
}

} // namespace

Result<Tokenizer> fts5_unicode61_tokenizer() {
  auto state = std::make_shared<TokenizerState>();
  if (sqlite3_open_v2(":memory:", &state->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK)
    return config_error("the search index cannot open SQLite in memory");
  fts5_api* api = nullptr;
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(state->db, "SELECT fts5(?1)", -1, &stmt, nullptr) == SQLITE_OK) {
    sqlite3_bind_pointer(stmt, 1, static_cast<void*>(&api), "fts5_api_ptr", nullptr);
    sqlite3_step(stmt);
  }
  sqlite3_finalize(stmt);
  if (api == nullptr)
    return config_error("this SQLite has no FTS5, which the billing store's search needs");
  void* user_data = nullptr;
  if (api->xFindTokenizer(api, "unicode61", &user_data, &state->methods) != SQLITE_OK)
    return config_error("SQLite's FTS5 has no unicode61 tokenizer");
  const char* arguments[] = {"remove_diacritics", "2"};
  if (state->methods.xCreate(user_data, arguments, 2, &state->tokenizer) != SQLITE_OK)
    return config_error("SQLite's FTS5 cannot create the unicode61 tokenizer");
  return Tokenizer([state](std::string_view text, bool query, std::vector<std::string>& tokens) {
    const std::lock_guard lock(state->mutex);
    const int flags = query ? FTS5_TOKENIZE_QUERY | FTS5_TOKENIZE_PREFIX : FTS5_TOKENIZE_DOCUMENT;
    state->methods.xTokenize(state->tokenizer, &tokens, flags, text.data(),
                             static_cast<int>(text.size()), collect);
  });
}

} // namespace billdrop::billing
