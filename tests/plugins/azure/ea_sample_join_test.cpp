// Actual and amortized EA exports joined, on fixtures modelled on the FinOps toolkit's real
// EA_ActualCost_Small.csv and EA_AmortizedCost_Small.csv (samples/azure): their full 55-column
// header with a byte-order mark, braceless tags, costs with up to 28 decimals, a reservation
// purchase only the actual export has, reservation and savings-plan usage only the amortized one
// has, and usage rows both have. The test writes the files from the rows below and adds up the
// expected totals from the same rows itself.
#include "test_support.hpp"

#include "support/csv_text.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace billdrop::azure {
namespace {

using billdrop::testing::CapturedRow;
using billdrop::testing::PluginHarness;
using namespace azure::testing;

constexpr std::string_view ea_header =
    "\xEF\xBB\xBF"
    "BillingAccountId,BillingAccountName,BillingPeriodStartDate,BillingPeriodEndDate,"
    "BillingProfileId,BillingProfileName,AccountOwnerId,AccountName,SubscriptionId,"
    "SubscriptionName,Date,Product,PartNumber,MeterId,ServiceFamily,MeterCategory,"
    "MeterSubCategory,MeterRegion,MeterName,Quantity,EffectivePrice,Cost,UnitPrice,"
    "BillingCurrency,ResourceLocation,AvailabilityZone,ConsumedService,ResourceId,ResourceName,"
    "ServiceInfo1,ServiceInfo2,AdditionalInfo,Tags,InvoiceSectionId,InvoiceSection,CostCenter,"
    "UnitOfMeasure,ResourceGroup,ReservationId,ReservationName,ProductOrderId,ProductOrderName,"
    "OfferId,IsAzureCreditEligible,Term,PublisherName,PlanName,ChargeType,Frequency,"
    "PublisherType,PayGPrice,PricingModel,CostAllocationRuleName,benefitId,benefitName\n";

struct EaRow {
  std::string subscription;
  std::string date;
  std::string product;
  std::string meter_id;
  std::string meter_category;
  std::string meter_subcategory;
  std::string meter_name;
  std::string quantity;
  std::string cost;
  std::string location;
  std::string consumed_service;
  std::string resource_id;
  std::string tags; // as EA writes them: a JSON object without its braces
  std::string unit;
  std::string reservation_id;
  std::string charge_type;
  std::string pricing_model;
  std::string benefit_id;
};

std::string ea_csv(const std::vector<EaRow>& rows) {
  std::string csv(ea_header);
  for (const EaRow& r : rows) {
    const std::vector<std::string> fields = {"8611537",
                                             "Trey Research Demo (DO NOT USE)",
                                             "09/01/2023",
                                             "09/30/2023",
                                             "8611537",
                                             "Trey Research Demo (DO NOT USE)",
                                             "acm@testea.onmicrosoft.com",
                                             "ACM Team",
                                             r.subscription,
                                             "Trey Research",
                                             r.date,
                                             r.product,
                                             "AAA-00000",
                                             r.meter_id,
                                             "Compute",
                                             r.meter_category,
                                             r.meter_subcategory,
                                             "",
                                             r.meter_name,
                                             r.quantity,
                                             "0.1",
                                             r.cost,
                                             "0.1",
                                             "USD",
                                             r.location,
                                             "",
                                             r.consumed_service,
                                             r.resource_id,
                                             "",
                                             "",
                                             "",
                                             "",
                                             r.tags,
                                             "",
                                             "ACM",
                                             "acm9000",
                                             r.unit,
                                             "rg",
                                             r.reservation_id,
                                             "",
                                             "",
                                             "",
                                             "MS-AZR-0017P",
                                             "True",
                                             "",
                                             "",
                                             "",
                                             r.charge_type,
                                             "UsageBased",
                                             "Azure",
                                             "0",
                                             r.pricing_model,
                                             "",
                                             r.benefit_id,
                                             ""};
    csv += billdrop::test::csv_line(fields);
  }
  return csv;
}

const std::string reservation_order =
    "/providers/Microsoft.Capacity/reservationOrders/49ed0e4d-8e0c-4f1f-af2c-67c865056615";

// In both exports, with the same figures: on-demand usage.
std::vector<EaRow> shared_usage() {
  return {
      {"ed570627-0265-4620-bb42-bae06bcfa914", "09/04/2023",
       "Tiered Block Blob - GRS - List and Create Container Operations - US East 2",
       "aaaef613-418a-4a5f-af72-d224d7dee2c6", "Storage", "Tiered Block Blob",
       "GRS List and Create Container Operations", "0.0004", "0.00004", "EastUS2",
       "Microsoft.Storage",
       "/subscriptions/ed570627-0265-4620-bb42-bae06bcfa914/resourceGroups/databricks-rg/providers/"
       "Microsoft.Storage/storageAccounts/dbstoragewp6hglwvvrad2",
       R"("CostCenter": "1234","env": "prod","org": "trey")", "10K", "", "Usage", "OnDemand", ""},
      {"1caaa5a3-2b66-438e-8ab4-bce37d518c5d", "09/04/2023",
       "Virtual Machines Dv3/DSv3 Series - D2 v3/D2s v3 - US South Central",
       "ec8c7b49-9790-4261-b46f-293dabb53fd9", "Virtual Machines", "Dv3/DSv3 Series",
       "D2 v3/D2s v3", "24", "2.64", "SouthCentralUS", "Microsoft.Compute",
       "/subscriptions/1caaa5a3-2b66-438e-8ab4-bce37d518c5d/resourceGroups/CapRes_Test/providers/"
       "Microsoft.Compute/capacityReservationGroups/OnDemadCapRes/capacityReservations/CR_Dv3_AZ3",
       "", "1 Hour", "", "Usage", "OnDemand", ""},
      // Two rows alike but for the resource, both at cost 0 (Azure Hybrid Benefit).
      {"1caaa5a3-2b66-438e-8ab4-bce37d518c5d", "09/04/2023",
       "SQL Managed Instance General Purpose - SQL License - Azure Hybrid Benefit",
       "f7b415a5-688d-506a-b018-51e989c4fa7e", "SQL Managed Instance",
       "Managed Instance General Purpose - SQL License", "vCore", "2", "0", "westus2",
       "Microsoft.Sql",
       "/subscriptions/1CAAA5A3-2B66-438E-8AB4-BCE37D518C5D/resourceGroups/AHBTest/providers/"
       "Microsoft.Sql/servers/ahbtest1/databases/nonmanaged",
       R"("CostCenter": "SubACM")", "1 Hour", "", "Usage", "OnDemand", ""},
      {"1caaa5a3-2b66-438e-8ab4-bce37d518c5d", "09/04/2023",
       "SQL Managed Instance General Purpose - SQL License - Azure Hybrid Benefit",
       "f7b415a5-688d-506a-b018-51e989c4fa7e", "SQL Managed Instance",
       "Managed Instance General Purpose - SQL License", "vCore", "2", "0", "westus2",
       "Microsoft.Sql",
       "/subscriptions/1CAAA5A3-2B66-438E-8AB4-BCE37D518C5D/resourceGroups/AHBTest/providers/"
       "Microsoft.Sql/servers/ahbtest2/databases/SSISDB",
       R"("CostCenter": "SubACM")", "1 Hour", "", "Usage", "OnDemand", ""},
      {"64e355d7-997c-491d-b0c1-8414dccfcf42", "09/04/2023",
       "Microsoft Defender for SQL - Standard Node", "cb0969aa-aaaa-4d6c-ab4b-7e182fa06aff",
       "Advanced Data Security", "SQL Database", "Standard Node", "0.03225806",
       "0.4838709677419368", "CentralUS", "Microsoft.Sql",
       "/subscriptions/64E355D7-997C-491D-B0C1-8414DCCFCF42/resourceGroups/example-dtl/providers/"
       "Microsoft.Sql/servers/a7q-a7q5gy-db",
       R"("CostCenter": "1234","env": "prod","org": "trey")", "1/Month", "", "Usage", "OnDemand",
       ""},
  };
}

// Only in the actual export: the reservation purchase (the amortized export spreads it over the
// usage it covers instead).
EaRow purchase() {
  return {"1caaa5a3-2b66-438e-8ab4-bce37d518c5d",
          "09/21/2023",
          "Virtual Machines BS Series - B1s - UK South",
          "f31064a2-ed95-4e11-8b69-270f2fc4fbdd",
          "Virtual Machines",
          "BS Series",
          "B1s",
          "1",
          "3.25",
          "uksouth",
          "Microsoft.Capacity",
          reservation_order + "/reservations/",
          "",
          "1 Hour",
          "49ed0e4d-8e0c-4f1f-af2c-67c865056615",
          "Purchase",
          "Reservation",
          reservation_order + "/reservations/"};
}

// Only in the amortized export: usage a reservation or a savings plan covers, at its share of
// the commitment, and on-demand usage of other days.
std::vector<EaRow> amortized_only() {
  return {
      {"9ec51cfd-5ca7-4d76-8101-dd0a4abc5674", "09/22/2023",
       "Virtual Machines Dv2/DSv2 Series - D2 v2/DS2 v2 - US East",
       "14fc9a21-4919-4cb1-b495-5666966556bc", "Virtual Machines", "Dv2/DSv2 Series",
       "D2 v2/DS2 v2", "8", "0.493152", "EastUS", "Microsoft.Compute",
       "/subscriptions/9ec51cfd-5ca7-4d76-8101-dd0a4abc5674/resourceGroups/MC_ANALYTICSENGINE/"
       "providers/Microsoft.Compute/virtualMachineScaleSets/aks-agentpool-42850074-vmss",
       R"("aks-managed-createOperationID": "","poolName": "agentpool","env": "prod")", "1 Hour",
       "f39d1c73-af74-4308-9083-fbf5efab37d1", "Usage", "Reservation",
       "/providers/Microsoft.Capacity/reservationOrders/a965d46f-aedf-4176-8ff1-2617943b8960/"
       "reservations/f39d1c73-af74-4308-9083-fbf5efab37d1"},
      {"9ec51cfd-5ca7-4d76-8101-dd0a4abc5674", "09/03/2023",
       "Virtual Machines BS Series - B2s - US East", "2c57ed84-f939-4f5c-ba90-782349a367b8",
       "Virtual Machines", "BS Series", "B2s", "0.32085564", "0.006000000468", "EastUS",
       "Microsoft.Compute",
       "/subscriptions/9ec51cfd-5ca7-4d76-8101-dd0a4abc5674/resourceGroups/MC_ANALYTICSENGINE/"
       "providers/Microsoft.Compute/virtualMachineScaleSets/aks-secretagent-37798712-vmss",
       R"("aks-managed-poolName": "secretagent","env": "prod","org": "trey")", "1 Hour", "",
       "Usage", "SavingsPlan",
       "/providers/Microsoft.BillingBenefits/savingsPlanOrders/802a9e8b-e860-4d5f-b63b-"
       "c5bdf7ee2446/savingsPlans/09ff8291-64ac-45fb-afed-b9b39dbd88d7"},
      {"64e355d7-997c-491d-b0c1-8414dccfcf42", "09/05/2023",
       "Rtn Preference: MGN - Standard Data Transfer Out - Zone 1",
       "9995d93a-7d35-4d3f-9c69-7a7fea447ef4", "Bandwidth", "", "Standard Data Transfer Out",
       "0.00000008", "0.0000000072922557592391990000", "EastUS2",
       "Microsoft.MachineLearningServices",
       "/subscriptions/64e355d7-997c-491d-b0c1-8414dccfcf42/resourceGroups/devtestlab/providers/"
       "Microsoft.MachineLearningServices/workspaces/zmltestplayground",
       R"("CostAllocationTest": "Sameer","ComputeType": "Compute Instance")", "1 GB", "", "Usage",
       "OnDemand", ""},
      {"9ec51cfd-5ca7-4d76-8101-dd0a4abc5674", "09/04/2023",
       "Log Analytics - Pay-as-you-go Data Retention", "05bac6df-17ab-48ba-bf46-450c59ad0780",
       "Log Analytics", "", "Pay-as-you-go Data Retention", "24.80634996", "2.48063499589542",
       "EastUS", "microsoft.operationalinsights",
       "/subscriptions/9ec51cfd-5ca7-4d76-8101-dd0a4abc5674/resourcegroups/sapmon-rg/providers/"
       "microsoft.operationalinsights/workspaces/sapmon-log-133913327cb44f",
       R"("SapMonId": "133913327cb44f","env": "trey","org": "trey")", "1 GB/Month", "", "Usage",
       "OnDemand", ""},
  };
}

Decimal cost_of(const std::vector<EaRow>& rows) {
  Decimal total;
  for (const EaRow& row : rows)
    total += Decimal::from_string(row.cost);
  return total;
}

TEST(AzureEaSampleJoin, BilledFromActualAmortizedFromAmortizedPurchaseCountedOnce) {
  // Actual: the purchase first, then the shared usage (as in the sample). Amortized: the covered
  // and other usage first, then the shared usage.
  std::vector<EaRow> actual = {purchase()};
  for (const EaRow& row : shared_usage())
    actual.push_back(row);
  std::vector<EaRow> amortized = amortized_only();
  for (const EaRow& row : shared_usage())
    amortized.push_back(row);

  const auto dir = temp_dir("ea_sample_join");
  write_file(dir / "EA_ActualCost.csv", ea_csv(actual));
  write_file(dir / "EA_AmortizedCost.csv", ea_csv(amortized));
  PluginHarness harness(billdrop_plugin_entry(),
                        {{"actual", (dir / "EA_ActualCost.csv").string()},
                         {"amortized", (dir / "EA_AmortizedCost.csv").string()}});
  ASSERT_TRUE(harness.create().ok());
  auto months = harness.months();
  ASSERT_TRUE(months.ok()) << months.error().message();
  ASSERT_EQ(*months, std::vector<Month>{Month(2023, 9)});
  auto rows = harness.read(Month(2023, 9));
  ASSERT_TRUE(rows.ok()) << rows.error().message();
  EXPECT_TRUE(harness.rejects().empty());

  // Every actual row once, and each amortized row no actual row took.
  EXPECT_EQ(rows->size(), actual.size() + amortized_only().size());
  EXPECT_EQ(sum(*rows, "cost/cost"), cost_of(actual));
  EXPECT_EQ(sum(*rows, "cost/amortized_cost"), cost_of(amortized));
  // Spelled out: 3.25 + 0.00004 + 2.64 + 0.4838709677419368 billed; amortized without the
  // purchase, with the covered usage.
  EXPECT_EQ(sum(*rows, "cost/cost"), Decimal::from_string("6.3739109677419368"));
  EXPECT_EQ(sum(*rows, "cost/amortized_cost"),
            Decimal::from_string("6.1036979713976125592391990000"));

  // The purchase: billed once, amortized 0 (its cost reaches amortized cost through the usage).
  std::map<std::string, int> types;
  for (const CapturedRow& row : *rows)
    ++types[row.get("lineitem/type")];
  EXPECT_EQ(types["CommittedUsePurchase"], 1);
  for (const CapturedRow& row : *rows) {
    if (row.get("lineitem/type") == "CommittedUsePurchase") {
      EXPECT_EQ(row.origin, "EA_ActualCost.csv:2");
      EXPECT_EQ(row.get("cost/cost"), "3.25");
      EXPECT_EQ(row.get("cost/amortized_cost"), "0");
    }
    // An actual usage row carries its amortized twin's figure, which here is its own.
    if (row.origin.starts_with("EA_ActualCost.csv:") && row.get("lineitem/type") == "Usage") {
      EXPECT_EQ(Decimal::from_string(row.get("cost/cost")),
                Decimal::from_string(row.get("cost/amortized_cost")))
          << row.origin;
    }
    // Amortized-only rows are billed 0.
    if (row.origin.starts_with("EA_AmortizedCost.csv:")) {
      EXPECT_EQ(row.get("cost/cost"), "0") << row.origin;
    }
  }
  // The reservation-covered VM usage (amortized line 2) and the 28-decimal bandwidth charge.
  for (const CapturedRow& row : *rows) {
    if (row.origin == "EA_AmortizedCost.csv:2") {
      EXPECT_EQ(row.get("cost/amortized_cost"), "0.493152");
      EXPECT_EQ(row.get("resource/tag:poolName"), "agentpool");
      EXPECT_EQ(row.get("resource/region"), "eastus");
    }
    if (row.origin == "EA_AmortizedCost.csv:4") {
      EXPECT_EQ(row.get("cost/amortized_cost"), "0.0000000072922557592391990000");
    }
  }
}

} // namespace
} // namespace billdrop::azure
