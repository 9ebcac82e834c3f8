#include "billing/search_index.hpp"

#include "billing/search_words.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
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
  if (docs_.size() >= std::numeric_limits<std::uint32_t>::max() - 1 ||
      docs_.size() - doc_of_id_.size() > doc_of_id_.size() + 4096)
    compact();
  // Always a new slot, the highest: each term's postings stay sorted by slot.
  const auto slot = static_cast<std::uint32_t>(docs_.size());
  docs_.emplace_back();
  lengths_.push_back(0);
  dates_.push_back(0);
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
    list.erase(std::lower_bound(list.begin(), list.end(), slot,
                                [](const Posting& p, std::uint32_t d) { return p.doc < d; }));
  }
  total_tokens_ -= doc.length;
  doc.live = false;
  doc.terms.clear();
  doc.id.clear();
}

void SearchIndex::compact() {
  // New slots in the old order, so postings stay sorted.
  std::vector<std::uint32_t> moved_to(docs_.size(), 0);
  std::vector<Doc> docs;
  std::vector<std::uint32_t> lengths;
  std::vector<std::int64_t> dates;
  docs.reserve(doc_of_id_.size());
  for (std::uint32_t slot = 0; slot < docs_.size(); ++slot)
    if (docs_[slot].live) {
      moved_to[slot] = static_cast<std::uint32_t>(docs.size());
      lengths.push_back(lengths_[slot]);
      dates.push_back(dates_[slot]);
      docs.push_back(std::move(docs_[slot]));
    }
  for (std::vector<Posting>& list : postings_)
    for (Posting& posting : list)
      posting.doc = moved_to[posting.doc];
  for (auto& [id, slot] : doc_of_id_)
    slot = moved_to[slot];
  docs_ = std::move(docs);
  lengths_ = std::move(lengths);
  dates_ = std::move(dates);
}

void SearchIndex::forget_results() {
  const std::lock_guard lock(results_mutex_);
  results_.clear();
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

  // Each phrase's documents with its instances in them, sorted by slot: a term's postings as
  // they are, or the sum of several terms' (a prefix matching several words).
  std::vector<std::vector<Posting>> merged(phrases);
  std::vector<const std::vector<Posting>*> lists(phrases);
  for (std::size_t p = 0; p < phrases; ++p) {
    if (matched[p].size() == 1) {
      lists[p] = &postings_[matched[p][0]];
      continue;
    }
    lists[p] = &merged[p];
    // Merged pairwise, each merge one sequential pass summing the counts of a shared document.
    std::vector<Posting> pair;
    for (const std::uint32_t term : matched[p]) {
      const std::vector<Posting>& next = postings_[term];
      pair.clear();
      pair.reserve(merged[p].size() + next.size());
      auto a = merged[p].begin();
      auto b = next.begin();
      while (a != merged[p].end() && b != next.end()) {
        if (a->doc < b->doc)
          pair.push_back(*a++);
        else if (b->doc < a->doc)
          pair.push_back(*b++);
        else
          pair.push_back(Posting{a->doc, (a++)->count + (b++)->count});
      }
      pair.insert(pair.end(), a, merged[p].end());
      pair.insert(pair.end(), b, next.end());
      merged[p].swap(pair);
    }
  }
  std::vector<double> idf(phrases);
  for (std::size_t p = 0; p < phrases; ++p)
    idf[p] = idf_of(static_cast<std::int64_t>(lists[p]->size()));

  if (phrases == 1) {
    for (const Posting& posting : *lists[0]) {
      const double score = idf[0] * weight_of(posting.count, lengths_[posting.doc]);
      if (best.size() < limit || !(score < best.front().score))
        offer(score, posting.doc);
    }
  } else if (phrases == 2) {
    // Two words (the usual longer query): one merge of their lists.
    const std::vector<Posting>& x = *lists[0];
    const std::vector<Posting>& y = *lists[1];
    std::size_t i = 0, j = 0;
    while (i < x.size() && j < y.size()) {
      if (x[i].doc < y[j].doc) {
        ++i;
      } else if (y[j].doc < x[i].doc) {
        ++j;
      } else {
        const std::uint32_t doc = x[i].doc;
        const std::uint32_t length = lengths_[doc];
        double score = 0.0;
        score += idf[0] * weight_of(x[i].count, length);
        score += idf[1] * weight_of(y[j].count, length);
        if (best.size() < limit || !(score < best.front().score))
          offer(score, doc);
        ++i;
        ++j;
      }
    }
  } else {
    // The documents of the rarest phrase that hold every other one: each other list is walked
    // forward once, from where the last document was found.
    std::size_t rarest = 0;
    for (std::size_t p = 1; p < phrases; ++p)
      if (lists[p]->size() < lists[rarest]->size())
        rarest = p;
    std::vector<std::size_t> at(phrases, 0);
    std::vector<std::uint32_t> f(phrases, 0);
    for (const Posting& posting : *lists[rarest]) {
      bool all = true;
      for (std::size_t p = 0; p < phrases && all; ++p) {
        if (p == rarest) {
          f[p] = posting.count;
          continue;
        }
        const std::vector<Posting>& list = *lists[p];
        std::size_t& i = at[p];
        if (list.size() > 8 * lists[rarest]->size()) {
          // Much longer than the rarest: galloping skips most of it.
          std::size_t step = 1;
          std::size_t hi = i;
          while (hi < list.size() && list[hi].doc < posting.doc) {
            i = hi;
            hi += step;
            step *= 2;
          }
          i = static_cast<std::size_t>(
              std::lower_bound(
                  list.begin() + static_cast<std::ptrdiff_t>(i),
                  list.begin() + static_cast<std::ptrdiff_t>(std::min(hi + 1, list.size())),
                  posting.doc, [](const Posting& x, std::uint32_t d) { return x.doc < d; }) -
              list.begin());
        } else {
          // About as long: one step at a time is cheaper.
          while (i < list.size() && list[i].doc < posting.doc)
            ++i;
        }
        const auto found = list.begin() + static_cast<std::ptrdiff_t>(i);
        all = found != list.end() && found->doc == posting.doc;
        if (all)
          f[p] = found->count;
      }
      if (!all)
        continue;
      const std::uint32_t length = lengths_[posting.doc];
      double score = 0.0;
      for (std::size_t p = 0; p < phrases; ++p)
        score += idf[p] * weight_of(f[p], length);
      offer(score, posting.doc);
    }
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
