#include "parquet_records.hpp"

namespace billdrop::aws {

namespace {

void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20) {
      static const char hex[] = "0123456789abcdef";
      out += "\\u00";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += ch;
    }
  }
  out += '"';
}

} // namespace

Result<std::unique_ptr<ParquetRecords>> ParquetRecords::open(const std::filesystem::path& file) {
  Result<std::unique_ptr<ParquetReader>> reader = ParquetReader::open(file);
  if (!reader)
    return std::move(reader).error();
  auto records = std::make_unique<ParquetRecords>();
  records->reader_ = std::move(*reader);
  std::error_code ec;
  records->file_size_ = std::filesystem::file_size(file, ec);
  for (const ParquetColumn& column : records->reader_->columns()) {
    records->names_.push_back(column.name);
    records->is_map_.push_back(column.shape != ParquetShape::value);
  }
  records->cells_.resize(records->names_.size());
  records->map_text_.resize(records->names_.size());
  return records;
}

Result<bool> ParquetRecords::next() {
  Result<bool> more = reader_->next(row_);
  if (!more || !*more)
    return more;
  for (std::size_t i = 0; i < row_.size(); ++i) {
    if (!is_map_[i]) {
      cells_[i] = row_[i];
      continue;
    }
    // A map as CUR 2.0's CSV writes it: {"user:team":"web"}; a null map is an empty cell, and an
    // entry whose value is null is left out, as the CSV reader skips it.
    std::string& json = map_text_[i];
    json.clear();
    if (!row_.is_null(i)) {
      json += '{';
      for (const ParquetEntry& entry : row_.entries(i)) {
        if (entry.value_null)
          continue;
        if (json.size() > 1)
          json += ',';
        append_json_string(json, entry.key);
        json += ':';
        append_json_string(json, entry.value);
      }
      json += '}';
    }
    cells_[i] = json;
  }
  return true;
}

std::uint64_t ParquetRecords::position() const noexcept {
  const std::uint64_t rows = reader_->num_rows();
  if (rows == 0)
    return file_size_;
  return static_cast<std::uint64_t>(static_cast<double>(file_size_) *
                                    static_cast<double>(reader_->rows()) /
                                    static_cast<double>(rows));
}

} // namespace billdrop::aws
