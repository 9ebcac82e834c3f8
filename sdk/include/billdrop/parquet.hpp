#pragma once
// Apache Parquet, read as text cells, row by row, the way a plugin reads a CSV file.
//
// ParquetReader::open() reads the footer (the Thrift compact protocol, decoded in
// src/parquet/thrift.cpp); columns() lists the readable columns; project() picks the ones a plugin
// wants. next() then streams rows: one row group at a time, each projected column's chunk read
// from the file and its pages decompressed and decoded one at a time, so memory is bounded by a
// row group's projected columns. Columns that are not projected are never read.
//
// Every value is delivered as text (docs/cbf.md, "Parquet values as text"):
//   BOOLEAN                      true / false
//   INT32, INT64                 decimal integer (unsigned when annotated so)
//   DECIMAL(p,s) on any backing  exact decimal text with s fraction digits ("-12.3400")
//   FLOAT, DOUBLE                the shortest text that reads back to the same value
//                                (std::to_chars): what the exporting system printed
//   DATE                         2024-08-16
//   TIMESTAMP, INT96             2024-08-16T05:00:00Z (UTC-adjusted; no Z when not), with
//                                ".123", ".123456" or ".123456789" when the fraction is not zero
//   BYTE_ARRAY, FIXED_LEN_…      the bytes as they are (UUID: canonical 8-4-4-4-12 hex)
// A null is an empty cell (is_null() tells it apart from an empty string). A map column
// (map<string,string>, map<string,double>, whatever its inner group is called) and a list column
// give their entries as key/value pairs (a list's keys are empty).
//
// Supported: encodings PLAIN, RLE/bit-packed hybrid, PLAIN_DICTIONARY, RLE_DICTIONARY (also a
// chunk that falls back from dictionary to plain), DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY,
// DELTA_BYTE_ARRAY, BYTE_STREAM_SPLIT; data pages v1 and v2; codecs UNCOMPRESSED, SNAPPY, GZIP,
// ZSTD, LZ4_RAW, LZ4 (Hadoop framing or a bare block), BROTLI. Page CRCs are checked when present.
// Anything else (encryption, LZO, structs of lists, lists of lists) is an error naming the file
// and the feature.

#include <billdrop/result.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace billdrop {

// Bytes read by offset: a Parquet footer is read from the end of the file, then column chunks
// from where the footer says they are.
class RandomAccessSource {
public:
  virtual ~RandomAccessSource() = default;
  virtual std::uint64_t size() const = 0;
  // Reads exactly `length` bytes at `offset` into `out`; an error names the source.
  virtual Status read_at(std::uint64_t offset, std::size_t length, char* out) = 0;
  virtual const std::string& name() const = 0;
};

Result<std::unique_ptr<RandomAccessSource>>
open_random_access_file(const std::filesystem::path& path);
std::unique_ptr<RandomAccessSource> memory_random_access(std::string data,
                                                         std::string name = "<memory>");

enum class ParquetShape { value, list, map };

struct ParquetColumn {
  // The top-level field's name; a field inside a struct is named by its dotted path ("a.b").
  std::string name;
  ParquetShape shape = ParquetShape::value;
  // For messages and `billdrop check`: "INT64 TIMESTAMP(MICROS,UTC)", "map<STRING,DOUBLE>".
  std::string type;
};

// A column the reader cannot deliver, and why ("a list of lists is not supported").
struct ParquetUnsupported {
  std::string name;
  std::string reason;
};

// One entry of a map or list cell. A list's keys are empty.
struct ParquetEntry {
  std::string_view key;
  std::string_view value;
  bool value_null = false;
};

namespace detail {
class ParquetFile;
class ParquetColumnCursor;
struct ParquetColumnPlan;
// One cell of a ParquetRow (here only so that the reader's internals can fill rows in batches).
struct ParquetCell {
  std::string_view text;
  bool null = true;
  std::uint32_t first_entry = 0;
  std::uint32_t entry_count = 0;
};
} // namespace detail

// One row's cells, in projection order. The views stay valid until the next call to next().
class ParquetRow {
public:
  std::size_t size() const noexcept { return size_; }
  std::string_view operator[](std::size_t i) const noexcept { return cells_[i].text; }
  bool is_null(std::size_t i) const noexcept { return cells_[i].null; }
  // A map's or list's entries (empty for a value column or a null map).
  std::span<const ParquetEntry> entries(std::size_t i) const noexcept {
    return cells_[i].entry_count == 0
               ? std::span<const ParquetEntry>()
               : std::span<const ParquetEntry>(entries_.data() + cells_[i].first_entry,
                                               cells_[i].entry_count);
  }

private:
  friend class ParquetReader;
  const detail::ParquetCell* cells_ = nullptr; // a row of the reader's batch
  std::size_t size_ = 0;
  std::vector<ParquetEntry> entries_;
};

class ParquetReader {
public:
  // Reads and checks the footer. Errors name the source: "cur.parquet: not a Parquet file (no
  // PAR1 magic)", "x.parquet: encrypted Parquet (modular encryption) is not supported".
  static Result<std::unique_ptr<ParquetReader>> open(std::unique_ptr<RandomAccessSource> source);
  static Result<std::unique_ptr<ParquetReader>> open(const std::filesystem::path& path);
  ~ParquetReader();
  ParquetReader(const ParquetReader&) = delete;
  ParquetReader& operator=(const ParquetReader&) = delete;

  // Every readable column, in file order, and those that cannot be read.
  const std::vector<ParquetColumn>& columns() const noexcept { return columns_; }
  const std::vector<ParquetUnsupported>& unsupported() const noexcept { return unsupported_; }
  // Index in columns() of the column, or npos; find_ci ignores ASCII case.
  std::size_t find(std::string_view name) const noexcept;
  std::size_t find_ci(std::string_view name) const noexcept;
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

  // Chooses the columns next() delivers, in this order (indexes into columns()). Before the
  // first next() only; by default every readable column is delivered.
  Status project(std::vector<std::size_t> columns);
  const std::vector<std::size_t>& projection() const noexcept { return projection_; }

  // Reads the next row. Returns false after the last row. An error leaves the reader unusable
  // and names the file, row group, column and page.
  Result<bool> next(ParquetRow& row);

  std::uint64_t num_rows() const noexcept { return num_rows_; }
  std::size_t num_row_groups() const noexcept;
  // How many rows next() has returned so far.
  std::uint64_t rows() const noexcept { return rows_; }
  const std::string& name() const noexcept;
  // "parquet-mr version 1.12.3", "pyarrow", … (the footer's created_by), or empty.
  const std::string& created_by() const noexcept;

private:
  ParquetReader();
  Status open_row_group(std::size_t index);
  Result<bool> read_row(ParquetRow& row);

  std::unique_ptr<detail::ParquetFile> file_;
  std::vector<ParquetColumn> columns_;
  std::vector<ParquetUnsupported> unsupported_;
  std::vector<std::size_t> projection_;
  std::vector<std::unique_ptr<detail::ParquetColumnCursor>> cursors_; // per projected leaf
  std::vector<std::vector<std::size_t>> cursor_of_; // projected column → cursors
  std::vector<detail::ParquetColumnPlan> plan_;     // projected column → how next() reads it
  // Rows are decoded a batch at a time: value columns' cells for up to 128 rows (never past a
  // page's end, so that the views hold), row by row; maps and lists are filled in per row.
  std::vector<detail::ParquetCell> batch_;
  std::size_t batch_rows_ = 0;
  std::size_t batch_pos_ = 0;
  std::vector<std::size_t> value_columns_;  // indexes into the projection
  std::vector<std::size_t> nested_columns_; // maps and lists
  std::size_t row_group_ = 0;               // the row group being read (open when started_)
  std::uint64_t group_rows_left_ = 0;
  bool started_ = false;
  std::optional<Error> failed_;
  std::uint64_t num_rows_ = 0;
  std::uint64_t rows_ = 0;
};

} // namespace billdrop
