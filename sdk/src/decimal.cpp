#include <billdrop/decimal.hpp>
#include <billdrop/text.hpp>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <limits>

namespace billdrop {
namespace {

// GCC's -Wpedantic flags every spelling of __int128; __extension__ marks these as intended.
__extension__ typedef unsigned __int128 U128;
__extension__ typedef __int128 I128;
using u64 = std::uint64_t;

// Fixed-width unsigned integers of N 64-bit limbs, least significant first. Four limbs hold a
// coefficient (10^76 < 2^256); eight hold an operand aligned to another's scale or a product
// (both below 10^152 < 2^512) until it is folded back into four.
//
// Written here rather than taken from Boost.Multiprecision: the slow path needs only add,
// subtract, compare, multiply and divide by one 64-bit word, and one schoolbook product; the fast
// path stays plain 128-bit arithmetic with no dispatch through a number type; and decimal.cpp
// keeps building in a second instead of instantiating cpp_int's expression templates.
template <std::size_t N>
using Limbs = std::array<u64, N>;

constexpr u64 low(U128 value) noexcept {
  return static_cast<u64>(value);
}
constexpr u64 high(U128 value) noexcept {
  return static_cast<u64>(value >> 64);
}

template <std::size_t N>
constexpr bool is_zero(const Limbs<N>& a) noexcept {
  u64 any = 0;
  for (const u64 limb : a)
    any |= limb;
  return any == 0;
}

template <std::size_t N>
constexpr int compare(const Limbs<N>& a, const Limbs<N>& b) noexcept {
  for (std::size_t i = N; i-- > 0;) {
    if (a[i] != b[i])
      return a[i] < b[i] ? -1 : 1;
  }
  return 0;
}

// a += b; returns the carry out.
template <std::size_t N>
constexpr u64 add(Limbs<N>& a, const Limbs<N>& b) noexcept {
  u64 carry = 0;
  for (std::size_t i = 0; i < N; ++i) {
    const U128 sum = U128(a[i]) + b[i] + carry;
    a[i] = low(sum);
    carry = high(sum);
  }
  return carry;
}

// a -= b for a >= b.
template <std::size_t N>
constexpr void subtract(Limbs<N>& a, const Limbs<N>& b) noexcept {
  u64 borrow = 0;
  for (std::size_t i = 0; i < N; ++i) {
    const U128 difference = U128(a[i]) - b[i] - borrow;
    a[i] = low(difference);
    borrow = high(difference) != 0 ? 1 : 0;
  }
}

// a = a * factor + addend; returns what did not fit.
template <std::size_t N>
constexpr u64 multiply_add(Limbs<N>& a, u64 factor, u64 addend = 0) noexcept {
  u64 carry = addend;
  for (std::size_t i = 0; i < N; ++i) {
    const U128 product = U128(a[i]) * factor + carry;
    a[i] = low(product);
    carry = high(product);
  }
  return carry;
}

// a /= divisor; returns the remainder.
template <std::size_t N>
u64 divide(Limbs<N>& a, u64 divisor) noexcept {
  u64 remainder = 0;
  for (std::size_t i = N; i-- > 0;) {
    const U128 part = (U128(remainder) << 64) | a[i];
    a[i] = low(part / divisor);
    remainder = low(part % divisor);
  }
  return remainder;
}

template <std::size_t To, std::size_t From>
constexpr Limbs<To> resize(const Limbs<From>& a) noexcept {
  Limbs<To> out{};
  for (std::size_t i = 0; i < std::min(To, From); ++i)
    out[i] = a[i];
  return out;
}

Limbs<8> multiply(const Limbs<4>& a, const Limbs<4>& b) noexcept {
  Limbs<8> product{};
  for (std::size_t i = 0; i < 4; ++i) {
    u64 carry = 0;
    for (std::size_t j = 0; j < 4; ++j) {
      const U128 term = U128(a[i]) * b[j] + product[i + j] + carry;
      product[i + j] = low(term);
      carry = high(term);
    }
    product[i + 4] = carry;
  }
  return product;
}

template <class T, std::size_t N>
constexpr std::array<T, N> make_powers_of_ten() {
  std::array<T, N> powers{};
  T power = 1;
  for (auto& entry : powers) {
    entry = power;
    power *= 10;
  }
  return powers;
}
constexpr std::array<u64, 20> small_powers_of_ten = make_powers_of_ten<u64, 20>(); // 10^0..10^19
constexpr u64 ten_to_19 = small_powers_of_ten[19];
constexpr std::array<U128, 39> powers_of_ten = make_powers_of_ten<U128, 39>(); // 10^0..10^38

constexpr Limbs<4> make_coefficient_limit() {
  Limbs<4> limit{1, 0, 0, 0};
  for (int i = 0; i < Decimal::max_digits; ++i)
    multiply_add(limit, 10);
  return limit;
}
constexpr Limbs<4> coefficient_limit = make_coefficient_limit(); // 10^76, exclusive
static_assert(coefficient_limit[3] != 0 && coefficient_limit[3] < (u64{1} << 62),
              "10^max_digits must need all four limbs and leave the sign bit free");

// a *= 10^places; the caller has room for the result.
template <std::size_t N>
void shift_left(Limbs<N>& a, int places) noexcept {
  for (; places > 0; places -= 19)
    multiply_add(a, small_powers_of_ten[std::min(places, 19)]);
}

// a /= 10 when a ends in a zero digit.
template <std::size_t N>
bool drop_trailing_zero(Limbs<N>& a) noexcept {
  Limbs<N> quotient = a;
  if (divide(quotient, 10) != 0)
    return false;
  a = quotient;
  return true;
}

// ---- the coefficient in two's complement ----

template <std::size_t N>
bool negative(const Limbs<N>& words) noexcept {
  return static_cast<std::int64_t>(words[N - 1]) < 0;
}

template <std::size_t N>
void negate(Limbs<N>& words) noexcept {
  u64 carry = 1;
  for (u64& word : words) {
    const U128 sum = U128(~word) + carry;
    word = low(sum);
    carry = high(sum);
  }
}

Limbs<4> magnitude(Limbs<4> words) noexcept {
  if (negative(words))
    negate(words);
  return words;
}

Limbs<4> with_sign(Limbs<4> value, bool is_negative) noexcept {
  if (is_negative)
    negate(value);
  return value;
}

// Whether the coefficient is a sign-extended 128-bit value: the fast path.
bool fits_128(const Limbs<4>& words) noexcept {
  const u64 sign = static_cast<u64>(static_cast<std::int64_t>(words[1]) >> 63);
  return words[2] == sign && words[3] == sign;
}

I128 load_128(const Limbs<4>& words) noexcept {
  return static_cast<I128>((U128(words[1]) << 64) | words[0]);
}

Limbs<4> store_128(I128 value) noexcept {
  const u64 sign = value < 0 ? ~u64{0} : 0;
  return {low(static_cast<U128>(value)), high(static_cast<U128>(value)), sign, sign};
}

U128 magnitude_128(I128 value) noexcept {
  return value < 0 ? U128(0) - static_cast<U128>(value) : static_cast<U128>(value);
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

// Builds a coefficient digit by digit. Digits collect in a 64-bit chunk and fold into a 128-bit
// value every 19 digits, so the usual short cost string never touches 128-bit multiplication;
// only a coefficient past 38 digits moves to four limbs.
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

  // The coefficient, as 128 bits while it fits (always up to 38 digits).
  bool finish() noexcept {
    flush();
    return !wide_;
  }
  U128 narrow_value() const noexcept { return value_; }
  const Limbs<4>& wide_value() const noexcept { return wide_value_; }

private:
  void flush() noexcept {
    if (wide_ || digits_ > 38) [[unlikely]]
      flush_wide();
    else
      value_ = value_ == 0 ? chunk_ : value_ * powers_of_ten[chunk_digits_] + chunk_;
    chunk_ = 0;
    chunk_digits_ = 0;
  }

  // Out of line, so the short path through push() stays small enough to inline.
  [[gnu::noinline]] void flush_wide() noexcept {
    if (!wide_) {
      wide_value_ = {low(value_), high(value_), 0, 0};
      wide_ = true;
    }
    multiply_add(wide_value_, small_powers_of_ten[chunk_digits_], chunk_);
  }

  U128 value_ = 0;
  Limbs<4> wide_value_; // set when wide_ becomes true: the short path never touches it
  bool wide_ = false;
  u64 chunk_ = 0;
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

// Writes the decimal digits of a magnitude right-aligned ending at end; returns the first digit.
char* write_digits(U128 value, char* end) noexcept {
  char* p = end;
  auto write_u64 = [&p](u64 v, int min_digits) {
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
  while (value > ~u64{0}) {
    write_u64(static_cast<u64>(value % ten_to_19), 19);
    value /= ten_to_19;
  }
  write_u64(static_cast<u64>(value), 1);
  return p;
}

// The same for a magnitude past 128 bits: 19 digits per division of the four limbs until the
// rest fits 128 bits.
char* write_digits(Limbs<4> value, char* end) noexcept {
  char* p = end;
  while ((value[2] | value[3]) != 0) {
    u64 chunk = divide(value, ten_to_19);
    for (int i = 0; i < 19; ++i, chunk /= 10)
      *--p = static_cast<char>('0' + chunk % 10);
  }
  return write_digits((U128(value[1]) << 64) | value[0], p);
}

// Turns an exact wide result into a coefficient, dropping trailing fractional zeros only when the
// result does not fit otherwise; throws when it still does not fit.
template <class Describe>
Limbs<4> fold_wide(Limbs<8> value, bool is_negative, int& scale, Describe describe) {
  const Limbs<8> limit = resize<8>(coefficient_limit);
  while ((compare(value, limit) >= 0 || scale > Decimal::max_scale) && scale > 0 &&
         !is_zero(value) && drop_trailing_zero(value))
    --scale;
  if (is_zero(value)) {
    scale = std::min(scale, Decimal::max_scale);
    return {};
  }
  if (compare(value, limit) >= 0)
    throw DecimalOverflow(describe() + " needs more than " + std::to_string(Decimal::max_digits) +
                          " significant digits");
  if (scale > Decimal::max_scale)
    throw DecimalOverflow(describe() + " needs more than " + std::to_string(Decimal::max_scale) +
                          " digits after the decimal point");
  return with_sign(resize<4>(value), is_negative);
}

} // namespace

// Plain decimal text of at most 18 digits ("-12.50", "0.0622600000"), the form of nearly every
// cost in an export: its coefficient is the digits read as an integer (leading zeros add
// nothing, trailing fraction zeros are kept) and its scale the count of fraction digits, exactly
// what the general path below gives, in a fraction of the time. Anything else: nullopt.
std::optional<Decimal> Decimal::parse_short_plain(std::string_view text) noexcept {
  const char* p = text.data();
  const char* const end = p + text.size();
  const bool negative = p != end && *p == '-';
  if (negative)
    ++p;
  std::int64_t value = 0;
  int digits = 0;
  int fraction_digits = 0;
  bool fraction = false;
  for (; p != end; ++p) {
    const auto digit = static_cast<unsigned char>(*p - '0');
    if (digit <= 9) {
      if (++digits > 18) // past what the fast path takes, before the integer could overflow
        return std::nullopt;
      value = value * 10 + digit;
      fraction_digits += fraction;
    } else if (*p == '.' && !fraction) {
      fraction = true;
    } else {
      return std::nullopt;
    }
  }
  // "." alone, "5." and ".5" go the general way (the last two are valid there).
  if (digits == 0 || digits > 18 ||
      (fraction && (fraction_digits == 0 || fraction_digits == digits)))
    return std::nullopt;
  return Decimal(store_128(negative ? -value : value), fraction_digits);
}

Result<Decimal> Decimal::parse(std::string_view text) {
  if (std::optional<Decimal> plain = parse_short_plain(text))
    return *plain;
  const char* p = text.data();
  const char* const end = p + text.size();

  bool negative_sign = false;
  if (p != end && (*p == '+' || *p == '-')) {
    negative_sign = *p == '-';
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
    return Decimal(Words{}, static_cast<int>(std::clamp<std::int64_t>(scale, 0, max_scale)));

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

  if (builder.finish() && scale <= max_scale) {
    const auto value = static_cast<I128>(builder.narrow_value()); // below 10^38 < 2^127
    return Decimal(store_128(negative_sign ? -value : value), static_cast<int>(scale));
  }
  Limbs<4> coefficient =
      builder.finish() ? Limbs<4>{low(builder.narrow_value()), high(builder.narrow_value()), 0, 0}
                       : builder.wide_value();
  // Trailing zeros of the coefficient can absorb an over-long scale ("100e-78" is 1e-76).
  while (scale > max_scale && drop_trailing_zero(coefficient))
    --scale;
  if (scale > max_scale)
    return scale_too_large(text);
  return Decimal(with_sign(coefficient, negative_sign), static_cast<int>(scale));
}

Decimal Decimal::from_string(std::string_view text) {
  return parse(text).value_or_throw();
}

Decimal Decimal::from_int(std::int64_t value) noexcept {
  return Decimal(store_128(value), 0);
}

std::optional<Decimal::int128> Decimal::int128_coefficient() const noexcept {
  if (!fits_128(words_))
    return std::nullopt;
  return load_128(words_);
}

Decimal::int128 Decimal::coefficient() const noexcept {
  return load_128(words_);
}

void Decimal::append_to(std::string& out) const {
  // Sign, 76 digits, point and a leading "0." fit in 80 characters.
  char buffer[88];
  char* const end = buffer + sizeof buffer;
  char* first = fits_128(words_) ? write_digits(magnitude_128(load_128(words_)), end)
                                 : write_digits(magnitude(words_), end);
  // At least one digit before the point: pad 0.000005 with zeros.
  while (end - first < scale_ + 1)
    *--first = '0';
  const auto digit_count = end - first;
  const auto integer_digits = digit_count - scale_;

  if (is_negative())
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
  if (is_zero())
    return Decimal();
  int scale = scale_;
  if (fits_128(words_)) {
    I128 coefficient = load_128(words_);
    while (scale > 0 && coefficient % 10 == 0) {
      coefficient /= 10;
      --scale;
    }
    return Decimal(store_128(coefficient), scale);
  }
  Limbs<4> coefficient = magnitude(words_);
  while (scale > 0 && drop_trailing_zero(coefficient))
    --scale;
  return Decimal(with_sign(coefficient, is_negative()), scale);
}

Decimal Decimal::operator-() const noexcept {
  Words negated = words_; // |coefficient| < 10^76, so its negation always fits
  negate(negated);
  return Decimal(negated, scale_);
}

Decimal& Decimal::operator+=(const Decimal& other) {
  const int scale = std::max(scale_, other.scale_);
  // Fast path: both coefficients fit 128 bits; align the smaller scale up and add in 128 bits.
  // Any 128-bit result is far below 10^76, so only the 128-bit overflow needs checking.
  if (fits_128(words_) && fits_128(other.words_)) {
    I128 left = load_128(words_);
    I128 right = load_128(other.words_);
    // Times 10^places; false on overflow. A value within 64 bits times at most 10^18 fits 128
    // bits, so the common case (a row's cost scaled to its total's scale) needs no overflow
    // check, which for 128 bits is a library call.
    const auto scale_up = [](I128& value, int places) {
      if (places > 38)
        return false;
      const auto factor = static_cast<I128>(powers_of_ten[places]);
      if (places <= 18 && value >= std::numeric_limits<std::int64_t>::min() &&
          value <= std::numeric_limits<std::int64_t>::max()) {
        value *= factor;
        return true;
      }
      return !__builtin_mul_overflow(value, factor, &value);
    };
    bool overflow = false;
    if (scale_ < scale)
      overflow = !scale_up(left, scale - scale_);
    else if (other.scale_ < scale)
      overflow = !scale_up(right, scale - other.scale_);
    I128 sum = 0;
    if (!overflow && !__builtin_add_overflow(left, right, &sum)) {
      words_ = store_128(sum);
      scale_ = scale;
      return *this;
    }
  }

  // Slow path: exact in eight limbs, so a sum that fits after dropping trailing zeros succeeds.
  Limbs<8> a = resize<8>(magnitude(words_));
  Limbs<8> b = resize<8>(magnitude(other.words_));
  shift_left(a, scale - scale_);
  shift_left(b, scale - other.scale_);
  const bool a_negative = is_negative();
  const bool b_negative = other.is_negative();
  bool result_negative = a_negative;
  if (a_negative == b_negative) {
    add(a, b);
  } else if (compare(a, b) >= 0) {
    subtract(a, b);
  } else {
    subtract(b, a);
    a = b;
    result_negative = b_negative;
  }
  int result_scale = scale;
  const Words coefficient = fold_wide(a, result_negative, result_scale, [&] {
    return "decimal sum " + to_string() + " + " + other.to_string();
  });
  words_ = coefficient;
  scale_ = result_scale;
  return *this;
}

Decimal& Decimal::operator-=(const Decimal& other) {
  return *this += -other;
}

Decimal operator*(const Decimal& a, const Decimal& b) {
  const bool result_negative = a.is_negative() != b.is_negative();
  int scale = a.scale_ + b.scale_;
  if (fits_128(a.words_) && fits_128(b.words_)) {
    const U128 left = magnitude_128(load_128(a.words_));
    const U128 right = magnitude_128(load_128(b.words_));
    U128 product = 0;
    if (!__builtin_mul_overflow(left, right, &product) && scale <= Decimal::max_scale)
      return Decimal(with_sign({low(product), high(product), 0, 0}, result_negative), scale);
  }
  const Decimal::Words coefficient =
      fold_wide(multiply(magnitude(a.words_), magnitude(b.words_)), result_negative, scale,
                [&] { return "decimal product " + a.to_string() + " * " + b.to_string(); });
  return Decimal(coefficient, scale);
}

std::strong_ordering operator<=>(const Decimal& a, const Decimal& b) noexcept {
  const int sign_a = a.is_negative() ? -1 : a.is_zero() ? 0 : 1;
  const int sign_b = b.is_negative() ? -1 : b.is_zero() ? 0 : 1;
  if (sign_a != sign_b || sign_a == 0)
    return sign_a <=> sign_b;

  // Same sign: compare magnitudes at a common scale.
  int magnitude_order = 0;
  if (fits_128(a.words_) && fits_128(b.words_) && std::abs(a.scale_ - b.scale_) <= 38) {
    // A magnitude that overflows 128 bits when scaled up is larger than the other, which fits.
    U128 left = magnitude_128(load_128(a.words_));
    U128 right = magnitude_128(load_128(b.words_));
    bool left_overflow = false;
    bool right_overflow = false;
    if (a.scale_ < b.scale_)
      left_overflow = __builtin_mul_overflow(left, powers_of_ten[b.scale_ - a.scale_], &left);
    else if (b.scale_ < a.scale_)
      right_overflow = __builtin_mul_overflow(right, powers_of_ten[a.scale_ - b.scale_], &right);
    magnitude_order = left_overflow    ? 1
                      : right_overflow ? -1
                      : left == right  ? 0
                                       : (left > right ? 1 : -1);
  } else {
    Limbs<8> left = resize<8>(magnitude(a.words_));
    Limbs<8> right = resize<8>(magnitude(b.words_));
    shift_left(left, std::max(0, b.scale_ - a.scale_));
    shift_left(right, std::max(0, a.scale_ - b.scale_));
    magnitude_order = compare(left, right);
  }
  if (sign_a < 0)
    magnitude_order = -magnitude_order;
  return magnitude_order <=> 0;
}

bool operator==(const Decimal& a, const Decimal& b) noexcept {
  return (a <=> b) == 0;
}

// At most 38 digits: well within max_digits, and parse()'s fast path's bound.
bool Decimal::is_canonical(std::string_view value) noexcept {
  // One pass, a byte at a time: amounts are short ("0.265334"), so a word at a time did not pay.
  const char* p = value.data();
  const char* const end = p + value.size();
  const auto is_digit = [](char c) { return static_cast<unsigned char>(c - '0') <= 9; };
  const bool negative = p != end && *p == '-';
  p += negative ? 1 : 0;
  const char* const integer = p;
  while (p != end && is_digit(*p))
    ++p;
  if (p == integer || (*integer == '0' && p - integer > 1))
    return false; // no digits, or a leading zero
  std::size_t digits = static_cast<std::size_t>(p - integer);
  if (p != end) {
    if (*p != '.')
      return false;
    const char* const fraction = ++p;
    while (p != end && is_digit(*p))
      ++p;
    if (p == fraction || p != end)
      return false;
    digits += static_cast<std::size_t>(p - fraction);
  }
  if (digits > 38)
    return false;
  if (!negative)
    return true;
  // A negative zero ("-0.00") is written without its sign.
  for (const char* q = integer; q != end; ++q)
    if (*q != '0' && *q != '.')
      return true;
  return false;
}

} // namespace billdrop
