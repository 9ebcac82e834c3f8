#pragma once
// RFC 4180 CSV, streaming: quoted fields, doubled quotes, embedded newlines, CRLF or LF line ends,
// a UTF-8 byte-order mark at the start, and a final line with or without a line end.
//
// The reader is a state machine over blocks pulled from a ByteSource, so it yields the same
// records however the input is split (tests feed it one byte at a time). Errors name the source
// and the physical line: "usage.csv:42: unterminated quoted field (opened on line 40)".

#include <billdrop/byte_source.hpp>
#include <billdrop/result.hpp>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace billdrop {

namespace detail {
class BlockSource;
}

struct CsvOptions {
  char delimiter = ',';
  char quote = '"';
  // A single field longer than this is an error (guards memory against a runaway quote).
  std::size_t max_field_bytes = 16 * 1024 * 1024;
};

// One record's fields. The views stay valid until the next call to CsvReader::next().
class CsvRecord {
public:
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  std::string_view operator[](std::size_t i) const noexcept { return fields_[i]; }
  const std::string_view* begin() const noexcept { return fields_.data(); }
  const std::string_view* end() const noexcept { return fields_.data() + size_; }

  // Fills the record with cells another reader made (a Parquet row as text: ParquetCsvReader), so
  // that code written for CSV records reads them too. The views must stay valid while it is used.
  void assign(std::span<const std::string_view> cells) {
    if (fields_.size() < cells.size())
      fields_.resize(cells.size());
    std::copy(cells.begin(), cells.end(), fields_.begin());
    size_ = cells.size();
    selection_ = 0;
  }

private:
  friend class CsvReader;
  // Only the first size_ are the record's: the vector keeps its length between records, so
  // splitting a line writes each field once, without a capacity check per field.
  std::vector<std::string_view> fields_;
  std::size_t size_ = 0;
  // The CsvReader::select() whose unwanted fields are empty in fields_ (0: none).
  std::uint64_t selection_ = 0;
};

class CsvReader {
public:
  explicit CsvReader(std::unique_ptr<ByteSource> source, CsvOptions options = {});
  ~CsvReader();
  CsvReader(const CsvReader&) = delete;
  CsvReader& operator=(const CsvReader&) = delete;

  // Reads the next record into `record`. Returns false at the end of the input. Blank lines
  // (a line end with nothing before it) are skipped. An error leaves the reader unusable.
  Result<bool> next(CsvRecord& record);

  // Reads the next record as next() does, but splits only its first `fields` fields into
  // `record` (all of them when it has fewer): a pass that needs a few columns (a date, to list
  // months) skips the cost of the others. `total` receives how many fields the record has. The
  // record's syntax is checked as next() checks it.
  Result<bool> next_head(CsvRecord& record, std::size_t fields, std::size_t& total);

  // From the next record on, splits only `fields` (indexes, in any order) of each record: the
  // others read as empty. Records keep their field count, and every field's syntax is checked
  // as before. For readers that use a few of many columns (a CUR has over a hundred): a run of
  // unwanted fields is passed over without writing them. select({}) makes every field empty;
  // select_all() undoes select().
  void select(std::span<const std::size_t> fields);
  void select_all();

  // The physical line (1-based) on which the record last returned by next() starts.
  std::uint64_t line() const noexcept { return record_line_; }
  // How many records next() has returned so far.
  std::uint64_t records() const noexcept { return records_; }
  const std::string& name() const;
  // Progress of the underlying source.
  std::uint64_t position() const;
  std::uint64_t total() const;

private:
  Result<bool> fill();
  // Splits the next record, its first `head` fields into `record`; `total` is its field count.
  Result<bool> read_record(CsvRecord& record, std::size_t head, std::size_t& total);
  // Empties the unwanted fields among the record's first `limit` and marks it as made for the
  // current selection.
  void clear_unwanted(CsvRecord& record, std::size_t limit) const;

  std::unique_ptr<ByteSource> source_;
  detail::BlockSource* blocks_; // source_, when it can hand its blocks over
  CsvOptions options_;
  // Whether the fast line splitter may run: it tells delimiters, quotes and line ends apart by
  // their bytes alone.
  bool split_lines_;
  std::string buffer_;    // unread input
  std::size_t begin_ = 0; // first unread byte in buffer_
  std::size_t end_ = 0;   // one past the last valid byte in buffer_
  bool eof_ = false;
  bool first_block_ = true;
  // (offset, length) of each field of the record in progress, relative to begin_. Quoted fields
  // are unescaped in place, so every field is a view into buffer_.
  std::vector<std::pair<std::size_t, std::size_t>> spans_;
  std::optional<Error> failed_; // an error makes the reader unusable: next() repeats it
  // select(): bit i of selection_[i / 64] for field i; empty when every field is split.
  std::vector<std::uint64_t> selection_;
  std::uint64_t selection_id_ = 0;
  std::uint64_t next_line_ = 1;
  std::uint64_t record_line_ = 0;
  std::uint64_t records_ = 0;
};

// Maps header names to column indexes. Lookup is exact by default; find_ci ignores ASCII case.
class CsvHeader {
public:
  CsvHeader() = default;
  explicit CsvHeader(const CsvRecord& record);
  explicit CsvHeader(std::vector<std::string> names);

  std::size_t size() const noexcept { return names_.size(); }
  const std::string& name(std::size_t i) const { return names_[i]; }
  const std::vector<std::string>& names() const noexcept { return names_; }
  // Index of the column, or npos.
  std::size_t find(std::string_view name) const noexcept;
  std::size_t find_ci(std::string_view name) const noexcept;
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

private:
  std::vector<std::string> names_;
};

} // namespace billdrop
