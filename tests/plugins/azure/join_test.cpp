// Actual and amortized exports read together (fixtures ea_actual.csv, ea_amortized.csv).
#include "test_support.hpp"

#include <gtest/gtest.h>

namespace billdrop::azure {
namespace {

using billdrop::testing::CapturedRow;
using billdrop::testing::PluginHarness;
using namespace azure::testing;

// Expected totals, from an independent Python computation over the fixtures:
//   python3 -c "import csv; from decimal import Decimal; ..." summing the Cost column by the
//   month of Date with csv.DictReader(encoding='utf-8-sig'):
//   ea_actual.csv    {'08': 101.74, '09': 50.75}
//   ea_amortized.csv {'08': 5.14,   '09': 5.10}
const Decimal actual_aug = Decimal::from_string("101.74");
const Decimal actual_sep = Decimal::from_string("50.75");
const Decimal amortized_aug = Decimal::from_string("5.14");
const Decimal amortized_sep = Decimal::from_string("5.10");

ConfigValues both() {
  return {{"actual", fixture("ea_actual.csv").string()},
          {"amortized", fixture("ea_amortized.csv").string()}};
}

const CapturedRow* find_row(const std::vector<CapturedRow>& rows, std::string_view origin) {
  for (const CapturedRow& row : rows)
    if (row.origin == origin)
      return &row;
  return nullptr;
}

TEST(AzureJoin, MonthlyTotalsEqualEachExportExactly) {
  PluginHarness harness(billdrop_plugin_entry(), both());
  ASSERT_TRUE(harness.create().ok());
  auto months = harness.months();
  ASSERT_TRUE(months.ok()) << months.error().message();
  ASSERT_EQ(*months, (std::vector<Month>{Month(2023, 8), Month(2023, 9)}));

  auto aug = harness.read(Month(2023, 8));
  ASSERT_TRUE(aug.ok()) << aug.error().message();
  EXPECT_TRUE(harness.rejects().empty());
  EXPECT_EQ(sum(*aug, "cost/cost"), actual_aug);
  EXPECT_EQ(sum(*aug, "cost/amortized_cost"), amortized_aug);
  // 5 actual rows, plus the unused reservation that only the amortized export has.
  EXPECT_EQ(aug->size(), 6u);

  auto sep = harness.read(Month(2023, 9));
  ASSERT_TRUE(sep.ok()) << sep.error().message();
  EXPECT_EQ(sum(*sep, "cost/cost"), actual_sep);
  EXPECT_EQ(sum(*sep, "cost/amortized_cost"), amortized_sep);
  // 3 actual rows, plus savings-plan usage and the unused savings plan (amortized only).
  EXPECT_EQ(sep->size(), 5u);
}

TEST(AzureJoin, PurchasesAreCountedOnceAndCoveredUsageCarriesItsAmortizedShare) {
  PluginHarness harness(billdrop_plugin_entry(), both());
  ASSERT_TRUE(harness.create().ok());
  auto aug = harness.read(Month(2023, 8));
  ASSERT_TRUE(aug.ok());

  // The reservation purchase: billed 100.00 once, amortized 0 (its amortized row has 0).
  int purchases = 0;
  for (const CapturedRow& row : *aug)
    if (row.get("lineitem/type") == "CommittedUsePurchase") {
      ++purchases;
      EXPECT_EQ(row.get("cost/cost"), "100.00");
      EXPECT_EQ(row.get("cost/amortized_cost"), "0");
      EXPECT_EQ(row.origin, "ea_actual.csv:4");
    }
  EXPECT_EQ(purchases, 1);

  // Reservation-covered usage: billed 0 in actual, 3.00 amortized.
  const CapturedRow* covered = find_row(*aug, "ea_actual.csv:2");
  ASSERT_NE(covered, nullptr);
  EXPECT_EQ(covered->get("cost/cost"), "0");
  EXPECT_EQ(covered->get("cost/amortized_cost"), "3.00");
  EXPECT_EQ(covered->get("lineitem/type"), "Usage");

  // Quantity 5.5 (actual) and 5.50 (amortized) are one key.
  const CapturedRow* storage = find_row(*aug, "ea_actual.csv:5");
  ASSERT_NE(storage, nullptr);
  EXPECT_EQ(storage->get("cost/amortized_cost"), "0.25");

  // The unused reservation comes from the amortized file with billed cost 0.
  const CapturedRow* unused = find_row(*aug, "ea_amortized.csv:7");
  ASSERT_NE(unused, nullptr);
  EXPECT_EQ(unused->get("cost/cost"), "0");
  EXPECT_EQ(unused->get("cost/amortized_cost"), "0.40");
  EXPECT_EQ(unused->get("lineitem/type"), "Usage");
}

TEST(AzureJoin, SavingsPlanPurchaseAbsentFromAmortizedStaysBilledOnly) {
  PluginHarness harness(billdrop_plugin_entry(), both());
  ASSERT_TRUE(harness.create().ok());
  auto sep = harness.read(Month(2023, 9));
  ASSERT_TRUE(sep.ok());
  const CapturedRow* purchase = find_row(*sep, "ea_actual.csv:9");
  ASSERT_NE(purchase, nullptr);
  EXPECT_EQ(purchase->get("lineitem/type"), "CommittedUsePurchase");
  EXPECT_EQ(purchase->get("cost/cost"), "50.00");
  EXPECT_EQ(purchase->get("cost/amortized_cost"), "0");
  const CapturedRow* covered = find_row(*sep, "ea_amortized.csv:10");
  ASSERT_NE(covered, nullptr);
  EXPECT_EQ(covered->get("cost/cost"), "0");
  EXPECT_EQ(covered->get("cost/amortized_cost"), "1.25");
}

TEST(AzureJoin, OneExportAloneCarriesItsOwnFigures) {
  PluginHarness actual(billdrop_plugin_entry(), {{"actual", fixture("ea_actual.csv").string()}});
  ASSERT_TRUE(actual.create().ok());
  auto rows = actual.read(Month(2023, 8));
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(sum(*rows, "cost/cost"), actual_aug);
  EXPECT_EQ(rows->size(), 5u);
  for (const CapturedRow& row : *rows)
    EXPECT_FALSE(row.has("cost/amortized_cost")); // CBF falls back to cost/cost

  PluginHarness amortized(billdrop_plugin_entry(),
                          {{"amortized", fixture("ea_amortized.csv").string()}});
  ASSERT_TRUE(amortized.create().ok());
  rows = amortized.read(Month(2023, 9));
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(sum(*rows, "cost/cost"), amortized_sep);
  EXPECT_EQ(rows->size(), 4u);
}

TEST(AzureJoin, NeitherExportIsAConfigError) {
  PluginHarness harness(billdrop_plugin_entry(), {});
  const Status status = harness.create();
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind(), ErrorKind::config);
  EXPECT_NE(status.error().message().find("actual"), std::string::npos);
}

TEST(AzureJoin, MapsDimensionsOfARow) {
  PluginHarness harness(billdrop_plugin_entry(), both());
  ASSERT_TRUE(harness.create().ok());
  auto aug = harness.read(Month(2023, 8));
  ASSERT_TRUE(aug.ok());
  const CapturedRow* vm = find_row(*aug, "ea_actual.csv:2");
  ASSERT_NE(vm, nullptr);
  EXPECT_EQ(vm->get("time/usage_start"), "2023-08-01T00:00:00Z");
  EXPECT_EQ(vm->get("resource/account"), "sub-1");
  EXPECT_EQ(vm->get("resource/service"), "Virtual Machines");
  EXPECT_EQ(vm->get("resource/usage_family"), "Dv2 Series");
  EXPECT_EQ(vm->get("resource/region"), "eastus");
  EXPECT_EQ(vm->get("resource/id"),
            "/subscriptions/sub-1/resourceGroups/rg/providers/Microsoft.Compute/"
            "virtualMachines/vm1");
  EXPECT_EQ(vm->get("usage/amount"), "24");
  EXPECT_EQ(vm->get("usage/units"), "1 Hour");
  EXPECT_EQ(vm->get("action/usage_type"), "D2 v2");
  EXPECT_EQ(vm->get("lineitem/description"), "VM D2 v2");
  // Tags written without braces.
  EXPECT_EQ(vm->get("resource/tag:env"), "prod");
  EXPECT_EQ(vm->get("resource/tag:team"), "web");

  const CapturedRow* storage = find_row(*aug, "ea_actual.csv:5");
  ASSERT_NE(storage, nullptr);
  EXPECT_EQ(storage->get("resource/region"), "eastus2"); // "US East 2"
  const CapturedRow* rounding = find_row(*aug, "ea_actual.csv:6");
  ASSERT_NE(rounding, nullptr);
  EXPECT_EQ(rounding->get("lineitem/type"), "Adjustment");
  EXPECT_FALSE(rounding->has("resource/region"));                       // "global"
  EXPECT_EQ(rounding->get("time/usage_start"), "2023-08-20T00:00:00Z"); // "8/20/2023"
}

// One export given as a single file is read in one pass (ABI 1.4): both months' rows at once,
// with the Python totals above, the same rows as months() + read(month).
TEST(AzureOnePass, ASingleExportFileIsReadInOnePass) {
  PluginHarness actual(billdrop_plugin_entry(), {{"actual", fixture("ea_actual.csv").string()}});
  ASSERT_TRUE(actual.create().ok());
  auto one_pass = actual.one_pass();
  ASSERT_TRUE(one_pass.ok()) << one_pass.error().message();
  EXPECT_TRUE(*one_pass);
  auto all = actual.read_all();
  ASSERT_TRUE(all.ok()) << all.error().message();
  Decimal aug, sep;
  for (const CapturedRow& row : *all)
    (row.get("time/usage_start").rfind("2023-08", 0) == 0 ? aug : sep) +=
        Decimal::from_string(row.get("cost/cost"));
  EXPECT_EQ(aug, actual_aug);
  EXPECT_EQ(sep, actual_sep);
  auto compared = actual.compare_one_pass();
  ASSERT_TRUE(compared.ok()) << compared.error().message();
  EXPECT_TRUE(compared->equal()) << compared->first_difference;
}

// A monthly export pair (every row of August) read month by month. The totals are the
// hand-summed August ones above.
TEST(AzureJoin, AMonthlyPairIsJoinedByMonth) {
  const auto dir = temp_dir("join_monthly_pair");
  write_file(dir / "actual.csv", fixture_head("ea_actual.csv", 1 + 5));
  write_file(dir / "amortized.csv", fixture_head("ea_amortized.csv", 1 + 6));
  PluginHarness harness(billdrop_plugin_entry(), {{"actual", (dir / "actual.csv").string()},
                                                  {"amortized", (dir / "amortized.csv").string()}});
  ASSERT_TRUE(harness.create().ok());
  auto months = harness.months();
  ASSERT_TRUE(months.ok()) << months.error().message();
  ASSERT_EQ(*months, std::vector<Month>{Month(2023, 8)});
  auto aug = harness.read(Month(2023, 8));
  ASSERT_TRUE(aug.ok()) << aug.error().message();
  EXPECT_TRUE(harness.rejects().empty());
  EXPECT_EQ(sum(*aug, "cost/cost"), actual_aug);
  EXPECT_EQ(sum(*aug, "cost/amortized_cost"), amortized_aug);
  EXPECT_EQ(aug->size(), 6u);
}

// Two single files joined are read in one pass (ABI 1.4 read_all): both months at once, each
// month's totals the hand-summed ones above, and the same rows as months() + read(month). With
// join_one_pass_mb = 0 they are read month by month.
TEST(AzureOnePass, TwoSingleFilesJoinedAreReadInOnePass) {
  PluginHarness joined(billdrop_plugin_entry(), both());
  ASSERT_TRUE(joined.create().ok());
  auto one_pass = joined.one_pass();
  ASSERT_TRUE(one_pass.ok()) << one_pass.error().message();
  EXPECT_TRUE(*one_pass);
  auto all = joined.read_all();
  ASSERT_TRUE(all.ok()) << all.error().message();
  Decimal cost_aug, cost_sep, amortized_aug_sum, amortized_sep_sum;
  std::size_t rows_aug = 0;
  for (const CapturedRow& row : *all) {
    const bool august = row.get("time/usage_start").rfind("2023-08", 0) == 0;
    (august ? cost_aug : cost_sep) += Decimal::from_string(row.get("cost/cost"));
    (august ? amortized_aug_sum : amortized_sep_sum) +=
        Decimal::from_string(row.get("cost/amortized_cost"));
    rows_aug += august ? 1 : 0;
  }
  EXPECT_EQ(cost_aug, actual_aug);
  EXPECT_EQ(cost_sep, actual_sep);
  EXPECT_EQ(amortized_aug_sum, amortized_aug);
  EXPECT_EQ(amortized_sep_sum, amortized_sep);
  EXPECT_EQ(rows_aug, 6u);               // as MonthlyTotalsEqualEachExportExactly
  EXPECT_EQ(all->size() - rows_aug, 5u); // the same
  auto compared = joined.compare_one_pass();
  ASSERT_TRUE(compared.ok()) << compared.error().message();
  EXPECT_TRUE(compared->equal()) << compared->first_difference;

  ConfigValues by_month = both();
  by_month["join_one_pass_mb"] = std::int64_t{0};
  PluginHarness limited(billdrop_plugin_entry(), by_month);
  ASSERT_TRUE(limited.create().ok());
  one_pass = limited.one_pass();
  ASSERT_TRUE(one_pass.ok());
  EXPECT_FALSE(*one_pass);
}

} // namespace
} // namespace billdrop::azure
