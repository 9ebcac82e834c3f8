// One pass for single files (ABI 1.4, issue 16): a CUR given as one .csv.gz holding three months
// is read once (read_all), not once to list its months and again per month, and converts to the
// same months and exact totals as the same lines in a legacy report tree, which is still read
// month by month. The plugin's read_all gives exactly the rows of months() + read(month).
#include "cur_fixture_writer.hpp"
#include "support/convert_run.hpp"

#include <billdrop/decimal.hpp>
#include <billdrop/sdk.hpp>
#include <billdrop/testing/harness.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

extern "C" const bd_plugin_descriptor* billdrop_plugin_entry(void);

namespace {

namespace fs = std::filesystem;

using billdrop::Decimal;
using billdrop::aws::test::csv_text;
using billdrop::aws::test::CsvRow;

const std::vector<std::string> header = {"lineItem/UsageStartDate", "lineItem/LineItemType",
                                         "lineItem/ProductCode", "lineItem/LineItemDescription",
                                         "lineItem/UnblendedCost"};
// Line i is in month 2024-07 + i % 3, day 1 + i / 3: the months interleave, as in a file AWS
// writes by resource rather than by date.
const std::vector<std::string> costs = {"10.00", "0.25", "3.5",  "1.125", "-2.00", "7.75",
                                        "0.001", "4",    "0.30", "5.5",   "0.75",  "-1.25"};

CsvRow line(std::size_t i) {
  char start[32];
  std::snprintf(start, sizeof start, "2024-%02zu-%02zuT04:00:00Z", 7 + i % 3, 1 + i / 3);
  return {{"lineItem/UsageStartDate", start},
          {"lineItem/LineItemType", "Usage"},
          {"lineItem/ProductCode", "AmazonEC2"},
          {"lineItem/LineItemDescription", "line " + std::to_string(i)},
          {"lineItem/UnblendedCost", costs[i]}};
}

std::vector<CsvRow> lines_of_month(int month) {
  std::vector<CsvRow> lines;
  for (std::size_t i = 0; i < costs.size(); ++i)
    if (static_cast<int>(7 + i % 3) == month || month == 0)
      lines.push_back(line(i));
  return lines;
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
    ++n;
  return n;
}

class AwsOnePassTest : public billdrop::aws::test::CurFixtureTest {
protected:
  fs::path write_file() {
    const fs::path file = dir_ / "single" / "cur-2024q3.csv.gz";
    fs::create_directories(file.parent_path());
    billdrop::aws::test::write_gzip(file, csv_text(header, lines_of_month(0)));
    return file;
  }
  fs::path write_tree() {
    const char* periods[] = {"20240701-20240801", "20240801-20240901", "20240901-20241001"};
    for (int m = 0; m < 3; ++m) {
      const fs::path folder = billdrop::aws::test::legacy_month_folder(
          dir_ / "tree", "q3", periods[m], "a1", {"q3-1.csv.gz"});
      billdrop::aws::test::write_gzip(folder / "q3-1.csv.gz",
                                      csv_text(header, lines_of_month(7 + m)));
    }
    return dir_ / "tree";
  }
  billdrop::test::ConvertRun convert(const fs::path& path, const std::string& out,
                                     const std::string& command_args = "") {
    fs::create_directories(dir_ / out);
    return billdrop::test::run_convert(
        "aws", "path = " + billdrop::test::toml_string(path.string()) + "\n", dir_ / out,
        "--log-level info", command_args);
  }
};

TEST_F(AwsOnePassTest, ASingleFileIsReadOnceWithTheTotalsOfTheTree) {
  const auto file = convert(write_file(), "file");
  ASSERT_EQ(file.exit_code, 0) << file.out << file.err;
  // One read of every month, and no read of a single month.
  EXPECT_EQ(count(file.err, "event=convert.read_all "), 1u) << file.err;
  EXPECT_EQ(count(file.err, "event=convert.read "), 0u) << file.err;

  // By hand: July 10.00 + 1.125 + 0.001 + 5.5 = 16.626, August 0.25 - 2.00 + 4 + 0.75 = 3.00,
  // September 3.5 + 7.75 + 0.30 - 1.25 = 10.30; four lines each.
  const std::pair<const char*, const char*> expected[] = {
      {"2024-07", "16.626"}, {"2024-08", "3.00"}, {"2024-09", "10.30"}};
  ASSERT_EQ(file.months.size(), 3u) << file.out;
  for (const auto& [month, cost] : expected) {
    EXPECT_EQ(file.months.at(month).rows, 4u) << month;
    EXPECT_EQ(Decimal::from_string(file.months.at(month).cost), Decimal::from_string(cost))
        << month;
    EXPECT_EQ(file.months.at(month).invalid_rows, 0u) << month;
    EXPECT_EQ(file.months.at(month).unplaced_records, 0u) << month;
  }

  const auto tree = convert(write_tree(), "tree");
  ASSERT_EQ(tree.exit_code, 0) << tree.out << tree.err;
  EXPECT_EQ(count(tree.err, "event=convert.read_all "), 0u) << tree.err;
  EXPECT_EQ(count(tree.err, "event=convert.read "), 3u) << tree.err;
  ASSERT_EQ(tree.months.size(), 3u) << tree.out;
  for (const auto& [month, cost] : expected) {
    EXPECT_EQ(tree.months.at(month).rows, file.months.at(month).rows) << month;
    EXPECT_EQ(Decimal::from_string(tree.months.at(month).cost), Decimal::from_string(cost))
        << month;
  }
}

// The same through a plugin runner (--isolation process): the runner forwards read_all.
TEST_F(AwsOnePassTest, ASingleFileIsReadOnceInAPluginRunnerToo) {
  const fs::path file = write_file();
  const auto in_process = convert(file, "in-process");
  const auto isolated = convert(file, "isolated", "--isolation process");
  ASSERT_EQ(isolated.exit_code, 0) << isolated.out << isolated.err;
  EXPECT_EQ(count(isolated.err, "event=convert.read_all "), 1u) << isolated.err;
  EXPECT_EQ(count(isolated.err, "event=convert.read "), 0u) << isolated.err;
  ASSERT_EQ(isolated.months.size(), 3u) << isolated.out;
  for (const auto& [month, converted] : in_process.months) {
    EXPECT_EQ(isolated.months.at(month).rows, converted.rows) << month;
    EXPECT_EQ(isolated.months.at(month).cost, converted.cost) << month;
  }
  EXPECT_EQ(Decimal::from_string(isolated.months.at("2024-07").cost),
            Decimal::from_string("16.626"));
}

// A file cut short: rows of all three months reached the host before the read failed, and any of
// the months may have had more further on, so none is complete and none keeps partial rows.
TEST_F(AwsOnePassTest, AFileCutShortLeavesNoMonthComplete) {
  std::vector<CsvRow> lines;
  for (int copy = 0; copy < 4000; ++copy)
    for (std::size_t i = 0; i < costs.size(); ++i)
      lines.push_back(line(i));
  const fs::path file = dir_ / "cut" / "cur.csv.gz";
  fs::create_directories(file.parent_path());
  billdrop::aws::test::write_gzip(file, csv_text(header, lines));
  fs::resize_file(file, fs::file_size(file) / 2);
  const auto run = convert(file, "out");
  EXPECT_NE(run.exit_code, 0) << run.out << run.err;
  ASSERT_EQ(run.months.size(), 3u) << run.out << run.err;
  for (const auto& [month, converted] : run.months) {
    EXPECT_EQ(converted.rows, 0u) << month;
    EXPECT_NE(converted.error.find("plugin 'aws' failed reading every month in one pass"),
              std::string::npos)
        << month << ": " << converted.error;
    EXPECT_NE(converted.error.find("cur.csv.gz"), std::string::npos) << converted.error;
  }
  for (const char* month : {"2024-07", "2024-08", "2024-09"})
    EXPECT_FALSE(fs::exists(dir_ / "out" / "out" / (std::string(month) + ".ndjson"))) << month;
}

TEST_F(AwsOnePassTest, ReadAllGivesTheRowsOfEveryMonthsRead) {
  billdrop::testing::PluginHarness file(billdrop_plugin_entry(), {{"path", write_file().string()}});
  ASSERT_TRUE(file.create());
  auto one_pass = file.one_pass();
  ASSERT_TRUE(one_pass);
  EXPECT_TRUE(*one_pass);
  auto compared = file.compare_one_pass();
  ASSERT_TRUE(compared) << compared.error().message();
  EXPECT_TRUE(compared->equal()) << compared->first_difference;
  EXPECT_EQ(compared->rows_in_one_pass, 12u);
  EXPECT_EQ(compared->rows_by_month, 12u);
  EXPECT_EQ(compared->digest_in_one_pass, compared->digest_by_month);

  // A report tree keeps its month folders: read month by month.
  billdrop::testing::PluginHarness tree(billdrop_plugin_entry(), {{"path", write_tree().string()}});
  ASSERT_TRUE(tree.create());
  one_pass = tree.one_pass();
  ASSERT_TRUE(one_pass);
  EXPECT_FALSE(*one_pass);
}

// With month_by = billing_period, a line is taken in its bill/BillingPeriodStartDate's month in one
// pass too, placed in the period's first or last hour when dated outside it, as read(month) does.
TEST_F(AwsOnePassTest, BillingPeriodLinesAreTakenInTheirPeriodInOnePass) {
  const std::vector<std::string> with_period = {"bill/BillingPeriodStartDate",
                                                "lineItem/UsageStartDate", "lineItem/LineItemType",
                                                "lineItem/ProductCode", "lineItem/UnblendedCost"};
  const std::vector<CsvRow> lines = {
      {{"bill/BillingPeriodStartDate", "2024-08-01T00:00:00Z"},
       {"lineItem/UsageStartDate", "2024-07-31T23:00:00Z"},
       {"lineItem/UnblendedCost", "1.50"}},
      {{"bill/BillingPeriodStartDate", "2024-07-01T00:00:00Z"},
       {"lineItem/UsageStartDate", "2024-07-02T01:00:00Z"},
       {"lineItem/UnblendedCost", "2.25"}},
      {{"bill/BillingPeriodStartDate", "2024-08-01T00:00:00Z"},
       {"lineItem/UsageStartDate", "2024-08-03T00:00:00Z"},
       {"lineItem/UnblendedCost", "0.75"}},
  };
  const fs::path file = dir_ / "period.csv";
  billdrop::aws::test::write_bytes(file, csv_text(with_period, lines));
  billdrop::testing::PluginHarness harness(
      billdrop_plugin_entry(),
      {{"path", file.string()}, {"month_by", std::string("billing_period")}});
  ASSERT_TRUE(harness.create());
  auto compared = harness.compare_one_pass();
  ASSERT_TRUE(compared) << compared.error().message();
  EXPECT_TRUE(compared->equal()) << compared->first_difference;
  EXPECT_EQ(compared->rows_in_one_pass, 3u);
  auto rows = harness.read_all();
  ASSERT_TRUE(rows) << rows.error().message();
  // The first line belongs to August's period: placed in its first hour.
  EXPECT_EQ(rows->at(0).get("time/usage_start"), "2024-08-01T00:00:00Z");
  EXPECT_EQ(rows->at(1).get("time/usage_start"), "2024-07-02T01:00:00Z");
}

} // namespace
