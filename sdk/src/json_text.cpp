#include <billdrop/json_text.hpp>

#include <billdrop/detail/short_copy.hpp>

#include <array>
#include <cstdint>
#include <cstring>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

namespace billdrop {
namespace {

// Most CBF values need no escaping, so both functions look at eight bytes at a time and only
// fall back to byte-by-byte work on a word that holds something of interest.

constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
constexpr std::uint64_t kHighBits = 0x8080808080808080ULL;

std::uint64_t load_word(const char* p) noexcept {
  std::uint64_t word;
  std::memcpy(&word, p, sizeof word);
  return word;
}

// Non-zero when some byte of `word` is zero (may also flag bytes above a true zero: fine, it
// only sends the word to the slow path).
constexpr std::uint64_t has_zero_byte(std::uint64_t word) noexcept {
  return (word - kOnes) & ~word & kHighBits;
}

constexpr std::uint64_t has_byte(std::uint64_t word, unsigned char byte) noexcept {
  return has_zero_byte(word ^ (kOnes * byte));
}

// A byte below 0x20, '"', '\\' or 0xE2 (the lead byte of U+2028/U+2029).
constexpr bool needs_attention(std::uint64_t word) noexcept {
  const std::uint64_t control = (word - kOnes * 0x20) & ~word & kHighBits;
  return (control | has_byte(word, '"') | has_byte(word, '\\') | has_byte(word, 0xE2)) != 0;
}

#ifdef __SSE2__
// What clean_sse2 looks for: bytes of 0x80 and above (`ascii`); bytes JSON escapes or that may
// start U+2028/U+2029 (`escape`: below 0x20, '"', '\\', 0xE2); or either (`plain`).
enum class Clean { ascii, escape, plain };

// Sixteen bytes at a time for the common case, a short value: true when no byte of [p, p + n)
// is of the kind `mode` names.
template <Clean mode>
bool clean_sse2(const char* p, std::size_t n) noexcept {
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i line_lead = _mm_set1_epi8(static_cast<char>(0xE2));
  const __m128i max_control = _mm_set1_epi8(0x1F);
  const auto flags = [&](__m128i v) {
    if constexpr (mode == Clean::ascii)
      return _mm_movemask_epi8(v); // the high bits
    if constexpr (mode == Clean::plain)
      return detail::plain_json_flags(v);
    __m128i hits = _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash));
    hits = _mm_or_si128(hits, _mm_cmpeq_epi8(_mm_min_epu8(v, max_control), v)); // v <= 0x1F
    hits = _mm_or_si128(hits, _mm_cmpeq_epi8(v, line_lead));
    return _mm_movemask_epi8(hits);
  };
  if (n >= 16) { // whole blocks, then one more that overlaps the last: a byte seen twice is fine
    for (std::size_t i = 0; i + 16 <= n; i += 16)
      if (flags(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i))) != 0)
        return false;
    return flags(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + n - 16))) == 0;
  }
  // Shorter: the bytes into one register (detail::load_short_words).
  std::uint64_t low;
  std::uint64_t high;
  detail::load_short_words(p, n, low, high);
  return flags(_mm_set_epi64x(static_cast<long long>(high), static_cast<long long>(low))) == 0;
}
#endif

enum class ByteClass : std::uint8_t { copy, escape, line_separator_lead };

constexpr std::array<ByteClass, 256> make_byte_classes() {
  std::array<ByteClass, 256> classes{};
  for (std::size_t c = 0; c < 0x20; ++c)
    classes[c] = ByteClass::escape;
  classes['"'] = ByteClass::escape;
  classes['\\'] = ByteClass::escape;
  classes[0xE2] = ByteClass::line_separator_lead;
  return classes;
}

constexpr std::array<ByteClass, 256> kByteClass = make_byte_classes();

void append_escape(std::string& out, unsigned char c) {
  switch (c) {
  case '"':
    out.append("\\\"", 2);
    return;
  case '\\':
    out.append("\\\\", 2);
    return;
  case '\b':
    out.append("\\b", 2);
    return;
  case '\f':
    out.append("\\f", 2);
    return;
  case '\n':
    out.append("\\n", 2);
    return;
  case '\r':
    out.append("\\r", 2);
    return;
  case '\t':
    out.append("\\t", 2);
    return;
  default: {
    static constexpr char kHex[] = "0123456789abcdef";
    const char escaped[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xf]};
    out.append(escaped, sizeof escaped);
  }
  }
}

} // namespace

void append_json_string(std::string& out, std::string_view text) {
#ifdef __SSE2__
  if (clean_sse2<Clean::escape>(text.data(), text.size())) { // nothing to escape: one copy
    const std::size_t at = out.size();
    out.resize(at + text.size() + 2);
    char* dest = out.data() + at;
    dest[0] = '"';
    if (!text.empty()) // an empty view may have a null pointer, which memcpy must not get
      std::memcpy(dest + 1, text.data(), text.size());
    dest[text.size() + 1] = '"';
    return;
  }
#endif
  const char* p = text.data();
  const char* const end = p + text.size();
  const char* run = p; // start of the bytes not yet copied
  out.push_back('"');

  // Handles the byte at p and advances p past it (or past a whole U+2028/U+2029).
  auto step = [&] {
    const auto c = static_cast<unsigned char>(*p);
    switch (kByteClass[c]) {
    case ByteClass::copy:
      ++p;
      return;
    case ByteClass::escape:
      out.append(run, p);
      append_escape(out, c);
      run = ++p;
      return;
    case ByteClass::line_separator_lead:
      if (end - p >= 3 && static_cast<unsigned char>(p[1]) == 0x80 &&
          (static_cast<unsigned char>(p[2]) & 0xFE) == 0xA8) {
        out.append(run, p);
        out.append(static_cast<unsigned char>(p[2]) == 0xA8 ? "\\u2028" : "\\u2029", 6);
        p += 3;
        run = p;
      } else {
        ++p;
      }
      return;
    }
  };

  while (end - p >= 8) {
    if (!needs_attention(load_word(p))) {
      p += 8;
      continue;
    }
    const char* const word_end = p + 8;
    while (p < word_end)
      step();
  }
  while (p < end)
    step();
  out.append(run, end);
  out.push_back('"');
}

std::size_t first_invalid_utf8(std::string_view text) noexcept {
#ifdef __SSE2__
  if (clean_sse2<Clean::ascii>(text.data(), text.size()))
    return text.size();
#endif
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  std::size_t i = 0;
  auto is_continuation = [&](std::size_t at) { return at < n && (s[at] & 0xC0) == 0x80; };
  while (i < n) {
    while (i + 8 <= n && (load_word(text.data() + i) & kHighBits) == 0)
      i += 8;
    if (i >= n)
      break;
    const unsigned char c = s[i];
    if (c < 0x80) {
      ++i;
    } else if (c < 0xC2) {
      return i; // a stray continuation byte, or an overlong two-byte form (C0, C1)
    } else if (c < 0xE0) {
      if (!is_continuation(i + 1))
        return i;
      i += 2;
    } else if (c < 0xF0) {
      // E0 needs A0..BF (else overlong); ED needs 80..9F (else a UTF-16 surrogate).
      const unsigned char low = c == 0xE0 ? 0xA0 : 0x80;
      const unsigned char high = c == 0xED ? 0x9F : 0xBF;
      if (i + 1 >= n || s[i + 1] < low || s[i + 1] > high || !is_continuation(i + 2))
        return i;
      i += 3;
    } else if (c < 0xF5) {
      // F0 needs 90..BF (else overlong); F4 needs 80..8F (else above U+10FFFF).
      const unsigned char low = c == 0xF0 ? 0x90 : 0x80;
      const unsigned char high = c == 0xF4 ? 0x8F : 0xBF;
      if (i + 1 >= n || s[i + 1] < low || s[i + 1] > high || !is_continuation(i + 2) ||
          !is_continuation(i + 3))
        return i;
      i += 4;
    } else {
      return i; // F5..FF never appear in UTF-8
    }
  }
  return n;
}

bool is_plain_json_text(std::string_view text) noexcept {
#ifdef __SSE2__
  return clean_sse2<Clean::plain>(text.data(), text.size());
#else
  std::size_t i = 0;
  for (; i + 8 <= text.size(); i += 8) {
    const std::uint64_t word = load_word(text.data() + i);
    if ((word & kHighBits) != 0 || needs_attention(word))
      return false;
  }
  for (; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80 || kByteClass[c] != ByteClass::copy)
      return false;
  }
  return true;
#endif
}

bool is_valid_utf8(std::string_view text) noexcept {
  return first_invalid_utf8(text) == text.size();
}

} // namespace billdrop
