// Minor units: ISO 4217 exponents and the one rounding of sync totals (half to even).
#include "billing/money.hpp"

#include <gtest/gtest.h>

namespace billdrop::billing {
namespace {

TEST(BillingMoney, ExponentsFollowIso4217) {
  EXPECT_EQ(currency_exponent("USD"), 2);
  EXPECT_EQ(currency_exponent("EUR"), 2);
  EXPECT_EQ(currency_exponent("JPY"), 0);
  EXPECT_EQ(currency_exponent("KRW"), 0);
  EXPECT_EQ(currency_exponent("KWD"), 3);
  EXPECT_EQ(currency_exponent("BHD"), 3);
  EXPECT_EQ(currency_exponent("CLF"), 4);
  EXPECT_EQ(currency_exponent("usd"), std::nullopt); // codes are upper case
  EXPECT_EQ(currency_exponent("XAU"), std::nullopt); // gold has no minor unit
  EXPECT_EQ(currency_exponent("ABC"), std::nullopt);
  EXPECT_EQ(currency_exponent("USDX"), std::nullopt);
}

std::optional<std::int64_t> minor(const char* text, int exponent) {
  return to_minor_units(Decimal::from_string(text), exponent);
}

TEST(BillingMoney, RoundsHalfToEven) {
  EXPECT_EQ(minor("12.345", 2), 1234); // half: to the even cent
  EXPECT_EQ(minor("12.355", 2), 1236);
  EXPECT_EQ(minor("12.3451", 2), 1235); // above half
  EXPECT_EQ(minor("12.3449999", 2), 1234);
  EXPECT_EQ(minor("0.005", 2), 0);
  EXPECT_EQ(minor("0.015", 2), 2);
  EXPECT_EQ(minor("-0.015", 2), -2);
  EXPECT_EQ(minor("-12.345", 2), -1234);
  EXPECT_EQ(minor("1050", 2), 105000);
  EXPECT_EQ(minor("10.5", 0), 10); // JPY
  EXPECT_EQ(minor("11.5", 0), 12);
  EXPECT_EQ(minor("1.0005", 3), 1000); // KWD
  EXPECT_EQ(minor("0.000001", 2), 0);
  EXPECT_EQ(minor("5e-1", 0), 0);
  EXPECT_EQ(minor("1.5e1", 2), 1500);
}

TEST(BillingMoney, RefusesWhatDoesNotFit) {
  EXPECT_EQ(minor("92233720368547758.08", 2), std::nullopt);
  EXPECT_EQ(minor("92233720368547758.07", 2), INT64_MAX);
}

} // namespace
} // namespace billdrop::billing
