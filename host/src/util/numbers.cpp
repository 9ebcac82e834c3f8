#include "util/numbers.hpp"

#include <random>

namespace billdrop {

std::string group_thousands(std::uint64_t value) {
  const std::string digits = std::to_string(value);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i != 0 && (digits.size() - i) % 3 == 0)
      out += ',';
    out += digits[i];
  }
  return out;
}

std::string random_hex(std::size_t words) {
  std::random_device device;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(8 * words);
  for (std::size_t i = 0; i < words; ++i) {
    const std::uint32_t word = device();
    for (int shift = 28; shift >= 0; shift -= 4)
      hex += kHex[(word >> shift) & 0x0F];
  }
  return hex;
}

} // namespace billdrop
