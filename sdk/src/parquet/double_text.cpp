// The shortest round-trip text of a double, with an integer fast path for values that print in
// at most 15 significant digits.
//
// Why the fast path is exact. For a finite x in [1e-7, 1e15), take k = 14 - floor(log10 x) (0 to
// 22; an estimate that is one off only changes which candidate is tried) and m = x·10^k rounded
// to an integer below 10^15. The candidate decimal m·10^-k reads back as x exactly when
// double(m) / 10^k == x: m (< 2^53) and 10^k (k ≤ 22) are exact doubles, and IEEE division
// rounds their exact quotient to nearest-even, as from_chars/strtod round the decimal. Then it is
// the shortest text: two different decimals of at most 15 significant digits never read back as
// the same normal double (15-digit decimals are at least 4.5 times further apart than doubles in
// every decade, which is why DBL_DIG is 15), so the shortest round-trip decimal, which has no more
// digits than m, is m·10^-k itself, trailing zeros dropped. Its layout follows to_chars: fixed
// notation unless scientific is strictly shorter; those few values (1e-05, 1e+10) go to
// std::to_chars, as does every value the check refuses (16 or 17 digits, subnormals, NaN, ±inf).

#include <billdrop/parquet_double.hpp>

#include <charconv>
#include <cstdint>
#include <cstring>

namespace billdrop {

namespace {

constexpr double pow10_double[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

constexpr char digit_pairs[201] = "00010203040506070809"
                                  "10111213141516171819"
                                  "20212223242526272829"
                                  "30313233343536373839"
                                  "40414243444546474849"
                                  "50515253545556575859"
                                  "60616263646566676869"
                                  "70717273747576777879"
                                  "80818283848586878889"
                                  "90919293949596979899";

constexpr std::uint64_t pow10_u64[16] = {1ull,
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
                                         1000000000000000ull};

// Digits of 0 < v < 10^15: log10 from the bit length (× 1233/4096 ≈ log10 2), then one compare.
int digit_count(std::uint64_t v) noexcept {
  const int guess = ((64 - __builtin_clzll(v)) * 1233) >> 12;
  return guess + (v >= pow10_u64[guess]);
}

// Writes the `n` digits of v ending at `end`.
void put_digits_back(char* end, std::uint64_t v) noexcept {
  while (v >= 100) {
    const auto pair = static_cast<unsigned>(v % 100);
    v /= 100;
    end -= 2;
    std::memcpy(end, digit_pairs + 2 * pair, 2);
  }
  if (v >= 10) {
    end -= 2;
    std::memcpy(end, digit_pairs + 2 * v, 2);
  } else {
    *--end = static_cast<char>('0' + v);
  }
}

} // namespace

char* write_shortest_double_reference(char* out, double value) noexcept {
  return std::to_chars(out, out + shortest_double_max, value).ptr;
}

char* write_shortest_double(char* out, double value) noexcept {
  if (char* end = write_shortest_double_fast(out, value))
    return end;
  return write_shortest_double_reference(out, value);
}

char* write_shortest_double_fast(char* out, double value) noexcept {
  std::uint64_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  const bool negative = (bits >> 63) != 0;
  const double x = negative ? -value : value;
  if (!(x >= 1e-7 && x < 1e15)) { // also NaN
    if (x == 0) {
      if (negative)
        *out++ = '-';
      *out++ = '0';
      return out;
    }
    return nullptr;
  }
  // floor(log10 x) is e2·log10(2) rounded down, or one more.
  const int e2 = static_cast<int>((bits >> 52) & 0x7ff) - 1023;
  const int e10 = (e2 * 78913) >> 18;
  int k = 14 - e10;
  // x·10^k < 10^16: a signed conversion (one instruction; the unsigned one branches).
  auto m = static_cast<std::uint64_t>(static_cast<std::int64_t>(x * pow10_double[k] + 0.5));
  if (m >= pow10_u64[15]) {
    if (k == 0)
      return nullptr;
    --k;
    m = static_cast<std::uint64_t>(static_cast<std::int64_t>(x * pow10_double[k] + 0.5));
    if (m >= pow10_u64[15])
      return nullptr;
  }
  if (static_cast<double>(m) / pow10_double[k] != x)
    return nullptr;
  // m·10^-k, trailing zeros dropped: digits·10^q.
  int q = -k;
  // At most 14 zeros (m < 10^15): 8 + 4 + 2 + 1 covers them.
  if (m % 100000000 == 0) {
    m /= 100000000;
    q += 8;
  }
  if (m % 10000 == 0) {
    m /= 10000;
    q += 4;
  }
  if (m % 100 == 0) {
    m /= 100;
    q += 2;
  }
  if (m % 10 == 0) {
    m /= 10;
    ++q;
  }
  const int s = digit_count(m);
  const int exponent = s - 1 + q; // of the scientific form d.ddde±XX
  const int scientific = s + (s > 1) + 2 + (exponent <= -100 || exponent >= 100 ? 3 : 2);
  const int fixed = q >= 0 ? s + q : exponent >= 0 ? s + 1 : s + 1 - exponent;
  if (fixed > scientific)
    return nullptr;
  if (negative)
    *out++ = '-';
  if (q >= 0) { // an integer
    put_digits_back(out + s, m);
    out += s;
    std::memset(out, '0', static_cast<std::size_t>(q));
    return out + q;
  }
  if (exponent >= 0) { // ddd.ddd
    // Fixed 16-byte copies (over-copying into the room shortest_double_max leaves: at most
    // 1 + 14 + 1 + 16 characters) instead of a call to memmove.
    const int whole = exponent + 1; // 1 to 14: s ≤ 15 digits, one at least after the point
    char digits[32] = {};
    put_digits_back(digits + s, m);
    std::memcpy(out, digits, 16);
    out[whole] = '.';
    std::memcpy(out + whole + 1, digits + whole, 16);
    return out + s + 1;
  }
  // 0.000ddd
  const int zeros = -exponent - 1;
  out[0] = '0';
  out[1] = '.';
  std::memset(out + 2, '0', static_cast<std::size_t>(zeros));
  put_digits_back(out + 2 + zeros + s, m);
  return out + 2 + zeros + s;
}

} // namespace billdrop
