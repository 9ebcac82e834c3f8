#pragma once
// Minor units: an amount is an integer count of the currency's smallest unit, 10^-exponent of a
// unit, with ISO 4217's exponents (USD 2, JPY 0, KWD 3). Sync totals arrive as exact decimals
// and are rounded once, half to even, into minor units.

#include <billdrop/decimal.hpp>

#include <cstdint>
#include <optional>
#include <string_view>

namespace billdrop::billing {

// The ISO 4217 minor-unit exponent of an active currency code ("USD" → 2, "JPY" → 0), nullopt for
// a code that is not one (lower case included: codes are upper case).
std::optional<int> currency_exponent(std::string_view code) noexcept;

// `exact` (a decimal amount in units) in minor units, rounded half to even at `exponent` digits;
// nullopt when the result does not fit a signed 64-bit integer.
std::optional<std::int64_t> to_minor_units(const Decimal& exact, int exponent);

// The largest amount the API takes or writes: 2^53 - 1, so that a JSON client that reads numbers
// as doubles (JavaScript) reads every amount exactly.
inline constexpr std::int64_t max_amount = 9007199254740991;

} // namespace billdrop::billing
