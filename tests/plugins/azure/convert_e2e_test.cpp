// The real host converts Azure exports through the built plugin.
#include "test_support.hpp"

#include <billdrop/byte_source.hpp>

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstdlib>
#include <sstream>

namespace billdrop::azure {
namespace {

using namespace azure::testing;

struct ConvertRun {
  int exit_code = -1;
  std::string summary;
};

ConvertRun convert(const std::filesystem::path& dir, const std::string& plugin_toml) {
  write_file(dir / "plugin.toml", plugin_toml);
  const std::string command =
      std::string("\"") + BILLDROP_TEST_BILLDROP_EXE +
      "\" --no-progress --log-level off --plugin-dir \"" + BILLDROP_TEST_PLUGIN_DIR +
      "\" convert --plugin azure --plugin-config \"" + (dir / "plugin.toml").string() +
      "\" --out \"" + (dir / "out").string() + "\" --format json > \"" +
      (dir / "summary.json").string() + "\"";
  ConvertRun run;
  const int status = std::system(command.c_str());
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  run.summary = read_file(dir / "summary.json");
  return run;
}

// Sums a column over a month's ndjson snapshot.
Decimal sum_column(const std::filesystem::path& ndjson, std::string_view column) {
  simdjson::dom::parser parser;
  Decimal total;
  std::istringstream lines(read_file(ndjson));
  for (std::string line; std::getline(lines, line);) {
    simdjson::dom::element row = parser.parse(line);
    std::string_view value;
    if (row[column].get_string().get(value) == simdjson::SUCCESS)
      total += Decimal::from_string(value);
  }
  return total;
}

TEST(AzureConvertE2E, ActualAndAmortizedMonthsAndTotals) {
  const auto dir = temp_dir("e2e_join");
  const ConvertRun run =
      convert(dir, "actual = \"" + fixture("ea_actual.csv").string() + "\"\namortized = \"" +
                       fixture("ea_amortized.csv").string() + "\"\n");
  ASSERT_EQ(run.exit_code, 0) << run.summary;
  simdjson::dom::parser parser;
  simdjson::dom::element summary = parser.parse(run.summary)["connections"].at(0);
  simdjson::dom::array months = summary["months"].get_array();
  ASSERT_EQ(months.size(), 2u);
  // Totals from the independent Python computation quoted in join_test.cpp.
  EXPECT_EQ(std::string_view(months.at(0)["month"].get_string()), "2023-08");
  EXPECT_EQ(int64_t(months.at(0)["rows"].get_int64()), 6);
  EXPECT_EQ(std::string_view(months.at(0)["cost"].get_string()), "101.74");
  EXPECT_EQ(std::string_view(months.at(1)["month"].get_string()), "2023-09");
  EXPECT_EQ(int64_t(months.at(1)["rows"].get_int64()), 5);
  EXPECT_EQ(std::string_view(months.at(1)["cost"].get_string()), "50.75");
  EXPECT_EQ(sum_column(dir / "out" / "2023-08.ndjson", "cost/amortized_cost"),
            Decimal::from_string("5.14"));
  EXPECT_EQ(sum_column(dir / "out" / "2023-09.ndjson", "cost/amortized_cost"),
            Decimal::from_string("5.10"));
}

// Export runs under their billing-period folders: the truncated September run can only have
// lost September rows.
TEST(AzureConvertE2E, TruncatedGzipMonthFailsAndTheOtherConverts) {
  const auto dir = temp_dir("e2e_truncated");
  write_file(dir / "export" / "20230801-20230831" / "run" / "part_1.csv",
             "SubscriptionId,Date,Cost\ns1,08/01/2023,1.25\ns1,08/02/2023,2.50\n");
  std::string csv = "SubscriptionId,Date,Cost\n";
  for (int i = 0; i < 60000; ++i)
    csv += "s1,09/01/2023,0.01\n";
  const std::string gz = gzip_compress(csv);
  write_file(dir / "export" / "20230901-20230930" / "run" / "part_1.csv.gz",
             gz.substr(0, gz.size() / 2));
  const ConvertRun run = convert(dir, "actual = \"" + (dir / "export").string() + "\"\n");
  EXPECT_EQ(run.exit_code, 1) << run.summary; // 1: data error
  simdjson::dom::parser parser;
  simdjson::dom::element summary = parser.parse(run.summary)["connections"].at(0);
  simdjson::dom::array months = summary["months"].get_array();
  ASSERT_EQ(months.size(), 2u) << run.summary;
  EXPECT_EQ(std::string_view(months.at(0)["month"].get_string()), "2023-08");
  EXPECT_EQ(std::string_view(months.at(0)["cost"].get_string()), "3.75"); // 1.25 + 2.50
  EXPECT_TRUE(months.at(0)["error"].error() == simdjson::NO_SUCH_FIELD) << run.summary;
  const std::string_view error = months.at(1)["error"].get_string();
  EXPECT_NE(error.find("part_1.csv.gz breaks off at line "), std::string::npos) << error;
  EXPECT_NE(error.find("could belong to 2023-09, so 2023-09 cannot be read completely"),
            std::string::npos)
      << error;
}

// Rows without a readable date are never dropped: with no month at all the convert fails; beside
// dated rows they are rejected in every month's read, which then counts them as invalid.
TEST(AzureConvertE2E, UndatedRowsAreReportedNotDropped) {
  const auto dir = temp_dir("e2e_undated");
  write_file(dir / "only" / "x.csv", "SubscriptionId,Date,Cost\ns1,,1.25\ns1,soon,2.50\n");
  const ConvertRun alone = convert(dir, "actual = \"" + (dir / "only").string() + "\"\n");
  EXPECT_NE(alone.exit_code, 0) << alone.summary;

  write_file(dir / "mixed" / "a.csv", "SubscriptionId,Date,Cost\ns1,08/01/2023,1.25\n");
  write_file(dir / "mixed" / "b.csv", "SubscriptionId,Date,Cost\ns1,,1.25\ns1,soon,2.50\n");
  const ConvertRun mixed = convert(dir, "actual = \"" + (dir / "mixed").string() + "\"\n");
  EXPECT_EQ(mixed.exit_code, 1) << mixed.summary; // 1: rejected rows
  simdjson::dom::parser parser;
  simdjson::dom::element summary = parser.parse(mixed.summary)["connections"].at(0);
  simdjson::dom::array months = summary["months"].get_array();
  ASSERT_EQ(months.size(), 1u) << mixed.summary;
  EXPECT_EQ(int64_t(months.at(0)["rows"].get_int64()), 1);
  EXPECT_EQ(int64_t(months.at(0)["invalid_rows"].get_int64()), 2);
}

} // namespace
} // namespace billdrop::azure
