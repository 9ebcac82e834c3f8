// core::CronSchedule: every syntax form, the calendar's edges (month ends, leap days, year ends),
// the day-of-month/day-of-week rule, the longest gap, and every error. Expected runs are worked
// out by hand from the calendar (2026-04-29 is a Wednesday, 2026-05-01 a Friday).
#include "core/cron.hpp"

#include <billdrop/timestamp.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <string_view>

namespace billdrop::core {
namespace {

using std::chrono::system_clock;

// "YYYY-MM-DDTHH:MM:SSZ" as a time point.
system_clock::time_point utc(std::string_view text) {
  const auto time = parse_canonical_timestamp(text);
  EXPECT_TRUE(time.has_value()) << text;
  return system_clock::time_point(std::chrono::seconds(time ? time->seconds : 0));
}

std::string iso(system_clock::time_point time) {
  if (time == system_clock::time_point::max())
    return "max";
  return format_iso(
      UtcTime{std::chrono::floor<std::chrono::seconds>(time).time_since_epoch().count()});
}

CronSchedule schedule(std::string_view text) {
  auto parsed = CronSchedule::parse(text);
  EXPECT_TRUE(parsed.ok()) << text << ": " << (parsed.ok() ? "" : parsed.error().message());
  return std::move(parsed).value_or_throw();
}

// The first run of `text` strictly after `after`, as ISO text.
std::string next_run(std::string_view text, std::string_view after) {
  return iso(schedule(text).next_after(utc(after)));
}

std::string parse_error(std::string_view text) {
  auto parsed = CronSchedule::parse(text);
  if (parsed.ok())
    return "parsed";
  EXPECT_EQ(parsed.error().kind(), ErrorKind::config) << text;
  return parsed.error().message();
}

std::chrono::seconds interval(std::string_view text) {
  return schedule(text).typical_interval();
}

constexpr std::chrono::seconds kMinute{60};
constexpr std::chrono::seconds kHour{3600};
constexpr std::chrono::seconds kDay{86400};

// --- syntax forms ---

TEST(CronScheduleTest, EveryMinute) {
  EXPECT_EQ(next_run("* * * * *", "2026-04-29T05:00:00Z"), "2026-04-29T05:01:00Z");
  EXPECT_EQ(next_run("* * * * *", "2026-04-29T05:00:30Z"), "2026-04-29T05:01:00Z");
  EXPECT_EQ(next_run("* * * * *", "2026-04-29T23:59:00Z"), "2026-04-30T00:00:00Z");
}

TEST(CronScheduleTest, NumbersInEveryField) {
  EXPECT_EQ(next_run("0 5 * * *", "2026-04-29T05:00:00Z"), "2026-04-30T05:00:00Z");
  EXPECT_EQ(next_run("0 5 * * *", "2026-04-29T04:59:59Z"), "2026-04-29T05:00:00Z");
  EXPECT_EQ(next_run("0 5 * * *", "2026-04-29T05:30:00Z"), "2026-04-30T05:00:00Z");
  EXPECT_EQ(next_run("30 14 15 6 *", "2026-04-29T05:00:00Z"), "2026-06-15T14:30:00Z");
  EXPECT_EQ(next_run("30 14 15 6 *", "2026-06-15T14:30:00Z"), "2027-06-15T14:30:00Z");
  EXPECT_EQ(next_run("0 0 * * 3", "2026-04-29T00:00:00Z"), "2026-05-06T00:00:00Z"); // Wednesday
  EXPECT_EQ(next_run("05 07 * * *", "2026-04-29T00:00:00Z"), "2026-04-29T07:05:00Z");
}

TEST(CronScheduleTest, SecondsOfTheGivenTimeDoNotCount) {
  const CronSchedule daily = schedule("0 5 * * *");
  const auto just_before = utc("2026-04-29T04:59:59Z") + std::chrono::milliseconds(999);
  EXPECT_EQ(iso(daily.next_after(just_before)), "2026-04-29T05:00:00Z");
  const auto just_after = utc("2026-04-29T05:00:00Z") + std::chrono::nanoseconds(1);
  EXPECT_EQ(iso(daily.next_after(just_after)), "2026-04-30T05:00:00Z");

  const auto run = schedule("* * * * *")
                       .next_after(utc("2026-04-29T05:00:17Z") + std::chrono::microseconds(123));
  EXPECT_EQ(run.time_since_epoch() % std::chrono::minutes(1), system_clock::duration::zero());
  EXPECT_EQ(iso(run), "2026-04-29T05:01:00Z");
}

TEST(CronScheduleTest, Ranges) {
  EXPECT_EQ(next_run("0 9-17 * * *", "2026-04-29T12:30:00Z"), "2026-04-29T13:00:00Z");
  EXPECT_EQ(next_run("0 9-17 * * *", "2026-04-29T17:00:00Z"), "2026-04-30T09:00:00Z");
  EXPECT_EQ(next_run("58-59 * * * *", "2026-04-29T10:58:00Z"), "2026-04-29T10:59:00Z");
  EXPECT_EQ(next_run("58-59 * * * *", "2026-04-29T10:59:00Z"), "2026-04-29T11:58:00Z");
  EXPECT_EQ(next_run("0 0 10-12 * *", "2026-04-12T00:00:00Z"), "2026-05-10T00:00:00Z");
  EXPECT_EQ(next_run("0 0 1 3-5 *", "2026-05-01T00:00:00Z"), "2027-03-01T00:00:00Z");
  EXPECT_EQ(next_run("7-7 * * * *", "2026-04-29T10:07:00Z"), "2026-04-29T11:07:00Z");
}

TEST(CronScheduleTest, Lists) {
  EXPECT_EQ(next_run("0,15,45 * * * *", "2026-04-29T10:15:00Z"), "2026-04-29T10:45:00Z");
  EXPECT_EQ(next_run("0,15,45 * * * *", "2026-04-29T10:45:00Z"), "2026-04-29T11:00:00Z");
  EXPECT_EQ(next_run("0 6,18 * * *", "2026-04-29T06:00:00Z"), "2026-04-29T18:00:00Z");
  // Numbers, ranges and steps in one list: minutes 5, 10, 11, 12, 30 and 45.
  const std::string mixed = "5,10-12,30-59/15 * * * *";
  EXPECT_EQ(next_run(mixed, "2026-04-29T10:05:00Z"), "2026-04-29T10:10:00Z");
  EXPECT_EQ(next_run(mixed, "2026-04-29T10:12:00Z"), "2026-04-29T10:30:00Z");
  EXPECT_EQ(next_run(mixed, "2026-04-29T10:30:00Z"), "2026-04-29T10:45:00Z");
  EXPECT_EQ(next_run(mixed, "2026-04-29T10:45:00Z"), "2026-04-29T11:05:00Z");
  // Overlapping items are one set.
  EXPECT_EQ(next_run("10,5-15,10 * * * *", "2026-04-29T10:15:00Z"), "2026-04-29T11:05:00Z");
}

TEST(CronScheduleTest, StepsOverTheWholeField) {
  EXPECT_EQ(next_run("*/15 * * * *", "2026-04-29T10:44:59Z"), "2026-04-29T10:45:00Z");
  EXPECT_EQ(next_run("*/15 * * * *", "2026-04-29T10:45:00Z"), "2026-04-29T11:00:00Z");
  EXPECT_EQ(next_run("0 */6 * * *", "2026-04-29T18:00:00Z"), "2026-04-30T00:00:00Z");
  // Days 1, 11, 21 and 31; April has no 31st.
  EXPECT_EQ(next_run("0 0 */10 * *", "2026-04-21T00:00:00Z"), "2026-05-01T00:00:00Z");
  EXPECT_EQ(next_run("0 0 */10 * *", "2026-05-21T00:00:00Z"), "2026-05-31T00:00:00Z");
  // January, April, July and October.
  EXPECT_EQ(next_run("0 0 1 */3 *", "2026-04-29T00:00:00Z"), "2026-07-01T00:00:00Z");
  EXPECT_EQ(next_run("0 0 1 */3 *", "2026-10-01T00:00:00Z"), "2027-01-01T00:00:00Z");
  EXPECT_EQ(next_run("*/1 * * * *", "2026-04-29T10:00:00Z"), "2026-04-29T10:01:00Z");
}

TEST(CronScheduleTest, StepsOverARange) {
  EXPECT_EQ(next_run("10-40/10 * * * *", "2026-04-29T10:10:00Z"), "2026-04-29T10:20:00Z");
  EXPECT_EQ(next_run("10-40/10 * * * *", "2026-04-29T10:40:00Z"), "2026-04-29T11:10:00Z");
  EXPECT_EQ(next_run("0 1-23/2 * * *", "2026-04-29T00:00:00Z"), "2026-04-29T01:00:00Z");
  EXPECT_EQ(next_run("0 1-23/2 * * *", "2026-04-29T23:00:00Z"), "2026-04-30T01:00:00Z");
  // 10-20/7 is 10 and 17: the step does not reach the range's end.
  EXPECT_EQ(next_run("0 10-20/7 * * *", "2026-04-29T10:00:00Z"), "2026-04-29T17:00:00Z");
  EXPECT_EQ(next_run("0 10-20/7 * * *", "2026-04-29T17:00:00Z"), "2026-04-30T10:00:00Z");
}

TEST(CronScheduleTest, MonthNamesInAnyCase) {
  EXPECT_EQ(next_run("0 0 1 JAN,jul *", "2026-01-01T00:00:00Z"), "2026-07-01T00:00:00Z");
  EXPECT_EQ(next_run("0 0 1 JAN,jul *", "2026-07-01T00:00:00Z"), "2027-01-01T00:00:00Z");
  EXPECT_EQ(next_run("0 0 1 mar-May *", "2026-05-01T00:00:00Z"), "2027-03-01T00:00:00Z");
  // February, July and December; names and numbers mix.
  EXPECT_EQ(next_run("0 0 1 FEB-dec/5 *", "2026-07-01T00:00:00Z"), "2026-12-01T00:00:00Z");
  EXPECT_EQ(next_run("0 0 1 1,Jun *", "2026-04-29T00:00:00Z"), "2026-06-01T00:00:00Z");
}

TEST(CronScheduleTest, DayNamesInAnyCase) {
  // Friday 2026-05-01, then Monday 2026-05-04.
  EXPECT_EQ(next_run("0 9 * * MON-FRI", "2026-04-30T09:00:00Z"), "2026-05-01T09:00:00Z");
  EXPECT_EQ(next_run("0 9 * * MON-FRI", "2026-05-01T09:00:00Z"), "2026-05-04T09:00:00Z");
  EXPECT_EQ(next_run("0 9 * * mon-fri", "2026-05-01T09:00:00Z"), "2026-05-04T09:00:00Z");
  EXPECT_EQ(next_run("0 9 * * Tue,thu", "2026-04-29T09:00:00Z"), "2026-04-30T09:00:00Z");
  EXPECT_EQ(next_run("0 9 * * Tue,thu", "2026-04-30T09:00:00Z"), "2026-05-05T09:00:00Z");
}

TEST(CronScheduleTest, SundayIsZeroAndSeven) {
  // Sunday 2026-05-03.
  for (const char* sunday : {"0 0 * * 0", "0 0 * * 7", "0 0 * * SUN", "0 0 * * sun"}) {
    EXPECT_EQ(next_run(sunday, "2026-04-29T00:00:00Z"), "2026-05-03T00:00:00Z") << sunday;
    EXPECT_EQ(next_run(sunday, "2026-05-03T00:00:00Z"), "2026-05-10T00:00:00Z") << sunday;
  }
  // Friday, Saturday, Sunday, whichever way the range ends on Sunday.
  for (const char* weekend : {"0 0 * * 5-7", "0 0 * * FRI-SUN", "0 0 * * 5-0"}) {
    EXPECT_EQ(next_run(weekend, "2026-04-29T00:00:00Z"), "2026-05-01T00:00:00Z") << weekend;
    EXPECT_EQ(next_run(weekend, "2026-05-02T00:00:00Z"), "2026-05-03T00:00:00Z") << weekend;
    EXPECT_EQ(next_run(weekend, "2026-05-03T00:00:00Z"), "2026-05-08T00:00:00Z") << weekend;
  }
  EXPECT_EQ(next_run("0 0 * * SAT-SUN", "2026-05-03T00:00:00Z"), "2026-05-09T00:00:00Z");
  EXPECT_EQ(next_run("0 0 * * 0-7", "2026-04-29T00:00:00Z"), "2026-04-30T00:00:00Z");
  EXPECT_EQ(next_run("0 0 * * SUN-SAT", "2026-04-29T00:00:00Z"), "2026-04-30T00:00:00Z");
  EXPECT_EQ(next_run("0 0 * * 0-0", "2026-04-29T00:00:00Z"), "2026-05-03T00:00:00Z");
}

TEST(CronScheduleTest, Macros) {
  EXPECT_EQ(next_run("@yearly", "2026-04-29T05:00:00Z"), "2027-01-01T00:00:00Z");
  EXPECT_EQ(next_run("@annually", "2026-04-29T05:00:00Z"), "2027-01-01T00:00:00Z");
  EXPECT_EQ(next_run("@monthly", "2026-04-29T05:00:00Z"), "2026-05-01T00:00:00Z");
  EXPECT_EQ(next_run("@weekly", "2026-04-29T05:00:00Z"), "2026-05-03T00:00:00Z"); // Sunday
  EXPECT_EQ(next_run("@daily", "2026-04-29T05:00:00Z"), "2026-04-30T00:00:00Z");
  EXPECT_EQ(next_run("@midnight", "2026-04-29T05:00:00Z"), "2026-04-30T00:00:00Z");
  EXPECT_EQ(next_run("@hourly", "2026-04-29T05:00:00Z"), "2026-04-29T06:00:00Z");
  EXPECT_EQ(next_run("@Hourly", "2026-04-29T05:59:59Z"), "2026-04-29T06:00:00Z");
  EXPECT_EQ(next_run("  @DAILY\t", "2026-04-29T05:00:00Z"), "2026-04-30T00:00:00Z");
}

TEST(CronScheduleTest, FieldsSeparatedByAnyWhitespace) {
  EXPECT_EQ(next_run("  0\t5   *  * *  ", "2026-04-29T05:00:00Z"), "2026-04-30T05:00:00Z");
}

TEST(CronScheduleTest, TextIsKeptAsGiven) {
  EXPECT_EQ(schedule("0 5 * * *").text(), "0 5 * * *");
  EXPECT_EQ(schedule(" @Daily ").text(), " @Daily ");
  EXPECT_EQ(schedule("0\t5 * * mon-fri").text(), "0\t5 * * mon-fri");
}

// --- the calendar ---

TEST(CronScheduleTest, MonthEndsSkipMonthsWithoutTheDay) {
  EXPECT_EQ(next_run("0 12 31 * *", "2026-05-31T12:00:00Z"), "2026-07-31T12:00:00Z");
  EXPECT_EQ(next_run("0 12 31 * *", "2026-07-31T12:00:00Z"), "2026-08-31T12:00:00Z");
  EXPECT_EQ(next_run("0 0 30 * *", "2026-01-30T00:00:00Z"), "2026-03-30T00:00:00Z");
  EXPECT_EQ(next_run("0 0 29 * *", "2027-01-29T00:00:00Z"), "2027-03-29T00:00:00Z");
  EXPECT_EQ(next_run("0 0 31 4-6 *", "2026-01-01T00:00:00Z"), "2026-05-31T00:00:00Z");
  EXPECT_EQ(next_run("59 23 * * *", "2026-04-30T23:59:00Z"), "2026-05-01T23:59:00Z");
}

TEST(CronScheduleTest, LeapDays) {
  EXPECT_EQ(next_run("0 0 29 2 *", "2026-04-29T05:00:00Z"), "2028-02-29T00:00:00Z");
  EXPECT_EQ(next_run("0 0 29 2 *", "2028-02-29T00:00:00Z"), "2032-02-29T00:00:00Z");
  EXPECT_EQ(next_run("0 0 29 2 *", "2096-02-29T00:00:00Z"), "2104-02-29T00:00:00Z"); // 2100
  EXPECT_EQ(next_run("0 0 29 * *", "2028-01-29T00:00:00Z"), "2028-02-29T00:00:00Z");
  EXPECT_EQ(next_run("0 0 * 2 *", "2028-02-28T00:00:00Z"), "2028-02-29T00:00:00Z");
  EXPECT_EQ(next_run("0 0 * 2 *", "2027-02-28T00:00:00Z"), "2028-02-01T00:00:00Z");
  // A leap day on a given weekday, by the OR rule: 29 February or any Tuesday in February.
  EXPECT_EQ(next_run("0 0 29 2 TUE", "2028-02-22T00:00:00Z"), "2028-02-29T00:00:00Z");
  // 29 February on a Sunday, by the AND rule ("*/7" is 0 and 7): 2032, 2060, 2088, then 2128,
  // since 2100 is no leap year.
  EXPECT_EQ(next_run("0 0 29 2 */7", "2026-04-29T00:00:00Z"), "2032-02-29T00:00:00Z");
  EXPECT_EQ(next_run("0 0 29 2 */7", "2032-02-29T00:00:00Z"), "2060-02-29T00:00:00Z");
  EXPECT_EQ(next_run("0 0 29 2 */7", "2088-02-29T00:00:00Z"), "2128-02-29T00:00:00Z");
}

TEST(CronScheduleTest, YearRollover) {
  EXPECT_EQ(next_run("* * * * *", "2026-12-31T23:59:59Z"), "2027-01-01T00:00:00Z");
  EXPECT_EQ(next_run("0 0 1 1 *", "2026-06-15T00:00:00Z"), "2027-01-01T00:00:00Z");
  EXPECT_EQ(next_run("59 23 31 12 *", "2026-12-31T23:59:00Z"), "2027-12-31T23:59:00Z");
  EXPECT_EQ(next_run("0 0 * * FRI", "2026-12-31T00:00:00Z"), "2027-01-01T00:00:00Z");
  EXPECT_EQ(next_run("0 0 1 JAN-MAR *", "2026-04-29T00:00:00Z"), "2027-01-01T00:00:00Z");
}

TEST(CronScheduleTest, TimesBeforeTheEpoch) {
  EXPECT_EQ(next_run("* * * * *", "1969-12-31T23:59:30Z"), "1970-01-01T00:00:00Z");
  EXPECT_EQ(next_run("0 0 * * *", "1969-12-31T12:00:00Z"), "1970-01-01T00:00:00Z");
}

// --- day of month and day of week ---

TEST(CronScheduleTest, BothDayFieldsRestrictedMatchEither) {
  // Every 13th and every Friday: Friday 1 May, Friday 8 May, Wednesday 13 May, Friday 15 May.
  EXPECT_EQ(next_run("0 0 13 * FRI", "2026-04-29T00:00:00Z"), "2026-05-01T00:00:00Z");
  EXPECT_EQ(next_run("0 0 13 * FRI", "2026-05-01T00:00:00Z"), "2026-05-08T00:00:00Z");
  EXPECT_EQ(next_run("0 0 13 * FRI", "2026-05-08T00:00:00Z"), "2026-05-13T00:00:00Z");
  EXPECT_EQ(next_run("0 0 13 * FRI", "2026-05-13T00:00:00Z"), "2026-05-15T00:00:00Z");
  // The 1st, the 15th and every Monday.
  EXPECT_EQ(next_run("0 0 1,15 * 1", "2026-04-29T00:00:00Z"), "2026-05-01T00:00:00Z");
  EXPECT_EQ(next_run("0 0 1,15 * 1", "2026-05-01T00:00:00Z"), "2026-05-04T00:00:00Z");
  EXPECT_EQ(next_run("0 0 1,15 * 1", "2026-05-11T00:00:00Z"), "2026-05-15T00:00:00Z");
  EXPECT_EQ(next_run("0 0 1,15 * 1", "2026-05-15T00:00:00Z"), "2026-05-18T00:00:00Z");
  // Still only in the months allowed.
  EXPECT_EQ(next_run("0 0 13 6 FRI", "2026-04-29T00:00:00Z"), "2026-06-05T00:00:00Z");
}

TEST(CronScheduleTest, AStarDayFieldLeavesTheOtherAlone) {
  EXPECT_EQ(next_run("0 0 13 * *", "2026-04-29T00:00:00Z"), "2026-05-13T00:00:00Z");
  EXPECT_EQ(next_run("0 0 * * FRI", "2026-05-01T00:00:00Z"), "2026-05-08T00:00:00Z");
}

TEST(CronScheduleTest, ADayFieldStartingWithStarMakesBothRequired) {
  // Vixie cron: "*/2" counts as `*` for the rule, so a day must be a Monday AND odd: 4 May is
  // even, 11 May odd, 18 May even, 25 May odd.
  EXPECT_EQ(next_run("0 0 */2 * MON", "2026-04-29T00:00:00Z"), "2026-05-11T00:00:00Z");
  EXPECT_EQ(next_run("0 0 */2 * MON", "2026-05-11T00:00:00Z"), "2026-05-25T00:00:00Z");
  // The 13th on a Sunday, Tuesday, Thursday or Saturday: Wednesday 13 May no, Saturday 13 June.
  EXPECT_EQ(next_run("0 0 13 * */2", "2026-04-29T00:00:00Z"), "2026-06-13T00:00:00Z");
}

// --- far runs ---

TEST(CronScheduleTest, EveryLeapDayUpToTheEndOfTheClock) {
  // 1972 to 2260, every fourth year but 2100 and 2200; then 2264 is past system_clock's range.
  const CronSchedule leap_day = schedule("0 0 29 2 *");
  int runs = 0;
  system_clock::time_point t = utc("1970-01-01T00:00:00Z");
  std::string last;
  while ((t = leap_day.next_after(t)) != system_clock::time_point::max()) {
    ++runs;
    last = iso(t);
  }
  EXPECT_EQ(runs, 71);
  EXPECT_EQ(last, "2260-02-29T00:00:00Z");
  EXPECT_EQ(leap_day.next_after(system_clock::time_point::max()), system_clock::time_point::max());
}

// --- typical_interval ---

TEST(CronScheduleTest, TypicalIntervalIsTheLongestGap) {
  EXPECT_EQ(interval("* * * * *"), kMinute);
  EXPECT_EQ(interval("*/15 * * * *"), 15 * kMinute);
  EXPECT_EQ(interval("@hourly"), kHour);
  EXPECT_EQ(interval("0 5 * * *"), kDay);
  EXPECT_EQ(interval("@daily"), kDay);
  EXPECT_EQ(interval("0 0,12 * * *"), 12 * kHour);
  EXPECT_EQ(interval("0 9,17 * * *"), 16 * kHour); // 17:00 to 09:00
  EXPECT_EQ(interval("@weekly"), 7 * kDay);
  EXPECT_EQ(interval("0 5 * * MON-FRI"), 3 * kDay);                        // Friday to Monday
  EXPECT_EQ(interval("*/15 9-17 * * MON-FRI"), 63 * kHour + 15 * kMinute); // 17:45 to 09:00
  EXPECT_EQ(interval("@monthly"), 31 * kDay);
  EXPECT_EQ(interval("0 0 31 * *"), 61 * kDay);      // 31 May to 31 July
  EXPECT_EQ(interval("@yearly"), 366 * kDay);        // 1 January 2028 to 2029
  EXPECT_EQ(interval("0 0 29 2 *"), 2921 * kDay);    // 2096 to 2104
  EXPECT_EQ(interval("0 0 29 2 */7"), 14609 * kDay); // Sundays: 2088 to 2128
  EXPECT_EQ(interval("0 0 13 * FRI"), 7 * kDay);     // every Friday, and the 13th besides
  EXPECT_EQ(interval("0 0 1,15 * *"), 17 * kDay);    // 15 January to 1 February
}

// --- errors ---

TEST(CronScheduleTest, EmptyAndFieldCountErrors) {
  EXPECT_EQ(parse_error(""), "schedule \"\" is empty: write five fields (minute, hour, day of "
                             "month, month, day of week) or a macro such as @daily");
  EXPECT_EQ(parse_error(" \t "), "schedule \" \t \" is empty: write five fields (minute, hour, "
                                 "day of month, month, day of week) or a macro such as @daily");
  EXPECT_EQ(parse_error("0 5 * *"), "schedule \"0 5 * *\": has 4 fields, a schedule has 5: "
                                    "minute, hour, day of month, month, day of week");
  EXPECT_EQ(parse_error("0 0 5 * * *"), "schedule \"0 0 5 * * *\": has 6 fields, a schedule has "
                                        "5: minute, hour, day of month, month, day of week");
}

TEST(CronScheduleTest, UnknownMacros) {
  const std::string macros = "; the macros are @yearly, @annually, @monthly, @weekly, @daily, "
                             "@midnight and @hourly";
  EXPECT_EQ(parse_error("@reboot"), "schedule \"@reboot\": unknown macro \"@reboot\"" + macros);
  EXPECT_EQ(parse_error(" @daily 5 "),
            "schedule \" @daily 5 \": unknown macro \"@daily 5\"" + macros);
  EXPECT_EQ(parse_error("@"), "schedule \"@\": unknown macro \"@\"" + macros);
}

TEST(CronScheduleTest, OutOfRangeValues) {
  EXPECT_EQ(parse_error("0 25 * * *"), "schedule \"0 25 * * *\": hour 25 is out of range 0-23");
  EXPECT_EQ(parse_error("60 * * * *"), "schedule \"60 * * * *\": minute 60 is out of range 0-59");
  EXPECT_EQ(parse_error("0 0 0 * *"),
            "schedule \"0 0 0 * *\": day of month 0 is out of range 1-31");
  EXPECT_EQ(parse_error("0 0 32 * *"),
            "schedule \"0 0 32 * *\": day of month 32 is out of range 1-31");
  EXPECT_EQ(parse_error("0 0 1 13 *"), "schedule \"0 0 1 13 *\": month 13 is out of range 1-12");
  EXPECT_EQ(parse_error("0 0 1 0 *"), "schedule \"0 0 1 0 *\": month 0 is out of range 1-12");
  EXPECT_EQ(parse_error("0 0 * * 8"), "schedule \"0 0 * * 8\": day of week 8 is out of range 0-7");
  EXPECT_EQ(parse_error("0 0-24 * * *"), "schedule \"0 0-24 * * *\": hour 24 is out of range 0-23");
  EXPECT_EQ(parse_error("1,2,99 * * * *"),
            "schedule \"1,2,99 * * * *\": minute 99 is out of range 0-59");
  EXPECT_EQ(parse_error("99999999999999999999 * * * *"),
            "schedule \"99999999999999999999 * * * *\": minute 99999999999999999999 is out of "
            "range 0-59");
}

TEST(CronScheduleTest, ValuesThatAreNotNumbersOrNames) {
  EXPECT_EQ(parse_error("x * * * *"), "schedule \"x * * * *\": minute \"x\" is not a number");
  EXPECT_EQ(parse_error("0 MON * * *"), "schedule \"0 MON * * *\": hour \"MON\" is not a number");
  EXPECT_EQ(parse_error("0 0 -1 * *"),
            "schedule \"0 0 -1 * *\": day of month \"-1\" is not a range a-b");
  EXPECT_EQ(parse_error("0 0 1 JANUARY *"), "schedule \"0 0 1 JANUARY *\": month \"JANUARY\" is "
                                            "neither a number nor a month name (JAN-DEC)");
  EXPECT_EQ(parse_error("0 0 * * MOM"), "schedule \"0 0 * * MOM\": day of week \"MOM\" is "
                                        "neither a number nor a day name (SUN-SAT)");
  EXPECT_EQ(parse_error("0 0 * * MON-FRY"), "schedule \"0 0 * * MON-FRY\": day of week "
                                            "\"MON-FRY\": \"FRY\" is neither a number nor a day "
                                            "name (SUN-SAT)");
  EXPECT_EQ(parse_error("*-5 * * * *"),
            "schedule \"*-5 * * * *\": minute \"*-5\": \"*\" is not a number");
  EXPECT_EQ(parse_error("1.5 * * * *"), "schedule \"1.5 * * * *\": minute \"1.5\" is not a number");
  EXPECT_EQ(parse_error("+1 * * * *"), "schedule \"+1 * * * *\": minute \"+1\" is not a number");
}

TEST(CronScheduleTest, ListAndRangeShapeErrors) {
  EXPECT_EQ(parse_error("1,,2 * * * *"),
            "schedule \"1,,2 * * * *\": minute \"1,,2\" has an empty item");
  EXPECT_EQ(parse_error("1, * * * *"), "schedule \"1, * * * *\": minute \"1,\" has an empty item");
  EXPECT_EQ(parse_error(",1 * * * *"), "schedule \",1 * * * *\": minute \",1\" has an empty item");
  EXPECT_EQ(parse_error("0 9- * * *"), "schedule \"0 9- * * *\": hour \"9-\" is not a range a-b");
  EXPECT_EQ(parse_error("1-5-7 * * * *"),
            "schedule \"1-5-7 * * * *\": minute \"1-5-7\": \"5-7\" is not a number");
  EXPECT_EQ(parse_error("0 0 20-10 * *"),
            "schedule \"0 0 20-10 * *\": day of month range \"20-10\" runs backwards: its start "
            "is after its end");
  EXPECT_EQ(parse_error("0 0 * * FRI-MON"),
            "schedule \"0 0 * * FRI-MON\": day of week range \"FRI-MON\" runs backwards: its "
            "start is after its end");
  EXPECT_EQ(parse_error("0 0 1 DEC-JAN *"),
            "schedule \"0 0 1 DEC-JAN *\": month range \"DEC-JAN\" runs backwards: its start is "
            "after its end");
}

TEST(CronScheduleTest, StepErrors) {
  EXPECT_EQ(parse_error("5/15 * * * *"),
            "schedule \"5/15 * * * *\": minute \"5/15\" has a step without a range: write "
            "5-59/15");
  EXPECT_EQ(parse_error("0 0 * * MON/2"),
            "schedule \"0 0 * * MON/2\": day of week \"MON/2\" has a step without a range: write "
            "MON-7/2");
  EXPECT_EQ(parse_error("/5 * * * *"),
            "schedule \"/5 * * * *\": minute \"/5\" has nothing before its step: write */5");
  EXPECT_EQ(parse_error("*/x * * * *"),
            "schedule \"*/x * * * *\": minute step \"x\" in \"*/x\" is not a number");
  EXPECT_EQ(parse_error("*/ * * * *"),
            "schedule \"*/ * * * *\": minute step \"\" in \"*/\" is not a number");
  EXPECT_EQ(parse_error("*/5/2 * * * *"),
            "schedule \"*/5/2 * * * *\": minute step \"5/2\" in \"*/5/2\" is not a number");
  EXPECT_EQ(parse_error("*/0 * * * *"),
            "schedule \"*/0 * * * *\": minute step 0 in \"*/0\" is out of range 1-59");
  EXPECT_EQ(parse_error("*/60 * * * *"),
            "schedule \"*/60 * * * *\": minute step 60 in \"*/60\" is out of range 1-59");
  EXPECT_EQ(parse_error("0 1-10/24 * * *"),
            "schedule \"0 1-10/24 * * *\": hour step 24 in \"1-10/24\" is out of range 1-23");
  EXPECT_EQ(parse_error("0 0 1 */12 *"),
            "schedule \"0 0 1 */12 *\": month step 12 in \"*/12\" is out of range 1-11");
  EXPECT_EQ(parse_error("0 0 * * */8"),
            "schedule \"0 0 * * */8\": day of week step 8 in \"*/8\" is out of range 1-7");
}

TEST(CronScheduleTest, SchedulesThatNeverRunAreRejected) {
  EXPECT_EQ(parse_error("0 0 30 2 *"),
            "schedule \"0 0 30 2 *\" never runs: day of month 30 does not occur in February");
  EXPECT_EQ(parse_error("0 0 31 4,6,9,11 *"),
            "schedule \"0 0 31 4,6,9,11 *\" never runs: day of month 31 does not occur in April, "
            "June, September or November");
  EXPECT_EQ(parse_error("0 0 30,31 FEB */2"),
            "schedule \"0 0 30,31 FEB */2\" never runs: day of month 30,31 does not occur in "
            "February");
  // With both day fields restricted, any Monday of February will do.
  EXPECT_EQ(next_run("0 0 30 2 MON", "2026-04-29T00:00:00Z"), "2027-02-01T00:00:00Z");
}

} // namespace
} // namespace billdrop::core
