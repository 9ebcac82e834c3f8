// tests plugins/aws/src/cur_row_mapper.cpp: tags and synthetic ids, regions, month_by, map cells
// and amounts, each on CUR files the test writes itself. Expected values are worked out by hand
// (synthetic ids by a separate FNV-1a implementation, noted where used).
#include "cur_fixture_writer.hpp"
#include "cur_row_mapper.hpp"

#include <billdrop/sdk.hpp>
#include <billdrop/testing/harness.hpp>

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

extern "C" const bd_plugin_descriptor* billdrop_plugin_entry(void);

namespace {

using billdrop::ConfigValues;
using billdrop::Month;
using billdrop::aws::region_of_availability_zone;
using billdrop::testing::CapturedRow;
using billdrop::testing::PluginHarness;
using namespace billdrop::aws::test;

class CurRowMapperTest : public CurFixtureTest {
protected:
  // Reads `month` of `path` through the plugin's descriptor; `extra` adds config keys.
  std::vector<CapturedRow> read(const fs::path& path, Month month, ConfigValues extra = {}) {
    ConfigValues config{{"path", path.string()}};
    for (auto& [key, value] : extra)
      config.insert_or_assign(key, value);
    harness_ = std::make_unique<PluginHarness>(billdrop_plugin_entry(), config);
    const auto created = harness_->create();
    EXPECT_TRUE(created.ok()) << created.error().message();
    auto rows = harness_->read(month);
    EXPECT_TRUE(rows.ok()) << rows.error().message();
    return rows.ok() ? *rows : std::vector<CapturedRow>{};
  }
  std::unique_ptr<PluginHarness> harness_;
};

const std::vector<std::string> tagged_header = {
    "lineItem/UsageStartDate", "lineItem/LineItemType", "lineItem/UnblendedCost",
    "lineItem/UsageAccountId", "lineItem/ProductCode",  "lineItem/UsageType",
    "lineItem/Operation",      "lineItem/ResourceId",   "product/regionCode",
    "resourceTags/user:Name",  "resourceTags/user:Team"};

CsvRow s3_line(const std::string& hour, const std::string& cost, const std::string& name,
               const std::string& team) {
  return {{"lineItem/UsageStartDate", "2024-05-01T" + hour + ":00:00Z"},
          {"lineItem/LineItemType", "Usage"},
          {"lineItem/UnblendedCost", cost},
          {"lineItem/UsageAccountId", "111122223333"},
          {"lineItem/ProductCode", "AmazonS3"},
          {"lineItem/UsageType", "TimedStorage-ByteHrs"},
          {"lineItem/Operation", "StandardStorage"},
          {"product/regionCode", "us-east-1"},
          {"resourceTags/user:Name", name},
          {"resourceTags/user:Team", team}};
}

// The audit's finding: lines alike but for a tag value shared one synthetic id, so one resource
// had two values for "Name". The id now hashes the tags too.
TEST_F(CurRowMapperTest, TwoTagValuesOnLinesWithoutAResourceIdGiveTwoIds) {
  const fs::path file = dir_ / "tagged.csv";
  write_bytes(file,
              csv_text(tagged_header,
                       {s3_line("00", "0.10", "alpha", "web"), s3_line("01", "0.20", "beta", "web"),
                        s3_line("02", "0.30", "alpha", "web"), s3_line("03", "0.40", "", "web")}));
  const auto rows = read(file, Month(2024, 5));
  ASSERT_EQ(rows.size(), 4u);
  // FNV-1a 64 of "111122223333" 1f "AmazonS3" 1f "TimedStorage-ByteHrs" 1f "StandardStorage" 1f
  // "us-east-1", then 1e key 1f value per tag in key order, worked out in Python.
  EXPECT_EQ(rows[0].get("resource/id"), "AmazonS3/synthetic-02a5680ec72e1a57"); // alpha, web
  EXPECT_EQ(rows[1].get("resource/id"), "AmazonS3/synthetic-dfb64593d6083b13"); // beta, web
  EXPECT_EQ(rows[2].get("resource/id"), rows[0].get("resource/id"));            // alpha again
  EXPECT_EQ(rows[3].get("resource/id"), "AmazonS3/synthetic-327b18c6042d53a3"); // web only
  // One value per key per resource, over the whole month.
  std::map<std::string, std::map<std::string, std::set<std::string>>> values;
  for (const CapturedRow& row : rows)
    for (const auto& [key, value] : row.fields)
      if (key.rfind("resource/tag:", 0) == 0)
        values[row.get("resource/id")][key].insert(value);
  for (const auto& [id, keys] : values)
    for (const auto& [key, distinct] : keys)
      EXPECT_EQ(distinct.size(), 1u) << id << " " << key;
  EXPECT_EQ(harness_->note("synthetic resource/id for tagged lines without a resource id"), 4u);
}

TEST_F(CurRowMapperTest, MapTagsInAnyOrderGiveTheSameSyntheticId) {
  const fs::path file = dir_ / "export" / "data" / "BILLING_PERIOD=2024-05" / "part-0.csv";
  const std::vector<std::string> header = {
      "line_item_usage_start_date", "line_item_line_item_type", "line_item_unblended_cost",
      "line_item_usage_account_id", "line_item_product_code",   "resource_tags"};
  const auto line = [](const std::string& tags) {
    return CsvRow{{"line_item_usage_start_date", "2024-05-02T00:00:00Z"},
                  {"line_item_line_item_type", "Usage"},
                  {"line_item_unblended_cost", "1"},
                  {"line_item_usage_account_id", "111122223333"},
                  {"line_item_product_code", "AWSLambda"},
                  {"resource_tags", tags}};
  };
  write_bytes(
      file, csv_text(header, {line(R"({"user:a":"1","user:b":"2"})"),
                              line(R"({"user:b":"2","user:a":"1"})"), line("{user:b=2, user:a=1}"),
                              line(R"({"user:a":"1","user:b":"3"})")}));
  const auto rows = read(dir_ / "export", Month(2024, 5));
  ASSERT_EQ(rows.size(), 4u);
  // FNV-1a 64 of "111122223333" 1f "AWSLambda" 1f "" 1f "" 1f "" 1e "a" 1f "1" 1e "b" 1f "2" (and
  // "3"), worked out in Python.
  EXPECT_EQ(rows[0].get("resource/id"), "AWSLambda/synthetic-ee32923b90e43caf");
  EXPECT_EQ(rows[1].get("resource/id"), "AWSLambda/synthetic-ee32923b90e43caf");
  EXPECT_EQ(rows[2].get("resource/id"), "AWSLambda/synthetic-ee32923b90e43caf");
  EXPECT_EQ(rows[3].get("resource/id"), "AWSLambda/synthetic-ee32913b90e43afc");
}

// The audit's collide.csv: "user:Cost Center" and "user:Cost_Center" columns. Before, the suffix
// went to whichever key came second on a row, so "Cost_Center" meant a different source key on
// different rows. Now each source key has one CBF key on every row.
TEST_F(CurRowMapperTest, CollidingTagColumnsKeepOneCbfKeyPerSourceKey) {
  const std::vector<std::string> header = {
      "lineItem/UsageStartDate", "lineItem/LineItemType",         "lineItem/UnblendedCost",
      "lineItem/ResourceId",     "resourceTags/user:Cost Center", "resourceTags/user:Cost_Center"};
  const auto line = [](const std::string& hour, const std::string& spaced,
                       const std::string& underscored) {
    return CsvRow{{"lineItem/UsageStartDate", "2024-05-01T" + hour + ":00:00Z"},
                  {"lineItem/LineItemType", "Usage"},
                  {"lineItem/UnblendedCost", "1"},
                  {"lineItem/ResourceId", "r-1"},
                  {"resourceTags/user:Cost Center", spaced},
                  {"resourceTags/user:Cost_Center", underscored}};
  };
  const fs::path file = dir_ / "collide.csv";
  write_bytes(file,
              csv_text(header, {line("00", "a", "b"), line("01", "", "b"), line("02", "a", "")}));
  const auto rows = read(file, Month(2024, 5));
  ASSERT_EQ(rows.size(), 3u);
  using Fields = std::vector<std::pair<std::string, std::string>>;
  const auto tags = [](const CapturedRow& row) {
    Fields out;
    for (const auto& field : row.fields)
      if (field.first.rfind("resource/tag:", 0) == 0)
        out.push_back(field);
    return out;
  };
  // "Cost_Center" is valid and keeps its name; "Cost Center" rewrites to it, finds it taken and
  // takes "Cost_Center_2", on every row.
  EXPECT_EQ(tags(rows[0]),
            (Fields{{"resource/tag:Cost_Center_2", "a"}, {"resource/tag:Cost_Center", "b"}}));
  EXPECT_EQ(tags(rows[1]), (Fields{{"resource/tag:Cost_Center", "b"}}));
  EXPECT_EQ(tags(rows[2]), (Fields{{"resource/tag:Cost_Center_2", "a"}}));
  EXPECT_EQ(harness_->note("tag key rewritten: 'Cost Center' -> 'Cost_Center_2' ('Cost_Center' "
                           "is another key's)"),
            2u);
}

TEST(RegionOfAvailabilityZoneTest, ZonesLocalZonesAndWavelengthZonesGiveTheirRegion) {
  EXPECT_EQ(region_of_availability_zone("us-east-1a"), "us-east-1");
  EXPECT_EQ(region_of_availability_zone("ap-southeast-2c"), "ap-southeast-2");
  EXPECT_EQ(region_of_availability_zone("us-gov-west-1b"), "us-gov-west-1");
  EXPECT_EQ(region_of_availability_zone("us-east-1-bos-1a"), "us-east-1");        // Local Zone
  EXPECT_EQ(region_of_availability_zone("us-west-2-lax-1b"), "us-west-2");        // Local Zone
  EXPECT_EQ(region_of_availability_zone("us-east-1-wl1-bos-wlz-1"), "us-east-1"); // Wavelength
  EXPECT_EQ(region_of_availability_zone("eu-west-1"), "eu-west-1"); // already a region
  EXPECT_EQ(region_of_availability_zone("use1-az1"), "");           // a zone id: no name
  EXPECT_EQ(region_of_availability_zone(""), "");
  EXPECT_EQ(region_of_availability_zone("global"), "");
  EXPECT_EQ(region_of_availability_zone("us-east-1ab"), "");
  EXPECT_EQ(region_of_availability_zone("US-EAST-1A"), "");
}

// koku-local and my-prefix have no product/regionCode or product/region, only
// lineItem/AvailabilityZone: the region comes from the zone.
TEST_F(CurRowMapperTest, RegionFallsBackToTheAvailabilityZone) {
  const std::vector<std::string> header = {"lineItem/UsageStartDate", "lineItem/LineItemType",
                                           "lineItem/UnblendedCost", "lineItem/AvailabilityZone",
                                           "product/location"};
  const auto line = [](const std::string& zone) {
    return CsvRow{{"lineItem/UsageStartDate", "2018-08-01 01:00:00"},
                  {"lineItem/LineItemType", "Usage"},
                  {"lineItem/UnblendedCost", "1"},
                  {"lineItem/AvailabilityZone", zone},
                  {"product/location", "US East (N. Virginia)"}};
  };
  const fs::path file = dir_ / "zones.csv.gz";
  write_gzip(file, csv_text(header, {line("us-east-1a"), line("us-west-2-lax-1a"), line(""),
                                     line("use1-az1")}));
  const auto rows = read(file, Month(2018, 8));
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].get("resource/region"), "us-east-1");
  EXPECT_EQ(rows[1].get("resource/region"), "us-west-2");
  EXPECT_FALSE(rows[2].has("resource/region")); // CBF's default, no-region
  EXPECT_FALSE(rows[3].has("resource/region"));
}

TEST_F(CurRowMapperTest, RegionColumnsComeBeforeTheZoneAndGlobalIsNeverARegion) {
  const std::vector<std::string> header = {"lineItem/UsageStartDate", "lineItem/LineItemType",
                                           "lineItem/UnblendedCost",  "lineItem/AvailabilityZone",
                                           "product/regionCode",      "product/region"};
  const auto line = [](const std::string& zone, const std::string& code,
                       const std::string& region) {
    return CsvRow{{"lineItem/UsageStartDate", "2024-05-01T00:00:00Z"},
                  {"lineItem/LineItemType", "Usage"},
                  {"lineItem/UnblendedCost", "1"},
                  {"lineItem/AvailabilityZone", zone},
                  {"product/regionCode", code},
                  {"product/region", region}};
  };
  const fs::path file = dir_ / "regions.csv";
  write_bytes(
      file, csv_text(header, {line("us-east-1a", "eu-west-1", "eu-west-2"),
                              line("us-east-1a", "", "eu-west-2"), line("us-east-1a", "global", ""),
                              line("", "global", ""), line("", "", "Global")}));
  const auto rows = read(file, Month(2024, 5));
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(rows[0].get("resource/region"), "eu-west-1");
  EXPECT_EQ(rows[1].get("resource/region"), "eu-west-2");
  EXPECT_EQ(rows[2].get("resource/region"), "us-east-1"); // "global" gives way to the zone
  EXPECT_FALSE(rows[3].has("resource/region"));
  EXPECT_FALSE(rows[4].has("resource/region"));
}

// A legacy period folder holding lines of other months, as koku-local's 20180801-20180901 does.
class OutOfPeriodTest : public CurRowMapperTest {
protected:
  void SetUp() override {
    CurRowMapperTest::SetUp();
    const fs::path folder =
        legacy_month_folder(dir_, "late", "20180801-20180901", "a1", {"late-1.csv.gz"});
    const std::vector<std::string> header = {"lineItem/UsageStartDate", "lineItem/LineItemType",
                                             "lineItem/UnblendedCost", "lineItem/ResourceId"};
    const auto line = [](const std::string& start, const std::string& cost) {
      return CsvRow{{"lineItem/UsageStartDate", start},
                    {"lineItem/LineItemType", "Usage"},
                    {"lineItem/UnblendedCost", cost},
                    {"lineItem/ResourceId", "i-1"}};
    };
    write_gzip(
        folder / "late-1.csv.gz",
        csv_text(header, {line("2018-06-20 01:00:00", "1.5"), line("2018-07-31 23:00:00", "2.25"),
                          line("2018-08-10 05:00:00", "3"), line("2018-07-01 00:00:00", "0.25"),
                          line("2018-09-01 00:00:00", "10")}));
  }
};

TEST_F(OutOfPeriodTest, ByUsageLinesKeepTheirDatesAndAreCountedPerMonth) {
  const auto rows = read(dir_, Month(2018, 8));
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(rows[0].get("time/usage_start"), "2018-06-20T01:00:00Z");
  EXPECT_EQ(rows[4].get("time/usage_start"), "2018-09-01T00:00:00Z");
  const std::string tail = " (month_by = \"billing_period\" keeps them in 2018-08)";
  EXPECT_EQ(harness_->note("billing period 2018-08 holds lines dated 2018-06: filed under 2018-06" +
                           tail),
            1u);
  EXPECT_EQ(harness_->note("billing period 2018-08 holds lines dated 2018-07: filed under 2018-07" +
                           tail),
            2u);
  EXPECT_EQ(harness_->note("billing period 2018-08 holds lines dated 2018-09: filed under 2018-09" +
                           tail),
            1u);
}

TEST_F(OutOfPeriodTest, ByBillingPeriodLinesMoveToThePeriodsFirstOrLastHour) {
  const auto rows = read(dir_, Month(2018, 8), {{"month_by", std::string("billing_period")}});
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(rows[0].get("time/usage_start"), "2018-08-01T00:00:00Z");
  EXPECT_EQ(rows[1].get("time/usage_start"), "2018-08-01T00:00:00Z");
  EXPECT_EQ(rows[2].get("time/usage_start"), "2018-08-10T05:00:00Z"); // in its period: kept
  EXPECT_EQ(rows[3].get("time/usage_start"), "2018-08-01T00:00:00Z");
  EXPECT_EQ(rows[4].get("time/usage_start"), "2018-08-31T23:00:00Z");
  EXPECT_EQ(rows[4].get("cost/cost"), "10");
  EXPECT_EQ(
      harness_->note("billing period 2018-08 holds lines dated 2018-06: placed in its first hour"),
      1u);
  EXPECT_EQ(
      harness_->note("billing period 2018-08 holds lines dated 2018-07: placed in its first hour"),
      2u);
  EXPECT_EQ(
      harness_->note("billing period 2018-08 holds lines dated 2018-09: placed in its last hour"),
      1u);
}

TEST_F(CurRowMapperTest, UnknownMonthByIsAConfigError) {
  ConfigValues config{{"path", dir_.string()}, {"month_by", std::string("invoice")}};
  PluginHarness harness(billdrop_plugin_entry(), config);
  const auto status = harness.create();
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().message(), "month_by \"invoice\" is not one of usage, billing_period");
}

// A loose file has no period folder: with billing_period, bill/BillingPeriodStartDate says which
// month's read takes a line (the usage month when it is empty).
TEST_F(CurRowMapperTest, LooseFileByBillingPeriodUsesTheBillingPeriodColumn) {
  const std::vector<std::string> header = {"bill/BillingPeriodStartDate", "lineItem/UsageStartDate",
                                           "lineItem/LineItemType", "lineItem/UnblendedCost"};
  const auto line = [](const std::string& period, const std::string& start,
                       const std::string& cost) {
    return CsvRow{{"bill/BillingPeriodStartDate", period},
                  {"lineItem/UsageStartDate", start},
                  {"lineItem/LineItemType", "Usage"},
                  {"lineItem/UnblendedCost", cost}};
  };
  const fs::path file = dir_ / "periods.csv";
  write_bytes(file, csv_text(header, {line("2024-05-01T00:00:00Z", "2024-04-30T22:00:00Z", "1"),
                                      line("2024-05-01T00:00:00Z", "2024-05-03T00:00:00Z", "2"),
                                      line("", "2024-04-10T00:00:00Z", "4"),
                                      line("May", "2024-04-11T00:00:00Z", "8")}));
  ConfigValues by_period{{"path", file.string()}, {"month_by", std::string("billing_period")}};
  PluginHarness harness(billdrop_plugin_entry(), by_period);
  ASSERT_TRUE(harness.create().ok());
  auto months = harness.months();
  ASSERT_TRUE(months.ok()) << months.error().message();
  EXPECT_EQ(*months, (std::vector<Month>{Month(2024, 4), Month(2024, 5)}));
  auto may = harness.read(Month(2024, 5));
  ASSERT_TRUE(may.ok()) << may.error().message();
  ASSERT_EQ(may->size(), 2u);
  EXPECT_EQ(may->at(0).get("time/usage_start"), "2024-05-01T00:00:00Z"); // moved in
  EXPECT_EQ(may->at(1).get("cost/cost"), "2");
  EXPECT_TRUE(harness.rejects().empty());
  auto april = harness.read(Month(2024, 4));
  ASSERT_TRUE(april.ok());
  ASSERT_EQ(april->size(), 1u);
  EXPECT_EQ(april->at(0).get("cost/cost"), "4");
  // An unreadable period is rejected once, in the read of the line's usage month.
  ASSERT_EQ(harness.rejects().size(), 1u);
  EXPECT_EQ(harness.rejects()[0].origin, "periods.csv:5");
  EXPECT_EQ(harness.rejects()[0].reason, "bill/BillingPeriodStartDate \"May\" is not a timestamp");
}

TEST_F(CurRowMapperTest, Cur2MapKeysInAthenaFormAndHiveMapText) {
  const fs::path file = dir_ / "keys.csv";
  const std::vector<std::string> header = {"line_item_usage_start_date",
                                           "line_item_line_item_type",
                                           "line_item_unblended_cost",
                                           "line_item_resource_id",
                                           "resource_tags",
                                           "cost_category"};
  const auto line = [](const std::string& tags, const std::string& categories) {
    return CsvRow{{"line_item_usage_start_date", "2024-05-01T00:00:00Z"},
                  {"line_item_line_item_type", "Usage"},
                  {"line_item_unblended_cost", "1"},
                  {"line_item_resource_id", "r-1"},
                  {"resource_tags", tags},
                  {"cost_category", categories}};
  };
  write_bytes(
      file, csv_text(header,
                     {line(R"({"user_cost_center":"x","aws_created_by":"y","user:Team":"z"})", ""),
                      line("{user:Team=web, aws:createdBy=Root, user:Note=a, b}", "{Env=prod}"),
                      line("{'user:a': 'b'}", ""), line("{user:a}", "")}));
  const auto rows = read(file, Month(2024, 5));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].get("resource/tag:cost_center"), "x");
  EXPECT_EQ(rows[0].get("resource/tag:aws:created_by"), "y");
  EXPECT_EQ(rows[0].get("resource/tag:Team"), "z");
  EXPECT_EQ(rows[1].get("resource/tag:Team"), "web");
  EXPECT_EQ(rows[1].get("resource/tag:aws:createdBy"), "Root");
  EXPECT_EQ(rows[1].get("resource/tag:Note"), "a, b"); // no '=' after the comma: part of the value
  EXPECT_EQ(rows[1].get("resource/tag:cost_category:Env"), "prod");
  // Neither JSON nor map text: rejected, naming file and line (origin) and the column.
  ASSERT_EQ(harness_->rejects().size(), 2u);
  EXPECT_EQ(harness_->rejects()[0].origin, "keys.csv:4");
  EXPECT_EQ(harness_->rejects()[0].reason,
            "resource_tags: map cell \"{'user:a': 'b'}\" is neither a JSON object "
            "({\"key\":\"value\", ...}) nor Hive map text ({key=value, ...}): read as map text, "
            "expected '=' after a key at offset 14");
  EXPECT_EQ(harness_->rejects()[1].origin, "keys.csv:5");
  EXPECT_EQ(harness_->rejects()[1].reason,
            "resource_tags: map cell \"{user:a}\" is neither a JSON object ({\"key\":\"value\", "
            "...}) nor Hive map text ({key=value, ...}): read as map text, expected '=' after a "
            "key at offset 7");
}

// CUR 2.0 files without product_region_code / product_product_family columns: the `product` map
// gives them. With the flat columns present the map is not read.
TEST_F(CurRowMapperTest, ProductMapGivesRegionAndFamilyWhenTheFlatColumnsAreAbsent) {
  const std::vector<std::string> header = {"line_item_usage_start_date", "line_item_line_item_type",
                                           "line_item_unblended_cost", "product"};
  const auto line = [](const std::string& product) {
    return CsvRow{{"line_item_usage_start_date", "2024-05-01T00:00:00Z"},
                  {"line_item_line_item_type", "Usage"},
                  {"line_item_unblended_cost", "1"},
                  {"product", product}};
  };
  const fs::path file = dir_ / "product.csv";
  write_bytes(
      file, csv_text(header, {line(R"({"product_name":"Amazon EC2","region":"ap-south-1",)"
                                   R"("product_family":"Compute Instance"})"),
                              line("{region=global, region_code=eu-west-1, productFamily=Storage}"),
                              line(R"({"region":"global"})"), line(""), line("{region}")}));
  const auto rows = read(file, Month(2024, 5));
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].get("resource/region"), "ap-south-1");
  EXPECT_EQ(rows[0].get("resource/usage_family"), "Compute Instance");
  EXPECT_EQ(rows[1].get("resource/region"), "eu-west-1"); // region_code first
  EXPECT_EQ(rows[1].get("resource/usage_family"), "Storage");
  EXPECT_FALSE(rows[2].has("resource/region"));
  EXPECT_FALSE(rows[3].has("resource/region"));
  ASSERT_EQ(harness_->rejects().size(), 1u);
  EXPECT_EQ(harness_->rejects()[0].origin, "product.csv:6");
  EXPECT_EQ(harness_->rejects()[0].reason.rfind("product: map cell \"{region}\"", 0), 0u)
      << harness_->rejects()[0].reason;

  const fs::path flat = dir_ / "flat.csv";
  write_bytes(flat, csv_text({"line_item_usage_start_date", "line_item_line_item_type",
                              "line_item_unblended_cost", "product_region_code",
                              "product_product_family", "product"},
                             {{{"line_item_usage_start_date", "2024-05-01T00:00:00Z"},
                               {"line_item_line_item_type", "Usage"},
                               {"line_item_unblended_cost", "1"},
                               {"product_region_code", "us-west-1"},
                               {"product_product_family", "Compute"},
                               {"product", "not a map, and not read"}}}));
  const auto flat_rows = read(flat, Month(2024, 5));
  ASSERT_EQ(flat_rows.size(), 1u);
  EXPECT_EQ(flat_rows[0].get("resource/region"), "us-west-1");
  EXPECT_EQ(flat_rows[0].get("resource/usage_family"), "Compute");
  EXPECT_TRUE(harness_->rejects().empty());
}

TEST_F(CurRowMapperTest, AmountsOutOfRangeSayWhatIsWrong) {
  const fs::path file = dir_ / "nums.csv";
  const auto line = [](const std::string& cost) {
    return CsvRow{{"lineItem/UsageStartDate", "2024-05-01T00:00:00Z"},
                  {"lineItem/LineItemType", "Usage"},
                  {"lineItem/UnblendedCost", cost}};
  };
  write_bytes(
      file, csv_text({"lineItem/UsageStartDate", "lineItem/LineItemType", "lineItem/UnblendedCost"},
                     {line("1e80"), line("1.5e-90"), line("abc"), line("-1.0E-2")}));
  const auto rows = read(file, Month(2024, 5));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].get("cost/cost"), "-0.010");
  ASSERT_EQ(harness_->rejects().size(), 3u);
  EXPECT_EQ(harness_->rejects()[0].reason,
            "lineItem/UnblendedCost \"1e80\" is out of range: written out in full it has more "
            "than 76 digits, more than a Decimal holds exactly");
  EXPECT_EQ(harness_->rejects()[1].reason,
            "lineItem/UnblendedCost \"1.5e-90\" has more than 76 digits after the decimal point, "
            "more than a Decimal holds exactly");
  EXPECT_EQ(harness_->rejects()[2].reason.rfind("lineItem/UnblendedCost \"abc\" is not a decimal "
                                                "number",
                                                0),
            0u);
}

} // namespace

// Cells are read trimmed of ASCII spaces (space, tab, CR, LF, FF, VT) at either end, and only of
// those: a non-ASCII byte at an end (UTF-8 text) stays.
TEST_F(CurRowMapperTest, CellsAreTrimmedOfAsciiSpacesOnly) {
  const std::vector<std::string> header = {"lineItem/UsageStartDate", "lineItem/LineItemType",
                                           "lineItem/UnblendedCost",  "lineItem/UsageAccountId",
                                           "lineItem/ProductCode",    "lineItem/UsageType",
                                           "lineItem/Operation",      "lineItem/ResourceId"};
  const fs::path file = dir_ / "spaces.csv.gz";
  write_gzip(file, csv_text(header, {{{"lineItem/UsageStartDate", " 2024-05-01T03:00:00Z\t"},
                                      {"lineItem/LineItemType", "Usage"},
                                      {"lineItem/UnblendedCost", "\v0.25 "},
                                      {"lineItem/UsageAccountId", " \t111122223333\f"},
                                      {"lineItem/ProductCode", "\r\nAmazonS3 \r\n"},
                                      {"lineItem/UsageType", "x"},
                                      {"lineItem/Operation", "\xC3\xA9-op \xC3\xA9"},
                                      {"lineItem/ResourceId", " "}}}));
  const auto rows = read(file, Month(2024, 5));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].get("time/usage_start"), "2024-05-01T03:00:00Z");
  EXPECT_EQ(rows[0].get("cost/cost"), "0.25");
  EXPECT_EQ(rows[0].get("resource/account"), "111122223333");
  EXPECT_EQ(rows[0].get("resource/service"), "AmazonS3");
  EXPECT_EQ(rows[0].get("action/usage_type"), "x");
  EXPECT_EQ(rows[0].get("action/operation"), "\xC3\xA9-op \xC3\xA9");
  EXPECT_FALSE(rows[0].has("resource/id"));
}
