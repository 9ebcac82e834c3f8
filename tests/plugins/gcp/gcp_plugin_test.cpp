// The gcp plugin through its real C descriptor (PluginHarness). Expected totals come from
// Python's json/csv + decimal modules over the fixtures, not from the plugin's code:
//   rows = [json.loads(l, parse_float=Decimal, parse_int=Decimal) for l in open(f)]
//   total[month] += Decimal(r['cost']) + sum(Decimal(c['amount']) for c in r['credits'])
// (for CSV: ast.literal_eval of the credits cell); row counts are 1 + len(credits) per record.
#include "support/temp_folder.hpp"

#include <billdrop/byte_source.hpp>
#include <billdrop/decimal.hpp>
#include <billdrop/sdk.hpp>
#include <billdrop/testing/harness.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include <unistd.h>

extern "C" const bd_plugin_descriptor* billdrop_plugin_entry(void);

namespace billdrop::gcp {
namespace {

namespace fs = std::filesystem;
using testing::CapturedRow;
using testing::PluginHarness;

const fs::path fixtures = fs::path(BILLDROP_TEST_SOURCE_DIR) / "tests/plugins/gcp/fixtures";

std::string read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

Decimal total(const std::vector<CapturedRow>& rows) {
  Decimal sum;
  for (const CapturedRow& row : rows)
    sum += Decimal::from_string(row.get("cost/cost"));
  return sum;
}

const CapturedRow* find_row(const std::vector<CapturedRow>& rows, std::string_view type,
                            std::string_view cost) {
  for (const CapturedRow& row : rows)
    if (row.get("lineitem/type") == type && row.get("cost/cost") == cost)
      return &row;
  return nullptr;
}

class GcpPluginTest : public test::TempFolderTest {
protected:
  fs::path write(const std::string& name, const std::string& bytes) {
    const fs::path file = dir_ / name;
    fs::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << bytes;
    return file;
  }
};

// Both extracts hold the same seven records, so every check runs on both.
class GcpFormatTest : public GcpPluginTest, public ::testing::WithParamInterface<std::string> {};

TEST_P(GcpFormatTest, MonthlyTotalsByUsageMonth) {
  PluginHarness harness(billdrop_plugin_entry(), {{"path", (fixtures / GetParam()).string()}});
  ASSERT_TRUE(harness.create().ok());
  ASSERT_TRUE(harness.check().ok());
  auto months = harness.months();
  ASSERT_TRUE(months.ok()) << months.error().message();
  ASSERT_EQ(*months, (std::vector<Month>{Month(2024, 7), Month(2024, 8)}));

  auto july = harness.read(Month(2024, 7));
  ASSERT_TRUE(july.ok()) << july.error().message();
  EXPECT_TRUE(harness.rejects().empty());
  EXPECT_EQ(july->size(), 6u);                            // Python: 6 rows
  EXPECT_EQ(total(*july), Decimal::from_string("10.75")); // Python: 10.750000

  auto august = harness.read(Month(2024, 8));
  ASSERT_TRUE(august.ok()) << august.error().message();
  EXPECT_TRUE(harness.rejects().empty());
  EXPECT_EQ(august->size(), 7u);                            // Python: 7 rows
  EXPECT_EQ(total(*august), Decimal::from_string("61.36")); // Python: 61.36
  EXPECT_EQ(harness.note("gcp credit type 'SOMETHING_NEW' mapped to Credit"), 1u);
  // Counted per row written: the charge and its three credits carry the rewritten key.
  EXPECT_EQ(harness.note("gcp label key rewritten: 'cost center' -> 'cost_center'"), 4u)
      << ::testing::PrintToString(harness.notes());
}

TEST_P(GcpFormatTest, InvoiceMonthPlacesLateUsageInItsInvoiceMonth) {
  PluginHarness harness(billdrop_plugin_entry(), {{"path", (fixtures / GetParam()).string()},
                                                  {"month_by", std::string("invoice")}});
  ASSERT_TRUE(harness.create().ok());
  auto months = harness.months();
  ASSERT_TRUE(months.ok());
  ASSERT_EQ(*months, (std::vector<Month>{Month(2024, 7), Month(2024, 8)}));
  auto july = harness.read(Month(2024, 7));
  ASSERT_TRUE(july.ok());
  EXPECT_EQ(july->size(), 5u);                           // Python: 5 rows
  EXPECT_EQ(total(*july), Decimal::from_string("8.75")); // Python: 8.750000
  auto august = harness.read(Month(2024, 8));
  ASSERT_TRUE(august.ok());
  EXPECT_EQ(august->size(), 8u);                            // Python: 8 rows
  EXPECT_EQ(total(*august), Decimal::from_string("63.36")); // Python: 63.36
  // The storage charge of 2024-07-31 23:00, invoiced in August, counts in August's first hour.
  const CapturedRow* late = find_row(*august, "Usage", "2.00");
  ASSERT_NE(late, nullptr);
  EXPECT_EQ(late->get("time/usage_start"), "2024-08-01T00:00:00Z");
  EXPECT_EQ(
      harness.note("gcp usage from before its invoice month placed in the invoice month's first "
                   "hour"),
      1u);
}

TEST_P(GcpFormatTest, MapsEveryColumnOfAUsageRowAndItsCredits) {
  PluginHarness harness(billdrop_plugin_entry(), {{"path", (fixtures / GetParam()).string()}});
  ASSERT_TRUE(harness.create().ok());
  auto july = harness.read(Month(2024, 7));
  ASSERT_TRUE(july.ok());
  const CapturedRow& usage = july->at(0);
  // The first record: line 1 of the NDJSON file, line 2 (after the header) of the CSV file.
  EXPECT_EQ(usage.origin, GetParam() + (GetParam().ends_with(".csv") ? ":2" : ":1"));
  EXPECT_EQ(usage.get("time/usage_start"), "2024-07-15T10:00:00Z");
  EXPECT_EQ(usage.get("cost/cost"), "10.50");
  EXPECT_EQ(usage.get("lineitem/type"), "Usage");
  EXPECT_EQ(usage.get("resource/account"), "shop-prod");
  EXPECT_EQ(usage.get("resource/service"), "Compute Engine");
  EXPECT_EQ(usage.get("resource/usage_family"), "N1 Predefined Instance Core");
  EXPECT_EQ(usage.get("action/usage_type"), "2E27-4F75-95CD");
  EXPECT_EQ(usage.get("resource/region"), "us-central1");
  EXPECT_EQ(usage.get("bill/invoice_id"), "202407");
  EXPECT_EQ(usage.get("resource/id"),
            "compute.googleapis.com/projects/shop-prod/zones/us-central1-a/instances/vm-1");
  EXPECT_EQ(usage.get("resource/tag:env"), "prod");
  EXPECT_EQ(usage.get("resource/tag:goog-resource-type"), "compute");
  EXPECT_EQ(usage.get("resource/tag:project:team"), "core");
  EXPECT_EQ(usage.get("usage/amount"), "3600");
  EXPECT_EQ(usage.get("usage/units"), "seconds");

  const CapturedRow& sud = july->at(1);
  EXPECT_EQ(sud.origin, usage.origin);
  EXPECT_EQ(sud.get("time/usage_start"), "2024-07-15T10:00:00Z");
  EXPECT_EQ(sud.get("cost/cost"), "-1.25");
  EXPECT_EQ(sud.get("lineitem/type"), "Discount");
  EXPECT_EQ(sud.get("lineitem/id"), "SUD-1");
  EXPECT_EQ(sud.get("lineitem/description"), "Sustained Usage Discount");
  EXPECT_EQ(sud.get("resource/id"), usage.get("resource/id"));
  EXPECT_EQ(sud.get("resource/tag:env"), "prod");
  EXPECT_FALSE(sud.has("usage/amount")); // usage is counted once, on the charge
  const CapturedRow& promo = july->at(2);
  EXPECT_EQ(promo.get("cost/cost"), "-0.5");
  EXPECT_EQ(promo.get("lineitem/type"), "Credit");
  EXPECT_EQ(promo.get("lineitem/description"), "Launch promotion");

  // 5e-06 is written without an exponent; "global" is no region.
  const CapturedRow& tiny = july->at(3);
  EXPECT_EQ(tiny.get("cost/cost"), "0.000005");
  EXPECT_FALSE(tiny.has("resource/region"));
  EXPECT_FALSE(tiny.has("resource/id"));                 // no tags, no resource name
  EXPECT_EQ(july->at(4).get("lineitem/type"), "Credit"); // FREE_TIER
  EXPECT_EQ(july->at(4).get("cost/cost"), "-0.000005");
  EXPECT_EQ(july->at(5).get("resource/region"), "us"); // location.location without a region
}

TEST_P(GcpFormatTest, CostTypesAndAccountFallback) {
  PluginHarness harness(billdrop_plugin_entry(), {{"path", (fixtures / GetParam()).string()}});
  ASSERT_TRUE(harness.create().ok());
  auto august = harness.read(Month(2024, 8));
  ASSERT_TRUE(august.ok());
  const CapturedRow* tax = find_row(*august, "Tax", "1.10");
  ASSERT_NE(tax, nullptr);
  EXPECT_EQ(tax->get("resource/account"), "01ABCD-234567-89EF01"); // no project: billing account
  EXPECT_FALSE(tax->has("resource/region"));
  const CapturedRow* adjustment = find_row(*august, "Adjustment", "-3.25");
  ASSERT_NE(adjustment, nullptr);
  EXPECT_EQ(adjustment->get("lineitem/description"), "Billing correction");
  EXPECT_NE(find_row(*august, "Adjustment", "0.01"), nullptr); // rounding_error
  const CapturedRow* cud = find_row(*august, "Discount", "-30");
  ASSERT_NE(cud, nullptr);
  EXPECT_EQ(cud->get("time/usage_start"), "2024-08-02T05:30:00Z");
  EXPECT_EQ(cud->get("resource/tag:cost_center"), "42");
  EXPECT_EQ(cud->get("resource/tag:compute.googleapis.com/machine_spec"), "n1-standard-4");
  // Tags without a resource name: a stable synthetic id.
  EXPECT_EQ(cud->get("resource/id").rfind("gcp-project/synthetic-", 0), 0u)
      << cud->get("resource/id");
  EXPECT_NE(find_row(*august, "Discount", "-5.5"), nullptr);
  EXPECT_NE(find_row(*august, "Credit", "-1"), nullptr); // unknown credit type
}

// One pass (ABI 1.4): read_all gives exactly the rows of months() + read(month), each file
// read once; the totals per month are the hand-summed ones above.
TEST_P(GcpFormatTest, OnePassGivesTheRowsOfEveryMonth) {
  PluginHarness harness(billdrop_plugin_entry(), {{"path", (fixtures / GetParam()).string()}});
  ASSERT_TRUE(harness.create().ok());
  auto one_pass = harness.one_pass();
  ASSERT_TRUE(one_pass.ok()) << one_pass.error().message();
  EXPECT_TRUE(*one_pass);
  auto all = harness.read_all();
  ASSERT_TRUE(all.ok()) << all.error().message();
  std::map<std::string, Decimal> by_month;
  for (const auto& row : *all)
    by_month[row.get("time/usage_start").substr(0, 7)] +=
        Decimal::from_string(row.get("cost/cost"));
  // July 10.75 (6 rows) and August 61.36 (7 rows), by usage month as above.
  EXPECT_EQ(all->size(), 13u);
  EXPECT_EQ(by_month["2024-07"], Decimal::from_string("10.75"));
  EXPECT_EQ(by_month["2024-08"], Decimal::from_string("61.36"));
  EXPECT_EQ(by_month.size(), 2u);
  auto compared = harness.compare_one_pass();
  ASSERT_TRUE(compared.ok()) << compared.error().message();
  EXPECT_TRUE(compared->equal()) << compared->first_difference;
  EXPECT_EQ(compared->rows_in_one_pass, 13u);
}

INSTANTIATE_TEST_SUITE_P(Extracts, GcpFormatTest,
                         ::testing::Values("billing_2024.ndjson", "billing_2024.csv"));

TEST_F(GcpPluginTest, GzipFolderReadsLikeThePlainFiles) {
  write("in/a.csv.gz", gzip_compress(read_text(fixtures / "billing_2024.csv")));
  write("in/notes.txt", "not an extract");
  PluginHarness harness(billdrop_plugin_entry(), {{"path", (dir_ / "in").string()}});
  ASSERT_TRUE(harness.create().ok());
  auto august = harness.read(Month(2024, 8));
  ASSERT_TRUE(august.ok()) << august.error().message();
  EXPECT_EQ(total(*august), Decimal::from_string("61.36")); // as above
  EXPECT_EQ(august->at(0).origin, "a.csv.gz:5");
}

TEST_F(GcpPluginTest, RealKokuExtracts) {
  // Python (csv + ast.literal_eval + decimal): 2022-08: 9 rows, 0.000012 (no credits);
  // 2020-11: 33 rows (25 charges, 8 credits), 0.000000 (every credit cancels its charge).
  PluginHarness standard(billdrop_plugin_entry(),
                         {{"path", (fixtures / "koku_202011.csv").string()}});
  ASSERT_TRUE(standard.create().ok());
  auto november = standard.read(Month(2020, 11));
  ASSERT_TRUE(november.ok()) << november.error().message();
  EXPECT_TRUE(standard.rejects().empty());
  EXPECT_EQ(november->size(), 33u);
  EXPECT_EQ(total(*november), Decimal::from_string("0"));

  PluginHarness detailed(billdrop_plugin_entry(),
                         {{"path", (fixtures / "koku_2022-08-01_5.csv").string()}});
  ASSERT_TRUE(detailed.create().ok());
  auto august = detailed.read(Month(2022, 8));
  ASSERT_TRUE(august.ok()) << august.error().message();
  EXPECT_EQ(august->size(), 9u);
  EXPECT_EQ(total(*august), Decimal::from_string("0.000012"));
  EXPECT_EQ(august->at(0).get("resource/id"), "example"); // resource.global_name "//example"
}

TEST_F(GcpPluginTest, MalformedRecordsCostOnlyThemselves) {
  // July: good. August: a short row and a non-numeric cost among good rows. (Files that break
  // off: export_source_test.cpp.)
  const std::string csv = read_text(fixtures / "billing_2024.csv");
  std::istringstream lines(csv);
  std::string header;
  std::getline(lines, header);
  std::string july = header + "\n", august = header + "\n", line;
  while (std::getline(lines, line))
    (line.find(",2024-07-") != std::string::npos && line.find("202408") == std::string::npos
         ? july
         : august) += line + "\n";
  // August lines: 2 late July usage (2.00), 3 tax (1.10), 4 CUD (100 - 36.5), 5 adjustment, 6
  // rounding.
  std::string bad_august = august;
  const std::size_t tax = bad_august.find("Invoice,,Tax");
  ASSERT_NE(tax, std::string::npos);
  const std::size_t tax_line_end = bad_august.find('\n', tax);
  const std::size_t tax_line_start = bad_august.rfind('\n', tax) + 1;
  bad_august.replace(tax_line_start, tax_line_end - tax_line_start,
                     "01ABCD-234567-89EF01,,Invoice,,Tax,2024-08-01 00:00:00+00:00"); // short
  const std::size_t adjustment = bad_august.find(",-3.25,");
  ASSERT_NE(adjustment, std::string::npos);
  bad_august.replace(adjustment, 7, ",abc,");
  write("in/a_2024-07.csv", july);
  write("in/b_2024-08.csv", bad_august);

  PluginHarness harness(billdrop_plugin_entry(), {{"path", (dir_ / "in").string()}});
  ASSERT_TRUE(harness.create().ok());
  auto months = harness.months();
  ASSERT_TRUE(months.ok()) << months.error().message();
  ASSERT_EQ(*months, (std::vector<Month>{Month(2024, 7), Month(2024, 8)}));

  auto july_rows = harness.read(Month(2024, 7));
  ASSERT_TRUE(july_rows.ok()) << july_rows.error().message();
  // By hand: 10.50 - 1.25 - 0.50 + 0.000005 - 0.000005, plus the 2.00 of 2024-07-31 23:00 that
  // sits in August's file (invoiced in August, routed by its usage month).
  EXPECT_EQ(total(*july_rows), Decimal::from_string("10.75"));
  EXPECT_TRUE(harness.rejects().empty());

  auto august_rows = harness.read(Month(2024, 8));
  ASSERT_TRUE(august_rows.ok()) << august_rows.error().message();
  // By hand: 61.36 - 1.10 (short tax row) + 3.25 (adjustment with cost "abc") = 63.51.
  EXPECT_EQ(total(*august_rows), Decimal::from_string("63.51"));
  ASSERT_EQ(harness.rejects().size(), 2u);
  EXPECT_EQ(harness.rejects()[0].origin, "b_2024-08.csv:3");
  EXPECT_NE(harness.rejects()[0].reason.find("the row has 6 fields but the header has 32"),
            std::string::npos)
      << harness.rejects()[0].reason;
  EXPECT_EQ(harness.rejects()[1].origin, "b_2024-08.csv:5");
  EXPECT_EQ(harness.rejects()[1].reason, "cost \"abc\" is not a decimal number");
}

TEST_F(GcpPluginTest, ConfigNeedsFilesOrBigQuery) {
  PluginHarness neither(billdrop_plugin_entry(), {});
  Status status = neither.create();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message().find("set either path"), std::string::npos);
  PluginHarness bad_month(billdrop_plugin_entry(),
                          {{"path", std::string("x")}, {"month_by", std::string("day")}});
  ASSERT_FALSE(bad_month.create().ok());
}

} // namespace
} // namespace billdrop::gcp
