// The focus plugin in the real host: `billdrop convert` loads the built billdrop_focus.so and
// writes month snapshots. Expected totals: Python's csv + decimal over the fixtures (see
// focus_plugin_test.cpp for the snippet), or summed by hand where the comment says so.
#include "support/convert_run.hpp"

#include <billdrop/byte_source.hpp>
#include <billdrop/decimal.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

namespace {

namespace fs = std::filesystem;
using billdrop::Decimal;
using billdrop::test::read_text;

const fs::path fixtures = BILLDROP_FOCUS_FIXTURES;

class FocusE2eTest : public billdrop::test::TempFolderTest {
protected:
  fs::path write(const std::string& name, const std::string& bytes) {
    billdrop::test::write_text(dir_ / name, bytes);
    return dir_ / name;
  }
  // Runs `billdrop convert` on `path`.
  billdrop::test::ConvertRun convert(const fs::path& path) {
    return billdrop::test::run_convert(
        "focus", "path = " + billdrop::test::toml_string(path.string()) + "\n", dir_);
  }
};

TEST_F(FocusE2eTest, ConvertsAFocusFileIntoMonthSnapshots) {
  const auto run = convert(fixtures / "v1_0_sep_oct.csv");
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  ASSERT_EQ(run.months.size(), 2u) << run.out;
  EXPECT_EQ(run.months.at("2024-09").rows, 11u); // Python: 11 rows, 117.87
  EXPECT_EQ(Decimal::from_string(run.months.at("2024-09").cost), Decimal::from_string("117.87"));
  EXPECT_EQ(run.months.at("2024-10").rows, 3u); // Python: 3 rows, 11.501
  EXPECT_EQ(Decimal::from_string(run.months.at("2024-10").cost), Decimal::from_string("11.501"));
  // Every row passed the host's CBF validation (types, region, tag keys, resource ids).
  for (const auto& [month, converted] : run.months)
    EXPECT_EQ(converted.invalid_rows, 0u) << month;
  EXPECT_TRUE(fs::exists(dir_ / "out" / "2024-09.ndjson"));
}

// Partitioned by billing period and read by billing period, each broken or malformed file costs
// only its own month.
TEST_F(FocusE2eTest, MalformedFilesCostOnlyTheirOwnMonth) {
  const std::string aug = read_text(fixtures / "malformed_aug.csv");
  write("in/billing_period=2024-08/part-0.csv", aug);
  // September: August's file under another name and month, gzip-compressed and cut short.
  std::string september = aug;
  for (std::size_t at = september.find("2024-08-0"); at != std::string::npos;
       at = september.find("2024-08-0", at))
    september.replace(at, 7, "2024-09");
  for (int i = 0; i < 6; ++i) // enough rows that the cut lands after the header
    september += september.substr(september.find('\n') + 1);
  std::string gzip = billdrop::gzip_compress(september);
  gzip.resize(gzip.size() - 12); // loses the last block's end and the trailer
  write("in/billing_period=2024-09/part-0.csv.gz", gzip);
  write("in/billing_period=2024-10/part-0.csv", read_text(fixtures / "malformed_oct.csv"));

  const auto run =
      billdrop::test::run_convert("focus",
                                  "path = " + billdrop::test::toml_string((dir_ / "in").string()) +
                                      "\nmonth_by = \"billing_period\"\n",
                                  dir_);
  EXPECT_EQ(run.exit_code, 1) << run.out << run.err; // 1: data error
  ASSERT_EQ(run.months.size(), 3u) << run.out;
  const auto& august = run.months.at("2024-08"); // Python: 2 rows, 2.75
  EXPECT_EQ(august.rows, 2u);
  EXPECT_EQ(Decimal::from_string(august.cost), Decimal::from_string("2.75"));
  EXPECT_TRUE(august.error.empty());
  const auto& sep = run.months.at("2024-09");
  EXPECT_EQ(sep.rows, 0u);
  EXPECT_NE(sep.error.find("billing_period=2024-09/part-0.csv.gz breaks off at line "),
            std::string::npos)
      << sep.error;
  EXPECT_NE(sep.error.find("could belong to 2024-09, so 2024-09 cannot be read completely"),
            std::string::npos)
      << sep.error;
  const auto& oct = run.months.at("2024-10"); // by hand: 7.00 + 0.70; lines 3 and 4 are rejected
  EXPECT_EQ(oct.rows, 2u);
  EXPECT_EQ(Decimal::from_string(oct.cost), Decimal::from_string("7.70"));
  EXPECT_NE(run.err.find("billing_period=2024-10/part-0.csv:3"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("BilledCost \"abc\" is not a decimal number"), std::string::npos)
      << run.err;
  EXPECT_NE(run.err.find("billing_period=2024-10/part-0.csv:4"), std::string::npos) << run.err;
}

} // namespace
