// convert with a one-pass plugin (ABI 1.4, tests/host/broken_plugins/one_pass_plugin.cpp): every
// month is read in one read_all() call, with the same months, rows and exact totals as months() +
// read(month); a read that fails halfway leaves no month complete; a plugin of ABI 1.3 converts
// month by month as before; the plugin runner forwards read_all.
#include "ingest/convert.hpp"
#include "source/process_session.hpp"
#include "support/temp_folder.hpp"

#include <billdrop/decimal.hpp>

#include <gtest/gtest.h>
#include <support/broken_plugins.hpp>

#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace billdrop {
namespace {

namespace fs = std::filesystem;

std::shared_ptr<source::LoadedPlugin> load_or_fail(std::string_view name) {
  return test::load_broken_plugin(name);
}

std::unique_ptr<source::SourceSession> open_or_fail(std::string_view name,
                                                    const ConfigValues& config, bool isolated) {
  if (isolated) {
    source::ProcessOptions options;
    options.runner = BILLDROP_TEST_BILLDROP_EXE;
    auto session = source::ProcessSession::create(load_or_fail(name), config, options);
    if (!session)
      throw std::runtime_error(session.error().message());
    return std::move(*session);
  }
  auto instance = source::PluginInstance::create(load_or_fail(name), config);
  if (!instance)
    throw std::runtime_error(instance.error().message());
  return std::move(*instance);
}

std::vector<std::string> lines_of(const fs::path& file) {
  std::vector<std::string> lines;
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  return lines;
}

struct MonthSeen {
  std::uint64_t rows = 0;
  Decimal cost;
  std::uint64_t invalid = 0;
  std::uint64_t unplaced = 0;
  bool read_whole = false;
  bool failed = false;
  bool operator==(const MonthSeen&) const = default;
};

std::map<std::string, MonthSeen> by_month(const ingest::ConvertResult& result) {
  std::map<std::string, MonthSeen> months;
  for (const ingest::ConvertedMonth& m : result.months)
    months[m.summary.month.to_string()] = {m.summary.rows,       m.summary.cost,
                                           m.invalid_rows,       m.unplaced_records,
                                           m.summary.read_whole, m.failure.has_value()};
  return months;
}

class OnePassConvertTest : public billdrop::test::TempFolderTest,
                           public ::testing::WithParamInterface<bool> {
protected:
  Result<ingest::ConvertResult> convert(const ConfigValues& config, const std::string& out,
                                        cbf::ValidationReport& report) {
    session_ = open_or_fail("one_pass", config, GetParam());
    ingest::ConvertOptions options;
    options.output_directory = dir_ / out;
    return ingest::run_convert(*session_, options, report);
  }
  ConfigValues config(ConfigValues more = {}) {
    more.emplace("calls_file", (dir_ / "calls.txt").string());
    return more;
  }
  std::unique_ptr<source::SourceSession> session_;
};

TEST_P(OnePassConvertTest, OnePassReadsOnceAndGivesTheMonthsOfTwoPasses) {
  // By hand (one_pass_plugin.cpp): July 1.10 + 4.40 + 7.70, August 2.20 + 5.50 + 8.80,
  // September 3.30 + 6.60 + 9.90; line 11 could be of any month: one unplaced record in each.
  const std::map<std::string, MonthSeen> expected = {
      {"2024-07", {3, Decimal::from_string("13.20"), 0, 1, true, false}},
      {"2024-08", {3, Decimal::from_string("16.50"), 0, 1, true, false}},
      {"2024-09", {3, Decimal::from_string("19.80"), 0, 1, true, false}},
  };
  cbf::ValidationReport one_report(100);
  Result<ingest::ConvertResult> one = convert(config(), "one", one_report);
  ASSERT_TRUE(one) << one.error().message();
  EXPECT_TRUE(session_->one_pass());
  EXPECT_EQ(lines_of(dir_ / "calls.txt"), std::vector<std::string>{"read_all"});
  EXPECT_EQ(by_month(*one), expected);
  EXPECT_EQ(one->rows_read, 9u);
  EXPECT_EQ(one->unplaced, 1u);
  EXPECT_EQ(one_report.rejects(), 1u);

  fs::remove(dir_ / "calls.txt");
  cbf::ValidationReport two_report(100);
  Result<ingest::ConvertResult> two = convert(config({{"one_pass", false}}), "two", two_report);
  ASSERT_TRUE(two) << two.error().message();
  EXPECT_FALSE(session_->one_pass());
  EXPECT_EQ(lines_of(dir_ / "calls.txt"),
            (std::vector<std::string>{"months", "read 2024-07", "read 2024-08", "read 2024-09"}));
  EXPECT_EQ(by_month(*two), by_month(*one));
  EXPECT_EQ(two->unplaced, 1u);
  // The same snapshots, row for row.
  ASSERT_EQ(two->months.size(), one->months.size());
  for (std::size_t i = 0; i < one->months.size(); ++i)
    EXPECT_EQ(two->months[i].summary.digest, one->months[i].summary.digest)
        << one->months[i].summary.month.to_string();
}

TEST_P(OnePassConvertTest, MonthsAskedForAreReadMonthByMonth) {
  cbf::ValidationReport report(100);
  session_ = open_or_fail("one_pass", config(), GetParam());
  ingest::ConvertOptions options;
  options.output_directory = dir_ / "out";
  options.months = {Month(2024, 8)};
  Result<ingest::ConvertResult> result = ingest::run_convert(*session_, options, report);
  ASSERT_TRUE(result) << result.error().message();
  EXPECT_EQ(lines_of(dir_ / "calls.txt"), std::vector<std::string>{"read 2024-08"});
  ASSERT_EQ(result->months.size(), 1u);
  EXPECT_EQ(result->months[0].summary.cost, Decimal::from_string("16.50"));
}

TEST_P(OnePassConvertTest, AFailureHalfwayLeavesNoMonthComplete) {
  // Four rows (July, August, September, July) reach the host, then the file ends early: any of
  // the three months may have had more rows further on.
  cbf::ValidationReport report(100);
  Result<ingest::ConvertResult> result =
      convert(config({{"fail_after", std::int64_t(4)}}), "out", report);
  ASSERT_TRUE(result) << result.error().message();
  ASSERT_EQ(result->months.size(), 3u);
  for (const ingest::ConvertedMonth& m : result->months) {
    const std::string month = m.summary.month.to_string();
    ASSERT_TRUE(m.failure) << month;
    EXPECT_FALSE(m.summary.read_whole) << month;
    EXPECT_FALSE(m.summary.complete()) << month;
    EXPECT_EQ(m.summary.rows, 0u) << month << ": partial rows are discarded";
    EXPECT_NE(m.failure->message().find("failed reading every month in one pass"),
              std::string::npos)
        << m.failure->message();
    EXPECT_NE(m.failure->message().find("usage.csv: after line 5: truncated gzip stream"),
              std::string::npos)
        << m.failure->message();
  }
  ASSERT_NE(result->first_failure(), nullptr);
  EXPECT_EQ(result->first_failure()->kind(), ErrorKind::data);
  // No snapshot of rows was left behind, and every summary says the month was not read whole.
  for (const char* month : {"2024-07", "2024-08", "2024-09"})
    EXPECT_FALSE(fs::exists(dir_ / "out" / (std::string(month) + ".ndjson"))) << month;
}

TEST_P(OnePassConvertTest, AFailureBeforeAnyRowFailsTheRun) {
  cbf::ValidationReport report(100);
  Result<ingest::ConvertResult> result = convert(config({{"fail_at_start", true}}), "out", report);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().kind(), ErrorKind::source);
  EXPECT_NE(result.error().message().find("plugin 'one_pass' failed reading every month in one "
                                          "pass"),
            std::string::npos)
      << result.error().message();
  EXPECT_NE(result.error().message().find("usage.csv: permission denied"), std::string::npos)
      << result.error().message();
}

INSTANTIATE_TEST_SUITE_P(InProcessAndIsolated, OnePassConvertTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& param) {
                           return param.param ? "Isolated" : "InProcess";
                         });

class Abi13ConvertTest : public billdrop::test::TempFolderTest {};

TEST_F(Abi13ConvertTest, APluginOfAbi13ConvertsMonthByMonth) {
  for (const bool isolated : {false, true}) {
    std::unique_ptr<source::SourceSession> session = open_or_fail("abi_1_3", {}, isolated);
    EXPECT_FALSE(session->one_pass());
    EXPECT_FALSE(session->incremental());
    cbf::ValidationReport report(100);
    ingest::ConvertOptions options;
    options.output_directory = dir_ / (isolated ? "isolated" : "in-process");
    Result<ingest::ConvertResult> result = ingest::run_convert(*session, options, report);
    ASSERT_TRUE(result) << result.error().message();
    ASSERT_EQ(result->months.size(), 2u);
    EXPECT_EQ(result->months[0].summary.cost, Decimal::from_string("2.50"));
    EXPECT_EQ(result->months[1].summary.cost, Decimal::from_string("0.75"));
    EXPECT_TRUE(result->months[0].summary.complete());
    EXPECT_TRUE(result->months[1].summary.complete());
  }
}

} // namespace
} // namespace billdrop
