// `validate` and `convert` through the real binary: exact valid/invalid/rejected/error counts,
// JSON problems that say why, month totals too large for a Decimal, and plugin rejects that name
// their column and rule. Every expected count and total is worked out by hand in the test.
#include "support/cli_run.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <map>
#include <string>
#include <vector>

namespace billdrop::test {
namespace {

struct Problem {
  std::string origin;
  std::string column;
  std::string rule;
  std::string message;
};

struct ValidateReport {
  std::uint64_t valid = 0, invalid = 0, rejected = 0, errors = 0;
  std::map<std::string, std::uint64_t> by_rule;
  std::vector<Problem> problems;
};

// Parses `validate --format json`; ADD_FAILURE when it is not the documented shape.
ValidateReport parse_report(const std::string& json) {
  ValidateReport report;
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(json).get(root) != simdjson::SUCCESS) {
    ADD_FAILURE() << "not JSON: " << json;
    return report;
  }
  report.valid = root["valid_rows"].get_uint64().value_unsafe();
  report.invalid = root["invalid_rows"].get_uint64().value_unsafe();
  report.rejected = root["rejected"].get_uint64().value_unsafe();
  report.errors = root["errors"].get_uint64().value_unsafe();
  simdjson::dom::object by_rule;
  simdjson::dom::array problems;
  if (root["by_rule"].get(by_rule) != simdjson::SUCCESS ||
      root["problems"].get(problems) != simdjson::SUCCESS) {
    ADD_FAILURE() << "no by_rule or problems: " << json;
    return report;
  }
  for (auto [rule, count] : by_rule)
    report.by_rule[std::string(rule)] = count.get_uint64().value_unsafe();
  for (simdjson::dom::element problem : problems)
    report.problems.push_back({std::string(problem["origin"].get_string().value_unsafe()),
                               std::string(problem["column"].get_string().value_unsafe()),
                               std::string(problem["rule"].get_string().value_unsafe()),
                               std::string(problem["message"].get_string().value_unsafe())});
  return report;
}

using RowProblemsTest = TempFolderTest;

TEST_F(RowProblemsTest, ValidateCountsEachRowOnceAndEachProblemOnce) {
  write_text(dir_ / "rows.ndjson",
             "{\"time/usage_start\":\"2026-08-01T00:00:00Z\",\"cost/cost\":\"1.5\"}\n"
             // a JSON number: one json_type problem, not also "required"
             "{\"time/usage_start\":\"2026-08-01T01:00:00Z\",\"cost/cost\":12.5}\n"
             // valid on its own terms but a tag value that is an object
             "{\"time/usage_start\":\"2026-08-01T02:00:00Z\",\"cost/cost\":\"2\","
             "\"resource/id\":\"vm-1\",\"resource/tag:team\":{\"a\":\"b\"}}\n"
             "{\"time/usage_start\":\"2026-08-01T03:00:00Z\",\"cost/cost\":\"3\"}\n");
  const CliRun run =
      run_billdrop({"validate", (dir_ / "rows.ndjson").string(), "--format", "json"}, dir_);
  EXPECT_EQ(run.exit_code, 1) << run.err;
  const ValidateReport report = parse_report(run.out);
  EXPECT_EQ(report.valid, 2u) << run.out;
  EXPECT_EQ(report.invalid, 2u) << run.out;
  EXPECT_EQ(report.rejected, 0u);
  EXPECT_EQ(report.errors, 2u) << run.out;
  EXPECT_EQ(report.by_rule, (std::map<std::string, std::uint64_t>{{"json_type", 2}}));
  ASSERT_EQ(report.problems.size(), 2u);
  EXPECT_EQ(report.problems[0].origin, "rows.ndjson:2");
  EXPECT_EQ(report.problems[0].column, "cost/cost");
  EXPECT_NE(report.problems[0].message.find("12.5"), std::string::npos);
  EXPECT_EQ(report.problems[1].origin, "rows.ndjson:3");
  EXPECT_EQ(report.problems[1].column, "resource/tag:team");
}

TEST_F(RowProblemsTest, ADropBodyRowOutsideItsMonthIsCountedInvalid) {
  write_text(dir_ / "body.json",
             "{\"month\":\"2026-08\",\"operation\":\"replace_drop\",\"data\":["
             "{\"time/usage_start\":\"2026-08-01T00:00:00Z\",\"cost/cost\":\"1\"},"
             "{\"time/usage_start\":\"2026-09-01T00:00:00Z\",\"cost/cost\":\"2\"},"
             "{\"time/usage_start\":\"2026-08-02T00:00:00Z\",\"cost/cost\":3}]}\n");
  const CliRun run =
      run_billdrop({"validate", (dir_ / "body.json").string(), "--format", "json"}, dir_);
  EXPECT_EQ(run.exit_code, 1) << run.err;
  const ValidateReport report = parse_report(run.out);
  EXPECT_EQ(report.valid, 1u) << run.out;
  EXPECT_EQ(report.invalid, 2u) << run.out;
  EXPECT_EQ(report.errors, 2u) << run.out;
  EXPECT_EQ(report.by_rule,
            (std::map<std::string, std::uint64_t>{{"json_type", 1}, {"month_mismatch", 1}}));
}

// CBF to be sent must hold plain decimals (shared/reference/anycost-stream.md, "CBF row"):
// exponent notation in a decimal column is a problem in rows, drop bodies and CBF CSV alike.
TEST_F(RowProblemsTest, ExponentDecimalsAreProblemsInRowsBodiesAndCsv) {
  write_text(dir_ / "rows.ndjson",
             R"({"time/usage_start":"2026-08-01T00:00:00Z","cost/cost":"5e-06"})"
             "\n"
             R"({"time/usage_start":"2026-08-01T01:00:00Z","cost/cost":"0.000005",)"
             R"("usage/amount":"1E+3","lineitem/description":"1e3 is fine as text"})"
             "\n"
             R"({"time/usage_start":"2026-08-01T02:00:00Z","cost/cost":"1000"})"
             "\n");
  write_text(dir_ / "body.json",
             R"({"month":"2026-08","operation":"replace_drop","data":[)"
             R"({"time/usage_start":"2026-08-01T00:00:00Z","cost/cost":"1"},)"
             R"({"time/usage_start":"2026-08-01T00:00:00Z","cost/cost":"-1.2e2"}]})"
             "\n");
  write_text(dir_ / "rows.csv", "time/usage_start,cost/cost,cost/amortized_cost\n"
                                "2026-08-01T00:00:00Z,1.5,2e-1\n"
                                "2026-08-01T00:00:00Z,1.5,0.2\n");
  struct Case {
    std::string file;
    std::uint64_t valid, invalid;
    std::string origin, column;
  };
  for (const Case& c : {Case{"rows.ndjson", 1, 2, "rows.ndjson:1", "cost/cost"},
                        Case{"body.json", 1, 1, "body.json:1: data[1]", "cost/cost"},
                        Case{"rows.csv", 1, 1, "rows.csv:2", "cost/amortized_cost"}}) {
    const CliRun run =
        run_billdrop({"validate", (dir_ / c.file).string(), "--format", "json"}, dir_);
    EXPECT_EQ(run.exit_code, 1) << c.file << " " << run.err;
    const ValidateReport report = parse_report(run.out);
    EXPECT_EQ(report.valid, c.valid) << c.file << " " << run.out;
    EXPECT_EQ(report.invalid, c.invalid) << c.file << " " << run.out;
    EXPECT_EQ(report.by_rule.count("plain_decimal"), 1u) << c.file << " " << run.out;
    ASSERT_FALSE(report.problems.empty()) << c.file;
    EXPECT_EQ(report.problems[0].origin, c.origin) << c.file;
    EXPECT_EQ(report.problems[0].column, c.column) << c.file;
    EXPECT_NE(report.problems[0].message.find("exponent notation"), std::string::npos)
        << report.problems[0].message;
  }
}

// CBF files checked by `validate` are what another tool is about to send: a time the API may
// not read as billdrop does (US month/day, a bare date, no zone, another zone) is a problem of
// its own rule, as an exponent decimal is. A date that is no date at all stays a `timestamp`
// problem, once.
TEST_F(RowProblemsTest, TimesThatAreNotIso8601UtcAreProblemsInCbfFiles) {
  write_text(dir_ / "rows.ndjson",
             R"({"time/usage_start":"03/05/2026","cost/cost":"1"})"
             "\n"
             R"({"time/usage_start":"2026-03-05T00:00:00Z","cost/cost":"2"})"
             "\n"
             R"({"time/usage_start":"2026-03-05T10:00:00.250Z","cost/cost":"3"})"
             "\n"
             R"({"time/usage_start":"2026-03-05","cost/cost":"4"})"
             "\n"
             R"({"time/usage_start":"2026-03-05 10:00:00","cost/cost":"5"})"
             "\n"
             R"({"time/usage_start":"2026-03-05T10:00:00+00:00","cost/cost":"6"})"
             "\n"
             R"({"time/usage_start":"2026-03-05T10:00:00+02:00","cost/cost":"7"})"
             "\n"
             R"({"time/usage_start":"2026-03-05T00:00:00Z","time/usage_end":"3/5/2026 1:00:00 AM",)"
             R"("cost/cost":"8"})"
             "\n"
             R"({"time/usage_start":"2026-02-30T00:00:00Z","cost/cost":"9"})"
             "\n");
  const CliRun run =
      run_billdrop({"validate", (dir_ / "rows.ndjson").string(), "--format", "json"}, dir_);
  EXPECT_EQ(run.exit_code, 1) << run.err;
  const ValidateReport report = parse_report(run.out);
  // Valid: lines 2, 3 and 6. Lines 1, 4, 5, 7 and 8 hold readable times not in the API's form;
  // line 9's date does not exist.
  EXPECT_EQ(report.valid, 3u) << run.out;
  EXPECT_EQ(report.invalid, 6u) << run.out;
  EXPECT_EQ(report.by_rule,
            (std::map<std::string, std::uint64_t>{{"iso_timestamp", 5}, {"timestamp", 1}}))
      << run.out;
  ASSERT_EQ(report.problems.size(), 6u) << run.out;
  EXPECT_EQ(report.problems[0].origin, "rows.ndjson:1");
  EXPECT_EQ(report.problems[0].column, "time/usage_start");
  EXPECT_EQ(report.problems[0].rule, "iso_timestamp");
  EXPECT_NE(report.problems[0].message.find("\"03/05/2026\""), std::string::npos)
      << report.problems[0].message;
  EXPECT_NE(report.problems[0].message.find("2026-03-05T00:00:00Z"), std::string::npos)
      << report.problems[0].message;
  const std::vector<std::string> origins = {"rows.ndjson:4", "rows.ndjson:5", "rows.ndjson:7",
                                            "rows.ndjson:8", "rows.ndjson:9"};
  for (std::size_t i = 0; i < origins.size(); ++i)
    EXPECT_EQ(report.problems[i + 1].origin, origins[i]);
  EXPECT_EQ(report.problems[4].column, "time/usage_end");
  EXPECT_EQ(report.problems[4].rule, "iso_timestamp");
  EXPECT_EQ(report.problems[5].rule, "timestamp");

  // The same in a CBF CSV and in a drop body, and in the text report: file:line, column, rule.
  write_text(dir_ / "rows.csv", "time/usage_start,cost/cost\n"
                                "2026-03-05T00:00:00Z,1\n"
                                "03/05/2026,2\n");
  write_text(dir_ / "body.json", R"({"month":"2026-03","operation":"replace_drop","data":[)"
                                 R"({"time/usage_start":"03/05/2026","cost/cost":"1"}]})"
                                 "\n");
  const CliRun csv = run_billdrop({"validate", (dir_ / "rows.csv").string()}, dir_);
  EXPECT_EQ(csv.exit_code, 1) << csv.err;
  EXPECT_NE(csv.out.find("rows.csv:3: row 2: time/usage_start: [iso_timestamp] \"03/05/2026\""),
            std::string::npos)
      << csv.out;
  EXPECT_NE(csv.out.find("2 rows: 1 valid, 1 invalid"), std::string::npos) << csv.out;
  const CliRun body =
      run_billdrop({"validate", (dir_ / "body.json").string(), "--format", "json"}, dir_);
  EXPECT_EQ(body.exit_code, 1) << body.err;
  const ValidateReport body_report = parse_report(body.out);
  EXPECT_EQ(body_report.by_rule, (std::map<std::string, std::uint64_t>{{"iso_timestamp", 1}}))
      << body.out;
}

// Plugin output is another matter: the host normalises every time it can read, so a vendor file
// with US dates converts, and its rows are written in the API's form.
TEST_F(RowProblemsTest, UsDatesFromAPluginSourceAreStillNormalised) {
  write_text(dir_ / "vendor.csv", "day,amount\n03/05/2026,1.5\n3/6/2026 5:00:00 PM,2\n");
  const ConvertRun run = run_convert("custom",
                                     "path = \"vendor.csv\"\n[columns]\n"
                                     "\"time/usage_start\" = \"{day}\"\n"
                                     "\"cost/cost\" = \"{amount}\"\n",
                                     dir_);
  EXPECT_EQ(run.exit_code, 0) << run.err;
  ASSERT_EQ(run.months.count("2026-03"), 1u) << run.out;
  EXPECT_EQ(run.months.at("2026-03").rows, 2u);
  EXPECT_EQ(run.months.at("2026-03").invalid_rows, 0u);
  EXPECT_EQ(run.months.at("2026-03").cost, "3.5");
  const std::string rows = read_text(dir_ / "out" / "2026-03.ndjson");
  EXPECT_NE(rows.find("\"time/usage_start\":\"2026-03-05T00:00:00Z\""), std::string::npos) << rows;
  EXPECT_NE(rows.find("\"time/usage_start\":\"2026-03-06T17:00:00Z\""), std::string::npos) << rows;
}

TEST_F(RowProblemsTest, UnreadableJsonSaysWhyWithFileAndLine) {
  write_text(dir_ / "rows.ndjson",
             "{\"time/usage_start\":\"2026-08-01T00:00:00Z\",\"cost/cost\":\"1\"}\n"
             "{\"time/usage_start\":\"2026-08-01T00:00:00Z\",\"cost/cost\":\"2\",}\n"
             "{\"time/usage_start\":\"2026-08-01T00:00:00Z\",\"cost/cost\":\"3\","
             "\"resource/service\":\"caf\xE9\"}\n"
             "{\"time/usage_start\":\"2026-08-01T00:00:00Z\",\"cost/cost\" \"4\"}\n");
  const CliRun run =
      run_billdrop({"validate", (dir_ / "rows.ndjson").string(), "--format", "json"}, dir_);
  EXPECT_EQ(run.exit_code, 1) << run.err;
  const ValidateReport report = parse_report(run.out);
  EXPECT_EQ(report.valid, 1u) << run.out;
  EXPECT_EQ(report.invalid, 0u) << run.out;
  EXPECT_EQ(report.rejected, 3u) << run.out;
  EXPECT_EQ(report.errors, 3u) << run.out;
  EXPECT_EQ(report.by_rule,
            (std::map<std::string, std::uint64_t>{{"json_syntax", 2}, {"utf8", 1}}));
  ASSERT_EQ(report.problems.size(), 3u) << run.out;
  EXPECT_EQ(report.problems[0].origin, "rows.ndjson:2");
  EXPECT_NE(report.problems[0].message.find("invalid JSON: trailing comma"), std::string::npos)
      << report.problems[0].message;
  EXPECT_EQ(report.problems[1].origin, "rows.ndjson:3");
  EXPECT_EQ(report.problems[1].rule, "utf8");
  // The bad byte is the 0xE9 after "caf": 1-based column 99 of the line.
  EXPECT_EQ(report.problems[1].message,
            "invalid JSON: The input is not valid UTF-8 (first bad byte at column " +
                std::to_string(std::string("{\"time/usage_start\":\"2026-08-01T00:00:00Z\","
                                           "\"cost/cost\":\"3\",\"resource/service\":\"caf")
                                   .size() +
                               1) +
                ")");
  EXPECT_EQ(report.problems[2].origin, "rows.ndjson:4");
  EXPECT_EQ(report.problems[2].message.rfind("invalid JSON: ", 0), 0u)
      << report.problems[2].message;
  EXPECT_EQ(report.problems[2].message.find("not a JSON object"), std::string::npos);
}

// 9e75 has 76 significant digits, the most a Decimal holds; two of them need 77.
const std::string kNineE75 = std::string(1, '9').append(75, '0');

TEST_F(RowProblemsTest, ValidateReportsAnOverflowingTotalAsARowProblem) {
  write_text(dir_ / "big.ndjson",
             "{\"time/usage_start\":\"2026-08-01T00:00:00Z\",\"cost/cost\":\"" + kNineE75 +
                 "\"}\n"
                 "{\"time/usage_start\":\"2026-08-02T00:00:00Z\",\"cost/cost\":\"" +
                 kNineE75 +
                 "\"}\n"
                 "{\"time/usage_start\":\"2026-09-01T00:00:00Z\",\"cost/cost\":\"" +
                 kNineE75 + "\"}\n");
  const CliRun run =
      run_billdrop({"validate", (dir_ / "big.ndjson").string(), "--format", "json"}, dir_);
  EXPECT_EQ(run.exit_code, 1) << run.err;
  const ValidateReport report = parse_report(run.out);
  EXPECT_EQ(report.valid, 2u) << run.out;
  EXPECT_EQ(report.invalid, 1u) << run.out;
  EXPECT_EQ(report.by_rule, (std::map<std::string, std::uint64_t>{{"total_overflow", 1}}));
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_EQ(report.problems[0].origin, "big.ndjson:2");
  EXPECT_EQ(report.problems[0].column, "cost/cost");
  EXPECT_NE(report.problems[0].message.find("2026-08"), std::string::npos);
}

TEST_F(RowProblemsTest, ConvertKeepsAnOverflowingMonthOutAndExitsWithTheDataCode) {
  write_text(dir_ / "vendor.csv", "day,amount\n"
                                  "2026-08-01,9e75\n"
                                  "2026-08-02,9e75\n"
                                  "2026-08-03,1\n"
                                  "2026-09-01,5\n");
  const ConvertRun run = run_convert("custom",
                                     "path = \"vendor.csv\"\n[columns]\n"
                                     "\"time/usage_start\" = \"{day}\"\n"
                                     "\"cost/cost\" = \"{amount}\"\n",
                                     dir_);
  EXPECT_EQ(run.exit_code, 1) << run.err;
  EXPECT_EQ(run.err.find("plugin failed"), std::string::npos) << run.err;
  EXPECT_EQ(run.err.find("unexpected exception"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("vendor.csv:3: row 2: cost/cost: [total_overflow]"), std::string::npos)
      << run.err;
  ASSERT_EQ(run.months.count("2026-08"), 1u) << run.out;
  EXPECT_EQ(run.months.at("2026-08").rows, 2u);
  EXPECT_EQ(run.months.at("2026-08").invalid_rows, 1u);
  EXPECT_EQ(run.months.at("2026-08").cost, "9" + std::string(74, '0') + "1");
  EXPECT_EQ(run.months.at("2026-09").cost, "5");
  EXPECT_EQ(run.months.at("2026-09").invalid_rows, 0u);
}

// A line with no readable date cannot be placed in a month: the plugin rejects it in every
// month's read. It is one problem and one record, not an invalid row of each month read; each of
// those months is still incomplete (the record may belong to it) and says so as why it is not sent.
TEST_F(RowProblemsTest, ALineWithoutAMonthIsCountedOnceAndNamedWhereItBlocksAMonth) {
  write_text(dir_ / "vendor.csv", "day,amount\n"
                                  "2026-08-01,1\n"   // line 2
                                  "2026-13-01,2\n"   // line 3: no month
                                  "2026-08-02,abc\n" // line 4: an invalid row of August only
                                  "2026-09-01,4\n"); // line 5
  write_text(dir_ / "billdrop.toml",
             "state_dir = \"state\"\n[connections.v]\nplugin = \"custom\"\n"
             "[connections.v.config]\npath = \"vendor.csv\"\n[connections.v.config.columns]\n"
             "\"time/usage_start\" = \"{day}\"\n\"cost/cost\" = \"{amount}\"\n");
  const std::string config = (dir_ / "billdrop.toml").string();
  const std::string out = (dir_ / "out").string();

  const CliRun convert =
      run_billdrop({"convert", "--config", config, "--out", out, "--format", "json"}, dir_);
  EXPECT_EQ(convert.exit_code, 1) << convert.err;
  simdjson::dom::parser parser;
  simdjson::dom::element document;
  ASSERT_EQ(parser.parse(convert.out).get(document), simdjson::SUCCESS) << convert.out;
  simdjson::dom::element root; // the one connection's entry
  ASSERT_EQ(document["connections"].at(0).get(root), simdjson::SUCCESS) << convert.out;
  // Two problems: line 3 (once, though both months' reads met it) and line 4.
  EXPECT_EQ(root["errors"].get_uint64().value_unsafe(), 2u) << convert.out;
  struct Counts {
    std::uint64_t rows, invalid, unplaced;
  };
  std::map<std::string, Counts> months;
  simdjson::dom::array listed;
  ASSERT_EQ(root["months"].get_array().get(listed), simdjson::SUCCESS) << convert.out;
  for (simdjson::dom::element month : listed) {
    std::uint64_t unplaced = 0;
    if (month["unplaced_records"].get_uint64().get(unplaced) != simdjson::SUCCESS)
      unplaced = 0;
    months[std::string(month["month"].get_string().value_unsafe())] = {
        month["rows"].get_uint64().value_unsafe(),
        month["invalid_rows"].get_uint64().value_unsafe(), unplaced};
  }
  ASSERT_EQ(months.size(), 2u) << convert.out;
  EXPECT_EQ(months["2026-08"].rows, 1u);
  EXPECT_EQ(months["2026-08"].invalid, 1u) << convert.out;  // line 4
  EXPECT_EQ(months["2026-08"].unplaced, 1u) << convert.out; // line 3
  EXPECT_EQ(months["2026-09"].rows, 1u);
  EXPECT_EQ(months["2026-09"].invalid, 0u) << convert.out;
  EXPECT_EQ(months["2026-09"].unplaced, 1u) << convert.out;

  // The summaries say so, and neither claims the month is complete.
  const std::string august = read_text(dir_ / "out" / "2026-08.summary.json");
  EXPECT_NE(august.find("\"invalid_rows\":1,\"unplaced_records\":1,"), std::string::npos) << august;
  EXPECT_NE(august.find("\"complete\":false"), std::string::npos) << august;
  const std::string september = read_text(dir_ / "out" / "2026-09.summary.json");
  EXPECT_NE(september.find("\"invalid_rows\":0,\"unplaced_records\":1,"), std::string::npos)
      << september;
  EXPECT_NE(september.find("\"complete\":false"), std::string::npos) << september;

  // The text report lists line 3 once and says which months it keeps from being sent.
  const CliRun text = run_billdrop({"convert", "--config", config, "--out", out}, dir_);
  EXPECT_EQ(text.exit_code, 1);
  const std::size_t first = text.err.find("vendor.csv:3:");
  ASSERT_NE(first, std::string::npos) << text.err;
  EXPECT_EQ(text.err.find("vendor.csv:3:", first + 1), std::string::npos) << text.err;
  EXPECT_NE(text.err.find("1 record could not be placed in a month (see the row problems); it "
                          "may belong to 2026-08 or 2026-09, which are therefore incomplete"),
            std::string::npos)
      << text.err;

  // push and run refuse September for the unplaced record alone, and say so.
  const std::string unplaced_reason =
      "1 record that could not be placed in a month (it may belong to this one): not sent";
  const CliRun push =
      run_billdrop({"push", "--config", config, "--from", out, "--format", "json"}, dir_);
  EXPECT_EQ(push.exit_code, 6) << push.out << push.err;
  EXPECT_NE(push.out.find("\"month\":\"2026-09\",\"rows\":1,\"cost\":\"4\",\"chunks\":0,"
                          "\"attempts\":0,\"synced\":false,\"problem\":\"" +
                          unplaced_reason),
            std::string::npos)
      << push.out;
  EXPECT_NE(push.out.find("\"problem\":\"1 invalid row(s) and " + unplaced_reason),
            std::string::npos)
      << push.out;
  const CliRun run = run_billdrop({"run", "--config", config, "--format", "json"}, dir_);
  EXPECT_EQ(run.exit_code, 6) << run.out << run.err;
  EXPECT_NE(run.out.find("\"month\":\"2026-09\",\"rows\":1,\"cost\":\"4\",\"chunks\":0,"
                         "\"attempts\":0,\"synced\":false,\"problem\":\"" +
                         unplaced_reason),
            std::string::npos)
      << run.out;
}

TEST_F(RowProblemsTest, CustomPluginRejectsNameTheirColumnAndRule) {
  write_text(dir_ / "usage.csv", "date,cost\n"
                                 "08/31/2026 23:00,1\n"
                                 "2026-08-30 10:00,2\n"
                                 "08/30/2026 09:00\n");
  write_text(dir_ / "custom.toml", "path = \"usage.csv\"\n"
                                   "timestamp_format = \"%m/%d/%Y %H:%M\"\n[columns]\n"
                                   "\"time/usage_start\" = \"{date}\"\n"
                                   "\"cost/cost\" = \"{cost}\"\n");
  const CliRun run = run_billdrop({"validate", "--plugin", "custom", "--plugin-config",
                                   (dir_ / "custom.toml").string(), "--format", "json"},
                                  dir_);
  EXPECT_EQ(run.exit_code, 1) << run.err;
  const ValidateReport report = parse_report(run.out);
  EXPECT_EQ(report.valid, 1u) << run.out;
  EXPECT_EQ(report.rejected, 2u) << run.out;
  EXPECT_EQ(report.by_rule,
            (std::map<std::string, std::uint64_t>{{"record_shape", 1}, {"timestamp", 1}}));
  ASSERT_EQ(report.problems.size(), 2u) << run.out;
  EXPECT_EQ(report.problems[0].origin, "usage.csv:3");
  EXPECT_EQ(report.problems[0].column, "time/usage_start");
  EXPECT_EQ(report.problems[0].rule, "timestamp");
  EXPECT_NE(report.problems[0].message.find("2026-08-30 10:00"), std::string::npos);
  EXPECT_EQ(report.problems[1].origin, "usage.csv:4");
  EXPECT_EQ(report.problems[1].column, "");
  EXPECT_EQ(report.problems[1].rule, "record_shape");
}

} // namespace
} // namespace billdrop::test
