#include <billdrop/detail/refill.hpp>
#include <billdrop/json_records.hpp>

#include <algorithm>
#include <cstdio>
#include <cstring>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

namespace billdrop {

namespace {

// Bytes asked of the source per read; the buffer grows beyond this only for longer records.
constexpr std::size_t kBlock = std::size_t{1} << 20;
// Guards memory against a file that never closes its first bracket.
constexpr std::size_t kMaxRecordBytes = std::size_t{64} << 20;

// The first byte in [p, end) that is one of Cs, or end; sixteen bytes per step with SSE2.
template <char... Cs>
inline const char* find_first_of(const char* p, const char* end) noexcept {
#ifdef __SSE2__
  while (end - p >= 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    __m128i hits = _mm_setzero_si128();
    ((hits = _mm_or_si128(hits, _mm_cmpeq_epi8(v, _mm_set1_epi8(Cs)))), ...);
    const int mask = _mm_movemask_epi8(hits);
    if (mask != 0)
      return p + __builtin_ctz(static_cast<unsigned>(mask));
    p += 16;
  }
#endif
  for (; p < end; ++p) {
    const char x = *p;
    if (((x == Cs) || ...))
      return p;
  }
  return end;
}

bool ends_scalar(char c) noexcept {
  switch (c) {
  case ' ':
  case '\t':
  case '\r':
  case '\n':
  case ',':
  case ']':
  case '}':
  case '[':
  case '{':
  case '"':
    return true;
  default:
    return false;
  }
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

JsonRecordReader::JsonRecordReader(std::unique_ptr<ByteSource> source, JsonLayout layout)
    : source_(std::move(source)), layout_(layout) {}

JsonRecordReader::~JsonRecordReader() = default;

const std::string& JsonRecordReader::name() const {
  return source_->name();
}
std::uint64_t JsonRecordReader::position() const {
  return source_->position();
}
std::uint64_t JsonRecordReader::total() const {
  return source_->total();
}

Result<bool> JsonRecordReader::fill() {
  // Keeps only the unread bytes (the record in progress), at the front.
  return detail::refill(*source_, buffer_, begin_, end_, eof_, kBlock);
}

Error JsonRecordReader::error_here(const std::string& message) const {
  return data_error(name() + ":" + std::to_string(next_line_) + ": " + message);
}

Result<bool> JsonRecordReader::skip_space(std::size_t& offset, bool newlines, bool discard) {
  for (;;) {
    while (begin_ + offset < end_) {
      const char c = buffer_[begin_ + offset];
      if (c == '\n') {
        if (!newlines)
          return true;
        ++next_line_;
      } else if (c != ' ' && c != '\t' && c != '\r') {
        if (discard) {
          begin_ += offset;
          offset = 0;
        }
        return true;
      }
      ++offset;
    }
    if (discard) {
      begin_ += offset;
      offset = 0;
    }
    auto filled = fill();
    if (!filled)
      return std::move(filled).error();
    if (!*filled)
      return false;
  }
}

Result<std::size_t> JsonRecordReader::scan_value(std::size_t pos) {
  const char first = buffer_[begin_ + pos];
  auto too_large = [&] {
    return error_here("the record starting on line " + std::to_string(record_line_) +
                      " is larger than " + std::to_string(kMaxRecordBytes >> 20) + " MiB");
  };

  if (first == '}' || first == ']' || first == ',' || first == ':')
    return error_here("unexpected " + describe_byte(first) + " where a JSON value should start");

  std::size_t i = pos + 1;
  if (first != '{' && first != '[' && first != '"') {
    // A number, true, false or null: its own syntax is the parser's business.
    for (;;) {
      while (begin_ + i < end_) {
        if (ends_scalar(buffer_[begin_ + i]))
          return i;
        ++i;
      }
      if (i - pos > kMaxRecordBytes)
        return too_large();
      auto filled = fill();
      if (!filled)
        return std::move(filled).error();
      if (!*filled)
        return i;
    }
  }

  std::size_t depth = first == '"' ? 0 : 1;
  bool in_string = first == '"';
  bool escaped = false; // the previous byte was a backslash inside a string
  for (;;) {
    const char* data = buffer_.data() + begin_;
    const std::size_t avail = end_ - begin_;
    if (i >= avail) {
      if (avail - pos > kMaxRecordBytes)
        return too_large();
      auto filled = fill();
      if (!filled)
        return std::move(filled).error();
      if (!*filled) {
        if (in_string)
          return error_here("unterminated string (the input ends inside it)");
        return error_here("unexpected end of the input: the record starting on line " +
                          std::to_string(record_line_) + " is missing " + std::to_string(depth) +
                          " closing bracket(s)");
      }
      continue;
    }
    if (in_string) {
      if (escaped) {
        escaped = false;
        if (data[i] == '\n')
          return error_here("unterminated string (a line ends inside it)");
        ++i;
        continue;
      }
      const auto hit =
          static_cast<std::size_t>(find_first_of<'"', '\\', '\n'>(data + i, data + avail) - data);
      if (hit == avail) {
        i = avail;
        continue;
      }
      i = hit + 1;
      if (data[hit] == '\\') {
        escaped = true;
      } else if (data[hit] == '"') {
        in_string = false;
        if (depth == 0)
          break;
      } else {
        // JSON strings cannot hold a raw line end; the closing quote is missing.
        return error_here("unterminated string (a line ends inside it)");
      }
      continue;
    }
    const auto hit = static_cast<std::size_t>(
        find_first_of<'"', '{', '[', '}', ']', '\n'>(data + i, data + avail) - data);
    if (hit == avail) {
      i = avail;
      continue;
    }
    i = hit + 1;
    const char c = data[hit];
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (--depth == 0)
        break;
    } else {
      ++next_line_;
    }
  }
  if (i - pos > kMaxRecordBytes)
    return too_large();
  return i;
}

Result<bool> JsonRecordReader::finish_array() {
  finished_ = true;
  std::size_t offset = 0;
  auto more = skip_space(offset, true, true);
  if (!more)
    return std::move(more).error();
  if (*more)
    return error_here("unexpected " + describe_byte(buffer_[begin_ + offset]) +
                      " after the closing ']' of the JSON array");
  return false;
}

Result<bool> JsonRecordReader::next(std::string_view& record) {
  record = {};
  if (failed_)
    return *failed_;
  auto result = read_record(record);
  if (!result)
    failed_ = result.error();
  return result;
}

Result<bool> JsonRecordReader::read_record(std::string_view& record) {
  std::size_t offset = 0;
  if (!started_) {
    started_ = true;
    while (end_ - begin_ < 3 && !eof_) {
      auto filled = fill();
      if (!filled)
        return std::move(filled).error();
    }
    if (end_ - begin_ >= 3 && std::memcmp(buffer_.data() + begin_, "\xEF\xBB\xBF", 3) == 0)
      begin_ += 3;
    auto more = skip_space(offset, true, true);
    if (!more)
      return std::move(more).error();
    if (!*more) {
      finished_ = true;
      if (layout_ == JsonLayout::array)
        return error_here("expected '[' to open the JSON array, found the end of the input");
      return false;
    }
    const char c = buffer_[begin_];
    if (layout_ == JsonLayout::automatic)
      layout_ = c == '[' ? JsonLayout::array : JsonLayout::ndjson;
    if (layout_ == JsonLayout::array) {
      if (c != '[')
        return error_here("expected '[' to open the JSON array, found " + describe_byte(c));
      ++begin_;
    }
  }
  if (finished_)
    return false;

  auto more = skip_space(offset, true, true);
  if (!more)
    return std::move(more).error();

  if (layout_ == JsonLayout::ndjson) {
    if (!*more) {
      finished_ = true;
      return false;
    }
    record_line_ = next_line_;
    auto end = scan_value(0);
    if (!end)
      return std::move(end).error();
    std::size_t after = *end;
    more = skip_space(after, false, false);
    if (!more)
      return std::move(more).error();
    if (*more) {
      const char c = buffer_[begin_ + after];
      if (c != '\n')
        return error_here("expected a line end after the record, found " + describe_byte(c) +
                          " (newline-delimited JSON holds one value per line)");
      ++after;
      ++next_line_;
    }
    record = std::string_view(buffer_.data() + begin_, *end);
    begin_ += after;
    ++records_;
    return true;
  }

  if (!*more)
    return error_here(expect_separator_
                          ? "unexpected end of the input inside the JSON array; expected ',' or ']'"
                          : "unexpected end of the input inside the JSON array; expected a value "
                            "or ']'");
  char c = buffer_[begin_];
  if (c == ']') {
    ++begin_;
    return finish_array();
  }
  if (expect_separator_) {
    if (c != ',')
      return error_here("expected ',' or ']' after an array element, found " + describe_byte(c));
    ++begin_;
    more = skip_space(offset, true, true);
    if (!more)
      return std::move(more).error();
    if (!*more)
      return error_here("unexpected end of the input after ','; expected a value");
    c = buffer_[begin_];
    if (c == ']')
      return error_here("expected a value after ',', found ']' (JSON allows no trailing comma)");
  }
  record_line_ = next_line_;
  auto end = scan_value(0);
  if (!end)
    return std::move(end).error();
  record = std::string_view(buffer_.data() + begin_, *end);
  begin_ += *end;
  expect_separator_ = true;
  ++records_;
  return true;
}

} // namespace billdrop
