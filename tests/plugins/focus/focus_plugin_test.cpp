// The focus plugin through its real C descriptor, as the host drives it, on the fixtures in
// fixtures/. Expected totals were computed independently with Python's csv and decimal modules
// straight from the fixture files:
//   rows = [{k.strip(): v for k, v in r.items()} for r in csv.DictReader(open(f,
//   encoding="utf-8-sig"))] sum(Decimal(r["BilledCost"]) for r in rows if
//   r["ChargePeriodStart"][:7] == month)
#include <billdrop/sdk.hpp>
#include <billdrop/testing/harness.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

extern "C" const bd_plugin_descriptor* billdrop_plugin_entry(void);

namespace {

namespace fs = std::filesystem;
using billdrop::ConfigValues;
using billdrop::Decimal;
using billdrop::ErrorKind;
using billdrop::Month;
using billdrop::testing::CapturedRow;
using billdrop::testing::PluginHarness;

const fs::path fixtures = BILLDROP_FOCUS_FIXTURES;

std::string read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string cost_total(const std::vector<CapturedRow>& rows) {
  Decimal total;
  for (const CapturedRow& row : rows)
    total += Decimal::from_string(row.get("cost/cost"));
  return total.normalized().to_string();
}

const CapturedRow* row_from(const std::vector<CapturedRow>& rows, const std::string& origin) {
  for (const CapturedRow& row : rows)
    if (row.origin == origin)
      return &row;
  return nullptr;
}

class FocusPluginTest : public ::testing::Test {
protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / ("billdrop_focus_plugin_" + std::string(info->name()) + "_" +
                                        std::to_string(::getpid()));
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

  fs::path dir_;
};

TEST_F(FocusPluginTest, ReadsFocus10MonthsAndTotalsByChargePeriod) {
  PluginHarness harness(billdrop_plugin_entry(),
                        {{"path", (fixtures / "v1_0_sep_oct.csv").string()}});
  ASSERT_TRUE(harness.create().ok());
  ASSERT_TRUE(harness.check().ok());
  auto months = harness.months();
  ASSERT_TRUE(months.ok()) << months.error().message();
  EXPECT_EQ(*months, (std::vector<Month>{Month(2024, 9), Month(2024, 10)}));

  auto september = harness.read(Month(2024, 9));
  ASSERT_TRUE(september.ok()) << september.error().message();
  EXPECT_TRUE(harness.rejects().empty());
  ASSERT_EQ(september->size(), 11u); // Python: 11 rows, 117.87
  EXPECT_EQ(cost_total(*september), "117.87");

  auto october = harness.read(Month(2024, 10));
  ASSERT_TRUE(october.ok()) << october.error().message();
  ASSERT_EQ(october->size(), 3u); // Python: 3 rows, 11.501
  EXPECT_EQ(cost_total(*october), "11.501");
}

// A single file is read in one pass (ABI 1.4): the rows of both months at once, the same as
// months() + read(month); a folder is not.
TEST_F(FocusPluginTest, ASingleFileIsReadInOnePass) {
  PluginHarness harness(billdrop_plugin_entry(),
                        {{"path", (fixtures / "v1_0_sep_oct.csv").string()}});
  ASSERT_TRUE(harness.create().ok());
  auto one_pass = harness.one_pass();
  ASSERT_TRUE(one_pass.ok()) << one_pass.error().message();
  EXPECT_TRUE(*one_pass);
  auto all = harness.read_all();
  ASSERT_TRUE(all.ok()) << all.error().message();
  std::vector<CapturedRow> september, october;
  for (const CapturedRow& row : *all)
    (row.get("time/usage_start").rfind("2024-09", 0) == 0 ? september : october).push_back(row);
  ASSERT_EQ(september.size(), 11u); // Python, as above: 11 rows, 117.87
  EXPECT_EQ(cost_total(september), "117.87");
  ASSERT_EQ(october.size(), 3u); // 3 rows, 11.501
  EXPECT_EQ(cost_total(october), "11.501");
  auto compared = harness.compare_one_pass();
  ASSERT_TRUE(compared.ok()) << compared.error().message();
  EXPECT_TRUE(compared->equal()) << compared->first_difference;

  write("in/a.csv", read_text(fixtures / "v1_0_sep_oct.csv"));
  PluginHarness folder(billdrop_plugin_entry(), {{"path", (dir_ / "in").string()}});
  ASSERT_TRUE(folder.create().ok());
  one_pass = folder.one_pass();
  ASSERT_TRUE(one_pass.ok());
  EXPECT_FALSE(*one_pass);
}

TEST_F(FocusPluginTest, MapsEveryFieldOfAUsageRow) {
  PluginHarness harness(billdrop_plugin_entry(),
                        {{"path", (fixtures / "v1_0_sep_oct.csv").string()}});
  ASSERT_TRUE(harness.create().ok());
  auto rows = harness.read(Month(2024, 9));
  ASSERT_TRUE(rows.ok()) << rows.error().message();
  const CapturedRow* row = row_from(*rows, "v1_0_sep_oct.csv:2");
  ASSERT_NE(row, nullptr);
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"time/usage_start", "2024-09-01T00:00:00Z"},
      {"cost/cost", "1.25"},
      {"cost/amortized_cost", "1.00"},
      {"cost/on_demand_cost", "1.50"},
      {"lineitem/type", "Usage"},
      {"resource/id", "i-1"},
      {"resource/account", "111"},
      {"resource/service", "Virtual Machines"},
      {"resource/region", "us-east-1"},
      {"resource/usage_family", "Compute"},
      {"usage/amount", "2"},
      {"usage/units", "Hours"},
      {"lineitem/description", "VM hours"},
      {"resource/tag:team", "web"},
      {"resource/tag:Cost_Center", "42"},
  };
  EXPECT_EQ(row->fields, expected);
  EXPECT_EQ(harness.note("tag key rewritten: 'Cost Center' -> 'Cost_Center'"), 1u);
  EXPECT_EQ(harness.note("rows in BillingCurrency USD (costs are sent as billed, unconverted)"),
            11u);
}

TEST_F(FocusPluginTest, MapsChargeCategoriesAndClassesToCbfTypes) {
  PluginHarness harness(billdrop_plugin_entry(),
                        {{"path", (fixtures / "v1_0_sep_oct.csv").string()}});
  ASSERT_TRUE(harness.create().ok());
  auto rows = harness.read(Month(2024, 9));
  ASSERT_TRUE(rows.ok()) << rows.error().message();
  // Line numbers in the fixture: header on line 1, then the rows of make_fixtures in order.
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"v1_0_sep_oct.csv:2", "Usage"},
      {"v1_0_sep_oct.csv:4", "CommittedUsePurchase"}, // Purchase with a CommitmentDiscountId
      {"v1_0_sep_oct.csv:5", "Purchase"},
      {"v1_0_sep_oct.csv:6", "Tax"},
      {"v1_0_sep_oct.csv:7", "Credit"},
      {"v1_0_sep_oct.csv:8", "Adjustment"}, // ChargeClass Correction
      {"v1_0_sep_oct.csv:9", "Discount"},   // negative Usage with a CommitmentDiscountId
      {"v1_0_sep_oct.csv:10", "Usage"},     // "Refund" is not a FOCUS category
  };
  for (const auto& [origin, type] : expected) {
    const CapturedRow* row = row_from(*rows, origin);
    ASSERT_NE(row, nullptr) << origin;
    EXPECT_EQ(row->get("lineitem/type"), type) << origin;
  }
  EXPECT_EQ(harness.note("ChargeCategory \"Refund\" is not a FOCUS category: mapped to Usage"), 1u);
  EXPECT_EQ(harness.note("negative Usage charges with a CommitmentDiscountId mapped to Discount"),
            1u);

  auto october = harness.read(Month(2024, 10));
  ASSERT_TRUE(october.ok());
  const CapturedRow* adjustment = row_from(*october, "v1_0_sep_oct.csv:13");
  ASSERT_NE(adjustment, nullptr);
  EXPECT_EQ(adjustment->get("lineitem/type"), "Adjustment");
}

TEST_F(FocusPluginTest, NullsAreAbsentAndPricingQuantityStandsInForConsumed) {
  PluginHarness harness(billdrop_plugin_entry(),
                        {{"path", (fixtures / "v1_0_sep_oct.csv").string()}});
  ASSERT_TRUE(harness.create().ok());
  auto rows = harness.read(Month(2024, 9));
  ASSERT_TRUE(rows.ok());
  const CapturedRow* storage = row_from(*rows, "v1_0_sep_oct.csv:3");
  ASSERT_NE(storage, nullptr);
  EXPECT_EQ(storage->get("usage/amount"), "3");
  EXPECT_EQ(storage->get("usage/units"), "GB-Months");
  EXPECT_EQ(storage->get("lineitem/description"), "SKU-1"); // ChargeDescription is NULL
  EXPECT_FALSE(storage->has("resource/tag:team"));

  const CapturedRow* purchase = row_from(*rows, "v1_0_sep_oct.csv:4");
  ASSERT_NE(purchase, nullptr);
  EXPECT_FALSE(purchase->has("resource/region"));               // RegionId NULL
  EXPECT_FALSE(purchase->has("resource/id"));                   // ResourceId NULL, no tags
  EXPECT_FALSE(purchase->has("usage/amount"));                  // both quantities NULL
  EXPECT_EQ(purchase->get("resource/account"), "900000000001"); // SubAccountId NULL
  for (const auto& [key, value] : purchase->fields)
    EXPECT_NE(value, "NULL") << key;
}

TEST_F(FocusPluginTest, TaggedRowWithoutResourceIdGetsASyntheticIdAndGlobalRegionIsNoRegion) {
  PluginHarness harness(billdrop_plugin_entry(),
                        {{"path", (fixtures / "v1_0_sep_oct.csv").string()}});
  ASSERT_TRUE(harness.create().ok());
  auto rows = harness.read(Month(2024, 9));
  ASSERT_TRUE(rows.ok());
  const CapturedRow* dns = row_from(*rows, "v1_0_sep_oct.csv:11");
  ASSERT_NE(dns, nullptr);
  EXPECT_EQ(dns->get("resource/tag:env"), "prod");
  EXPECT_EQ(dns->get("resource/region"), "no-region");
  const std::string id = dns->get("resource/id");
  EXPECT_EQ(id.rfind("focus-charge/synthetic-", 0), 0u) << id;
  EXPECT_EQ(harness.note("tagged rows without ResourceId given a synthetic resource/id"), 1u);
  EXPECT_EQ(harness.note("RegionId \"global\" written as no-region"), 1u);

  // Stable across reads and instances: the same charge keeps its resource.
  PluginHarness again(billdrop_plugin_entry(),
                      {{"path", (fixtures / "v1_0_sep_oct.csv").string()}});
  ASSERT_TRUE(again.create().ok());
  auto rows_again = again.read(Month(2024, 9));
  ASSERT_TRUE(rows_again.ok());
  EXPECT_EQ(row_from(*rows_again, "v1_0_sep_oct.csv:11")->get("resource/id"), id);
}

TEST_F(FocusPluginTest, RowWithUnreadableTagsIsKeptWithoutTags) {
  std::string text = read_text(fixtures / "v1_0_sep_oct.csv");
  const std::string tags = "\"{\"\"env\"\": \"\"prod\"\"}\"";
  const std::size_t at = text.find(tags);
  ASSERT_NE(at, std::string::npos);
  text.replace(at, tags.size(), "\"{\"\"env\"\": }\"");
  const fs::path file = write("bad_tags.csv", text);
  PluginHarness harness(billdrop_plugin_entry(), {{"path", file.string()}});
  ASSERT_TRUE(harness.create().ok());
  auto rows = harness.read(Month(2024, 9));
  ASSERT_TRUE(rows.ok()) << rows.error().message();
  EXPECT_EQ(rows->size(), 11u);
  const CapturedRow* dns = row_from(*rows, "bad_tags.csv:11");
  ASSERT_NE(dns, nullptr);
  EXPECT_EQ(dns->get("cost/cost"), "0.05");
  EXPECT_FALSE(dns->has("resource/tag:env"));
  EXPECT_FALSE(dns->has("resource/id")); // no tags, no ResourceId: no synthetic id either
  EXPECT_EQ(harness.note("rows whose Tags is not a JSON object: kept without tags"), 1u);
  ASSERT_EQ(harness.logs().size(), 1u);
  EXPECT_EQ(harness.logs()[0].rfind("bad_tags.csv:11: Tags ", 0), 0u) << harness.logs()[0];
}

// Rows cycling through six Tags cells, one not JSON and one with an empty value, three times:
// every row carries exactly its own cell's tags, whether the cell was parsed for it or its tags
// kept from an earlier row, and each unreadable cell is noted and logged per row.
TEST_F(FocusPluginTest, RepeatedTagCellsGiveEachRowItsOwnTags) {
  const std::string text = read_text(fixtures / "v1_0_sep_oct.csv");
  const std::string header = text.substr(0, text.find('\n') + 1);
  std::string row = text;
  for (int line = 1; line < 11; ++line)
    row.erase(0, row.find('\n') + 1);
  row.erase(row.find('\n') + 1);
  const std::string tags = "\"{\"\"env\"\": \"\"prod\"\"}\"";
  const std::size_t at = row.find(tags);
  ASSERT_NE(at, std::string::npos);
  const auto cell = [](int k) -> std::string {
    if (k == 3)
      return "\"{\"\"env\"\": }\"";
    if (k == 4)
      return "\"{\"\"team\"\": \"\"\"\", \"\"k4\"\": \"\"v\"\"}\"";
    std::string value = "\"{\"\"team\"\": \"\"t";
    value += std::to_string(k);
    value += "\"\", \"\"env\"\": \"\"prod\"\"}\"";
    return value;
  };
  std::string file_text = header;
  for (int round = 0; round < 3; ++round)
    for (int k = 0; k < 6; ++k)
      file_text += row.substr(0, at) + cell(k) + row.substr(at + tags.size());
  const fs::path file = write("repeated_tags.csv", file_text);
  PluginHarness harness(billdrop_plugin_entry(), {{"path", file.string()}});
  ASSERT_TRUE(harness.create().ok());
  auto rows = harness.read(Month(2024, 9));
  ASSERT_TRUE(rows.ok()) << rows.error().message();
  ASSERT_EQ(rows->size(), 18u);
  for (int i = 0; i < 18; ++i) {
    const CapturedRow* found = row_from(*rows, "repeated_tags.csv:" + std::to_string(i + 2));
    ASSERT_NE(found, nullptr) << i;
    const int k = i % 6;
    if (k == 3) {
      EXPECT_FALSE(found->has("resource/tag:env")) << i;
      EXPECT_FALSE(found->has("resource/tag:team")) << i;
    } else if (k == 4) {
      EXPECT_FALSE(found->has("resource/tag:team")) << i;
      EXPECT_EQ(found->get("resource/tag:k4"), "v") << i;
    } else {
      EXPECT_EQ(found->get("resource/tag:team"), "t" + std::to_string(k)) << i;
      EXPECT_EQ(found->get("resource/tag:env"), "prod") << i;
      EXPECT_FALSE(found->has("resource/tag:k4")) << i;
    }
  }
  EXPECT_EQ(harness.note("rows whose Tags is not a JSON object: kept without tags"), 3u);
  EXPECT_EQ(harness.logs().size(), 3u);
}

TEST_F(FocusPluginTest, BillingPeriodSelectsRowsByInvoiceMonth) {
  PluginHarness harness(billdrop_plugin_entry(),
                        {{"path", (fixtures / "v1_0_sep_oct.csv").string()},
                         {"month_by", std::string("billing_period")}});
  ASSERT_TRUE(harness.create().ok());
  auto months = harness.months();
  ASSERT_TRUE(months.ok());
  EXPECT_EQ(*months, (std::vector<Month>{Month(2024, 9), Month(2024, 10)}));
  auto september = harness.read(Month(2024, 9));
  ASSERT_TRUE(september.ok());
  ASSERT_EQ(september->size(), 10u); // Python, by BillingPeriodStart: 10 rows, 117.85
  EXPECT_EQ(cost_total(*september), "117.85");
  auto october = harness.read(Month(2024, 10));
  ASSERT_TRUE(october.ok());
  ASSERT_EQ(october->size(), 4u); // Python: 4 rows, 11.521
  EXPECT_EQ(cost_total(*october), "11.521");
  // The late row keeps its September usage_start: the host files it under September.
  const CapturedRow* late = row_from(*october, "v1_0_sep_oct.csv:15");
  ASSERT_NE(late, nullptr);
  EXPECT_EQ(late->get("time/usage_start"), "2024-09-29T10:00:00Z");
}

TEST_F(FocusPluginTest, RejectsAnUnknownMonthBy) {
  PluginHarness harness(
      billdrop_plugin_entry(),
      {{"path", (fixtures / "v1_0_sep_oct.csv").string()}, {"month_by", std::string("invoice")}});
  const auto created = harness.create();
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.error().kind(), ErrorKind::config);
  EXPECT_NE(created.error().message().find("month_by"), std::string::npos);
  EXPECT_NE(created.error().message().find("\"invoice\""), std::string::npos);
}

TEST_F(FocusPluginTest, ReadsFocus12WithBomPaddedHeaderIsoTimesAndJsonTagValues) {
  PluginHarness harness(billdrop_plugin_entry(), {{"path", (fixtures / "v1_2_nov.csv").string()}});
  ASSERT_TRUE(harness.create().ok());
  ASSERT_TRUE(harness.check().ok());
  auto rows = harness.read(Month(2024, 11));
  ASSERT_TRUE(rows.ok()) << rows.error().message();
  ASSERT_EQ(rows->size(), 2u); // Python: 2 rows, 4.50
  EXPECT_EQ(cost_total(*rows), "4.5");
  const CapturedRow& first = rows->at(0);
  EXPECT_EQ(first.origin, "v1_2_nov.csv:2");
  EXPECT_EQ(first.get("time/usage_start"), "2024-11-05T10:00:00Z");
  EXPECT_EQ(first.get("bill/invoice_id"), "INV-11");
  EXPECT_EQ(first.get("usage/amount"), "1e2"); // the host normalises exponents
  EXPECT_EQ(first.get("resource/tag:count"), "3");
  EXPECT_EQ(first.get("resource/tag:on"), "true");
  EXPECT_FALSE(first.has("resource/tag:gone")); // a null tag carries nothing
  EXPECT_EQ(first.get("resource/tag:nested"), "{\"a\": \"b\"}");
  for (const auto& [key, value] : first.fields)
    EXPECT_EQ(key.find("x_"), std::string::npos) << key; // provider columns are ignored
  EXPECT_EQ(rows->at(1).get("time/usage_start"), "2024-11-30T23:59:59Z");
}

TEST_F(FocusPluginTest, ReadsTheRealSampleExcerpt) {
  PluginHarness harness(billdrop_plugin_entry(),
                        {{"path", (fixtures / "sample_excerpt.csv").string()}});
  ASSERT_TRUE(harness.create().ok());
  auto rows = harness.read(Month(2024, 9));
  ASSERT_TRUE(rows.ok()) << rows.error().message();
  EXPECT_TRUE(harness.rejects().empty());
  ASSERT_EQ(rows->size(), 21u); // Python: 21 rows, BilledCost 0.01532822240
  EXPECT_EQ(cost_total(*rows), "0.0153282224");
  const CapturedRow& second = rows->at(1);
  EXPECT_EQ(second.get("time/usage_start"), "2024-09-30T22:00:00Z");
  EXPECT_EQ(second.get("resource/account"), "43883916739");
  EXPECT_EQ(second.get("resource/service"), "Elastic Load Balancing");
  EXPECT_EQ(second.get("resource/tag:application"), "BrightLensMatrix");
  EXPECT_EQ(second.get("resource/tag:business_unit"), "ViennaAI");
}

TEST_F(FocusPluginTest, ReadsGzipAndFoldersWithTheSameTotals) {
  write("exports/2024/sep-oct.csv.gz",
        billdrop::gzip_compress(read_text(fixtures / "v1_0_sep_oct.csv")));
  write("exports/nov.CSV", read_text(fixtures / "v1_2_nov.csv"));
  write("exports/notes.txt", "not an export");
  write("exports/.hidden/old.csv", "garbage that would fail");
  PluginHarness harness(billdrop_plugin_entry(), {{"path", (dir_ / "exports").string()}});
  ASSERT_TRUE(harness.create().ok());
  ASSERT_TRUE(harness.check().ok());
  auto months = harness.months();
  ASSERT_TRUE(months.ok()) << months.error().message();
  EXPECT_EQ(*months, (std::vector<Month>{Month(2024, 9), Month(2024, 10), Month(2024, 11)}));
  auto september = harness.read(Month(2024, 9));
  ASSERT_TRUE(september.ok());
  EXPECT_EQ(cost_total(*september), "117.87");
  EXPECT_EQ(september->at(0).origin, "2024/sep-oct.csv.gz:2"); // the path below the folder
  auto november = harness.read(Month(2024, 11));
  ASSERT_TRUE(november.ok());
  EXPECT_EQ(cost_total(*november), "4.5");
}

TEST_F(FocusPluginTest, MissingMandatoryColumnsAreListedByCheckAndMonths) {
  PluginHarness harness(billdrop_plugin_entry(),
                        {{"path", (fixtures / "missing_columns.csv").string()}});
  ASSERT_TRUE(harness.create().ok());
  const auto checked = harness.check();
  ASSERT_FALSE(checked.ok());
  EXPECT_EQ(checked.error().message(),
            "missing_columns.csv:1: not a FOCUS 1.0-1.2 file: the header lacks 3 mandatory "
            "columns: BilledCost (did you mean \"billedcost\"? names are case-sensitive), "
            "BillingCurrency, ListCost");
  const auto months = harness.months();
  ASSERT_FALSE(months.ok());
  EXPECT_EQ(months.error().kind(), ErrorKind::data);
  EXPECT_EQ(months.error().message(), checked.error().message());
}

TEST_F(FocusPluginTest, AMissingPathIsASourceError) {
  PluginHarness harness(billdrop_plugin_entry(), {{"path", (dir_ / "nowhere").string()}});
  ASSERT_TRUE(harness.create().ok());
  const auto checked = harness.check();
  ASSERT_FALSE(checked.ok());
  EXPECT_EQ(checked.error().kind(), ErrorKind::source);
  EXPECT_NE(checked.error().message().find("nowhere"), std::string::npos);
}

// September's rows (August's first row moved to other days), enough for the gzip stream to span
// several deflate blocks.
std::string september_rows(const std::string& header) {
  std::string text = header + "\n";
  const std::string aug = read_text(fixtures / "malformed_aug.csv");
  std::string row = aug.substr(aug.find('\n') + 1);
  row = row.substr(0, row.find('\n'));
  for (int i = 0; i < 400; ++i) {
    std::string line = row;
    const auto replace = [&](const std::string& from, const std::string& to) {
      for (std::size_t at = line.find(from); at != std::string::npos;
           at = line.find(from, at + to.size()))
        line.replace(at, from.size(), to);
    };
    replace("2024-08-03",
            "2024-09-" + std::string(i % 28 < 9 ? "0" : "") + std::to_string(i % 28 + 1));
    text += line + "\n";
  }
  return text;
}

// September's rows moved to September's invoice as well (BillingPeriodStart and End).
std::string september_invoice_rows(const std::string& header) {
  std::string text = september_rows(header);
  const auto replace = [&](const std::string& from, const std::string& to) {
    for (std::size_t at = text.find(from); at != std::string::npos;
         at = text.find(from, at + to.size()))
      text.replace(at, from.size(), to);
  };
  replace("2024-09-01 00:00:00,2024-08-01 00:00:00", "2024-10-01 00:00:00,2024-09-01 00:00:00");
  return text;
}

// Partitioned by billing period (AWS Data Exports' BILLING_PERIOD=YYYY-MM folders) and read by
// billing period, a broken file can only have lost rows of its own partition's month.
TEST_F(FocusPluginTest, ABrokenFileFailsOnlyItsBillingPeriodWhenReadByBillingPeriod) {
  const std::string aug = read_text(fixtures / "malformed_aug.csv");
  const std::string header = aug.substr(0, aug.find('\n'));
  write("in/BILLING_PERIOD=2024-08/part-0.csv", aug);
  std::string september = billdrop::gzip_compress(september_invoice_rows(header));
  september.resize(september.size() * 2 / 3); // cut mid-stream
  write("in/BILLING_PERIOD=2024-09/part-0.csv.gz", september);
  write("in/BILLING_PERIOD=2024-10/part-0.csv", read_text(fixtures / "malformed_oct.csv"));

  PluginHarness harness(billdrop_plugin_entry(), {{"path", (dir_ / "in").string()},
                                                  {"month_by", std::string("billing_period")}});
  ASSERT_TRUE(harness.create().ok());
  auto months = harness.months();
  ASSERT_TRUE(months.ok()) << months.error().message();
  EXPECT_EQ(*months, (std::vector<Month>{Month(2024, 8), Month(2024, 9), Month(2024, 10)}));

  auto august = harness.read(Month(2024, 8));
  ASSERT_TRUE(august.ok()) << august.error().message();
  EXPECT_EQ(august->size(), 2u); // Python: 2 rows, 2.75
  EXPECT_EQ(cost_total(*august), "2.75");
  EXPECT_TRUE(harness.rejects().empty());

  auto sep = harness.read(Month(2024, 9));
  ASSERT_FALSE(sep.ok());
  EXPECT_EQ(sep.error().kind(), ErrorKind::data);
  const std::string& message = sep.error().message();
  EXPECT_TRUE(message.starts_with("BILLING_PERIOD=2024-09/part-0.csv.gz breaks off at line "))
      << message;
  EXPECT_NE(message.find(" (truncated gzip stream"), std::string::npos) << message;
  EXPECT_TRUE(message.ends_with(
      "its rows after that point could belong to 2024-09, so 2024-09 cannot be read completely"))
      << message;
  EXPECT_TRUE(harness.rows().empty());

  auto october = harness.read(Month(2024, 10));
  ASSERT_TRUE(october.ok()) << october.error().message();
  // By hand: lines 2 (7.00) and 5 (0.70) are good; line 3 has BilledCost "abc", line 4 is short.
  EXPECT_EQ(october->size(), 2u);
  EXPECT_EQ(cost_total(*october), "7.7");
  ASSERT_EQ(harness.rejects().size(), 2u);
  EXPECT_EQ(harness.rejects()[0].origin, "BILLING_PERIOD=2024-10/part-0.csv:3");
  EXPECT_EQ(harness.rejects()[0].reason, "BilledCost \"abc\" is not a decimal number");
  EXPECT_EQ(harness.rejects()[1].origin, "BILLING_PERIOD=2024-10/part-0.csv:4");
  EXPECT_EQ(harness.rejects()[1].reason, "the row has 10 fields, the header has 43");

  // The short row belongs to October's file: no other month's read reports it.
  auto august_again = harness.read(Month(2024, 8));
  ASSERT_TRUE(august_again.ok());
  EXPECT_TRUE(harness.rejects().empty());
}

// By charge period, late charges of any month can sit on any invoice, so nothing bounds what a
// broken file held after the break: every month fails, the ones only intact files hold too.
TEST_F(FocusPluginTest, ABrokenFileFailsEveryMonthWhenReadByChargePeriod) {
  const std::string aug = read_text(fixtures / "malformed_aug.csv");
  const std::string header = aug.substr(0, aug.find('\n'));
  write("in/BILLING_PERIOD=2024-08/part-0.csv", aug);
  std::string september = billdrop::gzip_compress(september_invoice_rows(header));
  september.resize(september.size() * 2 / 3);
  write("in/BILLING_PERIOD=2024-09/part-0.csv.gz", september);

  PluginHarness harness(billdrop_plugin_entry(), {{"path", (dir_ / "in").string()}});
  ASSERT_TRUE(harness.create().ok());
  auto months = harness.months();
  ASSERT_TRUE(months.ok()) << months.error().message();
  EXPECT_EQ(*months, (std::vector<Month>{Month(2024, 8), Month(2024, 9)}));
  for (const Month month : {Month(2024, 8), Month(2024, 9), Month(2024, 10)}) {
    auto rows = harness.read(month);
    ASSERT_FALSE(rows.ok()) << month.to_string();
    EXPECT_TRUE(rows.error().message().starts_with(
        "BILLING_PERIOD=2024-09/part-0.csv.gz breaks off at line "))
        << rows.error().message();
    EXPECT_TRUE(rows.error().message().ends_with("could belong to " + month.to_string() + ", so " +
                                                 month.to_string() + " cannot be read completely"))
        << rows.error().message();
  }
}

TEST_F(FocusPluginTest, AFileThatFailsBeforeAnyMonthFailsMonths) {
  write("in/2024-08.csv", read_text(fixtures / "malformed_aug.csv"));
  std::string broken = billdrop::gzip_compress(read_text(fixtures / "malformed_aug.csv"));
  broken.resize(10);
  write("in/broken.csv.gz", broken);
  PluginHarness harness(billdrop_plugin_entry(), {{"path", (dir_ / "in").string()}});
  ASSERT_TRUE(harness.create().ok());
  const auto months = harness.months();
  ASSERT_FALSE(months.ok());
  EXPECT_TRUE(months.error().message().starts_with("broken.csv.gz breaks off at line 1 ("))
      << months.error().message();
}

// A record that cannot be placed in a month counts against every month its file holds, and
// against every month when its file holds none; a source of nothing else fails the listing.
TEST_F(FocusPluginTest, UnroutableRecordsAreRejectedInTheMonthsOfTheirFile) {
  const std::string aug = read_text(fixtures / "malformed_aug.csv");
  const std::string header = aug.substr(0, aug.find('\n'));
  std::string two_months = aug; // August's two rows, then one moved to September
  std::string moved = aug.substr(aug.find('\n') + 1);
  moved = moved.substr(0, moved.find('\n'));
  for (std::size_t at = moved.find("2024-08-03"); at != std::string::npos;
       at = moved.find("2024-08-03"))
    moved.replace(at, 10, "2024-09-03");
  two_months += moved + "\n";
  two_months += "NULL,1.00,900000000001\n"; // line 5: short
  write("in/a.csv", two_months);
  write("in/b.csv", header + "\nNULL,2.00\n");                  // no month at all
  write("in/c.csv", read_text(fixtures / "malformed_oct.csv")); // October, its own short row

  PluginHarness harness(billdrop_plugin_entry(), {{"path", (dir_ / "in").string()}});
  ASSERT_TRUE(harness.create().ok());
  auto months = harness.months();
  ASSERT_TRUE(months.ok()) << months.error().message();
  EXPECT_EQ(*months, (std::vector<Month>{Month(2024, 8), Month(2024, 9), Month(2024, 10)}));
  const auto origins = [&] {
    std::vector<std::string> out;
    for (const auto& reject : harness.rejects())
      out.push_back(reject.origin);
    return out;
  };
  ASSERT_TRUE(harness.read(Month(2024, 8)).ok());
  EXPECT_EQ(origins(), (std::vector<std::string>{"a.csv:5", "b.csv:2"}));
  ASSERT_TRUE(harness.read(Month(2024, 9)).ok());
  EXPECT_EQ(origins(), (std::vector<std::string>{"a.csv:5", "b.csv:2"}));
  ASSERT_TRUE(harness.read(Month(2024, 10)).ok());
  EXPECT_EQ(origins(), (std::vector<std::string>{"b.csv:2", "c.csv:3", "c.csv:4"}));

  PluginHarness only(billdrop_plugin_entry(), {{"path", (dir_ / "in" / "b.csv").string()}});
  ASSERT_TRUE(only.create().ok());
  const auto none = only.months();
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().message(),
            "no row of the FOCUS export at " + (dir_ / "in" / "b.csv").string() +
                " can be placed in a month, so no month can be read (1 row); the first: "
                "b.csv:2: the row has 2 fields, the header has 43");
}

} // namespace
