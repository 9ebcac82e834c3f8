#include "plan/rollup.hpp"

#include "cbf/row_validator.hpp"

#include "support/snapshot_digest.hpp"
#include "support/temp_folder.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

namespace billdrop::plan {
namespace {

namespace fs = std::filesystem;

class RollupTest : public test::TempFolderTest {
protected:
  snapshot::MonthSummary write(const std::vector<std::string>& lines) {
    snapshot::MonthSummary summary;
    summary.month = Month(2026, 8);
    summary.file = dir_ / "2026-08.ndjson";
    summary.rows = lines.size();
    std::ofstream out(summary.file, std::ios::binary);
    for (const std::string& line : lines)
      out << line << '\n';
    return summary;
  }

  fs::path output() const { return dir_ / "2026-08.rollup.ndjson"; }
};

std::vector<std::string> read_lines(const fs::path& file) {
  std::vector<std::string> lines;
  std::ifstream in(file, std::ios::binary);
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  return lines;
}

// A usage row of vm-1 in hour 00 with team tag `team`; the amounts vary.
std::string vm_row(std::string_view start, std::string_view cost, std::string_view discounted,
                   std::string_view amount, std::string_view team = "a") {
  std::string row = "{\"time/usage_start\":\"" + std::string(start) +
                    "\",\"lineitem/type\":\"Usage\",\"cost/cost\":\"" + std::string(cost) + "\"";
  if (!discounted.empty())
    row += ",\"cost/discounted_cost\":\"" + std::string(discounted) + "\"";
  row += ",\"usage/amount\":\"" + std::string(amount) +
         "\",\"usage/units\":\"h\",\"resource/id\":\"vm-1\",\"resource/tag:team\":\"" +
         std::string(team) + "\"}";
  return row;
}

TEST_F(RollupTest, MergesRowsThatDifferOnlyInTheirAmountsWithExactSums) {
  constexpr std::string_view h0 = "2026-08-01T00:00:00Z";
  constexpr std::string_view h1 = "2026-08-01T01:00:00Z";
  const std::vector<std::string> input{
      vm_row(h0, "1.10", "1.00", "2"),
      R"({"time/usage_start":"2026-08-01T00:00:00Z","cost/cost":"5"})",
      vm_row(h0, "0.00000001", "-0.5", "0.25"),
      vm_row(h0, "1.10", "1.00", "2", "b"),                // another tag value
      vm_row("2026-08-01T00:30:00Z", "1.10", "1.00", "2"), // another start time
      vm_row(h0, "1.10", "", "2"),                         // no discounted cost
      vm_row(h0, "3", "3", "3"),
      vm_row(h1, "1.10", "1.00", "2"), // the next hour
      R"({"time/usage_start":"2026-08-01T01:00:00Z","lineitem/type":"Tax","cost/cost":"0.1"})",
      R"({"time/usage_start":"2026-08-01T01:00:00Z","lineitem/type":"Tax","cost/cost":"0.2"})",
  };
  const snapshot::MonthSummary snapshot = write(input);
  Result<RolledUpSnapshot> rolled = rollup_snapshot(snapshot, output());
  ASSERT_TRUE(rolled.ok()) << rolled.error().message();

  // 1.10 + 0.00000001 + 3; 1.00 - 0.5 + 3; 2 + 0.25 + 3. Unmerged rows keep their bytes.
  const std::vector<std::string> expected{
      vm_row(h0, "4.10000001", "3.50", "5.25"),
      input[1],
      input[3],
      input[4],
      input[5],
      input[7],
      R"({"time/usage_start":"2026-08-01T01:00:00Z","lineitem/type":"Tax","cost/cost":"0.3"})",
  };
  EXPECT_EQ(read_lines(output()), expected);
  EXPECT_FALSE(fs::exists(fs::path(output()).concat(".partial")));

  EXPECT_EQ(rolled->report.rows_before, 10u);
  EXPECT_EQ(rolled->report.rows_after, 7u);
  EXPECT_EQ(rolled->report.groups_merged, 2u);

  const snapshot::MonthSummary& summary = rolled->summary;
  EXPECT_EQ(summary.month, Month(2026, 8));
  EXPECT_EQ(summary.file, output());
  EXPECT_EQ(summary.rows, 7u);
  std::uint64_t bytes = 0;
  for (const std::string& line : expected)
    bytes += line.size();
  EXPECT_EQ(summary.json_bytes, bytes);
  // 4.10000001 + 5 + 1.10 * 3 (tag b, 00:30, no discount) + 1.10 (hour 01) + 0.3
  EXPECT_EQ(summary.cost, Decimal::from_string("13.80000001"));
  ASSERT_EQ(summary.cost_by_type.size(), 2u);
  EXPECT_EQ(summary.cost_by_type.at("Usage"), Decimal::from_string("13.50000001"));
  EXPECT_EQ(summary.cost_by_type.at("Tax"), Decimal::from_string("0.3"));
  ASSERT_EQ(summary.hours.size(), 2u);
  EXPECT_EQ(summary.hours.at("2026-08-01T00").rows, 5u);
  EXPECT_EQ(summary.hours.at("2026-08-01T00").cost, Decimal::from_string("12.40000001"));
  EXPECT_EQ(summary.hours.at("2026-08-01T01").rows, 2u);
  EXPECT_EQ(summary.hours.at("2026-08-01T01").cost, Decimal::from_string("1.4"));
  EXPECT_EQ(summary.digest, testing::expected_snapshot_digest(expected));
  Result<snapshot::SnapshotReader> reader = snapshot::SnapshotReader::open(output());
  ASSERT_TRUE(reader.ok()) << reader.error().message();
  EXPECT_TRUE(reader->indexed());
  EXPECT_EQ(reader->rows(), expected.size());
}

TEST_F(RollupTest, RowsWithDifferentDimensionsStayApart) {
  const std::vector<std::string> input{
      R"({"time/usage_start":"2026-08-02T05:00:00Z","cost/cost":"1","resource/id":"a"})",
      R"({"time/usage_start":"2026-08-02T05:00:00Z","cost/cost":"1","resource/id":"b"})",
      R"({"time/usage_start":"2026-08-02T05:00:00Z","cost/cost":"1","resource/id":"a","resource/region":"eu"})",
      R"({"time/usage_start":"2026-08-02T05:00:00Z","lineitem/type":"Credit","cost/cost":"1","resource/id":"a"})",
      R"({"time/usage_start":"2026-08-02T05:00:00Z","lineitem/id":"x","cost/cost":"1","resource/id":"a"})",
      R"({"time/usage_start":"2026-08-02T05:00:00Z","cost/cost":"1","usage/amount":"1","resource/id":"a"})",
      R"({"time/usage_start":"2026-08-02T06:00:00Z","cost/cost":"1","resource/id":"a"})",
  };
  const snapshot::MonthSummary snapshot = write(input);
  Result<RolledUpSnapshot> rolled = rollup_snapshot(snapshot, output());
  ASSERT_TRUE(rolled.ok()) << rolled.error().message();
  EXPECT_EQ(read_lines(output()), input);
  EXPECT_EQ(rolled->report.rows_after, 7u);
  EXPECT_EQ(rolled->report.groups_merged, 0u);
  EXPECT_EQ(rolled->summary.cost, Decimal::from_string("7"));
  EXPECT_EQ(rolled->summary.cost_by_type.at("Credit"), Decimal::from_string("1"));
}

TEST_F(RollupTest, KeepsTheOutputSortedByHourAndFirstAppearanceWithinAnHour) {
  const std::vector<std::string> input{
      R"({"time/usage_start":"2026-08-03T00:00:00Z","cost/cost":"1","resource/id":"b"})",
      R"({"time/usage_start":"2026-08-03T00:00:00Z","cost/cost":"1","resource/id":"a"})",
      R"({"time/usage_start":"2026-08-03T00:00:00Z","cost/cost":"1","resource/id":"b"})",
      R"({"time/usage_start":"2026-08-03T01:00:00Z","cost/cost":"1","resource/id":"a"})",
      R"({"time/usage_start":"2026-08-03T01:00:00Z","cost/cost":"1","resource/id":"a"})",
  };
  const snapshot::MonthSummary snapshot = write(input);
  Result<RolledUpSnapshot> rolled = rollup_snapshot(snapshot, output());
  ASSERT_TRUE(rolled.ok()) << rolled.error().message();
  const std::vector<std::string> expected{
      R"({"time/usage_start":"2026-08-03T00:00:00Z","cost/cost":"2","resource/id":"b"})",
      R"({"time/usage_start":"2026-08-03T00:00:00Z","cost/cost":"1","resource/id":"a"})",
      R"({"time/usage_start":"2026-08-03T01:00:00Z","cost/cost":"2","resource/id":"a"})",
  };
  EXPECT_EQ(read_lines(output()), expected);
  EXPECT_EQ(rolled->report.groups_merged, 2u);
}

TEST_F(RollupTest, ReadsAnIndexedSnapshotInHourOrder) {
  // Rows arrive out of hour order; the builder's index puts them in order for the rollup.
  snapshot::SnapshotBuilder builder({dir_, 1 << 20});
  cbf::RowValidator validator;
  cbf::NormalizedRow row;
  std::vector<cbf::RowIssue> issues;
  const std::vector<std::pair<std::string, std::string>> rows{{"2026-08-01T01:00:00Z", "1"},
                                                              {"2026-08-01T00:00:00Z", "2"},
                                                              {"2026-08-01T01:00:00Z", "3"},
                                                              {"2026-08-01T00:00:00Z", "4"}};
  for (const auto& [time, cost] : rows) {
    const std::vector<cbf::FieldView> fields{{"time/usage_start", time}, {"cost/cost", cost}};
    ASSERT_TRUE(validator.normalize(fields, row, issues));
    builder.add(row);
  }
  Result<std::vector<snapshot::MonthSummary>> built = builder.finish();
  ASSERT_TRUE(built.ok());
  Result<RolledUpSnapshot> rolled = rollup_snapshot(built->front(), output());
  ASSERT_TRUE(rolled.ok()) << rolled.error().message();
  const std::vector<std::string> expected{
      R"({"time/usage_start":"2026-08-01T00:00:00Z","cost/cost":"6"})", // 2 + 4
      R"({"time/usage_start":"2026-08-01T01:00:00Z","cost/cost":"4"})", // 1 + 3
  };
  EXPECT_EQ(read_lines(output()), expected);
  EXPECT_EQ(rolled->report.rows_before, 4u);
  EXPECT_EQ(rolled->report.rows_after, 2u);
  EXPECT_EQ(rolled->summary.digest, testing::expected_snapshot_digest(expected));
}

TEST_F(RollupTest, ReportsBadRowsByLine) {
  snapshot::MonthSummary snapshot =
      write({R"({"time/usage_start":"2026-08-01T05:00:00Z","cost/cost":"1"})",
             R"({"time/usage_start":"2026-08-01T04:00:00Z","cost/cost":"1"})"});
  Result<RolledUpSnapshot> rolled = rollup_snapshot(snapshot, output());
  ASSERT_FALSE(rolled.ok());
  EXPECT_EQ(rolled.error().kind(), ErrorKind::data);
  EXPECT_NE(rolled.error().message().find("line 2 of " + snapshot.file.string() +
                                          " is in hour 2026-08-01T04 after rows of hour "
                                          "2026-08-01T05"),
            std::string::npos)
      << rolled.error().message();
  EXPECT_FALSE(fs::exists(output()));
  EXPECT_FALSE(fs::exists(fs::path(output()).concat(".partial")));

  snapshot = write({R"({"time/usage_start":"2026-08-01T05:00:00Z","cost/cost":"1"})",
                    R"({"time/usage_start":"2026-08-01T05:00:00Z","cost/cost":"one"})"});
  rolled = rollup_snapshot(snapshot, output());
  ASSERT_FALSE(rolled.ok());
  EXPECT_NE(rolled.error().message().find("line 2 of"), std::string::npos);
  EXPECT_NE(rolled.error().message().find("\"cost/cost\" value that is not a decimal"),
            std::string::npos)
      << rolled.error().message();

  snapshot = write({R"({"time/usage_start":"2026-08-01T05:00:00Z","cost/cost":"1",})"});
  rolled = rollup_snapshot(snapshot, output());
  ASSERT_FALSE(rolled.ok());
  EXPECT_NE(rolled.error().message().find("line 1 of"), std::string::npos)
      << rolled.error().message();

  snapshot = write({R"({"time/usage_start":"2026-08-01T05:00:00Z","usage/amount":"1"})"});
  rolled = rollup_snapshot(snapshot, output());
  ASSERT_FALSE(rolled.ok());
  EXPECT_NE(rolled.error().message().find("has no \"cost/cost\""), std::string::npos);
}

TEST_F(RollupTest, ASumTooLargeForADecimalIsAnErrorNotARoundedNumber) {
  const std::string nines(Decimal::max_digits, '9');
  const snapshot::MonthSummary snapshot =
      write({R"({"time/usage_start":"2026-08-01T05:00:00Z","cost/cost":")" + nines + "\"}",
             R"({"time/usage_start":"2026-08-01T05:00:00Z","cost/cost":")" + nines + "\"}"});
  Result<RolledUpSnapshot> rolled = rollup_snapshot(snapshot, output());
  ASSERT_FALSE(rolled.ok());
  EXPECT_NE(
      rolled.error().message().find("more than " + std::to_string(Decimal::max_digits) + " digits"),
      std::string::npos)
      << rolled.error().message();
  EXPECT_FALSE(fs::exists(output()));
}

TEST_F(RollupTest, ASnapshotShorterThanItsSummaryIsAnError) {
  snapshot::MonthSummary snapshot =
      write({R"({"time/usage_start":"2026-08-01T05:00:00Z","cost/cost":"1"})"});
  snapshot.rows = 2;
  Result<RolledUpSnapshot> rolled = rollup_snapshot(snapshot, output());
  ASSERT_FALSE(rolled.ok());
  EXPECT_NE(rolled.error().message().find("read 1 rows"), std::string::npos);
  EXPECT_FALSE(fs::exists(output()));
}

} // namespace
} // namespace billdrop::plan
