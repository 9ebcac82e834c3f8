// tests plugins/aws/src/cur_report.cpp and zip_source.cpp: what `check` and `read` say about
// report trees the test writes itself (every month's data file has the same name, as in real CURs).
#include "cur_fixture_writer.hpp"

#include <billdrop/sdk.hpp>
#include <billdrop/testing/harness.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

extern "C" const bd_plugin_descriptor* billdrop_plugin_entry(void);

namespace {

using billdrop::ConfigValues;
using billdrop::Decimal;
using billdrop::Month;
using billdrop::testing::PluginHarness;
using namespace billdrop::aws::test;

const std::vector<std::string> header = {"lineItem/UsageStartDate", "lineItem/LineItemType",
                                         "lineItem/UnblendedCost"};

CsvRow usage(const std::string& start, const std::string& cost) {
  return {{"lineItem/UsageStartDate", start},
          {"lineItem/LineItemType", "Usage"},
          {"lineItem/UnblendedCost", cost}};
}

class CurReportTest : public CurFixtureTest {
protected:
  std::string check_message(const fs::path& path) {
    PluginHarness harness(billdrop_plugin_entry(), ConfigValues{{"path", path.string()}});
    EXPECT_TRUE(harness.create().ok());
    const auto status = harness.check();
    return status.ok() ? std::string("ok") : status.error().message();
  }
};

TEST_F(CurReportTest, CheckNamesTheMonthAndThePathOfEveryBadFile) {
  // Three months, each with its data in cur-1.csv.gz or cur-1.csv.zip, as AWS names them.
  const fs::path good =
      legacy_month_folder(dir_, "cur", "20240101-20240201", "a", {"cur-1.csv.gz"});
  write_gzip(good / "cur-1.csv.gz", csv_text(header, {usage("2024-01-01T00:00:00Z", "1")}));
  const fs::path bad_header =
      legacy_month_folder(dir_, "cur", "20240201-20240301", "b", {"cur-1.csv.gz"});
  write_gzip(bad_header / "cur-1.csv.gz", "identity/LineItemId,lineItem/Cost\n1,2\n");
  const fs::path no_csv =
      legacy_month_folder(dir_, "cur", "20240301-20240401", "c", {"cur-1.csv.zip"}, "ZIP");
  write_zip(no_csv / "cur-1.csv.zip", {{"readme.txt", "not the data"}});
  const fs::path corrupt =
      legacy_month_folder(dir_, "cur", "20240401-20240501", "d", {"cur-1.csv.zip"}, "ZIP");
  write_bytes(corrupt / "cur-1.csv.zip", std::string("PK\x03\x04garbage", 11));
  // An empty reportKeys would read as an empty month, which would replace the month's data.
  legacy_month_folder(dir_, "cur", "20240501-20240601", "e", {});

  const std::string root = (dir_ / "cur").string();
  const std::string expected =
      "2024-02: unexpected header in " + root +
      "/20240201-20240301/b/cur-1.csv.gz: no column lineItem/UsageStartDate "
      "(line_item_usage_start_date), lineItem/LineItemType (line_item_line_item_type) or "
      "lineItem/UnblendedCost (line_item_unblended_cost); the header has \"identity/LineItemId\", "
      "\"lineItem/Cost\"\n"
      "2024-03: " +
      root +
      "/20240301-20240401/c/cur-1.csv.zip: the zip holds no CSV entry (1 entry: "
      "\"readme.txt\")\n"
      "2024-04: " +
      root +
      "/20240401-20240501/d/cur-1.csv.zip: cannot open the zip archive: Not a zip archive\n"
      "2024-05: manifest " +
      root +
      "/20240501-20240601/cur-Manifest.json lists no data files (its \"reportKeys\" is empty), "
      "so 2024-05 cannot be read";
  EXPECT_EQ(check_message(dir_), expected);

  // read() of the broken months fails with the same words; the good month reads.
  PluginHarness harness(billdrop_plugin_entry(), ConfigValues{{"path", dir_.string()}});
  ASSERT_TRUE(harness.create().ok());
  auto january = harness.read(Month(2024, 1));
  ASSERT_TRUE(january.ok()) << january.error().message();
  EXPECT_EQ(january->size(), 1u);
  auto march = harness.read(Month(2024, 3));
  ASSERT_FALSE(march.ok());
  EXPECT_EQ(march.error().message(), root + "/20240301-20240401/c/cur-1.csv.zip: the zip holds no "
                                            "CSV entry (1 entry: \"readme.txt\")");
  auto may = harness.read(Month(2024, 5));
  ASSERT_FALSE(may.ok());
  EXPECT_NE(may.error().message().find("lists no data files"), std::string::npos);
}

// A zip whose one entry is not named .csv used to be read as the CSV; a zip with a CSV entry
// among others reads that entry.
TEST_F(CurReportTest, ZipEntriesOtherThanCsvAreNotRead) {
  const fs::path single = dir_ / "single.csv.zip";
  write_zip(single, {{"data.txt", csv_text(header, {usage("2024-01-01T00:00:00Z", "1")})}});
  EXPECT_EQ(check_message(single),
            single.string() + ": the zip holds no CSV entry (1 entry: \"data.txt\")");
  const fs::path mixed = dir_ / "mixed.csv.zip";
  write_zip(mixed, {{"README", "x"}, {"part-0.CSV", csv_text(header, {usage("2024-01-01", "7")})}});
  EXPECT_EQ(check_message(mixed), "ok");
  PluginHarness harness(billdrop_plugin_entry(), ConfigValues{{"path", mixed.string()}});
  ASSERT_TRUE(harness.create().ok());
  auto rows = harness.read(Month(2024, 1));
  ASSERT_TRUE(rows.ok()) << rows.error().message();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ(rows->at(0).get("cost/cost"), "7");
  EXPECT_EQ(rows->at(0).origin, "mixed.csv.zip:2");
}

// CUR 2.0 folders may hold .csv.zip files (a Data Export configured with ZIP), next to gzip ones.
TEST_F(CurReportTest, Cur2FolderReadsCsvZipBesideCsvGz) {
  const fs::path month = dir_ / "exp" / "data" / "BILLING_PERIOD=2024-03";
  const std::vector<std::string> snake = {"line_item_usage_start_date", "line_item_line_item_type",
                                          "line_item_unblended_cost",
                                          "line_item_net_unblended_cost"};
  const auto line = [](const std::string& start, const std::string& cost, const std::string& net) {
    return CsvRow{{"line_item_usage_start_date", start},
                  {"line_item_line_item_type", "Usage"},
                  {"line_item_unblended_cost", cost},
                  {"line_item_net_unblended_cost", net}};
  };
  write_gzip(month / "exp-00001.csv.gz",
             csv_text(snake, {line("2024-03-01T00:00:00.000Z", "1.00", "0.90")}));
  write_zip(month / "exp-00002.csv.zip",
            {{"exp-00002.csv", csv_text(snake, {line("2024-03-02T00:00:00.000Z", "2.50", ""),
                                                line("2024-03-03T00:00:00.000Z", "4", "3.25")})}});
  EXPECT_EQ(check_message(dir_), "ok");
  PluginHarness harness(billdrop_plugin_entry(), ConfigValues{{"path", dir_.string()}});
  ASSERT_TRUE(harness.create().ok());
  EXPECT_EQ(*harness.months(), std::vector<Month>{Month(2024, 3)});
  auto rows = harness.read(Month(2024, 3));
  ASSERT_TRUE(rows.ok()) << rows.error().message();
  ASSERT_EQ(rows->size(), 3u);
  EXPECT_EQ(rows->at(1).origin, "exp-00002.csv.zip:2");
  // By hand: 0.90 (net) + 2.50 (net blank) + 3.25 (net) = 6.65.
  Decimal total;
  for (const auto& row : *rows)
    total += Decimal::from_string(row.get("cost/cost"));
  EXPECT_EQ(total, Decimal::from_string("6.65"));
}

} // namespace
