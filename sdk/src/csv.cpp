#include <billdrop/csv.hpp>
#include <billdrop/detail/block_source.hpp>
#include <billdrop/detail/refill.hpp>
#include <billdrop/text.hpp>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#ifdef __SSE2__
#include <emmintrin.h>
#include <immintrin.h>
#endif

namespace billdrop {

namespace {

// Bytes asked of the source per read; the buffer grows beyond this only for longer records.
constexpr std::size_t kBlock = std::size_t{1} << 20;

// Room the general path leaves in a record past the fields of its line, so that the fast path
// rarely finds a longer line without room.
constexpr std::ptrdiff_t kSplitStep = 32;

// The fields CsvReader::select() asked for: bit i of words[i / 64] for field i; fields past the
// last word are not wanted.
struct FieldSelection {
  const std::uint64_t* words;
  std::size_t count; // words

  bool has(std::size_t field) const noexcept {
    return (field >> 6) < count && (words[field >> 6] >> (field & 63) & 1) != 0;
  }
  // Bit j for field k + j, for n <= 64 fields.
  std::uint64_t bits(std::size_t k, std::size_t n) const noexcept {
    const std::size_t word = k >> 6;
    const std::size_t shift = k & 63;
    if (word >= count)
      return 0;
    std::uint64_t value = words[word] >> shift;
    if (shift != 0 && word + 1 < count)
      value |= words[word + 1] << (64 - shift);
    return n >= 64 ? value : value & ((std::uint64_t{1} << n) - 1);
  }
};

// The first byte in [p, end) equal to a, b or c, or end. Fields are short, so this is where a
// plain file spends its time: sixteen bytes per step where SSE2 is available.
inline const char* find_any_of3(const char* p, const char* end, char a, char b, char c) noexcept {
#ifdef __SSE2__
  const __m128i va = _mm_set1_epi8(a);
  const __m128i vb = _mm_set1_epi8(b);
  const __m128i vc = _mm_set1_epi8(c);
  while (end - p >= 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i hits = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, va), _mm_cmpeq_epi8(v, vb)),
                                      _mm_cmpeq_epi8(v, vc));
    const int mask = _mm_movemask_epi8(hits);
    if (mask != 0)
      return p + __builtin_ctz(static_cast<unsigned>(mask));
    p += 16;
  }
#endif
  for (; p < end; ++p) {
    const char x = *p;
    if (x == a || x == b || x == c)
      return p;
  }
  return end;
}

// The index of the lowest set bit of a non-zero mask, as a size_t. GCC clears the register before
// TZCNT and sign-extends __builtin_ctz's int at every pointer it is added to: two more
// instructions per field. BSF (x86-64 baseline) writes the whole register.
inline std::size_t lowest_bit(unsigned mask) noexcept {
#if defined(__x86_64__) && defined(__GNUC__)
  std::size_t index;
  asm("bsfl %k1, %k0" : "=r"(index) : "r"(mask) : "cc");
  return index;
#else
  return static_cast<unsigned>(__builtin_ctz(mask));
#endif
}

// The same for a 64-bit mask.
inline std::size_t lowest_bit64(std::uint64_t mask) noexcept {
#if defined(__x86_64__) && defined(__GNUC__)
  std::size_t index;
  asm("bsfq %1, %0" : "=r"(index) : "r"(mask) : "cc");
  return index;
#else
  return static_cast<unsigned>(__builtin_ctzll(mask));
#endif
}

// Up to this many quoted fields of a line may hold doubled quotes on the fast path.
constexpr std::size_t kMaxEscaped = 8;

#ifndef __SSE2__
// The fast line splitter without SSE2 (split_line_by_quote_parity where SSE2 is available).
// Splits the line at `line` when all of it is in [line, end): the common case of machine-written
// exports, whose rows are short fields, some of them quoted ("Amazon Web Services, Inc."). A
// quoted field is taken as is when its closing quote is followed by the
// delimiter or the line end and it holds no CR or LF. Fields go straight into [fields,
// fields_end) as views of the line, and `count` is how many. Returns the start of the next line,
// or nullptr when the line needs the general path (the caller discards the fields): doubled or
// stray quotes, lone CRs, a line end not yet in the buffer, a line longer than `max_line` (so
// that no field can be longer than a field may be), and a line that could need more fields than
// there is room for (the general path makes room for the lines after it). The delimiter must
// differ from the quote, CR and LF, and the quote from CR and LF.
//
// A quoted field holding doubled quotes (JSON tags: "{""env"": ""prod""}") is taken too, its view
// still escaped: its place in `fields` goes into [escaped, escaped + kMaxEscaped) and
// `escaped_count` says how many; the caller unescapes them (unescape_doubled) once the whole line
// is taken, so a line left to the general path is never changed. A line with more than
// kMaxEscaped such fields goes there too.

const char* split_plain_line(const char* const line, const char* const end, const char delimiter,
                             const char quote, const std::size_t max_line,
                             std::string_view* const fields, std::string_view* const fields_end,
                             std::size_t& count, std::string_view** const escaped,
                             std::size_t& escaped_count) {
  std::string_view* out = fields;
  escaped_count = 0;
  const char* field = line; // start of the field in progress
  const char* p = line;     // scan position
  // The CR or LF at `at` follows the last field: the start of the next line, or nullptr.
  const auto finish = [&](const char* at) -> const char* {
    const char* next = at + 1;
    if (*at == '\r') {
      if (next == end || *next != '\n')
        return nullptr;
      ++next;
    }
    if (static_cast<std::size_t>(at - line) > max_line)
      return nullptr;
    count = static_cast<std::size_t>(out - fields);
    return next;
  };
  // A quote at `open`, and `close` the first quote, CR or LF after it (or `end`). Returns the
  // start of the next field, or nullptr; `next_line` is set when the field ends the line.
  const auto quoted = [&](const char* open, const char* close,
                          const char*& next_line) -> const char* {
    if (open != field || out == fields_end)
      return nullptr;
    bool doubled = false;
    for (;;) {
      if (end - close < 2 || *close != quote)
        return nullptr;
      if (close[1] != quote)
        break;
      doubled = true; // a doubled quote: the field goes on after the pair
      close = find_any_of3(close + 2, end, quote, '\r', '\n');
    }
    if (doubled) {
      if (escaped_count == kMaxEscaped)
        return nullptr;
      escaped[escaped_count++] = out;
    }
    *out++ = std::string_view(open + 1, static_cast<std::size_t>(close - open - 1));
    const char after = close[1];
    if (after == delimiter) {
      field = close + 2;
      return field;
    }
    if (after == '\r' || after == '\n')
      next_line = finish(close + 1);
    return nullptr;
  };
  while (p < end) {
    const char c = *p;
    if (c == delimiter) {
      if (out == fields_end)
        return nullptr;
      *out++ = std::string_view(field, static_cast<std::size_t>(p - field));
      field = ++p;
    } else if (c == quote) {
      const char* next_line = nullptr;
      p = quoted(p, find_any_of3(p + 1, end, quote, '\r', '\n'), next_line);
      if (p == nullptr)
        return next_line;
    } else if (c == '\r' || c == '\n') {
      if (out == fields_end)
        return nullptr;
      *out++ = std::string_view(field, static_cast<std::size_t>(p - field));
      return finish(p);
    } else {
      ++p;
    }
  }
  return nullptr;
}
#endif

#ifdef __SSE2__
// Bit i set where byte i of the 64 in `v` equals the byte `c` holds (four SSE2 compares).
inline std::uint64_t bytes_equal(const __m128i (&v)[4], const __m128i c) noexcept {
  std::uint64_t mask = 0;
  for (int i = 0; i < 4; ++i)
    mask |= static_cast<std::uint64_t>(
                static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v[i], c))))
            << (16 * i);
  return mask;
}

// The same for bytes equal to either of two: the compares are joined before the mask is made.
inline std::uint64_t bytes_equal(const __m128i (&v)[4], const __m128i c, const __m128i d) noexcept {
  std::uint64_t mask = 0;
  for (int i = 0; i < 4; ++i)
    mask |= static_cast<std::uint64_t>(static_cast<unsigned>(
                _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v[i], c), _mm_cmpeq_epi8(v[i], d)))))
            << (16 * i);
  return mask;
}

// The number of set bits (x86-64's baseline has no POPCNT: GCC would call libgcc).
inline std::size_t count_bits(std::uint64_t x) noexcept {
  x = x - ((x >> 1) & 0x5555555555555555ULL);
  x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
  x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
  return static_cast<std::size_t>((x * 0x0101010101010101ULL) >> 56);
}

// One 64-byte step's bit masks: bit i stands for byte i of the step.
struct StepMasks {
  std::uint64_t quotes;
  std::uint64_t ends; // CR or LF
  std::uint64_t delimiters;
};

// The masks of the 64 bytes at `p` with SSE2 (16 bytes a compare); past `end`, bytes read as
// `pad`, which is no delimiter, quote, CR or LF.
struct Sse2Masks {
  static std::uint64_t prefix_xor(std::uint64_t x) noexcept;
  [[gnu::always_inline]] static StepMasks compute(const char* p, const char* end, char delimiter,
                                                  char quote, char pad) noexcept {
    __m128i v[4];
    if (end - p >= 64) {
      for (int i = 0; i < 4; ++i)
        v[i] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * i));
    } else {
      alignas(16) char tail[64];
      std::memset(tail, pad, sizeof tail);
      std::memcpy(tail, p, static_cast<std::size_t>(end - p));
      for (int i = 0; i < 4; ++i)
        v[i] = _mm_load_si128(reinterpret_cast<const __m128i*>(tail + 16 * i));
    }
    return StepMasks{bytes_equal(v, _mm_set1_epi8(quote)),
                     bytes_equal(v, _mm_set1_epi8('\r'), _mm_set1_epi8('\n')),
                     bytes_equal(v, _mm_set1_epi8(delimiter))};
  }
};

#if defined(__x86_64__) && defined(__GNUC__)
#define BILLDROP_CSV_AVX2_CLONE 1
// The same with AVX2: 32 bytes a compare, half the compares and mask moves.
struct Avx2Masks {
  // The prefix XOR as one carry-less multiply by all ones (as simdjson finds its strings).
  [[gnu::target("pclmul")]] static std::uint64_t prefix_xor(std::uint64_t x) noexcept {
    return static_cast<std::uint64_t>(_mm_cvtsi128_si64(
        _mm_clmulepi64_si128(_mm_set_epi64x(0, static_cast<long long>(x)), _mm_set1_epi8(-1), 0)));
  }
  [[gnu::target("avx2")]] static StepMasks compute(const char* p, const char* end, char delimiter,
                                                   char quote, char pad) noexcept {
    alignas(32) char tail[64];
    if (end - p < 64) {
      std::memset(tail, pad, sizeof tail);
      std::memcpy(tail, p, static_cast<std::size_t>(end - p));
      p = tail;
    }
    const __m256i low = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    const __m256i high = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32));
    const __m256i q = _mm256_set1_epi8(quote);
    const __m256i d = _mm256_set1_epi8(delimiter);
    const __m256i r = _mm256_set1_epi8('\r');
    const __m256i n = _mm256_set1_epi8('\n');
    // Two 32-bit masks (the halves' compares) as one (the intrinsics stay outside the lambda,
    // which is not compiled for AVX2).
    const auto join = [](int low_bits, int high_bits) {
      return static_cast<std::uint64_t>(static_cast<std::uint32_t>(low_bits)) |
             static_cast<std::uint64_t>(static_cast<std::uint32_t>(high_bits)) << 32;
    };
    return StepMasks{join(_mm256_movemask_epi8(_mm256_cmpeq_epi8(low, q)),
                          _mm256_movemask_epi8(_mm256_cmpeq_epi8(high, q))),
                     join(_mm256_movemask_epi8(_mm256_or_si256(_mm256_cmpeq_epi8(low, r),
                                                               _mm256_cmpeq_epi8(low, n))),
                          _mm256_movemask_epi8(_mm256_or_si256(_mm256_cmpeq_epi8(high, r),
                                                               _mm256_cmpeq_epi8(high, n)))),
                     join(_mm256_movemask_epi8(_mm256_cmpeq_epi8(low, d)),
                          _mm256_movemask_epi8(_mm256_cmpeq_epi8(high, d)))};
  }
};
#endif

// Bit i is the parity of the set bits at i and below: with quotes, 1 inside a quoted field (its
// opening quote included) and 0 outside (its closing quote included).
inline std::uint64_t prefix_xor(std::uint64_t x) noexcept {
  x ^= x << 1;
  x ^= x << 2;
  x ^= x << 4;
  x ^= x << 8;
  x ^= x << 16;
  x ^= x << 32;
  return x;
}
inline std::uint64_t Sse2Masks::prefix_xor(std::uint64_t x) noexcept {
  return billdrop::prefix_xor(x);
}

// The fast line splitter where SSE2 is available: the lines split_plain_line takes, and lines
// with any number of quoted fields, 64 bytes per step. Each step makes one bit mask per
// delimiter, quote, CR and LF; the quotes' running parity tells which delimiters and line ends
// are inside a quoted field, so that every field costs a few bit operations, quoted or not, and a
// quote costs nothing of its own. The same masks check that every quote is where RFC 4180 allows
// it: an opening quote starts a field or follows a closing one (a doubled quote), and a closing
// quote is followed by the delimiter, a line end or an opening quote. A line that breaks these
// rules (a stray quote, a CR or LF inside quotes, a lone CR) goes to the general path, which
// reads it or names the error; so does a line whose end is not in [line, end), one longer than
// `max_line`, and one with more fields than [fields, fields_end) holds. Quoted fields holding
// doubled quotes are listed in `escaped` as split_plain_line lists them.
//
// With kHead, only the first `head` fields are split (the rest are counted, not looked at):
// `count` is how many went into `fields`, `total` how many the line has.
//
// With kSelect, only the fields `select` has are written; the others are passed over, their
// places in `fields` left as they were (CsvReader keeps them empty), and a step whose fields are
// all unwanted costs no more than one field. Every field's syntax is checked all the same.
template <bool kHead, bool kSelect, class Masks>
[[gnu::always_inline]] inline const char* split_line_by_quote_parity(
    const char* const line, const char* const end, const char delimiter, const char quote,
    const std::size_t max_line, std::string_view* const fields, std::string_view* const fields_end,
    std::size_t& count, std::string_view** const escaped, std::size_t& escaped_count,
    const std::size_t head, std::size_t& total, const FieldSelection* const select) {
  escaped_count = 0;
  std::size_t skipped = 0; // fields past the head (kHead)
  std::string_view* out = fields;
  // The bytes after `end` in the last step: one that is no delimiter, quote, CR or LF.
  char pad = 'a';
  while (pad == delimiter || pad == quote)
    ++pad;
  const char* field = line;       // start of the field in progress
  std::uint64_t inside_carry = 0; // all ones when the previous step ended inside quotes
  std::uint64_t start_carry = 1;  // bit 0 of the step starts a field
  std::uint64_t close_carry = 0;  // the previous step ended with a closing quote
  bool field_escaped = false;     // a doubled quote seen in the field in progress
  for (const char* p = line; p < end; p += 64) {
    if (static_cast<std::size_t>(p - line) > max_line)
      return nullptr;
    const StepMasks masks = Masks::compute(p, end, delimiter, quote, pad);
    const std::uint64_t quotes = masks.quotes;
    const std::uint64_t ends = masks.ends;
    const std::uint64_t inside = Masks::prefix_xor(quotes) ^ inside_carry;
    const std::uint64_t line_ends = ends & ~inside;
    const std::uint64_t first_end = line_ends & (0 - line_ends); // its lowest bit, or 0
    const std::uint64_t before = first_end != 0 ? first_end - 1 : ~std::uint64_t{0};
    if ((ends & inside & before) != 0) // a line end inside quotes: physical lines to count
      return nullptr;
    const std::uint64_t delimiters = masks.delimiters & ~inside & before;
    const std::uint64_t opening = quotes & inside & before;
    const std::uint64_t closing = quotes & ~inside & before;
    const std::uint64_t starts = delimiters << 1 | start_carry;
    const std::uint64_t after_close = closing << 1 | close_carry;
    if ((opening & ~(starts | after_close)) != 0)
      return nullptr; // a quote inside an unquoted field
    if ((after_close & (before | first_end) & ~(delimiters | quotes | first_end)) != 0)
      return nullptr; // neither the delimiter, a line end nor a quote after a closing quote
    std::uint64_t reopened = opening & after_close; // second quotes of doubled pairs
    // Ends the field in progress at `at`; `below` holds the step's bits before `at`.
    const auto emit = [&](const char* at, std::uint64_t below) -> bool {
      if (out == fields_end)
        return false;
      const bool doubled = field_escaped || (reopened & below) != 0;
      reopened &= ~below;
      field_escaped = false;
      if (kSelect && !select->has(static_cast<std::size_t>(out - fields))) {
        ++out;
        field = at + 1;
        return true;
      }
      if (*field == quote) { // a quoted field: it ends with its closing quote
        if (doubled) {
          if (escaped_count == kMaxEscaped)
            return false;
          escaped[escaped_count++] = out;
        }
        *out++ = std::string_view(field + 1, static_cast<std::size_t>(at - field - 2));
      } else {
        *out++ = std::string_view(field, static_cast<std::size_t>(at - field));
      }
      field = at + 1;
      return true;
    };
    std::uint64_t rest = delimiters;
    // The usual steps: no doubled quote in the step nor in the field in progress, so that each
    // field the step ends is plain or quoted without escapes, and only its bounds are written
    // (with the room for them checked once). Without a quote in the step and with the field in
    // progress unquoted, every field is plain.
    if (reopened == 0 && !field_escaped && rest != 0) {
      const std::size_t ended = count_bits(rest);
      if (static_cast<std::size_t>(fields_end - out) >= ended &&
          (!kHead || static_cast<std::size_t>(out - fields) + ended <= head)) {
        if constexpr (kSelect) {
          // Up to the last wanted field one by one, an unwanted one written to `discard` (no
          // branch to mispredict); the unwanted ones after it in one move.
          std::uint64_t wanted = select->bits(static_cast<std::size_t>(out - fields), ended);
          std::string_view discard;
          while (wanted != 0) {
            const char* const at = p + lowest_bit64(rest);
            const std::size_t quoted = *field == quote ? 1 : 0; // its quotes are not its text
            *((wanted & 1) != 0 ? out : &discard) =
                std::string_view(field + quoted, static_cast<std::size_t>(at - field) - 2 * quoted);
            ++out;
            wanted >>= 1;
            field = at + 1;
            rest &= rest - 1;
          }
          if (rest != 0) {
            out += count_bits(rest);
            field = p + (63 - __builtin_clzll(rest)) + 1;
            rest = 0;
          }
        } else if (quotes == 0 && *field != quote) {
          do {
            const char* const at = p + lowest_bit64(rest);
            *out++ = std::string_view(field, static_cast<std::size_t>(at - field));
            field = at + 1;
            rest &= rest - 1;
          } while (rest != 0);
        } else {
          do {
            const char* const at = p + lowest_bit64(rest);
            const std::size_t quoted = *field == quote ? 1 : 0; // its quotes are not its text
            *out++ =
                std::string_view(field + quoted, static_cast<std::size_t>(at - field) - 2 * quoted);
            field = at + 1;
            rest &= rest - 1;
          } while (rest != 0);
        }
      }
    }
    for (; rest != 0; rest &= rest - 1) {
      if (kHead && static_cast<std::size_t>(out - fields) == head) {
        skipped += count_bits(rest);
        break;
      }
      if (!emit(p + lowest_bit64(rest), (rest & (0 - rest)) - 1))
        return nullptr;
    }
    if (first_end != 0) {
      const char* at = p + lowest_bit64(first_end);
      if (static_cast<std::size_t>(at - line) > max_line)
        return nullptr;
      if (kHead && static_cast<std::size_t>(out - fields) == head)
        ++skipped;
      else if (!emit(at, first_end - 1))
        return nullptr;
      const char* next = at + 1;
      if (*at == '\r') {
        if (next == end || *next != '\n')
          return nullptr; // a lone CR, or its LF not yet read
        ++next;
      }
      count = static_cast<std::size_t>(out - fields);
      total = count + skipped;
      return next;
    }
    field_escaped = field_escaped || reopened != 0;
    inside_carry = 0 - (inside >> 63);
    start_carry = delimiters >> 63;
    close_carry = closing >> 63;
  }
  return nullptr;
}
#endif

// Drops the second quote of each doubled pair of `field`, a view into `base`'s bytes that
// split_plain_line took: the content moves down in place and the view shrinks to it.
void unescape_doubled(char* const base, const char* const data, std::string_view& field,
                      const char quote) noexcept {
  char* const begin = base + (field.data() - data);
  char* const end = begin + field.size();
  char* write = static_cast<char*>(std::memchr(begin, quote, field.size()));
  if (write == nullptr)
    return;
  // split_plain_line only takes a quote inside the field when another follows it: every quote
  // from here on is the first or the second of a pair, and the second is dropped. Each byte is
  // stored and the write position moves unless the byte is a second quote: no branch, and the
  // next read's address never waits for the byte just read.
  const char* read = write;
  bool second = false; // the byte at `read` is the second quote of a pair
  for (; read < end; ++read) {
    const char c = *read;
    *write = c;
    write += second ? 0 : 1;
    second = !second && c == quote;
  }
  field = std::string_view(begin, static_cast<std::size_t>(write - begin));
}

#ifdef BILLDROP_CSV_AVX2_CLONE
// split_line_by_quote_parity compiled for CPUs with AVX2 (Haswell and later): 32-byte compares,
// three-operand (VEX) instructions and BMI's bit instructions. Chosen at run time when the CPU
// has them.
template <bool kHead, bool kSelect>
[[gnu::target("avx2,bmi,bmi2,popcnt,pclmul")]] const char*
split_line_avx2(const char* const line, const char* const end, const char delimiter,
                const char quote, const std::size_t max_line, std::string_view* const fields,
                std::string_view* const fields_end, std::size_t& count,
                std::string_view** const escaped, std::size_t& escaped_count,
                const std::size_t head, std::size_t& total, const FieldSelection* const select) {
  return split_line_by_quote_parity<kHead, kSelect, Avx2Masks>(
      line, end, delimiter, quote, max_line, fields, fields_end, count, escaped, escaped_count,
      head, total, select);
}

template <bool kHead, bool kSelect>
const char* split_line_sse2(const char* const line, const char* const end, const char delimiter,
                            const char quote, const std::size_t max_line,
                            std::string_view* const fields, std::string_view* const fields_end,
                            std::size_t& count, std::string_view** const escaped,
                            std::size_t& escaped_count, const std::size_t head, std::size_t& total,
                            const FieldSelection* const select) {
  return split_line_by_quote_parity<kHead, kSelect, Sse2Masks>(
      line, end, delimiter, quote, max_line, fields, fields_end, count, escaped, escaped_count,
      head, total, select);
}

// BILLDROP_CSV_SSE2=1 keeps the SSE2 build on any CPU (the tests run both).
const bool cpu_has_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi") &&
                          __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("popcnt") &&
                          __builtin_cpu_supports("pclmul") &&
                          std::getenv("BILLDROP_CSV_SSE2") == nullptr;
#endif

// The fast line splitter; with kHead, only the first `head` fields, and with kSelect only the
// fields `select` has (see split_line_by_quote_parity).
template <bool kHead, bool kSelect>
const char* split_line(const char* const line, const char* const end, const char delimiter,
                       const char quote, const std::size_t max_line, std::string_view* const fields,
                       std::string_view* const fields_end, std::size_t& count,
                       std::string_view** const escaped, std::size_t& escaped_count,
                       const std::size_t head, std::size_t& total,
                       const FieldSelection* const select) {
#ifdef BILLDROP_CSV_AVX2_CLONE
  return (cpu_has_avx2 ? split_line_avx2<kHead, kSelect>
                       : split_line_sse2<kHead, kSelect>)(line, end, delimiter, quote, max_line,
                                                          fields, fields_end, count, escaped,
                                                          escaped_count, head, total, select);
#elif defined(__SSE2__)
  return split_line_by_quote_parity<kHead, kSelect, Sse2Masks>(
      line, end, delimiter, quote, max_line, fields, fields_end, count, escaped, escaped_count,
      head, total, select);
#else
  const char* next = split_plain_line(line, end, delimiter, quote, max_line, fields, fields_end,
                                      count, escaped, escaped_count);
  total = count;
  if (kHead && count > head) {
    count = head;
    while (escaped_count > 0 && escaped[escaped_count - 1] >= fields + head)
      --escaped_count;
  }
  if (kSelect && next != nullptr) { // the unwanted fields back to empty, and not unescaped
    std::size_t kept = 0;
    for (std::size_t i = 0; i < escaped_count; ++i)
      if (select->has(static_cast<std::size_t>(escaped[i] - fields)))
        escaped[kept++] = escaped[i];
    escaped_count = kept;
    for (std::size_t i = 0; i < count; ++i)
      if (!select->has(i))
        fields[i] = {};
  }
  return next;
#endif
}

std::string describe_byte(char c) {
  const auto byte = static_cast<unsigned char>(c);
  if (byte >= 0x20 && byte < 0x7f)
    return std::string("'") + c + "'";
  char text[8];
  std::snprintf(text, sizeof text, "0x%02X", byte);
  return text;
}

} // namespace

CsvReader::CsvReader(std::unique_ptr<ByteSource> source, CsvOptions options)
    : source_(std::move(source)), blocks_(dynamic_cast<detail::BlockSource*>(source_.get())),
      options_(options),
      split_lines_(options.delimiter != options.quote && options.delimiter != '\r' &&
                   options.delimiter != '\n' && options.quote != '\r' && options.quote != '\n') {}

CsvReader::~CsvReader() = default;

const std::string& CsvReader::name() const {
  return source_->name();
}
std::uint64_t CsvReader::position() const {
  return source_->position();
}
std::uint64_t CsvReader::total() const {
  return source_->total();
}

Result<bool> CsvReader::fill() {
  // A read-ahead source hands its blocks over; others are copied from, keeping only the unread
  // bytes (the record in progress) at the front.
  if (blocks_ != nullptr)
    return blocks_->refill(buffer_, begin_, end_, eof_);
  return detail::refill(*source_, buffer_, begin_, end_, eof_, kBlock);
}

Result<bool> CsvReader::next(CsvRecord& record) {
  record.size_ = 0;
  if (failed_)
    return *failed_;
  std::size_t total = 0;
  auto result = read_record(record, CsvHeader::npos, total);
  if (!result)
    failed_ = result.error();
  return result;
}

Result<bool> CsvReader::next_head(CsvRecord& record, std::size_t fields, std::size_t& total) {
  record.size_ = 0;
  total = 0;
  if (failed_)
    return *failed_;
  auto result = read_record(record, fields, total);
  if (!result)
    failed_ = result.error();
  return result;
}

Result<bool> CsvReader::read_record(CsvRecord& record, const std::size_t head, std::size_t& total) {
  spans_.clear();

  if (first_block_) {
    first_block_ = false;
    // A UTF-8 byte-order mark is not part of the first header name.
    while (end_ - begin_ < 3 && !eof_) {
      auto filled = fill();
      if (!filled)
        return std::move(filled).error();
    }
    if (end_ - begin_ >= 3 && std::memcmp(buffer_.data() + begin_, "\xEF\xBB\xBF", 3) == 0)
      begin_ += 3;
  }

  // Skip blank lines.
  for (;;) {
    if (begin_ == end_) {
      auto filled = fill();
      if (!filled)
        return std::move(filled).error();
      if (!*filled)
        return false;
      continue;
    }
    const char c = buffer_[begin_];
    if (c == '\n') {
      ++begin_;
      ++next_line_;
    } else if (c == '\r') {
      ++begin_;
      ++next_line_;
      if (begin_ == end_ && !eof_) {
        auto filled = fill();
        if (!filled)
          return std::move(filled).error();
      }
      if (begin_ < end_ && buffer_[begin_] == '\n')
        ++begin_;
    } else {
      break;
    }
  }

  record_line_ = next_line_;
  const char delimiter = options_.delimiter;
  const char quote = options_.quote;
  const std::size_t max_field = options_.max_field_bytes;

  // Fast path: the whole line is in the buffer and plain (see split_line_by_quote_parity).
  if (split_lines_) {
    const char* const data = buffer_.data();
    std::string_view* const fields = record.fields_.data();
    std::string_view* escaped[kMaxEscaped];
    std::size_t escaped_count = 0;
    std::string_view* const fields_end = fields + record.fields_.size();
    const char* next = nullptr;
    const char* const line = data + begin_;
    if (selection_.empty()) {
      next = head == CsvHeader::npos
                 ? split_line<false, false>(line, data + end_, delimiter, quote, max_field, fields,
                                            fields_end, record.size_, escaped, escaped_count, head,
                                            total, nullptr)
                 : split_line<true, false>(line, data + end_, delimiter, quote, max_field, fields,
                                           fields_end, record.size_, escaped, escaped_count, head,
                                           total, nullptr);
    } else {
      if (record.selection_ != selection_id_) // unwanted fields stay empty from here on
        clear_unwanted(record, record.fields_.size());
      const FieldSelection select{selection_.data(), selection_.size()};
      next = head == CsvHeader::npos
                 ? split_line<false, true>(line, data + end_, delimiter, quote, max_field, fields,
                                           fields_end, record.size_, escaped, escaped_count, head,
                                           total, &select)
                 : split_line<true, true>(line, data + end_, delimiter, quote, max_field, fields,
                                          fields_end, record.size_, escaped, escaped_count, head,
                                          total, &select);
    }
    if (next != nullptr) {
      for (std::size_t i = 0; i < escaped_count; ++i)
        unescape_doubled(buffer_.data(), data, *escaped[i], quote);
      begin_ = static_cast<std::size_t>(next - data);
      ++next_line_;
      ++records_;
      return true;
    }
  }

  // Offsets below are relative to begin_, which fill() may move; the bytes keep their offsets.
  char* data = buffer_.data() + begin_;
  std::size_t avail = end_ - begin_;
  auto refill = [&]() -> Result<bool> {
    auto filled = fill();
    data = buffer_.data() + begin_;
    avail = end_ - begin_;
    return filled;
  };
  auto too_long = [&](std::uint64_t line) {
    return data_error(name() + ":" + std::to_string(line) + ": field " +
                      std::to_string(spans_.size() + 1) + " is longer than " +
                      std::to_string(max_field) + " bytes (CsvOptions::max_field_bytes)");
  };

  std::size_t pos = 0;        // start of the current field
  std::size_t line_start = 0; // start of the current physical line, for column numbers
  for (;;) {
    if (pos == avail) {
      auto filled = refill();
      if (!filled)
        return std::move(filled).error();
      if (!*filled) {
        // The input ends right after a delimiter: the last field is empty.
        spans_.emplace_back(pos, 0);
        break;
      }
    }

    std::size_t terminator; // offset of the byte after the field: delimiter, line end or avail
    if (data[pos] != quote) {
      // Unquoted: the field is the bytes up to the next delimiter or line end, quotes included.
      std::size_t scan = pos;
      for (;;) {
        terminator = static_cast<std::size_t>(
            find_any_of3(data + scan, data + avail, delimiter, '\r', '\n') - data);
        if (terminator < avail)
          break;
        if (terminator - pos > max_field)
          return too_long(next_line_);
        scan = terminator;
        auto filled = refill();
        if (!filled)
          return std::move(filled).error();
        if (!*filled)
          break;
      }
      if (terminator - pos > max_field)
        return too_long(next_line_);
      spans_.emplace_back(pos, terminator - pos);
    } else {
      // Quoted: doubled quotes are unescaped in place, moving content down over the dropped
      // quote, so the field stays a view into the buffer.
      const std::uint64_t open_line = next_line_;
      const std::size_t start = pos + 1;
      std::size_t write = start;   // end of the unescaped content so far
      std::size_t pending = start; // content not yet moved down to `write`
      std::size_t scan = start;
      // Offset of the last CR, so that CR LF counts as one line (none yet: -1, as +1 wraps to 0).
      std::size_t last_cr = static_cast<std::size_t>(-1);
      for (;;) {
        const std::size_t hit = static_cast<std::size_t>(
            find_any_of3(data + scan, data + avail, quote, '\r', '\n') - data);
        if (hit == avail) {
          if ((write - start) + (avail - pending) > max_field)
            return too_long(open_line);
          scan = avail;
          auto filled = refill();
          if (!filled)
            return std::move(filled).error();
          if (!*filled)
            return data_error(name() + ":" + std::to_string(next_line_) +
                              ": unterminated quoted field (opened on line " +
                              std::to_string(open_line) + ")");
          continue;
        }
        if (data[hit] == '\r') {
          ++next_line_;
          last_cr = hit;
          line_start = hit + 1;
          scan = hit + 1;
          continue;
        }
        if (data[hit] == '\n') {
          if (last_cr + 1 != hit)
            ++next_line_;
          line_start = hit + 1;
          scan = hit + 1;
          continue;
        }
        // A quote: doubled, or the closing one. Look at the byte after it.
        if (hit + 1 == avail) {
          auto filled = refill();
          if (!filled)
            return std::move(filled).error();
        }
        const std::size_t after = hit + 1;
        if (after < avail && data[after] == quote) {
          // Keep the first quote of the pair, drop the second.
          const std::size_t length = after - pending;
          if (write != pending)
            std::memmove(data + write, data + pending, length);
          write += length;
          pending = after + 1;
          scan = after + 1;
          if (write - start > max_field)
            return too_long(open_line);
          continue;
        }
        if (after < avail && data[after] != delimiter && data[after] != '\r' &&
            data[after] != '\n') {
          return data_error(name() + ":" + std::to_string(next_line_) + ":" +
                            std::to_string(after - line_start + 1) + ": unexpected " +
                            describe_byte(data[after]) + " after the closing quote of field " +
                            std::to_string(spans_.size() + 1) +
                            "; expected the delimiter or a line end");
        }
        const std::size_t length = hit - pending;
        if (write != pending)
          std::memmove(data + write, data + pending, length);
        write += length;
        if (write - start > max_field)
          return too_long(open_line);
        spans_.emplace_back(start, write - start);
        terminator = after;
        break;
      }
    }

    if (terminator == avail) {
      pos = avail; // the input ends without a line end
      break;
    }
    const char t = data[terminator];
    if (t == delimiter) {
      pos = terminator + 1;
      continue;
    }
    ++next_line_;
    pos = terminator + 1;
    if (t == '\r') {
      if (pos == avail) {
        auto filled = refill();
        if (!filled)
          return std::move(filled).error();
      }
      if (pos < avail && data[pos] == '\n')
        ++pos;
    }
    break;
  }

  // Room for a line like this one plus a step's worth, which the fast path checks per step.
  const std::size_t room = spans_.size() + static_cast<std::size_t>(kSplitStep);
  if (record.fields_.size() < room)
    record.fields_.resize(room);
  for (std::size_t i = 0; i < spans_.size(); ++i)
    record.fields_[i] = std::string_view(data + spans_[i].first, spans_[i].second);
  if (!selection_.empty())
    clear_unwanted(record,
                   record.selection_ == selection_id_ ? spans_.size() : record.fields_.size());
  total = spans_.size();
  record.size_ = std::min(spans_.size(), head);
  begin_ += pos;
  ++records_;
  return true;
}

namespace {
std::atomic<std::uint64_t> next_selection_id{1};
} // namespace

void CsvReader::select(std::span<const std::size_t> fields) {
  selection_.clear();
  for (const std::size_t field : fields) {
    if (selection_.size() <= field / 64)
      selection_.resize(field / 64 + 1, 0);
    selection_[field / 64] |= std::uint64_t{1} << (field % 64);
  }
  if (selection_.empty()) // select({}): no field wanted
    selection_.push_back(0);
  selection_id_ = next_selection_id.fetch_add(1, std::memory_order_relaxed);
}

void CsvReader::select_all() {
  selection_.clear();
}

void CsvReader::clear_unwanted(CsvRecord& record, std::size_t limit) const {
  const FieldSelection select{selection_.data(), selection_.size()};
  const std::size_t end = std::min(limit, record.fields_.size());
  for (std::size_t i = 0; i < end; ++i)
    if (!select.has(i))
      record.fields_[i] = {};
  record.selection_ = selection_id_;
}

CsvHeader::CsvHeader(const CsvRecord& record) : names_(record.begin(), record.end()) {}

CsvHeader::CsvHeader(std::vector<std::string> names) : names_(std::move(names)) {}

std::size_t CsvHeader::find(std::string_view name) const noexcept {
  for (std::size_t i = 0; i < names_.size(); ++i) {
    if (names_[i] == name)
      return i;
  }
  return npos;
}

std::size_t CsvHeader::find_ci(std::string_view name) const noexcept {
  for (std::size_t i = 0; i < names_.size(); ++i) {
    if (iequals_ascii(names_[i], name))
      return i;
  }
  return npos;
}

} // namespace billdrop
