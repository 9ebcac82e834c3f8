#include "billing/search_words.hpp"

#include <sqlite3.h>

#include <mutex>
#include <stdexcept>

namespace billdrop::billing {

std::vector<std::string> search_words(std::string_view q) {
  std::vector<std::string> words;
  std::string word;
  for (const char c : q) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
        (c >= 'A' && c <= 'Z')) {
      word += c;
    } else if (!word.empty()) {
      words.push_back(std::move(word));
      word.clear();
    }
  }
  if (!word.empty())
    words.push_back(std::move(word));
  return words;
}

namespace {

// SQLite's own unicode61 tokenizer, found through the FTS5 API of an in-memory database; one
// instance (it keeps a folding buffer), behind a mutex.
class Unicode61 {
public:
  Unicode61() {
    if (sqlite3_open_v2(":memory:", &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, nullptr) !=
        SQLITE_OK)
      throw std::runtime_error("search: cannot open an in-memory SQLite database");
    fts5_api* api = nullptr;
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, "SELECT fts5(?1)", -1, &stmt, nullptr) == SQLITE_OK) {
      sqlite3_bind_pointer(stmt, 1, static_cast<void*>(&api), "fts5_api_ptr", nullptr);
      sqlite3_step(stmt);
    }
    sqlite3_finalize(stmt);
    void* context = nullptr;
    if (api == nullptr || api->xFindTokenizer(api, "unicode61", &context, &methods_) != SQLITE_OK)
      throw std::runtime_error("search: SQLite has no FTS5 unicode61 tokenizer");
    const char* args[] = {"remove_diacritics", "2"};
    if (methods_.xCreate(context, args, 2, &tokenizer_) != SQLITE_OK)
      throw std::runtime_error("search: cannot create the FTS5 unicode61 tokenizer");
  }
  ~Unicode61() {
    methods_.xDelete(tokenizer_);
    sqlite3_close(db_);
  }
  Unicode61(const Unicode61&) = delete;
  Unicode61& operator=(const Unicode61&) = delete;

  std::vector<std::string> tokens(std::string_view text) {
    std::vector<std::string> out;
    const std::lock_guard lock(mutex_);
    methods_.xTokenize(tokenizer_, &out, FTS5_TOKENIZE_DOCUMENT, text.data(),
                       static_cast<int>(text.size()),
                       [](void* context, int, const char* token, int size, int, int) {
                         static_cast<std::vector<std::string>*>(context)->emplace_back(
                             token, static_cast<std::size_t>(size));
                         return SQLITE_OK;
                       });
    return out;
  }

private:
  std::mutex mutex_;
  sqlite3* db_ = nullptr;
  fts5_tokenizer methods_{};
  Fts5Tokenizer* tokenizer_ = nullptr;
};

} // namespace

std::vector<std::string> unicode61_tokens(std::string_view text) {
  static Unicode61 tokenizer;
  return tokenizer.tokens(text);
}

} // namespace billdrop::billing
