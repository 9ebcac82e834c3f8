// The real host converts the aws fixtures: per-month rows and cost sums, and a malformed tree that
// loses no other month.
#include "support/convert_run.hpp"

#include <billdrop/decimal.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

namespace {

namespace fs = std::filesystem;

const fs::path fixtures = BILLDROP_AWS_FIXTURES;

class AwsConvertE2eTest : public billdrop::test::TempFolderTest {
protected:
  billdrop::test::ConvertRun convert(const fs::path& data) {
    return billdrop::test::run_convert(
        "aws", "path = " + billdrop::test::toml_string(data.string()) + "\n", dir_);
  }
};

TEST_F(AwsConvertE2eTest, LegacyTreeConvertsToMonthSnapshotsWithExactTotals) {
  const auto run = convert(fixtures / "legacy");
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  ASSERT_EQ(run.months.size(), 2u) << run.out << run.err;
  // By hand (see aws_plugin_test.cpp): August 138.3515 over 14 lines, September 13.36 over 3.
  EXPECT_EQ(run.months.at("2024-08").rows, 14u);
  EXPECT_EQ(billdrop::Decimal::from_string(run.months.at("2024-08").cost),
            billdrop::Decimal::from_string("138.3515"));
  EXPECT_EQ(run.months.at("2024-09").rows, 3u);
  EXPECT_EQ(billdrop::Decimal::from_string(run.months.at("2024-09").cost),
            billdrop::Decimal::from_string("13.36"));
}

TEST_F(AwsConvertE2eTest, Cur2ExportConverts) {
  const auto run = convert(fixtures / "cur2");
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_EQ(run.months.at("2024-10").rows, 4u);
  EXPECT_EQ(billdrop::Decimal::from_string(run.months.at("2024-10").cost),
            billdrop::Decimal::from_string("3.39"));
}

TEST_F(AwsConvertE2eTest, MalformedMonthsLoseNoOtherMonth) {
  const auto run = convert(fixtures / "broken");
  EXPECT_NE(run.exit_code, 0) << run.out << run.err;
  ASSERT_EQ(run.months.size(), 3u) << run.out << run.err;
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
  EXPECT_EQ(run.months.at("2024-12").invalid_rows, 2u);
}

} // namespace
