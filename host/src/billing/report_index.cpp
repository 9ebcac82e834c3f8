#include "billing/report_index.hpp"

#include "billing/utc_time.hpp"

#include <algorithm>
#include <map>
#include <stdexcept>

namespace billdrop::billing {

namespace {

constexpr std::uint32_t kNone = 0;

// The month of `ms` as months since 1970-01, computed as SQLite's
// strftime('%Y-%m', ms / 1000, 'unixepoch') reads it (seconds truncated toward zero).
std::int64_t month_number(std::int64_t ms) {
  std::int64_t seconds = ms / 1000;
  std::int64_t day = seconds / 86400;
  if (seconds % 86400 < 0)
    --day;
  int year = 0;
  unsigned month = 0, d = 0;
  civil_from_days(day, year, month, d);
  return (static_cast<std::int64_t>(year) - 1970) * 12 + (month - 1);
}

std::string format_month_number(std::int64_t months) {
  std::int64_t year = 1970 + months / 12;
  std::int64_t month = months % 12;
  if (month < 0) {
    month += 12;
    --year;
  }
  return format_day(days_from_civil(static_cast<int>(year), static_cast<unsigned>(month + 1), 1))
      .substr(0, 7);
}

inline __attribute__((always_inline)) void add_checked(std::int64_t& sum, std::int64_t amount) {
  if (__builtin_add_overflow(sum, amount, &sum))
    throw std::runtime_error("billing store: integer overflow");
}

} // namespace

// Columns in date order. Codes index the dictionaries' values as they were when it was built.
struct ReportIndex::Snapshot {
  std::vector<std::int64_t> date_ms, amount;
  std::vector<std::int64_t> day, month; // the trend's keys, as the SQL store computes them
  std::vector<std::uint32_t> currency, provider, category, service, stage_app, author, source;
  std::vector<std::uint8_t> recurring;
  std::vector<std::uint32_t> tag_start; // row i's tags: tags[tag_start[i] .. tag_start[i + 1])
  std::vector<std::uint32_t> tags;
  std::vector<std::string> currencies, providers, categories, services, stage_apps, authors,
      sources, tag_names;
};

std::uint32_t ReportIndex::Dictionary::code(const std::string& value) {
  const auto [found, added] = codes.try_emplace(value, static_cast<std::uint32_t>(values.size()));
  if (added)
    values.push_back(value);
  return found->second;
}

std::uint32_t ReportIndex::Dictionary::code(const std::optional<std::string>& value) {
  return value ? code(*value) : kNone;
}

ReportIndex::ReportIndex() = default;
ReportIndex::~ReportIndex() = default;

void ReportIndex::put(const Item& item) {
  const std::lock_guard lock(mutex_);
  Row row;
  row.date_ms = item.date_ms;
  row.amount = item.amount;
  row.currency = currency_.code(item.currency);
  row.provider = provider_.code(item.provider);
  row.category = category_.code(item.category);
  row.service = service_.code(item.service);
  row.stage_app = stage_app_.code(item.stage_app);
  row.author = author_.code(item.author);
  row.source = source_.code(item.source);
  row.recurring = item.recurring;
  for (const std::string& tag : item.tags)
    row.tags.push_back(tag_.code(tag));
  std::sort(row.tags.begin(), row.tags.end());
  row.tags.erase(std::unique(row.tags.begin(), row.tags.end()), row.tags.end());
  rows_.insert_or_assign(item.id, std::move(row));
  snapshot_.reset();
}

void ReportIndex::erase(const std::string& id) {
  const std::lock_guard lock(mutex_);
  if (rows_.erase(id) != 0)
    snapshot_.reset();
}

std::size_t ReportIndex::size() const {
  const std::lock_guard lock(mutex_);
  return rows_.size();
}

std::shared_ptr<const ReportIndex::Snapshot> ReportIndex::snapshot() const {
  const std::lock_guard lock(mutex_);
  if (snapshot_)
    return snapshot_;
  std::vector<const Row*> order;
  order.reserve(rows_.size());
  for (const auto& [id, row] : rows_)
    order.push_back(&row);
  std::sort(order.begin(), order.end(),
            [](const Row* a, const Row* b) { return a->date_ms < b->date_ms; });
  auto s = std::make_shared<Snapshot>();
  const std::size_t n = order.size();
  for (auto* column : {&s->date_ms, &s->amount, &s->day, &s->month})
    column->reserve(n);
  for (auto* column : {&s->currency, &s->provider, &s->category, &s->service, &s->stage_app,
                       &s->author, &s->source, &s->tag_start})
    column->reserve(n + 1);
  s->recurring.reserve(n);
  for (const Row* row : order) {
    s->date_ms.push_back(row->date_ms);
    s->amount.push_back(row->amount);
    s->day.push_back(row->date_ms / ms_per_day);
    s->month.push_back(month_number(row->date_ms));
    s->currency.push_back(row->currency);
    s->provider.push_back(row->provider);
    s->category.push_back(row->category);
    s->service.push_back(row->service);
    s->stage_app.push_back(row->stage_app);
    s->author.push_back(row->author);
    s->source.push_back(row->source);
    s->recurring.push_back(row->recurring ? 1 : 0);
    s->tag_start.push_back(static_cast<std::uint32_t>(s->tags.size()));
    s->tags.insert(s->tags.end(), row->tags.begin(), row->tags.end());
  }
  s->tag_start.push_back(static_cast<std::uint32_t>(s->tags.size()));
  s->currencies = currency_.values;
  s->providers = provider_.values;
  s->categories = category_.values;
  s->services = service_.values;
  s->stage_apps = stage_app_.values;
  s->authors = author_.values;
  s->sources = source_.values;
  s->tag_names = tag_.values;
  snapshot_ = std::move(s);
  return snapshot_;
}

namespace {

// A string filter as the codes it accepts; `active` false when it filters nothing.
struct CodeFilter {
  bool active = false;
  std::vector<std::uint8_t> accepts; // by code
};

CodeFilter code_filter(const std::vector<std::string>& dictionary,
                       const std::vector<std::string>& wanted) {
  CodeFilter f;
  if (wanted.empty())
    return f;
  f.active = true;
  f.accepts.assign(dictionary.size(), 0);
  // Code 0 is "none": a NULL never equals a value in SQL.
  for (std::size_t code = 1; code < dictionary.size(); ++code)
    if (std::find(wanted.begin(), wanted.end(), dictionary[code]) != wanted.end())
      f.accepts[code] = 1;
  return f;
}

CodeFilter code_filter(const std::vector<std::string>& dictionary,
                       const std::optional<std::string>& wanted) {
  return wanted ? code_filter(dictionary, std::vector<std::string>{*wanted}) : CodeFilter{};
}

} // namespace

namespace {

// The rows a report keeps: a range of the date-sorted snapshot, narrowed by each active filter
// into a selection vector, column by column (each pass a tight loop over one array).
class Selection {
public:
  Selection(std::size_t first, std::size_t last) : first_(first), last_(last) {}

  template <class Keep>
  __attribute__((always_inline)) void narrow(Keep&& keep) {
    if (whole_) {
      rows_.reserve(last_ - first_);
      for (std::size_t i = first_; i < last_; ++i)
        if (keep(i))
          rows_.push_back(static_cast<std::uint32_t>(i));
      whole_ = false;
      return;
    }
    std::size_t kept = 0;
    for (const std::uint32_t i : rows_)
      if (keep(i))
        rows_[kept++] = i;
    rows_.resize(kept);
  }
  template <class Visit>
  __attribute__((always_inline)) void each(Visit&& visit) const {
    if (whole_)
      for (std::size_t i = first_; i < last_; ++i)
        visit(i);
    else
      for (const std::uint32_t i : rows_)
        visit(i);
  }

private:
  std::size_t first_, last_;
  bool whole_ = true;
  std::vector<std::uint32_t> rows_;
};

} // namespace

std::vector<GroupTotal> ReportIndex::totals(const ItemFilter& filter, GroupBy by) const {
  const std::shared_ptr<const Snapshot> snap = snapshot();
  const Snapshot& s = *snap;

  std::size_t first = 0, last = s.date_ms.size();
  if (filter.from_ms)
    first = static_cast<std::size_t>(
        std::lower_bound(s.date_ms.begin(), s.date_ms.end(), *filter.from_ms) - s.date_ms.begin());
  if (filter.to_ms)
    last = static_cast<std::size_t>(
        std::lower_bound(s.date_ms.begin(), s.date_ms.end(), *filter.to_ms) - s.date_ms.begin());
  if (last < first)
    last = first;

  Selection rows(first, last);
  auto by_code = [&](const std::vector<std::string>& dictionary, const auto& wanted,
                     const std::vector<std::uint32_t>& column) {
    const CodeFilter f = code_filter(dictionary, wanted);
    if (f.active)
      rows.narrow([&](std::size_t i) { return f.accepts[column[i]] != 0; });
  };
  by_code(s.providers, filter.provider, s.provider);
  by_code(s.currencies, filter.currency, s.currency);
  by_code(s.services, filter.service, s.service);
  by_code(s.categories, filter.categories, s.category);
  by_code(s.stage_apps, filter.stage_app, s.stage_app);
  by_code(s.authors, filter.author, s.author);
  by_code(s.sources, filter.source, s.source);
  if (filter.recurring) {
    const std::uint8_t wanted = *filter.recurring ? 1 : 0;
    rows.narrow([&](std::size_t i) { return s.recurring[i] == wanted; });
  }
  if (const CodeFilter tags = code_filter(s.tag_names, filter.tags); tags.active)
    rows.narrow([&](std::size_t i) {
      for (std::uint32_t t = s.tag_start[i]; t < s.tag_start[i + 1]; ++t)
        if (tags.accepts[s.tags[t]] != 0)
          return true;
      return false;
    });

  // Group keys: a code of a dictionary, or for day/week/month a number offset from the range's
  // first, so that sums live in one dense array of keys × currencies.
  const std::size_t currencies = s.currencies.size();
  std::int64_t key_base = 0;
  std::size_t keys = 1;
  switch (by) {
  case GroupBy::none:
    break;
  case GroupBy::provider:
    keys = s.providers.size();
    break;
  case GroupBy::category:
    keys = s.categories.size();
    break;
  case GroupBy::service:
    keys = s.services.size();
    break;
  case GroupBy::recurring:
    keys = 2;
    break;
  case GroupBy::tag:
    keys = s.tag_names.size();
    break;
  case GroupBy::day:
  case GroupBy::week:
  case GroupBy::month:
    if (first < last) {
      const std::vector<std::int64_t>& time = by == GroupBy::month ? s.month : s.day;
      // Keys grow with the date; a week starts at most 6 days before or after its day (C++ and
      // SQLite both truncate toward zero, so days before 1970 wobble).
      const std::int64_t slack = by == GroupBy::week ? 6 : 0;
      key_base = time[first] - slack;
      keys = static_cast<std::size_t>(time[last - 1] + slack - key_base) + 1;
    }
    break;
  }
  // Sums in one dense array of keys × currencies, or in a map when that would be too large
  // (days over centuries).
  const bool dense = keys * currencies <= (std::size_t{1} << 20);
  std::vector<std::int64_t> sums(dense ? keys * currencies : 0),
      counts(dense ? keys * currencies : 0);
  std::map<std::size_t, std::pair<std::int64_t, std::int64_t>> sparse;
  auto week_of = [](std::int64_t day) { return day - (day + 3) % 7; };
  // One loop per grouping and per kind of sums, so that each is a tight loop the compiler
  // inlines.
  auto group = [&](auto&& add) {
    switch (by) {
    case GroupBy::none:
      rows.each([&](std::size_t i) { add(0, i); });
      break;
    case GroupBy::provider:
      rows.each([&](std::size_t i) { add(s.provider[i], i); });
      break;
    case GroupBy::category:
      rows.each([&](std::size_t i) { add(s.category[i], i); });
      break;
    case GroupBy::service:
      rows.each([&](std::size_t i) { add(s.service[i], i); });
      break;
    case GroupBy::recurring:
      rows.each([&](std::size_t i) { add(s.recurring[i], i); });
      break;
    case GroupBy::tag:
      rows.each([&](std::size_t i) {
        if (s.tag_start[i] == s.tag_start[i + 1])
          add(kNone, i);
        for (std::uint32_t t = s.tag_start[i]; t < s.tag_start[i + 1]; ++t)
          add(s.tags[t], i);
      });
      break;
    case GroupBy::day:
      rows.each([&](std::size_t i) { add(static_cast<std::size_t>(s.day[i] - key_base), i); });
      break;
    case GroupBy::week:
      rows.each(
          [&](std::size_t i) { add(static_cast<std::size_t>(week_of(s.day[i]) - key_base), i); });
      break;
    case GroupBy::month:
      rows.each([&](std::size_t i) { add(static_cast<std::size_t>(s.month[i] - key_base), i); });
      break;
    }
  };
  if (dense)
    group([&](std::size_t key, std::size_t i) __attribute__((always_inline)) {
      const std::size_t slot = key * currencies + s.currency[i];
      add_checked(sums[slot], s.amount[i]);
      ++counts[slot];
    });
  else
    group([&](std::size_t key, std::size_t i) {
      auto& [sum, count] = sparse[key * currencies + s.currency[i]];
      add_checked(sum, s.amount[i]);
      ++count;
    });

  std::vector<GroupTotal> groups;
  auto emit = [&](std::size_t slot, std::int64_t sum, std::int64_t count) {
    const std::size_t key = slot / currencies;
    const auto code = static_cast<std::uint32_t>(key);
    GroupTotal g;
    g.currency = s.currencies[slot % currencies];
    g.amount = sum;
    g.count = count;
    switch (by) {
    case GroupBy::none:
      break;
    case GroupBy::provider:
      if (code != kNone)
        g.key = s.providers[code];
      break;
    case GroupBy::category:
      if (code != kNone)
        g.key = s.categories[code];
      break;
    case GroupBy::service:
      if (code != kNone)
        g.key = s.services[code];
      break;
    case GroupBy::recurring:
      g.key = code != 0 ? "true" : "false";
      break;
    case GroupBy::tag:
      if (code != kNone)
        g.key = s.tag_names[code];
      break;
    case GroupBy::day:
    case GroupBy::week:
      g.key = format_day(key_base + static_cast<std::int64_t>(key));
      break;
    case GroupBy::month:
      g.key = format_month_number(key_base + static_cast<std::int64_t>(key));
      break;
    }
    groups.push_back(std::move(g));
  };
  if (dense) {
    for (std::size_t slot = 0; slot < counts.size(); ++slot)
      if (counts[slot] != 0)
        emit(slot, sums[slot], counts[slot]);
  } else {
    for (const auto& [slot, total] : sparse)
      emit(slot, total.first, total.second);
  }
  sort_groups(groups, by);
  return groups;
}

} // namespace billdrop::billing
