#pragma once
// Exact decimal numbers for money: text in, text out, no binary floating point anywhere.
//
// A Decimal is a signed 128-bit coefficient and a scale (digits after the point), so it holds up
// to 38 significant digits exactly. Arithmetic that would need more throws DecimalOverflow rather
// than round: a wrong total is worse than a loud one.

#include <billdrop/result.hpp>

#include <compare>
#include <cstdint>
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

  static constexpr int max_digits = 38; // significant digits a coefficient can hold
  static constexpr int max_scale = 38;  // digits after the decimal point

  constexpr Decimal() noexcept = default;

  // Parses "12", "-0.5", "+3.", ".25" and exponent forms such as "5e-06" or "1.2E+3".
  // Leading/trailing ASCII spaces are not accepted: callers trim. Rejects empty text, "NaN", "inf",
  // hex, thousands separators and more than max_digits significant digits, with a message that
  // quotes the input.
  static Result<Decimal> parse(std::string_view text);

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

  bool is_zero() const noexcept { return coefficient_ == 0; }
  bool is_negative() const noexcept { return coefficient_ < 0; }
  int scale() const noexcept { return scale_; }
  int128 coefficient() const noexcept { return coefficient_; }

  // Exact; throw DecimalOverflow when the result needs more than max_digits digits.
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
  constexpr Decimal(int128 coefficient, int scale) noexcept
      : coefficient_(coefficient), scale_(scale) {}

  int128 coefficient_ = 0;
  int scale_ = 0;
};

} // namespace billdrop
