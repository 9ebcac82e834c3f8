// The API's times: whole UTC days and ISO 8601 times with milliseconds.
#include "billing/utc_time.hpp"

#include <gtest/gtest.h>

namespace billdrop::billing {
namespace {

TEST(BillingTime, FormatsMilliseconds) {
  EXPECT_EQ(format_utc_ms(0), "1970-01-01T00:00:00.000Z");
  // 2026-03-05 is day 20517 (1970-01-01 + 56 years: 14 leap days).
  const std::int64_t day = 20517;
  EXPECT_EQ(format_day(day), "2026-03-05");
  EXPECT_EQ(format_utc_ms(day * ms_per_day + 12 * 3'600'000 + 7), "2026-03-05T12:00:00.007Z");
  EXPECT_EQ(format_month(day * ms_per_day), "2026-03");
}

TEST(BillingTime, ParsesDaysStrictly) {
  EXPECT_EQ(parse_day("2026-03-05"), 20517 * ms_per_day);
  EXPECT_EQ(parse_day("2024-02-29"), days_from_civil(2024, 2, 29) * ms_per_day);
  EXPECT_EQ(parse_day("2023-02-29"), std::nullopt);
  EXPECT_EQ(parse_day("2026-13-01"), std::nullopt);
  EXPECT_EQ(parse_day("2026-3-5"), std::nullopt);
  EXPECT_EQ(parse_day("2026-03-05T00:00:00Z"), std::nullopt);
  EXPECT_EQ(parse_day("1969-12-31"), std::nullopt);
  EXPECT_EQ(parse_day("not a day"), std::nullopt);
}

TEST(BillingTime, ParsesInstants) {
  const std::int64_t noon = 20517 * ms_per_day + 12 * 3'600'000;
  EXPECT_EQ(parse_instant("2026-03-05T12:00:00.000Z"), noon);
  EXPECT_EQ(parse_instant("2026-03-05T12:00:00Z"), noon);
  EXPECT_EQ(parse_instant("2026-03-05T12:00:00.5Z"), noon + 500);
  EXPECT_EQ(parse_instant("2026-03-05T13:30:00+01:30"), noon);
  EXPECT_EQ(parse_instant("2026-03-05"), 20517 * ms_per_day);
  EXPECT_EQ(parse_instant("2026-03-05T12:00:00.0001Z"), std::nullopt); // finer than ms
  EXPECT_EQ(parse_instant("2026-03-05T24:00:00Z"), std::nullopt);
  EXPECT_EQ(parse_instant("2026-03-05T12:00:00"), std::nullopt); // a zone is required
  EXPECT_EQ(parse_instant("2026-03-05 12:00:00Z"), std::nullopt);
}

} // namespace
} // namespace billdrop::billing
