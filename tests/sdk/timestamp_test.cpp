#include <billdrop/timestamp.hpp>

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace billdrop {
namespace {

// Built by appending: GCC 12's -Wrestrict misfires on "\"" + std::string(...) + "\"".
std::string quote(std::string_view text) {
  std::string out(1, '"');
  out.append(text);
  out.push_back('"');
  return out;
}

std::string normalized(std::string_view text) {
  const Result<std::string> result = normalize_timestamp(text);
  return result.ok() ? result.value() : "error: " + result.error().message();
}

struct FormCase {
  const char* input;
  const char* expected;
};

class TimestampFormTest : public ::testing::TestWithParam<FormCase> {};

void PrintTo(const FormCase& c, std::ostream* out) {
  *out << '"' << c.input << '"';
}

TEST_P(TimestampFormTest, NormalizesToCbfForm) {
  EXPECT_EQ(normalized(GetParam().input), GetParam().expected) << GetParam().input;
}

INSTANTIATE_TEST_SUITE_P(TimestampHeaderForms, TimestampFormTest,
                         ::testing::Values(
                             // ISO date and date-time
                             FormCase{"2024-08-16", "2024-08-16T00:00:00Z"},
                             FormCase{"2024-08-16T05:00:00Z", "2024-08-16T05:00:00Z"},
                             FormCase{"2023-11-05T04:00:00Z", "2023-11-05T04:00:00Z"},
                             FormCase{"2023-11-05T04:00:00.000Z", "2023-11-05T04:00:00Z"},
                             FormCase{"2024-08-16T05:06:07.123456Z", "2024-08-16T05:06:07Z"},
                             FormCase{"2024-08-16T05:06:07.999999999Z", "2024-08-16T05:06:07Z"},
                             FormCase{"2024-08-16t05:00:00z", "2024-08-16T05:00:00Z"},
                             FormCase{"2024-08-16T05:00:00", "2024-08-16T05:00:00Z"},
                             // space separator, no zone
                             FormCase{"2018-06-20 01:00:00", "2018-06-20T01:00:00Z"},
                             FormCase{"2019-07-29 00:00:00", "2019-07-29T00:00:00Z"},
                             FormCase{"2024-08-16 05:00:00.123", "2024-08-16T05:00:00Z"},
                             // minutes precision
                             FormCase{"2024-08-16T05:00Z", "2024-08-16T05:00:00Z"},
                             FormCase{"2024-08-16T05:07", "2024-08-16T05:07:00Z"},
                             // numeric offsets
                             FormCase{"2020-11-09 23:00:00+00:00", "2020-11-09T23:00:00Z"},
                             FormCase{"2019-07-29 00:00:00.000000+00:00", "2019-07-29T00:00:00Z"},
                             FormCase{"2024-01-31T23:30:00-05:00", "2024-02-01T04:30:00Z"},
                             FormCase{"2024-08-16T05:00:00+0530", "2024-08-15T23:30:00Z"},
                             FormCase{"2024-08-16T05:00:00+05", "2024-08-16T00:00:00Z"},
                             FormCase{"2024-08-16T05:00:00-0930", "2024-08-16T14:30:00Z"},
                             FormCase{"2023-12-31T22:00:00-03:00", "2024-01-01T01:00:00Z"},
                             FormCase{"2024-03-01T01:00:00+02:00", "2024-02-29T23:00:00Z"},
                             FormCase{"2024-08-16 05:00:00 +02:00", "2024-08-16T03:00:00Z"},
                             FormCase{"2024-08-16T05:00+01:00", "2024-08-16T04:00:00Z"},
                             // trailing zone names
                             FormCase{"2025-09-16 00:00:00.000000 UTC", "2025-09-16T00:00:00Z"},
                             FormCase{"2025-09-16 00:00:00 GMT", "2025-09-16T00:00:00Z"},
                             FormCase{"2025-09-16T12:34:56 UTC", "2025-09-16T12:34:56Z"},
                             // compact, as in AWS manifests
                             FormCase{"20180801T000000.000Z", "2018-08-01T00:00:00Z"},
                             FormCase{"20180901T000000.000Z", "2018-09-01T00:00:00Z"},
                             FormCase{"20240816T123456Z", "2024-08-16T12:34:56Z"},
                             FormCase{"20240816T123456", "2024-08-16T12:34:56Z"},
                             FormCase{"20240816T123456+0100", "2024-08-16T11:34:56Z"},
                             // US month/day/year, as in Azure exports
                             FormCase{"08/16/2024", "2024-08-16T00:00:00Z"},
                             FormCase{"8/16/2024", "2024-08-16T00:00:00Z"},
                             FormCase{"9/2/2023", "2023-09-02T00:00:00Z"},
                             FormCase{"12/31/2023", "2023-12-31T00:00:00Z"},
                             FormCase{"8/16/2024 5:00:00 AM", "2024-08-16T05:00:00Z"},
                             FormCase{"8/16/2024 5:00:00 PM", "2024-08-16T17:00:00Z"},
                             FormCase{"8/16/2024 12:00:00 AM", "2024-08-16T00:00:00Z"},
                             FormCase{"8/16/2024 12:30:00 PM", "2024-08-16T12:30:00Z"},
                             FormCase{"8/16/2024 11:59:59 pm", "2024-08-16T23:59:59Z"},
                             FormCase{"8/16/2024 5:00 AM", "2024-08-16T05:00:00Z"},
                             FormCase{"8/16/2024 17:00:00", "2024-08-16T17:00:00Z"},
                             FormCase{"08/16/2024 05:00:00", "2024-08-16T05:00:00Z"},
                             // year first with slashes
                             FormCase{"2024/08/16", "2024-08-16T00:00:00Z"},
                             FormCase{"2024/8/6", "2024-08-06T00:00:00Z"},
                             FormCase{"2024/08/16 05:00:00", "2024-08-16T05:00:00Z"},
                             // calendar edges
                             FormCase{"2024-02-29", "2024-02-29T00:00:00Z"},
                             FormCase{"2000-02-29", "2000-02-29T00:00:00Z"},
                             FormCase{"1900-01-01", "1900-01-01T00:00:00Z"},
                             FormCase{"9999-12-31T23:59:59Z", "9999-12-31T23:59:59Z"},
                             FormCase{"1969-12-31T23:59:59Z", "1969-12-31T23:59:59Z"}));

TEST(TimestampParse, ProducesEpochSeconds) {
  // Values from an independent calendar (Python's datetime).
  EXPECT_EQ(parse_timestamp("1970-01-01T00:00:00Z")->seconds, 0);
  EXPECT_EQ(parse_timestamp("2024-08-16T05:00:00Z")->seconds, 1723784400);
  EXPECT_EQ(parse_timestamp("2000-03-01")->seconds, 951868800);
  EXPECT_EQ(parse_timestamp("1900-01-01")->seconds, -2208988800);
  EXPECT_EQ(parse_timestamp("9999-12-31 23:00:00")->seconds, 253402297200);
  EXPECT_EQ(parse_timestamp("1970-01-01T00:00:00+00:01")->seconds, -60);
}

TEST(TimestampParse, RejectsImpossibleDatesAndTimes) {
  for (const char* bad : {"2023-02-29",
                          "1900-02-29",
                          "2024-02-30",
                          "2024-04-31",
                          "2024-13-01",
                          "2024-00-10",
                          "2024-08-00",
                          "2024-08-32",
                          "2024-08-16T24:00:00Z",
                          "2024-08-16T23:60:00Z",
                          "2024-08-16T23:59:60Z",
                          "1899-12-31",
                          "0000-01-01",
                          "2024-08-16T05:00:00+24:00",
                          "2024-08-16T05:00:00+05:60",
                          "13/01/2024",
                          "2/30/2024",
                          "8/16/2024 13:00:00 PM",
                          "8/16/2024 0:00:00 AM",
                          "8/16/2024 24:00:00",
                          "20240230T000000Z",
                          "20240816T240000Z"}) {
    const Result<UtcTime> parsed = parse_timestamp(bad);
    EXPECT_FALSE(parsed.ok()) << "accepted " << bad;
    if (!parsed.ok()) {
      EXPECT_EQ(parsed.error().kind(), ErrorKind::data);
      EXPECT_NE(parsed.error().message().find(quote(bad)), std::string::npos)
          << parsed.error().message();
    }
  }
}

TEST(TimestampParse, RejectsUnknownFormsAndTrailingText) {
  for (const char* bad : {"",
                          " ",
                          "yesterday",
                          " 2024-08-16",
                          "2024-08-16 ",
                          "2024-08-16T05:00:00Z ",
                          "2024-08-16T05:00:00Zjunk",
                          "2024-08-16T05",
                          "2024-08-16T5:00:00",
                          "2024-08-16T05:0",
                          "2024-8-16",
                          "2024-08-6",
                          "24-08-16",
                          "2024-08-16T05:00:00.Z",
                          "2024-08-16T05:00:00+",
                          "2024-08-16T05:00:00+5",
                          "2024-08-16T05:00:00+05:0",
                          "2024-08-16T05:00:00 EST",
                          "2024-08-16Z",
                          "16.08.2024",
                          "8/16/24",
                          "8-16-2024",
                          "8/16/2024T05:00:00",
                          "20240816",
                          "20240816T0500Z",
                          "2024-08-16 05:00:00 UTC junk",
                          "2024-08-16  05:00:00",
                          "8/16/2024 5:00:00 XM",
                          "1723784400"}) {
    const Result<UtcTime> parsed = parse_timestamp(bad);
    EXPECT_FALSE(parsed.ok()) << "accepted \"" << bad << "\"";
  }
}

TEST(TimestampParse, ErrorsQuoteTheInputAndSayWhatIsAccepted) {
  const std::string form = parse_timestamp("16.08.2024").error().message();
  EXPECT_NE(form.find("\"16.08.2024\""), std::string::npos) << form;
  EXPECT_NE(form.find("2024-08-16T05:00:00Z"), std::string::npos) << form;
  EXPECT_NE(form.find("8/16/2024 5:00:00 AM"), std::string::npos) << form;
  EXPECT_NE(form.find("20240816T050000Z"), std::string::npos) << form;

  const std::string date = parse_timestamp("2023-02-29").error().message();
  EXPECT_NE(date.find("2023-02-29 is not a calendar date"), std::string::npos) << date;

  const std::string hour = parse_timestamp("2024-08-16T24:00:00Z").error().message();
  EXPECT_NE(hour.find("hour 24"), std::string::npos) << hour;

  const std::string year = parse_timestamp("1899-12-31").error().message();
  EXPECT_NE(year.find("1899"), std::string::npos) << year;
  EXPECT_NE(year.find("1900-9999"), std::string::npos) << year;
}

TEST(TimestampHourStart, FloorsToTheHour) {
  EXPECT_EQ(parse_timestamp("2024-08-16T05:59:59Z")->hour_start(),
            parse_timestamp("2024-08-16T05:00:00Z")->seconds);
  EXPECT_EQ(parse_timestamp("2024-08-16T05:00:00Z")->hour_start(),
            parse_timestamp("2024-08-16T05:00:00Z")->seconds);
  // Before 1970 the floor goes down, not toward zero.
  EXPECT_EQ(UtcTime{-1}.hour_start(), -3600);
  EXPECT_EQ(UtcTime{-3600}.hour_start(), -3600);
  EXPECT_EQ(UtcTime{-3601}.hour_start(), -7200);
}

TEST(TimestampCalendar, DaysFromCivilKnownValues) {
  EXPECT_EQ(days_from_civil(1970, 1, 1), 0);
  EXPECT_EQ(days_from_civil(1969, 12, 31), -1);
  EXPECT_EQ(days_from_civil(2000, 3, 1), 11017);
  EXPECT_EQ(days_from_civil(2024, 8, 1), 19936);
  EXPECT_EQ(days_from_civil(1900, 1, 1), -25567);
}

TEST(TimestampCalendar, LeapYears) {
  EXPECT_TRUE(is_valid_date(2024, 2, 29));
  EXPECT_TRUE(is_valid_date(2000, 2, 29));
  EXPECT_TRUE(is_valid_date(2400, 2, 29));
  EXPECT_FALSE(is_valid_date(2023, 2, 29));
  EXPECT_FALSE(is_valid_date(1900, 2, 29));
  EXPECT_FALSE(is_valid_date(2100, 2, 29));
  EXPECT_FALSE(is_valid_date(2024, 4, 31));
  EXPECT_TRUE(is_valid_date(2024, 12, 31));
  EXPECT_FALSE(is_valid_date(2024, 0, 1));
  EXPECT_FALSE(is_valid_date(2024, 13, 1));
  EXPECT_FALSE(is_valid_date(2024, 1, 0));
}

// The day after year-month-day, from a month-length table written out here, independent of the
// library's calendar.
void next_day(int& year, int& month, int& day) {
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  const int lengths[] = {31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (++day > lengths[month - 1]) {
    day = 1;
    if (++month > 12) {
      month = 1;
      ++year;
    }
  }
}

TEST(TimestampCalendar, EveryDayFrom1900To2100FormatsAndParsesBack) {
  // Walk the calendar with next_day(), independent of the library.
  int year = 1900;
  int month = 1;
  int day = 1;
  const std::int64_t first = days_from_civil(1900, 1, 1);
  for (std::int64_t days = first; year <= 2100; ++days) {
    char expected[64];
    std::snprintf(expected, sizeof expected, "%04d-%02d-%02dT00:00:00Z", year, month, day);
    const UtcTime time{days * 86400};
    ASSERT_EQ(format_iso(time), expected);
    ASSERT_EQ(days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)),
              days);
    ASSERT_EQ(parse_timestamp(std::string(expected, 10))->seconds, time.seconds);

    next_day(year, month, day);
  }
}

// 2024-08-01T00:00:00Z and 2024-08-01 00:00:00 have fast paths of their own: every day from 1900
// to 2100, at a clock time that varies with the day, must read as the seconds counted here, in
// both forms and in one only the general scanner reads (with an offset).
TEST(TimestampParse, CanonicalUtcFormAgreesWithTheCalendarAndTheGeneralForms) {
  int year = 1900;
  int month = 1;
  int day = 1;
  std::int64_t days = days_from_civil(1900, 1, 1);
  for (int n = 0; year <= 2100; ++n, ++days) {
    const int hour = n % 24;
    const int minute = n * 7 % 60;
    const int second = n * 13 % 60;
    char canonical[48]; // room for any int, so GCC sees no truncation
    char plain[48];
    char general[48];
    std::snprintf(canonical, sizeof canonical, "%04d-%02d-%02dT%02d:%02d:%02dZ", year, month, day,
                  hour, minute, second);
    std::snprintf(plain, sizeof plain, "%04d-%02d-%02d %02d:%02d:%02d", year, month, day, hour,
                  minute, second);
    std::snprintf(general, sizeof general, "%04d-%02d-%02dT%02d:%02d:%02d+00:00", year, month, day,
                  hour, minute, second);
    const std::int64_t expected = days * 86400 + hour * 3600 + minute * 60 + second;
    const Result<UtcTime> parsed = parse_timestamp(canonical);
    ASSERT_TRUE(parsed.ok()) << canonical;
    ASSERT_EQ(parsed->seconds, expected) << canonical;
    ASSERT_EQ(parse_timestamp(plain)->seconds, expected) << plain;
    plain[10] = 'T';
    ASSERT_EQ(parse_timestamp(plain)->seconds, expected) << plain;
    ASSERT_EQ(parse_timestamp(general)->seconds, expected) << general;

    next_day(year, month, day);
  }
}

TEST(TimestampParse, OnlyTheCanonicalFormIsCanonical) {
  EXPECT_EQ(parse_canonical_timestamp("2024-02-29T23:59:59Z")->seconds, 1709251199); // timegm
  for (const char* other : {"2024-02-29t23:59:59z", "2024-02-29 23:59:59", "2024-02-29T23:59:59.0Z",
                            "2024-02-29T23:59:59+00:00", "2024-02-29"}) {
    EXPECT_FALSE(parse_canonical_timestamp(other).has_value()) << other;
    EXPECT_EQ(parse_timestamp(other)->seconds,
              1709251199 - (std::string_view(other).size() == 10 ? 86399 : 0))
        << other;
  }
  for (const char* bad : {"2023-02-29T00:00:00Z", "2024-08-16T24:00:00Z", "1899-12-31T23:59:59Z",
                          " 2024-02-29T23:59:59Z", "2024-02-29T23:59:59Z "})
    EXPECT_FALSE(parse_canonical_timestamp(bad).has_value()) << bad;
}

TEST(TimestampParse, CanonicalUtcShapedTextIsCheckedLikeAnyOther) {
  const std::pair<const char*, const char*> cases[] = {
      {"2024-02-30T00:00:00Z", "2024-02-30 is not a calendar date"},
      {"2023-02-29T05:00:00Z", "2023-02-29 is not a calendar date"},
      {"2024-13-01T00:00:00Z", "2024-13-01 is not a calendar date"},
      {"2024-08-00T00:00:00Z", "2024-08-00 is not a calendar date"},
      {"2024-08-16T24:00:00Z", "the hour 24 is outside 00-23"},
      {"2024-08-16T23:60:00Z", "the minute 60 is outside 00-59"},
      {"2024-08-16T23:59:60Z", "the second 60 is outside 00-59"},
      {"1899-12-31T23:59:59Z", "the year 1899 is outside 1900-9999"},
  };
  for (const auto& [canonical, why] : cases) {
    // The same time without a zone, with a space or a T, takes the other fast path.
    std::string plain = std::string(canonical).substr(0, 19);
    std::string spaced = plain;
    spaced[10] = ' ';
    for (const std::string& text : {std::string(canonical), plain, spaced}) {
      const Result<UtcTime> parsed = parse_timestamp(text);
      ASSERT_FALSE(parsed.ok()) << text;
      EXPECT_EQ(parsed.error().message(), quote(text) + " is not a valid timestamp: " + why);
    }
  }
  // Not digits where digits belong: the general scanner's verdict, a form it does not read.
  for (const char* text : {"2024-0a-16T00:00:00Z", "2024-08-16T00:00:0 Z", "+024-08-16T00:00:00Z",
                           "2024-0a-16 00:00:00", "2024-08-16 00:00:0 ", "+024-08-16T00:00:00",
                           "2024-08-16 00:00:0Z"}) {
    const Result<UtcTime> parsed = parse_timestamp(text);
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_EQ(parsed.error().message().rfind(quote(text) + " is not a timestamp billdrop reads", 0),
              0u)
        << parsed.error().message();
  }
  // Lower-case t and z are still read (by the general scanner).
  EXPECT_EQ(parse_timestamp("2024-08-16t05:00:00z")->seconds, 1723784400);
}

TEST(TimestampFormat, CanonicalTextFromTheTextsOwnDigits) {
  char buffer[20];
  const std::string_view canonical = "2018-06-20T01:00:00Z";
  EXPECT_EQ(canonical_utc_text(canonical, buffer).data(), canonical.data()); // itself, no copy
  EXPECT_EQ(canonical_utc_text("2018-06-20 01:00:00", buffer), "2018-06-20T01:00:00Z");
  EXPECT_EQ(canonical_utc_text("2018-06-20T01:00:00", buffer), "2018-06-20T01:00:00Z");
  for (const char* other : {"2018-06-20", "2018-06-20 1:00:00", "2018-06-20 01:00:00.5",
                            "2018-06-20T01:00:00+00:00", "2018-0a-20 01:00:00", "06/20/2018"})
    EXPECT_TRUE(canonical_utc_text(other, buffer).empty()) << other;
}

TEST(TimestampFormat, WritesTheCbfForm) {
  EXPECT_EQ(format_iso(UtcTime{0}), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_iso(UtcTime{1723784400 + 3723}), "2024-08-16T06:02:03Z");
  EXPECT_EQ(format_iso(UtcTime{-1}), "1969-12-31T23:59:59Z");
  std::string out = "t=";
  append_iso(out, UtcTime{951868800});
  EXPECT_EQ(out, "t=2000-03-01T00:00:00Z");
}

TEST(TimestampNormalize, ReturnsTheParseError) {
  const Result<std::string> result = normalize_timestamp("2024-02-30");
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message().find("\"2024-02-30\""), std::string::npos);
}

struct FormatCase {
  const char* text;
  const char* format;
  const char* expected;
};

class TimestampWithFormatTest : public ::testing::TestWithParam<FormatCase> {};

// ctest lists a case by its input, not by the bytes of the parameter struct.
void PrintTo(const FormatCase& c, std::ostream* out) {
  *out << '"' << c.text << "\" with \"" << c.format << '"';
}

TEST_P(TimestampWithFormatTest, Parses) {
  const FormatCase& c = GetParam();
  const Result<UtcTime> parsed = parse_timestamp(c.text, c.format);
  ASSERT_TRUE(parsed.ok()) << c.text << " / " << c.format << ": " << parsed.error().message();
  EXPECT_EQ(format_iso(*parsed), c.expected) << c.text << " / " << c.format;
}

INSTANTIATE_TEST_SUITE_P(
    TimestampDirectives, TimestampWithFormatTest,
    ::testing::Values(
        FormatCase{"16/08/2024 05:30", "%d/%m/%Y %H:%M", "2024-08-16T05:30:00Z"},
        FormatCase{"6/8/2024 5:30", "%d/%m/%Y %H:%M", "2024-08-06T05:30:00Z"},
        FormatCase{"Aug 16 2024 5:30:00 PM", "%b %d %Y %I:%M:%S %p", "2024-08-16T17:30:00Z"},
        FormatCase{"aug 16 2024 12:15:00 am", "%b %d %Y %I:%M:%S %p", "2024-08-16T00:15:00Z"},
        FormatCase{"DEC 31 2023 12:00:00 PM", "%b %d %Y %I:%M:%S %p", "2023-12-31T12:00:00Z"},
        FormatCase{"2024-08-16T05:30:00.123+02:00", "%Y-%m-%dT%H:%M:%S.%f%z",
                   "2024-08-16T03:30:00Z"},
        FormatCase{"2024-08-16T05:30:00.5-0100", "%Y-%m-%dT%H:%M:%S.%f%z", "2024-08-16T06:30:00Z"},
        FormatCase{"2024-08-16T05:30:00Z", "%Y-%m-%dT%H:%M:%S%z", "2024-08-16T05:30:00Z"},
        FormatCase{"20240816", "%Y%m%d", "2024-08-16T00:00:00Z"},
        FormatCase{"Aug  6 2024", "%b %e %Y", "2024-08-06T00:00:00Z"},
        FormatCase{"Aug 16 2024", "%b %e %Y", "2024-08-16T00:00:00Z"},
        FormatCase{"100% 2024", "100%% %Y", "2024-01-01T00:00:00Z"},
        FormatCase{"2024.08", "%Y.%m", "2024-08-01T00:00:00Z"}));

TEST(TimestampWithFormat, RejectsTextThatDoesNotMatch) {
  const Result<UtcTime> wrong = parse_timestamp("2024-08-16", "%d/%m/%Y");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().kind(), ErrorKind::data);
  EXPECT_NE(wrong.error().message().find("\"2024-08-16\""), std::string::npos);
  EXPECT_NE(wrong.error().message().find("\"%d/%m/%Y\""), std::string::npos);
  EXPECT_NE(wrong.error().message().find("at character 3"), std::string::npos)
      << wrong.error().message();

  EXPECT_FALSE(parse_timestamp("2024-08-16x", "%Y-%m-%d").ok());
  EXPECT_FALSE(parse_timestamp("2024-08", "%Y-%m-%d").ok());
  EXPECT_FALSE(parse_timestamp("Foo 16 2024", "%b %d %Y").ok());
  EXPECT_FALSE(parse_timestamp("8/16/2024 5:00:00 XM", "%m/%d/%Y %I:%M:%S %p").ok());
  EXPECT_FALSE(parse_timestamp("2024-08-16 05:3", "%Y-%m-%d %H:%M").ok());
  EXPECT_FALSE(parse_timestamp("2024-08-16 05:30+5", "%Y-%m-%d %H:%M%z").ok());
}

TEST(TimestampWithFormat, ValidatesTheFields) {
  const Result<UtcTime> leap = parse_timestamp("2023-02-29", "%Y-%m-%d");
  ASSERT_FALSE(leap.ok());
  EXPECT_NE(leap.error().message().find("not a calendar date"), std::string::npos);
  EXPECT_FALSE(parse_timestamp("2024-08-16 24:00", "%Y-%m-%d %H:%M").ok());
  EXPECT_FALSE(parse_timestamp("2024-08-16 13:00 PM", "%Y-%m-%d %I:%M %p").ok());
  EXPECT_FALSE(parse_timestamp("2024-08-16 05:61", "%Y-%m-%d %H:%M").ok());
  EXPECT_FALSE(parse_timestamp("1800-08-16", "%Y-%m-%d").ok());
}

TEST(TimestampWithFormat, RejectsUnusableFormatsAsConfigErrors) {
  for (const char* format : {"%Y-%Q", "%Y %", "%m/%d", "%Y %H %p", "%Y-%j"}) {
    const Result<UtcTime> parsed = parse_timestamp("2024-08-16", format);
    ASSERT_FALSE(parsed.ok()) << format;
    EXPECT_EQ(parsed.error().kind(), ErrorKind::config) << format;
    EXPECT_NE(parsed.error().message().find(quote(format)), std::string::npos)
        << parsed.error().message();
  }
}

TEST(MonthParse, AcceptsYearMonthAndFirstInstants) {
  for (const char* text : {"2024-08", "2024-08-01T00:00:00Z", "2024-08-01", "2024-08-01 00:00:00",
                           "2024-08-01T00:00:00.000Z", "2024-08-01T02:00:00+02:00"}) {
    const Result<Month> month = Month::parse(text);
    ASSERT_TRUE(month.ok()) << text << ": " << month.error().message();
    EXPECT_EQ(month->year(), 2024) << text;
    EXPECT_EQ(month->month(), 8) << text;
  }
  EXPECT_EQ(Month::parse("1999-12")->to_string(), "1999-12");
}

TEST(MonthParse, RejectsOtherText) {
  const Result<Month> thirteen = Month::parse("2024-13");
  ASSERT_FALSE(thirteen.ok());
  EXPECT_NE(thirteen.error().message().find("\"2024-13\""), std::string::npos);
  EXPECT_NE(thirteen.error().message().find("month 13"), std::string::npos)
      << thirteen.error().message();

  const Result<Month> mid_month = Month::parse("2024-08-05T00:00:00Z");
  ASSERT_FALSE(mid_month.ok());
  EXPECT_NE(mid_month.error().message().find("\"2024-08-05T00:00:00Z\""), std::string::npos);
  EXPECT_NE(mid_month.error().message().find("not the first instant of a month"), std::string::npos)
      << mid_month.error().message();

  for (const char* bad :
       {"", "2024-00", "2024-8", "2024-08-01T00:00:01Z", "2024-08-01T00:00:00+02:00", "2024/08",
        "202408", "1899-12", "2024-08 ", "August 2024"}) {
    const Result<Month> month = Month::parse(bad);
    EXPECT_FALSE(month.ok()) << "accepted \"" << bad << "\"";
    if (!month.ok()) {
      EXPECT_NE(month.error().message().find("2024-08"), std::string::npos)
          << month.error().message();
    }
  }
}

TEST(MonthNavigation, NextAndPreviousCrossYears) {
  EXPECT_EQ(Month(2024, 12).next(), Month(2025, 1));
  EXPECT_EQ(Month(2024, 8).next(), Month(2024, 9));
  EXPECT_EQ(Month(2025, 1).previous(), Month(2024, 12));
  EXPECT_EQ(Month(2024, 3).previous(), Month(2024, 2));
  EXPECT_LT(Month(2024, 12), Month(2025, 1));
  EXPECT_EQ(Month(2024, 8).to_string(), "2024-08");
  EXPECT_EQ(Month(2025, 12).to_string(), "2025-12");
}

TEST(MonthNavigation, FirstInstantAndOf) {
  EXPECT_EQ(Month(2024, 8).first_instant().seconds, 1722470400);
  EXPECT_EQ(format_iso(Month(2024, 2).first_instant()), "2024-02-01T00:00:00Z");
  EXPECT_EQ(Month::of(*parse_timestamp("2024-02-29T23:59:59Z")), Month(2024, 2));
  EXPECT_EQ(Month::of(*parse_timestamp("2024-03-01T00:00:00Z")), Month(2024, 3));
  EXPECT_EQ(Month::of(UtcTime{-1}), Month(1969, 12));
}

TEST(MonthNavigation, ContainsIsHalfOpen) {
  const Month august(2024, 8);
  EXPECT_TRUE(august.contains(*parse_timestamp("2024-08-01T00:00:00Z")));
  EXPECT_TRUE(august.contains(*parse_timestamp("2024-08-31T23:59:59Z")));
  EXPECT_TRUE(august.contains(*parse_timestamp("2024-08-16 05:00:00")));
  EXPECT_FALSE(august.contains(*parse_timestamp("2024-09-01T00:00:00Z")));
  EXPECT_FALSE(august.contains(*parse_timestamp("2024-07-31T23:59:59Z")));
  // 2024-09-01T01:00+02:00 is still August in UTC.
  EXPECT_TRUE(august.contains(*parse_timestamp("2024-09-01T01:00:00+02:00")));
}

} // namespace
} // namespace billdrop
