#pragma once
// Not part of the SDK's public API: the copy of a short string that the row paths make for every
// field of every row (RowSink's arena, the validator's canonical JSON).

#include <cstddef>
#include <cstdint>
#include <cstring>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

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

#ifdef __SSE2__
// The bytes of a JSON string's text that make it not plain: bit i set when byte i of `v` is '"',
// '\\', below 0x20, or 0x80 and above (is_plain_json_text's test).
inline int plain_json_flags(__m128i v) noexcept {
  __m128i hits =
      _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\\')));
  const __m128i max_control = _mm_set1_epi8(0x1F);
  hits = _mm_or_si128(hits, _mm_cmpeq_epi8(_mm_min_epu8(v, max_control), v)); // v <= 0x1F
  return _mm_movemask_epi8(_mm_or_si128(hits, v));                            // and the high bits
}

// The n < 16 bytes at p in two words, low first, the rest spaces (which no JSON check flags):
// from at most two overlapping loads, with no library call. For n >= 8, `low` is the first
// eight bytes and `high` the last eight; for 4 <= n < 8, `low` holds the first four bytes and
// then the last four.
inline void load_short_words(const char* p, std::size_t n, std::uint64_t& low,
                             std::uint64_t& high) noexcept {
  constexpr std::uint64_t kSpaces = 0x2020202020202020ULL;
  low = kSpaces;
  high = kSpaces;
  if (n >= 8) {
    std::memcpy(&low, p, 8);
    std::memcpy(&high, p + n - 8, 8);
  } else if (n >= 4) {
    std::uint32_t head;
    std::uint32_t tail;
    std::memcpy(&head, p, 4);
    std::memcpy(&tail, p + n - 4, 4);
    low = std::uint64_t{tail} << 32 | head;
  } else {
    for (std::size_t i = 0; i < n; ++i)
      low = (low & ~(std::uint64_t{0xFF} << (8 * i))) |
            std::uint64_t{static_cast<unsigned char>(p[i])} << (8 * i);
  }
}

// Copies [src, src + n) to dst, which must not overlap it and must have room for n bytes, and
// says whether the text is plain (is_plain_json_text): each byte is loaded once for both. The
// validator's copy of a value into the row's JSON.
inline bool copy_plain_json_text(char* dst, const char* src, std::size_t n) noexcept {
  if (n >= 16) { // whole blocks, then one more that overlaps the last
    int bad = 0;
    std::size_t i = 0;
    for (; i + 16 <= n; i += 16) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i));
      bad |= plain_json_flags(v);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), v);
    }
    if (i < n) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + n - 16));
      bad |= plain_json_flags(v);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + n - 16), v);
    }
    return bad == 0;
  }
  std::uint64_t low;
  std::uint64_t high;
  load_short_words(src, n, low, high);
  if (n >= 8) { // stored from the same words
    std::memcpy(dst, &low, 8);
    std::memcpy(dst + n - 8, &high, 8);
  } else if (n >= 4) {
    const auto head = static_cast<std::uint32_t>(low);
    const auto tail = static_cast<std::uint32_t>(low >> 32);
    std::memcpy(dst, &head, 4);
    std::memcpy(dst + n - 4, &tail, 4);
  } else {
    for (std::size_t i = 0; i < n; ++i)
      dst[i] = src[i];
  }
  return plain_json_flags(
             _mm_set_epi64x(static_cast<long long>(high), static_cast<long long>(low))) == 0;
}
#endif

} // namespace billdrop::detail
