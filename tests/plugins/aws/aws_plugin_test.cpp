// The aws plugin through its real C descriptor, as the host drives it. Expected totals are worked
// out by hand from the fixture rows (tests/plugins/aws/fixtures/make_fixtures.py), never by the
// plugin's code.
#include <billdrop/growing_file.hpp>
#include <billdrop/sdk.hpp>
#include <billdrop/testing/harness.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <unistd.h>

extern "C" const bd_plugin_descriptor* billdrop_plugin_entry(void);

namespace {

namespace fs = std::filesystem;
using billdrop::ConfigValues;
using billdrop::Decimal;
using billdrop::Month;
using billdrop::testing::CapturedRow;
using billdrop::testing::PluginHarness;

const fs::path fixtures = BILLDROP_AWS_FIXTURES;

ConfigValues config_for(const fs::path& path) {
  return ConfigValues{{"path", path.string()}};
}

Decimal sum(const std::vector<CapturedRow>& rows, const char* key = "cost/cost") {
  Decimal total;
  for (const auto& row : rows)
    total += Decimal::from_string(row.get(key));
  return total;
}

const CapturedRow* find_origin(const std::vector<CapturedRow>& rows, const std::string& origin) {
  for (const auto& row : rows)
    if (row.origin == origin)
      return &row;
  return nullptr;
}

TEST(AwsPluginTest, DescribesItsConfigKeys) {
  auto schema = billdrop::ConfigSchema::from_json(billdrop_plugin_entry()->config_schema_json);
  ASSERT_TRUE(schema.ok()) << schema.error().message();
  ASSERT_EQ(schema->keys().size(), 4u);
  EXPECT_EQ(schema->keys()[0].key, "path");
  EXPECT_EQ(schema->keys()[0].type, billdrop::ConfigType::path);
  EXPECT_EQ(schema->keys()[1].key, "format");
  EXPECT_EQ(schema->keys()[2].key, "report_name");
  EXPECT_EQ(schema->keys()[3].key, "month_by");
  ASSERT_TRUE(schema->keys()[3].default_value.has_value());
  EXPECT_EQ(std::get<std::string>(*schema->keys()[3].default_value), "usage");
}

TEST(AwsPluginTest, UnknownFormatIsAConfigError) {
  ConfigValues config = config_for(fixtures / "legacy");
  config.emplace("format", std::string("parquet"));
  PluginHarness harness(billdrop_plugin_entry(), config);
  auto status = harness.create();
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind(), billdrop::ErrorKind::config);
  EXPECT_EQ(status.error().message(),
            "format \"parquet\" is not one of auto, legacy, athena, cur2");
}

TEST(AwsPluginTest, LegacyTreeListsItsBillingPeriods) {
  PluginHarness harness(billdrop_plugin_entry(), config_for(fixtures / "legacy"));
  ASSERT_TRUE(harness.create().ok());
  ASSERT_TRUE(harness.check().ok()) << harness.check().error().message();
  auto months = harness.months();
  ASSERT_TRUE(months.ok()) << months.error().message();
  EXPECT_EQ(*months, (std::vector<Month>{Month(2024, 8), Month(2024, 9)}));
}

TEST(AwsPluginTest, LegacyMonthReadsOnlyTheCurrentAssembly) {
  PluginHarness harness(billdrop_plugin_entry(), config_for(fixtures / "legacy"));
  ASSERT_TRUE(harness.create().ok());
  auto rows = harness.read(Month(2024, 8));
  ASSERT_TRUE(rows.ok()) << rows.error().message();
  // 8 lines in a2/acme-cur-1.csv.gz and 6 in a2/acme-cur-2.csv.gz; the stale a1 (999.00) is not
  // read. By hand: 1.25 + 0 + 2.00 - 2.00 + 5.00 + 3.00 + 100 + 29 + 0.50 + 0.80 - 1.00 - 0.30
  // + 0.10 + 0.0015 = 138.3515.
  ASSERT_EQ(rows->size(), 14u);
  EXPECT_TRUE(harness.rejects().empty());
  EXPECT_EQ(sum(*rows), Decimal::from_string("138.3515"));
  for (const auto& row : *rows)
    EXPECT_NE(row.get("cost/cost"), "999.00");
  // Amortized by hand: 1.25 + 0.40 + 1.20 + 0 + (5.00 - 3.50) + (0.25 + 0.50) + 0 + 29 + 0.50
  // + 0.80 - 1.00 - 0.30 + 0.10 + 0.0015 = 34.2015.
  EXPECT_EQ(sum(*rows, "cost/amortized_cost"), Decimal::from_string("34.2015"));
}

TEST(AwsPluginTest, LegacyLineMapsEveryField) {
  PluginHarness harness(billdrop_plugin_entry(), config_for(fixtures / "legacy"));
  ASSERT_TRUE(harness.create().ok());
  auto rows = harness.read(Month(2024, 8));
  ASSERT_TRUE(rows.ok()) << rows.error().message();
  const CapturedRow* row = find_origin(*rows, "acme-cur-1.csv.gz:2");
  ASSERT_NE(row, nullptr);
  EXPECT_EQ(row->fields, (std::vector<std::pair<std::string, std::string>>{
                             {"time/usage_start", "2024-08-05T10:00:00Z"},
                             {"cost/cost", "1.25"},
                             {"cost/amortized_cost", "1.25"},
                             {"cost/on_demand_cost", "1.50"},
                             {"lineitem/type", "Usage"},
                             {"resource/account", "111122223333"},
                             {"resource/service", "AmazonEC2"},
                             {"resource/region", "us-east-1"},
                             {"resource/id", "i-1"},
                             {"resource/usage_family", "Compute Instance"},
                             {"usage/amount", "10"},
                             {"usage/units", "Hrs"},
                             {"lineitem/description", "m5.large, hourly"},
                             {"bill/invoice_id", "INV-8"},
                             {"action/usage_type", "BoxUsage:m5.large"},
                             {"action/operation", "RunInstances"},
                             {"resource/tag:Team", "web"},
                             {"resource/tag:Cost_Center", "cc-7"},
                         }));
}

TEST(AwsPluginTest, LineItemTypesAndAmortizedCostsFollowTheReferenceTable) {
  PluginHarness harness(billdrop_plugin_entry(), config_for(fixtures / "legacy"));
  ASSERT_TRUE(harness.create().ok());
  auto rows = harness.read(Month(2024, 8));
  ASSERT_TRUE(rows.ok()) << rows.error().message();
  struct Expected {
    const char* origin;
    const char* type;
    const char* cost;
    const char* amortized;
  };
  const Expected expected[] = {
      {"acme-cur-1.csv.gz:3", "Usage", "0", "0.40"},                   // DiscountedUsage
      {"acme-cur-1.csv.gz:4", "Usage", "2.00", "1.20"},                // SavingsPlanCoveredUsage
      {"acme-cur-1.csv.gz:5", "Discount", "-2.00", "0"},               // SavingsPlanNegation
      {"acme-cur-1.csv.gz:6", "CommittedUsePurchase", "5.00", "1.50"}, // SP recurring fee
      {"acme-cur-1.csv.gz:7", "CommittedUsePurchase", "3.00", "0.75"}, // RIFee
      {"acme-cur-1.csv.gz:8", "CommittedUsePurchase", "100", "0"},     // Fee with an RI ARN
      {"acme-cur-1.csv.gz:9", "Support", "29", "29"},                  // Fee for AWSSupport*
      {"acme-cur-2.csv.gz:3", "Tax", "0.80", "0.80"},
      {"acme-cur-2.csv.gz:4", "Credit", "-1.00", "-1.00"},
      {"acme-cur-2.csv.gz:5", "Discount", "-0.30", "-0.30"}, // EdpDiscount
      {"acme-cur-2.csv.gz:6", "Usage", "0.10", "0.10"},      // MysteryType, unknown
      {"acme-cur-2.csv.gz:7", "Usage", "0.0015", "0.0015"},  // 1.5E-3 written plainly
  };
  for (const Expected& e : expected) {
    const CapturedRow* row = find_origin(*rows, e.origin);
    ASSERT_NE(row, nullptr) << e.origin;
    EXPECT_EQ(row->get("lineitem/type"), e.type) << e.origin;
    EXPECT_EQ(row->get("cost/cost"), e.cost) << e.origin;
    EXPECT_EQ(row->get("cost/amortized_cost"), e.amortized) << e.origin;
  }
  EXPECT_EQ(harness.note("unknown line item type 'MysteryType' mapped to Usage"), 1u);
  EXPECT_EQ(find_origin(*rows, "acme-cur-2.csv.gz:7")->get("time/usage_start"),
            "2024-08-31T23:00:00Z");
}

TEST(AwsPluginTest, GlobalRegionIsDroppedAndTaggedLinesGetAStableSyntheticId) {
  PluginHarness harness(billdrop_plugin_entry(), config_for(fixtures / "legacy"));
  ASSERT_TRUE(harness.create().ok());
  auto first = harness.read(Month(2024, 8));
  ASSERT_TRUE(first.ok()) << first.error().message();
  const CapturedRow* row = find_origin(*first, "acme-cur-2.csv.gz:2");
  ASSERT_NE(row, nullptr);
  EXPECT_FALSE(row->has("resource/region"));
  EXPECT_EQ(row->get("resource/tag:Team"), "dns");
  const std::string id = row->get("resource/id");
  EXPECT_EQ(id.rfind("AmazonRoute53/synthetic-", 0), 0u) << id;
  EXPECT_EQ(harness.note("synthetic resource/id for tagged lines without a resource id"), 1u);
  auto second = harness.read(Month(2024, 8));
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(find_origin(*second, "acme-cur-2.csv.gz:2")->get("resource/id"), id);
}

TEST(AwsPluginTest, ZipMonthUsesNetCostsAndCostCategories) {
  PluginHarness harness(billdrop_plugin_entry(), config_for(fixtures / "legacy" / "acme-cur"));
  ASSERT_TRUE(harness.create().ok());
  auto rows = harness.read(Month(2024, 9));
  ASSERT_TRUE(rows.ok()) << rows.error().message();
  ASSERT_EQ(rows->size(), 3u);
  // Net when present and non-empty: 9.00 + 4.00 (net blank) + 0.36 = 13.36.
  EXPECT_EQ(sum(*rows), Decimal::from_string("13.36"));
  const CapturedRow& first = rows->at(0);
  EXPECT_EQ(first.origin, "acme-cur-1.csv.zip:2");
  EXPECT_EQ(first.get("cost/amortized_cost"), "10.00");
  EXPECT_EQ(first.get("cost/discounted_amortized_cost"), "9.00");
  EXPECT_EQ(first.get("resource/region"), "eu-west-1");
  EXPECT_EQ(first.get("resource/tag:cost_category:Charge_type"), "compute");
  EXPECT_EQ(harness.note("tag key rewritten: 'cost_category:Charge type' -> "
                         "'cost_category:Charge_type'"),
            1u);
  EXPECT_EQ(rows->at(1).get("cost/discounted_amortized_cost"), "4.00");
}

TEST(AwsPluginTest, Cur2ExportReadsEveryDataFileAndItsMapColumns) {
  PluginHarness harness(billdrop_plugin_entry(), config_for(fixtures / "cur2"));
  ASSERT_TRUE(harness.create().ok());
  ASSERT_TRUE(harness.check().ok()) << harness.check().error().message();
  auto months = harness.months();
  ASSERT_TRUE(months.ok()) << months.error().message();
  EXPECT_EQ(*months, std::vector<Month>{Month(2024, 10)});
  auto rows = harness.read(Month(2024, 10));
  ASSERT_TRUE(rows.ok()) << rows.error().message();
  ASSERT_EQ(rows->size(), 4u);
  // By hand: 0.45 (net) + 2.00 (net blank) + 0.04 (net) + 0.90 (net, in part-00002.csv) = 3.39.
  EXPECT_EQ(sum(*rows), Decimal::from_string("3.39"));
  const CapturedRow& s3 = rows->at(0);
  EXPECT_EQ(s3.get("resource/tag:Team"), "data");
  EXPECT_EQ(s3.get("resource/tag:Name"), "logs \"bucket\"");
  EXPECT_EQ(s3.get("resource/tag:cost_category:Env"), "prod");
  const CapturedRow& ec2 = rows->at(1);
  EXPECT_EQ(ec2.get("cost/amortized_cost"), "1.10");
  EXPECT_EQ(ec2.get("cost/discounted_amortized_cost"), "1.00");
  EXPECT_FALSE(ec2.has("resource/region")); // "global"
  const CapturedRow& lambda = rows->at(2);
  EXPECT_EQ(lambda.get("resource/tag:aws:createdBy"), "Root");
  EXPECT_EQ(lambda.get("resource/id").rfind("AWSLambda/synthetic-", 0), 0u);
  EXPECT_EQ(rows->at(3).origin, "part-00002.csv:2");
}

TEST(AwsPluginTest, CheckExplainsEveryProblemOfATree) {
  PluginHarness harness(billdrop_plugin_entry(), config_for(fixtures / "problems"));
  ASSERT_TRUE(harness.create().ok());
  auto status = harness.check();
  ASSERT_FALSE(status.ok());
  const std::string& message = status.error().message();
  const std::string root = (fixtures / "problems" / "bad-cur").string();
  EXPECT_NE(message.find("2024-01: no manifest: " + root +
                         "/20240101-20240201 has no bad-cur-Manifest.json, so the current "
                         "assembly of 2024-01 is unknown"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("2024-02: manifest " + root +
                         "/20240201-20240301/bad-cur-Manifest.json names "
                         "\"bad-cur/20240201-20240301/c2/bad-cur-1.csv.gz\", which is absent"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("2024-03: " + root +
                         "/20240301-20240401/c3/bad-cur-1.csv.gz: corrupt gzip "
                         "data"),
            std::string::npos)
      << message;
  // Every month's file is bad-cur-1.csv.gz: the month and the path say which one.
  EXPECT_NE(message.find("2024-04: unexpected header in " + root +
                         "/20240401-20240501/c4/bad-cur-1.csv.gz: no column "
                         "lineItem/UnblendedCost"),
            std::string::npos)
      << message;
}

TEST(AwsPluginTest, MissingPathAndAmbiguousPrefixAreExplained) {
  PluginHarness missing(billdrop_plugin_entry(), config_for(fixtures / "absent"));
  ASSERT_TRUE(missing.create().ok());
  EXPECT_EQ(missing.check().error().message(),
            "path " + (fixtures / "absent").string() + " does not exist");
  PluginHarness several(billdrop_plugin_entry(), config_for(fixtures));
  ASSERT_TRUE(several.create().ok());
  const auto status = several.check();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message().find("set report_name to choose one"), std::string::npos)
      << status.error().message();
  ConfigValues named = config_for(fixtures);
  named.emplace("report_name", std::string("acme-cur"));
  PluginHarness chosen(billdrop_plugin_entry(), named);
  ASSERT_TRUE(chosen.create().ok());
  EXPECT_EQ(*chosen.months(), (std::vector<Month>{Month(2024, 8), Month(2024, 9)}));
}

TEST(AwsPluginTest, MalformedLinesAreRejectedWithFileAndLine) {
  PluginHarness harness(billdrop_plugin_entry(), config_for(fixtures / "broken"));
  ASSERT_TRUE(harness.create().ok());
  auto december = harness.read(Month(2024, 12));
  ASSERT_TRUE(december.ok()) << december.error().message();
  ASSERT_EQ(december->size(), 1u);
  EXPECT_EQ(december->at(0).get("cost/cost"), "5.00");
  ASSERT_EQ(harness.rejects().size(), 2u);
  EXPECT_EQ(harness.rejects()[0].origin, "broken-cur-1.csv.gz:3");
  EXPECT_EQ(harness.rejects()[0].reason,
            "the line has 2 fields; the header of broken-cur-1.csv.gz has 4");
  EXPECT_EQ(harness.rejects()[1].origin, "broken-cur-1.csv.gz:4");
  EXPECT_EQ(harness.rejects()[1].reason,
            "lineItem/UnblendedCost \"abc\" is not a decimal number: expected digits with an "
            "optional sign, decimal point and exponent, such as -12.50 or 5e-06");

  auto november = harness.read(Month(2024, 11));
  ASSERT_FALSE(november.ok());
  EXPECT_NE(november.error().message().find("broken-cur-1.csv.gz: after line "), std::string::npos)
      << november.error().message();
  EXPECT_NE(november.error().message().find("truncated gzip"), std::string::npos);

  auto october = harness.read(Month(2024, 10));
  ASSERT_TRUE(october.ok());
  EXPECT_EQ(sum(*october), Decimal::from_string("3.00")); // 1.00 + 2.00
}

// Real public CUR excerpts (koku test data). Rows and totals are the output of
// tests/plugins/aws/reconcile_koku_samples.py (csv + decimal.Decimal summing
// lineItem/NetUnblendedCost when non-empty, else lineItem/UnblendedCost, by usage month); run it
// to check them. The alt-columns sample bills 0: AltColumnsWithNonZeroCostsReconcileExactly
// (aws_convert_e2e_test.cpp) reconciles its header with non-zero costs.
TEST(AwsPluginTest, KokuSamplesReconcileWithTheirBilledColumn) {
  struct Sample {
    const char* file;
    Month month;
    std::size_t rows;
    const char* total;
  };
  const Sample samples[] = {
      {"test_cur.csv.gz", Month(2018, 6), 19, "0.0827499841274349353"},
      {"2023-06-01.csv", Month(2023, 6), 3, "30"},
      {"2022-07-01-alt-columns.csv", Month(2022, 7), 2, "0"},
  };
  for (const Sample& sample : samples) {
    PluginHarness harness(billdrop_plugin_entry(), config_for(fixtures / "koku" / sample.file));
    ASSERT_TRUE(harness.create().ok());
    ASSERT_TRUE(harness.check().ok()) << sample.file << ": " << harness.check().error().message();
    auto months = harness.months();
    ASSERT_TRUE(months.ok()) << months.error().message();
    EXPECT_EQ(*months, std::vector<Month>{sample.month}) << sample.file;
    auto rows = harness.read(sample.month);
    ASSERT_TRUE(rows.ok()) << rows.error().message();
    EXPECT_EQ(rows->size(), sample.rows) << sample.file;
    EXPECT_TRUE(harness.rejects().empty()) << sample.file;
    EXPECT_EQ(sum(*rows), Decimal::from_string(sample.total)) << sample.file;
  }
  // test_cur.csv.gz ends every line one cell before its header's last column.
  PluginHarness short_lines(billdrop_plugin_entry(),
                            config_for(fixtures / "koku" / "test_cur.csv.gz"));
  ASSERT_TRUE(short_lines.create().ok());
  ASSERT_TRUE(short_lines.read(Month(2018, 6)).ok());
  EXPECT_EQ(short_lines.note("lines shorter than their header (missing trailing cells read as "
                             "empty)"),
            19u);
}

TEST(AwsPluginTest, KokuCostCategoriesAndTagsBecomeTagColumns) {
  PluginHarness harness(billdrop_plugin_entry(), config_for(fixtures / "koku" / "2023-06-01.csv"));
  ASSERT_TRUE(harness.create().ok());
  auto rows = harness.read(Month(2023, 6));
  ASSERT_TRUE(rows.ok()) << rows.error().message();
  const CapturedRow& row = rows->at(0);
  EXPECT_EQ(row.get("lineitem/type"), "Usage"); // SavingsPlanCoveredUsage
  EXPECT_EQ(row.get("resource/tag:cost_category:cost_env"), "prod");
  EXPECT_EQ(row.get("resource/region"), "us-west-1");
}

} // namespace

// ---- growing files (ABI 1.5): a CUR tree read while the host still downloads it ----

namespace growing {

// A copy of `tree` below <root>/objects/, every file announced as growing and empty; `fill()`
// writes the files' bytes in pieces on a thread and finishes them (or fails `failing`).
class GrowingTree {
public:
  GrowingTree(const fs::path& tree, const fs::path& root) : root_(root) {
    fs::remove_all(root_);
    for (const auto& entry : fs::recursive_directory_iterator(tree)) {
      if (!entry.is_regular_file())
        continue;
      const fs::path local = root_ / "objects" / fs::relative(entry.path(), tree.parent_path());
      fs::create_directories(local.parent_path());
      std::ifstream in(entry.path(), std::ios::binary);
      std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      auto writer = billdrop::GrowingFileWriter::announce(root_ / "objects", local, bytes.size(),
                                                          "s3://b/" + local.filename().string());
      EXPECT_TRUE(writer.ok()) << writer.error().message();
      std::ofstream(local, std::ios::binary | std::ios::trunc);
      files_.push_back({local, std::move(bytes), std::move(*writer)});
    }
  }
  ~GrowingTree() {
    if (thread_.joinable())
      thread_.join();
    fs::remove_all(root_);
  }
  fs::path path(const std::string& name) const { return root_ / "objects" / name; }

  void fill(const std::string& failing = "") {
    thread_ = std::thread([this, failing] {
      for (File& file : files_) {
        const bool fails = file.local.filename() == failing;
        // A failing download stops half-way; the others arrive in pieces of 97 bytes.
        const std::size_t end = fails ? file.bytes.size() / 2 : file.bytes.size();
        for (std::size_t at = 0; at < end; at += 97) {
          std::ofstream(file.local, std::ios::binary | std::ios::app)
              << file.bytes.substr(at, std::min<std::size_t>(97, end - at));
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        if (fails)
          file.writer.fail(billdrop::source_error(
              "s3://b/" + failing + ": the connection broke while receiving the answer (Read)",
              true));
        else
          file.writer.finish();
      }
    });
  }

private:
  struct File {
    fs::path local;
    std::string bytes;
    billdrop::GrowingFileWriter writer;
  };
  fs::path root_;
  std::vector<File> files_;
  std::thread thread_;
};

TEST(AwsPluginTest, ACurTreeStillDownloadingIsReadWholeWithTheSameTotals) {
  PluginHarness whole(billdrop_plugin_entry(), config_for(fixtures / "legacy" / "acme-cur"));
  ASSERT_TRUE(whole.create().ok());
  auto august = whole.read(Month(2024, 8));
  ASSERT_TRUE(august.ok()) << august.error().message();
  auto september = whole.read(Month(2024, 9));
  ASSERT_TRUE(september.ok()) << september.error().message();

  GrowingTree tree(fixtures / "legacy" / "acme-cur",
                   fs::temp_directory_path() /
                       ("billdrop-aws-growing-" + std::to_string(::getpid())));
  PluginHarness growing(billdrop_plugin_entry(), config_for(tree.path("acme-cur")));
  ASSERT_TRUE(growing.create().ok());
  tree.fill();
  // Manifests, gzip CSVs and the zip archive are all empty when the reads begin.
  auto growing_september = growing.read(Month(2024, 9));
  ASSERT_TRUE(growing_september.ok()) << growing_september.error().message();
  auto growing_august = growing.read(Month(2024, 8));
  ASSERT_TRUE(growing_august.ok()) << growing_august.error().message();
  EXPECT_EQ(growing_august->size(), august->size());
  EXPECT_EQ(sum(*growing_august), sum(*august));
  EXPECT_EQ(growing_september->size(), september->size());
  EXPECT_EQ(sum(*growing_september), sum(*september));
}

TEST(AwsPluginTest, ACurFileWhoseDownloadFailsFailsTheMonthWithItsMessage) {
  GrowingTree tree(fixtures / "legacy" / "acme-cur",
                   fs::temp_directory_path() /
                       ("billdrop-aws-growing-fail-" + std::to_string(::getpid())));
  PluginHarness growing(billdrop_plugin_entry(), config_for(tree.path("acme-cur")));
  ASSERT_TRUE(growing.create().ok());
  tree.fill("acme-cur-2.csv.gz");
  auto august = growing.read(Month(2024, 8));
  ASSERT_FALSE(august.ok());
  EXPECT_NE(august.error().message().find(
                "s3://b/acme-cur-2.csv.gz: the connection broke while receiving the answer (Read)"),
            std::string::npos)
      << august.error().message();
}

} // namespace growing
