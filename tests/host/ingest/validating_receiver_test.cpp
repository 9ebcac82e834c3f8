// The host's row accounting: what counts as valid or invalid, each problem reported once, month
// totals that never round, and rejects that carry their column and rule (ABI 1.2) or come from a
// plugin built before that (ABI 1.1).
#include "ingest/pipelined_receiver.hpp"
#include "ingest/validating_receiver.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace billdrop {
namespace {
using namespace billdrop::ingest;

using Fields = std::vector<cbf::FieldView>;

Fields row_at(std::string_view time, std::string_view cost) {
  return {{"time/usage_start", time}, {"cost/cost", cost}};
}

std::vector<std::string> rules_of(const cbf::ValidationReport& report) {
  std::vector<std::string> rules;
  for (const cbf::RowProblem& problem : report.kept())
    rules.push_back(problem.issue.column + " " + problem.issue.rule);
  return rules;
}

TEST(ValidatingReceiver, AMonthTotalPastSeventySixDigitsIsARowProblemNotARoundedSum) {
  // 9e75 has 76 digits; twice it needs 77. Hand-computed: 9e75 + 1 = 9, 74 zeros, 1.
  const std::string nine_e75 = "9" + std::string(75, '0');
  cbf::ValidationReport report;
  ingest::ValidatingReceiver receiver(report, nullptr, nullptr);
  EXPECT_TRUE(receiver.accept(row_at("2026-08-01T00:00:00Z", "9e75"), "big.ndjson:1"));
  EXPECT_FALSE(receiver.accept(row_at("2026-08-02T00:00:00Z", nine_e75), "big.ndjson:2"));
  EXPECT_TRUE(receiver.accept(row_at("2026-08-03T00:00:00Z", "1"), "big.ndjson:3"));

  EXPECT_EQ(report.valid_rows(), 2u);
  EXPECT_EQ(report.invalid_rows(), 1u);
  EXPECT_EQ(report.errors(), 1u);
  ASSERT_EQ(report.kept().size(), 1u);
  const cbf::RowProblem& problem = report.kept()[0];
  EXPECT_EQ(problem.row, 2u);
  EXPECT_EQ(problem.origin, "big.ndjson:2");
  EXPECT_EQ(problem.issue.column, "cost/cost");
  EXPECT_EQ(problem.issue.rule, "total_overflow");
  EXPECT_NE(problem.issue.message.find("2026-08"), std::string::npos) << problem.issue.message;
  EXPECT_NE(problem.issue.message.find("76 significant digits"), std::string::npos);

  const ingest::MonthRowCounts& august = receiver.months().at(Month(2026, 8));
  EXPECT_EQ(august.valid, 2u);
  EXPECT_EQ(august.invalid, 1u);
  EXPECT_EQ(august.cost.to_string(), "9" + std::string(74, '0') + "1");
}

TEST(ValidatingReceiver, ADecodeProblemMakesTheRowInvalidAndIsTheOnlyProblemOfItsColumn) {
  cbf::ValidationReport report;
  ingest::ValidatingReceiver receiver(report, nullptr, nullptr);
  // cost/cost was a JSON number: the reader drops it and says so; "required" is not repeated.
  const std::vector<cbf::RowIssue> decode = {
      {cbf::Severity::error, "cost/cost", "json_type", "CBF values are JSON strings, got 12.5"}};
  const Fields fields = {{"time/usage_start", "2026-08-01T00:00:00Z"}};
  EXPECT_FALSE(receiver.accept(fields, "rows.ndjson:1", ingest::RowContext{decode, std::nullopt}));
  // A decode problem on one column does not hide the validator's problems on others.
  const std::vector<cbf::RowIssue> on_tag = {{cbf::Severity::error, "resource/tag:team",
                                              "json_type", "CBF values are JSON strings, got 1"}};
  const Fields bad_cost = {{"time/usage_start", "2026-08-01T00:00:00Z"}, {"cost/cost", "abc"}};
  EXPECT_FALSE(
      receiver.accept(bad_cost, "rows.ndjson:2", ingest::RowContext{on_tag, std::nullopt}));

  EXPECT_EQ(report.valid_rows(), 0u);
  EXPECT_EQ(report.invalid_rows(), 2u);
  EXPECT_EQ(rules_of(report),
            (std::vector<std::string>{"cost/cost json_type", "resource/tag:team json_type",
                                      "cost/cost decimal"}));
  EXPECT_EQ(receiver.months().at(Month(2026, 8)).invalid, 2u);
  EXPECT_TRUE(receiver.months().at(Month(2026, 8)).cost.is_zero());
}

TEST(ValidatingReceiver, ARowOutsideItsBodysMonthIsInvalidAndNotInTheTotal) {
  cbf::ValidationReport report;
  ingest::ValidatingReceiver receiver(report, nullptr, nullptr);
  const ingest::RowContext august_body{{}, Month(2026, 8)};
  EXPECT_TRUE(receiver.accept(row_at("2026-08-31T23:00:00Z", "2.5"), "body:1", august_body));
  EXPECT_FALSE(receiver.accept(row_at("2026-09-01T00:00:00Z", "7"), "body:2", august_body));
  EXPECT_EQ(report.valid_rows(), 1u);
  EXPECT_EQ(report.invalid_rows(), 1u);
  EXPECT_EQ(rules_of(report), std::vector<std::string>{"time/usage_start month_mismatch"});
  EXPECT_EQ(receiver.months().at(Month(2026, 8)).cost.to_string(), "2.5");
  EXPECT_EQ(receiver.months().at(Month(2026, 9)).invalid, 1u);
  EXPECT_EQ(receiver.months().at(Month(2026, 9)).valid, 0u);
}

TEST(ValidatingReceiver, RejectsKeepTheirColumnAndRuleThroughThePipeline) {
  cbf::ValidationReport report;
  ingest::ValidatingReceiver receiver(report, nullptr, nullptr);
  receiver.begin_month(Month(2026, 8));
  {
    ingest::PipelinedReceiver pipeline(receiver);
    pipeline.on_reject_field("usage.csv:3", "time/usage_start", "timestamp",
                             "\"2026-08-30 10:00\" does not match %m/%d/%Y %H:%M");
    pipeline.on_reject("usage.csv:4", "the row has 3 fields but the header has 4");
    ASSERT_TRUE(pipeline.drain().ok());
  }
  EXPECT_EQ(report.rejects(), 2u);
  EXPECT_EQ(report.errors(), 2u);
  EXPECT_EQ(rules_of(report),
            (std::vector<std::string>{"time/usage_start timestamp", " rejected"}));
  EXPECT_EQ(report.kept()[0].issue.message, "\"2026-08-30 10:00\" does not match %m/%d/%Y %H:%M");
  EXPECT_EQ(receiver.months().at(Month(2026, 8)).invalid, 2u);
}

// A plugin rejects a record it cannot place in a month in every month's read. The report holds it
// once; the months read are each incomplete because of it (it may belong to any), and it is not
// an invalid row of each. A record rejected in one month's read only is that month's invalid row.
TEST(ValidatingReceiver, ARecordRejectedInSeveralReadsIsUnplacedNotInvalidInEach) {
  cbf::ValidationReport report;
  ValidatingReceiver receiver(report, nullptr, nullptr);
  const auto read = [&](Month month, bool with_bad_cost) {
    receiver.begin_month(month);
    receiver.on_reject_field("usage.csv:3", "time/usage_start", "timestamp",
                             "\"2026-13-01\" is not a calendar date");
    if (with_bad_cost)
      receiver.on_reject_field("usage.csv:4", "cost/cost", "decimal", "\"abc\" is not a number");
    EXPECT_TRUE(receiver.accept(row_at(month.to_string() + "-01T00:00:00Z", "1"), "usage.csv:2"));
  };
  read(Month(2026, 8), true);
  read(Month(2026, 9), false);
  read(Month(2026, 10), false);

  EXPECT_EQ(report.rejects(), 2u);
  EXPECT_EQ(report.errors(), 2u);
  EXPECT_EQ(rules_of(report),
            (std::vector<std::string>{"time/usage_start timestamp", "cost/cost decimal"}));
  // usage.csv:4 is August's own; usage.csv:3 blocks all three months and is counted once.
  EXPECT_EQ(receiver.months().at(Month(2026, 8)).invalid, 1u);
  EXPECT_EQ(receiver.months().at(Month(2026, 9)).invalid, 0u);
  EXPECT_EQ(receiver.months().at(Month(2026, 10)).invalid, 0u);
  EXPECT_EQ(receiver.months().at(Month(2026, 8)).unplaced, 1u);
  EXPECT_EQ(receiver.months().at(Month(2026, 9)).unplaced, 1u);
  EXPECT_EQ(receiver.months().at(Month(2026, 10)).unplaced, 1u);
  EXPECT_EQ(receiver.unplaced(), 1u);
}

// The API's time form is required of CBF files (`validate`), not of plugins: a plugin's rows
// reach the host through on_rows, which reads a US date and writes it in the API's form.
TEST(ValidatingReceiver, APluginRowWithAUsDateIsNormalisedNotRefused) {
  cbf::ValidationReport report;
  ValidatingReceiver receiver(report, nullptr, nullptr);
  receiver.begin_month(Month(2026, 3));
  const auto text = [](std::string_view s) { return bd_str{s.data(), s.size()}; };
  const bd_field fields[] = {{text("time/usage_start"), text("03/05/2026")},
                             {text("cost/cost"), text("2.50")}};
  const bd_row row{fields, 2, text("vendor.csv:2")};
  EXPECT_TRUE(receiver.on_rows(std::span<const bd_row>(&row, 1)));
  EXPECT_EQ(report.errors(), 0u);
  EXPECT_EQ(report.valid_rows(), 1u);
  EXPECT_EQ(receiver.last_row().usage_start, "2026-03-05T00:00:00Z");
  EXPECT_EQ(receiver.last_row().json,
            R"({"time/usage_start":"2026-03-05T00:00:00Z","cost/cost":"2.50"})");
  EXPECT_EQ(receiver.months().at(Month(2026, 3)).valid, 1u);
}

TEST(ValidatingReceiver, APluginBuiltAgainstAbi11StillRejectsAndNotes) {
  Result<std::shared_ptr<source::LoadedPlugin>> plugin = source::load_plugin(
      std::filesystem::path(BILLDROP_TEST_BROKEN_PLUGIN_DIR) / source::plugin_file_name("abi_1_1"));
  ASSERT_TRUE(plugin.ok()) << plugin.error().message();
  EXPECT_EQ((*plugin)->descriptor().abi_minor, 1);
  Result<std::unique_ptr<source::PluginInstance>> instance =
      source::PluginInstance::create(*plugin, {});
  ASSERT_TRUE(instance.ok()) << instance.error().message();

  cbf::ValidationReport report;
  ingest::ValidatingReceiver receiver(report, nullptr, nullptr);
  receiver.begin_month(Month(2024, 8));
  const Status status = (*instance)->read(Month(2024, 8), receiver);
  ASSERT_TRUE(status.ok()) << status.error().message();
  EXPECT_EQ(report.valid_rows(), 1u);
  EXPECT_EQ(report.rejects(), 1u);
  ASSERT_EQ(report.kept().size(), 1u);
  EXPECT_EQ(report.kept()[0].origin, "legacy:2");
  EXPECT_EQ(report.kept()[0].issue.column, "");
  EXPECT_EQ(report.kept()[0].issue.rule, "rejected");
  EXPECT_EQ(report.kept()[0].issue.message, "cost 'abc' is not a number");
  EXPECT_EQ(receiver.notes().at("legacy note"), 2u);
  EXPECT_EQ(receiver.months().at(Month(2024, 8)).cost.to_string(), "1.25");
}

} // namespace
} // namespace billdrop
