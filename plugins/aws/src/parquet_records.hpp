#pragma once
// A Parquet data file (CUR 2.0 `data/BILLING_PERIOD=YYYY-MM/*.parquet`, or the files a legacy
// report's manifest lists when it is delivered as Parquet) read as records of text cells, so that
// the mapper reads it exactly as it reads the CSV form: the column names are the header, values
// are the SDK reader's text (a DOUBLE cost as the shortest text that reads back to the same
// double, as AWS prints it in CSV), and a map column (`resource_tags`, `product`,
// `cost_category`, `discount`) becomes the JSON object CUR 2.0 writes into its CSV cells.

#include <billdrop/parquet.hpp>
#include <billdrop/result.hpp>

#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace billdrop::aws {

class ParquetRecords {
public:
  static Result<std::unique_ptr<ParquetRecords>> open(const std::filesystem::path& file);

  const std::vector<std::string>& names() const noexcept { return names_; }
  // Reads the next row; false after the last. Errors name the file, row group, column and page.
  Result<bool> next();
  std::span<const std::string_view> cells() const noexcept { return cells_; }
  // The 1-based number of the row last read.
  std::uint64_t row() const noexcept { return reader_->rows(); }
  // Progress in bytes of the file, estimated from the rows read.
  std::uint64_t position() const noexcept;
  std::uint64_t total() const noexcept { return file_size_; }

private:
  std::unique_ptr<ParquetReader> reader_;
  std::vector<std::string> names_;
  std::vector<bool> is_map_;
  ParquetRow row_;
  std::vector<std::string_view> cells_;
  std::vector<std::string> map_text_; // per column, the JSON of this row's map
  std::uint64_t file_size_ = 0;
};

} // namespace billdrop::aws
