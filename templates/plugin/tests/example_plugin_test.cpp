// The plugin driven through its real C descriptor by the SDK's harness, the way the host drives
// it: the configuration is checked against the plugin's schema and every row against the host's
// CBF rules. The sample data (data/fees.csv, the file example.toml names) is the fixture.
#include <billdrop/sdk.hpp>
#include <billdrop/testing/harness.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

extern "C" const bd_plugin_descriptor* billdrop_plugin_entry(void);

namespace {

const std::filesystem::path kSampleData =
    std::filesystem::path(EXAMPLE_PLUGIN_SOURCE_DIR) / "data" / "fees.csv";

TEST(ExamplePlugin, ListsTheMonthsOfTheSampleData) {
  billdrop::testing::PluginHarness harness(billdrop_plugin_entry(),
                                           {{"path", kSampleData.string()}});
  ASSERT_TRUE(harness.create().ok());
  ASSERT_TRUE(harness.check().ok());
  auto months = harness.months();
  ASSERT_TRUE(months.ok()) << months.error().message();
  ASSERT_EQ(months->size(), 2u);
  EXPECT_EQ((*months)[0].to_string(), "2026-08");
  EXPECT_EQ((*months)[1].to_string(), "2026-09");
}

TEST(ExamplePlugin, ReadsOneMonthOfTheSampleData) {
  billdrop::testing::PluginHarness harness(billdrop_plugin_entry(),
                                           {{"path", kSampleData.string()}});
  ASSERT_TRUE(harness.create().ok());
  auto rows = harness.read(billdrop::Month(2026, 8));
  ASSERT_TRUE(rows.ok()) << rows.error().message();
  // data/fees.csv lines 2 and 3 fall in August; line 4 is September's.
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].get("time/usage_start"), "2026-08-01T00:00:00Z");
  EXPECT_EQ((*rows)[0].get("cost/cost"), "100.00");
  EXPECT_EQ((*rows)[0].get("lineitem/type"), "Fee");
  EXPECT_EQ((*rows)[1].get("resource/service"), "Licences");
  EXPECT_EQ((*rows)[1].get("cost/cost"), "12.5");
  // The schema's default, since the test's configuration leaves `account` out.
  EXPECT_EQ((*rows)[1].get("resource/account"), "example-account");
  EXPECT_EQ((*rows)[1].origin, "fees.csv:3");
  EXPECT_TRUE(harness.rejects().empty());
}

TEST(ExamplePlugin, RejectsALineThatIsNotAFee) {
  const auto dir = std::filesystem::temp_directory_path() / "billdrop_example_plugin_test";
  std::filesystem::create_directories(dir);
  const auto file = dir / "fees.csv";
  std::ofstream(file) << "date,service,amount\n"
                         "2026-08-01,Support,100.00\n"
                         "not-a-date,Support,1\n"
                         "2026-08-02,Support\n";
  billdrop::testing::PluginHarness harness(billdrop_plugin_entry(), {{"path", file.string()}});
  ASSERT_TRUE(harness.create().ok());
  auto rows = harness.read(billdrop::Month(2026, 8));
  ASSERT_TRUE(rows.ok()) << rows.error().message();
  EXPECT_EQ(rows->size(), 1u);
  // Bad lines are reported, naming the column and the rule, never dropped.
  ASSERT_EQ(harness.rejects().size(), 2u);
  EXPECT_EQ(harness.rejects()[0].origin, "fees.csv:3");
  EXPECT_EQ(harness.rejects()[0].column, "time/usage_start");
  EXPECT_EQ(harness.rejects()[0].rule, "timestamp");
  EXPECT_EQ(harness.rejects()[1].origin, "fees.csv:4");
  EXPECT_EQ(harness.rejects()[1].rule, "record_shape");
}

TEST(ExamplePlugin, RejectsUnknownConfigKey) {
  billdrop::testing::PluginHarness harness(billdrop_plugin_entry(), {{"pth", std::string("x")}});
  auto status = harness.create();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message().find("unknown config key 'pth'"), std::string::npos);
}

} // namespace
