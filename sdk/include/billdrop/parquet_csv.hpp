#pragma once
// A Parquet file read as CSV records, for readers written for CSV (the aws, focus and azure
// plugins map both forms with one mapper). The first record is the header (the column names),
// then one record per row, numbered as lines of the CSV twin would be (row N is line N + 1), so
// that origins match. Value cells are ParquetReader's text (parquet.hpp; a null is an empty
// cell); a map column is the JSON object billing exports write into their CSV cells
// ({"user:team":"web"}, an entry whose value is null left out), a list column a JSON array of
// strings.

#include <billdrop/csv.hpp>
#include <billdrop/parquet.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace billdrop {

class ParquetCsvReader {
public:
  static Result<std::unique_ptr<ParquetCsvReader>> open(const std::filesystem::path& path);
  static Result<std::unique_ptr<ParquetCsvReader>> open(std::unique_ptr<RandomAccessSource> source);

  // The header first, then the rows; false after the last. Errors name the file, row group,
  // column and page.
  Result<bool> next(CsvRecord& record);

  std::uint64_t line() const noexcept { return line_; }
  const std::string& name() const noexcept { return reader_->name(); }
  // Progress in bytes of the file, estimated from the rows read.
  std::uint64_t position() const noexcept;
  std::uint64_t total() const noexcept { return total_; }
  ParquetReader& parquet() noexcept { return *reader_; }

private:
  std::unique_ptr<ParquetReader> reader_;
  std::uint64_t total_ = 0;
  std::uint64_t line_ = 0;
  std::vector<std::string> names_;
  std::vector<ParquetShape> shapes_;
  ParquetRow row_;
  std::vector<std::string_view> cells_;
  std::vector<std::string> json_; // per column, this row's map or list as JSON
};

} // namespace billdrop
