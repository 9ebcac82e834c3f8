#pragma once
// A cron schedule for `billdrop serve`: when a connection's sync runs next, and how long it may go
// without a run before it counts as stale. Always UTC.
//
// Syntax: five fields separated by spaces or tabs,
//   minute        0-59
//   hour          0-23
//   day of month  1-31
//   month         1-12 or JAN-DEC
//   day of week   0-7 or SUN-SAT (0 and 7 are both Sunday)
// each a list `a,b,c` of items `*`, `n`, `a-b`, `*/n` or `a-b/n`; names only in the month and
// day-of-week fields, three letters, any case, also as range ends (`MON-FRI`). Or one of the
// macros @yearly (= @annually, "0 0 1 1 *"), @monthly ("0 0 1 * *"), @weekly ("0 0 * * 0"),
// @daily (= @midnight, "0 0 * * *"), @hourly ("0 * * * *"), any case.
//
// Choices where cron itself varies or is silent:
// - Day of month and day of week as Vixie cron and cronie do it (their code, which crontab(5)'s
//   "not *" only approximates): when either field starts with `*` (`*`, `*/2`), a day must match
//   both; otherwise a day matching either one matches. "0 0 1,15 * MON" runs on the 1st, the 15th
//   and every Monday; "0 0 */2 * MON" only on Mondays with an odd day of the month. So a crontab
//   line picks the same days here as under the system's cron.
// - A schedule that can never run ("0 0 30 2 *", "0 0 31 4,6,9,11 *") is rejected by parse(), so
//   next_after() always finds a run. A day that exists only in leap years (29 February) is fine.
// - A step needs a range or `*`: "5/15" is rejected (Vixie cron does too) with the suggestion
//   "5-59/15". A step runs from 1 to the field's width (minute 1-59): 0 is an error, and so is a
//   larger step (which Vixie cron accepts), since it could only ever pick the range's start.
// - A backwards range is an error ("20-10"), except that a day-of-week range may end on Sunday
//   written as 0 or SUN: "SAT-SUN" and "5-0" mean 6-7 and 5-7.
// - @reboot and six-field (seconds or year) schedules are not supported: parse() says so.

#include <billdrop/result.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace billdrop::core {

class CronSchedule {
public:
  // The schedule in `text` (see above), or a config error naming the schedule, the field and the
  // part that is wrong: `schedule "0 25 * * *": hour 25 is out of range 0-23`.
  static Result<CronSchedule> parse(std::string_view text);

  // The first run strictly after `t`: a whole UTC minute (t's seconds do not count, so the run
  // is at least one minute after the minute t falls in). Skips a month, a day or an hour at a
  // time; the longest wait a schedule can have, 29 February on a Sunday ("0 0 29 2 */7": 2088 to
  // 2128), takes under two thousand steps. A run too late for system_clock (after 2262-04-11 with
  // libstdc++'s nanoseconds) is returned as time_point::max().
  std::chrono::system_clock::time_point next_after(std::chrono::system_clock::time_point t) const;

  // The longest gap between two consecutive runs, over the whole 400-year Gregorian cycle (after
  // which weekdays and leap years repeat exactly), so it does not depend on any reference time:
  // 60 s for "* * * * *", 3,600 for @hourly, 86,400 for "0 5 * * *", 604,800 for @weekly, 31
  // days for @monthly, 63 h 15 min for "*/15 9-17 * * MON-FRI" (Friday 17:45 to Monday 09:00),
  // 61 days for "0 0 31 * *" (31 May to 31 July), 8 years for "0 0 29 2 *" (2096 to 2104). The
  // longest rather than the most frequent gap, so that "no run within twice this" is never true
  // of a schedule that is merely waiting for its next run (a weekday schedule over a weekend).
  std::chrono::seconds typical_interval() const noexcept { return typical_interval_; }

  // The text parse() was given, as given.
  const std::string& text() const noexcept { return text_; }

private:
  CronSchedule() = default;

  bool runs_in(std::chrono::month month) const noexcept;
  bool runs_on(std::chrono::day day, std::chrono::weekday weekday) const noexcept;
  // The longest gap between two consecutive run days over a whole cycle; nullopt when no day
  // ever matches.
  std::optional<int> longest_gap_in_days() const;
  // The longest gap between two consecutive runs, given the longest between two run days.
  std::chrono::seconds longest_gap(int longest_day_gap) const noexcept;
  // The first run at or after minute `from` (0-1439) of a run day, as a minute of the day; -1
  // when the day has none left.
  int first_minute_of_day_from(int from) const noexcept;

  std::string text_;
  // Bit n set: value n matches. Day of week folds 7 into 0 (Sunday).
  std::uint64_t minutes_ = 0;
  std::uint32_t hours_ = 0;
  std::uint32_t days_of_month_ = 0;
  std::uint16_t months_ = 0;
  std::uint8_t days_of_week_ = 0;
  // Whether the day-of-month or day-of-week field starts with `*` (see the choices above).
  bool any_day_of_month_ = false;
  bool any_day_of_week_ = false;
  std::chrono::seconds typical_interval_{0};
};

} // namespace billdrop::core
