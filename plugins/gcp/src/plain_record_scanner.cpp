#include "plain_record_scanner.hpp"

#include <simdjson.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace billdrop::gcp {
namespace {

// Objects and arrays nest at most this deep in a plain record (simdjson allows 1024).
constexpr int max_depth = 64;

bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}

// The first '"', '\\' or control character at or after `p`, or a position at or past `end` when
// there is none before it; sets `high` when a byte >= 0x80 comes first. Reads up to 15 bytes past
// `end`.
const char* find_string_end(const char* p, const char* end, bool& high) noexcept {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i below_space = _mm_set1_epi8(0x1F);
  for (;; p += 16) {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    // min(byte, 0x1F) == byte: an unsigned byte below 0x20.
    const __m128i special =
        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(bytes, quote), _mm_cmpeq_epi8(bytes, backslash)),
                     _mm_cmpeq_epi8(_mm_min_epu8(bytes, below_space), bytes));
    const unsigned special_bits = static_cast<unsigned>(_mm_movemask_epi8(special));
    const unsigned high_bits = static_cast<unsigned>(_mm_movemask_epi8(bytes));
    if (special_bits != 0) {
      const unsigned at = static_cast<unsigned>(__builtin_ctz(special_bits));
      high |= (high_bits & ((1u << at) - 1)) != 0;
      return p + at;
    }
    high |= high_bits != 0;
    if (p + 16 >= end)
      return end;
  }
#else
  for (; p < end; ++p) {
    const auto c = static_cast<unsigned char>(*p);
    if (c == '"' || c == '\\' || c < 0x20)
      return p;
    high |= c >= 0x80;
  }
  return end;
#endif
}

} // namespace

std::size_t PlainRecordScanner::scan(const char* data, std::size_t size, BillingRecord& record) {
  record.clear();
  p_ = data;
  end_ = data + size;
  high_bytes_ = false;
  if (size == 0 || *p_ != '{' || !object(record, -1))
    return 0;
  const auto length = static_cast<std::size_t>(p_ - data);
  if (high_bytes_ && !simdjson::validate_utf8(data, length))
    return 0;
  return length;
}

[[gnu::always_inline]] inline void PlainRecordScanner::skip_space() noexcept {
  while (p_ < end_ && is_json_space(*p_))
    ++p_;
}

[[gnu::always_inline]] inline bool PlainRecordScanner::expect(char c) noexcept {
  if (p_ < end_ && *p_ == c) {
    ++p_;
    return true;
  }
  return false;
}

// A string without escapes; `text` is its content. p_ is at the opening quote.
[[gnu::always_inline]] inline bool PlainRecordScanner::string(std::string_view& text) {
  const char* const start = ++p_;
  const char* const close = find_string_end(start, end_, high_bytes_);
  if (close >= end_ || *close != '"')
    return false; // unterminated, an escape or a control character
  text = std::string_view(start, static_cast<std::size_t>(close - start));
  p_ = close + 1;
  return true;
}

// An object member's key and its ':', up to the value's first character, which is there.
[[gnu::always_inline]] inline bool PlainRecordScanner::member_key(std::string_view& key) {
  if (p_ >= end_ || *p_ != '"' || !string(key))
    return false;
  skip_space();
  if (!expect(':'))
    return false;
  skip_space();
  return p_ < end_;
}

// Moves past a run of digits; false when there is none.
bool PlainRecordScanner::digits() noexcept {
  const char* const start = p_;
  while (p_ < end_ && is_digit(*p_))
    ++p_;
  return p_ != start;
}

// A number as RFC 8259 writes it; `text` is as written. p_ is at '-' or a digit.
bool PlainRecordScanner::number(std::string_view& text) {
  const char* const start = p_;
  expect('-');
  if (!expect('0') && !digits()) // no leading zero before other digits
    return false;
  if (expect('.') && !digits())
    return false;
  if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
    ++p_;
    if (p_ < end_ && (*p_ == '+' || *p_ == '-'))
      ++p_;
    if (!digits())
      return false;
  }
  text = std::string_view(start, static_cast<std::size_t>(p_ - start));
  return true;
}

bool PlainRecordScanner::literal(std::string_view word) {
  if (static_cast<std::size_t>(end_ - p_) < word.size() ||
      std::string_view(p_, word.size()) != word)
    return false;
  p_ += word.size();
  return true;
}

// A string, number, true, false or null as NdjsonRecordDecoder's scalar_text gives it: strings
// unescaped (here: as written), numbers as written, null empty. p_ is at `first`.
bool PlainRecordScanner::scalar(char first, std::string_view& text) {
  switch (first) {
  case '"':
    return string(text);
  case 't':
    text = "true";
    return literal("true");
  case 'f':
    text = "false";
    return literal("false");
  case 'n':
    text = {};
    return literal("null");
  default:
    return (first == '-' || is_digit(first)) && number(text);
  }
}

// Any value, checked and dropped; `depth` is the depth of the object or array holding it (the
// record is 1). p_ is at its first character.
bool PlainRecordScanner::skip_value(int depth) {
  if (p_ >= end_)
    return false;
  const char first = *p_;
  if (first != '{' && first != '[') {
    std::string_view text;
    return scalar(first, text);
  }
  if (depth >= max_depth)
    return false;
  const char close = first == '{' ? '}' : ']';
  ++p_;
  skip_space();
  if (expect(close))
    return true;
  for (;;) {
    if (first == '{') {
      std::string_view key;
      if (!member_key(key))
        return false;
    }
    if (!skip_value(depth + 1))
      return false;
    skip_space();
    if (expect(','))
      skip_space();
    else
      return expect(close);
  }
}

// The top-level object (`nested` < 0) or a nested record of interest, read as
// NdjsonRecordDecoder::walk reads it: records of interest are entered only from the top level,
// lists of interest are read, scalars of interest kept, everything else checked and dropped.
// p_ is at '{'.
bool PlainRecordScanner::object(BillingRecord& record, int nested) {
  const int depth = nested < 0 ? 1 : 2;
  ++p_;
  skip_space();
  if (expect('}'))
    return true;
  for (;;) {
    std::string_view key;
    if (!member_key(key))
      return false;
    const KeyTable::Slot slot = nested < 0
                                    ? keys_.top_padded(key)
                                    : keys_.child_padded(static_cast<std::uint8_t>(nested), key);
    const char first = *p_;
    if (first == '{') {
      if (nested < 0 && slot.kind == KeyTable::Kind::record) {
        if (!object(record, slot.index))
          return false;
      } else if (!skip_value(depth)) {
        return false;
      }
    } else if (first == '[') {
      if (slot.kind == KeyTable::Kind::list) {
        if (!list(static_cast<ListField>(slot.index), record, depth))
          return false;
      } else if (!skip_value(depth)) {
        return false;
      }
    } else {
      std::string_view text;
      if (!scalar(first, text))
        return false;
      if (slot.kind == KeyTable::Kind::scalar)
        record[static_cast<Field>(slot.index)] = text;
    }
    skip_space();
    if (expect(','))
      skip_space();
    else
      return expect('}');
  }
}

// A repeated field: objects whose scalars are kept by name and whose nested values are dropped,
// as NdjsonRecordDecoder::read_list reads them. An element that is not an object is malformed,
// which simdjson reports. p_ is at '['; `depth` is the depth of the object holding the list.
bool PlainRecordScanner::list(ListField list, BillingRecord& record, int depth) {
  ++p_;
  skip_space();
  if (expect(']'))
    return true;
  for (;;) {
    if (p_ >= end_ || *p_ != '{')
      return false;
    record.add_element(list);
    ++p_;
    skip_space();
    if (!expect('}')) {
      for (;;) {
        std::string_view key;
        if (!member_key(key))
          return false;
        const char first = *p_;
        if (first == '{' || first == '[') {
          if (!skip_value(depth + 2)) // in an element, in the list
            return false;
        } else {
          std::string_view text;
          if (!scalar(first, text))
            return false;
          record.set_element_field(list, key, text);
        }
        skip_space();
        if (expect(','))
          skip_space();
        else if (expect('}'))
          break;
        else
          return false;
      }
    }
    skip_space();
    if (expect(','))
      skip_space();
    else
      return expect(']');
  }
}

} // namespace billdrop::gcp
