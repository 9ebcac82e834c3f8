#pragma once
// One Azure cost export file, read row by row with its header resolved, and the checks and
// values every row needs (usage date, cost, quantity).

#include "cost_columns.hpp"
#include <billdrop/file_break.hpp>

#include <billdrop/csv.hpp>
#include <billdrop/decimal.hpp>
#include <billdrop/parquet_csv.hpp>
#include <billdrop/result.hpp>
#include <billdrop/timestamp.hpp>

#include <filesystem>
#include <memory>
#include <string>

namespace billdrop::azure {

class CostFile {
public:
  // Opens the file (gzip detected from its content) and resolves its header. An empty file or a
  // header without date and cost columns is an error naming the file.
  static Result<std::unique_ptr<CostFile>> open(const std::filesystem::path& path,
                                                std::string_view cost_column);

  // Reads the next data row. An error is the file failing (a truncated gzip stream, an
  // unterminated quote): broke_off() says where and why.
  Result<bool> next();
  // The same, splitting only the fields up to the usage date (a pass that lists months needs no
  // other): cell() and usage_start() then read the date alone.
  Result<bool> next_date_only();
  // Where the file broke off when next() failed with `error`: the line after the last row read.
  FileBreak broke_off(const Error& error) const {
    return FileBreak(name_, last_line_ + 1, error, source_);
  }

  const CsvRecord& record() const noexcept { return record_; }
  const ColumnIndex& columns() const noexcept { return columns_; }
  std::string_view cell(Column column) const noexcept { return columns_.get(record_, column); }
  std::uint64_t line() const noexcept { return reader_ ? reader_->line() : parquet_->line(); }
  const std::string& name() const noexcept { return name_; }
  std::uint64_t position() const { return reader_ ? reader_->position() : parquet_->position(); }
  std::uint64_t total() const { return reader_ ? reader_->total() : parquet_->total(); }
  // "<file name>:<line>" of the current row, built into a reused buffer.
  const std::string& origin();

  // The row's usage date. Its failure message says what was wrong with which column.
  Result<UtcTime> usage_start();
  // Checks the row's shape and parses cost and quantity; the first problem as a message.
  Status parse_values(Decimal& cost, Decimal& quantity, bool& has_quantity) const;

private:
  CostFile(std::unique_ptr<CsvReader> reader, const std::filesystem::path& path)
      : reader_(std::move(reader)), name_(path.filename().string()), source_(path.string()) {}
  CostFile(std::unique_ptr<ParquetCsvReader> parquet, const std::filesystem::path& path)
      : parquet_(std::move(parquet)), name_(path.filename().string()), source_(path.string()) {}

  std::unique_ptr<CsvReader> reader_;
  // A Parquet export instead, read as its CSV twin (the same header and line numbers).
  std::unique_ptr<ParquetCsvReader> parquet_;
  std::string name_;
  std::string source_;          // how the byte source names the file in its errors
  std::uint64_t last_line_ = 0; // where the last record read starts
  ColumnIndex columns_;
  std::vector<std::string> header_names_;
  CsvRecord record_;
  std::size_t field_count_ = 0; // of the record, whose fields record_ may hold only some of
  std::string origin_;
  // Exports repeat one date on thousands of rows: the last one parsed is remembered.
  std::string last_date_text_;
  UtcTime last_date_;
};

} // namespace billdrop::azure
