#include <billdrop/decimal.hpp>
#include <billdrop/text.hpp>

#include <algorithm>
#include <array>
#include <cstring>

namespace billdrop {
namespace {

// GCC's -Wpedantic flags every spelling of __int128; __extension__ marks these as intended.
__extension__ typedef unsigned __int128 U128;
__extension__ typedef __int128 I128;

constexpr std::array<U128, 39> make_powers_of_ten() {
  std::array<U128, 39> powers{};
  U128 power = 1;
  for (auto& entry : powers) {
    entry = power;
    power *= 10;
  }
  return powers;
}
constexpr std::array<U128, 39> powers_of_ten = make_powers_of_ten();
constexpr U128 coefficient_limit = powers_of_ten[Decimal::max_digits]; // exclusive
constexpr std::uint64_t ten_to_19 = 10000000000000000000ULL;

U128 magnitude(I128 value) noexcept {
  return value < 0 ? U128(0) - static_cast<U128>(value) : static_cast<U128>(value);
}

bool fits(I128 value) noexcept {
  return magnitude(value) < coefficient_limit;
}

std::string quoted(std::string_view text) {
  return quote_for_message(text);
}

Error syntax_error(std::string_view text) {
  std::string message = quoted(text) + " is not a decimal number: expected digits with an optional "
                                       "sign, decimal point and exponent, such as -12.50 or 5e-06";
  if (text.empty())
    message = "an empty value is not a decimal number: expected digits such as -12.50 or 5e-06";
  else if (text.find(',') != std::string_view::npos)
    message += " (thousands separators and decimal commas are not accepted)";
  else if (text.find_first_of(" \t\r\n") != std::string_view::npos)
    message += " (surrounding or inner spaces are not accepted)";
  return data_error(std::move(message));
}

Error too_many_digits(std::string_view text) {
  return data_error(quoted(text) + " has more than " + std::to_string(Decimal::max_digits) +
                    " significant digits, more than a Decimal holds exactly");
}

// "1e40": few digits written, but too many once the exponent is applied.
Error exponent_out_of_range(std::string_view text) {
  return data_error(quoted(text) + " is out of range: written out in full it has more than " +
                    std::to_string(Decimal::max_digits) +
                    " digits, more than a Decimal holds exactly");
}

Error scale_too_large(std::string_view text) {
  return data_error(quoted(text) + " has more than " + std::to_string(Decimal::max_scale) +
                    " digits after the decimal point, more than a Decimal holds exactly");
}

bool is_digit(char c) noexcept {
  return static_cast<unsigned char>(c - '0') < 10;
}

// Builds a coefficient digit by digit. Digits collect in a 64-bit chunk and fold into the 128-bit
// value every 19 digits, so the usual short cost string never touches 128-bit multiplication.
class CoefficientBuilder {
public:
  bool empty() const noexcept { return digits_ == 0; }
  int digits() const noexcept { return digits_; }

  // False when the coefficient would exceed max_digits.
  bool push(unsigned digit) noexcept {
    if (digits_ == Decimal::max_digits)
      return false;
    chunk_ = chunk_ * 10 + digit;
    ++digits_;
    if (++chunk_digits_ == 19)
      flush();
    return true;
  }

  U128 finish() noexcept {
    flush();
    return value_;
  }

private:
  void flush() noexcept {
    value_ = value_ == 0 ? chunk_ : value_ * powers_of_ten[chunk_digits_] + chunk_;
    chunk_ = 0;
    chunk_digits_ = 0;
  }

  U128 value_ = 0;
  std::uint64_t chunk_ = 0;
  int chunk_digits_ = 0;
  int digits_ = 0;
};

// "00", "01", ... "99": two digits per division when writing a coefficient.
constexpr std::array<char, 200> make_digit_pairs() {
  std::array<char, 200> pairs{};
  for (int i = 0; i < 100; ++i) {
    pairs[2 * i] = static_cast<char>('0' + i / 10);
    pairs[2 * i + 1] = static_cast<char>('0' + i % 10);
  }
  return pairs;
}
constexpr std::array<char, 200> digit_pairs = make_digit_pairs();

// Writes the decimal digits of value right-aligned ending at end; returns the first digit.
char* write_digits(U128 value, char* end) noexcept {
  char* p = end;
  auto write_u64 = [&p](std::uint64_t v, int min_digits) {
    char* stop = p - min_digits;
    while (v >= 100) {
      const auto pair = static_cast<unsigned>(v % 100) * 2;
      v /= 100;
      *--p = digit_pairs[pair + 1];
      *--p = digit_pairs[pair];
    }
    if (v >= 10) {
      const auto pair = static_cast<unsigned>(v) * 2;
      *--p = digit_pairs[pair + 1];
      *--p = digit_pairs[pair];
    } else {
      *--p = static_cast<char>('0' + v);
    }
    while (p > stop)
      *--p = '0';
  };
  while (value > ~std::uint64_t{0}) {
    write_u64(static_cast<std::uint64_t>(value % ten_to_19), 19);
    value /= ten_to_19;
  }
  write_u64(static_cast<std::uint64_t>(value), 1);
  return p;
}

// The slow path for sums and products that leave the 128-bit fast path: exact decimal digits,
// least significant first, big enough for a 38-digit number shifted by 38 places or a product of
// two 38-digit numbers.
class WideNumber {
public:
  static constexpr int capacity = 80;

  explicit WideNumber(U128 value) noexcept {
    while (value != 0) {
      digits_[size_++] = static_cast<std::uint8_t>(value % 10);
      value /= 10;
    }
  }

  int size() const noexcept { return size_; }

  void shift_left(int places) noexcept { // multiply by 10^places
    if (size_ == 0 || places == 0)
      return;
    std::memmove(digits_.data() + places, digits_.data(), static_cast<std::size_t>(size_));
    std::fill_n(digits_.begin(), places, std::uint8_t{0});
    size_ += places;
  }

  bool lowest_is_zero() const noexcept { return size_ > 0 && digits_[0] == 0; }

  void drop_lowest() noexcept { // divide by 10, the caller has checked the digit is 0
    std::memmove(digits_.data(), digits_.data() + 1, static_cast<std::size_t>(size_ - 1));
    --size_;
  }

  friend int compare(const WideNumber& a, const WideNumber& b) noexcept {
    if (a.size_ != b.size_)
      return a.size_ < b.size_ ? -1 : 1;
    for (int i = a.size_ - 1; i >= 0; --i) {
      if (a.digits_[i] != b.digits_[i])
        return a.digits_[i] < b.digits_[i] ? -1 : 1;
    }
    return 0;
  }

  friend WideNumber add(const WideNumber& a, const WideNumber& b) noexcept {
    WideNumber sum(0);
    int carry = 0;
    for (int i = 0; i < std::max(a.size_, b.size_); ++i) {
      const int digit = a.at(i) + b.at(i) + carry;
      sum.digits_[i] = static_cast<std::uint8_t>(digit % 10);
      carry = digit / 10;
    }
    sum.size_ = std::max(a.size_, b.size_);
    if (carry != 0)
      sum.digits_[sum.size_++] = static_cast<std::uint8_t>(carry);
    return sum;
  }

  // a - b for a >= b.
  friend WideNumber subtract(const WideNumber& a, const WideNumber& b) noexcept {
    WideNumber difference(0);
    int borrow = 0;
    for (int i = 0; i < a.size_; ++i) {
      int digit = a.at(i) - b.at(i) - borrow;
      borrow = digit < 0 ? 1 : 0;
      difference.digits_[i] = static_cast<std::uint8_t>(digit + borrow * 10);
    }
    difference.size_ = a.size_;
    difference.trim();
    return difference;
  }

  friend WideNumber multiply(const WideNumber& a, const WideNumber& b) noexcept {
    std::array<int, capacity> columns{};
    for (int i = 0; i < a.size_; ++i) {
      for (int j = 0; j < b.size_; ++j)
        columns[i + j] += a.digits_[i] * b.digits_[j];
    }
    WideNumber product(0);
    int carry = 0;
    for (int i = 0; i < a.size_ + b.size_; ++i) {
      const int column = columns[i] + carry;
      product.digits_[i] = static_cast<std::uint8_t>(column % 10);
      carry = column / 10;
    }
    product.size_ = a.size_ + b.size_;
    product.trim();
    return product;
  }

  U128 to_u128() const noexcept { // only for size() <= max_digits
    U128 value = 0;
    for (int i = size_ - 1; i >= 0; --i)
      value = value * 10 + digits_[i];
    return value;
  }

private:
  int at(int i) const noexcept { return i < size_ ? digits_[i] : 0; }
  void trim() noexcept {
    while (size_ > 0 && digits_[size_ - 1] == 0)
      --size_;
  }

  std::array<std::uint8_t, capacity> digits_{};
  int size_ = 0;
};

} // namespace

Result<Decimal> Decimal::parse(std::string_view text) {
  const char* p = text.data();
  const char* const end = p + text.size();

  bool negative = false;
  if (p != end && (*p == '+' || *p == '-')) {
    negative = *p == '-';
    ++p;
  }

  CoefficientBuilder builder;
  bool saw_digit = false;
  for (; p != end && is_digit(*p); ++p) {
    saw_digit = true;
    const auto digit = static_cast<unsigned>(*p - '0');
    if (builder.empty() && digit == 0)
      continue; // leading zero
    if (!builder.push(digit))
      return too_many_digits(text);
  }

  // Fraction digits. Trailing zeros wait in pending_zeros: they are kept when they fit, so
  // "12.50" keeps its scale, and dropped (exactly) when they do not.
  std::int64_t fraction_digits = 0;
  int pending_zeros = 0;
  if (p != end && *p == '.') {
    for (++p; p != end && is_digit(*p); ++p) {
      saw_digit = true;
      ++fraction_digits;
      const auto digit = static_cast<unsigned>(*p - '0');
      if (digit == 0) {
        if (!builder.empty())
          ++pending_zeros;
        continue;
      }
      for (; pending_zeros > 0; --pending_zeros) {
        if (!builder.push(0))
          return too_many_digits(text);
      }
      if (!builder.push(digit))
        return too_many_digits(text);
    }
  }
  if (!saw_digit)
    return syntax_error(text);

  std::int64_t exponent = 0;
  if (p != end && (*p == 'e' || *p == 'E')) {
    ++p;
    bool exponent_negative = false;
    if (p != end && (*p == '+' || *p == '-')) {
      exponent_negative = *p == '-';
      ++p;
    }
    if (p == end || !is_digit(*p))
      return syntax_error(text);
    for (; p != end && is_digit(*p); ++p) {
      // Saturate: anything this large is rejected below as too many digits or too large a scale.
      if (exponent < 1'000'000)
        exponent = exponent * 10 + (*p - '0');
    }
    if (exponent_negative)
      exponent = -exponent;
  }
  if (p != end)
    return syntax_error(text);

  std::int64_t scale = fraction_digits - exponent;
  if (builder.empty()) // zero: keep the written scale where it is representable
    return Decimal(0, static_cast<int>(std::clamp<std::int64_t>(scale, 0, max_scale)));

  if (scale < 0) {
    // A positive exponent folds into the coefficient: "1.5E3" is 1500 with scale 0.
    for (std::int64_t zeros = pending_zeros - scale; zeros > 0; --zeros) {
      if (!builder.push(0))
        return exponent_out_of_range(text);
    }
    scale = 0;
  } else {
    for (; pending_zeros > 0 && builder.digits() < max_digits; --pending_zeros)
      builder.push(0);
    scale -= pending_zeros; // trailing zeros that did not fit
  }

  U128 coefficient = builder.finish();
  // Trailing zeros of the coefficient can absorb an over-long scale ("100e-40" is 1e-38).
  while (scale > max_scale && coefficient % 10 == 0) {
    coefficient /= 10;
    --scale;
  }
  if (scale > max_scale)
    return scale_too_large(text);

  const auto signed_coefficient = static_cast<I128>(coefficient);
  return Decimal(negative ? -signed_coefficient : signed_coefficient, static_cast<int>(scale));
}

Decimal Decimal::from_string(std::string_view text) {
  return parse(text).value_or_throw();
}

Decimal Decimal::from_int(std::int64_t value) noexcept {
  return Decimal(value, 0);
}

void Decimal::append_to(std::string& out) const {
  // Sign, 38 digits, point and a leading "0." fit in 42 characters.
  char buffer[48];
  char* const end = buffer + sizeof buffer;
  char* first = write_digits(magnitude(coefficient_), end);
  // At least one digit before the point: pad 0.000005 with zeros.
  while (end - first < scale_ + 1)
    *--first = '0';
  const auto digit_count = end - first;
  const auto integer_digits = digit_count - scale_;

  if (coefficient_ < 0)
    out.push_back('-');
  out.append(first, static_cast<std::size_t>(integer_digits));
  if (scale_ > 0) {
    out.push_back('.');
    out.append(first + integer_digits, static_cast<std::size_t>(scale_));
  }
}

std::string Decimal::to_string() const {
  std::string out;
  append_to(out);
  return out;
}

Decimal Decimal::normalized() const noexcept {
  if (coefficient_ == 0)
    return Decimal();
  I128 coefficient = coefficient_;
  int scale = scale_;
  while (scale > 0 && coefficient % 10 == 0) {
    coefficient /= 10;
    --scale;
  }
  return Decimal(coefficient, scale);
}

Decimal Decimal::operator-() const noexcept {
  return Decimal(-coefficient_, scale_);
}

namespace {

// Turns an exact wide result into a Decimal, dropping trailing fractional zeros only when the
// result does not fit otherwise; throws when it still does not fit.
template <class Describe>
I128 fold_wide(WideNumber magnitude, bool negative, int& scale, Describe describe) {
  while ((magnitude.size() > Decimal::max_digits || scale > Decimal::max_scale) && scale > 0 &&
         magnitude.lowest_is_zero()) {
    magnitude.drop_lowest();
    --scale;
  }
  if (magnitude.size() == 0) {
    scale = std::min(scale, Decimal::max_scale);
    return 0;
  }
  if (magnitude.size() > Decimal::max_digits)
    throw DecimalOverflow(describe() + " needs more than " + std::to_string(Decimal::max_digits) +
                          " significant digits");
  if (scale > Decimal::max_scale)
    throw DecimalOverflow(describe() + " needs more than " + std::to_string(Decimal::max_scale) +
                          " digits after the decimal point");
  const auto value = static_cast<I128>(magnitude.to_u128());
  return negative ? -value : value;
}

} // namespace

Decimal& Decimal::operator+=(const Decimal& other) {
  // Fast path: align the smaller scale up and add in 128 bits.
  I128 left = coefficient_;
  I128 right = other.coefficient_;
  const int scale = std::max(scale_, other.scale_);
  bool overflow = false;
  if (scale_ < scale)
    overflow =
        __builtin_mul_overflow(left, static_cast<I128>(powers_of_ten[scale - scale_]), &left);
  else if (other.scale_ < scale)
    overflow = __builtin_mul_overflow(right, static_cast<I128>(powers_of_ten[scale - other.scale_]),
                                      &right);
  I128 sum = 0;
  if (!overflow && !__builtin_add_overflow(left, right, &sum) && fits(sum)) {
    coefficient_ = sum;
    scale_ = scale;
    return *this;
  }

  // Slow path: exact digits, so a sum that fits after dropping trailing zeros still succeeds.
  WideNumber a(magnitude(coefficient_));
  WideNumber b(magnitude(other.coefficient_));
  a.shift_left(scale - scale_);
  b.shift_left(scale - other.scale_);
  const bool a_negative = coefficient_ < 0;
  const bool b_negative = other.coefficient_ < 0;
  WideNumber result(0);
  bool negative = false;
  if (a_negative == b_negative) {
    result = add(a, b);
    negative = a_negative;
  } else if (compare(a, b) >= 0) {
    result = subtract(a, b);
    negative = a_negative;
  } else {
    result = subtract(b, a);
    negative = b_negative;
  }
  int result_scale = scale;
  const I128 coefficient = fold_wide(result, negative, result_scale, [&] {
    return "decimal sum " + to_string() + " + " + other.to_string();
  });
  coefficient_ = coefficient;
  scale_ = result_scale;
  return *this;
}

Decimal& Decimal::operator-=(const Decimal& other) {
  return *this += -other;
}

Decimal operator*(const Decimal& a, const Decimal& b) {
  const bool negative = (a.coefficient_ < 0) != (b.coefficient_ < 0);
  const U128 left = magnitude(a.coefficient_);
  const U128 right = magnitude(b.coefficient_);
  int scale = a.scale_ + b.scale_;
  U128 product = 0;
  if (!__builtin_mul_overflow(left, right, &product) && product < coefficient_limit &&
      scale <= Decimal::max_scale) {
    const auto value = static_cast<I128>(product);
    return Decimal(negative ? -value : value, scale);
  }
  const I128 coefficient =
      fold_wide(multiply(WideNumber(left), WideNumber(right)), negative, scale,
                [&] { return "decimal product " + a.to_string() + " * " + b.to_string(); });
  return Decimal(coefficient, scale);
}

std::strong_ordering operator<=>(const Decimal& a, const Decimal& b) noexcept {
  const int sign_a = (a.coefficient_ > 0) - (a.coefficient_ < 0);
  const int sign_b = (b.coefficient_ > 0) - (b.coefficient_ < 0);
  if (sign_a != sign_b || sign_a == 0)
    return sign_a <=> sign_b;

  // Same sign: compare magnitudes at a common scale. A magnitude that overflows 128 bits when
  // scaled up is larger than any coefficient, which is below 10^38.
  U128 left = magnitude(a.coefficient_);
  U128 right = magnitude(b.coefficient_);
  bool left_overflow = false;
  bool right_overflow = false;
  if (a.scale_ < b.scale_)
    left_overflow = __builtin_mul_overflow(left, powers_of_ten[b.scale_ - a.scale_], &left);
  else if (b.scale_ < a.scale_)
    right_overflow = __builtin_mul_overflow(right, powers_of_ten[a.scale_ - b.scale_], &right);

  std::strong_ordering magnitude_order = std::strong_ordering::equal;
  if (left_overflow || (!right_overflow && left > right))
    magnitude_order = std::strong_ordering::greater;
  else if (right_overflow || left < right)
    magnitude_order = std::strong_ordering::less;
  return sign_a > 0 ? magnitude_order : 0 <=> magnitude_order;
}

bool operator==(const Decimal& a, const Decimal& b) noexcept {
  return (a <=> b) == 0;
}

} // namespace billdrop
