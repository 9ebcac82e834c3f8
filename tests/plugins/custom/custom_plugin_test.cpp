// The custom plugin through its real C descriptor, as the host drives it.
#include <billdrop/sdk.hpp>
#include <billdrop/testing/harness.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

extern "C" const bd_plugin_descriptor* billdrop_plugin_entry(void);

namespace {

namespace fs = std::filesystem;
using billdrop::ConfigValues;
using billdrop::ErrorKind;
using billdrop::Month;
using billdrop::StringMap;
using billdrop::testing::CapturedRow;
using billdrop::testing::PluginHarness;
using Fields = std::vector<std::pair<std::string, std::string>>;

class CustomPluginTest : public ::testing::Test {
protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / ("billdrop_custom_plugin_" + std::string(info->name()) +
                                        "_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path write(const std::string& name, const std::string& bytes) {
    const fs::path file = dir_ / name;
    fs::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << bytes;
    return file;
  }

  // A config for files with the columns date,cost,service (plus whatever `extra` adds).
  static ConfigValues config_for(const fs::path& path, StringMap columns = {}) {
    if (columns.empty())
      columns = {{"time/usage_start", "{date}"},
                 {"cost/cost", "{cost}"},
                 {"resource/service", "{service}"}};
    return ConfigValues{{"path", path.string()}, {"columns", columns}};
  }

  static std::vector<std::string> origins(const std::vector<CapturedRow>& rows) {
    std::vector<std::string> out;
    for (const auto& row : rows)
      out.push_back(row.origin);
    return out;
  }

  fs::path dir_;
};

TEST_F(CustomPluginTest, DescribesItsConfigKeys) {
  const bd_plugin_descriptor* descriptor = billdrop_plugin_entry();
  EXPECT_STREQ(descriptor->name, "custom");
  auto schema = billdrop::ConfigSchema::from_json(descriptor->config_schema_json);
  ASSERT_TRUE(schema.ok()) << schema.error().message();
  std::vector<std::string> keys;
  for (const auto& key : schema->keys())
    keys.push_back(key.key);
  EXPECT_EQ(keys, (std::vector<std::string>{
                      "path", "file_pattern", "format", "delimiter", "columns", "cost_column",
                      "timestamp_format", "tag_prefix", "tag_columns", "lineitem_type_map",
                      "lineitem_type_default", "null_values", "incremental", "identity_columns"}));
  const auto* path = schema->find("path");
  ASSERT_NE(path, nullptr);
  EXPECT_EQ(path->type, billdrop::ConfigType::path);
  EXPECT_TRUE(path->required);
  const auto* nulls = schema->find("null_values");
  ASSERT_NE(nulls, nullptr);
  ASSERT_TRUE(nulls->default_value.has_value());
  EXPECT_EQ(std::get<std::vector<std::string>>(*nulls->default_value),
            (std::vector<std::string>{"NULL", "null"}));
}

TEST_F(CustomPluginTest, UnknownConfigKeyIsRejectedBeforeThePluginRuns) {
  ConfigValues config = config_for(dir_ / "usage.csv");
  config.emplace("delimeter", std::string(";"));
  PluginHarness harness(billdrop_plugin_entry(), config);
  auto status = harness.create();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message().find("unknown config key 'delimeter'"), std::string::npos)
      << status.error().message();
}

TEST_F(CustomPluginTest, MissingColumnsKeyIsRejected) {
  PluginHarness harness(billdrop_plugin_entry(), {{"path", (dir_ / "x.csv").string()}});
  auto status = harness.create();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message().find("missing required config key 'columns'"),
            std::string::npos)
      << status.error().message();
}

TEST_F(CustomPluginTest, CreateReportsEveryConfigProblem) {
  ConfigValues config = config_for(dir_ / "x.csv", {{"time/usage_start", "{date"}});
  config.emplace("delimiter", std::string(";;"));
  config.emplace("format", std::string("xml"));
  PluginHarness harness(billdrop_plugin_entry(), config);
  auto status = harness.create();
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind(), ErrorKind::config);
  const std::string& message = status.error().message();
  EXPECT_NE(message.find("format \"xml\" is not one of auto, csv, json, ndjson"), std::string::npos)
      << message;
  EXPECT_NE(message.find("delimiter \";;\" must be exactly one character"), std::string::npos)
      << message;
  EXPECT_NE(message.find("template \"{date\""), std::string::npos) << message;
  EXPECT_NE(message.find("no \"cost/cost\" template"), std::string::npos) << message;
}

TEST_F(CustomPluginTest, CheckNamesTheMissingColumnAndListsTheHeader) {
  const auto file = write("usage.csv", "date,amount,service\n2026-08-01,1,GPU\n");
  PluginHarness harness(billdrop_plugin_entry(), config_for(file));
  ASSERT_TRUE(harness.create().ok());
  auto status = harness.check();
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind(), ErrorKind::config);
  EXPECT_EQ(status.error().message(),
            "columns.\"cost/cost\" = \"{cost}\" refers to the column \"cost\", which is not in the "
            "header of usage.csv; the columns there are: \"date\", \"amount\", \"service\"");
  // read() refuses the same way, before any row.
  auto rows = harness.read(Month(2026, 8));
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(rows.error().message(), status.error().message());
  EXPECT_TRUE(harness.rows().empty());
}

TEST_F(CustomPluginTest, CheckSaysWhenThePathIsMissing) {
  PluginHarness harness(billdrop_plugin_entry(), config_for(dir_ / "absent.csv"));
  ASSERT_TRUE(harness.create().ok());
  auto status = harness.check();
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind(), ErrorKind::source);
  EXPECT_EQ(status.error().message(), "path " + (dir_ / "absent.csv").string() + " does not exist");
}

TEST_F(CustomPluginTest, CheckPassesOnAReadableExport) {
  const auto file = write("usage.csv", "date,cost,service\n2026-08-01,1,GPU\n");
  PluginHarness harness(billdrop_plugin_entry(), config_for(file));
  ASSERT_TRUE(harness.create().ok());
  auto status = harness.check();
  EXPECT_TRUE(status.ok()) << status.error().message();
}

TEST_F(CustomPluginTest, ListsTheMonthsOfEveryRoutableRecord) {
  const auto file = write("usage.csv", "date,cost,service\n"
                                       "2026-10-03,1,GPU\n"
                                       "2026-08-31 23:59:59,1,GPU\n"
                                       "not a date,1,GPU\n"
                                       "2026-09-01T00:00:00Z,1,GPU\n"
                                       "2026-10-01,2,GPU\n"
                                       "2026-07-15\n");
  PluginHarness harness(billdrop_plugin_entry(), config_for(file));
  ASSERT_TRUE(harness.create().ok());
  auto months = harness.months();
  ASSERT_TRUE(months.ok()) << months.error().message();
  EXPECT_EQ(*months, (std::vector<Month>{Month(2026, 8), Month(2026, 9), Month(2026, 10)}));
}

// With no month to read, read() never runs to reject the records: the listing is the only place
// left to say that every record was rejected, how many, and why the first ones were.
TEST_F(CustomPluginTest, AnExportWithoutOneRoutableRecordIsADataErrorNamingTheFirstReasons) {
  const auto file = write("usage.csv", "date,cost,service\n"
                                       "2025-13-01,1,GPU\n"
                                       "2025-02-30,2,GPU\n"
                                       "2025-03-01 24:00,3,GPU\n"
                                       "2025-04-31,4,GPU\n"
                                       "2025-05-01\n");
  PluginHarness harness(billdrop_plugin_entry(), config_for(file));
  ASSERT_TRUE(harness.create().ok());
  auto months = harness.months();
  ASSERT_FALSE(months.ok());
  EXPECT_EQ(months.error().kind(), ErrorKind::data);
  const std::string& message = months.error().message();
  // Five records (lines 2 to 6), none placed; the first three reasons are shown.
  EXPECT_NE(message.find("5 records, all rejected"), std::string::npos) << message;
  EXPECT_NE(message.find("usage.csv:2: time/usage_start: [timestamp]"), std::string::npos)
      << message;
  EXPECT_NE(message.find("2025-13-01"), std::string::npos) << message;
  EXPECT_NE(message.find("usage.csv:3: time/usage_start: [timestamp]"), std::string::npos)
      << message;
  EXPECT_NE(message.find("usage.csv:4: time/usage_start: [timestamp]"), std::string::npos)
      << message;
  EXPECT_EQ(message.find("usage.csv:5"), std::string::npos) << message;

  // The same for a timestamp_format that matches none of the dates.
  const auto iso = write("iso.csv", "date,cost,service\n2026-08-01 10:00,1,GPU\n");
  ConfigValues config = config_for(iso);
  config.emplace("timestamp_format", std::string("%m/%d/%Y %H:%M"));
  PluginHarness wrong_format(billdrop_plugin_entry(), config);
  ASSERT_TRUE(wrong_format.create().ok());
  auto none = wrong_format.months();
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().kind(), ErrorKind::data);
  EXPECT_NE(none.error().message().find("1 record, all rejected"), std::string::npos)
      << none.error().message();
  EXPECT_NE(none.error().message().find("iso.csv:2: time/usage_start: [timestamp]"),
            std::string::npos)
      << none.error().message();

  // An empty export holds no month, and that is no error.
  PluginHarness empty(billdrop_plugin_entry(),
                      config_for(write("empty.csv", "date,cost,service\n")));
  ASSERT_TRUE(empty.create().ok());
  auto no_months = empty.months();
  ASSERT_TRUE(no_months.ok()) << no_months.error().message();
  EXPECT_TRUE(no_months->empty());
}

TEST_F(CustomPluginTest, ReadsOneMonthWithQuotesNewlinesCrlfAndBom) {
  const auto file =
      write("usage.csv", "\xEF\xBB\xBF"
                         "date,cost,service,project,vm,desc\r\n"
                         "2026-08-01 05:00:00,12.50,GPU Compute,ml,vm-1,\"H100, 1x\"\r\n"
                         "2026-09-01 00:00:00,1,GPU Compute,ml,vm-1,next month\r\n"
                         "2026-08-02T07:30:00Z, -0.00000123 ,Storage,,,\"two\r\nlines\"\r\n"
                         "2026-08-31 23:00:00,5e-06,\"Egress \"\"fast\"\"\",web,,\r\n");
  ConfigValues config = config_for(file, {{"time/usage_start", "{date}"},
                                          {"cost/cost", "{cost}"},
                                          {"resource/service", "{service}"},
                                          {"resource/id", "{project}/{vm}"},
                                          {"lineitem/description", "{desc}"},
                                          {"resource/region", "us-east-1"}});
  PluginHarness harness(billdrop_plugin_entry(), config);
  ASSERT_TRUE(harness.create().ok());
  auto rows = harness.read(Month(2026, 8));
  ASSERT_TRUE(rows.ok()) << rows.error().message();
  EXPECT_TRUE(harness.rejects().empty());
  ASSERT_EQ(rows->size(), 3u);
  EXPECT_EQ(origins(*rows),
            (std::vector<std::string>{"usage.csv:2", "usage.csv:4", "usage.csv:6"}));
  EXPECT_EQ((*rows)[0].fields, (Fields{{"time/usage_start", "2026-08-01T05:00:00Z"},
                                       {"cost/cost", "12.50"},
                                       {"resource/service", "GPU Compute"},
                                       {"resource/id", "ml/vm-1"},
                                       {"lineitem/description", "H100, 1x"},
                                       {"resource/region", "us-east-1"},
                                       {"lineitem/type", "Usage"}}));
  EXPECT_EQ((*rows)[1].fields, (Fields{{"time/usage_start", "2026-08-02T07:30:00Z"},
                                       {"cost/cost", "-0.00000123"},
                                       {"resource/service", "Storage"},
                                       {"lineitem/description", "two\r\nlines"},
                                       {"resource/region", "us-east-1"},
                                       {"lineitem/type", "Usage"}}));
  // Costs go to the host as written (it normalises exponents); only spaces are trimmed.
  EXPECT_EQ((*rows)[2].get("cost/cost"), "5e-06");
  EXPECT_EQ((*rows)[2].get("resource/service"), "Egress \"fast\"");
  EXPECT_EQ((*rows)[2].get("resource/id"), "web/");
}

TEST_F(CustomPluginTest, UnroutableRecordsAreRejectedInEveryReadOthersOnlyInTheirMonth) {
  const auto file = write("usage.csv", "date,cost,service,end\n"
                                       "2026-08-01,1,GPU,2026-08-01T01:00:00Z\n"
                                       "2026-08-02,2,GPU\n"
                                       "08/03/2026 x,3,GPU,\n"
                                       ",4,GPU,\n"
                                       "2026-08-04,5,GPU,whenever\n"
                                       "2026-09-01,6,GPU,\n");
  ConfigValues config = config_for(
      file, {{"time/usage_start", "{date}"}, {"time/usage_end", "{end}"}, {"cost/cost", "{cost}"}});
  PluginHarness harness(billdrop_plugin_entry(), config);
  ASSERT_TRUE(harness.create().ok());

  auto august = harness.read(Month(2026, 8));
  ASSERT_TRUE(august.ok()) << august.error().message();
  ASSERT_EQ(august->size(), 1u);
  EXPECT_EQ((*august)[0].get("time/usage_end"), "2026-08-01T01:00:00Z");
  const auto august_rejects = harness.rejects();
  ASSERT_EQ(august_rejects.size(), 4u);
  EXPECT_EQ(august_rejects[0].origin, "usage.csv:3");
  // Each reject names the column and the rule (ABI 1.2), the reason says the rest.
  EXPECT_EQ(august_rejects[0].reason, "the row has 3 fields but the header has 4");
  EXPECT_EQ(august_rejects[0].column, "");
  EXPECT_EQ(august_rejects[0].rule, "record_shape");
  EXPECT_EQ(august_rejects[1].origin, "usage.csv:4");
  EXPECT_EQ(august_rejects[1].column, "time/usage_start");
  EXPECT_EQ(august_rejects[1].rule, "timestamp");
  EXPECT_NE(august_rejects[1].reason.find("08/03/2026 x"), std::string::npos);
  EXPECT_EQ(august_rejects[2].origin, "usage.csv:5");
  EXPECT_EQ(august_rejects[2].column, "time/usage_start");
  EXPECT_EQ(august_rejects[2].rule, "required");
  EXPECT_EQ(august_rejects[2].reason, "the template \"{date}\" gives a blank value");
  EXPECT_EQ(august_rejects[3].origin, "usage.csv:6");
  EXPECT_EQ(august_rejects[3].column, "time/usage_end");
  EXPECT_EQ(august_rejects[3].rule, "timestamp");
  EXPECT_NE(august_rejects[3].reason.find("whenever"), std::string::npos);

  auto september = harness.read(Month(2026, 9));
  ASSERT_TRUE(september.ok());
  ASSERT_EQ(september->size(), 1u);
  EXPECT_EQ((*september)[0].origin, "usage.csv:7");
  EXPECT_FALSE((*september)[0].has("time/usage_end"));
  // The three records without a month are rejected again; the August-only one is not.
  ASSERT_EQ(harness.rejects().size(), 3u);
  EXPECT_EQ(harness.rejects()[0].origin, "usage.csv:3");
  EXPECT_EQ(harness.rejects()[1].origin, "usage.csv:4");
  EXPECT_EQ(harness.rejects()[2].origin, "usage.csv:5");
}

TEST_F(CustomPluginTest, TimestampFormatForUsStyleDates) {
  const auto file = write("usage.csv", "date,cost,service\n"
                                       "08/31/2026 23:00,1,GPU\n"
                                       "09/01/2026 00:00,2,GPU\n"
                                       "2026-08-30 10:00,3,GPU\n");
  ConfigValues config = config_for(file);
  config.emplace("timestamp_format", std::string("%m/%d/%Y %H:%M"));
  PluginHarness harness(billdrop_plugin_entry(), config);
  ASSERT_TRUE(harness.create().ok());
  auto rows = harness.read(Month(2026, 8));
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].get("time/usage_start"), "2026-08-31T23:00:00Z");
  ASSERT_EQ(harness.rejects().size(), 1u); // ISO text does not match the configured format
  EXPECT_EQ(harness.rejects()[0].origin, "usage.csv:4");
  EXPECT_EQ(harness.rejects()[0].column, "time/usage_start");
  EXPECT_EQ(harness.rejects()[0].rule, "timestamp");
  EXPECT_NE(harness.rejects()[0].reason.find("2026-08-30 10:00"), std::string::npos)
      << harness.rejects()[0].reason;
}

TEST_F(CustomPluginTest, LineItemTypeMapAndDefault) {
  const auto file = write("usage.csv", "date,cost,charge\n"
                                       "2026-08-01,10,usage\n"
                                       "2026-08-01,0.73,SALES TAX\n"
                                       "2026-08-01,-5,Promo Credit\n"
                                       "2026-08-01,1,\n"
                                       "2026-08-01,1,Refund\n");
  ConfigValues config = config_for(
      file,
      {{"time/usage_start", "{date}"}, {"cost/cost", "{cost}"}, {"lineitem/type", "{charge}"}});
  config.emplace("lineitem_type_map",
                 StringMap{{"Usage", "Usage"}, {"sales tax", "Tax"}, {"promo credit", "Credit"}});
  config.emplace("lineitem_type_default", std::string("Fee"));
  PluginHarness harness(billdrop_plugin_entry(), config);
  ASSERT_TRUE(harness.create().ok());
  harness.accept_invalid_rows(); // an unmapped "Refund" passes through, for the host to refuse
  auto rows = harness.read(Month(2026, 8));
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(harness.row_problems().size(), 1u);
  EXPECT_EQ(harness.row_problems()[0].row, 4u);
  EXPECT_EQ(harness.row_problems()[0].rule, "lineitem_type");
  ASSERT_EQ(rows->size(), 5u);
  EXPECT_EQ((*rows)[0].get("lineitem/type"), "Usage");
  EXPECT_EQ((*rows)[1].get("lineitem/type"), "Tax");
  EXPECT_EQ((*rows)[2].get("lineitem/type"), "Credit");
  EXPECT_EQ((*rows)[3].get("lineitem/type"), "Fee");
  EXPECT_EQ((*rows)[4].get("lineitem/type"), "Refund");
}

TEST_F(CustomPluginTest, TagsByPrefixAndByListWithKeysRewritten) {
  const auto file = write("usage.csv", "date,cost,vm,tag_team,tag_cost center,Owner Email,env\n"
                                       "2026-08-01,1,vm-1,ml,CC-1,ana@example.com,NULL\n"
                                       "2026-08-01,1,vm-2,,,,prod\n");
  ConfigValues config = config_for(
      file, {{"time/usage_start", "{date}"}, {"cost/cost", "{cost}"}, {"resource/id", "{vm}"}});
  config.emplace("tag_prefix", std::string("tag_"));
  config.emplace("tag_columns", std::vector<std::string>{"Owner Email", "env"});
  PluginHarness harness(billdrop_plugin_entry(), config);
  ASSERT_TRUE(harness.create().ok());
  auto rows = harness.read(Month(2026, 8));
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].fields, (Fields{{"time/usage_start", "2026-08-01T00:00:00Z"},
                                       {"cost/cost", "1"},
                                       {"resource/id", "vm-1"},
                                       {"lineitem/type", "Usage"},
                                       {"resource/tag:Owner_Email", "ana@example.com"},
                                       {"resource/tag:team", "ml"},
                                       {"resource/tag:cost_center", "CC-1"}}));
  EXPECT_EQ((*rows)[1].fields, (Fields{{"time/usage_start", "2026-08-01T00:00:00Z"},
                                       {"cost/cost", "1"},
                                       {"resource/id", "vm-2"},
                                       {"lineitem/type", "Usage"},
                                       {"resource/tag:env", "prod"}}));
}

TEST_F(CustomPluginTest, GzipCsvWithCostColumnShorthand) {
  const auto file = write("usage.csv.gz", billdrop::gzip_compress("day;Amount (USD);sku\n"
                                                                  "2026-08-05;  3.25 ;g1\n"
                                                                  "2026-08-06;4;g2\n"));
  ConfigValues config{
      {"path", file.string()},
      {"columns", StringMap{{"time/usage_start", "{day}"}, {"action/usage_type", "{sku}"}}},
      {"cost_column", std::string("Amount (USD)")},
      {"delimiter", std::string(";")}};
  PluginHarness harness(billdrop_plugin_entry(), config);
  ASSERT_TRUE(harness.create().ok());
  auto rows = harness.read(Month(2026, 8));
  ASSERT_TRUE(rows.ok()) << rows.error().message();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].get("cost/cost"), "3.25");
  EXPECT_EQ((*rows)[0].get("action/usage_type"), "g1");
  EXPECT_EQ((*rows)[1].origin, "usage.csv.gz:3");
}

TEST_F(CustomPluginTest, TsvFilesUseTabUnlessAnotherDelimiterIsSet) {
  const auto file = write("usage.tsv", "date\tcost\tservice\n2026-08-05\t1,5\tGPU\n");
  PluginHarness harness(billdrop_plugin_entry(), config_for(file));
  ASSERT_TRUE(harness.create().ok());
  harness.accept_invalid_rows();
  auto rows = harness.read(Month(2026, 8));
  ASSERT_TRUE(rows.ok()) << rows.error().message();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].get("cost/cost"), "1,5"); // the host rejects it; the plugin only reads
  ASSERT_EQ(harness.row_problems().size(), 1u);
  EXPECT_EQ(harness.row_problems()[0].column, "cost/cost");
  EXPECT_EQ(harness.row_problems()[0].rule, "decimal");
}

TEST_F(CustomPluginTest, JsonArrayWithNestedFields) {
  const auto file = write("usage.json", R"([
  {"start": "2026-08-01T00:00:00Z", "cost": 1.50000001, "usage": {"amount": 3, "unit": "h"},
   "project": {"id": "p1", "labels": {"team": "ml"}}, "credits": [{"amount": -0.5}]},
  {"start": "2026-08-01T01:00:00Z", "cost": "2", "usage": {"amount": null, "unit": "h"},
   "project": {"id": "p2", "labels": {}}, "credits": []}
])");
  ConfigValues config = config_for(file, {{"time/usage_start", "{start}"},
                                          {"cost/cost", "{cost}"},
                                          {"usage/amount", "{usage.amount}"},
                                          {"usage/units", "{usage.unit}"},
                                          {"resource/id", "project/{project.id}"},
                                          {"k8s/labels", "{credits}"}});
  config.emplace("tag_prefix", std::string("project.labels."));
  PluginHarness harness(billdrop_plugin_entry(), config);
  ASSERT_TRUE(harness.create().ok());
  ASSERT_TRUE(harness.check().ok());
  auto rows = harness.read(Month(2026, 8));
  ASSERT_TRUE(rows.ok()) << rows.error().message();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].fields, (Fields{{"time/usage_start", "2026-08-01T00:00:00Z"},
                                       {"cost/cost", "1.50000001"},
                                       {"usage/amount", "3"},
                                       {"usage/units", "h"},
                                       {"resource/id", "project/p1"},
                                       {"k8s/labels", "[{\"amount\": -0.5}]"},
                                       {"lineitem/type", "Usage"},
                                       {"resource/tag:team", "ml"}}));
  EXPECT_EQ((*rows)[0].origin, "usage.json:2");
  EXPECT_FALSE((*rows)[1].has("usage/amount"));
  EXPECT_EQ((*rows)[1].get("k8s/labels"), "[]");
  EXPECT_FALSE((*rows)[1].has("resource/tag:team"));
}

TEST_F(CustomPluginTest, NdjsonWithInvalidRecordsAndTagsAppearingLater) {
  const auto file =
      write("usage.jsonl",
            "{\"t\":\"2026-08-01\",\"c\":\"1\",\"r\":\"vm-1\",\"labels\":{\"a\":\"x\"}}\n"
            "{\"t\":\"2026-08-01\",\"c\":\"2\",}\n"
            "{\"t\":\"2026-08-02\",\"c\":\"3\",\"r\":\"vm-2\",\"labels\":{\"env\":\"prod\"}}\n");
  ConfigValues config =
      config_for(file, {{"time/usage_start", "{t}"}, {"cost/cost", "{c}"}, {"resource/id", "{r}"}});
  config.emplace("tag_prefix", std::string("labels."));
  PluginHarness harness(billdrop_plugin_entry(), config);
  ASSERT_TRUE(harness.create().ok());
  auto rows = harness.read(Month(2026, 8));
  ASSERT_TRUE(rows.ok()) << rows.error().message();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].get("resource/tag:a"), "x");
  EXPECT_EQ((*rows)[1].get("resource/tag:env"), "prod");
  EXPECT_EQ((*rows)[1].origin, "usage.jsonl:3");
  ASSERT_EQ(harness.rejects().size(), 1u);
  EXPECT_EQ(harness.rejects()[0].origin, "usage.jsonl:2");
  EXPECT_NE(harness.rejects()[0].reason.find("invalid JSON"), std::string::npos);
  EXPECT_EQ(harness.rejects()[0].rule, "json_syntax");
}

TEST_F(CustomPluginTest, DeeplyNestedRecordIsRejectedNamingFileRecordAndLimit) {
  // 50,000 levels of {"a": used to crash convert and check (stack overflow in the flattening).
  std::string deep;
  for (int i = 0; i < 50'000; ++i)
    deep += "{\"a\":";
  deep += "1" + std::string(50'000, '}');
  const auto file =
      write("deep.ndjson", deep + "\n{\"t\":\"2026-08-01\",\"c\":\"1.5\"}\n" + deep + "\n");
  const ConfigValues config = config_for(file, {{"time/usage_start", "{t}"}, {"cost/cost", "{c}"}});
  PluginHarness harness(billdrop_plugin_entry(), config);
  ASSERT_TRUE(harness.create().ok());
  // check looks past the deep first record to the first valid one.
  const auto checked = harness.check();
  EXPECT_TRUE(checked.ok()) << checked.error().message();
  auto rows = harness.read(Month(2026, 8));
  ASSERT_TRUE(rows.ok()) << rows.error().message();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].get("cost/cost"), "1.5");
  ASSERT_EQ(harness.rejects().size(), 2u);
  EXPECT_EQ(harness.rejects()[0].origin, "deep.ndjson:1");
  EXPECT_EQ(harness.rejects()[1].origin, "deep.ndjson:3");
  for (const auto& reject : harness.rejects()) {
    EXPECT_EQ(reject.rule, "json_syntax");
    EXPECT_NE(reject.reason.find("nests objects more than 64 levels deep"), std::string::npos)
        << reject.reason;
    EXPECT_NE(reject.reason.find("reads at most 64"), std::string::npos) << reject.reason;
  }
}

TEST_F(CustomPluginTest, JsonTemplateColumnMissingFromTheFirstRecord) {
  const auto file = write("usage.ndjson", "{\"t\":\"2026-08-01\",\"cost\":{\"amount\":\"1\"}}\n");
  PluginHarness harness(billdrop_plugin_entry(), config_for(file, {{"time/usage_start", "{t}"},
                                                                   {"cost/cost", "{cost.value}"}}));
  ASSERT_TRUE(harness.create().ok());
  auto status = harness.check();
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().message(),
            "columns.\"cost/cost\" = \"{cost.value}\" refers to the column \"cost.value\", which "
            "is not in the first record of usage.ndjson; the columns there are: \"t\", "
            "\"cost.amount\"");
}

TEST_F(CustomPluginTest, DirectoryModeReadsMatchingFilesInNameOrder) {
  write("exports/usage-2026-08-02.csv", "date,cost,service\n2026-08-02,2,GPU\n");
  write("exports/usage-2026-08-01.csv.gz",
        billdrop::gzip_compress("date,cost,service\n2026-08-01,1,GPU\n2026-09-01,9,GPU\n"));
  write("exports/usage-2026-08-03.ndjson",
        "{\"date\":\"2026-08-03\",\"cost\":\"3\",\"service\":\"GPU\"}\n");
  write("exports/README.md", "not an export\n");
  ConfigValues config = config_for(dir_ / "exports");
  config.emplace("file_pattern", std::string("usage-*"));
  PluginHarness harness(billdrop_plugin_entry(), config);
  ASSERT_TRUE(harness.create().ok());
  ASSERT_TRUE(harness.check().ok());
  auto months = harness.months();
  ASSERT_TRUE(months.ok()) << months.error().message();
  EXPECT_EQ(*months, (std::vector<Month>{Month(2026, 8), Month(2026, 9)}));
  auto rows = harness.read(Month(2026, 8));
  ASSERT_TRUE(rows.ok()) << rows.error().message();
  EXPECT_EQ(origins(*rows),
            (std::vector<std::string>{"usage-2026-08-01.csv.gz:2", "usage-2026-08-02.csv:2",
                                      "usage-2026-08-03.ndjson:1"}));
  // Without the pattern, README.md's extension says nothing about its format.
  PluginHarness all(billdrop_plugin_entry(), config_for(dir_ / "exports"));
  ASSERT_TRUE(all.create().ok());
  auto status = all.check();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message().find("README.md"), std::string::npos);
}

// ---- incremental mode ----

ConfigValues incremental_config(const fs::path& folder) {
  ConfigValues config{{"path", folder.string()},
                      {"columns", StringMap{{"time/usage_start", "{date}"},
                                            {"cost/cost", "{cost}"},
                                            {"resource/service", "{service}"}}}};
  config.emplace("incremental", true);
  return config;
}

TEST_F(CustomPluginTest, NotIncrementalByDefault) {
  const auto file = write("usage.csv", "date,cost,service\n2026-08-01,1,GPU\n");
  PluginHarness harness(billdrop_plugin_entry(), config_for(file));
  ASSERT_TRUE(harness.create().ok());
  auto answer = harness.incremental();
  ASSERT_TRUE(answer.ok()) << answer.error().message();
  EXPECT_FALSE(answer->incremental);
  EXPECT_TRUE(answer->identity_columns.empty());
}

TEST_F(CustomPluginTest, IncrementalModeReadsTheFilesAfterTheCursorInNameOrder) {
  write("drops/2026-08-02.csv", "date,cost,service\n2026-08-02,3.00,GPU\n2026-09-01,4.00,GPU\n");
  write("drops/2026-08-01.csv", "date,cost,service\n2026-08-01,1.00,GPU\n2026-08-01,2.00,CPU\n");
  write("drops/.2026-08-03.csv.partial", "date,cost,service\n2026-08-03,9,GPU\n"); // hidden
  ConfigValues config = incremental_config(dir_ / "drops");
  config.emplace("identity_columns",
                 std::vector<std::string>{"time/usage_start", "resource/service"});
  PluginHarness harness(billdrop_plugin_entry(), config);
  ASSERT_TRUE(harness.create().ok());
  ASSERT_TRUE(harness.check().ok());
  auto answer = harness.incremental();
  ASSERT_TRUE(answer.ok()) << answer.error().message();
  EXPECT_TRUE(answer->incremental);
  EXPECT_EQ(answer->identity_columns,
            (std::vector<std::string>{"time/usage_start", "resource/service"}));
  auto months = harness.months();
  ASSERT_TRUE(months.ok()) << months.error().message();
  EXPECT_EQ(*months, (std::vector<Month>{Month(2026, 8), Month(2026, 9)}));

  // From the start: every file, whatever the month, a cursor after each.
  auto rows = harness.read_since("");
  ASSERT_TRUE(rows.ok()) << rows.error().message();
  EXPECT_EQ(origins(*rows), (std::vector<std::string>{"2026-08-01.csv:2", "2026-08-01.csv:3",
                                                      "2026-08-02.csv:2", "2026-08-02.csv:3"}));
  EXPECT_EQ(rows->at(3).get("time/usage_start"), "2026-09-01T00:00:00Z");
  EXPECT_EQ(rows->at(3).get("cost/cost"), "4.00");
  EXPECT_EQ(rows->at(3).get("resource/service"), "GPU");
  EXPECT_EQ(harness.cursors(),
            (std::vector<std::string>{"2026-08-01.csv", "2026-08-02.csv", "2026-08-02.csv"}));
  EXPECT_EQ(harness.cursor_rows(), (std::vector<std::size_t>{2, 4, 4}));

  // Nothing new since the last file.
  rows = harness.read_since("2026-08-02.csv");
  ASSERT_TRUE(rows.ok()) << rows.error().message();
  EXPECT_TRUE(rows->empty());
  EXPECT_EQ(harness.cursors(), std::vector<std::string>{"2026-08-02.csv"});

  // A new file: only its records.
  write("drops/2026-08-03.csv", "date,cost,service\n2026-08-01,1.50,GPU\n");
  rows = harness.read_since("2026-08-02.csv");
  ASSERT_TRUE(rows.ok()) << rows.error().message();
  EXPECT_EQ(origins(*rows), std::vector<std::string>{"2026-08-03.csv:2"});
  EXPECT_EQ(harness.cursors().back(), "2026-08-03.csv");

  // A month cannot be read whole: a later file may restate a record of an earlier one.
  auto whole = harness.read(Month(2026, 8));
  ASSERT_FALSE(whole.ok());
  EXPECT_EQ(whole.error().kind(), ErrorKind::config);
  EXPECT_NE(whole.error().message().find("with incremental = true a month cannot be read whole"),
            std::string::npos)
      << whole.error().message();
}

TEST_F(CustomPluginTest, IncrementalModeWithAnEmptyFolderReadsNothing) {
  fs::create_directories(dir_ / "drops");
  PluginHarness harness(billdrop_plugin_entry(), incremental_config(dir_ / "drops"));
  ASSERT_TRUE(harness.create().ok());
  ASSERT_TRUE(harness.check().ok());
  auto rows = harness.read_since("");
  ASSERT_TRUE(rows.ok()) << rows.error().message();
  EXPECT_TRUE(rows->empty());
  EXPECT_EQ(harness.cursors(), std::vector<std::string>{""});
}

TEST_F(CustomPluginTest, IncrementalModeNeedsAFolder) {
  const auto file = write("usage.csv", "date,cost,service\n2026-08-01,1,GPU\n");
  PluginHarness harness(billdrop_plugin_entry(), incremental_config(file));
  ASSERT_TRUE(harness.create().ok());
  const auto check = harness.check();
  ASSERT_FALSE(check.ok());
  EXPECT_EQ(check.error().kind(), ErrorKind::config);
  EXPECT_EQ(check.error().message(),
            "with incremental = true, path must be a folder to which each new file brings new or "
            "changed records; " +
                file.string() + " is a file");
  auto rows = harness.read_since("");
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(rows.error().kind(), ErrorKind::config);
}

TEST_F(CustomPluginTest, IdentityColumnsWithoutIncrementalIsAConfigError) {
  const auto file = write("usage.csv", "date,cost,service\n2026-08-01,1,GPU\n");
  ConfigValues config = config_for(file);
  config.emplace("identity_columns", std::vector<std::string>{"resource/service"});
  PluginHarness harness(billdrop_plugin_entry(), config);
  const auto created = harness.create();
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.error().message(), "identity_columns is only used with incremental = true");
}

TEST_F(CustomPluginTest, IncrementalModeStopsAtAMalformedFileAfterTheCursorsBeforeIt) {
  write("drops/a.csv", "date,cost,service\n2026-08-01,1,GPU\n");
  write("drops/b.csv", "date,cost,service\n2026-08-02,2,\"GPU\n");
  PluginHarness harness(billdrop_plugin_entry(), incremental_config(dir_ / "drops"));
  ASSERT_TRUE(harness.create().ok());
  auto rows = harness.read_since("");
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(rows.error().kind(), ErrorKind::data);
  EXPECT_NE(rows.error().message().find("b.csv"), std::string::npos) << rows.error().message();
  EXPECT_EQ(harness.cursors(), std::vector<std::string>{"a.csv"});
}

TEST_F(CustomPluginTest, MalformedFileIsADataErrorNamingFileAndLine) {
  const auto file = write("usage.csv", "date,cost,service\n"
                                       "2026-08-01,1,GPU\n"
                                       "2026-08-02,2,\"GPU\n"
                                       "2026-08-03,3,GPU\n");
  PluginHarness harness(billdrop_plugin_entry(), config_for(file));
  ASSERT_TRUE(harness.create().ok());
  auto rows = harness.read(Month(2026, 8));
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(rows.error().kind(), ErrorKind::data);
  EXPECT_NE(rows.error().message().find("usage.csv:"), std::string::npos) << rows.error().message();
  EXPECT_NE(rows.error().message().find("line 3"), std::string::npos) << rows.error().message();
}

TEST_F(CustomPluginTest, TruncatedGzipIsADataError) {
  std::string csv = "date,cost,service\n";
  for (int day = 1; day <= 28; ++day)
    for (int i = 0; i < 100; ++i)
      csv += "2026-08-" + std::string(day < 10 ? "0" : "") + std::to_string(day) + "," +
             std::to_string(i) + ",GPU\n";
  const std::string gz = billdrop::gzip_compress(csv);
  const auto file = write("usage.csv.gz", gz.substr(0, gz.size() - 20));
  PluginHarness harness(billdrop_plugin_entry(), config_for(file));
  ASSERT_TRUE(harness.create().ok());
  auto rows = harness.read(Month(2026, 8));
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(rows.error().kind(), ErrorKind::data);
  EXPECT_NE(rows.error().message().find("usage.csv.gz"), std::string::npos)
      << rows.error().message();
}

// The harness always lets a read go on; the host's sink may ask it to stop.
TEST_F(CustomPluginTest, StopsWhenTheHostAsksToStop) {
  std::string csv = "date,cost,service\n";
  for (int i = 0; i < 3000; ++i)
    csv += "2026-08-01," + std::to_string(i) + ",GPU\n";
  const auto file = write("usage.csv", csv);
  const bd_plugin_descriptor* descriptor = billdrop_plugin_entry();
  auto schema = billdrop::ConfigSchema::from_json(descriptor->config_schema_json);
  ASSERT_TRUE(schema.ok());
  auto values = schema->validate("custom", config_for(file));
  ASSERT_TRUE(values.ok());
  const std::string json = billdrop::config_to_json(*values);
  void* instance = nullptr;
  ASSERT_EQ(descriptor->create(json.data(), json.size(), &instance, nullptr), BD_OK);

  struct Counter {
    std::size_t batches = 0;
    std::size_t rows = 0;
  } counter;
  bd_sink sink{&counter,
               [](void* context, const bd_row*, size_t count) -> int32_t {
                 auto* c = static_cast<Counter*>(context);
                 ++c->batches;
                 c->rows += count;
                 return 1; // stop
               },
               nullptr, nullptr, nullptr};
  char message[512];
  bd_error error{0, message, sizeof message, 0};
  const std::string month = "2026-08";
  EXPECT_EQ(descriptor->read(instance, bd_str{month.data(), month.size()}, &sink, &error),
            BD_ERR_CANCELLED);
  EXPECT_EQ(counter.batches, 1u);
  EXPECT_LT(counter.rows, 3000u);
  descriptor->destroy(instance);
}

TEST_F(CustomPluginTest, ReportsProgressInBytesOfTheExport) {
  std::string csv = "date,cost,service\n";
  for (int i = 0; i < 140000; ++i) // ~11 MB: the reader's 1 MiB blocks stay well behind
    csv += "2026-08-01," + std::to_string(i) + "," + std::string(60, 'G') + "\n";
  const auto file = write("usage.csv", csv);
  const bd_plugin_descriptor* descriptor = billdrop_plugin_entry();
  auto schema = billdrop::ConfigSchema::from_json(descriptor->config_schema_json);
  ASSERT_TRUE(schema.ok());
  auto values = schema->validate("custom", config_for(file));
  ASSERT_TRUE(values.ok());
  const std::string json = billdrop::config_to_json(*values);
  void* instance = nullptr;
  ASSERT_EQ(descriptor->create(json.data(), json.size(), &instance, nullptr), BD_OK);

  std::vector<std::pair<std::uint64_t, std::uint64_t>> calls;
  bd_sink sink{
      &calls, [](void*, const bd_row*, size_t) -> int32_t { return 0; }, nullptr,
      [](void* context, uint64_t done, uint64_t total) {
        static_cast<std::vector<std::pair<std::uint64_t, std::uint64_t>>*>(context)->emplace_back(
            done, total);
      },
      nullptr};
  const std::string month = "2026-08";
  ASSERT_EQ(descriptor->read(instance, bd_str{month.data(), month.size()}, &sink, nullptr), BD_OK);
  descriptor->destroy(instance);
  // A report after 65,536 and 131,072 records, part-way through, and one when the file is done.
  ASSERT_EQ(calls.size(), 3u);
  for (const auto& [done, total] : calls)
    EXPECT_EQ(total, csv.size());
  EXPECT_GT(calls[0].first, 0u);
  EXPECT_LT(calls[0].first, calls[1].first);
  EXPECT_LT(calls[1].first, csv.size());
  EXPECT_EQ(calls[2], std::make_pair(std::uint64_t{csv.size()}, std::uint64_t{csv.size()}));
}

} // namespace

namespace {

// One pass (ABI 1.4): an export's months are known only by reading it, so the plugin reads every
// file once for all of them; read_all gives exactly the rows of the reads of every month.
TEST_F(CustomPluginTest, ReadAllGivesTheRowsOfEveryMonthsReadInOnePass) {
  write("export/a.csv", "date,cost,service\n"
                        "2026-10-03,1.25,GPU\n"
                        "2026-08-31 23:59:59,2.50,GPU\n"
                        "not a date,1,GPU\n");
  write("export/b.csv", "date,cost,service\n"
                        "2026-09-01T00:00:00Z,0.75,GPU\n"
                        "2026-08-01,-0.50,GPU\n");
  PluginHarness harness(billdrop_plugin_entry(), config_for(dir_ / "export"));
  ASSERT_TRUE(harness.create().ok());
  auto one_pass = harness.one_pass();
  ASSERT_TRUE(one_pass.ok());
  EXPECT_TRUE(*one_pass);
  auto compared = harness.compare_one_pass();
  ASSERT_TRUE(compared.ok()) << compared.error().message();
  EXPECT_TRUE(compared->equal()) << compared->first_difference;
  EXPECT_EQ(compared->rows_in_one_pass, 4u);
  auto rows = harness.read_all();
  ASSERT_TRUE(rows.ok());
  // Files in name order, lines in file order; the unroutable line is rejected once.
  EXPECT_EQ(origins(*rows), (std::vector<std::string>{"a.csv:2", "a.csv:3", "b.csv:2", "b.csv:3"}));
  ASSERT_EQ(harness.rejects().size(), 1u);
  EXPECT_EQ(harness.rejects()[0].origin, "a.csv:4");

  // An incremental instance is read by read_since, never whole.
  ConfigValues incremental = config_for(dir_ / "export");
  incremental.emplace("incremental", true);
  PluginHarness increments(billdrop_plugin_entry(), incremental);
  ASSERT_TRUE(increments.create().ok());
  one_pass = increments.one_pass();
  ASSERT_TRUE(one_pass.ok());
  EXPECT_FALSE(*one_pass);
}

} // namespace
