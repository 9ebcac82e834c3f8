#include <billdrop/parquet_csv.hpp>

namespace billdrop {

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

Result<std::unique_ptr<ParquetCsvReader>>
ParquetCsvReader::open(const std::filesystem::path& path) {
  Result<std::unique_ptr<RandomAccessSource>> source = open_random_access_file(path);
  if (!source)
    return std::move(source).error();
  return open(std::move(*source));
}

Result<std::unique_ptr<ParquetCsvReader>>
ParquetCsvReader::open(std::unique_ptr<RandomAccessSource> source) {
  const std::uint64_t size = source->size();
  Result<std::unique_ptr<ParquetReader>> reader = ParquetReader::open(std::move(source));
  if (!reader)
    return std::move(reader).error();
  auto csv = std::unique_ptr<ParquetCsvReader>(new ParquetCsvReader());
  csv->reader_ = std::move(*reader);
  csv->total_ = size;
  for (const ParquetColumn& column : csv->reader_->columns()) {
    csv->names_.push_back(column.name);
    csv->shapes_.push_back(column.shape);
  }
  csv->cells_.resize(csv->names_.size());
  csv->json_.resize(csv->names_.size());
  return csv;
}

Result<bool> ParquetCsvReader::next(CsvRecord& record) {
  if (line_ == 0) {
    for (std::size_t i = 0; i < names_.size(); ++i)
      cells_[i] = names_[i];
    record.assign(cells_);
    line_ = 1;
    return true;
  }
  Result<bool> more = reader_->next(row_);
  if (!more || !*more)
    return more;
  ++line_;
  for (std::size_t i = 0; i < row_.size(); ++i) {
    if (shapes_[i] == ParquetShape::value) {
      cells_[i] = row_[i];
      continue;
    }
    std::string& json = json_[i];
    json.clear();
    if (!row_.is_null(i)) {
      const bool map = shapes_[i] == ParquetShape::map;
      json += map ? '{' : '[';
      bool first = true;
      for (const ParquetEntry& entry : row_.entries(i)) {
        if (map && entry.value_null)
          continue;
        if (!first)
          json += ',';
        first = false;
        if (map) {
          append_json_string(json, entry.key);
          json += ':';
        }
        if (entry.value_null)
          json += "null";
        else
          append_json_string(json, entry.value);
      }
      json += map ? '}' : ']';
    }
    cells_[i] = json;
  }
  record.assign(cells_);
  return true;
}

std::uint64_t ParquetCsvReader::position() const noexcept {
  const std::uint64_t rows = reader_->num_rows();
  if (rows == 0)
    return total_;
  return static_cast<std::uint64_t>(static_cast<double>(total_) *
                                    static_cast<double>(reader_->rows()) /
                                    static_cast<double>(rows));
}

} // namespace billdrop
