#pragma once
// Numbers as people read them in messages and reports.

#include <cstddef>
#include <cstdint>
#include <string>

namespace billdrop::core {

// "1,234,567".
std::string group_thousands(std::uint64_t value);

// `words` 32-bit words from std::random_device as lowercase hex (8 digits each): ids that must
// not repeat across processes and machines.
std::string random_hex(std::size_t words);

// `part` as a percentage of `whole` with one decimal, rounded half up: "25.0". Integer arithmetic
// only, so the figure is the same everywhere. "-" when `whole` is 0.
std::string percent_of(std::uint64_t part, std::uint64_t whole);

} // namespace billdrop::core
