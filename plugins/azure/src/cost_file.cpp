#include "cost_file.hpp"

#include <billdrop/byte_source.hpp>
#include <billdrop/text.hpp>

#include <charconv>
#include <fstream>

namespace billdrop::azure {
namespace {

bool starts_with_gzip_magic(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[2] = {};
  return in.read(magic, 2) && static_cast<unsigned char>(magic[0]) == 0x1f &&
         static_cast<unsigned char>(magic[1]) == 0x8b;
}

} // namespace

Result<std::unique_ptr<CostFile>> CostFile::open(const std::filesystem::path& path,
                                                 std::string_view cost_column) {
  std::unique_ptr<CostFile> file;
  if (lower_ascii(path.filename().string()).ends_with(".parquet")) {
    // Costs as DOUBLE come as the shortest text that reads back to the same double, DECIMAL(38,x)
    // as exact decimal text, dates as YYYY-MM-DD or a UTC timestamp: all as the CSV has them.
    Result<std::unique_ptr<ParquetCsvReader>> parquet = ParquetCsvReader::open(path);
    if (!parquet)
      return std::move(parquet).error();
    file.reset(new CostFile(std::move(*parquet), path));
  } else {
    Result<std::unique_ptr<ByteSource>> source = open_file(path);
    if (!source)
      return std::move(source).error();
    std::unique_ptr<ByteSource> bytes = std::move(*source);
    // Inflating costs about as much as parsing: do it on a second core.
    if (starts_with_gzip_magic(path))
      bytes = read_ahead(std::move(bytes));
    file.reset(new CostFile(std::make_unique<CsvReader>(std::move(bytes)), path));
  }
  Result<bool> header = file->next();
  if (!header)
    return file->broke_off(header.error()).listing_error();
  if (!*header)
    return data_error(file->name_ + ":1: the file is empty; expected a header line");
  Result<ColumnIndex> columns = ColumnIndex::resolve(file->record_, file->name_, cost_column);
  if (!columns)
    return std::move(columns).error();
  file->columns_ = *columns;
  for (const std::string_view cell : file->record_)
    file->header_names_.emplace_back(cell);
  return file;
}

Result<bool> CostFile::next() {
  Result<bool> more = reader_ ? reader_->next(record_) : parquet_->next(record_);
  field_count_ = record_.size();
  if (more && *more)
    last_line_ = line();
  return more;
}

Result<bool> CostFile::next_date_only() {
  if (!reader_)
    return next();
  Result<bool> more = reader_->next_head(record_, columns_[Column::date] + 1, field_count_);
  if (more && *more)
    last_line_ = line();
  return more;
}

const std::string& CostFile::origin() {
  origin_.assign(name_);
  origin_ += ':';
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, line()).ptr;
  origin_.append(digits, end);
  return origin_;
}

Result<UtcTime> CostFile::usage_start() {
  const std::string_view text = cell(Column::date);
  if (!text.empty() && text == last_date_text_)
    return last_date_;
  if (text.empty())
    return data_error("empty usage date in column " + header_names_[columns_[Column::date]] +
                      (field_count_ < columns_.header_size() ? " (the row is short)" : ""));
  Result<UtcTime> time = parse_timestamp(text);
  if (!time)
    return data_error("usage date " + quote_for_message(text) + " in column " +
                      header_names_[columns_[Column::date]] +
                      " is not a date (expected MM/DD/YYYY or YYYY-MM-DD)");
  last_date_text_.assign(text);
  last_date_ = *time;
  return *time;
}

Status CostFile::parse_values(Decimal& cost, Decimal& quantity, bool& has_quantity) const {
  if (record_.size() != columns_.header_size())
    return data_error("expected " + std::to_string(columns_.header_size()) +
                      " fields as in the header, got " + std::to_string(record_.size()));
  const std::string& cost_name = header_names_[columns_[Column::cost]];
  const std::string_view cost_text = cell(Column::cost);
  if (cost_text.empty())
    return data_error("empty cost in column " + cost_name);
  Result<Decimal> parsed = Decimal::parse(cost_text);
  if (!parsed)
    return data_error("cost " + quote_for_message(cost_text) + " in column " + cost_name +
                      " is not a decimal number");
  cost = *parsed;
  const std::string_view quantity_text = cell(Column::quantity);
  has_quantity = !quantity_text.empty();
  if (has_quantity) {
    Result<Decimal> amount = Decimal::parse(quantity_text);
    if (!amount)
      return data_error("quantity " + quote_for_message(quantity_text) + " in column " +
                        header_names_[columns_[Column::quantity]] + " is not a decimal number");
    quantity = *amount;
  }
  return {};
}

} // namespace billdrop::azure
