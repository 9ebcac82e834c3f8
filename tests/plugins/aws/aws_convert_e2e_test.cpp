// The real host converts the aws fixtures: per-month rows and cost sums, and a malformed tree that
// loses no other month.
#include "cur_fixture_writer.hpp"
#include "support/convert_run.hpp"

#include <billdrop/decimal.hpp>

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

const fs::path fixtures = BILLDROP_AWS_FIXTURES;

using billdrop::Decimal;
using billdrop::aws::test::csv_text;
using billdrop::aws::test::CsvRow;
using Row = std::map<std::string, std::string>;

class AwsConvertE2eTest : public billdrop::test::TempFolderTest {
protected:
  billdrop::test::ConvertRun convert(const fs::path& data, const std::string& extra_toml = "") {
    return billdrop::test::run_convert(
        "aws", "path = " + billdrop::test::toml_string(data.string()) + "\n" + extra_toml, dir_);
  }
  // The canonical rows of one month's snapshot, as the host wrote them.
  std::vector<Row> snapshot(const std::string& month) {
    std::vector<Row> rows;
    std::ifstream in(dir_ / "out" / (month + ".ndjson"));
    simdjson::dom::parser parser;
    for (std::string line; std::getline(in, line);) {
      simdjson::dom::object object;
      EXPECT_EQ(parser.parse(line).get(object), simdjson::SUCCESS) << line;
      Row& row = rows.emplace_back();
      for (auto [key, value] : object)
        row[std::string(key)] = std::string(value.get_string().value_unsafe());
    }
    return rows;
  }
};

Decimal dec(const std::string& text) {
  return Decimal::from_string(text);
}

TEST_F(AwsConvertE2eTest, LegacyTreeConvertsToMonthSnapshotsWithExactTotals) {
  const auto run = convert(fixtures / "legacy");
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  ASSERT_EQ(run.months.size(), 2u) << run.out << run.err;
  // By hand (see aws_plugin_test.cpp): August 138.3515 over 14 lines, September 13.36 over 3.
  EXPECT_EQ(run.months.at("2024-08").rows, 14u);
  EXPECT_EQ(billdrop::Decimal::from_string(run.months.at("2024-08").cost),
            billdrop::Decimal::from_string("138.3515"));
  EXPECT_EQ(run.months.at("2024-09").rows, 3u);
  EXPECT_EQ(billdrop::Decimal::from_string(run.months.at("2024-09").cost),
            billdrop::Decimal::from_string("13.36"));
}

TEST_F(AwsConvertE2eTest, Cur2ExportConverts) {
  const auto run = convert(fixtures / "cur2");
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_EQ(run.months.at("2024-10").rows, 4u);
  EXPECT_EQ(billdrop::Decimal::from_string(run.months.at("2024-10").cost),
            billdrop::Decimal::from_string("3.39"));
}

TEST_F(AwsConvertE2eTest, MalformedMonthsLoseNoOtherMonth) {
  const auto run = convert(fixtures / "broken");
  EXPECT_NE(run.exit_code, 0) << run.out << run.err;
  ASSERT_EQ(run.months.size(), 3u) << run.out << run.err;
  // October is intact: 1.00 + 2.00.
  EXPECT_EQ(run.months.at("2024-10").rows, 2u);
  EXPECT_EQ(run.months.at("2024-10").cost, "3.00");
  EXPECT_TRUE(run.months.at("2024-10").error.empty());
  // November's gzip is truncated: the month fails, naming the file and the line reached.
  const std::string& error = run.months.at("2024-11").error;
  EXPECT_NE(error.find("broken-cur-1.csv.gz: after line "), std::string::npos) << error;
  EXPECT_NE(error.find("truncated gzip"), std::string::npos) << error;
  // December keeps its one good line (5.00); the short line and the non-numeric cost are rejected
  // and named in the run report.
  EXPECT_EQ(run.months.at("2024-12").rows, 1u);
  EXPECT_EQ(run.months.at("2024-12").cost, "5.00");
  EXPECT_EQ(run.months.at("2024-12").invalid_rows, 2u);
}

// Every line item type of the reference table through the real host, with the Net twins: one
// line each in a legacy tree the test writes, looked up by its description.
TEST_F(AwsConvertE2eTest, LineItemTypesAndNetTwinsEndToEnd) {
  const std::vector<std::string> header = {
      "lineItem/UsageStartDate",
      "lineItem/LineItemType",
      "lineItem/ProductCode",
      "lineItem/LineItemDescription",
      "lineItem/UnblendedCost",
      "lineItem/NetUnblendedCost",
      "reservation/ReservationARN",
      "reservation/EffectiveCost",
      "reservation/NetEffectiveCost",
      "reservation/UnusedAmortizedUpfrontFeeForBillingPeriod",
      "reservation/UnusedRecurringFee",
      "reservation/NetUnusedAmortizedUpfrontFeeForBillingPeriod",
      "reservation/NetUnusedRecurringFee",
      "savingsPlan/SavingsPlanEffectiveCost",
      "savingsPlan/NetSavingsPlanEffectiveCost",
      "savingsPlan/TotalCommitmentToDate",
      "savingsPlan/UsedCommitment"};
  const auto line = [](const std::string& type, const std::string& description,
                       const std::string& unblended, const std::string& net, CsvRow more = {}) {
    CsvRow row{{"lineItem/UsageStartDate", "2024-06-03T04:00:00Z"},
               {"lineItem/LineItemType", type},
               {"lineItem/ProductCode", "AmazonEC2"},
               {"lineItem/LineItemDescription", description},
               {"lineItem/UnblendedCost", unblended},
               {"lineItem/NetUnblendedCost", net}};
    row.merge(more);
    return row;
  };
  const std::string arn = "arn:aws:ec2:us-east-1:111122223333:reserved-instances/r1";
  const std::vector<CsvRow> lines = {
      line("SavingsPlanUpfrontFee", "sp upfront", "100.00", "90.00"),
      line("Refund", "refund", "-1.50", "-1.40"),
      line("BundledDiscount", "bundled", "-0.01", "-0.01"),
      line("PrivateRateDiscount", "private rate", "-0.02", ""),
      line("Discount", "discount", "-0.03", "-0.025"),
      line("Fee", "plain fee", "12.5", "11.25", {{"lineItem/ProductCode", "AWSMarketplace"}}),
      line("DiscountedUsage", "ri usage", "0", "0",
           {{"reservation/ReservationARN", arn},
            {"reservation/EffectiveCost", "0.50"},
            {"reservation/NetEffectiveCost", "0.45"}}),
      line("RIFee", "ri fee", "3.00", "2.70",
           {{"reservation/ReservationARN", arn},
            {"reservation/UnusedAmortizedUpfrontFeeForBillingPeriod", "0.20"},
            {"reservation/UnusedRecurringFee", "0.30"},
            {"reservation/NetUnusedAmortizedUpfrontFeeForBillingPeriod", "0.18"},
            {"reservation/NetUnusedRecurringFee", "0.27"}}),
      line("SavingsPlanCoveredUsage", "sp usage", "2.00", "1.80",
           {{"savingsPlan/SavingsPlanEffectiveCost", "1.30"},
            {"savingsPlan/NetSavingsPlanEffectiveCost", "1.17"}}),
      line("SavingsPlanNegation", "sp negation", "-2.00", "-1.80"),
      line("SavingsPlanRecurringFee", "sp recurring", "7.00", "6.30",
           {{"savingsPlan/TotalCommitmentToDate", "7.00"}, {"savingsPlan/UsedCommitment", "5.25"}}),
      line("Fee", "ri upfront", "500", "450", {{"reservation/ReservationARN", arn}}),
  };
  const fs::path folder = billdrop::aws::test::legacy_month_folder(
      dir_ / "data", "types", "20240601-20240701", "a1", {"types-1.csv.gz"});
  billdrop::aws::test::write_gzip(folder / "types-1.csv.gz", csv_text(header, lines));

  const auto run = convert(dir_ / "data");
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  // By hand, the net billed costs: 90.00 - 1.40 - 0.01 - 0.02 (net blank: unblended) - 0.025
  // + 11.25 + 0 + 2.70 + 1.80 - 1.80 + 6.30 + 450 = 558.795.
  EXPECT_EQ(run.months.at("2024-06").rows, 12u);
  EXPECT_EQ(dec(run.months.at("2024-06").cost), dec("558.795"));

  struct Expected {
    const char* description;
    const char* type;
    const char* cost;
    const char* amortized;            // the gross table
    const char* discounted_amortized; // the same table with the Net twins
  };
  const Expected expected[] = {
      {"sp upfront", "CommittedUsePurchase", "90.00", "0", "0"},
      {"refund", "Credit", "-1.40", "-1.50", "-1.40"},
      {"bundled", "Discount", "-0.01", "-0.01", "-0.01"},
      {"private rate", "Discount", "-0.02", "-0.02", "-0.02"},
      {"discount", "Discount", "-0.025", "-0.03", "-0.025"},
      {"plain fee", "Fee", "11.25", "12.5", "11.25"},
      {"ri usage", "Usage", "0", "0.50", "0.45"},                 // reservation/(Net)EffectiveCost
      {"ri fee", "CommittedUsePurchase", "2.70", "0.50", "0.45"}, // 0.20+0.30, 0.18+0.27
      {"sp usage", "Usage", "1.80", "1.30", "1.17"},
      {"sp negation", "Discount", "-1.80", "0", "0"},
      {"sp recurring", "CommittedUsePurchase", "6.30", "1.75", "1.75"}, // 7.00 - 5.25
      {"ri upfront", "CommittedUsePurchase", "450", "0", "0"},
  };
  std::map<std::string, Row> by_description;
  for (const Row& row : snapshot("2024-06"))
    by_description[row.at("lineitem/description")] = row;
  ASSERT_EQ(by_description.size(), 12u);
  Decimal amortized_total;
  for (const Expected& e : expected) {
    SCOPED_TRACE(e.description);
    const Row& row = by_description.at(e.description);
    EXPECT_EQ(row.at("lineitem/type"), e.type);
    EXPECT_EQ(dec(row.at("cost/cost")), dec(e.cost));
    EXPECT_EQ(dec(row.at("cost/amortized_cost")), dec(e.amortized));
    EXPECT_EQ(dec(row.at("cost/discounted_amortized_cost")), dec(e.discounted_amortized));
    amortized_total += dec(row.at("cost/amortized_cost"));
  }
  // By hand: 0 - 1.50 - 0.01 - 0.02 - 0.03 + 12.5 + 0.50 + 0.50 + 1.30 + 0 + 1.75 + 0 = 14.99.
  EXPECT_EQ(amortized_total, dec("14.99"));
}

// The alt-columns (Athena, snake_case) header of koku's 2022-07-01 sample, with 400 lines of
// non-zero costs (negative ones and exponent forms among them), split over a .csv.gz and a
// .csv.zip in a CUR 2.0 folder. The expected totals are integer sums in millionths, worked out
// here without the plugin or the Decimal type.
TEST_F(AwsConvertE2eTest, AltColumnsWithNonZeroCostsReconcileExactly) {
  std::ifstream sample(fixtures / "koku" / "2022-07-01-alt-columns.csv");
  std::string header_line;
  ASSERT_TRUE(std::getline(sample, header_line));
  std::vector<std::string> header;
  for (std::size_t start = 0; start <= header_line.size();) {
    const std::size_t comma = std::min(header_line.find(',', start), header_line.size());
    header.push_back(header_line.substr(start, comma - start));
    start = comma + 1;
  }
  ASSERT_EQ(header.size(), 154u);
  header.push_back("line_item_net_unblended_cost"); // the net column, as EDP accounts have it

  // Millionths as text: plain ("-12.345678"), or every 7th an exponent form ("-12345678E-6").
  const auto text = [](std::int64_t micros, bool exponent) {
    if (exponent)
      return std::to_string(micros) + "E-6";
    const std::int64_t magnitude = micros < 0 ? -micros : micros;
    std::string fraction = std::to_string(magnitude % 1000000);
    fraction.insert(0, 6 - fraction.size(), '0');
    return std::string(micros < 0 ? "-" : "") + std::to_string(magnitude / 1000000) + "." +
           fraction;
  };
  const char* types[] = {"Usage", "Tax", "Credit", "Refund", "EdpDiscount"};
  std::vector<CsvRow> first, second;
  std::int64_t billed_micros = 0;
  std::int64_t unblended_micros = 0;
  for (int i = 0; i < 400; ++i) {
    const std::int64_t unblended = (static_cast<std::int64_t>(i) * 7919 % 20000001) - 10000000;
    const bool has_net = i % 3 == 0;
    const std::int64_t net = unblended - 1234;
    char start[32];
    std::snprintf(start, sizeof start, "2022-07-%02d %02d:00:00.000", i % 28 + 1, i % 24);
    char resource[16];
    std::snprintf(resource, sizeof resource, "i-%d", i % 17);
    char project[16];
    std::snprintf(project, sizeof project, i % 2 ? "p%d" : "", i % 5);
    CsvRow row{{"line_item_usage_start_date", start},
               {"line_item_line_item_type", types[i % 5]},
               {"line_item_usage_account_id", "999999"},
               {"line_item_product_code", "AmazonEC2"},
               {"line_item_resource_id", resource},
               {"line_item_unblended_cost", text(unblended, i % 7 == 0)},
               {"line_item_net_unblended_cost", has_net ? text(net, i % 11 == 0) : ""},
               {"resource_tags_user_insights_project", project}};
    billed_micros += has_net ? net : unblended;
    unblended_micros += unblended;
    (i < 250 ? first : second).push_back(std::move(row));
  }
  const fs::path month = dir_ / "export" / "data" / "BILLING_PERIOD=2022-07";
  billdrop::aws::test::write_gzip(month / "part-00001.csv.gz", csv_text(header, first));
  billdrop::aws::test::write_zip(month / "part-00002.csv.zip",
                                 {{"part-00002.csv", csv_text(header, second)}});

  const auto run = convert(dir_ / "export");
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  ASSERT_EQ(run.months.size(), 1u) << run.out;
  EXPECT_EQ(run.months.at("2022-07").rows, 400u);
  EXPECT_EQ(run.months.at("2022-07").invalid_rows, 0u);
  EXPECT_NE(billed_micros, 0);
  EXPECT_EQ(dec(run.months.at("2022-07").cost), dec(text(billed_micros, false)));
  Decimal amortized;
  for (const Row& row : snapshot("2022-07"))
    amortized += dec(row.at("cost/amortized_cost"));
  EXPECT_EQ(amortized, dec(text(unblended_micros, false))); // every type here is "unblended"
}

// koku-local's 20180801 period holds June- and July-dated lines. By usage they go to months the
// report has no period for (partial, never sent) and are counted per month in the run report;
// with month_by = "billing_period" they stay in August.
TEST_F(AwsConvertE2eTest, LinesOutsideTheirBillingPeriodAreCountedOrKept) {
  const fs::path folder = billdrop::aws::test::legacy_month_folder(
      dir_ / "data", "late", "20180801-20180901", "a1", {"late-1.csv.gz"});
  const std::vector<std::string> header = {"lineItem/UsageStartDate", "lineItem/LineItemType",
                                           "lineItem/UnblendedCost"};
  const auto line = [](const std::string& start, const std::string& cost) {
    return CsvRow{{"lineItem/UsageStartDate", start},
                  {"lineItem/LineItemType", "Usage"},
                  {"lineItem/UnblendedCost", cost}};
  };
  billdrop::aws::test::write_gzip(
      folder / "late-1.csv.gz",
      csv_text(header, {line("2018-06-20 01:00:00", "1.5"), line("2018-07-02 01:00:00", "2.25"),
                        line("2018-07-03 01:00:00", "0.25"), line("2018-08-10 01:00:00", "3")}));
  const auto by_usage = convert(dir_ / "data");
  ASSERT_EQ(by_usage.exit_code, 0) << by_usage.out << by_usage.err;
  EXPECT_EQ(by_usage.months.at("2018-08").rows, 1u);
  EXPECT_EQ(by_usage.months.at("2018-06").rows, 1u);
  EXPECT_EQ(by_usage.months.at("2018-07").rows, 2u);
  EXPECT_NE(by_usage.out.find("\"month\":\"2018-07\",\"rows\":2"), std::string::npos);
  const std::string tail = " (month_by = \"billing_period\" keeps them in 2018-08)";
  EXPECT_EQ(by_usage.notes.at("billing period 2018-08 holds lines dated 2018-07: filed under "
                              "2018-07" +
                              tail),
            2u)
      << by_usage.out;
  EXPECT_EQ(by_usage.notes.at("billing period 2018-08 holds lines dated 2018-06: filed under "
                              "2018-06" +
                              tail),
            1u);

  fs::remove_all(dir_ / "out");
  const auto by_period = convert(dir_ / "data", "month_by = \"billing_period\"\n");
  ASSERT_EQ(by_period.exit_code, 0) << by_period.out << by_period.err;
  ASSERT_EQ(by_period.months.size(), 1u) << by_period.out;
  EXPECT_EQ(by_period.months.at("2018-08").rows, 4u);
  EXPECT_EQ(dec(by_period.months.at("2018-08").cost), dec("7")); // 1.5 + 2.25 + 0.25 + 3
  EXPECT_EQ(by_period.notes.at("billing period 2018-08 holds lines dated 2018-07: placed in its "
                               "first hour"),
            2u);
}

} // namespace
