#include "billing/utc_time.hpp"

#include <chrono>
#include <cstdio>

namespace billdrop::billing {

std::int64_t days_from_civil(int year, unsigned month, unsigned day) noexcept {
  year -= month <= 2 ? 1 : 0;
  const std::int64_t era = (year >= 0 ? year : year - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(year - era * 400);
  const unsigned doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t days, int& year, unsigned& month, unsigned& day) noexcept {
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  day = doy - (153 * mp + 2) / 5 + 1;
  month = mp < 10 ? mp + 3 : mp - 9;
  year = static_cast<int>(static_cast<std::int64_t>(yoe) + era * 400 + (month <= 2 ? 1 : 0));
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

namespace {

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0);
}

bool digits(std::string_view text, std::size_t at, std::size_t count, int& out) {
  if (at + count > text.size())
    return false;
  out = 0;
  for (std::size_t i = at; i < at + count; ++i) {
    if (text[i] < '0' || text[i] > '9')
      return false;
    out = out * 10 + (text[i] - '0');
  }
  return true;
}

bool leap(int year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

} // namespace

std::string format_day(std::int64_t day) {
  int y = 0;
  unsigned m = 0, d = 0;
  civil_from_days(day, y, m, d);
  char text[48];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u", y, m, d);
  return text;
}

std::string format_month(std::int64_t ms) {
  return format_day(floor_div(ms, ms_per_day)).substr(0, 7);
}

std::string format_utc_ms(std::int64_t ms) {
  const std::int64_t day = floor_div(ms, ms_per_day);
  const std::int64_t in_day = ms - day * ms_per_day;
  char text[40];
  std::snprintf(text, sizeof text, "%sT%02d:%02d:%02d.%03dZ", format_day(day).c_str(),
                static_cast<int>(in_day / 3'600'000), static_cast<int>(in_day / 60'000 % 60),
                static_cast<int>(in_day / 1000 % 60), static_cast<int>(in_day % 1000));
  return text;
}

std::optional<std::int64_t> parse_day(std::string_view text) {
  int y = 0, m = 0, d = 0;
  if (text.size() != 10 || text[4] != '-' || text[7] != '-' || !digits(text, 0, 4, y) ||
      !digits(text, 5, 2, m) || !digits(text, 8, 2, d))
    return std::nullopt;
  static constexpr int month_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (y < 1970 || m < 1 || m > 12 || d < 1 || d > month_days[m - 1] + (m == 2 && leap(y) ? 1 : 0))
    return std::nullopt;
  return days_from_civil(y, static_cast<unsigned>(m), static_cast<unsigned>(d)) * ms_per_day;
}

std::optional<std::int64_t> parse_instant(std::string_view text) {
  const std::optional<std::int64_t> day = parse_day(text.substr(0, 10));
  if (!day)
    return std::nullopt;
  if (text.size() == 10)
    return day;
  int hh = 0, mm = 0, ss = 0;
  if (text.size() < 20 || (text[10] != 'T') || text[13] != ':' || text[16] != ':' ||
      !digits(text, 11, 2, hh) || !digits(text, 14, 2, mm) || !digits(text, 17, 2, ss) || hh > 23 ||
      mm > 59 || ss > 59)
    return std::nullopt;
  std::size_t at = 19;
  int millis = 0;
  if (text[at] == '.') {
    std::size_t count = 0;
    for (++at; at < text.size() && text[at] >= '0' && text[at] <= '9'; ++at, ++count)
      millis = millis * 10 + (text[at] - '0');
    if (count == 0 || count > 3)
      return std::nullopt; // finer than the API keeps: refused rather than cut
    for (; count < 3; ++count)
      millis *= 10;
  }
  std::int64_t offset_minutes = 0;
  const std::string_view zone = text.substr(at);
  if (zone == "Z") {
  } else if (int oh = 0, om = 0; zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') &&
                                 zone[3] == ':' && digits(zone, 1, 2, oh) &&
                                 digits(zone, 4, 2, om) && oh <= 23 && om <= 59) {
    offset_minutes = (oh * 60 + om) * (zone[0] == '-' ? -1 : 1);
  } else {
    return std::nullopt;
  }
  return *day + ((hh * 60 + mm - offset_minutes) * 60 + ss) * 1000 + millis;
}

} // namespace billdrop::billing
