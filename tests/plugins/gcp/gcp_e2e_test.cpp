// The gcp plugin in the real host: `billdrop convert` loads the built billdrop_gcp.so and writes
// month snapshots. Expected totals as in gcp_plugin_test.cpp (Python json + decimal).
#include "support/convert_run.hpp"

#include <billdrop/byte_source.hpp>
#include <billdrop/decimal.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

namespace {

namespace fs = std::filesystem;
using billdrop::Decimal;
using billdrop::test::run_convert;
using billdrop::test::toml_string;

const fs::path fixtures = fs::path(BILLDROP_TEST_SOURCE_DIR) / "tests/plugins/gcp/fixtures";

class GcpE2eTest : public billdrop::test::TempFolderTest {};

TEST_F(GcpE2eTest, ConvertsAnNdjsonExtractIntoMonthSnapshots) {
  const auto run = run_convert(
      "gcp", "path = " + toml_string((fixtures / "billing_2024.ndjson").string()), dir_);
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  ASSERT_EQ(run.months.size(), 2u) << run.out;
  EXPECT_EQ(run.months.at("2024-07").rows, 6u); // Python: 6 rows, 10.750000
  EXPECT_EQ(Decimal::from_string(run.months.at("2024-07").cost), Decimal::from_string("10.75"));
  EXPECT_EQ(run.months.at("2024-08").rows, 7u); // Python: 7 rows, 61.36
  EXPECT_EQ(Decimal::from_string(run.months.at("2024-08").cost), Decimal::from_string("61.36"));
  // Every row passed the host's CBF validation (types, region, tag keys, resource ids).
  for (const auto& [month, converted] : run.months)
    EXPECT_EQ(converted.invalid_rows, 0u) << month;
}

TEST_F(GcpE2eTest, ATruncatedFileCostsOnlyItsMonth) {
  fs::create_directories(dir_ / "in");
  fs::copy_file(fixtures / "billing_2024.csv", dir_ / "in" / "a.csv");
  std::string september = R"({"usage_start_time":"2024-09-01 00:00:00 UTC","cost":1.5})"
                          "\n";
  for (int i = 0; i < 14; ++i)
    september += september;
  std::string gzip = billdrop::gzip_compress(september);
  gzip.resize(gzip.size() / 2);
  billdrop::test::write_text(dir_ / "in" / "b_2024-09.ndjson.gz", gzip);

  const auto run = run_convert("gcp", "path = " + toml_string((dir_ / "in").string()), dir_);
  EXPECT_NE(run.exit_code, 0) << run.out << run.err;
  ASSERT_EQ(run.months.size(), 3u) << run.out;
  EXPECT_EQ(Decimal::from_string(run.months.at("2024-07").cost),
            Decimal::from_string("10.75")); // as above
  EXPECT_EQ(Decimal::from_string(run.months.at("2024-08").cost), Decimal::from_string("61.36"));
  EXPECT_EQ(run.months.at("2024-09").rows, 0u);
  EXPECT_NE(run.months.at("2024-09").error.find("b_2024-09.ndjson.gz:"), std::string::npos)
      << run.out;
}

} // namespace
