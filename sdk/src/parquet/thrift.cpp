// The Thrift compact protocol, decoded by hand for the few structures a reader needs: the footer
// (FileMetaData and what it holds) and page headers. Unknown fields are skipped, so files from
// newer writers read; every length is checked against the bytes that are left, and nesting is
// capped, so a corrupt footer is an error and never a crash or a huge allocation.

#include "parquet/format.hpp"

#include <cstring>

namespace billdrop::detail::parquet {

void fail(const std::string& message) {
  throw FormatError(message);
}

const char* to_string(Type type) noexcept {
  switch (type) {
  case Type::boolean:
    return "BOOLEAN";
  case Type::int32:
    return "INT32";
  case Type::int64:
    return "INT64";
  case Type::int96:
    return "INT96";
  case Type::float32:
    return "FLOAT";
  case Type::float64:
    return "DOUBLE";
  case Type::byte_array:
    return "BYTE_ARRAY";
  case Type::fixed_len_byte_array:
    return "FIXED_LEN_BYTE_ARRAY";
  }
  return "?";
}

std::uint64_t ByteCursor::uleb(const char* what) {
  std::uint64_t value = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    need(1, what);
    const std::uint8_t byte = *p++;
    value |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0)
      return value;
  }
  fail(std::string("malformed varint in ") + what);
}

namespace {

enum : std::uint8_t {
  ct_stop = 0,
  ct_true = 1,
  ct_false = 2,
  ct_byte = 3,
  ct_i16 = 4,
  ct_i32 = 5,
  ct_i64 = 6,
  ct_double = 7,
  ct_binary = 8,
  ct_list = 9,
  ct_set = 10,
  ct_map = 11,
  ct_struct = 12,
};

constexpr int max_depth = 64;

class Compact {
public:
  Compact(const std::uint8_t* p, std::size_t n) : in_{p, p + n} {}

  std::size_t consumed(const std::uint8_t* start) const {
    return static_cast<std::size_t>(in_.p - start);
  }

  // Reads the next field header of the struct being read; false at its STOP.
  bool field(std::int16_t& last_id, std::int16_t& id, std::uint8_t& type) {
    in_.need(1, "Thrift field header");
    const std::uint8_t byte = *in_.p++;
    type = byte & 0x0f;
    if (type == ct_stop)
      return false;
    const int delta = byte >> 4;
    if (delta != 0)
      id = static_cast<std::int16_t>(last_id + delta);
    else
      id = static_cast<std::int16_t>(zigzag(in_.uleb("Thrift field id")));
    last_id = id;
    return true;
  }

  std::int64_t integer() { return zigzag(in_.uleb("Thrift integer")); }
  std::int32_t i32() {
    const std::int64_t v = integer();
    if (v < INT32_MIN || v > INT32_MAX)
      fail("Thrift i32 out of range");
    return static_cast<std::int32_t>(v);
  }
  std::string_view binary() {
    const std::uint64_t n = in_.uleb("Thrift binary length");
    in_.need(n, "Thrift binary");
    std::string_view s(reinterpret_cast<const char*>(in_.p), n);
    in_.p += n;
    return s;
  }
  // List or set header: element count and type.
  std::size_t list(std::uint8_t& element_type) {
    in_.need(1, "Thrift list header");
    const std::uint8_t byte = *in_.p++;
    element_type = byte & 0x0f;
    std::uint64_t n = byte >> 4;
    if (n == 15)
      n = in_.uleb("Thrift list size");
    // Every element takes at least one byte (a bool list element too): a count larger than the
    // bytes left is corrupt, and checking it here bounds every allocation by the input.
    if (n > in_.left())
      fail("Thrift list longer than its data");
    return static_cast<std::size_t>(n);
  }

  void skip(std::uint8_t type, int depth = 0) {
    if (depth > max_depth)
      fail("Thrift structure nested too deeply");
    switch (type) {
    case ct_true:
    case ct_false:
      return;
    case ct_byte:
      in_.need(1, "Thrift byte");
      ++in_.p;
      return;
    case ct_i16:
    case ct_i32:
    case ct_i64:
      in_.uleb("Thrift integer");
      return;
    case ct_double:
      in_.need(8, "Thrift double");
      in_.p += 8;
      return;
    case ct_binary:
      binary();
      return;
    case ct_list:
    case ct_set: {
      std::uint8_t et = 0;
      const std::size_t n = list(et);
      for (std::size_t i = 0; i < n; ++i)
        skip_element(et, depth + 1);
      return;
    }
    case ct_map: {
      const std::uint64_t n = in_.uleb("Thrift map size");
      if (n == 0)
        return;
      if (n > in_.left())
        fail("Thrift map longer than its data");
      in_.need(1, "Thrift map types");
      const std::uint8_t kv = *in_.p++;
      for (std::uint64_t i = 0; i < n; ++i) {
        skip_element(static_cast<std::uint8_t>(kv >> 4), depth + 1);
        skip_element(static_cast<std::uint8_t>(kv & 0x0f), depth + 1);
      }
      return;
    }
    case ct_struct: {
      std::int16_t last = 0, id = 0;
      std::uint8_t ft = 0;
      while (field(last, id, ft))
        skip(ft, depth + 1);
      return;
    }
    default:
      fail("unknown Thrift type " + std::to_string(type));
    }
  }

  // Inside a list, a bool takes a byte.
  void skip_element(std::uint8_t type, int depth) {
    if (type == ct_true || type == ct_false) {
      in_.need(1, "Thrift bool");
      ++in_.p;
      return;
    }
    skip(type, depth);
  }

  ByteCursor in_;

private:
  static std::int64_t zigzag(std::uint64_t v) {
    return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
  }
};

// Iterates a struct's fields: `for (Fields f(c); f.next();) switch (f.id) …`.
struct Fields {
  explicit Fields(Compact& compact) : c(compact) {}
  bool next() { return c.field(last, id, type); }
  // Checks that the field has the type the reader expects; a field of another type is skipped.
  bool is(std::uint8_t want) {
    const bool match = type == want || (want == ct_true && type == ct_false) ||
                       (want == ct_i32 && (type == ct_i16 || type == ct_byte));
    if (!match)
      c.skip(type);
    return match;
  }
  bool boolean() const { return type == ct_true; }
  void skip() { c.skip(type); }
  Compact& c;
  std::int16_t last = 0;
  std::int16_t id = 0;
  std::uint8_t type = 0;
};

std::int32_t small_int(Compact& c, std::uint8_t type) {
  if (type == ct_byte) {
    c.in_.need(1, "Thrift byte");
    return static_cast<std::int8_t>(*c.in_.p++);
  }
  return c.i32();
}

TimeUnit parse_time_unit(Compact& c) {
  TimeUnit unit = TimeUnit::millis;
  for (Fields f(c); f.next();) {
    if (f.id == 1)
      unit = TimeUnit::millis;
    else if (f.id == 2)
      unit = TimeUnit::micros;
    else if (f.id == 3)
      unit = TimeUnit::nanos;
    f.skip();
  }
  return unit;
}

void parse_time_like(Compact& c, LogicalType& lt) {
  for (Fields f(c); f.next();) {
    if (f.id == 1 && f.is(ct_true))
      lt.utc = f.boolean();
    else if (f.id == 2 && f.is(ct_struct))
      lt.unit = parse_time_unit(c);
    else if (f.id != 1 && f.id != 2)
      f.skip();
  }
}

LogicalType parse_logical_type(Compact& c) {
  using K = LogicalType::Kind;
  LogicalType lt;
  lt.kind = K::other;
  for (Fields f(c); f.next();) {
    if (f.type != ct_struct) {
      f.skip();
      continue;
    }
    switch (f.id) {
    case 1:
      lt.kind = K::string;
      break;
    case 2:
      lt.kind = K::map;
      break;
    case 3:
      lt.kind = K::list;
      break;
    case 4:
      lt.kind = K::enum_;
      break;
    case 5:
      lt.kind = K::decimal;
      for (Fields d(c); d.next();) {
        if (d.id == 1 && d.is(ct_i32))
          lt.scale = c.i32();
        else if (d.id == 2 && d.is(ct_i32))
          lt.precision = c.i32();
        else if (d.id != 1 && d.id != 2)
          d.skip();
      }
      continue;
    case 6:
      lt.kind = K::date;
      break;
    case 7:
      lt.kind = K::time;
      parse_time_like(c, lt);
      continue;
    case 8:
      lt.kind = K::timestamp;
      parse_time_like(c, lt);
      continue;
    case 10:
      lt.kind = K::integer;
      for (Fields d(c); d.next();) {
        if (d.id == 1 && (d.type == ct_byte || d.type == ct_i32 || d.type == ct_i16))
          lt.bit_width = small_int(c, d.type);
        else if (d.id == 2 && d.is(ct_true))
          lt.is_signed = d.boolean();
        else
          d.skip();
      }
      continue;
    case 11:
      lt.kind = K::unknown;
      break;
    case 12:
      lt.kind = K::json;
      break;
    case 13:
      lt.kind = K::bson;
      break;
    case 14:
      lt.kind = K::uuid;
      break;
    case 15:
      lt.kind = K::float16;
      break;
    default:
      lt.kind = K::other;
      break;
    }
    f.skip();
  }
  return lt;
}

SchemaElement parse_schema_element(Compact& c) {
  SchemaElement e;
  for (Fields f(c); f.next();) {
    switch (f.id) {
    case 1:
      if (f.is(ct_i32)) {
        const std::int32_t t = c.i32();
        if (t < 0 || t > 7)
          fail("unknown physical type " + std::to_string(t));
        e.type = static_cast<Type>(t);
      }
      break;
    case 2:
      if (f.is(ct_i32))
        e.type_length = c.i32();
      break;
    case 3:
      if (f.is(ct_i32)) {
        const std::int32_t r = c.i32();
        if (r < 0 || r > 2)
          fail("unknown repetition type " + std::to_string(r));
        e.repetition = static_cast<Repetition>(r);
      }
      break;
    case 4:
      if (f.is(ct_binary))
        e.name = std::string(c.binary());
      break;
    case 5:
      if (f.is(ct_i32))
        e.num_children = c.i32();
      break;
    case 6:
      if (f.is(ct_i32))
        e.converted_type = c.i32();
      break;
    case 7:
      if (f.is(ct_i32))
        e.scale = c.i32();
      break;
    case 8:
      if (f.is(ct_i32))
        e.precision = c.i32();
      break;
    case 10:
      if (f.is(ct_struct)) {
        e.logical = parse_logical_type(c);
        e.has_logical = true;
      }
      break;
    default:
      f.skip();
    }
  }
  return e;
}

ColumnMeta parse_column_meta(Compact& c) {
  ColumnMeta m;
  for (Fields f(c); f.next();) {
    switch (f.id) {
    case 1:
      if (f.is(ct_i32)) {
        const std::int32_t t = c.i32();
        if (t < 0 || t > 7)
          fail("unknown physical type " + std::to_string(t));
        m.type = static_cast<Type>(t);
      }
      break;
    case 3:
      if (f.is(ct_list)) {
        std::uint8_t et = 0;
        const std::size_t n = c.list(et);
        for (std::size_t i = 0; i < n; ++i) {
          if (et != ct_binary)
            fail("path_in_schema is not a list of strings");
          m.path.emplace_back(c.binary());
        }
      }
      break;
    case 4:
      if (f.is(ct_i32))
        m.codec = c.i32();
      break;
    case 5:
      if (f.is(ct_i64))
        m.num_values = c.integer();
      break;
    case 7:
      if (f.is(ct_i64))
        m.total_compressed_size = c.integer();
      break;
    case 9:
      if (f.is(ct_i64))
        m.data_page_offset = c.integer();
      break;
    case 11:
      if (f.is(ct_i64))
        m.dictionary_page_offset = c.integer();
      break;
    default:
      f.skip();
    }
  }
  return m;
}

ColumnChunk parse_column_chunk(Compact& c) {
  ColumnChunk chunk;
  for (Fields f(c); f.next();) {
    switch (f.id) {
    case 1:
      if (f.is(ct_binary))
        chunk.file_path = std::string(c.binary());
      break;
    case 3:
      if (f.is(ct_struct)) {
        chunk.meta = parse_column_meta(c);
        chunk.has_meta = true;
      }
      break;
    case 8: // crypto_metadata
    case 9: // encrypted_column_metadata
      chunk.encrypted = true;
      f.skip();
      break;
    default:
      f.skip();
    }
  }
  return chunk;
}

RowGroup parse_row_group(Compact& c) {
  RowGroup g;
  for (Fields f(c); f.next();) {
    if (f.id == 1 && f.is(ct_list)) {
      std::uint8_t et = 0;
      const std::size_t n = c.list(et);
      if (n > 0 && et != ct_struct)
        fail("row group columns are not structs");
      g.columns.reserve(n);
      for (std::size_t i = 0; i < n; ++i)
        g.columns.push_back(parse_column_chunk(c));
    } else if (f.id == 3 && f.is(ct_i64)) {
      g.num_rows = c.integer();
    } else if (f.id != 1 && f.id != 3) {
      f.skip();
    }
  }
  return g;
}

} // namespace

FileMetaData parse_file_metadata(const std::uint8_t* bytes, std::size_t size) {
  Compact c(bytes, size);
  FileMetaData meta;
  for (Fields f(c); f.next();) {
    switch (f.id) {
    case 2:
      if (f.is(ct_list)) {
        std::uint8_t et = 0;
        const std::size_t n = c.list(et);
        if (n > 0 && et != ct_struct)
          fail("schema is not a list of structs");
        meta.schema.reserve(n);
        for (std::size_t i = 0; i < n; ++i)
          meta.schema.push_back(parse_schema_element(c));
      }
      break;
    case 3:
      if (f.is(ct_i64))
        meta.num_rows = c.integer();
      break;
    case 4:
      if (f.is(ct_list)) {
        std::uint8_t et = 0;
        const std::size_t n = c.list(et);
        if (n > 0 && et != ct_struct)
          fail("row groups are not structs");
        meta.row_groups.reserve(n);
        for (std::size_t i = 0; i < n; ++i)
          meta.row_groups.push_back(parse_row_group(c));
      }
      break;
    case 6:
      if (f.is(ct_binary))
        meta.created_by = std::string(c.binary());
      break;
    case 8: // encryption_algorithm: a plaintext footer over encrypted columns
      meta.encrypted = true;
      f.skip();
      break;
    default:
      f.skip();
    }
  }
  return meta;
}

std::size_t parse_page_header(const std::uint8_t* bytes, std::size_t size, PageHeader& h) {
  Compact c(bytes, size);
  h = PageHeader{};
  for (Fields f(c); f.next();) {
    switch (f.id) {
    case 1:
      if (f.is(ct_i32))
        h.type = c.i32();
      break;
    case 2:
      if (f.is(ct_i32))
        h.uncompressed_size = c.i32();
      break;
    case 3:
      if (f.is(ct_i32))
        h.compressed_size = c.i32();
      break;
    case 4:
      if (f.is(ct_i32))
        h.crc = c.i32();
      break;
    case 5:
      if (f.is(ct_struct)) {
        h.has_data = true;
        for (Fields d(c); d.next();) {
          if (d.id == 1 && d.is(ct_i32))
            h.num_values = c.i32();
          else if (d.id == 2 && d.is(ct_i32))
            h.encoding = c.i32();
          else if (d.id == 3 && d.is(ct_i32))
            h.definition_level_encoding = c.i32();
          else if (d.id == 4 && d.is(ct_i32))
            h.repetition_level_encoding = c.i32();
          else if (d.id < 1 || d.id > 4)
            d.skip();
        }
      }
      break;
    case 7:
      if (f.is(ct_struct)) {
        h.has_dictionary = true;
        for (Fields d(c); d.next();) {
          if (d.id == 1 && d.is(ct_i32))
            h.num_values = c.i32();
          else if (d.id == 2 && d.is(ct_i32))
            h.encoding = c.i32();
          else if (d.id < 1 || d.id > 2)
            d.skip();
        }
      }
      break;
    case 8:
      if (f.is(ct_struct)) {
        h.has_data_v2 = true;
        for (Fields d(c); d.next();) {
          switch (d.id) {
          case 1:
            if (d.is(ct_i32))
              h.num_values = c.i32();
            break;
          case 2:
            if (d.is(ct_i32))
              h.num_nulls = c.i32();
            break;
          case 3:
            if (d.is(ct_i32))
              h.num_rows = c.i32();
            break;
          case 4:
            if (d.is(ct_i32))
              h.encoding = c.i32();
            break;
          case 5:
            if (d.is(ct_i32))
              h.definition_levels_length = c.i32();
            break;
          case 6:
            if (d.is(ct_i32))
              h.repetition_levels_length = c.i32();
            break;
          case 7:
            if (d.is(ct_true))
              h.is_compressed = d.boolean();
            break;
          default:
            d.skip();
          }
        }
      }
      break;
    default:
      f.skip();
    }
  }
  return c.consumed(bytes);
}

} // namespace billdrop::detail::parquet
