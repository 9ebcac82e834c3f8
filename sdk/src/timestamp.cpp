#include <billdrop/text.hpp>
#include <billdrop/timestamp.hpp>

#include <cstring>

namespace billdrop {
namespace {

constexpr std::int64_t seconds_per_day = 86400;
constexpr int min_year = 1900;
constexpr int max_year = 9999;

constexpr const char* accepted_forms =
    "accepted forms are 2024-08-16, 2024-08-16T05:00:00Z (optionally with a fraction such as "
    ".000, an offset such as +00:00, +0000 or -05, or a trailing \" UTC\"), 2024-08-16 05:00:00, "
    "2024-08-16T05:00, 20240816T050000Z, 08/16/2024, 8/16/2024 5:00:00 AM and 2024/08/16";

std::string quoted(std::string_view text) {
  return quote_for_message(text);
}

bool is_digit(char c) noexcept {
  return static_cast<unsigned char>(c - '0') < 10;
}

char lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

// The broken-down fields of a timestamp as written, before validation.
struct Fields {
  int year = 0;
  int month = 1;
  int day = 1;
  int hour = 0;
  int minute = 0;
  int second = 0;
  int offset_hours = 0;
  int offset_minutes = 0;
  int offset_sign = 0; // +1 / -1 when the text carries a numeric offset
  bool twelve_hour = false;
  bool pm = false;
};

// Why a timestamp was rejected. Parsing reports one of these without allocating; the message is
// built only on the error path.
enum class Problem {
  none,
  form,
  year,
  date,
  hour,
  twelve_hour,
  minute,
  second,
  offset,
};

// A read position over the text with the few scanners every form needs.
class Cursor {
public:
  explicit Cursor(std::string_view text) noexcept
      : p_(text.data()), begin_(text.data()), end_(text.data() + text.size()) {}

  bool done() const noexcept { return p_ == end_; }
  char peek() const noexcept { return p_ == end_ ? '\0' : *p_; }
  std::size_t position() const noexcept { return static_cast<std::size_t>(p_ - begin_); }
  void advance() noexcept { ++p_; }

  bool accept(char c) noexcept {
    if (p_ == end_ || *p_ != c)
      return false;
    ++p_;
    return true;
  }

  // Accepts c in either case.
  bool accept_letter(char c) noexcept {
    if (p_ == end_ || lower(*p_) != lower(c))
      return false;
    ++p_;
    return true;
  }

  bool accept_word(std::string_view word) noexcept { // case-insensitive
    if (static_cast<std::size_t>(end_ - p_) < word.size())
      return false;
    for (std::size_t i = 0; i < word.size(); ++i) {
      if (lower(p_[i]) != lower(word[i]))
        return false;
    }
    p_ += word.size();
    return true;
  }

  // Exactly count digits.
  bool digits(int count, int& out) noexcept {
    if (end_ - p_ < count)
      return false;
    int value = 0;
    for (int i = 0; i < count; ++i) {
      if (!is_digit(p_[i]))
        return false;
      value = value * 10 + (p_[i] - '0');
    }
    p_ += count;
    out = value;
    return true;
  }

  // One or two digits, greedy.
  bool one_or_two_digits(int& out) noexcept {
    if (p_ == end_ || !is_digit(*p_))
      return false;
    int value = *p_++ - '0';
    if (p_ != end_ && is_digit(*p_))
      value = value * 10 + (*p_++ - '0');
    out = value;
    return true;
  }

  // One or more digits, discarded: sub-second precision is truncated.
  bool skip_digits() noexcept {
    const char* start = p_;
    while (p_ != end_ && is_digit(*p_))
      ++p_;
    return p_ != start;
  }

  bool digits_follow(int count) const noexcept {
    if (end_ - p_ < count)
      return false;
    for (int i = 0; i < count; ++i) {
      if (!is_digit(p_[i]))
        return false;
    }
    return true;
  }

private:
  const char* p_;
  const char* begin_;
  const char* end_;
};

// ±HH, ±HHMM or ±HH:MM after the sign has been seen.
bool parse_numeric_offset(Cursor& cursor, Fields& fields) noexcept {
  if (!cursor.digits(2, fields.offset_hours))
    return false;
  if (cursor.accept(':'))
    return cursor.digits(2, fields.offset_minutes);
  if (cursor.digits_follow(2))
    return cursor.digits(2, fields.offset_minutes);
  return true;
}

// Optional zone at the end of the text: Z, " UTC", " GMT", or a numeric offset, each optionally
// after one space. Nothing may follow it.
bool parse_zone(Cursor& cursor, Fields& fields) noexcept {
  if (cursor.done())
    return true;
  if (cursor.accept_letter('z'))
    return cursor.done();
  cursor.accept(' ');
  if (cursor.accept_word("UTC") || cursor.accept_word("GMT"))
    return cursor.done();
  if (cursor.peek() == '+' || cursor.peek() == '-') {
    fields.offset_sign = cursor.peek() == '+' ? 1 : -1;
    cursor.advance();
    return parse_numeric_offset(cursor, fields) && cursor.done();
  }
  return false;
}

// HH:MM[:SS[.fff]] after the date; US exports write the hour without padding and a 12-hour clock.
bool parse_clock(Cursor& cursor, Fields& fields, bool us_style) noexcept {
  const bool hour_ok =
      us_style ? cursor.one_or_two_digits(fields.hour) : cursor.digits(2, fields.hour);
  if (!hour_ok || !cursor.accept(':') || !cursor.digits(2, fields.minute))
    return false;
  if (cursor.accept(':')) {
    if (!cursor.digits(2, fields.second))
      return false;
    if (cursor.accept('.') && !cursor.skip_digits())
      return false;
  }
  if (us_style) {
    Cursor lookahead = cursor;
    lookahead.accept(' ');
    const bool am = lookahead.accept_word("AM");
    const bool pm = !am && lookahead.accept_word("PM");
    if (am || pm) {
      fields.twelve_hour = true;
      fields.pm = pm;
      cursor = lookahead;
    }
  }
  return true;
}

Problem parse_fields(std::string_view text, Fields& fields) noexcept {
  Cursor cursor(text);
  bool us_style = false;
  if (cursor.digits_follow(4)) {
    cursor.digits(4, fields.year);
    if (cursor.accept('-')) {
      if (!cursor.digits(2, fields.month) || !cursor.accept('-') || !cursor.digits(2, fields.day))
        return Problem::form;
    } else if (cursor.accept('/')) {
      if (!cursor.one_or_two_digits(fields.month) || !cursor.accept('/') ||
          !cursor.one_or_two_digits(fields.day))
        return Problem::form;
    } else {
      // Compact 20180801T000000.000Z, as AWS manifests write billing periods.
      if (!cursor.digits(2, fields.month) || !cursor.digits(2, fields.day) ||
          !cursor.accept_letter('t') || !cursor.digits(2, fields.hour) ||
          !cursor.digits(2, fields.minute) || !cursor.digits(2, fields.second))
        return Problem::form;
      if (cursor.accept('.') && !cursor.skip_digits())
        return Problem::form;
      if (!parse_zone(cursor, fields))
        return Problem::form;
      return Problem::none;
    }
  } else {
    us_style = true;
    if (!cursor.one_or_two_digits(fields.month) || !cursor.accept('/') ||
        !cursor.one_or_two_digits(fields.day) || !cursor.accept('/') ||
        !cursor.digits(4, fields.year))
      return Problem::form;
  }

  if (cursor.done())
    return Problem::none; // date only: midnight UTC
  const bool separator =
      us_style ? cursor.accept(' ') : (cursor.accept_letter('t') || cursor.accept(' '));
  if (!separator || !parse_clock(cursor, fields, us_style) || !parse_zone(cursor, fields))
    return Problem::form;
  return Problem::none;
}

// The digits of YYYY-MM-DD?HH:MM:SS at the start of `text` (whose separators the caller checked)
// into `fields`; false, with `fields` untouched, when one of them is not a digit.
bool read_clock_digits(std::string_view text, Fields& fields) noexcept {
  for (const int i : {0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18})
    if (!is_digit(text[static_cast<std::size_t>(i)]))
      return false;
  const auto two = [&](std::size_t i) { return (text[i] - '0') * 10 + (text[i + 1] - '0'); };
  fields.year = two(0) * 100 + two(2);
  fields.month = two(5);
  fields.day = two(8);
  fields.hour = two(11);
  fields.minute = two(14);
  fields.second = two(17);
  return true;
}

bool has_clock_separators(std::string_view text) noexcept {
  return text[4] == '-' && text[7] == '-' && text[13] == ':' && text[16] == ':';
}

// 2024-08-01T00:00:00Z, the form CUR and most exports write, read without the general scanner
// (parse_fields() reads it to the same fields). False, with `fields` untouched, for any other text.
bool parse_canonical_utc(std::string_view text, Fields& fields) noexcept {
  return text.size() == 20 && text[10] == 'T' && text[19] == 'Z' && has_clock_separators(text) &&
         read_clock_digits(text, fields);
}

// 2018-06-20 01:00:00 (or with a T), a time without a zone and so UTC, as older CUR deliveries
// write it, read without the general scanner (parse_fields() reads it to the same fields).
bool parse_plain_utc(std::string_view text, Fields& fields) noexcept {
  return text.size() == 19 && (text[10] == ' ' || text[10] == 'T') && has_clock_separators(text) &&
         read_clock_digits(text, fields);
}

Problem validate(Fields& fields) noexcept {
  if (fields.year < min_year || fields.year > max_year)
    return Problem::year;
  if (!is_valid_date(fields.year, static_cast<unsigned>(fields.month),
                     static_cast<unsigned>(fields.day)))
    return Problem::date;
  if (fields.twelve_hour) {
    if (fields.hour < 1 || fields.hour > 12)
      return Problem::twelve_hour;
    fields.hour = fields.hour % 12 + (fields.pm ? 12 : 0);
  }
  if (fields.hour > 23)
    return Problem::hour;
  if (fields.minute > 59)
    return Problem::minute;
  if (fields.second > 59)
    return Problem::second;
  if (fields.offset_hours > 23 || fields.offset_minutes > 59)
    return Problem::offset;
  return Problem::none;
}

UtcTime to_utc(const Fields& fields) noexcept {
  const std::int64_t days = days_from_civil(fields.year, static_cast<unsigned>(fields.month),
                                            static_cast<unsigned>(fields.day));
  const std::int64_t offset =
      fields.offset_sign * (fields.offset_hours * 3600 + fields.offset_minutes * 60);
  // Local time minus its offset is UTC: 23:30-05:00 is 04:30Z the next day.
  return UtcTime{days * seconds_per_day + fields.hour * 3600 + fields.minute * 60 + fields.second -
                 offset};
}

std::string two_digits(int value) {
  return std::string{static_cast<char>('0' + value / 10 % 10), static_cast<char>('0' + value % 10)};
}

std::string describe(Problem problem, const Fields& fields) {
  switch (problem) {
  case Problem::none:
  case Problem::form:
    break;
  case Problem::year:
    return "the year " + std::to_string(fields.year) + " is outside 1900-9999";
  case Problem::date:
    return std::to_string(fields.year) + "-" + two_digits(fields.month) + "-" +
           two_digits(fields.day) + " is not a calendar date";
  case Problem::twelve_hour:
    return "the hour " + std::to_string(fields.hour) + " is outside 1-12 on a 12-hour clock";
  case Problem::hour:
    return "the hour " + std::to_string(fields.hour) + " is outside 00-23";
  case Problem::minute:
    return "the minute " + std::to_string(fields.minute) + " is outside 00-59";
  case Problem::second:
    return "the second " + std::to_string(fields.second) + " is outside 00-59";
  case Problem::offset:
    return "the UTC offset " + two_digits(fields.offset_hours) + ":" +
           two_digits(fields.offset_minutes) + " is outside 00:00-23:59";
  }
  return "";
}

Error timestamp_error(std::string_view text, Problem problem, const Fields& fields) {
  if (problem == Problem::form)
    return data_error(quoted(text) + " is not a timestamp billdrop reads; " + accepted_forms);
  return data_error(quoted(text) + " is not a valid timestamp: " + describe(problem, fields));
}

struct Civil {
  int year;
  unsigned month;
  unsigned day;
};

// Howard Hinnant's civil_from_days.
Civil civil_from_days(std::int64_t days) noexcept {
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const auto doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned day = doy - (153 * mp + 2) / 5 + 1;
  const unsigned month = mp < 10 ? mp + 3 : mp - 9;
  const auto year = static_cast<int>(static_cast<std::int64_t>(yoe) + era * 400 + (month <= 2));
  return Civil{year, month, day};
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {
  const std::int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

char* write_padded(char* p, unsigned value, int width) noexcept {
  for (int i = width - 1; i >= 0; --i) {
    p[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  return p + width;
}

// Years outside 0..9999 cannot come from parse_timestamp, but UtcTime is any int64.
void append_year(std::string& out, int year) {
  if (year >= 0 && year <= 9999) {
    char buffer[4];
    write_padded(buffer, static_cast<unsigned>(year), 4);
    out.append(buffer, 4);
    return;
  }
  out += std::to_string(year);
}

constexpr std::string_view month_abbreviations[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                                    "jul", "aug", "sep", "oct", "nov", "dec"};

} // namespace

std::int64_t UtcTime::hour_start() const noexcept {
  return floor_div(seconds, 3600) * 3600;
}

// Howard Hinnant's days_from_civil.
std::int64_t days_from_civil(int year, unsigned month, unsigned day) noexcept {
  const std::int64_t y = static_cast<std::int64_t>(year) - (month <= 2);
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool is_valid_date(int year, unsigned month, unsigned day) noexcept {
  static constexpr unsigned days_in_month[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1)
    return false;
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  const unsigned last = month == 2 && leap ? 29 : days_in_month[month - 1];
  return day <= last;
}

std::optional<UtcTime> parse_canonical_timestamp(std::string_view text) noexcept {
  Fields fields;
  if (!parse_canonical_utc(text, fields) || validate(fields) != Problem::none)
    return std::nullopt;
  return to_utc(fields);
}

Result<UtcTime> parse_timestamp(std::string_view text) {
  Fields fields;
  Problem problem = parse_canonical_utc(text, fields) || parse_plain_utc(text, fields)
                        ? Problem::none
                        : parse_fields(text, fields);
  if (problem == Problem::none)
    problem = validate(fields);
  if (problem != Problem::none)
    return timestamp_error(text, problem, fields);
  return to_utc(fields);
}

Result<UtcTime> parse_timestamp(std::string_view text, std::string_view format) {
  // Check the format first so a bad format is reported as such, not as bad data.
  bool has_year = false;
  bool has_twelve_hour = false;
  bool has_meridiem = false;
  for (std::size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%')
      continue;
    if (++i == format.size())
      return config_error("timestamp format \"" + std::string(format) +
                          "\" ends with a lone %; write %% for a literal percent sign");
    switch (format[i]) {
    case 'Y':
      has_year = true;
      break;
    case 'I':
      has_twelve_hour = true;
      break;
    case 'p':
      has_meridiem = true;
      break;
    case 'm':
    case 'd':
    case 'e':
    case 'H':
    case 'M':
    case 'S':
    case 'f':
    case 'z':
    case 'b':
    case '%':
      break;
    default:
      return config_error("timestamp format \"" + std::string(format) + "\" uses %" +
                          std::string(1, format[i]) +
                          ", which is not supported; supported directives are %Y %m %d %e %H "
                          "%I %M %S %f %z %p %b and %%");
    }
  }
  if (!has_year)
    return config_error("timestamp format \"" + std::string(format) +
                        "\" has no %Y; a timestamp needs a four-digit year");
  if (has_meridiem && !has_twelve_hour)
    return config_error("timestamp format \"" + std::string(format) +
                        "\" uses %p without %I; AM/PM applies to a 12-hour clock hour");

  Fields fields;
  fields.twelve_hour = has_twelve_hour;
  Cursor cursor(text);
  auto mismatch = [&](std::string_view expected) -> Error {
    return data_error(quoted(text) + " does not match the timestamp format \"" +
                      std::string(format) + "\": expected " + std::string(expected) +
                      " at character " + std::to_string(cursor.position() + 1));
  };
  for (std::size_t i = 0; i < format.size(); ++i) {
    const char directive = format[i];
    if (directive != '%') {
      if (!cursor.accept(directive))
        return mismatch(std::string{'\'', directive, '\''});
      continue;
    }
    switch (format[++i]) {
    case 'Y':
      if (!cursor.digits(4, fields.year))
        return mismatch("a four-digit year");
      break;
    case 'm':
      if (!cursor.one_or_two_digits(fields.month))
        return mismatch("a month number");
      break;
    case 'e':
      cursor.accept(' ');
      [[fallthrough]];
    case 'd':
      if (!cursor.one_or_two_digits(fields.day))
        return mismatch("a day of the month");
      break;
    case 'H':
    case 'I':
      if (!cursor.one_or_two_digits(fields.hour))
        return mismatch("an hour");
      break;
    case 'M':
      if (!cursor.digits(2, fields.minute))
        return mismatch("two-digit minutes");
      break;
    case 'S':
      if (!cursor.digits(2, fields.second))
        return mismatch("two-digit seconds");
      break;
    case 'f':
      if (!cursor.skip_digits())
        return mismatch("fraction digits");
      break;
    case 'z':
      if (cursor.accept_letter('z'))
        break;
      if (cursor.peek() != '+' && cursor.peek() != '-')
        return mismatch("Z or a UTC offset such as +05:00");
      fields.offset_sign = cursor.peek() == '+' ? 1 : -1;
      cursor.advance();
      if (!cursor.digits(2, fields.offset_hours))
        return mismatch("a UTC offset such as +05:00");
      cursor.accept(':');
      if (!cursor.digits(2, fields.offset_minutes))
        return mismatch("a UTC offset such as +05:00");
      break;
    case 'p':
      if (cursor.accept_word("PM"))
        fields.pm = true;
      else if (!cursor.accept_word("AM"))
        return mismatch("AM or PM");
      break;
    case 'b': {
      bool matched = false;
      for (std::size_t m = 0; m < 12 && !matched; ++m) {
        if (cursor.accept_word(month_abbreviations[m])) {
          fields.month = static_cast<int>(m) + 1;
          matched = true;
        }
      }
      if (!matched)
        return mismatch("a month name such as Aug");
      break;
    }
    case '%':
      if (!cursor.accept('%'))
        return mismatch("'%'");
      break;
    }
  }
  if (!cursor.done())
    return mismatch("the end of the text");

  const Problem problem = validate(fields);
  if (problem != Problem::none)
    return timestamp_error(text, problem, fields);
  return to_utc(fields);
}

std::string_view canonical_utc_text(std::string_view text, char (&buffer)[20]) noexcept {
  Fields fields;
  if (parse_canonical_utc(text, fields))
    return text;
  if (!parse_plain_utc(text, fields))
    return {};
  std::memcpy(buffer, text.data(), 19);
  buffer[10] = 'T';
  buffer[19] = 'Z';
  return std::string_view(buffer, 20);
}

void append_iso(std::string& out, UtcTime time) {
  const std::int64_t days = floor_div(time.seconds, seconds_per_day);
  const auto second_of_day = static_cast<unsigned>(time.seconds - days * seconds_per_day);
  const Civil date = civil_from_days(days);
  append_year(out, date.year);
  char buffer[16];
  char* p = buffer;
  *p++ = '-';
  p = write_padded(p, date.month, 2);
  *p++ = '-';
  p = write_padded(p, date.day, 2);
  *p++ = 'T';
  p = write_padded(p, second_of_day / 3600, 2);
  *p++ = ':';
  p = write_padded(p, second_of_day / 60 % 60, 2);
  *p++ = ':';
  p = write_padded(p, second_of_day % 60, 2);
  *p++ = 'Z';
  out.append(buffer, static_cast<std::size_t>(p - buffer));
}

std::string format_iso(UtcTime time) {
  std::string out;
  out.reserve(20);
  append_iso(out, time);
  return out;
}

Result<std::string> normalize_timestamp(std::string_view text) {
  auto parsed = parse_timestamp(text);
  if (!parsed)
    return std::move(parsed).error();
  return format_iso(*parsed);
}

Result<Month> Month::parse(std::string_view text) {
  constexpr const char* expected =
      "expected YYYY-MM such as 2024-08, or the first instant of a month such as "
      "2024-08-01T00:00:00Z";
  // "YYYY-MM"
  if (text.size() == 7 && text[4] == '-') {
    Cursor cursor(text);
    int year = 0;
    int month = 0;
    if (cursor.digits(4, year) && cursor.accept('-') && cursor.digits(2, month)) {
      if (month < 1 || month > 12)
        return data_error("month " + quoted(text) + " has month " + std::to_string(month) +
                          ", outside 01-12: " + expected);
      if (year < min_year || year > max_year)
        return data_error("month " + quoted(text) + " has the year " + std::to_string(year) +
                          ", outside 1900-9999: " + expected);
      return Month(year, month);
    }
  }
  auto time = parse_timestamp(text);
  if (!time)
    return data_error("month " + quoted(text) + " is not a month: " + expected + " (" +
                      time.error().message() + ")");
  const Month month = Month::of(*time);
  if (month.first_instant() != *time)
    return data_error("month " + quoted(text) + " is " + format_iso(*time) +
                      ", not the first instant of a month: " + expected);
  return month;
}

Month Month::of(UtcTime time) noexcept {
  const Civil date = civil_from_days(floor_div(time.seconds, seconds_per_day));
  return Month(date.year, static_cast<int>(date.month));
}

std::string Month::to_string() const {
  std::string out;
  out.reserve(7);
  append_year(out, year_);
  char buffer[3] = {'-'};
  write_padded(buffer + 1, static_cast<unsigned>(month_), 2);
  out.append(buffer, 3);
  return out;
}

UtcTime Month::first_instant() const noexcept {
  return UtcTime{days_from_civil(year_, static_cast<unsigned>(month_), 1) * seconds_per_day};
}

Month Month::next() const noexcept {
  return month_ == 12 ? Month(year_ + 1, 1) : Month(year_, month_ + 1);
}

Month Month::previous() const noexcept {
  return month_ == 1 ? Month(year_ - 1, 12) : Month(year_, month_ - 1);
}

bool Month::contains(UtcTime time) const noexcept {
  return first_instant() <= time && time < next().first_instant();
}

} // namespace billdrop
