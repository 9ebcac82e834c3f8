// Every header variant of the reference gives the same rows (fixtures variant_*.csv hold the same
// two charges of February 2021 under each header set).
#include "cost_columns.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>

namespace billdrop::azure {
namespace {

using billdrop::testing::PluginHarness;
using namespace azure::testing;

class AzureHeaderVariant : public ::testing::TestWithParam<const char*> {};

TEST_P(AzureHeaderVariant, ReadsTheSameTwoCharges) {
  PluginHarness harness(billdrop_plugin_entry(), {{"actual", fixture(GetParam()).string()}});
  ASSERT_TRUE(harness.create().ok());
  ASSERT_TRUE(harness.check().ok()) << harness.check().error().message();
  auto months = harness.months();
  ASSERT_TRUE(months.ok()) << months.error().message();
  ASSERT_EQ(*months, std::vector<Month>{Month(2021, 2)});
  auto rows = harness.read(Month(2021, 2));
  ASSERT_TRUE(rows.ok()) << rows.error().message();
  EXPECT_TRUE(harness.rejects().empty());
  ASSERT_EQ(rows->size(), 2u);
  // 0.075 + 1.20, by hand.
  EXPECT_EQ(sum(*rows, "cost/cost"), Decimal::from_string("1.275"));

  const auto& lb = rows->at(0);
  EXPECT_EQ(lb.origin, std::string(GetParam()) + ":2");
  EXPECT_EQ(lb.get("time/usage_start"), "2021-02-02T00:00:00Z");
  EXPECT_EQ(lb.get("cost/cost"), "0.075");
  EXPECT_EQ(lb.get("resource/account"), "11111111-12ab-34dc-56ef-123456abcdef");
  EXPECT_EQ(lb.get("resource/service"), "Load Balancer");
  EXPECT_EQ(lb.get("resource/usage_family"), "Standard");
  EXPECT_EQ(lb.get("resource/region"), "eastus");
  EXPECT_EQ(lb.get("resource/id"), "/subscriptions/11111111-12ab-34dc-56ef-123456abcdef/"
                                   "resourceGroups/rg/providers/Microsoft.Network/loadBalancers/"
                                   "kubernetes");
  EXPECT_EQ(lb.get("usage/amount"), "3");
  EXPECT_EQ(lb.get("usage/units"), "100 Hours");
  EXPECT_EQ(lb.get("resource/tag:team"), "net");
  EXPECT_EQ(lb.get("lineitem/type"), "Usage");

  const auto& vm = rows->at(1);
  EXPECT_EQ(vm.get("time/usage_start"), "2021-02-03T00:00:00Z");
  EXPECT_EQ(vm.get("cost/cost"), "1.20");
  EXPECT_EQ(vm.get("resource/region"), "canadacentral");
  EXPECT_EQ(vm.get("resource/usage_family"), "Ev3 Series");
  EXPECT_FALSE(vm.has("resource/tag:team"));
}

INSTANTIATE_TEST_SUITE_P(Fixtures, AzureHeaderVariant,
                         ::testing::Values("variant_ea_cib.csv", "variant_ea_cost_bom.csv",
                                           "variant_mca_camel.csv", "variant_payg.csv",
                                           "variant_german.csv", "variant_lowercase.csv"));

TEST(AzureHeader, EnglishNameOfALocalizedHeader) {
  EXPECT_EQ(english_header_name("Abonnement-GUID (SubscriptionGuid)"), "SubscriptionGuid");
  EXPECT_EQ(english_header_name("\xEF\xBB\xBF"
                                "Cost"),
            "Cost");
  EXPECT_EQ(english_header_name("  ServiceName "), "ServiceName");
}

TEST(AzureHeader, CostColumnSettingPicksAnotherCurrency) {
  PluginHarness harness(billdrop_plugin_entry(),
                        {{"actual", fixture("variant_mca_camel.csv").string()},
                         {"cost_column", std::string("COSTINUSD")}});
  ASSERT_TRUE(harness.create().ok());
  auto rows = harness.read(Month(2021, 2));
  ASSERT_TRUE(rows.ok()) << rows.error().message();
  // costInUsd column: 0.09 + 1.44, by hand.
  EXPECT_EQ(sum(*rows, "cost/cost"), Decimal::from_string("1.53"));
}

TEST(AzureHeader, MissingCostColumnNamesFileAndAliases) {
  const auto dir = temp_dir("nocost");
  write_file(dir / "x.csv", "Date,MeterCategory\n2021-02-02,Storage\n");
  PluginHarness harness(billdrop_plugin_entry(), {{"actual", (dir / "x.csv").string()}});
  ASSERT_TRUE(harness.create().ok());
  const Status status = harness.check();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message().find("x.csv:1"), std::string::npos);
  EXPECT_NE(status.error().message().find("CostInBillingCurrency, Cost, PreTaxCost"),
            std::string::npos)
      << status.error().message();
}

TEST(AzureHeader, RealSampleEaActualCost) {
  // microsoft/finops-toolkit's EA_ActualCost_Small.csv (MIT), copied whole: 11 rows, all of
  // September 2023. Total by Python: sum(Decimal(r['Cost']) for r in csv.DictReader(...)).
  PluginHarness harness(billdrop_plugin_entry(),
                        {{"actual", fixture("sample_ea_actual.csv").string()}});
  ASSERT_TRUE(harness.create().ok());
  auto rows = harness.read(Month(2023, 9));
  ASSERT_TRUE(rows.ok()) << rows.error().message();
  EXPECT_TRUE(harness.rejects().empty());
  EXPECT_EQ(rows->size(), 11u);
  EXPECT_EQ(sum(*rows, "cost/cost"), Decimal::from_string("8.5450077867419368"));
  EXPECT_EQ(rows->at(0).get("lineitem/type"), "CommittedUsePurchase");
  EXPECT_EQ(rows->at(0).get("resource/region"), "uksouth");
  EXPECT_EQ(rows->at(1).get("resource/tag:CostCenter"), "1234");
}

} // namespace
} // namespace billdrop::azure
