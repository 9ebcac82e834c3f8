// One leaf column of one row group: its chunk read from the file, then page by page
// decompressed, its levels and values decoded, every value turned into text once (a dictionary's
// entries once per chunk).

#include "parquet/column.hpp"

#include <billdrop/parquet_double.hpp>

#include <libdeflate.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace billdrop::detail {

using pq::fail;

namespace {

__extension__ typedef __int128 int128;
__extension__ typedef unsigned __int128 uint128;

// Days since 1970-01-01 to a civil date (Howard Hinnant's days_from_civil, inverted).
void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

void put_digits(std::string& out, std::uint64_t v, int width) {
  char buf[24];
  int n = 0;
  do {
    buf[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  for (int i = n; i < width; ++i)
    out.push_back('0');
  while (n > 0)
    out.push_back(buf[--n]);
}

void put_date(std::string& out, std::int64_t days) {
  std::int64_t y = 0;
  unsigned m = 0, d = 0;
  civil_from_days(days, y, m, d);
  if (y < 0) {
    out.push_back('-');
    y = -y;
  }
  put_digits(out, static_cast<std::uint64_t>(y), 4);
  out.push_back('-');
  put_digits(out, m, 2);
  out.push_back('-');
  put_digits(out, d, 2);
}

// Seconds of the day plus a fraction in `digits` digits, written in groups of three with
// trailing zero groups dropped (".5" milliseconds is ".500"; a whole second has no fraction).
void put_time(std::string& out, std::int64_t seconds, std::uint64_t fraction, int digits) {
  put_digits(out, static_cast<std::uint64_t>(seconds / 3600), 2);
  out.push_back(':');
  put_digits(out, static_cast<std::uint64_t>(seconds / 60 % 60), 2);
  out.push_back(':');
  put_digits(out, static_cast<std::uint64_t>(seconds % 60), 2);
  if (fraction == 0)
    return;
  while (digits > 3 && fraction % 1000 == 0) {
    fraction /= 1000;
    digits -= 3;
  }
  out.push_back('.');
  put_digits(out, fraction, digits);
}

std::int64_t units_per_second(pq::TimeUnit unit) {
  return unit == pq::TimeUnit::millis ? 1000 : unit == pq::TimeUnit::micros ? 1000000 : 1000000000;
}
int unit_digits(pq::TimeUnit unit) {
  return unit == pq::TimeUnit::millis ? 3 : unit == pq::TimeUnit::micros ? 6 : 9;
}

void put_timestamp(std::string& out, int128 value, std::int64_t per_second, int digits, bool utc) {
  int128 seconds = value / per_second;
  int128 fraction = value % per_second;
  if (fraction < 0) {
    fraction += per_second;
    --seconds;
  }
  int128 days = seconds / 86400;
  int128 rest = seconds % 86400;
  if (rest < 0) {
    rest += 86400;
    --days;
  }
  put_date(out, static_cast<std::int64_t>(days));
  out.push_back('T');
  put_time(out, static_cast<std::int64_t>(rest), static_cast<std::uint64_t>(fraction), digits);
  if (utc)
    out.push_back('Z');
}

void put_int128(std::string& out, int128 v, int scale) {
  const bool negative = v < 0;
  uint128 u = negative ? -static_cast<uint128>(v) : v;
  char buf[48];
  int n = 0;
  do {
    buf[n++] = static_cast<char>('0' + static_cast<int>(u % 10));
    u /= 10;
  } while (u != 0);
  while (n <= scale)
    buf[n++] = '0';
  if (negative)
    out.push_back('-');
  for (int i = n - 1; i >= 0; --i) {
    out.push_back(buf[i]);
    if (i == scale && scale > 0)
      out.push_back('.');
  }
}

// A big-endian two's complement integer of any length, as long as its value fits 128 bits.
int128 big_endian_int(const std::uint8_t* p, std::size_t n) {
  if (n == 0)
    return 0;
  const std::uint8_t sign = (p[0] & 0x80) ? 0xff : 0x00;
  while (n > 16) {
    if (p[0] != sign || ((p[1] ^ sign) & 0x80) != 0)
      fail("DECIMAL value does not fit 38 digits");
    ++p;
    --n;
  }
  uint128 u = sign ? ~static_cast<uint128>(0) : 0;
  for (std::size_t i = 0; i < n; ++i)
    u = (u << 8) | p[i];
  return static_cast<int128>(u);
}

template <class T>
T load_le(const std::uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

template <class F>
void put_float(std::string& out, F value) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, r.ptr);
}

float half_to_float(std::uint16_t h) {
  const std::uint32_t sign = (h & 0x8000u) << 16;
  const std::uint32_t exp = (h >> 10) & 0x1f;
  const std::uint32_t mant = h & 0x3ff;
  std::uint32_t bits = 0;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {
      float f = static_cast<float>(mant) / 16777216.0f; // 2^-24
      return sign ? -f : f;
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

std::size_t fixed_size(const Leaf& leaf) {
  switch (leaf.type) {
  case pq::Type::int32:
  case pq::Type::float32:
    return 4;
  case pq::Type::int64:
  case pq::Type::float64:
    return 8;
  case pq::Type::int96:
    return 12;
  case pq::Type::fixed_len_byte_array:
    return static_cast<std::size_t>(leaf.type_length);
  default:
    return 0;
  }
}

std::uint32_t read_u32(const std::uint8_t* p) {
  return load_le<std::uint32_t>(p);
}

// Bounds that keep a corrupt header from asking for gigabytes: writers cut pages far smaller.
constexpr std::size_t max_page_values = std::size_t{1} << 24;

} // namespace

void ParquetColumnCursor::append_text(const std::uint8_t* raw, std::size_t size, std::string& out) {
  const Leaf& l = leaf();
  switch (l.rule) {
  case TextRule::boolean:
    out.append(raw[0] ? "true" : "false");
    return;
  case TextRule::int32: {
    char buf[16];
    out.append(buf, std::to_chars(buf, buf + 16, load_le<std::int32_t>(raw)).ptr);
    return;
  }
  case TextRule::uint32: {
    char buf[16];
    out.append(buf, std::to_chars(buf, buf + 16, load_le<std::uint32_t>(raw)).ptr);
    return;
  }
  case TextRule::int64: {
    char buf[24];
    out.append(buf, std::to_chars(buf, buf + 24, load_le<std::int64_t>(raw)).ptr);
    return;
  }
  case TextRule::uint64: {
    char buf[24];
    out.append(buf, std::to_chars(buf, buf + 24, load_le<std::uint64_t>(raw)).ptr);
    return;
  }
  case TextRule::decimal: {
    int128 v = 0;
    if (l.type == pq::Type::int32)
      v = load_le<std::int32_t>(raw);
    else if (l.type == pq::Type::int64)
      v = load_le<std::int64_t>(raw);
    else
      v = big_endian_int(raw, size);
    put_int128(out, v, l.scale);
    return;
  }
  case TextRule::date:
    put_date(out, load_le<std::int32_t>(raw));
    return;
  case TextRule::time: {
    const std::int64_t v =
        l.type == pq::Type::int32 ? load_le<std::int32_t>(raw) : load_le<std::int64_t>(raw);
    const std::int64_t per = units_per_second(l.unit);
    if (v < 0 || v >= 86400 * per)
      fail("TIME value out of range");
    put_time(out, v / per, static_cast<std::uint64_t>(v % per), unit_digits(l.unit));
    return;
  }
  case TextRule::timestamp:
    put_timestamp(out, load_le<std::int64_t>(raw), units_per_second(l.unit), unit_digits(l.unit),
                  l.utc);
    return;
  case TextRule::int96: {
    // Nanoseconds of the day, then the Julian day (2440588 is 1970-01-01).
    const std::int64_t nanos = load_le<std::int64_t>(raw);
    const std::int32_t julian = load_le<std::int32_t>(raw + 8);
    const int128 value = (static_cast<int128>(julian) - 2440588) * 86400 * 1000000000 + nanos;
    put_timestamp(out, value, 1000000000, 9, true);
    return;
  }
  case TextRule::float32:
    put_float(out, load_le<float>(raw));
    return;
  case TextRule::float64: {
    char buf[shortest_double_max];
    out.append(buf, write_shortest_double(buf, load_le<double>(raw)));
    return;
  }
  case TextRule::float16:
    put_float(out, half_to_float(load_le<std::uint16_t>(raw)));
    return;
  case TextRule::uuid: {
    static const char hex[] = "0123456789abcdef";
    for (std::size_t i = 0; i < size; ++i) {
      if (i == 4 || i == 6 || i == 8 || i == 10)
        out.push_back('-');
      out.push_back(hex[raw[i] >> 4]);
      out.push_back(hex[raw[i] & 15]);
    }
    return;
  }
  case TextRule::bytes:
    out.append(reinterpret_cast<const char*>(raw), size);
    return;
  }
}

void ParquetColumnCursor::start(std::size_t group) {
  const pq::ColumnChunk& chunk = file_.meta.row_groups[group].columns[leaf_index_];
  const Leaf& l = leaf();
  if (chunk.encrypted)
    fail("encrypted column (Parquet modular encryption) is not supported");
  if (!chunk.file_path.empty())
    fail("column chunk stored in another file (" + chunk.file_path + ") is not supported");
  if (!chunk.has_meta)
    fail("column chunk without metadata");
  const pq::ColumnMeta& m = chunk.meta;
  if (m.type != l.type)
    fail(std::string("column chunk of type ") + pq::to_string(m.type) + " where the schema says " +
         pq::to_string(l.type));
  pq::check_codec(m.codec);
  codec_ = m.codec;
  std::int64_t begin = m.data_page_offset;
  if (m.dictionary_page_offset > 0 && m.dictionary_page_offset < begin)
    begin = m.dictionary_page_offset;
  const std::int64_t size = m.total_compressed_size;
  if (begin < 4 || size <= 0 || m.num_values < 0 ||
      static_cast<std::uint64_t>(begin) > file_.data_end ||
      static_cast<std::uint64_t>(size) > file_.data_end - static_cast<std::uint64_t>(begin))
    fail("column chunk lies outside the file's data (offset " + std::to_string(begin) + ", " +
         std::to_string(size) + " bytes)");
  chunk_.resize(static_cast<std::size_t>(size));
  const Status read =
      file_.source->read_at(static_cast<std::uint64_t>(begin), chunk_.size(), chunk_.data());
  if (!read.ok())
    throw ErrorException(read.error());
  pos_ = 0;
  page_number_ = 0;
  values_left_ = static_cast<std::uint64_t>(m.num_values);
  has_dictionary_ = false;
  dict_size_ = 0;
  dict_mode_ = false;
  levels_ = level_pos_ = value_pos_ = values_in_page_ = 0;
}

bool ParquetColumnCursor::load_page() {
  while (pos_ < chunk_.size()) {
    const auto* base = reinterpret_cast<const std::uint8_t*>(chunk_.data());
    pq::PageHeader h;
    ++page_number_;
    const std::size_t header_size = pq::parse_page_header(base + pos_, chunk_.size() - pos_, h);
    pos_ += header_size;
    if (h.compressed_size < 0 || h.uncompressed_size < 0 ||
        static_cast<std::size_t>(h.compressed_size) > chunk_.size() - pos_)
      fail("page size out of range (" + std::to_string(h.compressed_size) + " bytes)");
    const std::uint8_t* data = base + pos_;
    const std::size_t size = static_cast<std::size_t>(h.compressed_size);
    pos_ += size;
    if (h.crc && (h.type == 0 || h.type == 2 || h.type == 3)) {
      const auto crc = static_cast<std::uint32_t>(libdeflate_crc32(0, data, size));
      if (crc != static_cast<std::uint32_t>(*h.crc))
        fail("page checksum (CRC-32) mismatch");
    }
    if (h.type == static_cast<int>(pq::PageType::dictionary)) {
      if (!h.has_dictionary)
        fail("dictionary page without its header");
      read_dictionary(h, data, size);
      continue;
    }
    if (h.type == static_cast<int>(pq::PageType::data) ||
        h.type == static_cast<int>(pq::PageType::data_v2)) {
      read_data_page(h, data, size);
      return true;
    }
    if (h.type != static_cast<int>(pq::PageType::index))
      fail("unknown page type " + std::to_string(h.type));
  }
  return false;
}

void ParquetColumnCursor::read_dictionary(const pq::PageHeader& h, const std::uint8_t* data,
                                          std::size_t size) {
  if (h.encoding != static_cast<int>(pq::Encoding::plain) &&
      h.encoding != static_cast<int>(pq::Encoding::plain_dictionary))
    fail(std::string("dictionary page encoding ") + pq::encoding_name(h.encoding) +
         " is not supported");
  if (h.num_values < 0)
    fail("negative dictionary size");
  if (leaf().type == pq::Type::boolean)
    fail("dictionary page on a BOOLEAN column");
  pq::decompress(codec_, data, size, static_cast<std::size_t>(h.uncompressed_size), dict_page_);
  // Every dictionary entry takes at least one byte (a BYTE_ARRAY's length four), except
  // zero-width FIXED_LEN_BYTE_ARRAY: bound the count by the page to bound the allocation.
  if (static_cast<std::size_t>(h.num_values) > dict_page_.size() + 1 &&
      !(leaf().type == pq::Type::fixed_len_byte_array && leaf().type_length == 0))
    fail("dictionary page holds fewer bytes than its entries need");
  const Leaf& l = leaf();
  const auto count = static_cast<std::size_t>(h.num_values);
  dict_offsets_.resize(count + 1);
  dict_arena_.clear();
  const auto* p = reinterpret_cast<const std::uint8_t*>(dict_page_.data());
  const std::size_t page_size = dict_page_.size();
  // Texts longer than offsets can say are refused (a page is at most 2 GB, its text rarely more).
  auto offset = [](std::size_t n) {
    if (n > UINT32_MAX)
      fail("dictionary text larger than 4 GB");
    return static_cast<std::uint32_t>(n);
  };
  if (l.type == pq::Type::byte_array) {
    // [length][bytes]…: raw text squeezed in place (lengths dropped), anything else formatted.
    const bool raw = l.rule == TextRule::bytes;
    std::size_t at = 0, kept = 0;
    for (std::size_t i = 0; i < count; ++i) {
      if (page_size - at < 4)
        fail("truncated PLAIN BYTE_ARRAY length");
      const std::uint32_t len = read_u32(p + at);
      at += 4;
      if (page_size - at < len)
        fail("truncated PLAIN BYTE_ARRAY value");
      if (raw) {
        dict_offsets_[i] = offset(kept);
        std::memmove(dict_page_.data() + kept, dict_page_.data() + at, len);
        kept += len;
      } else {
        dict_offsets_[i] = offset(dict_arena_.size());
        append_text(p + at, len, dict_arena_);
      }
      at += len;
    }
    dict_offsets_[count] = offset(raw ? kept : dict_arena_.size());
    dict_base_ = raw ? dict_page_.data() : dict_arena_.data();
  } else {
    const std::size_t width = fixed_size(l);
    if (width != 0 && count > page_size / width)
      fail(std::string("truncated PLAIN ") + pq::to_string(l.type) + " values");
    if (l.rule == TextRule::bytes) { // FIXED_LEN_BYTE_ARRAY as it is
      for (std::size_t i = 0; i <= count; ++i)
        dict_offsets_[i] = offset(i * width);
      dict_base_ = dict_page_.data();
    } else if (l.rule == TextRule::float64) {
      // Costs: written a few thousand characters at a time, not appended one by one.
      dict_arena_.reserve(count * 12);
      char buf[4096];
      std::size_t used = 0;
      for (std::size_t i = 0; i < count; ++i) {
        if (used > sizeof buf - shortest_double_max) {
          dict_arena_.append(buf, used);
          used = 0;
        }
        dict_offsets_[i] = offset(dict_arena_.size() + used);
        used = static_cast<std::size_t>(
            write_shortest_double(buf + used, load_le<double>(p + i * width)) - buf);
      }
      dict_arena_.append(buf, used);
      dict_offsets_[count] = offset(dict_arena_.size());
      dict_base_ = dict_arena_.data();
    } else {
      dict_arena_.reserve(count * 24);
      for (std::size_t i = 0; i < count; ++i) {
        dict_offsets_[i] = offset(dict_arena_.size());
        append_text(p + i * width, width, dict_arena_);
      }
      dict_offsets_[count] = offset(dict_arena_.size());
      dict_base_ = dict_arena_.data();
    }
  }
  dict_size_ = count;
  has_dictionary_ = true;
}

void ParquetColumnCursor::read_data_page(const pq::PageHeader& h, const std::uint8_t* data,
                                         std::size_t size) {
  const Leaf& l = leaf();
  if (!h.has_data && !h.has_data_v2)
    fail("data page without its header");
  if (h.num_values < 0)
    fail("negative value count in page header");
  const auto n = static_cast<std::size_t>(h.num_values);
  if (n > max_page_values)
    fail("page of " + std::to_string(n) + " values (more than " + std::to_string(max_page_values) +
         " is refused)");
  if (n > values_left_)
    fail("page holds more values than its column chunk");
  values_left_ -= n;
  const bool v2 = h.type == static_cast<int>(pq::PageType::data_v2);
  if (v2 && !h.has_data_v2)
    fail("data page v2 without its header");
  // A level takes at least a bit, except when a page's levels are one run: bound the count by
  // what a run can hold rather than by the bytes.
  defs_.resize(l.max_def > 0 ? n : 0);
  reps_.resize(l.max_rep > 0 ? n : 0);
  const std::uint8_t* values = nullptr;
  std::size_t values_size = 0;
  if (v2) {
    if (h.definition_levels_length < 0 || h.repetition_levels_length < 0 ||
        static_cast<std::size_t>(h.definition_levels_length) +
                static_cast<std::size_t>(h.repetition_levels_length) >
            size)
      fail("data page v2 level lengths exceed the page");
    const auto rep_len = static_cast<std::size_t>(h.repetition_levels_length);
    const auto def_len = static_cast<std::size_t>(h.definition_levels_length);
    if (l.max_rep > 0)
      pq::decode_rle_hybrid({data, data + rep_len}, pq::bit_width_of(l.max_rep), n, reps_.data());
    if (l.max_def > 0)
      pq::decode_rle_hybrid({data + rep_len, data + rep_len + def_len}, pq::bit_width_of(l.max_def),
                            n, defs_.data());
    const std::size_t levels_len = rep_len + def_len;
    const std::uint8_t* body = data + levels_len;
    const std::size_t body_size = size - levels_len;
    if (static_cast<std::size_t>(h.uncompressed_size) < levels_len)
      fail("data page v2 smaller than its levels");
    const std::size_t raw_size = static_cast<std::size_t>(h.uncompressed_size) - levels_len;
    if (h.is_compressed && codec_ != 0) {
      pq::decompress(codec_, body, body_size, raw_size, page_);
    } else {
      if (body_size != raw_size)
        fail("uncompressed data page v2 whose sizes differ");
      page_.assign(reinterpret_cast<const char*>(body), body_size);
    }
    values = reinterpret_cast<const std::uint8_t*>(page_.data());
    values_size = page_.size();
  } else {
    pq::decompress(codec_, data, size, static_cast<std::size_t>(h.uncompressed_size), page_);
    pq::ByteCursor in{reinterpret_cast<const std::uint8_t*>(page_.data()),
                      reinterpret_cast<const std::uint8_t*>(page_.data()) + page_.size()};
    auto levels = [&](int max, std::int32_t encoding, std::uint32_t* out) {
      if (encoding != static_cast<int>(pq::Encoding::rle))
        fail(std::string("level encoding ") + pq::encoding_name(encoding) + " is not supported");
      in.need(4, "level length");
      const std::uint32_t len = read_u32(in.p);
      in.p += 4;
      in.need(len, "levels");
      pq::decode_rle_hybrid({in.p, in.p + len}, pq::bit_width_of(static_cast<std::uint32_t>(max)),
                            n, out);
      in.p += len;
    };
    if (l.max_rep > 0)
      levels(l.max_rep, h.repetition_level_encoding, reps_.data());
    if (l.max_def > 0)
      levels(l.max_def, h.definition_level_encoding, defs_.data());
    values = in.p;
    values_size = in.left();
  }
  // Checked without a branch per level, so that the loops vectorize.
  std::size_t present = n;
  if (l.max_def > 0) {
    const auto max_def = static_cast<std::uint32_t>(l.max_def);
    std::uint32_t highest = 0;
    present = 0;
    for (std::size_t i = 0; i < n; ++i) {
      highest = std::max(highest, defs_[i]);
      present += defs_[i] == max_def;
    }
    if (highest > max_def)
      fail("definition level above the column's maximum");
  }
  std::uint32_t highest_rep = 0;
  for (const std::uint32_t rep : reps_)
    highest_rep = std::max(highest_rep, rep);
  if (highest_rep > static_cast<std::uint32_t>(l.max_rep))
    fail("repetition level above the column's maximum");
  arena_.clear();
  dict_mode_ = h.encoding == static_cast<int>(pq::Encoding::plain_dictionary) ||
               h.encoding == static_cast<int>(pq::Encoding::rle_dictionary);
  if (dict_mode_)
    decode_dictionary_indexes(values, values_size, present);
  else
    decode_values(h.encoding, values, values_size, present, values_, arena_, scratch_);
  values_in_page_ = present;
  levels_ = n;
  level_pos_ = 0;
  value_pos_ = 0;
}

void ParquetColumnCursor::decode_dictionary_indexes(const std::uint8_t* p, std::size_t size,
                                                    std::size_t count) {
  if (!has_dictionary_)
    fail("dictionary-encoded page without a dictionary page");
  indexes_.resize(count);
  if (count == 0)
    return;
  pq::ByteCursor in{p, p + size};
  in.need(1, "dictionary index bit width");
  const int bw = *in.p++;
  pq::decode_rle_hybrid(in, bw, count, indexes_.data());
  std::uint32_t highest = 0;
  for (const std::uint32_t i : indexes_)
    highest = std::max(highest, i);
  if (highest >= dict_size_)
    fail("dictionary index " + std::to_string(highest) + " out of range (dictionary of " +
         std::to_string(dict_size_) + ")");
}

void ParquetColumnCursor::decode_values(std::int32_t encoding, const std::uint8_t* p,
                                        std::size_t size, std::size_t count,
                                        std::vector<std::string_view>& out, std::string& arena,
                                        std::string& raw_keep) {
  const Leaf& l = leaf();
  const bool raw_text = l.rule == TextRule::bytes;
  out.clear();
  spans_.clear();
  pq::ByteCursor in{p, p + size};
  // Values formatted into `arena` are recorded as spans and turned into views at the end,
  // since the arena may move while it grows.
  auto add = [&](const std::uint8_t* raw, std::size_t len) {
    const auto begin = static_cast<std::uint32_t>(arena.size());
    append_text(raw, len, arena);
    spans_.emplace_back(begin, static_cast<std::uint32_t>(arena.size() - begin));
  };
  auto finish_spans = [&] {
    out.reserve(spans_.size());
    for (const auto& [begin, len] : spans_)
      out.emplace_back(arena.data() + begin, len);
  };
  const std::size_t width = fixed_size(l);
  switch (static_cast<pq::Encoding>(encoding)) {
  case pq::Encoding::plain:
    if (l.type == pq::Type::boolean) {
      in.need((count + 7) / 8, "PLAIN booleans");
      for (std::size_t i = 0; i < count; ++i) {
        const std::uint8_t bit = (p[i >> 3] >> (i & 7)) & 1;
        add(&bit, 1);
      }
    } else if (l.type == pq::Type::byte_array) {
      if (raw_text)
        out.reserve(std::min(count, size / 4));
      for (std::size_t i = 0; i < count; ++i) {
        in.need(4, "PLAIN BYTE_ARRAY length");
        const std::uint32_t len = read_u32(in.p);
        in.p += 4;
        in.need(len, "PLAIN BYTE_ARRAY value");
        if (raw_text)
          out.emplace_back(reinterpret_cast<const char*>(in.p), len);
        else
          add(in.p, len);
        in.p += len;
      }
    } else {
      if (width != 0 && count > size / width)
        fail(std::string("truncated PLAIN ") + pq::to_string(l.type) + " values");
      if (raw_text && width != 0) {
        out.reserve(count);
        for (std::size_t i = 0; i < count; ++i)
          out.emplace_back(reinterpret_cast<const char*>(p + i * width), width);
        return;
      }
      arena.reserve(count * 24);
      for (std::size_t i = 0; i < count; ++i)
        add(p + i * width, width);
    }
    break;
  case pq::Encoding::rle: {
    if (l.type != pq::Type::boolean)
      fail(std::string("RLE values on a ") + pq::to_string(l.type) + " column");
    in.need(4, "RLE booleans length");
    const std::uint32_t len = read_u32(in.p);
    in.p += 4;
    in.need(len, "RLE booleans");
    indexes_.resize(count);
    pq::decode_rle_hybrid({in.p, in.p + len}, 1, count, indexes_.data());
    for (std::size_t i = 0; i < count; ++i) {
      const auto bit = static_cast<std::uint8_t>(indexes_[i]);
      add(&bit, 1);
    }
    break;
  }
  case pq::Encoding::delta_binary_packed: {
    if (l.type != pq::Type::int32 && l.type != pq::Type::int64)
      fail(std::string("DELTA_BINARY_PACKED on a ") + pq::to_string(l.type) + " column");
    pq::decode_delta_binary(in, count, ints_);
    if (ints_.size() != count)
      fail("DELTA_BINARY_PACKED holds fewer values than its page");
    for (std::size_t i = 0; i < count; ++i) {
      std::uint8_t raw[8];
      if (l.type == pq::Type::int32) {
        const auto v = static_cast<std::int32_t>(static_cast<std::uint32_t>(ints_[i]));
        std::memcpy(raw, &v, 4);
        add(raw, 4);
      } else {
        std::memcpy(raw, &ints_[i], 8);
        add(raw, 8);
      }
    }
    break;
  }
  case pq::Encoding::delta_length_byte_array:
  case pq::Encoding::delta_byte_array: {
    if (l.type != pq::Type::byte_array && l.type != pq::Type::fixed_len_byte_array)
      fail(std::string(pq::encoding_name(encoding)) + " on a " + pq::to_string(l.type) + " column");
    const bool prefixed = encoding == static_cast<int>(pq::Encoding::delta_byte_array);
    std::vector<std::int64_t> prefixes;
    if (prefixed) {
      pq::decode_delta_binary(in, count, prefixes);
      if (prefixes.size() != count)
        fail("DELTA_BYTE_ARRAY holds fewer prefix lengths than its page");
    }
    pq::decode_delta_binary(in, count, ints_);
    if (ints_.size() != count)
      fail("DELTA_LENGTH_BYTE_ARRAY holds fewer lengths than its page");
    // Values are rebuilt (prefix of the previous value + suffix) into raw_keep when prefixed;
    // otherwise they are views into the page.
    std::vector<std::pair<std::size_t, std::size_t>> raw_spans;
    raw_spans.reserve(count);
    raw_keep.clear();
    std::size_t prev_begin = 0, prev_len = 0;
    for (std::size_t i = 0; i < count; ++i) {
      const std::int64_t len = ints_[i];
      if (len < 0 || static_cast<std::uint64_t>(len) > in.left())
        fail("DELTA_LENGTH_BYTE_ARRAY length out of range");
      if (prefixed) {
        const std::int64_t prefix = prefixes[i];
        if (prefix < 0 || static_cast<std::size_t>(prefix) > prev_len)
          fail("DELTA_BYTE_ARRAY prefix longer than the previous value");
        const std::size_t begin = raw_keep.size();
        raw_keep.append(raw_keep, prev_begin, static_cast<std::size_t>(prefix));
        raw_keep.append(reinterpret_cast<const char*>(in.p), static_cast<std::size_t>(len));
        prev_begin = begin;
        prev_len = raw_keep.size() - begin;
        raw_spans.emplace_back(begin, prev_len);
      } else {
        raw_spans.emplace_back(static_cast<std::size_t>(in.p - p), static_cast<std::size_t>(len));
      }
      in.p += len;
    }
    const std::uint8_t* base =
        prefixed ? reinterpret_cast<const std::uint8_t*>(raw_keep.data()) : p;
    for (const auto& [begin, len] : raw_spans) {
      if (l.type == pq::Type::fixed_len_byte_array &&
          len != static_cast<std::size_t>(l.type_length))
        fail("FIXED_LEN_BYTE_ARRAY value of the wrong length");
      if (raw_text)
        out.emplace_back(reinterpret_cast<const char*>(base + begin), len);
      else
        add(base + begin, len);
    }
    break;
  }
  case pq::Encoding::byte_stream_split: {
    if (width == 0 || l.type == pq::Type::int96 || l.type == pq::Type::boolean)
      fail(std::string("BYTE_STREAM_SPLIT on a ") + pq::to_string(l.type) + " column");
    if (count > size / width)
      fail("truncated BYTE_STREAM_SPLIT values");
    // Byte k of value i is at k * count + i.
    std::string joined(count * width, '\0');
    for (std::size_t i = 0; i < count; ++i)
      for (std::size_t k = 0; k < width; ++k)
        joined[i * width + k] = static_cast<char>(p[k * count + i]);
    const auto* q = reinterpret_cast<const std::uint8_t*>(joined.data());
    if (raw_text) {
      raw_keep = std::move(joined);
      for (std::size_t i = 0; i < count; ++i)
        out.emplace_back(raw_keep.data() + i * width, width);
      return;
    }
    for (std::size_t i = 0; i < count; ++i)
      add(q + i * width, width);
    break;
  }
  default:
    fail(std::string("value encoding ") + pq::encoding_name(encoding) + " (" +
         std::to_string(encoding) + ") is not supported");
  }
  finish_spans();
}

void ParquetColumnCursor::ensure_levels() {
  while (level_pos_ == levels_)
    if (!load_page())
      fail("column chunk ends before its row group's rows");
}

template <bool Dictionary, bool Levels>
void ParquetColumnCursor::fill_cells(ParquetCell* out, std::size_t stride, std::size_t n) {
  const std::uint32_t* defs = defs_.data() + level_pos_;
  const auto max_def = static_cast<std::uint32_t>(leaf().max_def);
  const std::uint32_t* indexes = indexes_.data();
  const std::uint32_t* offsets = dict_offsets_.data();
  const char* base = dict_base_;
  std::size_t v = value_pos_;
  const std::size_t values = values_in_page_;
  for (std::size_t i = 0; i < n; ++i, out += stride) {
    out->entry_count = 0;
    if (Levels && defs[i] != max_def) {
      out->text = {};
      out->null = true;
      continue;
    }
    if (v >= values)
      fail("page holds fewer values than its levels");
    if constexpr (Dictionary) {
      const std::uint32_t k = indexes[v++];
      out->text = {base + offsets[k], offsets[k + 1] - offsets[k]};
    } else {
      out->text = values_[v++];
    }
    out->null = false;
  }
  value_pos_ = v;
}

std::size_t ParquetColumnCursor::rows_in_page() {
  ensure_levels();
  return levels_ - level_pos_;
}

void ParquetColumnCursor::next_values(ParquetCell* out, std::size_t stride, std::size_t n) {
  const bool levels = leaf().max_def > 0;
  if (dict_mode_)
    levels ? fill_cells<true, true>(out, stride, n) : fill_cells<true, false>(out, stride, n);
  else
    levels ? fill_cells<false, true>(out, stride, n) : fill_cells<false, false>(out, stride, n);
  level_pos_ += n;
}

void ParquetColumnCursor::carry(std::vector<RepeatedItem>& items) {
  std::string copy;
  for (const RepeatedItem& item : items)
    copy.append(item.text);
  carry_.swap(copy);
  std::size_t at = 0;
  for (RepeatedItem& item : items) {
    const std::size_t len = item.text.size();
    item.text = std::string_view(carry_).substr(at, len);
    at += len;
  }
}

void ParquetColumnCursor::next_repeated(std::vector<RepeatedItem>& items) {
  const Leaf& l = leaf();
  items.clear();
  ensure_levels();
  if (reps_[level_pos_] != 0)
    fail("a row starts with a repetition level other than 0");
  const int max_def = l.max_def;
  for (;;) {
    const std::size_t i = level_pos_++;
    RepeatedItem item;
    item.def = defs_.empty() ? max_def : static_cast<int>(defs_[i]);
    if (item.def == max_def) {
      if (value_pos_ >= values_in_page_)
        fail("page holds fewer values than its levels");
      item.text = value(value_pos_++);
    }
    items.push_back(item);
    // The row goes on while the next entry repeats (rep > 0), on this page or the next; the
    // next page replaces this one's values, so the row's texts are copied first.
    if (level_pos_ == levels_) {
      carry(items);
      do {
        if (!load_page())
          return;
      } while (level_pos_ == levels_);
    }
    if (reps_[level_pos_] == 0)
      return;
  }
}

} // namespace billdrop::detail
