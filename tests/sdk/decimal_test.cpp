#include <billdrop/decimal.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace billdrop {
namespace {

// Built by appending: GCC 12's -Wrestrict misfires on "\"" + std::string(...) + "\"".
std::string quote(std::string_view text) {
  std::string out(1, '"');
  out.append(text);
  out.push_back('"');
  return out;
}

Decimal dec(std::string_view text) {
  return Decimal::from_string(text);
}

struct ParseCase {
  const char* input;
  const char* printed;
  std::int64_t coefficient;
  int scale;
};

class DecimalParseTest : public ::testing::TestWithParam<ParseCase> {};

TEST_P(DecimalParseTest, ParsesToExactCoefficientScaleAndText) {
  const ParseCase& c = GetParam();
  const Result<Decimal> parsed = Decimal::parse(c.input);
  ASSERT_TRUE(parsed.ok()) << c.input << ": " << parsed.error().message();
  EXPECT_EQ(parsed->to_string(), c.printed) << c.input;
  ASSERT_TRUE(parsed->int128_coefficient().has_value()) << c.input;
  EXPECT_TRUE(*parsed->int128_coefficient() == c.coefficient) << c.input;
  EXPECT_EQ(parsed->scale(), c.scale) << c.input;
}

INSTANTIATE_TEST_SUITE_P(
    DecimalForms, DecimalParseTest,
    ::testing::Values(
        ParseCase{"12", "12", 12, 0}, ParseCase{"-0.5", "-0.5", -5, 1}, ParseCase{"+3.", "3", 3, 0},
        ParseCase{".25", "0.25", 25, 2}, ParseCase{"-.25", "-0.25", -25, 2},
        ParseCase{"12.50", "12.50", 1250, 2}, ParseCase{"007.5", "7.5", 75, 1},
        ParseCase{"0", "0", 0, 0}, ParseCase{"-0", "0", 0, 0}, ParseCase{"+0", "0", 0, 0},
        ParseCase{"-0.00", "0.00", 0, 2}, ParseCase{"000", "0", 0, 0},
        ParseCase{"100", "100", 100, 0}, ParseCase{"1.0", "1.0", 10, 1},
        ParseCase{"0.0000123400", "0.0000123400", 123400, 10},
        ParseCase{"1234.56", "1234.56", 123456, 2},
        // Exponents: the scale absorbs a negative exponent, a positive one folds
        // into the coefficient.
        ParseCase{"5e-06", "0.000005", 5, 6}, ParseCase{"-5E-06", "-0.000005", -5, 6},
        ParseCase{"1.5E3", "1500", 1500, 0}, ParseCase{"1.2E+3", "1200", 1200, 0},
        ParseCase{"1.50E3", "1500", 1500, 0}, ParseCase{"1e0", "1", 1, 0},
        ParseCase{"1.23e-2", "0.0123", 123, 4}, ParseCase{"123.456e1", "1234.56", 123456, 2},
        ParseCase{"123.456e3", "123456", 123456, 0}, ParseCase{"12.5e-1", "1.25", 125, 2},
        ParseCase{"2.50e-1", "0.250", 250, 3}, ParseCase{"0e5", "0", 0, 0},
        ParseCase{"0.0e-3", "0.0000", 0, 4}, ParseCase{"-1.25e+01", "-12.5", -125, 1},
        ParseCase{"9223372036854775807", "9223372036854775807",
                  std::numeric_limits<std::int64_t>::max(), 0}));

// Short plain text takes a fast path; text with an exponent of zero denotes the same number and
// takes the general one. Both must give the same coefficient, scale and text, around the fast
// path's 18-digit bound too.
TEST(DecimalParse, ShortPlainTextReadsAsTheGeneralPathReadsIt) {
  std::mt19937_64 rng(11);
  const auto digits = [&](int count, bool zeros) {
    std::string out;
    for (int i = 0; i < count; ++i)
      out += static_cast<char>('0' + (zeros ? 0 : rng() % 10));
    return out;
  };
  std::vector<std::string> texts{"0",
                                 "-0",
                                 "-0.000",
                                 "000",
                                 "007.5",
                                 "00.10",
                                 "12.50",
                                 "999999999999999999",
                                 "-999999999999999999",
                                 "9999999999999999999",
                                 "0.000000000000000001",
                                 "1.00000000000000000",
                                 "-",
                                 ".",
                                 "1.2.3",
                                 "1-2",
                                 "--1"};
  for (int i = 0; i < 5000; ++i) {
    const bool zeros = rng() % 6 == 0;
    std::string text = rng() % 3 == 0 ? "-" : "";
    text += digits(static_cast<int>(rng() % 12), zeros);
    if (rng() % 2 == 0)
      text.append(".").append(digits(static_cast<int>(rng() % 12), zeros));
    texts.push_back(text);
  }
  for (const std::string& text : texts) {
    const Result<Decimal> fast = Decimal::parse(text);
    const Result<Decimal> general = Decimal::parse(text + "e0");
    ASSERT_EQ(fast.ok(), general.ok()) << text;
    if (!fast.ok())
      continue;
    EXPECT_EQ(fast->to_string(), general->to_string()) << text;
    EXPECT_EQ(fast->scale(), general->scale()) << text;
    EXPECT_TRUE(fast->int128_coefficient() == general->int128_coefficient()) << text;
  }
  // Independently of either path: the hand-read coefficient and scale of a few.
  EXPECT_TRUE(Decimal::parse("-0.0622600000")->int128_coefficient() == -622600000);
  EXPECT_EQ(Decimal::parse("-0.0622600000")->scale(), 10);
  EXPECT_TRUE(Decimal::parse("999999999999999999")->int128_coefficient() ==
              999'999'999'999'999'999);
}

TEST(DecimalParse, HoldsThirtyEightDigits) {
  const std::string nines(38, '9');
  EXPECT_EQ(dec(nines).to_string(), nines);
  EXPECT_EQ(dec("-" + nines).to_string(), "-" + nines);

  const std::string fraction = "0.12345678901234567890123456789012345678";
  EXPECT_EQ(dec(fraction).to_string(), fraction);
  EXPECT_EQ(dec(fraction).scale(), 38);

  const std::string mixed = "-1234567890123456789.0123456789012345678";
  EXPECT_EQ(dec(mixed).to_string(), mixed);

  // 38 digits need the 128-bit path: check the coefficient, not just the text.
  __extension__ typedef __int128 I128;
  I128 expected = 0;
  for (int i = 0; i < 38; ++i)
    expected = expected * 10 + 9;
  EXPECT_TRUE(dec(nines).int128_coefficient() == expected);
  EXPECT_TRUE(dec("1e37").int128_coefficient() == (expected + 1) / 10); // 10^37
}

TEST(DecimalParse, HoldsSeventySixDigits) {
  const std::string nines(76, '9');
  EXPECT_EQ(dec(nines).to_string(), nines);
  EXPECT_EQ(dec("-" + nines).to_string(), "-" + nines);
  const std::string fraction = "0." + std::string(75, '0') + "1";
  EXPECT_EQ(dec(fraction).to_string(), fraction);
  EXPECT_EQ(dec(fraction).scale(), 76);
  const std::string mixed = "-" + std::string("1234567890123456789012345678901234567890") + "." +
                            "987654321098765432109876543210123456";
  EXPECT_EQ(dec(mixed).to_string(), mixed);
  // Past 128 bits the coefficient has no int128 form.
  EXPECT_FALSE(dec(nines).int128_coefficient().has_value());
  EXPECT_FALSE(dec("1" + std::string(39, '0')).int128_coefficient().has_value());
  // 2^127 - 1 is the largest int128; 2^127 is not one.
  EXPECT_TRUE(dec("170141183460469231731687303715884105727").int128_coefficient().has_value());
  EXPECT_FALSE(dec("170141183460469231731687303715884105728").int128_coefficient().has_value());
  EXPECT_TRUE(dec("-170141183460469231731687303715884105728").int128_coefficient().has_value());
}

TEST(DecimalParse, LegacyCoefficientIsTheLowBitsOfAWideCoefficient) {
  __extension__ typedef __int128 I128;
  EXPECT_TRUE(dec("-12.5").coefficient() == -125);
  // 2^128 + 5: the low 128 bits are 5.
  EXPECT_TRUE(dec("340282366920938463463374607431768211461").coefficient() == I128(5));
}

TEST(DecimalParse, FloatNoiseInExportsIsExact) {
  // The exponent form of float noise, and a month total plus it: 39 digits at scale 33.
  const Decimal noise = dec("2.7755575615628914E-17");
  EXPECT_EQ(noise.to_string(), "0." + std::string(16, '0') + "27755575615628914");
  const Decimal total = dec("123456.78") + noise;
  EXPECT_EQ(total.to_string(), "123456.78" + std::string(14, '0') + "27755575615628914");
  EXPECT_EQ((total - noise).normalized().to_string(), "123456.78");
}

TEST(DecimalParse, LeadingZerosDoNotCountAsDigits) {
  const std::string padded = std::string(20, '0') + std::string(38, '7');
  EXPECT_EQ(dec(padded).to_string(), std::string(38, '7'));
  // 37 fractional zeros then one digit: scale 38, coefficient 1.
  const std::string tiny = "0." + std::string(37, '0') + "1";
  EXPECT_EQ(dec(tiny).to_string(), tiny);
  EXPECT_TRUE(dec(tiny).coefficient() == 1);
}

TEST(DecimalParse, ExponentsReachingTheLimitsAreExact) {
  EXPECT_EQ(dec("1e-38").to_string(), "0." + std::string(37, '0') + "1");
  EXPECT_EQ(dec("1e-76").to_string(), "0." + std::string(75, '0') + "1");
  // Trailing zeros of the coefficient absorb a scale above 76: 100e-78 is 1e-76.
  EXPECT_EQ(dec("100e-78").to_string(), "0." + std::string(75, '0') + "1");
  EXPECT_EQ(dec("9.9e36").to_string(), "99" + std::string(35, '0'));
  EXPECT_EQ(dec("9.9e74").to_string(), "99" + std::string(73, '0'));
  EXPECT_EQ(dec("0e-90").to_string(), "0." + std::string(76, '0'));
}

TEST(DecimalParse, TrailingFractionalZerosBeyondCapacityAreDroppedExactly) {
  // 1 followed by 80 fractional zeros: the value is 1, kept with as many zeros as fit.
  const Decimal one = dec("1." + std::string(80, '0'));
  EXPECT_EQ(one.scale(), 75);
  EXPECT_EQ(one.to_string(), "1." + std::string(75, '0'));
  EXPECT_EQ(one, Decimal::from_int(1));
}

TEST(DecimalParse, RejectsMalformedText) {
  for (const char* bad : {"",    "-",   "+",     ".",        "-.",   "+.",    "e5",    ".e5", "1e",
                          "1e+", "1e-", "1E+-3", " 1",       "1 ",   "1 000", "1,000", "1,5", "NaN",
                          "nan", "inf", "-inf",  "Infinity", "0x1A", "0X10",  "1.2.3", "--1", "+-1",
                          "1-",  "12a", "1e5.5", "1e2e3",    "$12",  "12%",   "1_000", "\t1"}) {
    const Result<Decimal> parsed = Decimal::parse(bad);
    EXPECT_FALSE(parsed.ok()) << "accepted \"" << bad << "\"";
    if (!parsed.ok()) {
      EXPECT_EQ(parsed.error().kind(), ErrorKind::data);
      if (*bad != '\0') {
        EXPECT_NE(parsed.error().message().find(quote(bad)), std::string::npos)
            << parsed.error().message();
      }
    }
  }
}

TEST(DecimalParse, ErrorMessagesExplainTheProblem) {
  EXPECT_NE(Decimal::parse("1,000").error().message().find("thousands separators"),
            std::string::npos);
  EXPECT_NE(Decimal::parse(" 12").error().message().find("spaces"), std::string::npos);
  EXPECT_NE(Decimal::parse("abc").error().message().find("such as -12.50 or 5e-06"),
            std::string::npos);
  EXPECT_NE(Decimal::parse("").error().message().find("empty"), std::string::npos);
}

TEST(DecimalParse, RejectsMoreThanSeventySixSignificantDigits) {
  const std::string too_long = std::string(7, '1') + std::string(70, '2'); // 77 digits
  const Result<Decimal> parsed = Decimal::parse(too_long);
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.error().message().find(quote(too_long).substr(0, 60)), std::string::npos);
  EXPECT_NE(parsed.error().message().find("76 significant digits"), std::string::npos);

  EXPECT_FALSE(Decimal::parse("1" + std::string(76, '0')).ok()); // 10^76
  EXPECT_FALSE(Decimal::parse("1e76").ok());
  EXPECT_FALSE(Decimal::parse("-" + std::string(77, '9')).ok());
  EXPECT_FALSE(Decimal::parse("1." + std::string(75, '0') + "1").ok()); // 77 significant digits
  // Few digits written, too many once the exponent applies: the message says out of range.
  const Result<Decimal> huge = Decimal::parse("1e80");
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(huge.error().message(), "\"1e80\" is out of range: written out in full it has more "
                                    "than 76 digits, more than a Decimal holds exactly");
}

TEST(DecimalParse, RejectsScaleAboveSeventySix) {
  const Result<Decimal> parsed = Decimal::parse("1e-77");
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.error().message().find("\"1e-77\""), std::string::npos);
  EXPECT_NE(parsed.error().message().find("76 digits after the decimal point"), std::string::npos);
  EXPECT_FALSE(Decimal::parse("0." + std::string(76, '0') + "1").ok());
  EXPECT_FALSE(Decimal::parse("1e-999999999999").ok());
  EXPECT_FALSE(Decimal::parse("1e999999999999").ok());
}

TEST(DecimalParse, LongBadInputIsQuotedShortened) {
  const std::string junk(500, 'x');
  const std::string message = Decimal::parse(junk).error().message();
  EXPECT_LT(message.size(), 300u);
  EXPECT_NE(message.find(std::string(80, 'x') + "...\""), std::string::npos);
}

TEST(DecimalParse, FromStringThrowsOnBadInput) {
  EXPECT_THROW(Decimal::from_string("12,5"), ErrorException);
  EXPECT_EQ(Decimal::from_string("12.5").to_string(), "12.5");
}

TEST(DecimalFormat, FromIntCoversTheInt64Range) {
  EXPECT_EQ(Decimal::from_int(0).to_string(), "0");
  EXPECT_EQ(Decimal::from_int(-42).to_string(), "-42");
  EXPECT_EQ(Decimal::from_int(std::numeric_limits<std::int64_t>::min()).to_string(),
            "-9223372036854775808");
  EXPECT_EQ(Decimal::from_int(std::numeric_limits<std::int64_t>::max()).to_string(),
            "9223372036854775807");
}

TEST(DecimalFormat, AppendToAddsToExistingText) {
  std::string out = "cost=";
  dec("-0.000005").append_to(out);
  out += ';';
  dec("12345678901234567890123.456").append_to(out);
  EXPECT_EQ(out, "cost=-0.000005;12345678901234567890123.456");
}

TEST(DecimalFormat, DefaultIsZero) {
  const Decimal zero;
  EXPECT_TRUE(zero.is_zero());
  EXPECT_FALSE(zero.is_negative());
  EXPECT_EQ(zero.to_string(), "0");
}

TEST(DecimalFormat, RoundTripsEveryPrintedForm) {
  for (const char* text : {"0", "0.00", "-1", "12.50", "-0.000005", "1500", "0.0000123400",
                           "99999999999999999999.999999999999999999", "-18446744073709551616",
                           "18446744073709551615", "10000000000000000000"}) {
    EXPECT_EQ(dec(text).to_string(), text);
    EXPECT_EQ(dec(dec(text).to_string()), dec(text));
  }
}

TEST(DecimalNormalized, DropsTrailingFractionalZerosOnly) {
  EXPECT_EQ(dec("12.50").normalized().to_string(), "12.5");
  EXPECT_EQ(dec("3.000").normalized().to_string(), "3");
  EXPECT_EQ(dec("-1.10").normalized().to_string(), "-1.1");
  EXPECT_EQ(dec("100").normalized().to_string(), "100");
  EXPECT_EQ(dec("0.000").normalized().to_string(), "0");
  EXPECT_EQ(dec("0.0000123400").normalized().to_string(), "0.00001234");
  EXPECT_EQ(dec("0.0000123400").normalized().scale(), 8);
}

TEST(DecimalArithmetic, AddsAtTheLargerScale) {
  EXPECT_EQ((dec("12.50") + dec("1")).to_string(), "13.50");
  EXPECT_EQ((dec("1") + dec("12.50")).to_string(), "13.50");
  EXPECT_EQ((dec("0.1") + dec("0.02") + dec("0.003")).to_string(), "0.123");
  EXPECT_EQ((dec("5e-06") + dec("-12.5")).to_string(), "-12.499995");
  EXPECT_EQ((dec("-12.5") - dec("-12.5")).to_string(), "0.0");
  EXPECT_EQ((dec("1.5") - dec("2.25")).to_string(), "-0.75");
  EXPECT_EQ((dec("1500") - dec("1.5E3")).to_string(), "0");
  EXPECT_EQ((-dec("3.25")).to_string(), "-3.25");
  EXPECT_EQ((-dec("0")).to_string(), "0");
}

// Aligning scales multiplies one side by a power of ten: without an overflow check when the
// value is within 64 bits and the power at most 10^18, with one otherwise. Sums written by hand.
TEST(DecimalArithmetic, AligningScalesIsExactOnEitherSideOfTheShortcut) {
  struct Case {
    const char* a;
    const char* b;
    const char* sum;
  };
  for (const Case& c : {
           Case{"0.5", "0.0000000001", "0.5000000001"},
           Case{"-9223372036854775808", "0.000000000000000001",
                "-9223372036854775807.999999999999999999"},
           Case{"9223372036854775807", "-0.000000000000000001",
                "9223372036854775806.999999999999999999"},
           Case{"9223372036854775808", "0.000000000000000001",
                "9223372036854775808.000000000000000001"},
           Case{"1", "0.0000000000000000001", "1.0000000000000000001"},
           Case{"170141183460469231731687303715884105727", "0.1",
                "170141183460469231731687303715884105727.1"},
       }) {
    EXPECT_EQ((dec(c.a) + dec(c.b)).to_string(), c.sum) << c.a << " + " << c.b;
    EXPECT_EQ((dec(c.b) + dec(c.a)).to_string(), c.sum) << c.b << " + " << c.a;
  }
}

TEST(DecimalArithmetic, TenTimesOneTenthIsExactlyOne) {
  Decimal sum;
  for (int i = 0; i < 10; ++i)
    sum += dec("0.1");
  EXPECT_EQ(sum.to_string(), "1.0");
  EXPECT_EQ(sum, Decimal::from_int(1));
}

TEST(DecimalArithmetic, SumsManyMixedCostsToTheHandComputedTotal) {
  // One cycle: 0.0000123400 - 12.5 + 0.000005 + 1234.56 = 1222.06001734.
  const std::vector<std::string> cycle = {"0.0000123400", "-12.5", "5e-06", "1234.56"};
  Decimal sum;
  for (int i = 0; i < 2500; ++i) {
    for (const auto& text : cycle)
      sum += dec(text);
  }
  // 1222.06001734 * 2500 = 3055150.04335, at the largest input scale (10).
  EXPECT_EQ(sum.to_string(), "3055150.0433500000");
  EXPECT_EQ(sum.normalized().to_string(), "3055150.04335");
}

TEST(DecimalArithmetic, CorrectionsCancelExactly) {
  // Corrections arrive as negating rows; the month must net to exactly zero.
  Decimal sum;
  for (int i = 1; i <= 1000; ++i) {
    const std::string cost = "0.00" + std::to_string(i) + "7";
    sum += dec(cost);
    sum -= dec(cost);
  }
  EXPECT_TRUE(sum.is_zero());
  EXPECT_EQ(sum.normalized().to_string(), "0");
}

TEST(DecimalArithmetic, SumsOfSmallUsageCostsStayExact) {
  // 1,000,000 rows of 0.000001 is exactly 1.
  Decimal sum;
  const Decimal micro = dec("1e-06");
  for (int i = 0; i < 1'000'000; ++i)
    sum += micro;
  EXPECT_EQ(sum.to_string(), "1.000000");
}

TEST(DecimalArithmetic, AdditionCrossesThe128BitBoundaryExactly) {
  // 38 nines + 1 leaves the 128-bit fast path; subtracting it again comes back.
  const std::string nines(38, '9');
  const Decimal wide = dec(nines) + dec("1");
  EXPECT_EQ(wide.to_string(), "1" + std::string(38, '0'));
  EXPECT_EQ((wide - dec("1")).to_string(), nines);
  EXPECT_EQ((dec("-" + nines) - dec("1")).to_string(), "-1" + std::string(38, '0'));
  // 2^127 - 1 + 1 overflows int128 but not the decimal.
  EXPECT_EQ((dec("170141183460469231731687303715884105727") + dec("1")).to_string(),
            "170141183460469231731687303715884105728");
  // Aligning 1 to scale 76 would need 77 digits; the exact sum needs none of them.
  EXPECT_EQ((dec("1") + dec("-0.5" + std::string(75, '0'))).to_string(),
            "0.5" + std::string(75, '0'));
}

TEST(DecimalArithmetic, AdditionAtSeventySixDigits) {
  const std::string nines(76, '9');
  EXPECT_EQ((dec(std::string(75, '9') + "8") + dec("1")).to_string(), nines);
  EXPECT_EQ((dec("-" + nines) + dec("1")).to_string(), "-" + std::string(75, '9') + "8");
  // The exact sum needs 78 digits at scale 2 but is 10^75 once its trailing zeros go.
  const Decimal sum = dec(std::string(75, '9') + ".5") + dec("0.50");
  EXPECT_EQ(sum.to_string(), "1" + std::string(75, '0'));
  // Cancellation: aligning 10 to scale 75 needs 77 digits, the difference is 1e-75.
  EXPECT_EQ((dec("10") - dec("9." + std::string(75, '9'))).to_string(),
            "0." + std::string(74, '0') + "1");
}

TEST(DecimalArithmetic, AdditionOverflowThrows) {
  const Decimal max = dec(std::string(76, '9'));
  EXPECT_THROW(max + dec("1"), DecimalOverflow);
  EXPECT_THROW(-max - dec("1"), DecimalOverflow);
  EXPECT_THROW(max + max, DecimalOverflow);
  // 76 integer digits plus a fraction: the exact sum has 77 digits.
  EXPECT_THROW(dec(std::string(75, '1') + "0") + dec("0.5"), DecimalOverflow);
  EXPECT_THROW(dec("1") + dec("1e-76") + dec(std::string(75, '1')), DecimalOverflow);
  try {
    (void)(max + dec("1"));
    FAIL() << "expected DecimalOverflow";
  } catch (const DecimalOverflow& overflow) {
    EXPECT_NE(std::string(overflow.what()).find("76 significant digits"), std::string::npos);
    EXPECT_NE(std::string(overflow.what()).find(std::string(76, '9') + " + 1"), std::string::npos);
  }
}

TEST(DecimalArithmetic, FailedAdditionLeavesTheLeftOperandUnchanged) {
  Decimal total = dec(std::string(76, '9'));
  EXPECT_THROW(total += dec("1"), DecimalOverflow);
  EXPECT_EQ(total.to_string(), std::string(76, '9'));
}

TEST(DecimalArithmetic, MultipliesExactly) {
  EXPECT_EQ((dec("1.5") * dec("2.25")).to_string(), "3.375");
  EXPECT_EQ((dec("-0.1") * dec("0.1")).to_string(), "-0.01");
  EXPECT_EQ((dec("-3") * dec("-7")).to_string(), "21");
  EXPECT_EQ((dec("0.10") * dec("0.10")).to_string(), "0.0100");
  EXPECT_EQ((dec("0") * dec("-5.5")).to_string(), "0.0");
  EXPECT_EQ((dec("0.0000123400") * dec("1000")).to_string(), "0.0123400000");
  // 10^19 * 10^18 = 10^37: past 64 bits, within 38 digits.
  EXPECT_EQ((dec("1e19") * dec("1e18")).to_string(), "1" + std::string(37, '0'));
  EXPECT_EQ((dec("1e-19") * dec("1e-19")).to_string(), "0." + std::string(37, '0') + "1");
  // Past 128 bits: 10^19 * 10^19 = 10^38, (38 nines)^2 = 10^76 - 2*10^38 + 1.
  EXPECT_EQ((dec("1e19") * dec("1e19")).to_string(), "1" + std::string(38, '0'));
  EXPECT_EQ((dec(std::string(38, '9')) * dec(std::string(38, '9'))).to_string(),
            std::string(37, '9') + "8" + std::string(37, '0') + "1");
  EXPECT_EQ((dec("-1e-20") * dec("1e-20")).to_string(), "-0." + std::string(39, '0') + "1");
  // 1.(75 zeros) * 10 needs 77 digits at scale 75; exact at scale 74.
  EXPECT_EQ((dec("1." + std::string(75, '0')) * dec("10")).to_string(),
            "10." + std::string(74, '0'));
}

TEST(DecimalArithmetic, MultiplicationOverflowThrows) {
  EXPECT_THROW(dec("1e38") * dec("1e38"), DecimalOverflow);   // 77 digits
  EXPECT_THROW(dec("1e-40") * dec("1e-40"), DecimalOverflow); // scale 80
  EXPECT_THROW(dec(std::string(76, '9')) * dec(std::string(76, '9')), DecimalOverflow);
  EXPECT_THROW(dec("0.3") * dec("7e-76"), DecimalOverflow); // 2.1e-77
  try {
    (void)(dec("1e-40") * dec("1e-40"));
    FAIL() << "expected DecimalOverflow";
  } catch (const DecimalOverflow& overflow) {
    EXPECT_NE(std::string(overflow.what()).find("76 digits after the decimal point"),
              std::string::npos);
  }
}

// Reference arithmetic on digit strings, independent of Decimal's limbs: a value is a sign, its
// digits and a scale. Used to check random wide sums and products digit by digit.
struct DigitNumber {
  bool negative = false;
  std::string digits = "0"; // no leading zeros
  int scale = 0;
};

std::string strip_leading_zeros(std::string digits) {
  const std::size_t first = digits.find_first_not_of('0');
  return first == std::string::npos ? "0" : digits.substr(first);
}

int compare_digits(const std::string& a, const std::string& b) {
  if (a.size() != b.size())
    return a.size() < b.size() ? -1 : 1;
  return a.compare(b) < 0 ? -1 : (a == b ? 0 : 1);
}

std::string add_digits(const std::string& a, const std::string& b) {
  std::string out;
  int carry = 0;
  for (std::size_t i = 0; i < std::max(a.size(), b.size()) || carry; ++i) {
    const int da = i < a.size() ? a[a.size() - 1 - i] - '0' : 0;
    const int db = i < b.size() ? b[b.size() - 1 - i] - '0' : 0;
    const int sum = da + db + carry;
    out.push_back(static_cast<char>('0' + sum % 10));
    carry = sum / 10;
  }
  std::reverse(out.begin(), out.end());
  return strip_leading_zeros(out);
}

std::string subtract_digits(const std::string& a, const std::string& b) { // a >= b
  std::string out;
  int borrow = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    int digit =
        (a[a.size() - 1 - i] - '0') - borrow - (i < b.size() ? b[b.size() - 1 - i] - '0' : 0);
    borrow = digit < 0 ? 1 : 0;
    out.push_back(static_cast<char>('0' + digit + 10 * borrow));
  }
  std::reverse(out.begin(), out.end());
  return strip_leading_zeros(out);
}

std::string multiply_digits(const std::string& a, const std::string& b) {
  std::vector<int> columns(a.size() + b.size(), 0);
  for (std::size_t i = 0; i < a.size(); ++i)
    for (std::size_t j = 0; j < b.size(); ++j)
      columns[i + j + 1] += (a[i] - '0') * (b[j] - '0');
  for (std::size_t k = columns.size(); k-- > 1;) {
    columns[k - 1] += columns[k] / 10;
    columns[k] %= 10;
  }
  std::string out;
  for (const int digit : columns)
    out.push_back(static_cast<char>('0' + digit));
  return strip_leading_zeros(out);
}

DigitNumber align(DigitNumber n, int scale) {
  if (n.digits != "0")
    n.digits.append(static_cast<std::size_t>(scale - n.scale), '0');
  n.scale = scale;
  return n;
}

DigitNumber add_numbers(const DigitNumber& x, const DigitNumber& y) {
  const int scale = std::max(x.scale, y.scale);
  const DigitNumber a = align(x, scale);
  const DigitNumber b = align(y, scale);
  DigitNumber sum;
  sum.scale = scale;
  if (a.negative == b.negative) {
    sum.digits = add_digits(a.digits, b.digits);
    sum.negative = a.negative;
  } else if (compare_digits(a.digits, b.digits) >= 0) {
    sum.digits = subtract_digits(a.digits, b.digits);
    sum.negative = a.negative;
  } else {
    sum.digits = subtract_digits(b.digits, a.digits);
    sum.negative = b.negative;
  }
  if (sum.digits == "0")
    sum.negative = false;
  return sum;
}

std::string text_of(const DigitNumber& n) {
  std::string digits = n.digits;
  if (digits.size() < static_cast<std::size_t>(n.scale) + 1)
    digits.insert(0, static_cast<std::size_t>(n.scale) + 1 - digits.size(), '0');
  if (n.scale > 0)
    digits.insert(digits.size() - static_cast<std::size_t>(n.scale), ".");
  return (n.negative ? "-" : "") + digits;
}

DigitNumber random_number(std::mt19937_64& rng, int max_integer_digits, int max_fraction_digits) {
  DigitNumber n;
  const int integer_digits = static_cast<int>(rng() % (max_integer_digits + 1));
  n.scale = static_cast<int>(rng() % (max_fraction_digits + 1));
  std::string digits;
  for (int i = 0; i < integer_digits + n.scale; ++i)
    digits.push_back(static_cast<char>('0' + rng() % 10));
  n.digits = strip_leading_zeros(digits);
  n.negative = n.digits != "0" && rng() % 2 == 0;
  return n;
}

TEST(DecimalArithmetic, RandomWideSumsMatchDigitStringArithmetic) {
  std::mt19937_64 rng(2024);
  for (int trial = 0; trial < 200; ++trial) {
    DigitNumber expected;
    Decimal sum;
    for (int i = 0; i < 20; ++i) {
      // Up to 36 integer and 36 fraction digits: sums stay within 76 digits, most past 128 bits.
      const DigitNumber term = random_number(rng, 36, 36);
      const std::string text = text_of(term);
      sum += dec(text);
      expected = add_numbers(expected, term);
      ASSERT_EQ(sum.to_string(), text_of(expected)) << "after adding " << text;
      ASSERT_EQ(dec(text).to_string(), text);
    }
    sum -= dec(text_of(expected));
    EXPECT_TRUE(sum.is_zero()) << sum.to_string();
  }
}

TEST(DecimalArithmetic, RandomWideProductsMatchDigitStringArithmetic) {
  std::mt19937_64 rng(76);
  for (int trial = 0; trial < 500; ++trial) {
    const DigitNumber a = random_number(rng, 19, 19);
    const DigitNumber b = random_number(rng, 19, 19);
    DigitNumber product;
    product.digits = multiply_digits(a.digits, b.digits);
    product.scale = a.scale + b.scale;
    product.negative = product.digits != "0" && a.negative != b.negative;
    EXPECT_EQ((dec(text_of(a)) * dec(text_of(b))).to_string(), text_of(product))
        << text_of(a) << " * " << text_of(b);
  }
}

TEST(DecimalCompare, RandomWideValuesOrderLikeTheirDifference) {
  std::mt19937_64 rng(38);
  for (int trial = 0; trial < 500; ++trial) {
    const DigitNumber a = random_number(rng, 37, 37);
    const DigitNumber b = random_number(rng, 37, 37);
    DigitNumber negated_b = b;
    negated_b.negative = b.digits != "0" && !b.negative;
    const DigitNumber difference = add_numbers(a, negated_b);
    const int expected = difference.digits == "0" ? 0 : (difference.negative ? -1 : 1);
    const auto order = dec(text_of(a)) <=> dec(text_of(b));
    const int actual = order < 0 ? -1 : (order > 0 ? 1 : 0);
    EXPECT_EQ(actual, expected) << text_of(a) << " vs " << text_of(b);
  }
}

TEST(DecimalCompare, IsNumeric) {
  EXPECT_EQ(dec("1.50"), dec("1.5"));
  EXPECT_EQ(dec("0"), dec("-0.000"));
  EXPECT_EQ(dec("1500"), dec("1.5e3"));
  EXPECT_NE(dec("1.5"), dec("1.05"));
  EXPECT_LT(dec("-1"), dec("-0.5"));
  EXPECT_LT(dec("-0.5"), dec("0"));
  EXPECT_LT(dec("0"), dec("0.000001"));
  EXPECT_LT(dec("0.1"), dec("0.10000000001"));
  EXPECT_GT(dec("2"), dec("1.99999999999999999999"));
  EXPECT_GT(dec("-1.99999999999999999999"), dec("-2"));
  EXPECT_TRUE((dec("12.50") <=> dec("12.5")) == std::strong_ordering::equal);
}

TEST(DecimalCompare, ScalesThatCannotBeAlignedIn128Bits) {
  const Decimal big = dec(std::string(38, '9'));
  const Decimal tiny = dec("1e-38");
  EXPECT_GT(big, tiny);
  EXPECT_LT(tiny, big);
  EXPECT_LT(-big, -tiny);
  EXPECT_GT(-tiny, -big);
  EXPECT_GT(dec("1e37"), dec("9." + std::string(37, '9')));
  // Wide values and scales 76 apart.
  const Decimal widest = dec(std::string(76, '9'));
  const Decimal smallest = dec("1e-76");
  EXPECT_GT(widest, smallest);
  EXPECT_LT(-widest, -smallest);
  EXPECT_EQ(dec("1" + std::string(40, '0')), dec("1e40"));
  EXPECT_LT(dec("1" + std::string(40, '0')), dec("1" + std::string(39, '0') + "1"));
  EXPECT_GT(dec("-1" + std::string(40, '0')), dec("-1" + std::string(39, '0') + "1"));
}

TEST(DecimalCompare, SortsNumerically) {
  std::vector<Decimal> values = {dec("10"),    dec("-0.5"), dec("9.99"), dec("5e-06"),
                                 dec("-12.5"), dec("0"),    dec("1e1")};
  std::sort(values.begin(), values.end());
  std::vector<std::string> printed;
  for (const auto& value : values)
    printed.push_back(value.to_string());
  const std::vector<std::string> expected = {"-12.5", "-0.5", "0", "0.000005", "9.99", "10", "10"};
  EXPECT_EQ(printed, expected);
}

// is_canonical() says which text needs no parse: exactly the text that append_to() writes back
// unchanged.
TEST(DecimalCanonical, IsTheTextThatRoundTripsUnchanged) {
  for (const std::string_view text : {"0", "7", "-12.50", "0.001000", "-0.012345", "3600",
                                      "123456789012345678901234567890.12345678"})
    EXPECT_TRUE(Decimal::is_canonical(text)) << text;
  // Each of these parses, but is written differently (or is not a decimal at all).
  for (const std::string_view text :
       {"", "-", "+1", "01", "-0", "-0.00", "1.", ".5", "1e3", "-5e-06", " 1", "1 ", "1,5", "0x10",
        "1234567890123456789012345678901234567.89"})
    EXPECT_FALSE(Decimal::is_canonical(text)) << text;
  // Against the parse for every text of up to four characters over the decimal alphabet.
  const std::string alphabet = "-0.15e";
  std::vector<std::string> texts = {""};
  for (int length = 1; length <= 4; ++length) {
    std::vector<std::string> longer;
    for (const std::string& text : texts)
      for (const char c : alphabet)
        longer.push_back(text + c);
    for (const std::string& text : longer) {
      Result<Decimal> parsed = Decimal::parse(text);
      const bool round_trips = parsed && parsed->to_string() == text;
      EXPECT_EQ(Decimal::is_canonical(text), round_trips) << text;
    }
    texts = std::move(longer);
  }
  // Longer numbers, built to be near the canonical form: a sign, a run of digits that may start
  // with a zero, a point and up to 45 more digits (past the 38 is_canonical takes).
  std::mt19937 random(20261208);
  for (int n = 0; n < 20000; ++n) {
    std::string text = random() % 4 == 0 ? "-" : "";
    const int integer = static_cast<int>(random() % 4);
    for (int k = 0; k < integer; ++k)
      text += static_cast<char>('0' + random() % (k == 0 ? 2 : 10));
    if (random() % 3 != 0) {
      text += '.';
      const int fraction = static_cast<int>(random() % 46);
      for (int k = 0; k < fraction; ++k)
        text += static_cast<char>('0' + random() % (random() % 2 == 0 ? 1 : 10));
    }
    Result<Decimal> parsed = Decimal::parse(text);
    const std::size_t digits = static_cast<std::size_t>(
        std::count_if(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }));
    const bool round_trips = parsed && parsed->to_string() == text && digits <= 38;
    EXPECT_EQ(Decimal::is_canonical(text), round_trips) << text;
  }
}

} // namespace
} // namespace billdrop
