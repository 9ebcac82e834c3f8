#pragma once
// The API's times: UTC, ISO 8601 with milliseconds ("2026-03-05T12:00:00.000Z"), held as
// milliseconds since 1970-01-01T00:00:00Z; days as "YYYY-MM-DD".

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace billdrop::billing {

inline constexpr std::int64_t ms_per_day = 86'400'000;

std::int64_t now_ms();

// "2026-03-05T12:00:00.000Z"
std::string format_utc_ms(std::int64_t ms);
// "2026-03-05" for a day number (days since 1970-01-01); "2026-03" for a month.
std::string format_day(std::int64_t day);
std::string format_month(std::int64_t ms);

// Exactly "YYYY-MM-DD", a real date in 1970..9999: its midnight in ms.
std::optional<std::int64_t> parse_day(std::string_view text);
// "YYYY-MM-DD" (midnight) or "YYYY-MM-DDTHH:MM:SS[.f{1,3}](Z|±HH:MM)", converted to UTC.
std::optional<std::int64_t> parse_instant(std::string_view text);

// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm), and back.
std::int64_t days_from_civil(int year, unsigned month, unsigned day) noexcept;
void civil_from_days(std::int64_t days, int& year, unsigned& month, unsigned& day) noexcept;

} // namespace billdrop::billing
