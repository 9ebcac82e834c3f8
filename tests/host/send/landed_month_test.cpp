// LandedMonth::add_row: exact sums by the hour of time/usage_start, and a bad row counted nowhere.
#include "send/landed_month.hpp"

#include <gtest/gtest.h>

#include <string>

namespace billdrop::send {
namespace {

TEST(LandedMonth, SumsExactlyByHour) {
  LandedMonth month;
  ASSERT_TRUE(month.add_row("2026-08-01T00:00:00Z", "0.1").ok());
  ASSERT_TRUE(month.add_row("2026-08-01T00:59:59Z", "0.2").ok());
  ASSERT_TRUE(month.add_row("2026-08-01T01:00:00Z", "-0.000001").ok());
  // Any form parse_timestamp accepts, converted to UTC before the hour is taken.
  ASSERT_TRUE(month.add_row("2026-08-01 03:30:00+02:00", "5e-6").ok());
  EXPECT_EQ(month.rows, 4u);
  EXPECT_EQ(month.cost, Decimal::from_string("0.300004"));
  ASSERT_EQ(month.hours.size(), 2u);
  EXPECT_EQ(month.hours.at("2026-08-01T00"), (cbf::HourTotals{2, Decimal::from_string("0.3")}));
  EXPECT_EQ(month.hours.at("2026-08-01T01"),
            (cbf::HourTotals{2, Decimal::from_string("0.000004")}));
}

TEST(LandedMonth, ABadRowIsNamedAndCountedNowhere) {
  LandedMonth month;
  ASSERT_TRUE(month.add_row("2026-08-01T00:00:00Z", "1").ok());
  const LandedMonth before = month;

  const Status bad_cost = month.add_row("2026-08-01T00:00:00Z", "1,5");
  ASSERT_FALSE(bad_cost.ok());
  EXPECT_EQ(bad_cost.error().message().rfind("cost/cost: ", 0), 0u) << bad_cost.error().message();
  const Status bad_time = month.add_row("2026-13-01T00:00:00Z", "1");
  ASSERT_FALSE(bad_time.ok());
  EXPECT_EQ(bad_time.error().message().rfind("time/usage_start: ", 0), 0u)
      << bad_time.error().message();
  EXPECT_EQ(month, before);

  // A total past Decimal's 76 digits is refused, never rounded.
  LandedMonth large;
  const std::string nines(Decimal::max_digits, '9');
  ASSERT_TRUE(large.add_row("2026-08-02T00:00:00Z", nines).ok());
  const LandedMonth one_row = large;
  const Status overflow = large.add_row("2026-08-02T00:00:00Z", "1");
  ASSERT_FALSE(overflow.ok());
  EXPECT_NE(overflow.error().message().find("does not round money"), std::string::npos)
      << overflow.error().message();
  EXPECT_EQ(large, one_row);
}

} // namespace
} // namespace billdrop::send
