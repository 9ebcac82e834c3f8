#include <billdrop/sdk.hpp>
#include <billdrop/testing/harness.hpp>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

extern "C" const bd_plugin_descriptor* billdrop_plugin_entry(void);

namespace {

std::filesystem::path write_fixture() {
  const auto dir = std::filesystem::temp_directory_path() / "billdrop_example_plugin_test";
  std::filesystem::create_directories(dir);
  const auto file = dir / "fees.csv";
  std::ofstream(file) << "date,service,amount\n"
                         "2026-08-01,Support,100.00\n"
                         "2026-08-15,Licences,12.5\n"
                         "2026-09-01,Support,100.00\n"
                         "not-a-date,Support,1\n";
  return file;
}

TEST(ExamplePlugin, ReadsOneMonthOfFees) {
  const auto file = write_fixture();
  billdrop::testing::PluginHarness harness(billdrop_plugin_entry(), {{"path", file.string()}});
  ASSERT_TRUE(harness.create().ok());
  auto rows = harness.read(billdrop::Month(2026, 8));
  ASSERT_TRUE(rows.ok()) << rows.error().message();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].get("time/usage_start"), "2026-08-01T00:00:00Z");
  EXPECT_EQ((*rows)[0].get("cost/cost"), "100.00");
  EXPECT_EQ((*rows)[1].get("resource/service"), "Licences");
  EXPECT_EQ((*rows)[1].get("resource/account"), "example-account");
  EXPECT_EQ((*rows)[1].origin, "fees.csv:3");
  // The bad line is reported, not dropped.
  ASSERT_EQ(harness.rejects().size(), 1u);
  EXPECT_EQ(harness.rejects()[0].origin, "fees.csv:5");
}

TEST(ExamplePlugin, ListsMonths) {
  const auto file = write_fixture();
  billdrop::testing::PluginHarness harness(billdrop_plugin_entry(), {{"path", file.string()}});
  ASSERT_TRUE(harness.create().ok());
  auto months = harness.months();
  ASSERT_TRUE(months.ok());
  ASSERT_EQ(months->size(), 2u);
  EXPECT_EQ((*months)[0].to_string(), "2026-08");
  EXPECT_EQ((*months)[1].to_string(), "2026-09");
}

TEST(ExamplePlugin, RejectsUnknownConfigKey) {
  billdrop::testing::PluginHarness harness(billdrop_plugin_entry(), {{"pth", std::string("x")}});
  auto status = harness.create();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message().find("unknown config key 'pth'"), std::string::npos);
}

} // namespace
