#include <billdrop/csv.hpp>
#include <billdrop/detail/block_source.hpp>
#include <billdrop/detail/refill.hpp>
#include <billdrop/text.hpp>

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

// Splits one line that is wholly in the buffer: the common case of machine-written exports,
// whose rows are short fields, some of them quoted ("Amazon Web Services, Inc."). Sixteen bytes
// per step, then one bit per delimiter or quote, instead of a search per field. A quoted field is
// taken as is when its closing quote is followed by the delimiter or the line end and it holds no
// CR; doubled quotes, stray quotes and CRs return false (the caller discards the fields and takes
// the general path, which handles them and reports errors with their column). Fields go straight
// into `fields` as views of `line`; `count` is how many. A line that could need more fields than
// `fields` holds returns false too: the general path sizes `fields` for the lines after it.
bool split_plain_line(const char* line, std::size_t length, char delimiter, char quote,
                      std::vector<std::string_view>& fields, std::size_t& count) {
  std::size_t field_start = 0;
  std::size_t i = 0;
  std::string_view* out = fields.data();
  std::string_view* const out_end = out + fields.size();
  const auto emit = [&](std::size_t begin, std::size_t size) {
    if (out == out_end) [[unlikely]]
      return false;
    *out++ = std::string_view(line + begin, size);
    return true;
  };
  const auto finish = [&] { count = static_cast<std::size_t>(out - fields.data()); };
  // A quote at `at`: must open the field; skips to after its closing quote. Returns false when
  // the line needs the general path, and sets `done` when the line ends with this field.
  auto quoted = [&](std::size_t at, bool& done) {
    if (at != field_start)
      return false;
    const void* close = std::memchr(line + at + 1, quote, length - at - 1);
    if (close == nullptr)
      return false;
    const auto c = static_cast<std::size_t>(static_cast<const char*>(close) - line);
    if (c + 1 < length && line[c + 1] != delimiter)
      return false;
    if (std::memchr(line + at + 1, '\r', c - at - 1) != nullptr)
      return false;
    if (!emit(at + 1, c - at - 1))
      return false;
    done = c + 1 >= length;
    field_start = c + 2;
    i = c + 2;
    return true;
  };
#ifdef __SSE2__
  const __m128i vd = _mm_set1_epi8(delimiter);
  const __m128i vq = _mm_set1_epi8(quote);
  const __m128i vr = _mm_set1_epi8('\r');
  while (i + 16 <= length) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(line + i));
    const auto special = static_cast<unsigned>(
        _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, vq), _mm_cmpeq_epi8(v, vr))));
    auto delimiters = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, vd)));
    const std::size_t base = i;
    // The delimiters before the first quote or CR of the block (all of them when there is none,
    // the common case) need no look at the bytes themselves.
    if (special != 0)
      delimiters &= (1u << __builtin_ctz(special)) - 1;
    // A block holds at most sixteen delimiters: one room check for all of them.
    if (out_end - out < 16) [[unlikely]]
      return false;
    while (delimiters != 0) {
      const std::size_t at = base + static_cast<std::size_t>(__builtin_ctz(delimiters));
      delimiters &= delimiters - 1;
      *out++ = std::string_view(line + field_start, at - field_start);
      field_start = at + 1;
    }
    if (special == 0) {
      i = base + 16;
      continue;
    }
    const std::size_t at = base + static_cast<std::size_t>(__builtin_ctz(special));
    if (line[at] == '\r')
      return false;
    bool done = false;
    if (!quoted(at, done))
      return false;
    if (done) {
      finish();
      return true;
    }
  }
#endif
  while (i < length) {
    const char c = line[i];
    if (c == '\r')
      return false;
    if (c == delimiter) {
      if (!emit(field_start, i - field_start))
        return false;
      field_start = i + 1;
    } else if (c == quote) {
      bool done = false;
      if (!quoted(i, done))
        return false;
      if (done) {
        finish();
        return true;
      }
      continue;
    }
    ++i;
  }
  if (!emit(field_start, length - field_start))
    return false;
  finish();
  return true;
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
      options_(options) {}

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
  auto result = read_record(record);
  if (!result)
    failed_ = result.error();
  return result;
}

Result<bool> CsvReader::read_record(CsvRecord& record) {
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

  // Fast path: the whole line is in the buffer and needs no quote handling.
  if (const void* newline = std::memchr(buffer_.data() + begin_, '\n', end_ - begin_)) {
    const char* line = buffer_.data() + begin_;
    const auto line_bytes = static_cast<std::size_t>(static_cast<const char*>(newline) - line);
    std::size_t content = line_bytes;
    if (content > 0 && line[content - 1] == '\r')
      --content;
    if (content <= max_field &&
        split_plain_line(line, content, delimiter, quote, record.fields_, record.size_)) {
      begin_ += line_bytes + 1;
      ++next_line_;
      ++records_;
      return true;
    }
    record.size_ = 0;
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

  // Room for a line like this one plus a block's worth, which the fast path checks per block.
  if (record.fields_.size() < spans_.size() + 16)
    record.fields_.resize(spans_.size() + 16);
  for (std::size_t i = 0; i < spans_.size(); ++i)
    record.fields_[i] = std::string_view(data + spans_[i].first, spans_[i].second);
  record.size_ = spans_.size();
  begin_ += pos;
  ++records_;
  return true;
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
