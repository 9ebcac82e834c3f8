// Synthetic resource ids of rows with labels but no resource name. CBF allows one value per tag
// key per resource id, so the labels are part of the id.
#include "test_support.hpp"

#include <billdrop/sdk.hpp>

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

namespace billdrop::gcp {
namespace {

using billdrop::testing::CapturedRow;
using billdrop::testing::PluginHarness;
using testing::GcpFolderTest;

class GcpSyntheticIdTest : public GcpFolderTest {
protected:
  std::vector<CapturedRow> read(const std::string& file, Month month) {
    PluginHarness harness(billdrop_plugin_entry(), {{"path", (dir_ / file).string()}});
    EXPECT_TRUE(harness.create().ok());
    auto rows = harness.read(month);
    EXPECT_TRUE(rows.ok()) << rows.error().message();
    EXPECT_TRUE(harness.rejects().empty());
    return rows.ok() ? *rows : std::vector<CapturedRow>{};
  }
};

// Every tag key of every resource id has one value.
void expect_one_value_per_key_per_id(const std::vector<CapturedRow>& rows) {
  std::map<std::string, std::map<std::string, std::set<std::string>>> values; // id -> key -> values
  for (const CapturedRow& row : rows)
    for (const auto& [key, value] : row.fields)
      if (key.starts_with("resource/tag:"))
        values[row.get("resource/id")][key].insert(value);
  for (const auto& [id, keys] : values)
    for (const auto& [key, seen] : keys)
      EXPECT_EQ(seen.size(), 1u) << id << " has " << seen.size() << " values of " << key;
}

TEST_F(GcpSyntheticIdTest, TagValuesAreOneOfTheDimensionsOfTheId) {
  const std::string header = "project.id,service.id,sku.id,location.location,usage_start_time,cost,"
                             "labels\n";
  const std::string same = "shop-prod,6F81,2E27,us-central1,2024-08-01 00:00:00+00:00,";
  write("a.csv", header +                                                 //
                     same + "1,\"[{'key': 'env', 'value': 'prod'}]\"\n" + // line 2
                     same + "2,\"[{'key': 'env', 'value': 'dev'}]\"\n" +  // line 3
                     same + "3,\"[{'key': 'env', 'value': 'prod'}]\"\n" + // line 4
                     same +
                     "4,\"[{'key': 'team', 'value': 'a'}, {'key': 'env', " // line 5
                     "'value': 'prod'}]\"\n" +
                     same +
                     "5,\"[{'key': 'env', 'value': 'prod'}, {'key': 'team', " // line 6
                     "'value': 'a'}]\"\n");
  const auto rows = read("a.csv", Month(2024, 8));
  ASSERT_EQ(rows.size(), 5u);
  for (const CapturedRow& row : rows)
    EXPECT_TRUE(row.get("resource/id").starts_with("gcp-project/synthetic-"))
        << row.get("resource/id");
  EXPECT_NE(rows[0].get("resource/id"), rows[1].get("resource/id")); // env=prod vs env=dev
  EXPECT_EQ(rows[0].get("resource/id"), rows[2].get("resource/id")); // identical
  EXPECT_NE(rows[0].get("resource/id"), rows[3].get("resource/id")); // one more label
  EXPECT_EQ(rows[3].get("resource/id"), rows[4].get("resource/id")); // same labels, other order
  expect_one_value_per_key_per_id(rows);
}

TEST_F(GcpSyntheticIdTest, TheSameRecordGetsTheSameIdFromCsvAndNdjson) {
  write("a.csv", "project.id,service.id,sku.id,location.location,usage_start_time,cost,labels\n"
                 "shop-prod,6F81,2E27,us,2024-08-01 00:00:00+00:00,1,"
                 "\"[{'key': 'env', 'value': 'prod'}]\"\n");
  write("a.ndjson",
        R"({"project":{"id":"shop-prod"},"service":{"id":"6F81"},"sku":{"id":"2E27"},)"
        R"("location":{"location":"us"},"usage_start_time":"2024-08-01 00:00:00+00:00",)"
        R"("cost":1,"labels":[{"key":"env","value":"prod"}]})"
        "\n");
  const auto csv = read("a.csv", Month(2024, 8));
  const auto ndjson = read("a.ndjson", Month(2024, 8));
  ASSERT_EQ(csv.size(), 1u);
  ASSERT_EQ(ndjson.size(), 1u);
  EXPECT_EQ(csv[0].get("resource/id"), ndjson[0].get("resource/id"));
}

// Modelled on samples/gcp/koku/202011_*.csv: Cloud Logging charges of one project, service, SKU
// and location whose goog-resource-type label says bigquery_resource, bigquery_dataset or
// bigquery_project. Hashing the dimensions alone gave all of them one id, with three values of
// goog-resource-type on it.
TEST_F(GcpSyntheticIdTest, KokuLoggingChargesKeepOneValuePerLabelKeyPerId) {
  const std::string header =
      "billing_account_id,service.id,service.description,sku.id,sku.description,usage_start_time,"
      "usage_end_time,project.id,project.name,project.labels,project.ancestry_numbers,labels,"
      "system_labels,location.location,location.country,location.region,location.zone,"
      "export_time,cost,currency,currency_conversion_rate,usage.amount,usage.unit,"
      "usage.amount_in_pricing_units,usage.pricing_unit,credits,invoice.month,cost_type,"
      "partition_date\n";
  const auto charge = [](const std::string& start, const std::string& end, const std::string& type,
                         const std::string& bytes) {
    return "000000-B0BBA4-940A77,5490-F7B7-8DF6,Stackdriver Logging,143F-A1B0-E0BE,Log Volume," +
           start + "," + end +
           ",billing-example-00000,cloud-billing,[],/54643501348/,\"[{'key': "
           "'goog-resource-type', 'value': '" +
           type + "'}]\",[],us,US,,,2020-11-10 05:49:32.199000+00:00,0.0,USD,1.0," + bytes +
           ",bytes,6.603077054023743e-07,gibibyte,[],202011,regular,2020-11-09 00:00:00+00:00\n";
  };
  write("202011_logging.csv", header +
                                  charge("2020-11-09 21:00:00+00:00", "2020-11-09 22:00:00+00:00",
                                         "bigquery_resource", "709.0") +
                                  charge("2020-11-09 23:00:00+00:00", "2020-11-10 00:00:00+00:00",
                                         "bigquery_dataset", "960.0") +
                                  charge("2020-11-09 23:00:00+00:00", "2020-11-10 00:00:00+00:00",
                                         "bigquery_resource", "708.0") +
                                  charge("2020-11-11 00:00:00+00:00", "2020-11-11 01:00:00+00:00",
                                         "bigquery_project", "9007.0") +
                                  charge("2020-11-08 08:00:00+00:00", "2020-11-08 09:00:00+00:00",
                                         "bigquery_dataset", "120.0"));
  const auto rows = read("202011_logging.csv", Month(2020, 11));
  ASSERT_EQ(rows.size(), 5u);
  expect_one_value_per_key_per_id(rows);
  std::set<std::string> ids;
  for (const CapturedRow& row : rows)
    ids.insert(row.get("resource/id"));
  EXPECT_EQ(ids.size(), 3u); // one per goog-resource-type value
  EXPECT_EQ(rows[0].get("resource/id"), rows[2].get("resource/id")); // both bigquery_resource
}

} // namespace
} // namespace billdrop::gcp
