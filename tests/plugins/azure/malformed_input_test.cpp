// Malformed input: a truncated gzip file, a short row, a non-numeric cost. Each is reported with
// its file and line, and no other month is lost.
#include "test_support.hpp"

#include <billdrop/byte_source.hpp>

#include <gtest/gtest.h>

namespace billdrop::azure {
namespace {

using billdrop::testing::PluginHarness;
using namespace azure::testing;

constexpr std::string_view header = "SubscriptionId,Date,MeterCategory,Cost,ResourceLocation\n";

// August: five good rows (1.00 + 2.00 + 3.00 + 4.00 + 5.00 = 15.00 by hand), a short row (line
// 4) and a non-numeric cost (line 6).
std::string august() {
  return std::string(header) + "s1,08/01/2023,Storage,1.00,eastus\n"
                               "s1,08/02/2023,Storage,2.00,eastus\n"
                               "s1,08/03/2023,Storage\n"
                               "s1,08/04/2023,Storage,3.00,eastus\n"
                               "s1,08/05/2023,Storage,\"12,50\",eastus\n"
                               "s1,08/06/2023,Storage,4.00,eastus\n"
                               "s1,08/07/2023,Storage,5.00,eastus\n";
}

// September in a gzip file cut short. Large enough (2.4 MB inflated) that rows come out before
// the cut, so the file's month is known.
std::string september_truncated() {
  std::string csv(header);
  for (int i = 0; i < 60000; ++i)
    csv += "s1,09/01/2023,Storage,0.01,westeurope\n";
  const std::string gz = gzip_compress(csv);
  return gz.substr(0, gz.size() / 2);
}

TEST(AzureMalformed, BadRowsAreRejectedWithFileAndLineAndTheirMonthKeepsTheRest) {
  const auto dir = temp_dir("malformed_rows");
  write_file(dir / "export" / "2023-08.csv", august());
  write_file(dir / "export" / "2023-09.csv.gz", september_truncated());
  PluginHarness harness(billdrop_plugin_entry(), {{"actual", (dir / "export").string()}});
  ASSERT_TRUE(harness.create().ok());
  auto months = harness.months();
  ASSERT_TRUE(months.ok()) << months.error().message();
  EXPECT_EQ(*months, (std::vector<Month>{Month(2023, 8), Month(2023, 9)}));

  auto aug = harness.read(Month(2023, 8));
  ASSERT_TRUE(aug.ok()) << aug.error().message();
  EXPECT_EQ(aug->size(), 5u);
  EXPECT_EQ(sum(*aug, "cost/cost"), Decimal::from_string("15.00"));
  ASSERT_EQ(harness.rejects().size(), 2u);
  EXPECT_EQ(harness.rejects()[0].origin, "2023-08.csv:4");
  EXPECT_NE(harness.rejects()[0].reason.find("expected 5 fields"), std::string::npos)
      << harness.rejects()[0].reason;
  EXPECT_EQ(harness.rejects()[1].origin, "2023-08.csv:6");
  EXPECT_NE(harness.rejects()[1].reason.find("not a decimal number"), std::string::npos)
      << harness.rejects()[1].reason;
}

TEST(AzureMalformed, TruncatedGzipFailsOnlyItsOwnMonthNamingFileAndLine) {
  const auto dir = temp_dir("malformed_gzip");
  write_file(dir / "export" / "2023-08.csv", august());
  write_file(dir / "export" / "2023-09.csv.gz", september_truncated());
  PluginHarness harness(billdrop_plugin_entry(), {{"actual", (dir / "export").string()}});
  ASSERT_TRUE(harness.create().ok());
  ASSERT_TRUE(harness.months().ok());

  auto sep = harness.read(Month(2023, 9));
  ASSERT_FALSE(sep.ok());
  const std::string& message = sep.error().message();
  EXPECT_NE(message.find("2023-09.csv.gz:"), std::string::npos) << message;
  EXPECT_NE(message.find("truncated gzip"), std::string::npos) << message;
  // "<file>:<line>: reading stopped after line N": the line is a number.
  const std::size_t colon =
      message.find("2023-09.csv.gz:") + std::string_view("2023-09.csv.gz:").size();
  EXPECT_TRUE(message[colon] >= '1' && message[colon] <= '9') << message;

  // August is still whole after September failed.
  auto aug = harness.read(Month(2023, 8));
  ASSERT_TRUE(aug.ok()) << aug.error().message();
  EXPECT_EQ(sum(*aug, "cost/cost"), Decimal::from_string("15.00"));
}

TEST(AzureMalformed, UnreadableDateIsRejectedNamingTheColumn) {
  const auto dir = temp_dir("malformed_date");
  write_file(dir / "x.csv", std::string(header) + "s1,yesterday,Storage,1.00,eastus\n"
                                                  "s1,08/01/2023,Storage,2.00,eastus\n");
  PluginHarness harness(billdrop_plugin_entry(), {{"actual", (dir / "x.csv").string()}});
  ASSERT_TRUE(harness.create().ok());
  auto rows = harness.read(Month(2023, 8));
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->size(), 1u);
  ASSERT_EQ(harness.rejects().size(), 1u);
  EXPECT_EQ(harness.rejects()[0].origin, "x.csv:2");
  EXPECT_NE(harness.rejects()[0].reason.find("column Date"), std::string::npos)
      << harness.rejects()[0].reason;
}

TEST(AzureMalformed, JoinKeepsBothTotalsWhenAnActualRowIsRejected) {
  // The actual row with a bad cost is rejected; its amortized twin then stands alone with billed
  // cost 0, so the amortized total (1.00 + 2.00 = 3.00 by hand) is still whole.
  const auto dir = temp_dir("malformed_join");
  write_file(dir / "actual.csv", std::string(header) + "s1,08/01/2023,Storage,1.00,eastus\n"
                                                       "s1,08/02/2023,Storage,n/a,eastus\n");
  write_file(dir / "amortized.csv", std::string(header) + "s1,08/01/2023,Storage,1.00,eastus\n"
                                                          "s1,08/02/2023,Storage,2.00,eastus\n");
  PluginHarness harness(billdrop_plugin_entry(), {{"actual", (dir / "actual.csv").string()},
                                                  {"amortized", (dir / "amortized.csv").string()}});
  ASSERT_TRUE(harness.create().ok());
  auto rows = harness.read(Month(2023, 8));
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(harness.rejects().size(), 1u);
  EXPECT_EQ(harness.rejects()[0].origin, "actual.csv:3");
  EXPECT_EQ(sum(*rows, "cost/cost"), Decimal::from_string("1.00"));
  EXPECT_EQ(sum(*rows, "cost/amortized_cost"), Decimal::from_string("3.00"));
}

} // namespace
} // namespace billdrop::azure
