#include "cbf/validation_report.hpp"

#include "core/json_text.hpp"

#include <algorithm>

namespace billdrop::cbf {
namespace {

// Origins and reject reasons come from plugins and may hold anything; the report replaces bytes
// that are not UTF-8 with U+FFFD so its JSON stays valid.
std::string_view as_utf8(std::string_view text, std::string& scratch) {
  std::size_t bad = core::first_invalid_utf8(text);
  if (bad == text.size())
    return text;
  scratch.clear();
  while (bad != text.size()) {
    scratch.append(text.substr(0, bad));
    scratch.append("\xEF\xBF\xBD");
    text.remove_prefix(bad + 1);
    bad = core::first_invalid_utf8(text);
  }
  scratch.append(text);
  return scratch;
}

void append_string(std::string& out, std::string_view text) {
  std::string scratch;
  core::append_json_string(out, as_utf8(text, scratch));
}

const char* to_string(Severity severity) noexcept {
  return severity == Severity::error ? "error" : "warning";
}

} // namespace

void ValidationReport::add(std::uint64_t row, std::string_view origin, const RowIssue& issue) {
  if (issue.severity == Severity::error) {
    ++errors_;
    ++by_rule_[issue.rule];
  } else {
    ++warnings_;
  }
  if (kept_.size() < max_kept_)
    kept_.push_back({row, std::string(origin), issue});
}

void ValidationReport::add_reject(std::string_view origin, std::string_view reason,
                                  std::string_view column, std::string_view rule) {
  ++rejects_;
  add(0, origin,
      RowIssue{Severity::error, std::string(column), rule.empty() ? "rejected" : std::string(rule),
               std::string(reason)});
}

void ValidationReport::write_text(std::ostream& out) const {
  std::string line;
  std::string scratch;
  for (const RowProblem& problem : kept_) {
    line.clear();
    if (!problem.origin.empty())
      line.append(as_utf8(problem.origin, scratch)).append(": ");
    if (problem.row != 0)
      line.append("row ").append(std::to_string(problem.row)).append(": ");
    if (!problem.issue.column.empty())
      line.append(problem.issue.column).append(": ");
    if (problem.issue.severity == Severity::warning)
      line.append("warning ");
    line.append("[").append(problem.issue.rule).append("] ");
    line.append(as_utf8(problem.issue.message, scratch));
    // One line per problem, whatever a plugin's reason holds.
    std::replace_if(
        line.begin(), line.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
    line.push_back('\n');
    out << line;
  }
}

void ValidationReport::write_json(std::ostream& out) const {
  std::string json = "{\"valid_rows\":" + std::to_string(valid_rows_) +
                     ",\"invalid_rows\":" + std::to_string(invalid_rows_) +
                     ",\"rejected\":" + std::to_string(rejects_) +
                     ",\"errors\":" + std::to_string(errors_) +
                     ",\"warnings\":" + std::to_string(warnings_) + ",\"by_rule\":{";
  bool first = true;
  for (const auto& [rule, count] : by_rule_) {
    if (!first)
      json.push_back(',');
    first = false;
    append_string(json, rule);
    json.append(":").append(std::to_string(count));
  }
  json.append("},\"problems\":[");
  first = true;
  for (const RowProblem& problem : kept_) {
    if (!first)
      json.push_back(',');
    first = false;
    json.append("{\"row\":").append(std::to_string(problem.row)).append(",\"origin\":");
    append_string(json, problem.origin);
    json.append(",\"column\":");
    append_string(json, problem.issue.column);
    json.append(",\"rule\":");
    append_string(json, problem.issue.rule);
    json.append(",\"severity\":\"").append(to_string(problem.issue.severity)).append("\"");
    json.append(",\"message\":");
    append_string(json, problem.issue.message);
    json.push_back('}');
  }
  json.append("]}");
  out << json;
}

} // namespace billdrop::cbf
