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

// Extracts carry nothing that bounds their months, so a file that breaks off could be missing
// rows of any month: no month is converted, each failure names the file and the line.
TEST_F(GcpE2eTest, ATruncatedFileFailsEveryMonth) {
  fs::create_directories(dir_ / "in");
  fs::copy_file(fixtures / "billing_2024.csv", dir_ / "in" / "a.csv");
  std::string september;
  for (int i = 0; i < 100; ++i)
    september += R"({"usage_start_time":"2024-09-01 00:00:00 UTC","cost":1.5})"
                 "\n";
  // A second gzip member cut after its header: the 100 records come out, then the break.
  billdrop::test::write_text(dir_ / "in" / "b_2024-09.ndjson.gz",
                             billdrop::gzip_compress(september) +
                                 billdrop::gzip_compress(september).substr(0, 10));

  const auto run = run_convert("gcp", "path = " + toml_string((dir_ / "in").string()), dir_);
  EXPECT_EQ(run.exit_code, 1) << run.out << run.err; // 1: data error
  ASSERT_EQ(run.months.size(), 3u) << run.out;
  for (const auto& [month, converted] : run.months) {
    EXPECT_EQ(converted.rows, 0u) << month;
    EXPECT_NE(converted.error.find("b_2024-09.ndjson.gz breaks off at line 101 (truncated gzip "
                                   "stream"),
              std::string::npos)
        << converted.error;
    EXPECT_NE(converted.error.find("could belong to " + month + ", so " + month +
                                   " cannot be read completely"),
              std::string::npos)
        << converted.error;
  }
  EXPECT_FALSE(fs::exists(dir_ / "out" / "2024-07.ndjson"));
}

TEST_F(GcpE2eTest, ASourceOfOnlyUnroutableRecordsIsReportedNotConvertedToNothing) {
  billdrop::test::write_text(dir_ / "in" / "a.csv", "usage_start_time,cost\n"
                                                    "not a time,1.00\n"
                                                    ",2.00\n");
  // The folder (months listed first) and the file alone (read in one pass) say the same.
  for (const fs::path& path : {dir_ / "in", dir_ / "in" / "a.csv"}) {
    const auto run = run_convert("gcp", "path = " + toml_string(path.string()), dir_);
    EXPECT_NE(run.exit_code, 0) << run.out << run.err;
    EXPECT_NE(run.err.find("no month can be read (2 records); the first: a.csv:2: "
                           "usage_start_time \"not a time\" is not a timestamp"),
              std::string::npos)
        << path << ": " << run.err;
  }
}

} // namespace
