#include "app/cbf_input.hpp"

#include <billdrop/csv.hpp>
#include <billdrop/json_records.hpp>

#include <simdjson.h>

#include <string>
#include <vector>

namespace billdrop {
namespace {

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

void body_issue(cbf::ValidationReport& report, std::string_view origin, std::string column,
                std::string rule, std::string message) {
  report.add(
      0, origin,
      cbf::RowIssue{cbf::Severity::error, std::move(column), std::move(rule), std::move(message)});
}

Status validate_csv(const std::filesystem::path& file, ValidatingReceiver& receiver) {
  Result<std::unique_ptr<ByteSource>> source = open_file(file);
  if (!source)
    return source.error();
  CsvReader reader(std::move(*source));
  CsvRecord record;
  Result<bool> more = reader.next(record);
  if (!more)
    return more.error();
  if (!*more)
    return {}; // an empty file has no rows
  const CsvHeader header(record);
  std::vector<cbf::FieldView> fields;
  const std::string name = file.filename().string();
  std::string origin;
  while (true) {
    more = reader.next(record);
    if (!more)
      return more.error();
    if (!*more)
      return {};
    origin = name + ":" + std::to_string(reader.line());
    if (record.size() != header.size()) {
      // Validate what is there, and make the shape problem an error of its own.
      receiver.on_reject(origin, "expected " + std::to_string(header.size()) +
                                     " fields like the header, got " +
                                     std::to_string(record.size()));
      continue;
    }
    fields.clear();
    for (std::size_t i = 0; i < record.size(); ++i)
      fields.push_back({header.name(i), record[i]});
    receiver.accept(fields, origin);
  }
}

// Turns one JSON object into fields; non-string values are problems of their own.
bool object_fields(simdjson::ondemand::object object, std::vector<std::string>& storage,
                   std::vector<cbf::FieldView>& fields, std::vector<cbf::RowIssue>& issues) {
  storage.clear();
  fields.clear();
  std::vector<std::pair<std::size_t, std::size_t>> spans;
  for (auto member : object) {
    std::string_view key;
    if (member.unescaped_key().get(key))
      return false;
    simdjson::ondemand::value value;
    if (member.value().get(value))
      return false;
    simdjson::ondemand::json_type type;
    if (value.type().get(type))
      return false;
    if (type == simdjson::ondemand::json_type::string) {
      std::string_view text;
      if (value.get_string().get(text))
        return false;
      storage.emplace_back(key);
      storage.emplace_back(text);
    } else if (type == simdjson::ondemand::json_type::null) {
      continue; // null is blank
    } else {
      const std::string_view raw = value.raw_json_token();
      issues.push_back({cbf::Severity::error, std::string(key), "json_type",
                        "CBF values are JSON strings, got " + std::string(raw.substr(0, 40))});
    }
  }
  for (std::size_t i = 0; i + 1 < storage.size(); i += 2)
    fields.push_back({storage[i], storage[i + 1]});
  return true;
}

Status validate_json(const std::filesystem::path& file, ValidatingReceiver& receiver,
                     cbf::ValidationReport& report, const CbfInputOptions& options) {
  Result<std::unique_ptr<ByteSource>> source = open_file(file);
  if (!source)
    return source.error();
  JsonRecordReader reader(std::move(*source));
  simdjson::ondemand::parser parser;
  std::vector<std::string> storage;
  std::vector<cbf::FieldView> fields;
  std::vector<cbf::RowIssue> issues;
  const std::string name = file.filename().string();
  std::string_view text;
  while (true) {
    Result<bool> more = reader.next(text);
    if (!more)
      return more.error();
    if (!*more)
      return {};
    const std::string origin = name + ":" + std::to_string(reader.line());
    simdjson::padded_string padded(text);
    simdjson::ondemand::document doc;
    simdjson::ondemand::object object;
    if (parser.iterate(padded).get(doc) || doc.get_object().get(object)) {
      receiver.on_reject(origin, "not a JSON object");
      continue;
    }
    // A drop body has a "data" array; anything else is one row.
    simdjson::ondemand::array data;
    bool is_body = false;
    {
      simdjson::ondemand::value data_value;
      if (!object.find_field_unordered("data").get(data_value) && !data_value.get_array().get(data))
        is_body = true;
    }
    if (!is_body) {
      if (object.reset().error()) {
        receiver.on_reject(origin, "not a JSON object");
        continue;
      }
      issues.clear();
      if (!object_fields(object, storage, fields, issues)) {
        receiver.on_reject(origin, "malformed JSON object");
        continue;
      }
      const bool valid = receiver.accept(fields, origin);
      for (const cbf::RowIssue& issue : issues)
        report.add(receiver.current_row(), origin, issue);
      (void)valid;
      continue;
    }

    // Drop body.
    if (text.size() > options.max_body_bytes)
      body_issue(report, origin, "", "body_size",
                 "the body is " + std::to_string(text.size()) + " bytes, over the " +
                     std::to_string(options.max_body_bytes) +
                     "-byte request limit (the API answers 413)");
    std::optional<Month> body_month;
    {
      simdjson::ondemand::document body_doc;
      simdjson::ondemand::object body;
      (void)parser.iterate(padded).get(body_doc);
      (void)body_doc.get_object().get(body);
      std::string_view month_text;
      auto month_field = body.find_field_unordered("month");
      if (month_field.error() == simdjson::NO_SUCH_FIELD) {
        body_issue(report, origin, "month", "drop_month",
                   "the body has no \"month\"; billdrop always sends one (\"YYYY-MM\")");
      } else if (month_field.get_string().get(month_text)) {
        body_issue(report, origin, "month", "drop_month", "\"month\" must be a string \"YYYY-MM\"");
      } else if (Result<Month> month = Month::parse(month_text)) {
        body_month = *month;
      } else {
        body_issue(report, origin, "month", "drop_month", month.error().message());
      }
      std::string_view operation;
      auto op_field = body.find_field_unordered("operation");
      if (op_field.error() != simdjson::NO_SUCH_FIELD) {
        if (op_field.get_string().get(operation) ||
            (operation != "replace_drop" && operation != "replace_hourly" && operation != "sum"))
          body_issue(report, origin, "operation", "drop_operation",
                     "\"operation\" must be one of replace_drop, replace_hourly, sum");
      }
      simdjson::ondemand::array rows;
      if (body.find_field_unordered("data").get_array().get(rows)) {
        receiver.on_reject(origin, "\"data\" is not an array");
        continue;
      }
      std::size_t index = 0;
      for (auto element : rows) {
        const std::string row_origin = origin + ": data[" + std::to_string(index++) + "]";
        simdjson::ondemand::object row;
        if (element.get_object().get(row)) {
          receiver.on_reject(row_origin, "a row must be a JSON object");
          continue;
        }
        issues.clear();
        if (!object_fields(row, storage, fields, issues)) {
          receiver.on_reject(row_origin, "malformed JSON object");
          continue;
        }
        const bool valid = receiver.accept(fields, row_origin);
        for (const cbf::RowIssue& issue : issues)
          report.add(receiver.current_row(), row_origin, issue);
        if (valid && body_month && receiver.last_row().month != *body_month)
          report.add(receiver.current_row(), row_origin,
                     {cbf::Severity::error, "time/usage_start", "month_mismatch",
                      "row is in " + receiver.last_row().month.to_string() +
                          " but the body's month is " + body_month->to_string() +
                          " (all rows of one body must fall in its month)"});
      }
    }
  }
}

} // namespace

Status validate_cbf_file(const std::filesystem::path& file, ValidatingReceiver& receiver,
                         cbf::ValidationReport& report, const CbfInputOptions& options) {
  std::string name = file.filename().string();
  if (ends_with(name, ".gz"))
    name.resize(name.size() - 3);
  if (ends_with(name, ".csv"))
    return validate_csv(file, receiver);
  return validate_json(file, receiver, report, options);
}

} // namespace billdrop
