#include "send/destination.hpp"

#include <array>
#include <cctype>
#include <limits>

namespace billdrop::send {

const char* to_string(Outcome outcome) noexcept {
  switch (outcome) {
  case Outcome::acknowledged:
    return "acknowledged";
  case Outcome::rejected:
    return "rejected";
  case Outcome::retryable:
    return "retryable";
  case Outcome::ambiguous:
    return "ambiguous";
  }
  return "unknown";
}

Result<std::optional<LandedMonth>> Destination::read_back(const std::string& /*connection_id*/,
                                                          Month /*month*/) {
  return std::optional<LandedMonth>();
}

Outcome classify_status(int http_status) noexcept {
  if (http_status <= 0)
    return Outcome::ambiguous;
  if (http_status >= 200 && http_status < 300)
    return Outcome::acknowledged;
  // The API does not document its answer to a second request in flight: 429 and 409 both mean
  // "not now"; a 5xx may or may not have applied (the sender decides what that means per chunk).
  if (http_status == 429 || http_status == 409 || (http_status >= 500 && http_status < 600))
    return Outcome::retryable;
  return Outcome::rejected;
}

namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
    text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
    text.remove_suffix(1);
  return text;
}

// A small cursor over an HTTP-date; every reader returns false on a mismatch.
class DateCursor {
public:
  explicit DateCursor(std::string_view text) : text_(text) {}

  bool done() const noexcept { return text_.empty(); }

  bool literal(std::string_view expected) {
    if (!text_.starts_with(expected))
      return false;
    text_.remove_prefix(expected.size());
    return true;
  }

  // Exactly `min_digits`..`max_digits` digits.
  bool number(int& out, std::size_t min_digits, std::size_t max_digits) {
    std::size_t used = 0;
    int value = 0;
    while (used < text_.size() && used < max_digits &&
           std::isdigit(static_cast<unsigned char>(text_[used]))) {
      value = value * 10 + (text_[used] - '0');
      ++used;
    }
    if (used < min_digits)
      return false;
    text_.remove_prefix(used);
    out = value;
    return true;
  }

  // A word of letters (a day or month name).
  std::string_view word() {
    std::size_t used = 0;
    while (used < text_.size() && std::isalpha(static_cast<unsigned char>(text_[used])))
      ++used;
    const std::string_view out = text_.substr(0, used);
    text_.remove_prefix(used);
    return out;
  }

  bool spaces() {
    if (text_.empty() || text_.front() != ' ')
      return false;
    while (!text_.empty() && text_.front() == ' ')
      text_.remove_prefix(1);
    return true;
  }

private:
  std::string_view text_;
};

constexpr std::array<std::string_view, 12> kMonthNames{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr std::array<std::string_view, 7> kDayNames{"Mon", "Tue", "Wed", "Thu",
                                                    "Fri", "Sat", "Sun"};
constexpr std::array<std::string_view, 7> kLongDayNames{
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};

int month_number(std::string_view name) {
  for (std::size_t i = 0; i < kMonthNames.size(); ++i)
    if (kMonthNames[i] == name)
      return static_cast<int>(i) + 1;
  return 0;
}

template <std::size_t N>
bool is_one_of(std::string_view word, const std::array<std::string_view, N>& names) {
  for (const std::string_view name : names)
    if (name == word)
      return true;
  return false;
}

struct DateParts {
  int year = 0;
  int month = 0;
  int day = 0;
  int hour = 0;
  int minute = 0;
  int second = 0;
};

bool read_clock(DateCursor& in, DateParts& parts) {
  return in.number(parts.hour, 2, 2) && in.literal(":") && in.number(parts.minute, 2, 2) &&
         in.literal(":") && in.number(parts.second, 2, 2);
}

// IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
bool parse_imf_fixdate(std::string_view text, DateParts& parts) {
  DateCursor in(text);
  if (!is_one_of(in.word(), kDayNames) || !in.literal(", ") || !in.number(parts.day, 2, 2) ||
      !in.spaces())
    return false;
  parts.month = month_number(in.word());
  return parts.month != 0 && in.spaces() && in.number(parts.year, 4, 4) && in.spaces() &&
         read_clock(in, parts) && in.literal(" GMT") && in.done();
}

// RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"; a two-digit year more than 50 years ahead of `now`
// is in the past century (RFC 9110, 5.6.7).
bool parse_rfc850(std::string_view text, int current_year, DateParts& parts) {
  DateCursor in(text);
  if (!is_one_of(in.word(), kLongDayNames) || !in.literal(", ") || !in.number(parts.day, 2, 2) ||
      !in.literal("-"))
    return false;
  parts.month = month_number(in.word());
  int two_digits = 0;
  if (parts.month == 0 || !in.literal("-") || !in.number(two_digits, 2, 2) || !in.spaces() ||
      !read_clock(in, parts) || !in.literal(" GMT") || !in.done())
    return false;
  const int century = current_year - current_year % 100;
  parts.year = century + two_digits;
  if (parts.year > current_year + 50)
    parts.year -= 100;
  return true;
}

// asctime: "Sun Nov  6 08:49:37 1994"
bool parse_asctime(std::string_view text, DateParts& parts) {
  DateCursor in(text);
  if (!is_one_of(in.word(), kDayNames) || !in.spaces())
    return false;
  parts.month = month_number(in.word());
  return parts.month != 0 && in.spaces() && in.number(parts.day, 1, 2) && in.spaces() &&
         read_clock(in, parts) && in.spaces() && in.number(parts.year, 4, 4) && in.done();
}

std::optional<std::int64_t> to_unix_seconds(const DateParts& parts) {
  if (parts.month < 1 || parts.month > 12 || parts.day < 1 ||
      !is_valid_date(parts.year, static_cast<unsigned>(parts.month),
                     static_cast<unsigned>(parts.day)) ||
      parts.hour > 23 || parts.minute > 59 || parts.second > 60)
    return std::nullopt;
  const std::int64_t days = days_from_civil(parts.year, static_cast<unsigned>(parts.month),
                                            static_cast<unsigned>(parts.day));
  return days * 86'400 + parts.hour * 3'600 + parts.minute * 60 + parts.second;
}

} // namespace

std::optional<std::chrono::milliseconds>
parse_retry_after(std::string_view value, std::chrono::system_clock::time_point now) {
  using std::chrono::milliseconds;
  value = trim(value);
  if (value.empty())
    return std::nullopt;

  bool all_digits = true;
  for (const char c : value)
    all_digits = all_digits && std::isdigit(static_cast<unsigned char>(c));
  if (all_digits) {
    // A year of seconds is already "do not hold your breath"; longer values are clamped there.
    constexpr std::int64_t kMaxSeconds = 366LL * 86'400;
    std::int64_t seconds = 0;
    for (const char c : value) {
      seconds = seconds * 10 + (c - '0');
      if (seconds > kMaxSeconds) {
        seconds = kMaxSeconds;
        break;
      }
    }
    return milliseconds(seconds * 1000);
  }

  const auto now_ms = std::chrono::duration_cast<milliseconds>(now.time_since_epoch()).count();
  const int current_year = Month::of(UtcTime{now_ms / 1000}).year();
  DateParts parts;
  if (!parse_imf_fixdate(value, parts) && !parse_rfc850(value, current_year, parts) &&
      !parse_asctime(value, parts))
    return std::nullopt;
  const std::optional<std::int64_t> at = to_unix_seconds(parts);
  if (!at)
    return std::nullopt;
  const std::int64_t delta = *at * 1000 - now_ms;
  return milliseconds(delta > 0 ? delta : 0);
}

} // namespace billdrop::send
