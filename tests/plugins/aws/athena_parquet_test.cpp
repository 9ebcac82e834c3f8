// tests plugins/aws/src/cur_report.cpp on the Athena layout of legacy CUR Parquet:
// <prefix>/<report>/year=YYYY/month=M/<report>-0000N.snappy.parquet, no manifest, and the status
// table cost_and_usage_data_status/cost_and_usage_data_status.parquet (READY or UPDATING).
// The same lines are written as a legacy CSV report (manifests, category/Name headers) and as an
// Athena tree (snake_case columns, DOUBLE costs, TIMESTAMP dates): both read to the same rows, and
// each month's total equals the one summed by hand below.
#include "cur_fixture_writer.hpp"

#include <billdrop/sdk.hpp>
#include <billdrop/testing/harness.hpp>
#include <support/parquet_writer.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

extern "C" const bd_plugin_descriptor* billdrop_plugin_entry(void);

namespace {

using billdrop::ConfigValues;
using billdrop::Decimal;
using billdrop::Month;
using billdrop::testing::CapturedRow;
using billdrop::testing::ParquetWriter;
using billdrop::testing::PluginHarness;
using billdrop::testing::PqCell;
using billdrop::testing::PqColumn;
using billdrop::testing::PqKind;
using namespace billdrop::aws::test;

constexpr const char* report = "daily-cur";

struct Line {
  std::string period; // the billing period's first instant
  std::string start, type, product, account, resource;
  std::string cost, usage; // as AWS prints a DOUBLE in the CSV form
  std::string region, team, env;
};

// Part files of one month, each a list of lines.
struct MonthData {
  Month month;
  std::string athena_folder; // "year=2024/month=8"
  std::string legacy_folder; // "20240801-20240901"
  std::vector<std::vector<Line>> parts;
};

const std::vector<MonthData>& months() {
  static const std::vector<MonthData> data = {
      {Month(2024, 8),
       "year=2024/month=8",
       "20240801-20240901",
       {{{"2024-08-01T00:00:00Z", "2024-08-01T00:00:00Z", "Usage", "AmazonEC2", "111122223333",
          "i-0a1", "0.30000000000000004", "1", "us-east-1", "web", ""},
         {"2024-08-01T00:00:00Z", "2024-08-15T13:00:00Z", "Usage", "AmazonS3", "111122223333", "",
          "12.5", "1024", "us-west-2", "data", "prod"},
         // A late line: dated July, delivered in August's folder.
         {"2024-08-01T00:00:00Z", "2024-07-31T23:00:00Z", "Usage", "AmazonEC2", "444455556666",
          "i-0b2", "1.25", "0.5", "eu-west-1", "", ""}},
        {{"2024-08-01T00:00:00Z", "2024-08-31T23:00:00Z", "Tax", "AWS", "111122223333", "", "3.75",
          "", "", "", ""},
         {"2024-08-01T00:00:00Z", "2024-08-20T05:00:00Z", "Credit", "AmazonEC2", "111122223333", "",
          "-2.1", "", "", "", ""},
         {"2024-08-01T00:00:00Z", "2024-08-02T00:00:00Z", "Usage", "AWSLambda", "444455556666", "",
          "1e-07", "3", "us-east-1", "ml", "dev"}}}},
      {Month(2024, 12),
       "year=2024/month=12",
       "20241201-20250101",
       {{{"2024-12-01T00:00:00Z", "2024-12-10T00:00:00Z", "Usage", "AmazonRDS", "111122223333",
          "db-1", "100", "24", "us-east-1", "data", "prod"},
         {"2024-12-01T00:00:00Z", "2024-12-24T10:00:00Z", "Usage", "AmazonRDS", "111122223333",
          "db-1", "0.015", "1", "us-east-1", "data", "prod"}}}},
      // A zero-padded month folder, which AWS does not write but a copy might.
      {Month(2025, 1),
       "year=2025/month=01",
       "20250101-20250201",
       {{{"2025-01-01T00:00:00Z", "2025-01-01T00:00:00Z", "Usage", "AmazonEC2", "111122223333",
          "i-0c3", "7.77", "2", "ap-south-1", "web", ""}}}},
  };
  return data;
}

// The month totals, summed by hand from the costs above:
//   2024-08: 0.30000000000000004 + 12.5 + 1.25 + 3.75 - 2.1 + 0.0000001 = 15.70000010000000004
//   2024-12: 100 + 0.015 = 100.015;  2025-01: 7.77
std::string expected_total(Month month) {
  if (month == Month(2024, 8))
    return "15.70000010000000004";
  if (month == Month(2024, 12))
    return "100.015";
  return "7.77";
}

const std::vector<std::string> legacy_header = {
    "bill/BillingPeriodStartDate", "lineItem/UsageStartDate", "lineItem/LineItemType",
    "lineItem/ProductCode",        "lineItem/UsageAccountId", "lineItem/ResourceId",
    "lineItem/UnblendedCost",      "lineItem/UsageAmount",    "product/region",
    "resourceTags/user:team",      "resourceTags/user:env"};

const std::vector<PqColumn> athena_columns = {
    {"bill_billing_period_start_date", PqKind::timestamp_us},
    {"line_item_usage_start_date", PqKind::timestamp_us},
    {"line_item_line_item_type", PqKind::string},
    {"line_item_product_code", PqKind::string},
    {"line_item_usage_account_id", PqKind::string},
    {"line_item_resource_id", PqKind::string},
    {"line_item_unblended_cost", PqKind::float64},
    {"line_item_usage_amount", PqKind::float64},
    {"product_region", PqKind::string},
    {"resource_tags_user_team", PqKind::string},
    {"resource_tags_user_env", PqKind::string},
};

// Athena's files hold nulls where the CSV form has empty cells.
PqCell cell(const std::string& text) {
  return text.empty() ? PqCell::null() : PqCell(text);
}

std::string status_table(const std::string& status) {
  ParquetWriter writer({{"status", PqKind::string}}, {});
  writer.add_row({status});
  return writer.finish();
}

Decimal total(const std::vector<CapturedRow>& rows) {
  Decimal sum;
  for (const CapturedRow& row : rows)
    sum += Decimal::from_string(row.get("cost/cost"));
  return sum;
}

class AthenaParquetTest : public CurFixtureTest {
protected:
  fs::path csv_root() const { return dir_ / "csv"; }
  fs::path athena_root() const { return dir_ / "athena"; }
  fs::path report_folder() const { return athena_root() / report; }
  fs::path status_file() const {
    return report_folder() / "cost_and_usage_data_status" / "cost_and_usage_data_status.parquet";
  }

  void write_csv_report() {
    for (const MonthData& m : months()) {
      std::vector<std::string> names;
      for (std::size_t p = 0; p < m.parts.size(); ++p)
        names.push_back(std::string(report) + "-" + std::to_string(p + 1) + ".csv.gz");
      const fs::path folder =
          legacy_month_folder(csv_root(), report, m.legacy_folder, "assembly-1", names);
      for (std::size_t p = 0; p < m.parts.size(); ++p) {
        std::vector<CsvRow> rows;
        for (const Line& l : m.parts[p])
          rows.push_back({{"bill/BillingPeriodStartDate", l.period},
                          {"lineItem/UsageStartDate", l.start},
                          {"lineItem/LineItemType", l.type},
                          {"lineItem/ProductCode", l.product},
                          {"lineItem/UsageAccountId", l.account},
                          {"lineItem/ResourceId", l.resource},
                          {"lineItem/UnblendedCost", l.cost},
                          {"lineItem/UsageAmount", l.usage},
                          {"product/region", l.region},
                          {"resourceTags/user:team", l.team},
                          {"resourceTags/user:env", l.env}});
        write_gzip(folder / names[p], csv_text(legacy_header, rows));
      }
    }
  }

  // `folder_of` may rename a month's folder (a duplicate, a padded number).
  void write_athena_report(const std::string& status = "READY") {
    for (const MonthData& m : months())
      for (std::size_t p = 0; p < m.parts.size(); ++p) {
        ParquetWriter writer(athena_columns, {});
        for (const Line& l : m.parts[p])
          writer.add_row({l.period, l.start, l.type, l.product, l.account, cell(l.resource), l.cost,
                          cell(l.usage), cell(l.region), cell(l.team), cell(l.env)});
        char name[64];
        std::snprintf(name, sizeof name, "%s-%05zu.snappy.parquet", report, p + 1);
        write_bytes(report_folder() / m.athena_folder / name, writer.finish());
      }
    // What else AWS writes beside the data for the Athena integration is not read.
    write_bytes(report_folder() / "crawler-cfn.yml", "AWSTemplateFormatVersion: 2010-09-09\n");
    if (!status.empty())
      write_bytes(status_file(), status_table(status));
  }

  PluginHarness harness(const fs::path& path, const std::string& month_by = "usage",
                        const std::string& format = "auto") {
    return PluginHarness(
        billdrop_plugin_entry(),
        ConfigValues{{"path", path.string()}, {"month_by", month_by}, {"format", format}});
  }
};

TEST_F(AthenaParquetTest, ReadsExactlyAsTheSameReportDeliveredAsCsv) {
  write_csv_report();
  write_athena_report();
  const std::vector<Month> all = {Month(2024, 8), Month(2024, 12), Month(2025, 1)};
  for (const std::string month_by : {"usage", "billing_period"})
    for (const std::string format : {"auto", "legacy", "athena"}) {
      SCOPED_TRACE("month_by " + month_by + ", format " + format);
      PluginHarness csv = harness(csv_root(), month_by);
      PluginHarness athena = harness(athena_root(), month_by, format);
      ASSERT_TRUE(csv.create().ok());
      ASSERT_TRUE(athena.create().ok());
      const auto check = athena.check();
      EXPECT_TRUE(check.ok()) << check.error().message();
      const auto listed = athena.months();
      ASSERT_TRUE(listed.ok()) << listed.error().message();
      EXPECT_EQ(*listed, all);
      for (const Month month : all) {
        SCOPED_TRACE(month.to_string());
        const auto from_csv = csv.read(month);
        ASSERT_TRUE(from_csv.ok()) << from_csv.error().message();
        const auto from_athena = athena.read(month);
        ASSERT_TRUE(from_athena.ok()) << from_athena.error().message();
        EXPECT_TRUE(athena.rejects().empty());
        std::size_t lines = 0;
        for (const MonthData& m : months())
          if (m.month == month)
            for (const auto& part : m.parts)
              lines += part.size();
        ASSERT_EQ(from_athena->size(), lines);
        ASSERT_EQ(from_csv->size(), lines);
        for (std::size_t i = 0; i < lines; ++i)
          EXPECT_EQ((*from_athena)[i].fields, (*from_csv)[i].fields) << "row " << i;
        EXPECT_EQ(total(*from_athena).to_string(), expected_total(month));
        EXPECT_EQ(total(*from_csv).to_string(), expected_total(month));
        // The late line of August's folder, as the CSV form handles it.
        if (month == Month(2024, 8)) {
          const CapturedRow& late = (*from_athena)[2];
          EXPECT_EQ(late.get("resource/id"), "i-0b2");
          EXPECT_EQ(late.get("time/usage_start"),
                    month_by == "usage" ? "2024-07-31T23:00:00Z" : "2024-08-01T00:00:00Z");
          EXPECT_EQ(athena.notes().size(), csv.notes().size());
        }
      }
      // The first row's origin names its Parquet file and the line its CSV twin would have.
      const auto first = athena.read(Month(2024, 8));
      ASSERT_TRUE(first.ok());
      EXPECT_EQ(first->front().origin, "daily-cur-00001.snappy.parquet:2");
      EXPECT_EQ(first->front().get("resource/tag:team"), "web");
    }
  // CUR 2.0 folders are not the Athena layout.
  PluginHarness cur2 = harness(athena_root(), "usage", "cur2");
  ASSERT_TRUE(cur2.create().ok());
  const auto refused = cur2.check();
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message().find("no CUR report under " + athena_root().string()),
            std::string::npos)
      << refused.error().message();
}

TEST_F(AthenaParquetTest, WithoutAStatusTableTheMonthsAreRead) {
  write_athena_report("");
  ASSERT_FALSE(fs::exists(status_file()));
  PluginHarness athena = harness(report_folder()); // the report folder itself works too
  ASSERT_TRUE(athena.create().ok());
  EXPECT_TRUE(athena.check().ok());
  const auto rows = athena.read(Month(2024, 12));
  ASSERT_TRUE(rows.ok()) << rows.error().message();
  EXPECT_EQ(total(*rows).to_string(), "100.015");
}

TEST_F(AthenaParquetTest, WhileTheStatusSaysUpdatingNothingIsRead) {
  write_athena_report("UPDATING");
  PluginHarness athena = harness(athena_root());
  ASSERT_TRUE(athena.create().ok());
  const auto check = athena.check();
  ASSERT_FALSE(check.ok());
  const std::string expected = status_file().string() + " says \"UPDATING\", not \"READY\"";
  EXPECT_NE(check.error().message().find(expected), std::string::npos) << check.error().message();
  EXPECT_NE(check.error().message().find("AWS is rewriting the report"), std::string::npos);
  // The months are still known (from the folders), but none is read.
  const auto listed = athena.months();
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 3U);
  for (const Month month : *listed) {
    const auto rows = athena.read(month);
    ASSERT_FALSE(rows.ok()) << month.to_string();
    EXPECT_NE(rows.error().message().find(expected), std::string::npos) << rows.error().message();
    EXPECT_TRUE(athena.rows().empty());
  }
  // READY again: read as usual.
  write_bytes(status_file(), status_table("READY"));
  const auto rows = athena.read(Month(2024, 8));
  ASSERT_TRUE(rows.ok()) << rows.error().message();
  EXPECT_EQ(total(*rows).to_string(), expected_total(Month(2024, 8)));
}

TEST_F(AthenaParquetTest, TheStatusTableBesideADoubledReportFolderCounts) {
  // <prefix>/<report>/<report>/year=..., the status table in <prefix>/<report>/.
  write_athena_report("");
  const fs::path outer = athena_root() / "outer" / report;
  fs::create_directories(outer);
  fs::rename(report_folder(), outer / report);
  write_bytes(outer / "cost_and_usage_data_status" / "cost_and_usage_data_status.parquet",
              status_table("UPDATING"));
  PluginHarness athena = harness(athena_root() / "outer");
  ASSERT_TRUE(athena.create().ok());
  const auto rows = athena.read(Month(2024, 8));
  ASSERT_FALSE(rows.ok());
  EXPECT_NE(
      rows.error().message().find(
          (outer / "cost_and_usage_data_status" / "cost_and_usage_data_status.parquet").string() +
          " says \"UPDATING\""),
      std::string::npos)
      << rows.error().message();
}

TEST_F(AthenaParquetTest, TwoFoldersNamingOneMonthFailThatMonth) {
  write_athena_report();
  const fs::path padded = report_folder() / "year=2024" / "month=08";
  fs::create_directories(padded);
  fs::copy_file(report_folder() / "year=2024" / "month=8" / "daily-cur-00001.snappy.parquet",
                padded / "daily-cur-00001.snappy.parquet");
  PluginHarness athena = harness(athena_root());
  ASSERT_TRUE(athena.create().ok());
  const auto check = athena.check();
  ASSERT_FALSE(check.ok());
  const std::string both = "2024-08: several folders name 2024-08: " +
                           (report_folder() / "year=2024" / "month=08").string() + ", " +
                           (report_folder() / "year=2024" / "month=8").string();
  EXPECT_NE(check.error().message().find(both), std::string::npos) << check.error().message();
  const auto listed = athena.months();
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(*listed, (std::vector<Month>{Month(2024, 8), Month(2024, 12), Month(2025, 1)}));
  const auto august = athena.read(Month(2024, 8));
  ASSERT_FALSE(august.ok());
  EXPECT_NE(august.error().message().find("month=08"), std::string::npos);
  EXPECT_NE(august.error().message().find("month=8"), std::string::npos);
  EXPECT_TRUE(athena.rows().empty());
  // The other months are not affected.
  const auto december = athena.read(Month(2024, 12));
  ASSERT_TRUE(december.ok()) << december.error().message();
  EXPECT_EQ(total(*december).to_string(), "100.015");
}

TEST_F(AthenaParquetTest, AnEmptyMonthFolderFailsThatMonth) {
  write_athena_report();
  const fs::path december = report_folder() / "year=2024" / "month=12";
  fs::remove_all(december);
  fs::create_directories(december);
  PluginHarness athena = harness(athena_root());
  ASSERT_TRUE(athena.create().ok());
  const auto check = athena.check();
  ASSERT_FALSE(check.ok());
  const std::string expected = "2024-12: " + december.string() + " holds no .parquet file";
  EXPECT_NE(check.error().message().find(expected), std::string::npos) << check.error().message();
  const auto rows = athena.read(Month(2024, 12));
  ASSERT_FALSE(rows.ok());
  EXPECT_NE(rows.error().message().find(december.string() + " holds no .parquet file"),
            std::string::npos)
      << rows.error().message();
  const auto january = athena.read(Month(2025, 1));
  ASSERT_TRUE(january.ok()) << january.error().message();
  EXPECT_EQ(total(*january).to_string(), "7.77");
}

} // namespace
