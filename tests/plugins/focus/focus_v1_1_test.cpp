// A FOCUS 1.1 file with exactly the specification's 50 columns (samples/schemas/
// focus_spec_columns_v1.0-v1.2.csv, version v1.1), in its column order, with ISO timestamps and
// the JSON columns 1.1 added (SkuPriceDetails) beside Tags. The test writes the file from the
// rows below and adds up the expected monthly totals from the same rows itself.
#include <billdrop/decimal.hpp>
#include <billdrop/sdk.hpp>
#include <billdrop/testing/harness.hpp>

#include "support/csv_text.hpp"
#include "support/temp_folder.hpp"

#include <gtest/gtest.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <unistd.h>

extern "C" const bd_plugin_descriptor* billdrop_plugin_entry(void);

namespace {

namespace fs = std::filesystem;
using billdrop::Decimal;
using billdrop::Month;
using billdrop::testing::CapturedRow;
using billdrop::testing::PluginHarness;

constexpr std::array<std::string_view, 50> focus_1_1_columns = {
    "AvailabilityZone",
    "BilledCost",
    "BillingAccountId",
    "BillingAccountName",
    "BillingCurrency",
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "CapacityReservationId",
    "CapacityReservationStatus",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargeFrequency",
    "ChargePeriodEnd",
    "ChargePeriodStart",
    "CommitmentDiscountCategory",
    "CommitmentDiscountId",
    "CommitmentDiscountName",
    "CommitmentDiscountQuantity",
    "CommitmentDiscountStatus",
    "CommitmentDiscountType",
    "CommitmentDiscountUnit",
    "ConsumedQuantity",
    "ConsumedUnit",
    "ContractedCost",
    "ContractedUnitPrice",
    "EffectiveCost",
    "InvoiceIssuerName",
    "ListCost",
    "ListUnitPrice",
    "PricingCategory",
    "PricingQuantity",
    "PricingUnit",
    "ProviderName",
    "PublisherName",
    "RegionId",
    "RegionName",
    "ResourceId",
    "ResourceName",
    "ResourceType",
    "ServiceCategory",
    "ServiceName",
    "ServiceSubcategory",
    "SkuId",
    "SkuMeter",
    "SkuPriceDetails",
    "SkuPriceId",
    "SubAccountId",
    "SubAccountName",
    "Tags",
};

using FocusRow = std::map<std::string, std::string, std::less<>>;

// Values every row shares; each row sets what makes it what it is.
FocusRow base_row(const std::string& charge_start, const std::string& charge_end,
                  const std::string& billing_start, const std::string& billing_end) {
  return {{"BillingAccountId", "123456789012"},
          {"BillingAccountName", "Acme Payer"},
          {"BillingCurrency", "USD"},
          {"BillingPeriodStart", billing_start},
          {"BillingPeriodEnd", billing_end},
          {"ChargePeriodStart", charge_start},
          {"ChargePeriodEnd", charge_end},
          {"ChargeFrequency", "Usage-Based"},
          {"InvoiceIssuerName", "Amazon Web Services, Inc."},
          {"ProviderName", "AWS"},
          {"PublisherName", "Amazon Web Services, Inc."},
          {"ServiceCategory", "Compute"},
          {"ServiceName", "Amazon Elastic Compute Cloud"},
          {"ServiceSubcategory", "Virtual Machines"},
          {"SubAccountId", "210987654321"},
          {"SubAccountName", "shop-prod"},
          {"PricingCategory", "Standard"},
          {"ContractedCost", "0"},
          {"EffectiveCost", "0"},
          {"ListCost", "0"}};
}

FocusRow with(FocusRow row, const FocusRow& values) {
  for (const auto& [key, value] : values)
    row[key] = value;
  return row;
}

std::string focus_csv(const std::vector<FocusRow>& rows) {
  std::string csv;
  for (std::size_t i = 0; i < focus_1_1_columns.size(); ++i) {
    if (i != 0)
      csv += ',';
    csv += focus_1_1_columns[i];
  }
  csv += "\r\n"; // as AWS writes it
  for (const FocusRow& row : rows) {
    for (std::size_t i = 0; i < focus_1_1_columns.size(); ++i) {
      if (i != 0)
        csv += ',';
      const auto it = row.find(focus_1_1_columns[i]);
      csv += it == row.end() ? std::string() : billdrop::test::csv_field(it->second);
    }
    csv += "\r\n";
  }
  return csv;
}

const std::string sep_start = "2024-09-01T00:00:00Z";
const std::string oct_start = "2024-10-01T00:00:00Z";
const std::string nov_start = "2024-11-01T00:00:00Z";
const std::string commitment = "arn:aws:savingsplans::123456789012:savingsplan/sp-0a1b2c3d";

std::vector<FocusRow> rows() {
  const FocusRow sep =
      base_row("2024-09-03T10:00:00Z", "2024-09-03T11:00:00Z", sep_start, oct_start);
  const FocusRow vm = with(
      sep, {{"AvailabilityZone", "use1-az2"},
            {"ChargeCategory", "Usage"},
            {"ChargeDescription", "$0.0416 per On Demand Linux t3.medium Instance Hour"},
            {"ConsumedQuantity", "1"},
            {"ConsumedUnit", "Hours"},
            {"PricingQuantity", "1"},
            {"PricingUnit", "Hours"},
            {"ListUnitPrice", "0.0416"},
            {"ContractedUnitPrice", "0.0416"},
            {"RegionId", "us-east-1"},
            {"RegionName", "US East (N. Virginia)"},
            {"ResourceId", "arn:aws:ec2:us-east-1:210987654321:instance/i-0abc"},
            {"ResourceName", "web-1"},
            {"ResourceType", "Instance"},
            {"SkuId", "JRTCKXETXF"},
            {"SkuMeter", "BoxUsage:t3.medium"},
            {"SkuPriceDetails", R"({"InstanceType": "t3.medium", "OperatingSystem": "Linux"})"},
            {"SkuPriceId", "JRTCKXETXF.JRTCKXETXF.6YS6EN2CT7"},
            {"Tags", R"({"team": "web", "Cost Center": "42"})"}});
  return {
      // Line 2: on-demand usage.
      with(vm, {{"BilledCost", "0.0416"},
                {"EffectiveCost", "0.0416"},
                {"ListCost", "0.0416"},
                {"ContractedCost", "0.0416"}}),
      // Line 3: usage a savings plan covers: billed 0, its share of the commitment effective.
      with(vm, {{"ChargePeriodStart", "2024-09-03T11:00:00Z"},
                {"ChargePeriodEnd", "2024-09-03T12:00:00Z"},
                {"BilledCost", "0"},
                {"EffectiveCost", "0.0291"},
                {"ListCost", "0.0416"},
                {"ContractedCost", "0.0416"},
                {"PricingCategory", "Committed"},
                {"CommitmentDiscountCategory", "Spend"},
                {"CommitmentDiscountId", commitment},
                {"CommitmentDiscountName", "Compute SP"},
                {"CommitmentDiscountQuantity", "0.0291"},
                {"CommitmentDiscountStatus", "Used"},
                {"CommitmentDiscountType", "Compute Savings Plans"},
                {"CommitmentDiscountUnit", "USD"}}),
      // Line 4: the savings plan's recurring fee, a purchase of a commitment.
      with(sep, {{"ChargeCategory", "Purchase"},
                 {"ChargeFrequency", "Recurring"},
                 {"ChargePeriodStart", "2024-09-01T00:00:00Z"},
                 {"ChargePeriodEnd", "2024-10-01T00:00:00Z"},
                 {"BilledCost", "21.90"},
                 {"EffectiveCost", "0"},
                 {"ListCost", "21.90"},
                 {"ContractedCost", "21.90"},
                 {"CommitmentDiscountCategory", "Spend"},
                 {"CommitmentDiscountId", commitment},
                 {"CommitmentDiscountType", "Compute Savings Plans"},
                 {"ServiceName", "Savings Plans for AWS Compute usage"},
                 {"RegionId", "global"}}),
      // Line 5: an unused capacity reservation, with its tags and no resource id.
      with(sep, {{"ChargeCategory", "Usage"},
                 {"BilledCost", "0.0832"},
                 {"EffectiveCost", "0.0832"},
                 {"ListCost", "0.0832"},
                 {"CapacityReservationId", "cr-0123456789abcdef0"},
                 {"CapacityReservationStatus", "Unused"},
                 {"PricingQuantity", "2"},
                 {"PricingUnit", "Hours"},
                 {"RegionId", "us-east-1"},
                 {"SkuId", "CR-T3M"},
                 {"Tags", R"({"team": "platform"})"}}),
      // Line 6: tax; line 7: a credit; line 8: a correction of an earlier charge.
      with(sep, {{"ChargeCategory", "Tax"},
                 {"ChargeFrequency", "One-Time"},
                 {"BilledCost", "1.23"},
                 {"EffectiveCost", "1.23"},
                 {"ListCost", "1.23"},
                 {"ServiceName", "Tax"}}),
      with(sep, {{"ChargeCategory", "Credit"},
                 {"ChargeFrequency", "One-Time"},
                 {"BilledCost", "-5.00"},
                 {"EffectiveCost", "-5.00"},
                 {"ChargeDescription", "AWS Activate credit"}}),
      with(sep, {{"ChargeCategory", "Usage"},
                 {"ChargeClass", "Correction"},
                 {"BilledCost", "-0.0104"},
                 {"EffectiveCost", "-0.0104"},
                 {"ListCost", "-0.0104"},
                 {"RegionId", "us-east-1"}}),
      // Line 9: October, priced by pricing quantity only.
      with(base_row("2024-10-07T00:00:00Z", "2024-10-08T00:00:00Z", oct_start, nov_start),
           {{"ChargeCategory", "Usage"},
            {"ServiceCategory", "Storage"},
            {"ServiceName", "Amazon Simple Storage Service"},
            {"BilledCost", "2.000001"},
            {"EffectiveCost", "2.000001"},
            {"ListCost", "2.3"},
            {"PricingQuantity", "86.9565652173913"},
            {"PricingUnit", "GB-Month"},
            {"RegionId", "eu-west-1"},
            {"ResourceId", "arn:aws:s3:::acme-logs"}}),
  };
}

using FocusV11Test = billdrop::test::TempFolderTest;

Decimal column_total(const std::vector<FocusRow>& source, std::string_view month,
                     std::string_view column) {
  Decimal total;
  for (const FocusRow& row : source)
    if (row.at("ChargePeriodStart").starts_with(month))
      total += Decimal::from_string(row.at(std::string(column)));
  return total;
}

Decimal captured_total(const std::vector<CapturedRow>& captured, std::string_view key) {
  Decimal total;
  for (const CapturedRow& row : captured)
    total += Decimal::from_string(row.get(key));
  return total;
}

TEST_F(FocusV11Test, ConvertsEveryChargeOfA50ColumnFileWithExactTotals) {
  const std::vector<FocusRow> source = rows();
  const fs::path file = dir_ / "focus-1.1.csv";
  std::ofstream(file, std::ios::binary) << focus_csv(source);

  PluginHarness harness(billdrop_plugin_entry(), {{"path", file.string()}});
  ASSERT_TRUE(harness.create().ok());
  ASSERT_TRUE(harness.check().ok());
  auto months = harness.months();
  ASSERT_TRUE(months.ok()) << months.error().message();
  ASSERT_EQ(*months, (std::vector<Month>{Month(2024, 9), Month(2024, 10)}));

  for (const auto& [month, text] :
       {std::pair{Month(2024, 9), "2024-09"}, std::pair{Month(2024, 10), "2024-10"}}) {
    auto captured = harness.read(month);
    ASSERT_TRUE(captured.ok()) << captured.error().message();
    EXPECT_TRUE(harness.rejects().empty());
    std::size_t expected_rows = 0;
    for (const FocusRow& row : source)
      expected_rows += row.at("ChargePeriodStart").starts_with(text) ? 1 : 0;
    EXPECT_EQ(captured->size(), expected_rows) << text;
    EXPECT_EQ(captured_total(*captured, "cost/cost"), column_total(source, text, "BilledCost"))
        << text;
    EXPECT_EQ(captured_total(*captured, "cost/amortized_cost"),
              column_total(source, text, "EffectiveCost"))
        << text;
    EXPECT_EQ(captured_total(*captured, "cost/on_demand_cost"),
              column_total(source, text, "ListCost"))
        << text;
  }
  // Spelled out for September: 0.0416 + 0 + 21.90 + 0.0832 + 1.23 - 5.00 - 0.0104.
  auto september = harness.read(Month(2024, 9));
  ASSERT_TRUE(september.ok());
  EXPECT_EQ(captured_total(*september, "cost/cost"), Decimal::from_string("18.2444"));

  const std::vector<CapturedRow>& s = *september;
  EXPECT_EQ(s[0].origin, "focus-1.1.csv:2");
  EXPECT_EQ(s[0].get("time/usage_start"), "2024-09-03T10:00:00Z");
  EXPECT_EQ(s[0].get("lineitem/type"), "Usage");
  EXPECT_EQ(s[0].get("resource/account"), "210987654321");
  EXPECT_EQ(s[0].get("resource/service"), "Amazon Elastic Compute Cloud");
  EXPECT_EQ(s[0].get("resource/usage_family"), "Compute");
  EXPECT_EQ(s[0].get("resource/region"), "us-east-1");
  EXPECT_EQ(s[0].get("resource/id"), "arn:aws:ec2:us-east-1:210987654321:instance/i-0abc");
  EXPECT_EQ(s[0].get("usage/amount"), "1");
  EXPECT_EQ(s[0].get("usage/units"), "Hours");
  EXPECT_EQ(s[0].get("resource/tag:team"), "web");
  EXPECT_EQ(s[0].get("resource/tag:Cost_Center"), "42");
  EXPECT_EQ(s[1].get("lineitem/type"), "Usage"); // covered usage, billed 0
  EXPECT_EQ(s[1].get("cost/amortized_cost"), "0.0291");
  EXPECT_EQ(s[2].get("lineitem/type"), "CommittedUsePurchase");
  EXPECT_EQ(s[2].get("resource/region"), "no-region");
  EXPECT_TRUE(s[3].get("resource/id").starts_with("focus-charge/synthetic-"))
      << s[3].get("resource/id");
  EXPECT_EQ(s[3].get("usage/amount"), "2"); // pricing quantity: no consumed quantity
  EXPECT_EQ(s[4].get("lineitem/type"), "Tax");
  EXPECT_EQ(s[5].get("lineitem/type"), "Credit");
  EXPECT_EQ(s[6].get("lineitem/type"), "Adjustment"); // ChargeClass Correction
}

} // namespace
