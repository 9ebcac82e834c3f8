#include "core/numbers.hpp"

#include <random>
#include <string>

namespace billdrop::core {

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

std::string percent_of(std::uint64_t part, std::uint64_t whole) {
  if (whole == 0)
    return "-";
  __extension__ typedef unsigned __int128 Wide;
  const Wide tenths = (Wide(part) * 2000 + whole) / (Wide(whole) * 2); // rounded half up
  return std::to_string(static_cast<std::uint64_t>(tenths / 10)) + "." +
         std::to_string(static_cast<unsigned>(tenths % 10));
}

} // namespace billdrop::core
