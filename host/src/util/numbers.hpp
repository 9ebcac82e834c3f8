#pragma once
// Numbers as people read them in messages and reports.

#include <cstddef>
#include <cstdint>
#include <string>

namespace billdrop {

// "1,234,567".
std::string group_thousands(std::uint64_t value);

// `words` 32-bit words from std::random_device as lowercase hex (8 digits each): ids that must
// not repeat across processes and machines.
std::string random_hex(std::size_t words);

} // namespace billdrop
