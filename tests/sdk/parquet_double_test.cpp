// write_shortest_double against std::to_chars, character for character: a DOUBLE cost read from
// Parquet must be the text the exporting system printed. Millions of values: random bit
// patterns, random decimals of 1 to 17 significant digits at every scale the fast path takes and
// around it, powers of ten and their neighbours, the edges of the fast path's range, subnormals,
// zeros, infinities and NaN. BILLDROP_DOUBLE_CASES scales the random part (default 1,000,000 per
// family).

#include <billdrop/parquet_double.hpp>

#include <gtest/gtest.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

using namespace billdrop;

namespace {

struct Random {
  std::uint64_t state = 0x243F6A8885A308D3ull;
  std::uint64_t next() {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  }
  std::uint64_t below(std::uint64_t n) { return next() % n; }
};

std::size_t cases() {
  const char* env = std::getenv("BILLDROP_DOUBLE_CASES");
  return env ? static_cast<std::size_t>(std::strtoull(env, nullptr, 10)) : 1000000;
}

std::string reference(double v) {
  char buf[64];
  return std::string(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}

// Checks one value; counts how often the fast path answered.
struct Checker {
  std::size_t checked = 0, fast = 0, failures = 0;
  void operator()(double v) {
    ++checked;
    char buf[shortest_double_max]; // exactly: AddressSanitizer sees any overrun
    std::memset(buf, 'x', sizeof buf);
    const std::string want = reference(v);
    char* end = write_shortest_double(buf, v);
    const std::string got(buf, end);
    char fbuf[shortest_double_max];
    if (char* fend = write_shortest_double_fast(fbuf, v)) {
      ++fast;
      const std::string fast_text(fbuf, fend);
      if (fast_text != want && failures++ < 20)
        ADD_FAILURE() << "fast path " << fast_text << " where to_chars gives " << want << " (bits "
                      << std::hex << bits(v) << ")";
    }
    if (got != want && failures++ < 20)
      ADD_FAILURE() << "got " << got << " where to_chars gives " << want << " (bits " << std::hex
                    << bits(v) << ")";
    if (got.size() > static_cast<std::size_t>(shortest_double_max) && failures++ < 20)
      ADD_FAILURE() << got << " is longer than shortest_double_max";
  }
  static std::uint64_t bits(double v) {
    std::uint64_t b;
    std::memcpy(&b, &v, sizeof b);
    return b;
  }
  void both_signs(double v) {
    (*this)(v);
    (*this)(-v);
  }
};

double from_bits(std::uint64_t b) {
  double v;
  std::memcpy(&v, &b, sizeof v);
  return v;
}

const std::uint64_t pow10_u64[] = {1ull,
                                   10ull,
                                   100ull,
                                   1000ull,
                                   10000ull,
                                   100000ull,
                                   1000000ull,
                                   10000000ull,
                                   100000000ull,
                                   1000000000ull,
                                   10000000000ull,
                                   100000000000ull,
                                   1000000000000ull,
                                   10000000000000ull,
                                   100000000000000ull,
                                   1000000000000000ull,
                                   10000000000000000ull,
                                   100000000000000000ull};

// A random integer of exactly `digits` digits (1 to 17).
std::uint64_t random_digits(Random& r, int digits) {
  const std::uint64_t low = pow10_u64[digits - 1];
  return low + r.below(pow10_u64[digits] - low);
}

// The decimal mantissa·10^exponent, read the way an exporter's text would be.
double decimal(std::uint64_t mantissa, int exponent) {
  const std::string text = std::to_string(mantissa) + "e" + std::to_string(exponent);
  double v = 0;
  std::from_chars(text.data(), text.data() + text.size(), v);
  return v;
}

TEST(ParquetDouble, EdgeCases) {
  Checker check;
  const double specials[] = {0.0,
                             1.0,
                             0.1,
                             0.5,
                             0.0104,
                             1e-7,
                             1e-5,
                             1e-4,
                             0.001,
                             1e15,
                             1e16,
                             999999999999999.0,
                             999999999999999.9,
                             99999999999999.99,
                             0.30000000000000004,
                             0.1 + 0.2,
                             1.0 / 3.0,
                             2.0 / 3.0,
                             123456789012345.0,
                             12345678901234.5,
                             1234567890123456.0,
                             9007199254740991.0,
                             9007199254740993.0,
                             std::numeric_limits<double>::min(),
                             std::numeric_limits<double>::denorm_min(),
                             std::numeric_limits<double>::max(),
                             std::numeric_limits<double>::epsilon(),
                             std::numeric_limits<double>::infinity(),
                             std::numeric_limits<double>::quiet_NaN(),
                             5e-324,
                             2.2250738585072009e-308,
                             1e-10,
                             1e10,
                             1e11,
                             12000000000.0,
                             120000.0,
                             0.00012,
                             0.000123,
                             0.00001234,
                             1.5e-5};
  for (double v : specials)
    check.both_signs(v);
  // Powers of ten and the doubles next to them, at every scale.
  for (int e = -330; e <= 310; ++e) {
    const double p = decimal(1, e);
    if (!std::isfinite(p))
      continue;
    check.both_signs(p);
    check.both_signs(std::nextafter(p, 0.0));
    check.both_signs(std::nextafter(p, std::numeric_limits<double>::infinity()));
    for (std::uint64_t m : {2ull, 5ull, 9ull, 15ull, 99ull, 125ull, 999999999999999ull,
                            100000000000001ull, 999999999999999999ull / 1000})
      check.both_signs(decimal(m, e));
  }
  // The neighbours of the fast path's limits, a few hundred ulps each way.
  for (double edge : {1e-7, 1e15, 1e-4, 1e-5, 1.0, 1e14}) {
    double up = edge, down = edge;
    for (int i = 0; i < 300; ++i) {
      up = std::nextafter(up, std::numeric_limits<double>::infinity());
      down = std::nextafter(down, 0.0);
      check.both_signs(up);
      check.both_signs(down);
    }
  }
  // Subnormals.
  for (std::uint64_t b = 1; b < 5000; ++b)
    check.both_signs(from_bits(b));
  for (std::uint64_t b = 0x000fffffffffffffull; b > 0x000fffffffffffffull - 5000; --b)
    check.both_signs(from_bits(b));
  EXPECT_EQ(check.failures, 0u) << "of " << check.checked;
  // Short decimals take the fast path (or the figure in docs/benchmarks.md is not this code's).
  char buf[shortest_double_max];
  for (double v : {0.0104, 12.5, 4999078.7103313, 0.000123, 99999999999999.9, 1.0, 0.1})
    EXPECT_NE(write_shortest_double_fast(buf, v), nullptr) << v;
  for (double v : {0.1 + 0.2, 1.0 / 3.0, 1e-5, 0.0000123, 1e20, 12000000.0,
                   std::numeric_limits<double>::denorm_min()})
    EXPECT_EQ(write_shortest_double_fast(buf, v), nullptr) << v;
}

TEST(ParquetDouble, RandomBitPatterns) {
  Checker check;
  Random r;
  const std::size_t n = cases();
  for (std::size_t i = 0; i < n; ++i)
    check(from_bits(r.next()));
  // Random bits within the fast path's range of exponents.
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t exponent = 1023 - 24 + r.below(74); // 2^-24 .. 2^49
    check(from_bits((r.next() & 0x800fffffffffffffull) | (exponent << 52)));
  }
  EXPECT_EQ(check.failures, 0u) << "of " << check.checked;
}

TEST(ParquetDouble, RandomDecimals) {
  Checker check;
  Random r;
  const std::size_t n = cases();
  std::size_t short_in_range = 0, short_in_range_fast = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const int digits = 1 + static_cast<int>(r.below(17));
    const std::uint64_t mantissa = random_digits(r, digits);
    const int exponent = -30 + static_cast<int>(r.below(50)); // 1e-30 .. 1e36
    const double v = decimal(mantissa, exponent) * (r.below(2) ? -1.0 : 1.0);
    const std::size_t fast_before = check.fast;
    check(v);
    const double a = std::fabs(v);
    if (digits <= 15 && a >= 1e-3 && a < 1e14 && reference(v).find('e') == std::string::npos) {
      ++short_in_range;
      short_in_range_fast += check.fast - fast_before;
    }
  }
  // Costs as exporters print them: up to 10 fraction digits, below a billion.
  for (std::size_t i = 0; i < n; ++i) {
    const int fraction = static_cast<int>(r.below(11));
    const double v = decimal(r.below(pow10_u64[9 + fraction % 7]), -fraction);
    check.both_signs(v);
  }
  // Results of arithmetic (16 and 17 digits), the bench's kind of values, and the 15/16/17-digit
  // boundary.
  for (std::size_t i = 0; i < n / 4; ++i) {
    check(static_cast<double>(r.below(100000000)) / 1e7);
    check(static_cast<double>(r.below(1000000)) * 0.001);
    check(decimal(random_digits(r, 15), -static_cast<int>(r.below(23))));
    check(decimal(random_digits(r, 16), -static_cast<int>(r.below(23))));
    check(decimal(random_digits(r, 17), -static_cast<int>(r.below(23))));
  }
  EXPECT_EQ(check.failures, 0u) << "of " << check.checked;
  // The fast path answers for (nearly) every short decimal in its range that prints in fixed
  // notation.
  EXPECT_GT(short_in_range_fast * 100, short_in_range * 99)
      << short_in_range_fast << " of " << short_in_range;
}

} // namespace
