#include "export_file.hpp"

#include <billdrop/byte_source.hpp>
#include <billdrop/csv.hpp>
#include <billdrop/json_records.hpp>
#include <billdrop/text.hpp>

#include <simdjson.h>

#include <cstring>
#include <vector>

namespace billdrop::gcp {
namespace {

namespace ondemand = simdjson::ondemand;

bool ends_with(std::string_view text, std::string_view suffix) noexcept {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// The file name in lower case without a trailing ".gz".
std::string base_name(const std::filesystem::path& path) {
  std::string name = lower_ascii(path.filename().string());
  if (ends_with(name, ".gz"))
    name.resize(name.size() - 3);
  return name;
}

// Only these fields are decoded in Decode::routing.
bool is_routing_field(Field field) noexcept {
  return field == Field::usage_start_time || field == Field::invoice_month;
}

class CsvExportFile final : public ExportFile {
public:
  CsvExportFile(const std::filesystem::path& path, std::unique_ptr<ByteSource> bytes, Decode decode)
      : ExportFile(path), reader_(std::move(bytes)), decode_(decode) {}

  Status read_header() {
    Result<bool> more = reader_.next(row_);
    if (!more)
      return broke_off(more.error()).listing_error();
    if (!*more)
      return data_error(name() + " is empty; a CSV extract starts with a header line naming its "
                                 "columns (\"usage_start_time\", \"cost\", ...)");
    record_read(reader_.line());
    header_size_ = row_.size();
    bool has_cost = false;
    bool has_start = false;
    for (std::size_t i = 0; i < row_.size(); ++i) {
      const std::string_view column = trim_ascii(row_[i]);
      if (const std::optional<Field> field = field_by_name(column)) {
        has_cost |= *field == Field::cost;
        has_start |= *field == Field::usage_start_time;
        if (decode_ == Decode::full || is_routing_field(*field))
          scalars_.push_back({i, *field});
      } else if (const std::optional<ListField> list = list_field_by_name(column)) {
        if (decode_ == Decode::full)
          lists_.push_back({i, *list});
      }
    }
    if (!has_cost || !has_start)
      return data_error(name() + ":1: the header has no \"" +
                        std::string(has_cost ? "usage_start_time" : "cost") +
                        "\" column; is this a Google Cloud billing export extract?");
    return {};
  }

  Result<bool> next(BillingRecord& record, std::string& malformed) override {
    Result<bool> more = reader_.next(row_);
    if (!more)
      return std::move(more).error();
    if (!*more)
      return false;
    record_read(reader_.line());
    record.clear();
    malformed.clear();
    for (const ScalarColumn& column : scalars_)
      if (column.index < row_.size())
        record[column.field].assign(row_[column.index]);
    for (const ListColumn& column : lists_) {
      if (column.index >= row_.size())
        continue;
      if (Status status = parse_list_cell(row_[column.index], column.list, record);
          !status && malformed.empty())
        malformed = status.error().message();
    }
    if (row_.size() != header_size_)
      malformed = "the row has " + std::to_string(row_.size()) + " field" +
                  (row_.size() == 1 ? "" : "s") + " but the header has " +
                  std::to_string(header_size_);
    return true;
  }

  std::uint64_t line() const noexcept override { return reader_.line(); }
  std::uint64_t position() const override { return reader_.position(); }
  std::uint64_t total() const override { return reader_.total(); }

private:
  struct ScalarColumn {
    std::size_t index;
    Field field;
  };
  struct ListColumn {
    std::size_t index;
    ListField list;
  };

  CsvReader reader_;
  CsvRecord row_;
  Decode decode_;
  std::size_t header_size_ = 0;
  std::vector<ScalarColumn> scalars_;
  std::vector<ListColumn> lists_;
};

std::string_view trim_right(std::string_view text) noexcept {
  while (!text.empty() && is_ascii_space(text.back()))
    text.remove_suffix(1);
  return text;
}

class NdjsonExportFile final : public ExportFile {
public:
  NdjsonExportFile(const std::filesystem::path& path, std::unique_ptr<ByteSource> bytes,
                   Decode decode)
      : ExportFile(path), reader_(std::move(bytes), JsonLayout::ndjson), decode_(decode) {}

  Result<bool> next(BillingRecord& record, std::string& malformed) override {
    std::string_view text;
    Result<bool> more = reader_.next(text);
    if (!more)
      return std::move(more).error();
    if (!*more)
      return false;
    record_read(reader_.line());
    record.clear();
    malformed.clear();
    padded_.resize(text.size() + simdjson::SIMDJSON_PADDING);
    std::memcpy(padded_.data(), text.data(), text.size());
    ondemand::document document;
    ondemand::object object;
    simdjson::error_code error =
        parser_.iterate(padded_.data(), text.size(), padded_.size()).get(document);
    if (!error)
      error = document.get_object().get(object);
    if (error == simdjson::INCORRECT_TYPE) {
      malformed = "the record is not a JSON object";
      return true;
    }
    path_.clear();
    if (!error)
      error = walk(object, record);
    if (error)
      malformed = std::string("invalid JSON: ") + simdjson::error_message(error);
    return true;
  }

  std::uint64_t line() const noexcept override { return reader_.line(); }
  std::uint64_t position() const override { return reader_.position(); }
  std::uint64_t total() const override { return reader_.total(); }

private:
  // A scalar as text: strings unescaped, numbers as written (exactness), null as empty.
  static simdjson::error_code scalar_text(ondemand::value& value, std::string& out) {
    out.clear();
    ondemand::json_type type;
    if (auto error = value.type().get(type))
      return error;
    std::string_view text;
    switch (type) {
    case ondemand::json_type::string:
      if (auto error = value.get_string().get(text))
        return error;
      break;
    case ondemand::json_type::number:
      text = trim_right(value.raw_json_token());
      break;
    case ondemand::json_type::boolean: {
      bool flag = false;
      if (auto error = value.get_bool().get(flag))
        return error;
      text = flag ? "true" : "false";
      break;
    }
    case ondemand::json_type::null: {
      bool null = false;
      if (auto error = value.is_null().get(null))
        return error;
      if (!null)
        return simdjson::N_ATOM_ERROR;
      break;
    }
    case ondemand::json_type::object:
    case ondemand::json_type::array:
      return simdjson::INCORRECT_TYPE;
    }
    out.assign(text);
    return simdjson::SUCCESS;
  }

  simdjson::error_code walk(ondemand::object& object, BillingRecord& record) {
    const std::size_t prefix = path_.size();
    for (auto field_result : object) {
      ondemand::field field;
      if (auto error = std::move(field_result).get(field))
        return error;
      std::string_view key;
      if (auto error = field.unescaped_key().get(key))
        return error;
      path_.resize(prefix);
      if (prefix != 0)
        path_ += '.';
      path_ += key;
      ondemand::value value = field.value();
      ondemand::json_type type;
      if (auto error = value.type().get(type))
        return error;
      if (type == ondemand::json_type::object) {
        // Only the records holding fields of interest are entered; the rest are skipped.
        if (prefix != 0 || !is_record_of_interest(path_))
          continue;
        ondemand::object child;
        if (auto error = value.get_object().get(child))
          return error;
        if (auto error = walk(child, record))
          return error;
      } else if (type == ondemand::json_type::array) {
        if (decode_ == Decode::routing)
          continue;
        const std::optional<ListField> list = list_field_by_name(path_);
        if (!list)
          continue;
        ondemand::array array;
        if (auto error = value.get_array().get(array))
          return error;
        if (auto error = read_list(array, *list, record))
          return error;
      } else {
        const std::optional<Field> target = field_by_name(path_);
        if (!target || (decode_ == Decode::routing && !is_routing_field(*target)))
          continue;
        if (auto error = scalar_text(value, record[*target]))
          return error;
      }
    }
    path_.resize(prefix);
    return simdjson::SUCCESS;
  }

  bool is_record_of_interest(std::string_view name) const noexcept {
    if (decode_ == Decode::routing)
      return name == "invoice";
    return name == "service" || name == "sku" || name == "project" || name == "location" ||
           name == "usage" || name == "invoice" || name == "resource" || name == "adjustment_info";
  }

  simdjson::error_code read_list(ondemand::array& array, ListField list, BillingRecord& record) {
    for (auto element_result : array) {
      ondemand::object element;
      if (auto error = element_result.get_object().get(element))
        return error;
      record.add_element(list);
      for (auto field_result : element) {
        ondemand::field field;
        if (auto error = std::move(field_result).get(field))
          return error;
        std::string_view key;
        if (auto error = field.unescaped_key().get(key))
          return error;
        key_.assign(key);
        ondemand::value value = field.value();
        ondemand::json_type type;
        if (auto error = value.type().get(type))
          return error;
        if (type == ondemand::json_type::object || type == ondemand::json_type::array)
          continue; // nested values of an element are not used
        if (auto error = scalar_text(value, value_))
          return error;
        record.set_element_field(list, key_, value_);
      }
    }
    return simdjson::SUCCESS;
  }

  JsonRecordReader reader_;
  Decode decode_;
  ondemand::parser parser_;
  std::string padded_;
  std::string path_;
  std::string key_;
  std::string value_;
};

} // namespace

Result<ExportFormat> parse_export_format(std::string_view text) {
  if (text == "auto")
    return ExportFormat::automatic;
  if (text == "ndjson" || text == "json")
    return ExportFormat::ndjson;
  if (text == "csv")
    return ExportFormat::csv;
  return config_error("format \"" + std::string(text) + "\" is not one of auto, ndjson, csv");
}

bool is_export_file_name(std::string_view name) {
  const std::string base = base_name(std::filesystem::path(name));
  return ends_with(base, ".csv") || ends_with(base, ".json") || ends_with(base, ".ndjson") ||
         ends_with(base, ".jsonl");
}

Result<std::unique_ptr<ExportFile>> ExportFile::open(const std::filesystem::path& path,
                                                     ExportFormat format, Decode decode) {
  Result<std::unique_ptr<ByteSource>> bytes = open_file(path);
  if (!bytes)
    return std::move(bytes).error();
  if (format == ExportFormat::automatic) {
    const std::string base = base_name(path);
    if (ends_with(base, ".csv"))
      format = ExportFormat::csv;
    else if (ends_with(base, ".json") || ends_with(base, ".ndjson") || ends_with(base, ".jsonl"))
      format = ExportFormat::ndjson;
  }
  if (format == ExportFormat::automatic) {
    // Sniff the first byte of a file with an unknown extension: NDJSON records open with '{'.
    Result<std::unique_ptr<ByteSource>> probe = open_file(path);
    if (!probe)
      return std::move(probe).error();
    char first = 0;
    Result<std::size_t> got = (*probe)->read(&first, 1);
    if (!got)
      return std::move(got).error();
    format = *got == 1 && first == '{' ? ExportFormat::ndjson : ExportFormat::csv;
  }
  // Inflating and parsing on two cores: gzip costs about as much as parsing.
  std::unique_ptr<ByteSource> source = read_ahead(std::move(*bytes));
  if (format == ExportFormat::ndjson)
    return std::unique_ptr<ExportFile>(
        std::make_unique<NdjsonExportFile>(path, std::move(source), decode));
  auto csv = std::make_unique<CsvExportFile>(path, std::move(source), decode);
  if (Status status = csv->read_header(); !status)
    return status.error();
  return std::unique_ptr<ExportFile>(std::move(csv));
}

} // namespace billdrop::gcp
