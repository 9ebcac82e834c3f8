#pragma once
// The snapshot digest computed the way host/src/cbf/snapshot_index.hpp specifies it, with xxHash
// directly: tests compare the code under test against this, not against itself.

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace billdrop::testing {

// XXH3-128 over (XXH3-64 of the row, u32 length), little-endian, for each row in order; hex of
// the canonical (big-endian) bytes.
inline std::string expected_snapshot_digest(const std::vector<std::string>& rows_in_order) {
  std::string records; // all of them, hashed in one go (the same as streaming them)
  for (const std::string& row : rows_in_order) {
    const std::uint64_t hash = XXH3_64bits(row.data(), row.size());
    const auto length = static_cast<std::uint32_t>(row.size());
    for (int i = 0; i < 8; ++i)
      records += static_cast<char>(hash >> (8 * i));
    for (int i = 0; i < 4; ++i)
      records += static_cast<char>(length >> (8 * i));
  }
  XXH128_canonical_t canonical;
  XXH128_canonicalFromHash(&canonical, XXH3_128bits(records.data(), records.size()));
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char byte : canonical.digest) {
    hex += kHex[byte >> 4];
    hex += kHex[byte & 0xF];
  }
  return hex;
}

} // namespace billdrop::testing
