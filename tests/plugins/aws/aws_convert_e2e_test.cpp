// The real host converts the aws fixtures: per-month rows and cost sums, and a malformed tree that
// loses no other month.
#include <billdrop/decimal.hpp>

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include <sys/wait.h>
#include <unistd.h>

namespace {

namespace fs = std::filesystem;
const fs::path fixtures = BILLDROP_AWS_FIXTURES;

struct MonthResult {
  std::uint64_t rows = 0;
  std::uint64_t invalid_rows = 0;
  std::string cost;
  std::string error;
};

struct ConvertRun {
  int exit_code = -1;
  std::map<std::string, MonthResult> months;
  std::string output;
};

ConvertRun convert(const fs::path& data, const std::string& name) {
  const fs::path dir =
      fs::temp_directory_path() / ("billdrop_aws_e2e_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "aws.toml") << "path = \"" << data.string() << "\"\n";
  const std::string command = std::string(BILLDROP_TEST_BILLDROP_EXE) +
                              " --no-progress --log-level off --plugin-dir " +
                              BILLDROP_TEST_PLUGIN_DIR + " convert --plugin aws --plugin-config " +
                              (dir / "aws.toml").string() + " --out " + (dir / "out").string() +
                              " --format json 2>/dev/null";
  ConvertRun run;
  FILE* pipe = ::popen(command.c_str(), "r");
  char buffer[4096];
  for (std::size_t n; pipe && (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;)
    run.output.append(buffer, n);
  const int status = pipe ? ::pclose(pipe) : -1;
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  simdjson::dom::array months;
  if (parser.parse(run.output).get(root) == simdjson::SUCCESS &&
      root["months"].get_array().get(months) == simdjson::SUCCESS) {
    for (simdjson::dom::element month : months) {
      MonthResult result;
      std::string_view text;
      if (month["rows"].get_uint64().get(result.rows) != simdjson::SUCCESS ||
          month["invalid_rows"].get_uint64().get(result.invalid_rows) != simdjson::SUCCESS ||
          month["cost"].get_string().get(text) != simdjson::SUCCESS)
        continue;
      result.cost = std::string(text);
      if (month["error"].get_string().get(text) == simdjson::SUCCESS)
        result.error = std::string(text);
      if (month["month"].get_string().get(text) == simdjson::SUCCESS)
        run.months[std::string(text)] = result;
    }
  }
  fs::remove_all(dir);
  return run;
}

TEST(AwsConvertE2eTest, LegacyTreeConvertsToMonthSnapshotsWithExactTotals) {
  const ConvertRun run = convert(fixtures / "legacy", "legacy");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  ASSERT_EQ(run.months.size(), 2u) << run.output;
  // By hand (see aws_plugin_test.cpp): August 138.3515 over 14 lines, September 13.36 over 3.
  EXPECT_EQ(run.months.at("2024-08").rows, 14u);
  EXPECT_EQ(billdrop::Decimal::from_string(run.months.at("2024-08").cost),
            billdrop::Decimal::from_string("138.3515"));
  EXPECT_EQ(run.months.at("2024-09").rows, 3u);
  EXPECT_EQ(billdrop::Decimal::from_string(run.months.at("2024-09").cost),
            billdrop::Decimal::from_string("13.36"));
}

TEST(AwsConvertE2eTest, Cur2ExportConverts) {
  const ConvertRun run = convert(fixtures / "cur2", "cur2");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(run.months.at("2024-10").rows, 4u);
  EXPECT_EQ(billdrop::Decimal::from_string(run.months.at("2024-10").cost),
            billdrop::Decimal::from_string("3.39"));
}

TEST(AwsConvertE2eTest, MalformedMonthsLoseNoOtherMonth) {
  const ConvertRun run = convert(fixtures / "broken", "broken");
  EXPECT_NE(run.exit_code, 0) << run.output;
  ASSERT_EQ(run.months.size(), 3u) << run.output;
  // October is intact: 1.00 + 2.00.
  EXPECT_EQ(run.months.at("2024-10").rows, 2u);
  EXPECT_EQ(run.months.at("2024-10").cost, "3.00");
  EXPECT_TRUE(run.months.at("2024-10").error.empty());
  // November's gzip is truncated: the month fails, naming the file and the line reached.
  const std::string& error = run.months.at("2024-11").error;
  EXPECT_NE(error.find("broken-cur-1.csv.gz: after line "), std::string::npos) << error;
  EXPECT_NE(error.find("truncated gzip"), std::string::npos) << error;
  // December keeps its one good line (5.00); the short line and the non-numeric cost are rejected
  // and named in the run report.
  EXPECT_EQ(run.months.at("2024-12").rows, 1u);
  EXPECT_EQ(run.months.at("2024-12").cost, "5.00");
}

} // namespace
