#include "ingest/cbf_input.hpp"

#include "core/json_text.hpp"

#include <billdrop/csv.hpp>
#include <billdrop/json_records.hpp>
#include <billdrop/text.hpp>

#include <simdjson.h>

#include <string>
#include <vector>

namespace billdrop::ingest {
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

// What CBF about to be sent as it is must hold beyond what the validator reads: plain decimals
// (plain_decimal) and times in the API's form (iso_timestamp). Plugin output is normalised by the
// host instead, so only files are held to these.
void add_sent_form_issues(std::string_view column, std::string_view value,
                          std::vector<cbf::RowIssue>& issues) {
  if (std::optional<cbf::RowIssue> issue = cbf::exponent_decimal_issue(column, value))
    issues.push_back(std::move(*issue));
  else if (std::optional<cbf::RowIssue> time = cbf::iso_timestamp_issue(column, value))
    issues.push_back(std::move(*time));
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
  std::vector<cbf::RowIssue> issues;
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
    issues.clear();
    for (std::size_t i = 0; i < record.size(); ++i) {
      fields.push_back({header.name(i), record[i]});
      add_sent_form_issues(header.name(i), record[i], issues);
    }
    receiver.accept(fields, origin, RowContext{issues, std::nullopt});
  }
}

// Whether the JSON text has a comma right before a closing '}' or ']' (outside strings): the
// trailing comma simdjson reports only as an improper structure.
bool has_trailing_comma(std::string_view text) {
  bool in_string = false;
  bool after_comma = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
      continue;
    if ((c == '}' || c == ']') && after_comma)
      return true;
    after_comma = c == ',';
    if (c == '"')
      in_string = true;
  }
  return false;
}

// Why a record is not readable JSON, in the words the custom plugin uses ("invalid JSON: ..."),
// with the rule it breaks: utf8 for bytes that are not UTF-8, json_syntax for the rest.
struct JsonProblem {
  std::string rule;
  std::string message;
};

JsonProblem json_problem(simdjson::error_code error, std::string_view text) {
  if (error == simdjson::UTF8_ERROR || core::first_invalid_utf8(text) != text.size())
    return {"utf8", std::string("invalid JSON: ") + simdjson::error_message(simdjson::UTF8_ERROR) +
                        " (first bad byte at column " +
                        std::to_string(core::first_invalid_utf8(text) + 1) + ")"};
  if (has_trailing_comma(text))
    return {"json_syntax",
            "invalid JSON: trailing comma before a closing brace or bracket (JSON allows none)"};
  return {"json_syntax", std::string("invalid JSON: ") + simdjson::error_message(error)};
}

void reject_json(ValidatingReceiver& receiver, std::string_view origin,
                 const JsonProblem& problem) {
  receiver.on_reject_field(origin, "", problem.rule, problem.message);
}

// Turns one JSON object into fields; non-string values are problems of their own (json_type).
simdjson::error_code object_fields(simdjson::ondemand::object object,
                                   std::vector<std::string>& storage,
                                   std::vector<cbf::FieldView>& fields,
                                   std::vector<cbf::RowIssue>& issues) {
  storage.clear();
  fields.clear();
  for (auto member : object) {
    std::string_view key;
    if (auto error = member.unescaped_key().get(key))
      return error;
    simdjson::ondemand::value value;
    if (auto error = member.value().get(value))
      return error;
    simdjson::ondemand::json_type type;
    if (auto error = value.type().get(type))
      return error;
    if (type == simdjson::ondemand::json_type::string) {
      std::string_view text;
      if (auto error = value.get_string().get(text))
        return error;
      storage.emplace_back(key);
      storage.emplace_back(text);
      add_sent_form_issues(key, text, issues);
    } else if (type == simdjson::ondemand::json_type::null) {
      continue; // null is blank
    } else {
      // Objects and arrays are skipped as a whole so that iteration goes on after them.
      std::string_view raw;
      if (type == simdjson::ondemand::json_type::object) {
        simdjson::ondemand::object child;
        if (auto error = value.get_object().get(child))
          return error;
        if (auto error = child.raw_json().get(raw))
          return error;
      } else if (type == simdjson::ondemand::json_type::array) {
        simdjson::ondemand::array child;
        if (auto error = value.get_array().get(child))
          return error;
        if (auto error = child.raw_json().get(raw))
          return error;
      } else {
        raw = value.raw_json_token();
      }
      while (!raw.empty() &&
             (raw.back() == ' ' || raw.back() == '\n' || raw.back() == '\r' || raw.back() == '\t'))
        raw.remove_suffix(1);
      issues.push_back(
          {cbf::Severity::error, std::string(key), "json_type",
           "CBF values are JSON strings, got " + quote_for_message(raw.substr(0, 40))});
    }
  }
  for (std::size_t i = 0; i + 1 < storage.size(); i += 2)
    fields.push_back({storage[i], storage[i + 1]});
  return simdjson::SUCCESS;
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
    simdjson::error_code error = parser.iterate(padded).get(doc);
    if (!error)
      error = doc.get_object().get(object);
    if (error == simdjson::INCORRECT_TYPE) {
      receiver.on_reject_field(origin, "", "json_syntax",
                               "a row must be a JSON object (or a drop body with \"data\")");
      continue;
    }
    if (error) {
      reject_json(receiver, origin, json_problem(error, text));
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
      issues.clear();
      error = object.reset().error();
      if (!error)
        error = object_fields(object, storage, fields, issues);
      if (error) {
        reject_json(receiver, origin, json_problem(error, text));
        continue;
      }
      receiver.accept(fields, origin, RowContext{issues, std::nullopt});
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
        receiver.on_reject_field(origin, "data", "json_syntax", "\"data\" is not an array");
        continue;
      }
      std::size_t index = 0;
      for (auto element : rows) {
        const std::string row_origin = origin + ": data[" + std::to_string(index++) + "]";
        simdjson::ondemand::object row;
        error = element.get_object().get(row);
        if (error == simdjson::INCORRECT_TYPE) {
          receiver.on_reject_field(row_origin, "", "json_syntax", "a row must be a JSON object");
          continue;
        }
        issues.clear();
        if (!error)
          error = object_fields(row, storage, fields, issues);
        if (error) {
          // The body's structure is broken from here on: report it once and stop reading it.
          reject_json(receiver, row_origin, json_problem(error, text));
          break;
        }
        receiver.accept(fields, row_origin, RowContext{issues, body_month});
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

} // namespace billdrop::ingest
