#pragma once
// An in-memory inverted index that answers BillingStore::search() as the SQLite store's FTS5
// query does, rank for rank: every word of the query taken as a prefix and all of them
// required, ranked by FTS5's bm25() (same formula, same doubles, k1 = 1.2, b = 0.75), then by
// date and id, newest first. It reads text with FTS5's own tokenizer (unicode61_tokens() in
// search_words.hpp), so words are split and folded exactly as FTS5 splits and folds them;
// search_words.hpp has the tokenizer and the rule for the words of a query.
//
// Postings are kept sorted by document slot (slots are never reused; the index renumbers when
// dead slots pile up). A query takes each word's postings (a prefix matching several terms:
// their merge), walks the rarest word's documents while stepping through the others', scores
// with bm25 weights from a table, and keeps the best in a heap; queries share a lock (reads)
// and run side by side. The best 100 documents of recent queries are kept until the next write,
// so the same words with another limit are a slice.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace billdrop::billing {

// Splits `text` into tokens, appending them to `tokens`; `query` for a query's words.
using Tokenizer =
    std::function<void(std::string_view text, bool query, std::vector<std::string>& tokens)>;

class SearchIndex {
public:
  explicit SearchIndex(Tokenizer tokenize);

  // The texts FTS5 indexes for an item: name, description, provider, service, tags.
  struct Document {
    std::string id;
    std::int64_t date_ms = 0;
    std::vector<std::string_view> columns;
  };
  // Adds the document, or replaces what was indexed under its id.
  void put(const Document& document);
  void erase(const std::string& id);

  // The ids of the best `limit` items matching `query`, best first; nullopt when a word of the
  // query is not one token (FTS5 would read it as a phrase), which the caller leaves to FTS5.
  std::optional<std::vector<std::string>> search(std::string_view query, std::size_t limit) const;

private:
  struct Doc {
    std::string id;
    std::int64_t date_ms = 0;
    std::uint32_t length = 0;         // tokens in all columns
    std::vector<std::uint32_t> terms; // distinct
    bool live = false;
  };
  struct Posting {
    std::uint32_t doc;
    std::uint32_t count;
  };

  void erase_locked(std::uint32_t doc);
  // Renumbers the live documents when dead slots outnumber them (slots are never reused, so
  // that postings stay sorted by slot).
  void compact();
  void forget_results();

  // bm25's term weight f·(k1+1) / (f + k1·(1 − b + b·length/avgdl)) for small f and length,
  // computed once per avgdl (it changes only with a write) with the very operations of the
  // scoring loop, so a lookup gives the same double.
  struct WeightTable {
    double avgdl = -1;
    std::vector<double> weight; // [f * kTableLengths + length]
  };
  static constexpr std::uint32_t kTableCounts = 16, kTableLengths = 256;
  std::shared_ptr<const WeightTable> weights(double avgdl) const;

  Tokenizer tokenize_;
  mutable std::mutex weights_mutex_;
  mutable std::shared_ptr<const WeightTable> weights_;
  mutable std::shared_mutex mutex_;
  std::map<std::string, std::uint32_t, std::less<>> terms_; // term → index in postings_
  std::vector<std::vector<Posting>> postings_;
  std::vector<Doc> docs_;
  std::vector<std::uint32_t> lengths_; // docs_[i].length, packed: the scoring loop reads it
  std::vector<std::int64_t> dates_;    // docs_[i].date_ms, packed: ties on score compare it
  std::unordered_map<std::string, std::uint32_t> doc_of_id_;
  std::int64_t total_tokens_ = 0;
  // The best documents of recent queries (key: their prefixes), at least kResultsKept of them
  // whatever the limit asked, so that the same words with another limit are a slice; emptied
  // by every write. `complete`: every match is in `docs`.
  struct Results {
    std::vector<std::uint32_t> docs;
    bool complete = false;
  };
  static constexpr std::size_t kResultsKept = 100, kMaxResults = 4096;
  mutable std::mutex results_mutex_;
  mutable std::unordered_map<std::string, Results> results_;
};

} // namespace billdrop::billing
