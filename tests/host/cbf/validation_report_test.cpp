#include "cbf/validation_report.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <sstream>

namespace billdrop::cbf {
namespace {

RowIssue error(std::string column, std::string rule, std::string message) {
  return {Severity::error, std::move(column), std::move(rule), std::move(message)};
}

RowIssue warning(std::string column, std::string rule, std::string message) {
  return {Severity::warning, std::move(column), std::move(rule), std::move(message)};
}

std::string text_of(const ValidationReport& report) {
  std::ostringstream out;
  report.write_text(out);
  return out.str();
}

std::string json_of(const ValidationReport& report) {
  std::ostringstream out;
  report.write_json(out);
  return out.str();
}

TEST(ValidationReport, CountsEveryProblemAndKeepsTheFirstFew) {
  ValidationReport report(2);
  report.add(1, "rows.ndjson:1", error("cost/cost", "decimal", "bad"));
  report.add(2, "rows.ndjson:2", warning("action/account", "deprecated_column", "old"));
  report.add(3, "rows.ndjson:3", error("cost/cost", "decimal", "bad"));
  report.add(3, "rows.ndjson:3", error("lineitem/type", "lineitem_type", "bad"));
  report.add_reject("usage.csv:9", "expected 12 fields like the header, got 11");
  report.count_row(true);
  report.count_row(false);
  report.count_row(false);

  EXPECT_EQ(report.errors(), 4u); // three row errors and one reject
  EXPECT_EQ(report.warnings(), 1u);
  EXPECT_EQ(report.rejects(), 1u);
  EXPECT_EQ(report.valid_rows(), 1u);
  EXPECT_EQ(report.invalid_rows(), 2u);
  ASSERT_EQ(report.kept().size(), 2u);
  EXPECT_EQ(report.kept()[0].row, 1u);
  EXPECT_EQ(report.kept()[0].origin, "rows.ndjson:1");
  EXPECT_EQ(report.kept()[1].issue.rule, "deprecated_column");
  const std::map<std::string, std::uint64_t> expected{
      {"decimal", 2}, {"lineitem_type", 1}, {"rejected", 1}};
  EXPECT_EQ(report.by_rule(), expected); // errors only
}

TEST(ValidationReport, WritesOneTextLinePerProblem) {
  ValidationReport report;
  report.add(7, "rows.ndjson:7",
             error("cost/cost", "decimal", "expected a decimal number, got \"12,50\""));
  report.add(8, "rows.ndjson:8",
             warning("action/account", "deprecated_column", "action/account is deprecated"));
  report.add_reject("usage.csv:118", "expected 12 fields\nlike the header");
  report.add(0, "", error("", "body_size", "the body is too large"));
  EXPECT_EQ(text_of(report),
            "rows.ndjson:7: row 7: cost/cost: [decimal] expected a decimal number, got \"12,50\"\n"
            "rows.ndjson:8: row 8: action/account: warning [deprecated_column] action/account is "
            "deprecated\n"
            "usage.csv:118: [rejected] expected 12 fields like the header\n"
            "[body_size] the body is too large\n");
}

TEST(ValidationReport, WritesExactJson) {
  ValidationReport report;
  report.add(2, "rows.ndjson:2", error("cost/cost", "decimal", "got \"abc\""));
  report.count_row(true);
  report.count_row(false);
  EXPECT_EQ(json_of(report),
            R"({"valid_rows":1,"invalid_rows":1,"rejected":0,"errors":1,"warnings":0,)"
            R"("by_rule":{"decimal":1},"problems":[{"row":2,"origin":"rows.ndjson:2",)"
            R"("column":"cost/cost","rule":"decimal","severity":"error",)"
            R"("message":"got \"abc\""}]})");
}

TEST(ValidationReport, JsonStaysValidWhateverThePluginsSay) {
  ValidationReport report;
  report.add_reject("bad\xFF origin.csv:1", "reason with \"quotes\", \\ and\ta tab\n\xC3");
  report.add(1, "x", warning("lineitem/description", "deprecated_column", "line\u2028separator"));
  const std::string json = json_of(report);
  simdjson::ondemand::parser parser;
  simdjson::padded_string padded(json);
  simdjson::ondemand::document document;
  ASSERT_FALSE(parser.iterate(padded).get(document)) << json;
  simdjson::ondemand::array problems;
  ASSERT_FALSE(document["problems"].get_array().get(problems)) << json;
  std::vector<std::string> origins;
  std::vector<std::string> messages;
  for (auto element : problems) {
    simdjson::ondemand::object problem;
    ASSERT_FALSE(element.get_object().get(problem));
    std::string_view origin;
    std::string_view message;
    ASSERT_FALSE(problem["origin"].get_string().get(origin));
    ASSERT_FALSE(problem["message"].get_string().get(message));
    origins.emplace_back(origin);
    messages.emplace_back(message);
  }
  ASSERT_EQ(origins.size(), 2u);
  EXPECT_EQ(origins[0], "bad\uFFFD origin.csv:1");
  EXPECT_EQ(messages[0], "reason with \"quotes\", \\ and\ta tab\n\uFFFD");
  EXPECT_EQ(messages[1], "line\u2028separator");
}

} // namespace
} // namespace billdrop::cbf
