#pragma once
// Exact decimal numbers for money: text in, text out, no binary floating point anywhere.
//
// A Decimal is a signed coefficient of up to 76 significant digits and a scale (0 to 76 digits
// after the point). Real exports carry float noise such as 2.7755575615628914E-17, and a month
// total of 123456.78 plus that already needs 39 digits; 76 leave room for such sums. Arithmetic
// that would need more throws DecimalOverflow rather than round: a wrong total is worse than a
// loud one.
//
// The coefficient is a 256-bit two's-complement integer. Values that fit 128 bits (every value of
// up to 38 digits: nearly every cost) take a plain 128-bit path in every operation.

#include <billdrop/result.hpp>

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace billdrop {

class DecimalOverflow : public std::overflow_error {
public:
  using std::overflow_error::overflow_error;
};

class Decimal {
public:
  // __int128 is a GCC/Clang extension; naming it once keeps -Wpedantic quiet in every includer.
  __extension__ typedef __int128 int128;

  static constexpr int max_digits = 76; // significant digits a coefficient can hold
  static constexpr int max_scale = 76;  // digits after the decimal point

  constexpr Decimal() noexcept = default;

  // Parses "12", "-0.5", "+3.", ".25" and exponent forms such as "5e-06" or "1.2E+3".
  // Leading/trailing ASCII spaces are not accepted: callers trim. Rejects empty text, "NaN", "inf",
  // hex, thousands separators and more than max_digits significant digits, with a message that
  // quotes the input.
  static Result<Decimal> parse(std::string_view text);

  // Whether `text` is a decimal exactly as append_to() writes it ("-12.50", "0", "7"): an
  // optional '-' (not on a zero), no leading zeros, a fraction only after a digit, at most 38
  // digits. Such text can be passed on as it is instead of being parsed and written again:
  // parse(text)->to_string() == text.
  static bool is_canonical(std::string_view text) noexcept;

  // parse() that throws ErrorException; for tests and constants.
  static Decimal from_string(std::string_view text);
  static Decimal from_int(std::int64_t value) noexcept;

  // Plain digits, never exponent notation: "-0.000005", "1500", "12.50" (the scale is kept, so
  // "12.50" round-trips; an exponent input is written with exactly the digits it denotes).
  // Zero is written without a sign.
  std::string to_string() const;
  void append_to(std::string& out) const;

  // The same value with trailing fractional zeros removed ("12.50" -> "12.5", "3.000" -> "3").
  Decimal normalized() const noexcept;

  bool is_zero() const noexcept { return (words_[0] | words_[1] | words_[2] | words_[3]) == 0; }
  bool is_negative() const noexcept { return static_cast<std::int64_t>(words_[3]) < 0; }
  int scale() const noexcept { return scale_; }
  // The coefficient (the value times 10^scale) when it fits a signed 128-bit integer, as every
  // value of up to 38 significant digits does; nullopt for wider values.
  std::optional<int128> int128_coefficient() const noexcept;
  // The low 128 bits of the coefficient, two's complement: the coefficient itself whenever
  // int128_coefficient() has a value. Kept for code written when a Decimal was 128 bits wide
  // (it stays good for hashing); new code uses int128_coefficient() or to_string().
  int128 coefficient() const noexcept;

  // Exact; throw DecimalOverflow when the result needs more than max_digits digits (and leave
  // the left operand unchanged).
  Decimal& operator+=(const Decimal& other);
  Decimal& operator-=(const Decimal& other);
  friend Decimal operator+(Decimal a, const Decimal& b) { return a += b; }
  friend Decimal operator-(Decimal a, const Decimal& b) { return a -= b; }
  Decimal operator-() const noexcept;
  // Exact product (scales add); throws DecimalOverflow past max_digits / max_scale.
  friend Decimal operator*(const Decimal& a, const Decimal& b);

  // Numeric comparison: 1.50 == 1.5.
  friend bool operator==(const Decimal& a, const Decimal& b) noexcept;
  friend std::strong_ordering operator<=>(const Decimal& a, const Decimal& b) noexcept;

private:
  // parse()'s fast path for short plain text.
  static std::optional<Decimal> parse_short_plain(std::string_view text) noexcept;

  // The coefficient's 64-bit words, least significant first; |coefficient| < 10^max_digits.
  using Words = std::array<std::uint64_t, 4>;
  constexpr Decimal(const Words& words, int scale) noexcept : words_(words), scale_(scale) {}

  Words words_{};
  int scale_ = 0;
};

} // namespace billdrop
