#include "core/cron.hpp"

#include <billdrop/text.hpp>

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <optional>
#include <span>
#include <vector>

namespace billdrop::core {
namespace {

namespace chrono = std::chrono;

constexpr std::string_view kWhitespace = " \t\r\n\v\f";

// Dates and weekdays repeat every 400 years of the Gregorian calendar: 146,097 days, a whole
// number of weeks. Whatever a schedule does, it does within one such cycle.
constexpr int kCycleDays = 146'097;
constexpr int kCycleMonths = 400 * 12;
constexpr int kMinutesPerDay = 24 * 60;

constexpr std::array<std::string_view, 12> kMonthNames = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                                          "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr std::array<std::string_view, 12> kMonthFullNames = {
    "January", "February", "March",     "April",   "May",      "June",
    "July",    "August",   "September", "October", "November", "December"};
constexpr std::array<std::string_view, 7> kDayNames = {"SUN", "MON", "TUE", "WED",
                                                       "THU", "FRI", "SAT"};

struct Field {
  std::string_view name; // as messages say it: "day of month"
  int low;
  int high;
  std::span<const std::string_view> names = {}; // names[i] stands for low + i
  std::string_view names_hint = {};             // "a month name (JAN-DEC)"
};

constexpr Field kMinute{"minute", 0, 59};
constexpr Field kHour{"hour", 0, 23};
constexpr Field kDayOfMonth{"day of month", 1, 31};
constexpr Field kMonth{"month", 1, 12, kMonthNames, "a month name (JAN-DEC)"};
constexpr Field kDayOfWeek{"day of week", 0, 7, kDayNames, "a day name (SUN-SAT)"};

struct Macro {
  std::string_view name;
  std::string_view fields;
};

constexpr std::array<Macro, 7> kMacros = {{
    {"@yearly", "0 0 1 1 *"},
    {"@annually", "0 0 1 1 *"},
    {"@monthly", "0 0 1 * *"},
    {"@weekly", "0 0 * * 0"},
    {"@daily", "0 0 * * *"},
    {"@midnight", "0 0 * * *"},
    {"@hourly", "0 * * * *"},
}};

std::string_view trimmed(std::string_view text) noexcept {
  const std::size_t first = text.find_first_not_of(kWhitespace);
  if (first == std::string_view::npos)
    return {};
  return text.substr(first, text.find_last_not_of(kWhitespace) + 1 - first);
}

bool equals_ignoring_case(std::string_view a, std::string_view b) noexcept {
  return std::ranges::equal(a, b, [](char x, char y) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
    return lower(x) == lower(y);
  });
}

const Macro* find_macro(std::string_view name) noexcept {
  for (const Macro& macro : kMacros) {
    if (equals_ignoring_case(name, macro.name))
      return &macro;
  }
  return nullptr;
}

bool all_digits(std::string_view text) noexcept {
  return !text.empty() && std::ranges::all_of(text, [](char c) { return c >= '0' && c <= '9'; });
}

std::string quoted(std::string_view text) {
  return quote_for_message(text);
}

std::vector<std::string_view> split_fields(std::string_view text) {
  std::vector<std::string_view> fields;
  std::size_t at = text.find_first_not_of(kWhitespace);
  while (at != std::string_view::npos) {
    const std::size_t end = std::min(text.find_first_of(kWhitespace, at), text.size());
    fields.push_back(text.substr(at, end - at));
    at = text.find_first_not_of(kWhitespace, end);
  }
  return fields;
}

// One value of a range: a number or, where the field has them, a name; `item` is the list item
// it came from, for messages.
Result<int> parse_value(std::string_view text, std::string_view item, const Field& field) {
  if (all_digits(text)) {
    int value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || value < field.low || value > field.high)
      return config_error(std::string(field.name) + " " + std::string(text) + " is out of range " +
                          std::to_string(field.low) + "-" + std::to_string(field.high));
    return value;
  }
  for (std::size_t i = 0; i < field.names.size(); ++i) {
    if (equals_ignoring_case(text, field.names[i]))
      return field.low + static_cast<int>(i);
  }
  std::string message = std::string(field.name) + " " + quoted(item);
  if (text != item)
    message += ": " + quoted(text);
  if (field.names.empty())
    return config_error(message + " is not a number");
  return config_error(message + " is neither a number nor " + std::string(field.names_hint));
}

// The values a range stands for, both ends included.
struct ValueRange {
  int first;
  int last;
};

// `*`, `n` or `a-b`, the part of an item before its step.
Result<ValueRange> parse_range(std::string_view range, std::string_view item, const Field& field) {
  if (range == "*")
    return ValueRange{field.low, field.high};
  const std::size_t dash = range.find('-');
  if (dash == std::string_view::npos) {
    auto value = parse_value(range, item, field);
    if (!value)
      return std::move(value).error();
    return ValueRange{*value, *value};
  }
  const std::string_view first_text = range.substr(0, dash);
  const std::string_view last_text = range.substr(dash + 1);
  if (first_text.empty() || last_text.empty())
    return config_error(std::string(field.name) + " " + quoted(item) + " is not a range a-b");
  auto first = parse_value(first_text, item, field);
  if (!first)
    return std::move(first).error();
  auto last = parse_value(last_text, item, field);
  if (!last)
    return std::move(last).error();
  // "SAT-SUN": Sunday at the end of a day-of-week range is its 7.
  if (&field == &kDayOfWeek && *last == 0 && *first > 0)
    *last = 7;
  if (*first > *last)
    return config_error(std::string(field.name) + " range " + quoted(range) +
                        " runs backwards: its start is after its end");
  return ValueRange{*first, *last};
}

// The `n` of `*/n` or `a-b/n`: from 1 to the field's width.
Result<int> parse_step(std::string_view step_text, std::string_view item, const Field& field) {
  const std::string what = std::string(field.name) + " step ";
  if (!all_digits(step_text))
    return config_error(what + quoted(step_text) + " in " + quoted(item) + " is not a number");
  const int widest = field.high - field.low;
  int step = 0;
  const auto [end, ec] =
      std::from_chars(step_text.data(), step_text.data() + step_text.size(), step);
  if (ec != std::errc() || step < 1 || step > widest)
    return config_error(what + std::string(step_text) + " in " + quoted(item) +
                        " is out of range 1-" + std::to_string(widest));
  return step;
}

// One item of a field's list (`*`, `n`, `a-b`, `*/n`, `a-b/n`) as a set of values, bit n for n.
Result<std::uint64_t> parse_item(std::string_view item, const Field& field) {
  const std::size_t slash = item.find('/');
  const std::string_view range_text = item.substr(0, slash);
  const bool has_step = slash != std::string_view::npos;
  const std::string_view step_text = has_step ? item.substr(slash + 1) : std::string_view();
  const std::string what = std::string(field.name) + " " + quoted(item);

  if (range_text.empty())
    return config_error(what + " has nothing before its step: write */" + std::string(step_text));
  auto range = parse_range(range_text, item, field);
  if (!range)
    return std::move(range).error();
  int step = 1;
  if (has_step) {
    if (range_text != "*" && range_text.find('-') == std::string_view::npos)
      return config_error(what + " has a step without a range: write " + std::string(range_text) +
                          "-" + std::to_string(field.high) + "/" + std::string(step_text));
    auto parsed_step = parse_step(step_text, item, field);
    if (!parsed_step)
      return std::move(parsed_step).error();
    step = *parsed_step;
  }

  std::uint64_t values = 0;
  for (int value = range->first; value <= range->last; value += step)
    values |= std::uint64_t{1} << value;
  return values;
}

// A whole field: a comma-separated list of items.
Result<std::uint64_t> parse_field(std::string_view text, const Field& field) {
  std::uint64_t values = 0;
  std::size_t at = 0;
  while (true) {
    const std::size_t comma = text.find(',', at);
    const std::string_view item = text.substr(at, comma - at);
    if (item.empty())
      return config_error(std::string(field.name) + " " + quoted(text) + " has an empty item");
    auto item_values = parse_item(item, field);
    if (!item_values)
      return std::move(item_values).error();
    values |= *item_values;
    if (comma == std::string_view::npos)
      return values;
    at = comma + 1;
  }
}

// "April, June, September or November".
std::string month_list(std::uint16_t months) {
  std::vector<std::string_view> names;
  for (int month = 1; month <= 12; ++month) {
    if (months >> month & 1)
      names.push_back(kMonthFullNames[month - 1]);
  }
  std::string list;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i != 0)
      list += i + 1 == names.size() ? " or " : ", ";
    list += names[i];
  }
  return list;
}

} // namespace

Result<CronSchedule> CronSchedule::parse(std::string_view text) {
  const std::string context = "schedule " + quoted(text);
  std::vector<std::string_view> fields = split_fields(text);
  if (fields.empty())
    return config_error(context + " is empty: write five fields (minute, hour, day of month, "
                                  "month, day of week) or a macro such as @daily");
  if (fields.front().starts_with('@')) {
    const Macro* macro = fields.size() == 1 ? find_macro(fields.front()) : nullptr;
    if (macro == nullptr)
      return config_error(context + ": unknown macro " + quoted(trimmed(text)) +
                          "; the macros are @yearly, @annually, @monthly, @weekly, @daily, "
                          "@midnight and @hourly");
    fields = split_fields(macro->fields);
  }
  if (fields.size() != 5)
    return config_error(
        context + ": has " + std::to_string(fields.size()) +
        " fields, a schedule has 5: minute, hour, day of month, month, day of week");

  CronSchedule schedule;
  schedule.text_ = std::string(text);
  const std::array<const Field*, 5> kinds = {&kMinute, &kHour, &kDayOfMonth, &kMonth, &kDayOfWeek};
  std::array<std::uint64_t, 5> values{};
  for (std::size_t i = 0; i < fields.size(); ++i) {
    auto field_values = parse_field(fields[i], *kinds[i]);
    if (!field_values)
      return std::move(field_values).error().with_context(context);
    values[i] = *field_values;
  }
  schedule.minutes_ = values[0];
  schedule.hours_ = static_cast<std::uint32_t>(values[1]);
  schedule.days_of_month_ = static_cast<std::uint32_t>(values[2]);
  schedule.months_ = static_cast<std::uint16_t>(values[3]);
  schedule.days_of_week_ = static_cast<std::uint8_t>((values[4] | values[4] >> 7) & 0x7F);
  schedule.any_day_of_month_ = fields[2].starts_with('*');
  schedule.any_day_of_week_ = fields[4].starts_with('*');

  const std::optional<int> longest_day_gap = schedule.longest_gap_in_days();
  if (!longest_day_gap) {
    // Every date there is falls on every weekday within a cycle, so only a day of the month that
    // none of the months has can leave a schedule without runs.
    return config_error(context + " never runs: day of month " + std::string(fields[2]) +
                        " does not occur in " + month_list(schedule.months_));
  }
  schedule.typical_interval_ = schedule.longest_gap(*longest_day_gap);
  return schedule;
}

std::optional<int> CronSchedule::longest_gap_in_days() const {
  const chrono::sys_days cycle_start{chrono::year(2000) / chrono::January / 1};
  int first_day = -1;
  int previous_day = -1;
  int longest = 0;
  for (int i = 0; i < kCycleMonths; ++i) {
    const chrono::year_month month = chrono::year(2000) / chrono::January + chrono::months(i);
    if (!runs_in(month.month()))
      continue;
    const chrono::sys_days month_start{month / 1};
    const unsigned length = static_cast<unsigned>((month / chrono::last).day());
    for (unsigned day = 1; day <= length; ++day) {
      const chrono::sys_days date = month_start + chrono::days(day - 1);
      if (!runs_on(chrono::day(day), chrono::weekday(date)))
        continue;
      const int index = static_cast<int>((date - cycle_start).count());
      if (first_day < 0)
        first_day = index;
      else
        longest = std::max(longest, index - previous_day);
      previous_day = index;
    }
  }
  if (first_day < 0)
    return std::nullopt;
  // Around the cycle's end: the next cycle repeats this one.
  return std::max(longest, first_day + kCycleDays - previous_day);
}

chrono::seconds CronSchedule::longest_gap(int longest_day_gap) const noexcept {
  int first_run = -1;
  int last_run = -1;
  int longest = 0;
  for (int minute = 0; minute < kMinutesPerDay; ++minute) {
    if (!(hours_ >> (minute / 60) & 1) || !(minutes_ >> (minute % 60) & 1))
      continue;
    if (first_run < 0)
      first_run = minute;
    else
      longest = std::max(longest, minute - last_run);
    last_run = minute;
  }
  // Every run day has the same times, so the longest gap is either one within a day or the one
  // from the last run of a day to the first run of the next run day after the longest day gap.
  longest = std::max(longest, longest_day_gap * kMinutesPerDay - (last_run - first_run));
  return chrono::minutes(longest);
}

chrono::system_clock::time_point
CronSchedule::next_after(chrono::system_clock::time_point t) const {
  const chrono::sys_time<chrono::minutes> from =
      chrono::floor<chrono::minutes>(t) + chrono::minutes(1);
  const chrono::sys_days first_day = chrono::floor<chrono::days>(from);
  chrono::sys_days day = first_day;
  int minute_of_day = static_cast<int>((from - first_day).count());
  // parse() found a run in every 400-year cycle, so this ends well before its bound.
  while (day - first_day <= chrono::days(kCycleDays)) {
    const chrono::year_month_day date{day};
    if (!runs_in(date.month())) {
      day = chrono::sys_days{(date.year() / date.month() + chrono::months(1)) / 1};
      minute_of_day = 0;
      continue;
    }
    if (runs_on(date.day(), chrono::weekday(day))) {
      const int minute = first_minute_of_day_from(minute_of_day);
      if (minute >= 0) {
        const chrono::sys_time<chrono::minutes> run = day + chrono::minutes(minute);
        if (run > chrono::floor<chrono::minutes>(chrono::system_clock::time_point::max()))
          return chrono::system_clock::time_point::max();
        return chrono::time_point_cast<chrono::system_clock::duration>(run);
      }
    }
    day += chrono::days(1);
    minute_of_day = 0;
  }
  return chrono::system_clock::time_point::max();
}

bool CronSchedule::runs_in(chrono::month month) const noexcept {
  return months_ >> static_cast<unsigned>(month) & 1;
}

bool CronSchedule::runs_on(chrono::day day, chrono::weekday weekday) const noexcept {
  const bool day_of_month = days_of_month_ >> static_cast<unsigned>(day) & 1;
  const bool day_of_week = days_of_week_ >> weekday.c_encoding() & 1;
  if (any_day_of_month_ || any_day_of_week_)
    return day_of_month && day_of_week;
  return day_of_month || day_of_week;
}

int CronSchedule::first_minute_of_day_from(int from) const noexcept {
  for (int hour = from / 60; hour < 24; ++hour) {
    if (!(hours_ >> hour & 1))
      continue;
    const int minute_from = hour == from / 60 ? from % 60 : 0;
    const std::uint64_t left = minutes_ >> minute_from;
    if (left != 0)
      return hour * 60 + minute_from + std::countr_zero(left);
  }
  return -1;
}

} // namespace billdrop::core
