#pragma once
// Not part of the SDK's public API: the copy of a short string that the row paths make for every
// field of every row (RowSink's arena, the validator's canonical JSON).

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace billdrop::detail {

// Copies [src, src + n) to dst, which must not overlap it. Fields are short (an account id, a
// cost, a column name), and a call to the library's memcpy costs more than such a copy: up to
// 32 bytes go with at most two pairs of overlapping loads and stores of fixed size, which the
// compiler makes plain moves. Reads and writes nothing outside the two ranges.
inline void copy_short(char* dst, const char* src, std::size_t n) noexcept {
  if (n > 32) {
    std::memcpy(dst, src, n);
  } else if (n >= 16) {
    char head[16], tail[16]; // two overlapping 16-byte moves cover 16..32 bytes
    std::memcpy(head, src, 16);
    std::memcpy(tail, src + n - 16, 16);
    std::memcpy(dst, head, 16);
    std::memcpy(dst + n - 16, tail, 16);
  } else if (n >= 8) {
    std::uint64_t head, tail; // two overlapping words cover 8..16 bytes
    std::memcpy(&head, src, 8);
    std::memcpy(&tail, src + n - 8, 8);
    std::memcpy(dst, &head, 8);
    std::memcpy(dst + n - 8, &tail, 8);
  } else if (n >= 4) {
    std::uint32_t head, tail;
    std::memcpy(&head, src, 4);
    std::memcpy(&tail, src + n - 4, 4);
    std::memcpy(dst, &head, 4);
    std::memcpy(dst + n - 4, &tail, 4);
  } else if (n > 0) {
    dst[0] = src[0];
    dst[n / 2] = src[n / 2];
    dst[n - 1] = src[n - 1];
  }
}

} // namespace billdrop::detail
