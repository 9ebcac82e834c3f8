#include "cbf/drop_body_reader.hpp"

#include "cbf/columns.hpp"
#include "cbf/row_validator.hpp"

#include <simdjson.h>

#include <algorithm>

namespace billdrop::emulator {
namespace {

namespace od = simdjson::ondemand;

class ErrorList {
public:
  ErrorList(DropBody& body, std::size_t max_errors) : body_(body), max_errors_(max_errors) {}

  void add(std::string message) {
    ++body_.error_count;
    if (body_.errors.size() < max_errors_)
      body_.errors.push_back(std::move(message));
  }

private:
  DropBody& body_;
  std::size_t max_errors_;
};

const char* json_type_name(od::json_type type) {
  switch (type) {
  case od::json_type::array:
    return "an array";
  case od::json_type::object:
    return "an object";
  case od::json_type::number:
    return "a number";
  case od::json_type::boolean:
    return "a boolean";
  case od::json_type::string:
    return "a string";
  case od::json_type::null:
    return "null";
  }
  return "an unknown JSON value";
}

Error malformed(simdjson::error_code code) {
  return data_error(std::string("the body is not valid JSON: ") + simdjson::error_message(code));
}

} // namespace

Result<DropBody> read_drop_body(std::string_view text, std::size_t max_errors) {
  DropBody body;
  ErrorList errors(body, max_errors);
  const simdjson::padded_string padded(text);
  od::parser parser;
  od::document doc;
  if (auto code = parser.iterate(padded).get(doc))
    return malformed(code);
  od::object object;
  if (auto code = doc.get_object().get(object)) {
    if (code != simdjson::INCORRECT_TYPE)
      return malformed(code);
    return data_error("the body must be a JSON object {\"month\",\"operation\",\"data\":[...]}");
  }

  bool has_data = false;
  std::optional<std::string> month_problem;
  std::vector<std::pair<std::size_t, Month>> row_months; // (index in data, month) of body.rows
  cbf::RowValidator validator;
  cbf::NormalizedRow row;
  std::vector<cbf::FieldView> fields;
  std::vector<cbf::RowIssue> issues;
  std::vector<std::string_view> row_keys;

  std::vector<std::string> body_keys; // a JSON object names each key once
  for (auto member : object) {
    std::string_view key;
    if (auto code = member.unescaped_key().get(key))
      return malformed(code);
    if (std::find(body_keys.begin(), body_keys.end(), key) != body_keys.end())
      return data_error("the body has the key \"" + std::string(key) +
                        "\" more than once; a JSON object names each key once");
    body_keys.emplace_back(key);
    od::value value;
    if (auto code = member.value().get(value))
      return malformed(code);
    if (key == "month") {
      std::string_view month_text;
      if (value.get_string().get(month_text)) {
        month_problem = "month: expected a string \"YYYY-MM\" or \"YYYY-MM-01T00:00:00Z\"";
      } else if (Result<Month> month = Month::parse(month_text)) {
        body.month = *month;
      } else {
        month_problem = "month: " + month.error().message();
      }
    } else if (key == "operation") {
      std::string_view operation;
      std::optional<cbf::DropOperation> parsed;
      if (!value.get_string().get(operation))
        parsed = cbf::parse_drop_operation(operation);
      if (parsed)
        body.operation = *parsed;
      else
        errors.add("operation: expected one of replace_drop, replace_hourly, sum");
    } else if (key == "data") {
      od::array data;
      if (value.get_array().get(data))
        return data_error("\"data\" must be an array of CBF rows");
      has_data = true;
      std::size_t index = 0;
      for (auto element : data) {
        const std::size_t row_index = index++;
        const std::string where = "data[" + std::to_string(row_index) + "]";
        od::object row_object;
        if (auto code = element.get_object().get(row_object)) {
          if (code != simdjson::INCORRECT_TYPE)
            return malformed(code);
          errors.add(where + ": a row must be a JSON object");
          continue;
        }
        fields.clear();
        issues.clear();
        row_keys.clear();
        bool plain_decimals = true;
        bool repeated_key = false;
        for (auto field : row_object) {
          // Views into the parser's string buffer stay valid for the whole document.
          std::string_view name;
          if (auto code = field.unescaped_key().get(name))
            return malformed(code);
          // Whatever the values (null, a number, the same text): which one would count?
          if (std::find(row_keys.begin(), row_keys.end(), name) != row_keys.end()) {
            errors.add(where + ": " + std::string(name) +
                       ": the key appears more than once in the row (rule duplicate_key)");
            repeated_key = true;
            continue;
          }
          row_keys.push_back(name);
          od::value cell;
          if (auto code = field.value().get(cell))
            return malformed(code);
          od::json_type type;
          if (auto code = cell.type().get(type))
            return malformed(code);
          if (type == od::json_type::string) {
            std::string_view cell_text;
            if (auto code = cell.get_string().get(cell_text))
              return malformed(code);
            if (std::optional<cbf::RowIssue> issue = cbf::exponent_decimal_issue(name, cell_text)) {
              plain_decimals = false;
              issues.push_back(std::move(*issue));
            }
            fields.push_back({name, cell_text});
          } else if (type != od::json_type::null) { // null is blank
            issues.push_back(
                {cbf::Severity::error, std::string(name), "json_type",
                 std::string("CBF values are JSON strings, got ") + json_type_name(type)});
          }
        }
        const bool valid =
            validator.normalize(fields, row, issues) && plain_decimals && !repeated_key;
        for (const cbf::RowIssue& issue : issues) {
          if (issue.severity != cbf::Severity::error)
            continue;
          errors.add(where + ": " + (issue.column.empty() ? "" : issue.column + ": ") +
                     issue.message + " (rule " + issue.rule + ")");
        }
        if (!valid)
          continue;
        body.rows.push_back(
            StoredRow{row.usage_start.substr(0, 13), row.cost.to_string(), row.json});
        row_months.emplace_back(row_index, row.month);
      }
    }
    // Other members are ignored, as the API's schema does not forbid them.
  }
  if (doc.current_location().error() != simdjson::OUT_OF_BOUNDS)
    return data_error("the body has content after its JSON object");
  if (!has_data)
    return data_error("the body has no \"data\" array of CBF rows");

  if (month_problem) {
    errors.add(*month_problem);
  } else {
    const bool named = body.month.has_value();
    if (!named && !row_months.empty())
      body.month = row_months.front().second;
    if (!body.month)
      errors.add("month: the body names no month and has no valid row to take it from");
    for (const auto& [index, month] : row_months) {
      if (body.month && month != *body.month)
        errors.add("data[" + std::to_string(index) + "]: time/usage_start: the row is in " +
                   month.to_string() + ", outside the body's month " + body.month->to_string() +
                   (named ? "" : " (taken from its first row)") +
                   "; all rows of one body must fall in its month (rule month_mismatch)");
    }
  }
  return body;
}

} // namespace billdrop::emulator
