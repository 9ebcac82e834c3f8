// ChargeType x PricingModel -> CBF lineitem/type, and the notes for unknown values.
#include "test_support.hpp"

#include <gtest/gtest.h>

namespace billdrop::azure {
namespace {

using billdrop::testing::PluginHarness;
using namespace azure::testing;

TEST(AzureChargeTypes, TableAndUnknownValuesNoted) {
  struct Case {
    const char* charge_type;
    const char* pricing_model;
    const char* expected;
  };
  const Case cases[] = {
      {"Usage", "OnDemand", "Usage"},
      {"Usage", "Spot", "Usage"},
      {"Usage", "Reservation", "Usage"},
      {"usage", "", "Usage"},
      {"Purchase", "Reservation", "CommittedUsePurchase"},
      {"Purchase", "SavingsPlan", "CommittedUsePurchase"},
      {"Purchase", "OnDemand", "Purchase"},
      {"Refund", "Reservation", "CommittedUsePurchase"},
      {"Refund", "", "Purchase"},
      {"UnusedReservation", "Reservation", "Usage"},
      {"UnusedSavingsPlan", "SavingsPlan", "Usage"},
      {"RoundingAdjustment", "", "Adjustment"},
      {"Tax", "", "Tax"},
      {"Credit", "", "Credit"},
      {"Surprise", "OnDemand", "Usage"},
      {"Purchase", "Lease", "Purchase"},
  };
  std::string csv = "Date,Cost,ChargeType,PricingModel\n";
  for (const Case& c : cases)
    csv += std::string("2024-03-01,1,") + c.charge_type + "," + c.pricing_model + "\n";
  const auto dir = temp_dir("charge_types");
  write_file(dir / "x.csv", csv);
  PluginHarness harness(billdrop_plugin_entry(), {{"actual", (dir / "x.csv").string()}});
  ASSERT_TRUE(harness.create().ok());
  auto rows = harness.read(Month(2024, 3));
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), std::size(cases));
  for (std::size_t i = 0; i < std::size(cases); ++i)
    EXPECT_EQ(rows->at(i).get("lineitem/type"), cases[i].expected)
        << cases[i].charge_type << " x " << cases[i].pricing_model;
  EXPECT_EQ(harness.note("azure: unknown ChargeType \"Surprise\" mapped to Usage"), 1u);
  EXPECT_EQ(harness.note("azure: unknown PricingModel \"Lease\" read as OnDemand"), 1u);
}

TEST(AzureTags, UnreadableTagsKeepTheRowAndAreNoted) {
  const auto dir = temp_dir("tags");
  write_file(dir / "x.csv", "Date,Cost,Tags,MeterCategory,SubscriptionId\n"
                            "2024-03-01,1,\"not json\",Storage,s1\n"
                            "2024-03-01,2,\"\"\"Cost Center\"\": \"\"42\"\"\",Storage,s1\n");
  PluginHarness harness(billdrop_plugin_entry(), {{"actual", (dir / "x.csv").string()}});
  ASSERT_TRUE(harness.create().ok());
  auto rows = harness.read(Month(2024, 3));
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ(harness.note("azure: Tags cell is not a JSON object (row kept without tags)"), 1u);
  // The shared rewrite rule, and a synthetic resource id since the row has none.
  EXPECT_EQ(rows->at(1).get("resource/tag:Cost_Center"), "42");
  EXPECT_TRUE(rows->at(1).get("resource/id").starts_with("Storage/synthetic-"))
      << rows->at(1).get("resource/id");
}

} // namespace
} // namespace billdrop::azure
