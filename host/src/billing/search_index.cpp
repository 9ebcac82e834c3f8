#include "billing/search_index.hpp"

#include "billing/search_words.hpp"

#include <algorithm>
#include <cmath>
#include <mutex>

namespace billdrop::billing {

namespace {

constexpr double kK1 = 1.2;
constexpr double kB = 0.75;

// bm25's weight of a phrase found `f` times in a document of `length` tokens, as FTS5's
// fts5Bm25Function() computes it, operation for operation (one function, so the table and the
// scoring loop give the same double).
inline double bm25_weight(double f, double length, double avgdl) {
  return (f * (kK1 + 1.0)) / (f + kK1 * (1 - kB + kB * length / avgdl));
}

} // namespace

SearchIndex::SearchIndex(Tokenizer tokenize) : tokenize_(std::move(tokenize)) {}

std::shared_ptr<const SearchIndex::WeightTable> SearchIndex::weights(double avgdl) const {
  const std::lock_guard lock(weights_mutex_);
  if (weights_ == nullptr || weights_->avgdl != avgdl) {
    auto table = std::make_shared<WeightTable>();
    table->avgdl = avgdl;
    table->weight.resize(std::size_t{kTableCounts} * kTableLengths);
    for (std::uint32_t f = 0; f < kTableCounts; ++f)
      for (std::uint32_t length = 0; length < kTableLengths; ++length)
        table->weight[f * kTableLengths + length] =
            bm25_weight(static_cast<double>(f), static_cast<double>(length), avgdl);
    weights_ = std::move(table);
  }
  return weights_;
}

void SearchIndex::put(const Document& document) {
  // Tokenized before the lock: the tokenizer is the slow part of a write.
  std::vector<std::string> tokens;
  for (std::string_view column : document.columns)
    tokenize_(column, false, tokens);
  std::sort(tokens.begin(), tokens.end());

  const std::unique_lock lock(mutex_);
  forget_results();
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
    dates_.push_back(0);
  }
  Doc& doc = docs_[slot];
  doc.id = document.id;
  doc.date_ms = document.date_ms;
  doc.length = static_cast<std::uint32_t>(tokens.size());
  lengths_[slot] = doc.length;
  dates_[slot] = doc.date_ms;
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
  forget_results();
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

void SearchIndex::forget_results() {
  const std::lock_guard lock(results_mutex_);
  results_.clear();
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
  std::string key;
  for (const std::string& prefix : prefixes)
    key.append(prefix).push_back('\0');
  {
    const std::lock_guard results_lock(results_mutex_);
    if (const auto found = results_.find(key);
        found != results_.end() && (found->second.complete || found->second.docs.size() >= limit)) {
      const std::vector<std::uint32_t>& docs = found->second.docs;
      ids.reserve(std::min(limit, docs.size()));
      for (std::size_t i = 0; i < docs.size() && i < limit; ++i)
        ids.push_back(docs_[docs[i]].id);
      return ids;
    }
  }
  const std::size_t wanted = limit;
  limit = std::max(limit, kResultsKept);
  const std::size_t phrases = prefixes.size();
  // The terms each prefix matches.
  std::vector<std::vector<std::uint32_t>> matched(phrases);
  for (std::size_t p = 0; p < phrases; ++p)
    for (auto term = terms_.lower_bound(prefixes[p]);
         term != terms_.end() && term->first.compare(0, prefixes[p].size(), prefixes[p]) == 0;
         ++term)
      matched[p].push_back(term->second);

  const double avgdl = static_cast<double>(total_tokens_) / static_cast<double>(rows);
  const std::shared_ptr<const WeightTable> table = weights(avgdl);
  const double* const weight = table->weight.data();
  // bm25's weight for f instances in a document of `length` tokens: from the table when both
  // are small (nearly always), else computed.
  auto weight_of = [&](std::uint32_t f, std::uint32_t length) {
    return f < kTableCounts && length < kTableLengths
               ? weight[f * kTableLengths + length]
               : bm25_weight(static_cast<double>(f), static_cast<double>(length), avgdl);
  };
  // As fts5Bm25GetData() computes it, operation for operation.
  auto idf_of = [rows](std::int64_t n_hit) {
    const double value = std::log((rows - n_hit + 0.5) / (n_hit + 0.5));
    return value <= 0.0 ? 1e-6 : value;
  };

  struct Scored {
    double score;
    std::uint32_t doc;
  };
  // Better first: higher score, then newer date, then greater id (the SQL's ORDER BY).
  auto better = [this](const Scored& x, const Scored& y) {
    if (x.score != y.score)
      return x.score > y.score;
    if (dates_[x.doc] != dates_[y.doc])
      return dates_[x.doc] > dates_[y.doc];
    return docs_[x.doc].id > docs_[y.doc].id;
  };
  std::vector<Scored> best; // a heap whose top is the worst kept
  best.reserve(limit + 1);
  auto offer = [&](double score, std::uint32_t doc) {
    // Most documents score below the worst one kept: one comparison turns them away.
    if (best.size() == limit && score < best.front().score)
      return;
    const Scored candidate{score, doc};
    if (best.size() < limit) {
      best.push_back(candidate);
      std::push_heap(best.begin(), best.end(), better);
    } else if (better(candidate, best.front())) {
      std::pop_heap(best.begin(), best.end(), better);
      best.back() = candidate;
      std::push_heap(best.begin(), best.end(), better);
    }
  };

  if (phrases == 1 && matched[0].size() <= 1) {
    // One word matching one term (the common query): its postings are the hits and their
    // counts, with no per-document arrays.
    if (!matched[0].empty()) {
      const std::vector<Posting>& postings = postings_[matched[0][0]];
      const double idf = idf_of(static_cast<std::int64_t>(postings.size()));
      for (const Posting& posting : postings)
        offer(idf * weight_of(posting.count, lengths_[posting.doc]), posting.doc);
    }
  } else {
    // freq[p * docs + d]: instances of phrase p in document d (FTS5's aFreq).
    const std::size_t docs = docs_.size();
    std::vector<std::uint32_t> freq = take_scratch(phrases * docs);
    std::vector<double> idf(phrases);
    std::vector<std::vector<std::uint32_t>> hits(phrases); // the documents of each phrase
    std::size_t rarest = 0;                                // the phrase with the fewest
    for (std::size_t p = 0; p < phrases; ++p) {
      std::uint32_t* counts = freq.data() + p * docs;
      std::vector<std::uint32_t>& hit_docs = hits[p];
      for (const std::uint32_t term : matched[p])
        for (const Posting& posting : postings_[term]) {
          if (counts[posting.doc] == 0)
            hit_docs.push_back(posting.doc);
          counts[posting.doc] += posting.count;
        }
      idf[p] = idf_of(static_cast<std::int64_t>(hit_docs.size()));
      if (hit_docs.size() < hits[rarest].size())
        rarest = p;
    }
    for (const std::uint32_t doc : hits[rarest]) {
      bool all = true;
      for (std::size_t p = 0; p < phrases && all; ++p)
        all = freq[p * docs + doc] != 0;
      if (!all)
        continue;
      const std::uint32_t length = lengths_[doc];
      double score = 0.0;
      for (std::size_t p = 0; p < phrases; ++p)
        score += idf[p] * weight_of(freq[p * docs + doc], length);
      offer(score, doc);
    }
    for (std::size_t p = 0; p < phrases; ++p)
      for (const std::uint32_t doc : hits[p])
        freq[p * docs + doc] = 0;
    give_back_scratch(std::move(freq));
  }
  std::sort_heap(best.begin(), best.end(), better);
  Results kept;
  kept.complete = best.size() < limit;
  kept.docs.reserve(best.size());
  for (const Scored& scored : best)
    kept.docs.push_back(scored.doc);
  ids.reserve(std::min(wanted, best.size()));
  for (std::size_t i = 0; i < best.size() && i < wanted; ++i)
    ids.push_back(docs_[best[i].doc].id);
  {
    const std::lock_guard results_lock(results_mutex_);
    if (results_.size() >= kMaxResults)
      results_.clear();
    results_[key] = std::move(kept);
  }
  return ids;
}

} // namespace billdrop::billing
