#pragma once
// Numbers as people read them in messages and reports.

#include <cstdint>
#include <string>

namespace billdrop {

// "1,234,567".
std::string group_thousands(std::uint64_t value);

} // namespace billdrop
