#pragma once
// A small Parquet writer for tests: it turns rows of text (as a CSV file holds them) into a
// Parquet file the way the common writers lay one out, so that tests can prove the reader and the
// plugins against fixtures they make themselves. Columns: STRING, INT32, INT64, DOUBLE, BOOLEAN,
// DECIMAL (INT64 or FIXED_LEN_BYTE_ARRAY(16) backed), DATE, TIMESTAMP(MICROS), and the maps
// map<string,string> and map<string,double>. Encodings PLAIN or dictionary (RLE_DICTIONARY, with
// an optional fallback to PLAIN mid-chunk); data pages v1 or v2; UNCOMPRESSED, SNAPPY, GZIP or
// ZSTD; several row groups and pages.

#include <billdrop/timestamp.hpp>

#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include <charconv>
#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace billdrop::testing {

enum class PqKind {
  string,
  int32,
  int64,
  float64,
  boolean,
  decimal64,    // DECIMAL(18, scale) on INT64
  decimal_flba, // DECIMAL(38, scale) on FIXED_LEN_BYTE_ARRAY(16)
  date,         // text YYYY-MM-DD
  timestamp_us, // text any form parse_timestamp reads; UTC-adjusted
  map_string_string,
  map_string_double,
};

struct PqColumn {
  std::string name;
  PqKind kind = PqKind::string;
  bool optional = true;
  int scale = 0;
  std::string map_group = "key_value"; // the name of a map's repeated inner group
};

// A cell: nullopt is null; a map cell's entries are in `entries` (value nullopt is null).
struct PqCell {
  std::optional<std::string> text;
  bool map_null = false;
  std::vector<std::pair<std::string, std::optional<std::string>>> entries;
  PqCell() = default;
  PqCell(const char* t) : text(t) {}
  PqCell(std::string t) : text(std::move(t)) {}
  PqCell(std::optional<std::string> t) : text(std::move(t)) {}
  static PqCell null() { return PqCell(std::optional<std::string>()); }
};

struct PqOptions {
  int codec = 1; // 0 UNCOMPRESSED, 1 SNAPPY, 2 GZIP, 6 ZSTD
  bool dictionary = true;
  std::size_t dictionary_limit = SIZE_MAX; // entries, after which pages fall back to PLAIN
  bool page_v2 = false;
  std::size_t rows_per_page = 1000;
  std::size_t rows_per_group = 100000;
  std::string map_group_name = "key_value";
};

namespace pqw {

__extension__ typedef __int128 i128;
__extension__ typedef unsigned __int128 u128;

class Compact {
public:
  std::string out;
  void byte(std::uint8_t b) { out.push_back(static_cast<char>(b)); }
  void varint(std::uint64_t v) {
    while (v >= 0x80) {
      byte(static_cast<std::uint8_t>(v | 0x80));
      v >>= 7;
    }
    byte(static_cast<std::uint8_t>(v));
  }
  void zigzag(std::int64_t v) {
    varint((static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63));
  }
  void field(int id, std::uint8_t type) {
    const int delta = id - last_.back();
    if (delta > 0 && delta <= 15) {
      byte(static_cast<std::uint8_t>((delta << 4) | type));
    } else {
      byte(type);
      zigzag(id);
    }
    last_.back() = id;
  }
  void i32(int id, std::int64_t v) {
    field(id, 5);
    zigzag(v);
  }
  void i64(int id, std::int64_t v) {
    field(id, 6);
    zigzag(v);
  }
  void boolean(int id, bool v) { field(id, v ? 1 : 2); }
  void binary(int id, std::string_view s) {
    field(id, 8);
    varint(s.size());
    out.append(s);
  }
  void begin_struct(int id) {
    field(id, 12);
    last_.push_back(0);
  }
  void begin_struct_element() { last_.push_back(0); }
  void end_struct() {
    byte(0);
    last_.pop_back();
  }
  void list(int id, std::uint8_t element_type, std::size_t n) {
    field(id, 9);
    if (n < 15) {
      byte(static_cast<std::uint8_t>((n << 4) | element_type));
    } else {
      byte(static_cast<std::uint8_t>(0xf0 | element_type));
      varint(n);
    }
  }

private:
  std::vector<int> last_{0};
};

// RLE / bit-packed hybrid as bit-packed runs of 8.
inline std::string hybrid(const std::vector<std::uint32_t>& values, int width) {
  std::string out;
  const std::size_t groups = (values.size() + 7) / 8;
  std::uint64_t header = (groups << 1) | 1;
  while (header >= 0x80) {
    out.push_back(static_cast<char>(header | 0x80));
    header >>= 7;
  }
  out.push_back(static_cast<char>(header));
  std::string packed(groups * static_cast<std::size_t>(width), '\0');
  for (std::size_t i = 0; i < values.size(); ++i)
    for (int b = 0; b < width; ++b)
      if (values[i] >> b & 1) {
        const std::size_t bit = i * static_cast<std::size_t>(width) + static_cast<std::size_t>(b);
        packed[bit / 8] = static_cast<char>(packed[bit / 8] | (1 << (bit % 8)));
      }
  return out + packed;
}

inline int width_of(std::uint32_t v) {
  int w = 0;
  while (v) {
    ++w;
    v >>= 1;
  }
  return w;
}

inline void put_le(std::string& out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i)
    out.push_back(static_cast<char>(v >> (8 * i)));
}

inline std::string compress(int codec, const std::string& raw) {
  std::string out;
  if (codec == 0)
    return raw;
  if (codec == 1) {
    snappy::Compress(raw.data(), raw.size(), &out);
    return out;
  }
  if (codec == 6) {
    out.resize(ZSTD_compressBound(raw.size()));
    out.resize(ZSTD_compress(out.data(), out.size(), raw.data(), raw.size(), 3));
    return out;
  }
  if (codec == 2) {
    z_stream z{};
    deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    out.resize(deflateBound(&z, raw.size()) + 32);
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data()));
    z.avail_in = static_cast<uInt>(raw.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    deflate(&z, Z_FINISH);
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
  }
  throw std::runtime_error("test writer: codec not supported");
}

// Decimal text ("-12.34") to its unscaled integer at `scale`.
inline i128 unscaled(const std::string& text, int scale) {
  i128 v = 0;
  bool negative = false, point = false;
  int fraction = 0;
  for (char c : text) {
    if (c == '-')
      negative = true;
    else if (c == '.')
      point = true;
    else if (c >= '0' && c <= '9') {
      if (point && fraction == scale)
        throw std::runtime_error("test writer: more fraction digits than the scale: " + text);
      v = v * 10 + (c - '0');
      fraction += point;
    }
  }
  for (; fraction < scale; ++fraction)
    v *= 10;
  return negative ? -v : v;
}

inline std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

} // namespace pqw

class ParquetWriter {
public:
  ParquetWriter(std::vector<PqColumn> columns, PqOptions options = {})
      : columns_(std::move(columns)), options_(std::move(options)) {}

  void add_row(std::vector<PqCell> row) {
    if (row.size() != columns_.size())
      throw std::runtime_error("test writer: row of the wrong width");
    rows_.push_back(std::move(row));
  }

  std::string finish() {
    std::string file = "PAR1";
    struct Chunk {
      std::int64_t offset = 0, dict_offset = -1, size = 0, values = 0;
      std::vector<std::string> path;
      int type = 0;
    };
    std::vector<std::pair<std::int64_t, std::vector<Chunk>>> groups;
    for (std::size_t start = 0; start < rows_.size() || (start == 0 && rows_.empty());
         start += options_.rows_per_group) {
      const std::size_t end = std::min(rows_.size(), start + options_.rows_per_group);
      std::vector<Chunk> chunks;
      for (std::size_t c = 0; c < columns_.size(); ++c) {
        for (const Leaf& leaf : leaves(columns_[c])) {
          Chunk chunk;
          chunk.type = leaf.type;
          chunk.path = leaf.path;
          write_chunk(file, c, leaf, start, end, chunk.offset, chunk.dict_offset, chunk.values);
          chunk.size = static_cast<std::int64_t>(file.size()) -
                       (chunk.dict_offset >= 0 ? chunk.dict_offset : chunk.offset);
          chunks.push_back(std::move(chunk));
        }
      }
      groups.emplace_back(static_cast<std::int64_t>(end - start), std::move(chunks));
      if (rows_.empty())
        break;
    }
    pqw::Compact f;
    f.i32(1, 1);
    std::size_t elements = 1;
    for (const auto& c : columns_)
      elements += is_map(c) ? 4 : 1;
    f.list(2, 12, elements);
    schema_element(f, "schema", -1, -1, static_cast<int>(columns_.size()));
    for (const auto& c : columns_)
      schema_column(f, c);
    f.i64(3, static_cast<std::int64_t>(rows_.size()));
    f.list(4, 12, groups.size());
    for (const auto& [rows, chunks] : groups) {
      f.begin_struct_element();
      f.list(1, 12, chunks.size());
      std::int64_t total = 0;
      for (const Chunk& chunk : chunks) {
        f.begin_struct_element();
        f.i64(2, chunk.offset);
        f.begin_struct(3);
        f.i32(1, chunk.type);
        f.list(2, 5, 2);
        f.zigzag(0);
        f.zigzag(8);
        f.list(3, 8, chunk.path.size());
        for (const auto& p : chunk.path) {
          f.varint(p.size());
          f.out.append(p);
        }
        f.i32(4, options_.codec);
        f.i64(5, chunk.values);
        f.i64(6, chunk.size);
        f.i64(7, chunk.size);
        f.i64(9, chunk.offset);
        if (chunk.dict_offset >= 0)
          f.i64(11, chunk.dict_offset);
        f.end_struct();
        f.end_struct();
        total += chunk.size;
      }
      f.i64(2, total);
      f.i64(3, rows);
      f.end_struct();
    }
    f.binary(6, "billdrop test writer");
    f.byte(0);
    file += f.out;
    pqw::put_le(file, f.out.size(), 4);
    file += "PAR1";
    return file;
  }

private:
  struct Leaf {
    std::vector<std::string> path;
    int type = 6;
    int max_def = 0, max_rep = 0;
    bool key = false, value = false;
  };

  static bool is_map(const PqColumn& c) {
    return c.kind == PqKind::map_string_string || c.kind == PqKind::map_string_double;
  }

  static int physical(PqKind kind) {
    switch (kind) {
    case PqKind::boolean:
      return 0;
    case PqKind::int32:
    case PqKind::date:
      return 1;
    case PqKind::int64:
    case PqKind::decimal64:
    case PqKind::timestamp_us:
      return 2;
    case PqKind::float64:
      return 5;
    case PqKind::decimal_flba:
      return 7;
    default:
      return 6;
    }
  }

  std::vector<Leaf> leaves(const PqColumn& c) const {
    if (!is_map(c))
      return {Leaf{{c.name}, physical(c.kind), c.optional ? 1 : 0, 0}};
    const std::string group = c.map_group.empty() ? options_.map_group_name : c.map_group;
    Leaf key{{c.name, group, "key"}, 6, 2, 1, true, false};
    Leaf value{
        {c.name, group, "value"}, c.kind == PqKind::map_string_double ? 5 : 6, 3, 1, false, true};
    return {key, value};
  }

  void schema_element(pqw::Compact& f, const std::string& name, int type, int repetition,
                      int children, int converted = -1, int type_length = 0,
                      const PqColumn* logical = nullptr) {
    f.begin_struct_element();
    if (type >= 0)
      f.i32(1, type);
    if (type_length > 0)
      f.i32(2, type_length);
    if (repetition >= 0)
      f.i32(3, repetition);
    f.binary(4, name);
    if (children >= 0)
      f.i32(5, children);
    if (converted >= 0)
      f.i32(6, converted);
    if (logical && (logical->kind == PqKind::decimal64 || logical->kind == PqKind::decimal_flba)) {
      f.i32(7, logical->scale);
      f.i32(8, logical->kind == PqKind::decimal64 ? 18 : 38);
      f.begin_struct(10);
      f.begin_struct(5);
      f.i32(1, logical->scale);
      f.i32(2, logical->kind == PqKind::decimal64 ? 18 : 38);
      f.end_struct();
      f.end_struct();
    }
    if (logical && logical->kind == PqKind::timestamp_us) {
      f.begin_struct(10);
      f.begin_struct(8);
      f.boolean(1, true);
      f.begin_struct(2);
      f.begin_struct(2);
      f.end_struct();
      f.end_struct();
      f.end_struct();
      f.end_struct();
    }
    f.end_struct();
  }

  void schema_column(pqw::Compact& f, const PqColumn& c) {
    const int rep = c.optional ? 1 : 0;
    switch (c.kind) {
    case PqKind::string:
      return schema_element(f, c.name, 6, rep, -1, 0);
    case PqKind::date:
      return schema_element(f, c.name, 1, rep, -1, 6);
    case PqKind::decimal64:
      return schema_element(f, c.name, 2, rep, -1, 5, 0, &c);
    case PqKind::decimal_flba:
      return schema_element(f, c.name, 7, rep, -1, 5, 16, &c);
    case PqKind::timestamp_us:
      return schema_element(f, c.name, 2, rep, -1, 10, 0, &c);
    case PqKind::map_string_string:
    case PqKind::map_string_double: {
      schema_element(f, c.name, -1, 1, 1, 1);
      schema_element(f, c.map_group.empty() ? options_.map_group_name : c.map_group, -1, 2, 2, 2);
      schema_element(f, "key", 6, 0, -1, 0);
      if (c.kind == PqKind::map_string_double)
        schema_element(f, "value", 5, 1, -1);
      else
        schema_element(f, "value", 6, 1, -1, 0);
      return;
    }
    default:
      return schema_element(f, c.name, physical(c.kind), rep, -1);
    }
  }

  // The PLAIN bytes of one value given as text.
  std::string plain(const PqColumn& c, const Leaf& leaf, const std::string& text) const {
    std::string out;
    PqKind kind = c.kind;
    if (leaf.key || (leaf.value && c.kind == PqKind::map_string_string))
      kind = PqKind::string;
    else if (leaf.value)
      kind = PqKind::float64;
    switch (kind) {
    case PqKind::string:
      pqw::put_le(out, text.size(), 4);
      out += text;
      break;
    case PqKind::int32:
    case PqKind::int64: {
      std::int64_t v = 0;
      std::from_chars(text.data(), text.data() + text.size(), v);
      pqw::put_le(out, static_cast<std::uint64_t>(v), kind == PqKind::int32 ? 4 : 8);
      break;
    }
    case PqKind::float64: {
      double v = 0;
      std::from_chars(text.data(), text.data() + text.size(), v);
      std::uint64_t bits;
      std::memcpy(&bits, &v, 8);
      pqw::put_le(out, bits, 8);
      break;
    }
    case PqKind::boolean:
      out.push_back(text == "true" ? 1 : 0); // packed later
      break;
    case PqKind::decimal64:
      pqw::put_le(out, static_cast<std::uint64_t>(pqw::unscaled(text, c.scale)), 8);
      break;
    case PqKind::decimal_flba: {
      const auto v = static_cast<pqw::u128>(pqw::unscaled(text, c.scale));
      for (int i = 15; i >= 0; --i)
        out.push_back(static_cast<char>(v >> (8 * i)));
      break;
    }
    case PqKind::date: {
      const auto days = pqw::days_from_civil(std::stoi(text.substr(0, 4)),
                                             static_cast<unsigned>(std::stoi(text.substr(5, 2))),
                                             static_cast<unsigned>(std::stoi(text.substr(8, 2))));
      pqw::put_le(out, static_cast<std::uint64_t>(days), 4);
      break;
    }
    case PqKind::timestamp_us: {
      auto t = parse_timestamp(text);
      if (!t.ok())
        throw std::runtime_error("test writer: " + t.error().message());
      pqw::put_le(out, static_cast<std::uint64_t>(t->seconds * 1000000), 8);
      break;
    }
    default:
      break;
    }
    return out;
  }

  struct Entry {
    std::uint32_t rep = 0, def = 0;
    std::optional<std::string> text;
  };

  std::vector<Entry> entries(const PqColumn& c, const Leaf& leaf, const PqCell& cell) const {
    if (!is_map(c)) {
      if (!cell.text)
        return {{0, 0, std::nullopt}};
      return {{0, static_cast<std::uint32_t>(leaf.max_def), cell.text}};
    }
    if (cell.map_null)
      return {{0, 0, std::nullopt}};
    if (cell.entries.empty())
      return {{0, 1, std::nullopt}};
    std::vector<Entry> out;
    for (std::size_t i = 0; i < cell.entries.size(); ++i) {
      const auto& [k, v] = cell.entries[i];
      const std::uint32_t rep = i == 0 ? 0 : 1;
      if (leaf.key)
        out.push_back({rep, 2, k});
      else
        out.push_back({rep, v ? 3u : 2u, v});
    }
    return out;
  }

  void write_chunk(std::string& file, std::size_t column, const Leaf& leaf, std::size_t begin,
                   std::size_t end, std::int64_t& offset, std::int64_t& dict_offset,
                   std::int64_t& values) {
    const PqColumn& c = columns_[column];
    const bool booleans = leaf.type == 0;
    const bool use_dict = options_.dictionary && !booleans;
    std::map<std::string, std::uint32_t> dict_index;
    std::vector<std::string> dict_values;
    // First pass: the dictionary (until its limit).
    std::vector<std::vector<Entry>> rows;
    for (std::size_t r = begin; r < end; ++r)
      rows.push_back(entries(c, leaf, rows_[r][column]));
    std::size_t fallback_row = end - begin;
    if (use_dict) {
      for (std::size_t r = 0; r < rows.size() && fallback_row == end - begin; ++r)
        for (const Entry& e : rows[r])
          if (e.text) {
            std::string bytes = plain(c, leaf, *e.text);
            if (!dict_index.count(bytes)) {
              if (dict_values.size() >= options_.dictionary_limit) {
                // Pages from this row on are PLAIN: round down to a page boundary.
                fallback_row = r / options_.rows_per_page * options_.rows_per_page;
                break;
              }
              dict_index.emplace(bytes, static_cast<std::uint32_t>(dict_values.size()));
              dict_values.push_back(std::move(bytes));
            }
          }
      std::string raw;
      for (const auto& v : dict_values)
        raw += v;
      dict_offset = static_cast<std::int64_t>(file.size());
      page(file, 2, raw, static_cast<std::int32_t>(dict_values.size()), 0, {}, {}, 0);
    }
    offset = static_cast<std::int64_t>(file.size());
    values = 0;
    for (std::size_t p = 0; p < rows.size(); p += options_.rows_per_page) {
      const std::size_t q = std::min(rows.size(), p + options_.rows_per_page);
      std::vector<std::uint32_t> defs, reps;
      std::vector<std::string> present;
      for (std::size_t r = p; r < q; ++r)
        for (const Entry& e : rows[r]) {
          defs.push_back(e.def);
          reps.push_back(e.rep);
          if (e.text)
            present.push_back(plain(c, leaf, *e.text));
        }
      const bool dict_page = use_dict && p < fallback_row;
      std::string body;
      if (dict_page) {
        std::vector<std::uint32_t> idx;
        for (const auto& v : present)
          idx.push_back(dict_index.at(v));
        const int w = pqw::width_of(dict_values.empty() ? 0 : dict_values.size() - 1);
        body.push_back(static_cast<char>(w));
        body += pqw::hybrid(idx, w);
      } else if (booleans) {
        std::string bits((present.size() + 7) / 8, '\0');
        for (std::size_t i = 0; i < present.size(); ++i)
          if (present[i][0])
            bits[i / 8] = static_cast<char>(bits[i / 8] | (1 << (i % 8)));
        body = bits;
      } else {
        for (const auto& v : present)
          body += v;
      }
      values += static_cast<std::int64_t>(defs.size());
      page(file, options_.page_v2 ? 3 : 0, body, static_cast<std::int32_t>(defs.size()),
           dict_page ? 8 : 0, leaf.max_rep ? reps : std::vector<std::uint32_t>{},
           leaf.max_def ? defs : std::vector<std::uint32_t>{}, leaf.max_def, leaf.max_rep,
           static_cast<std::int32_t>(q - p));
    }
  }

  void page(std::string& file, int type, const std::string& body, std::int32_t num_values,
            int encoding, const std::vector<std::uint32_t>& reps,
            const std::vector<std::uint32_t>& defs, int max_def, int max_rep = 0,
            std::int32_t num_rows = 0) {
    std::string rep_bytes = reps.empty() ? "" : pqw::hybrid(reps, pqw::width_of(max_rep));
    std::string def_bytes = defs.empty() ? "" : pqw::hybrid(defs, pqw::width_of(max_def));
    std::string raw, stored;
    if (type == 3) {
      const std::string packed = pqw::compress(options_.codec, body);
      raw = rep_bytes + def_bytes + body;
      stored = rep_bytes + def_bytes + packed;
    } else {
      if (!reps.empty()) {
        pqw::put_le(raw, rep_bytes.size(), 4);
        raw += rep_bytes;
      }
      if (!defs.empty()) {
        pqw::put_le(raw, def_bytes.size(), 4);
        raw += def_bytes;
      }
      raw += body;
      stored = pqw::compress(options_.codec, raw);
    }
    pqw::Compact h;
    h.i32(1, type);
    h.i32(2, static_cast<std::int64_t>(raw.size()));
    h.i32(3, static_cast<std::int64_t>(stored.size()));
    if (type == 0) {
      h.begin_struct(5);
      h.i32(1, num_values);
      h.i32(2, encoding);
      h.i32(3, 3);
      h.i32(4, 3);
      h.end_struct();
    } else if (type == 2) {
      h.begin_struct(7);
      h.i32(1, num_values);
      h.i32(2, 0);
      h.end_struct();
    } else {
      std::int32_t nulls = 0;
      for (auto d : defs)
        nulls += d < static_cast<std::uint32_t>(max_def);
      h.begin_struct(8);
      h.i32(1, num_values);
      h.i32(2, nulls);
      h.i32(3, num_rows);
      h.i32(4, encoding);
      h.i32(5, static_cast<std::int64_t>(def_bytes.size()));
      h.i32(6, static_cast<std::int64_t>(rep_bytes.size()));
      h.end_struct();
    }
    h.byte(0);
    file += h.out;
    file += stored;
  }

  std::vector<PqColumn> columns_;
  PqOptions options_;
  std::vector<std::vector<PqCell>> rows_;
};

} // namespace billdrop::testing
