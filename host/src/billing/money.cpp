#include "billing/money.hpp"

#include <algorithm>
#include <array>

namespace billdrop::billing {

namespace {

// ISO 4217 (list one, 2024): the active codes whose exponent is not 2, then those with 2. Funds,
// precious metals and testing codes (XAU, XDR, XTS, …) have no minor unit and are not accepted.
struct Exponent {
  std::string_view code;
  int exponent;
};
constexpr std::array<Exponent, 26> not_two = {{
    {"BHD", 3}, {"BIF", 0}, {"CLF", 4}, {"CLP", 0}, {"DJF", 0}, {"GNF", 0}, {"IQD", 3},
    {"ISK", 0}, {"JOD", 3}, {"JPY", 0}, {"KMF", 0}, {"KRW", 0}, {"KWD", 3}, {"LYD", 3},
    {"OMR", 3}, {"PYG", 0}, {"RWF", 0}, {"TND", 3}, {"UGX", 0}, {"UYI", 0}, {"UYW", 4},
    {"VND", 0}, {"VUV", 0}, {"XAF", 0}, {"XOF", 0}, {"XPF", 0},
}};

constexpr std::array<std::string_view, 143> two = {
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT",
    "BGN", "BMD", "BND", "BOB", "BOV", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF",
    "CHE", "CHF", "CHW", "CNY", "COP", "COU", "CRC", "CUC", "CUP", "CVE", "CZK", "DKK", "DOP",
    "DZD", "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GTQ",
    "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IRR", "JMD", "KES", "KGS", "KHR",
    "KPW", "KYD", "KZT", "LAK", "LBP", "LKR", "LRD", "LSL", "MAD", "MDL", "MGA", "MKD", "MMK",
    "MNT", "MOP", "MRU", "MUR", "MVR", "MWK", "MXN", "MXV", "MYR", "MZN", "NAD", "NGN", "NIO",
    "NOK", "NPR", "NZD", "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "QAR", "RON", "RSD", "RUB",
    "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SLL", "SOS", "SRD", "SSP", "STN",
    "SVC", "SYP", "SZL", "THB", "TJS", "TMT", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "USD",
    "USN", "UYU", "UZS", "VED", "VES", "WST", "XCD", "XCG", "YER", "ZAR", "ZMW", "ZWG", "ZWL",
};

} // namespace

std::optional<int> currency_exponent(std::string_view code) noexcept {
  if (code.size() != 3)
    return std::nullopt;
  for (const Exponent& e : not_two)
    if (e.code == code)
      return e.exponent;
  if (std::find(two.begin(), two.end(), code) != two.end())
    return 2;
  return std::nullopt;
}

std::optional<std::int64_t> to_minor_units(const Decimal& exact, int exponent) {
  using int128 = Decimal::int128;
  const std::optional<int128> coefficient = exact.int128_coefficient();
  if (!coefficient)
    return std::nullopt;
  const int shift = exponent - exact.scale();
  int128 minor = *coefficient;
  constexpr int128 limit = static_cast<int128>(INT64_MAX);
  if (shift >= 0) {
    for (int i = 0; i < shift; ++i) {
      if (minor > limit || minor < -limit)
        return std::nullopt;
      minor *= 10;
    }
  } else if (-shift > 38) {
    minor = 0; // |coefficient| < 10^38: less than half of the divisor
  } else {
    int128 divisor = 1;
    for (int i = 0; i < -shift; ++i)
      divisor *= 10;
    int128 quotient = minor / divisor;
    const int128 remainder = minor % divisor; // same sign as minor
    const int128 twice = (remainder < 0 ? -remainder : remainder) * 2;
    // Half to even: above half away from zero; exactly half only when the quotient is odd.
    if (twice > divisor || (twice == divisor && quotient % 2 != 0))
      quotient += minor < 0 ? -1 : 1;
    minor = quotient;
  }
  if (minor > limit || minor < -limit)
    return std::nullopt;
  return static_cast<std::int64_t>(minor);
}

} // namespace billdrop::billing
