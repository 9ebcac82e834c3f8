#pragma once
// The Parquet file format as the reader needs it: the footer's structures (parquet.thrift, decoded
// from the Thrift compact protocol by thrift.cpp), page headers, codecs and value encodings.
// Everything here throws FormatError on malformed input; ParquetReader turns it into an Error
// naming the file, row group, column and page.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace billdrop::detail::parquet {

class FormatError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};
[[noreturn]] void fail(const std::string& message);

// Physical types (parquet.thrift Type).
enum class Type : int {
  boolean = 0,
  int32 = 1,
  int64 = 2,
  int96 = 3,
  float32 = 4,
  float64 = 5,
  byte_array = 6,
  fixed_len_byte_array = 7,
};
const char* to_string(Type type) noexcept;

enum class Repetition : int { required = 0, optional = 1, repeated = 2 };

enum class TimeUnit { millis, micros, nanos };

// The logical type (LogicalType union) or, in older files, the converted type, reduced to what
// the reader needs.
struct LogicalType {
  enum class Kind {
    none,
    string,
    map,
    list,
    enum_,
    decimal,
    date,
    time,
    timestamp,
    integer,
    json,
    bson,
    uuid,
    float16,
    unknown, // the UNKNOWN (null) logical type
    other,   // a logical type newer than this reader
  };
  Kind kind = Kind::none;
  int scale = 0;
  int precision = 0;
  bool utc = true;
  TimeUnit unit = TimeUnit::millis;
  int bit_width = 64;
  bool is_signed = true;
};

struct SchemaElement {
  std::optional<Type> type;
  std::int32_t type_length = 0;
  std::optional<Repetition> repetition;
  std::string name;
  std::int32_t num_children = 0;
  std::int32_t converted_type = -1;
  std::int32_t scale = 0;
  std::int32_t precision = 0;
  bool has_logical = false;
  LogicalType logical;
};

struct ColumnMeta {
  Type type = Type::int32;
  std::vector<std::string> path;
  std::int32_t codec = 0;
  std::int64_t num_values = 0;
  std::int64_t total_compressed_size = 0;
  std::int64_t data_page_offset = 0;
  std::int64_t dictionary_page_offset = -1;
};

struct ColumnChunk {
  std::string file_path;
  bool has_meta = false;
  bool encrypted = false;
  ColumnMeta meta;
};

struct RowGroup {
  std::vector<ColumnChunk> columns;
  std::int64_t num_rows = 0;
};

struct FileMetaData {
  std::vector<SchemaElement> schema;
  std::int64_t num_rows = 0;
  std::vector<RowGroup> row_groups;
  std::string created_by;
  bool encrypted = false; // a plaintext footer with encrypted columns
};

enum class PageType : int { data = 0, index = 1, dictionary = 2, data_v2 = 3 };

struct PageHeader {
  std::int32_t type = -1;
  std::int32_t uncompressed_size = -1;
  std::int32_t compressed_size = -1;
  std::optional<std::int32_t> crc;
  // data page v1 / v2 / dictionary page
  bool has_data = false;
  bool has_data_v2 = false;
  bool has_dictionary = false;
  std::int32_t num_values = 0;
  std::int32_t encoding = 0;
  std::int32_t definition_level_encoding = 3;
  std::int32_t repetition_level_encoding = 3;
  std::int32_t num_nulls = 0;
  std::int32_t num_rows = 0;
  std::int32_t definition_levels_length = 0;
  std::int32_t repetition_levels_length = 0;
  bool is_compressed = true;
};

// Decodes the footer; `bytes` is the serialized FileMetaData.
FileMetaData parse_file_metadata(const std::uint8_t* bytes, std::size_t size);
// Decodes a page header at `bytes`; returns its length in bytes.
std::size_t parse_page_header(const std::uint8_t* bytes, std::size_t size, PageHeader& header);

// Codecs (parquet.thrift CompressionCodec).
enum class Codec : int {
  uncompressed = 0,
  snappy = 1,
  gzip = 2,
  lzo = 3,
  brotli = 4,
  lz4 = 5,
  zstd = 6,
  lz4_raw = 7,
};
const char* codec_name(std::int32_t codec) noexcept;
// Throws FormatError when the codec is unknown or unsupported ("codec LZO is not supported").
void check_codec(std::int32_t codec);
// Decompresses into `out`, which must become exactly `uncompressed_size` bytes.
void decompress(std::int32_t codec, const std::uint8_t* in, std::size_t size,
                std::size_t uncompressed_size, std::string& out);

// Encodings (parquet.thrift Encoding).
enum class Encoding : int {
  plain = 0,
  plain_dictionary = 2,
  rle = 3,
  bit_packed = 4,
  delta_binary_packed = 5,
  delta_length_byte_array = 6,
  delta_byte_array = 7,
  rle_dictionary = 8,
  byte_stream_split = 9,
};
const char* encoding_name(std::int32_t encoding) noexcept;

// Bytes being decoded, bounds-checked.
struct ByteCursor {
  const std::uint8_t* p;
  const std::uint8_t* end;
  std::size_t left() const noexcept { return static_cast<std::size_t>(end - p); }
  void need(std::size_t n, const char* what) const {
    if (left() < n)
      fail(std::string("truncated ") + what);
  }
  std::uint64_t uleb(const char* what);
};

// The RLE / bit-packed hybrid (levels, dictionary indexes, RLE booleans): decodes `count` values
// of `bit_width` bits into `out`.
void decode_rle_hybrid(ByteCursor in, int bit_width, std::size_t count, std::uint32_t* out);

// DELTA_BINARY_PACKED: decodes up to `count` values (all the stream has when `count` is
// SIZE_MAX); leaves `in` after the stream (DELTA_LENGTH_BYTE_ARRAY continues there).
void decode_delta_binary(ByteCursor& in, std::size_t count, std::vector<std::int64_t>& out);

int bit_width_of(std::uint32_t max_value) noexcept;

} // namespace billdrop::detail::parquet
