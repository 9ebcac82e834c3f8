#pragma once
// UTC timestamps and billing months.
//
// CBF wants `YYYY-MM-DDTHH:MM:SSZ`. Billing exports write many other forms; parse_timestamp()
// accepts every form listed below (from the exports billdrop reads; also docs/cbf.md) and
// format_iso() writes the CBF form. Sub-second digits are accepted and truncated (a charge counts
// in the hour that contains it). Offsets are converted to UTC; a timestamp without an offset or
// zone is taken to be UTC.

#include <billdrop/result.hpp>

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace billdrop {

// Seconds since 1970-01-01T00:00:00Z.
struct UtcTime {
  std::int64_t seconds = 0;

  std::int64_t hour_start() const noexcept; // floor to the hour, in seconds
  friend auto operator<=>(const UtcTime&, const UtcTime&) = default;
};

// Accepted forms (date part, then optional time part, then optional zone):
//   2024-08-16                       date only: midnight UTC
//   2024-08-16T05:00:00Z             also with ".000", ".123456" fractions, lowercase t/z
//   2024-08-16 05:00:00              space separator, no zone: UTC
//   2024-08-16T05:00Z, 2024-08-16T05:00   minutes precision
//   2020-11-09 23:00:00+00:00        numeric offsets +HH:MM, +HHMM, +HH, -HH:MM
//   2025-09-16 00:00:00.000000 UTC   trailing " UTC" / " GMT" / "Z"
//   20180801T000000.000Z             compact (AWS manifests' billingPeriod)
//   08/16/2024, 8/16/2024, 8/16/2024 5:00:00 AM   US month/day/year (Azure exports), 12h clock
//   2024/08/16                       slashes with the year first
// Rejects impossible dates (2023-02-29), hours > 23, years outside 1900..9999, trailing text.
Result<UtcTime> parse_timestamp(std::string_view text);

// The time when `text` is exactly "YYYY-MM-DDTHH:MM:SSZ" with a real date and time, the form
// format_iso writes (so the text is already its own normal form); nullopt for anything else,
// which parse_timestamp may still accept. What parse_timestamp tries first.
std::optional<UtcTime> parse_canonical_timestamp(std::string_view text) noexcept;

// Parses with an explicit strptime-like format. Supported directives: %Y %m %d %H %M %S %f
// (fraction, any number of digits) %z (Z or ±HH[:]MM) %p (AM/PM, with %I) %I %b (Jan..Dec) %e
// (day without padding) %%; any other character must match literally. Single-digit month/day
// /hour are accepted for %m %d %H %I.
Result<UtcTime> parse_timestamp(std::string_view text, std::string_view format);

// The "YYYY-MM-DDTHH:MM:SSZ" text of `text` when it can be had from text's own digits: `text`
// itself when it is in that form, `buffer` filled with a "YYYY-MM-DD HH:MM:SS" (or with a T, no
// zone: UTC) made so; empty for any other form. Only the digits are checked, not the date: for
// text parse_timestamp accepted, where it saves format_iso.
std::string_view canonical_utc_text(std::string_view text, char (&buffer)[20]) noexcept;

// "YYYY-MM-DDTHH:MM:SSZ"
std::string format_iso(UtcTime time);
void append_iso(std::string& out, UtcTime time);

// parse_timestamp() then format_iso().
Result<std::string> normalize_timestamp(std::string_view text);

// A billing month, "YYYY-MM".
class Month {
public:
  constexpr Month() noexcept = default;
  constexpr Month(int year, int month) noexcept : year_(year), month_(month) {}

  // Accepts "YYYY-MM" and, as the API schema does, a full timestamp at the month's first instant
  // such as "2024-08-01T00:00:00Z".
  static Result<Month> parse(std::string_view text);
  static Month of(UtcTime time) noexcept;

  int year() const noexcept { return year_; }
  int month() const noexcept { return month_; }
  std::string to_string() const;          // "2024-08"
  UtcTime first_instant() const noexcept; // 2024-08-01T00:00:00Z
  Month next() const noexcept;
  Month previous() const noexcept;
  bool contains(UtcTime time) const noexcept;

  friend auto operator<=>(const Month&, const Month&) = default;

private:
  int year_ = 1970;
  int month_ = 1;
};

// Days since 1970-01-01 for a proleptic Gregorian date, and back.
std::int64_t days_from_civil(int year, unsigned month, unsigned day) noexcept;
bool is_valid_date(int year, unsigned month, unsigned day) noexcept;

} // namespace billdrop
