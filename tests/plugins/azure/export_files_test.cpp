// Export folders described by either manifest form, and plain folders.
#include "export_files.hpp"
#include "test_support.hpp"

#include <billdrop/byte_source.hpp>

#include <gtest/gtest.h>

namespace billdrop::azure {
namespace {

using billdrop::testing::PluginHarness;
using namespace azure::testing;

constexpr std::string_view header = "SubscriptionId,Date,MeterCategory,CostInBillingCurrency\n";

std::string rows(std::string_view date, std::string_view cost, int count) {
  std::string csv(header);
  for (int i = 0; i < count; ++i)
    csv += "s1," + std::string(date) + ",Storage," + std::string(cost) + "\n";
  return csv;
}

TEST(AzureExportFiles, CurrentManifestLatestRunWinsAndGzipBlobsAreRead) {
  const auto root = temp_dir("manifest_new");
  const auto period = root / "exports" / "daily" / "20230801-20230831";
  // An older run (would give 3 x 9.00) and the latest (2 gzip parts: 2 x 1.50 + 1 x 0.25).
  write_file(period / "run-a" / "part_0_0001.csv", rows("2023-08-01", "9.00", 3));
  write_file(period / "run-a" / "manifest.json",
             R"({"manifestVersion":"2024-04-01","exportConfig":{"type":"ActualCost"},
                 "deliveryConfig":{"fileFormat":"Csv","compressionMode":"gzip"},
                 "runInfo":{"submittedTime":"2023-09-01T01:00:00Z"},
                 "blobs":[{"blobName":"daily/20230801-20230831/run-a/part_0_0001.csv","byteCount":1}]})");
  write_file(period / "run-b" / "part_0_0001.csv.gz", gzip_compress(rows("08/02/2023", "1.50", 2)));
  write_file(period / "run-b" / "part_1_0001.csv.gz", gzip_compress(rows("08/03/2023", "0.25", 1)));
  write_file(period / "run-b" / "manifest.json",
             R"({"manifestVersion":"2024-04-01","exportConfig":{"type":"ActualCost"},
                 "deliveryConfig":{"fileFormat":"Csv","compressionMode":"gzip"},
                 "runInfo":{"submittedTime":"2023-09-02T01:00:00Z"},
                 "blobs":[{"blobName":"daily/20230801-20230831/run-b/part_0_0001.csv.gz","byteCount":1},
                          {"blobName":"daily/20230801-20230831/run-b/part_1_0001.csv.gz","byteCount":1}]})");
  PluginHarness harness(billdrop_plugin_entry(), {{"actual", (root / "exports").string()}});
  ASSERT_TRUE(harness.create().ok());
  auto result = harness.read(Month(2023, 8));
  ASSERT_TRUE(result.ok()) << result.error().message();
  EXPECT_EQ(result->size(), 3u);
  // 2 x 1.50 + 0.25, by hand.
  EXPECT_EQ(sum(*result, "cost/cost"), Decimal::from_string("3.25"));
}

TEST(AzureExportFiles, PartitionedManifestOfTheOlderForm) {
  const auto root = temp_dir("manifest_old");
  const auto run =
      root / "cost" / "partitioned" / "20230101-20230131" / "202301041442" / "73746dc5";
  write_file(run / "000001.csv", rows("2023-01-05", "0.10", 4));
  // As in koku's fixture: blob names are container paths.
  write_file(run / "manifest.json",
             R"({"manifestVersion":"2021-01-01","dataFormat":"csv","blobCount":1,"byteCount":1,
                 "dataRowCount":4,"blobs":[{"blobName":
                 "cost/partitioned/20230101-20230131/202301041442/73746dc5/000001.csv",
                 "byteCount":1,"dataRowCount":4,"headerRowCount":1}]})");
  PluginHarness harness(billdrop_plugin_entry(), {{"actual", (run / "manifest.json").string()}});
  ASSERT_TRUE(harness.create().ok());
  auto result = harness.read(Month(2023, 1));
  ASSERT_TRUE(result.ok()) << result.error().message();
  EXPECT_EQ(sum(*result, "cost/cost"), Decimal::from_string("0.40")); // 4 x 0.10
}

TEST(AzureExportFiles, AmortizedManifestConfiguredAsActualIsAConfigError) {
  const auto root = temp_dir("manifest_kind");
  write_file(root / "p" / "a.csv", rows("2023-01-05", "0.10", 1));
  write_file(root / "p" / "manifest.json",
             R"({"exportConfig":{"type":"AmortizedCost"},"blobs":[{"blobName":"p/a.csv"}]})");
  auto files = export_files(root, ExportKind::actual);
  ASSERT_FALSE(files.ok());
  EXPECT_EQ(files.error().kind(), ErrorKind::config);
  EXPECT_NE(files.error().message().find("AmortizedCost"), std::string::npos);
}

TEST(AzureExportFiles, MissingBlobNamesManifestAndBlob) {
  const auto root = temp_dir("manifest_missing");
  write_file(root / "manifest.json", R"({"blobs":[{"blobName":"x/gone.csv"}]})");
  auto files = export_files(root, ExportKind::actual);
  ASSERT_FALSE(files.ok());
  EXPECT_NE(files.error().message().find("manifest.json"), std::string::npos);
  EXPECT_NE(files.error().message().find("x/gone.csv"), std::string::npos);
}

TEST(AzureExportFiles, FolderWithoutManifestReadsEveryCsvInNameOrder) {
  const auto root = temp_dir("plain_folder");
  write_file(root / "b" / "2.csv.gz", gzip_compress(rows("2023-01-02", "1", 1)));
  write_file(root / "a.csv", rows("2023-01-01", "1", 1));
  write_file(root / "notes.txt", "not an export");
  auto files = export_files(root, ExportKind::actual);
  ASSERT_TRUE(files.ok());
  ASSERT_EQ(files->size(), 2u);
  EXPECT_EQ(files->at(0).path.filename(), "a.csv");
  EXPECT_EQ(files->at(1).path.filename(), "2.csv.gz");
}

} // namespace
} // namespace billdrop::azure
