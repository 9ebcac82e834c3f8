#include "billing/search_index.hpp"

#include "billing/search_words.hpp"

#include <algorithm>
#include <cmath>
#include <mutex>

namespace billdrop::billing {

SearchIndex::SearchIndex(Tokenizer tokenize) : tokenize_(std::move(tokenize)) {}

void SearchIndex::put(const Document& document) {
  // Tokenized before the lock: the tokenizer is the slow part of a write.
  std::vector<std::string> tokens;
  for (std::string_view column : document.columns)
    tokenize_(column, false, tokens);
  std::sort(tokens.begin(), tokens.end());

  const std::unique_lock lock(mutex_);
  if (const auto found = doc_of_id_.find(document.id); found != doc_of_id_.end()) {
    erase_locked(found->second);
    doc_of_id_.erase(found);
  }
  std::uint32_t slot = 0;
  if (!free_docs_.empty()) {
    slot = free_docs_.back();
    free_docs_.pop_back();
  } else {
    slot = static_cast<std::uint32_t>(docs_.size());
    docs_.emplace_back();
    lengths_.push_back(0);
  }
  Doc& doc = docs_[slot];
  doc.id = document.id;
  doc.date_ms = document.date_ms;
  doc.length = static_cast<std::uint32_t>(tokens.size());
  lengths_[slot] = doc.length;
  doc.terms.clear();
  doc.live = true;
  for (std::size_t i = 0; i < tokens.size();) {
    std::size_t end = i;
    while (end < tokens.size() && tokens[end] == tokens[i])
      ++end;
    auto [term, added] =
        terms_.try_emplace(std::move(tokens[i]), static_cast<std::uint32_t>(postings_.size()));
    if (added)
      postings_.emplace_back();
    postings_[term->second].push_back(Posting{slot, static_cast<std::uint32_t>(end - i)});
    doc.terms.push_back(term->second);
    i = end;
  }
  total_tokens_ += doc.length;
  doc_of_id_.emplace(document.id, slot);
}

void SearchIndex::erase(const std::string& id) {
  const std::unique_lock lock(mutex_);
  if (const auto found = doc_of_id_.find(id); found != doc_of_id_.end()) {
    erase_locked(found->second);
    doc_of_id_.erase(found);
  }
}

void SearchIndex::erase_locked(std::uint32_t slot) {
  Doc& doc = docs_[slot];
  for (const std::uint32_t term : doc.terms) {
    std::vector<Posting>& list = postings_[term];
    list.erase(
        std::find_if(list.begin(), list.end(), [slot](const Posting& p) { return p.doc == slot; }));
  }
  total_tokens_ -= doc.length;
  doc.live = false;
  doc.terms.clear();
  doc.id.clear();
  free_docs_.push_back(slot);
}

std::vector<std::uint32_t> SearchIndex::take_scratch(std::size_t size) const {
  std::vector<std::uint32_t> scratch;
  {
    const std::lock_guard lock(scratch_mutex_);
    if (!scratch_.empty()) {
      scratch = std::move(scratch_.back());
      scratch_.pop_back();
    }
  }
  scratch.resize(size, 0); // all zero: given back zeroed
  return scratch;
}

void SearchIndex::give_back_scratch(std::vector<std::uint32_t> scratch) const {
  const std::lock_guard lock(scratch_mutex_);
  if (scratch_.size() < 8)
    scratch_.push_back(std::move(scratch));
}

std::optional<std::vector<std::string>> SearchIndex::search(std::string_view query,
                                                            std::size_t limit) const {
  std::vector<std::string> prefixes;
  for (const std::string& word : search_words(query)) {
    std::vector<std::string> tokens;
    tokenize_(word, true, tokens);
    if (tokens.size() != 1)
      return std::nullopt;
    prefixes.push_back(std::move(tokens[0]));
  }
  std::vector<std::string> ids;
  if (prefixes.empty() || limit == 0)
    return ids;

  const std::shared_lock lock(mutex_);
  const std::int64_t rows = static_cast<std::int64_t>(doc_of_id_.size());
  if (rows == 0)
    return ids;
  const std::size_t phrases = prefixes.size();
  // freq[p * docs + d]: instances of phrase p in document d (FTS5's aFreq).
  const std::size_t docs = docs_.size();
  std::vector<std::uint32_t> freq = take_scratch(phrases * docs);
  std::vector<double> idf(phrases);
  std::vector<std::vector<std::uint32_t>> hits(phrases); // the documents of each phrase
  std::size_t rarest = 0;                                // the phrase with the fewest
  for (std::size_t p = 0; p < phrases; ++p) {
    std::uint32_t* counts = freq.data() + p * docs;
    std::vector<std::uint32_t>& hit_docs = hits[p];
    for (auto term = terms_.lower_bound(prefixes[p]);
         term != terms_.end() && term->first.compare(0, prefixes[p].size(), prefixes[p]) == 0;
         ++term)
      for (const Posting& posting : postings_[term->second]) {
        if (counts[posting.doc] == 0)
          hit_docs.push_back(posting.doc);
        counts[posting.doc] += posting.count;
      }
    const auto n_hit = static_cast<std::int64_t>(hit_docs.size());
    // As fts5Bm25GetData() computes it, operation for operation.
    double value = std::log((rows - n_hit + 0.5) / (n_hit + 0.5));
    if (value <= 0.0)
      value = 1e-6;
    idf[p] = value;
    if (hit_docs.size() < hits[rarest].size())
      rarest = p;
  }

  const double avgdl = static_cast<double>(total_tokens_) / static_cast<double>(rows);
  const double k1 = 1.2;
  const double b = 0.75;
  struct Scored {
    double score;
    std::uint32_t doc;
  };
  // Better first: higher score, then newer date, then greater id (the SQL's ORDER BY).
  auto better = [this](const Scored& x, const Scored& y) {
    if (x.score != y.score)
      return x.score > y.score;
    const Doc& a = docs_[x.doc];
    const Doc& c = docs_[y.doc];
    if (a.date_ms != c.date_ms)
      return a.date_ms > c.date_ms;
    return a.id > c.id;
  };
  std::vector<Scored> best; // a heap whose top is the worst kept
  best.reserve(limit + 1);
  for (const std::uint32_t doc : hits[rarest]) {
    bool all = true;
    for (std::size_t p = 0; p < phrases && all; ++p)
      all = freq[p * docs + doc] != 0;
    if (!all)
      continue;
    const double length = static_cast<double>(lengths_[doc]);
    double score = 0.0;
    for (std::size_t p = 0; p < phrases; ++p) {
      const double f = static_cast<double>(freq[p * docs + doc]);
      score += idf[p] * ((f * (k1 + 1.0)) / (f + k1 * (1 - b + b * length / avgdl)));
    }
    const Scored candidate{score, doc};
    if (best.size() < limit) {
      best.push_back(candidate);
      std::push_heap(best.begin(), best.end(), better);
    } else if (better(candidate, best.front())) {
      std::pop_heap(best.begin(), best.end(), better);
      best.back() = candidate;
      std::push_heap(best.begin(), best.end(), better);
    }
  }
  for (std::size_t p = 0; p < phrases; ++p)
    for (const std::uint32_t doc : hits[p])
      freq[p * docs + doc] = 0;
  give_back_scratch(std::move(freq));
  std::sort_heap(best.begin(), best.end(), better);
  ids.reserve(best.size());
  for (const Scored& s : best)
    ids.push_back(docs_[s.doc].id);
  return ids;
}

} // namespace billdrop::billing
