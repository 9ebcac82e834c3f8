// Malformed input: a truncated gzip file, a short row, a non-numeric cost, an unreadable date.
// Each is reported with its file and line; no month that could have lost rows is read as whole,
// and no other month is lost.
#include "test_support.hpp"

#include <billdrop/byte_source.hpp>

#include <gtest/gtest.h>

#include <tuple>

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
  write_file(dir / "export" / "2023-07.csv",
             std::string(header) + "s1,07/31/2023,Storage,9.00,eastus\n");
  PluginHarness harness(billdrop_plugin_entry(), {{"actual", (dir / "export").string()}});
  ASSERT_TRUE(harness.create().ok());
  auto months = harness.months();
  ASSERT_TRUE(months.ok()) << months.error().message();
  EXPECT_EQ(*months, (std::vector<Month>{Month(2023, 7), Month(2023, 8)}));

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

  auto jul = harness.read(Month(2023, 7));
  ASSERT_TRUE(jul.ok()) << jul.error().message();
  EXPECT_EQ(sum(*jul, "cost/cost"), Decimal::from_string("9.00"));
  EXPECT_TRUE(harness.rejects().empty());
}

std::string dated_rows(std::string_view date, std::string_view cost, int count) {
  std::string csv;
  for (int i = 0; i < count; ++i)
    csv += "s1," + std::string(date) + ",Storage," + std::string(cost) + ",eastus\n";
  return csv;
}

// The scenario of a real truncated download: an export run for August and September whose gzip
// breaks off after 60,000 August rows (in reality it also held 1,000 September rows after the
// break), beside intact runs for July and October.
TEST(AzureMalformed, ABrokenFileFailsOnlyTheMonthsOfItsBillingPeriod) {
  const auto dir = temp_dir("malformed_period");
  const auto exports = dir / "exports" / "daily-actual";
  // Two gzip members; the second breaks off right after its header, so every August row comes
  // out and no September row does.
  write_file(exports / "20230801-20230930" / "202310011200" / "part_1_0001.csv.gz",
             gzip_compress(std::string(header) + dated_rows("08/15/2023", "0.01", 60000)) +
                 gzip_compress(dated_rows("09/15/2023", "0.02", 1000)).substr(0, 10));
  write_file(exports / "20230701-20230731" / "202308011200" / "part_1_0001.csv",
             std::string(header) + dated_rows("07/01/2023", "1.25", 2) +
                 dated_rows("07/31/2023", "0.05", 3));
  write_file(exports / "20231001-20231031" / "202311011200" / "part_1_0001.csv",
             std::string(header) + dated_rows("10/02/2023", "4.00", 1));
  PluginHarness harness(billdrop_plugin_entry(), {{"actual", exports.string()}});
  ASSERT_TRUE(harness.create().ok());
  auto months = harness.months();
  ASSERT_TRUE(months.ok()) << months.error().message();
  // September is listed although no row showed it: the broken file's period holds it.
  EXPECT_EQ(*months,
            (std::vector<Month>{Month(2023, 7), Month(2023, 8), Month(2023, 9), Month(2023, 10)}));

  for (const Month month : {Month(2023, 8), Month(2023, 9)}) {
    auto rows = harness.read(month);
    ASSERT_FALSE(rows.ok()) << month.to_string();
    EXPECT_EQ(rows.error().kind(), ErrorKind::data);
    EXPECT_EQ(rows.error().message(),
              "part_1_0001.csv.gz breaks off at line 60,002 (truncated gzip stream (unexpected end "
              "of file)); its rows after that point could belong to " +
                  month.to_string() + ", so " + month.to_string() + " cannot be read completely");
    EXPECT_TRUE(harness.rows().empty());
  }
  // The months only intact files hold: 2 x 1.25 + 3 x 0.05, and 4.00, by hand.
  auto jul = harness.read(Month(2023, 7));
  ASSERT_TRUE(jul.ok()) << jul.error().message();
  EXPECT_EQ(jul->size(), 5u);
  EXPECT_EQ(sum(*jul, "cost/cost"), Decimal::from_string("2.65"));
  EXPECT_TRUE(harness.rejects().empty());
  auto oct = harness.read(Month(2023, 10));
  ASSERT_TRUE(oct.ok()) << oct.error().message();
  EXPECT_EQ(sum(*oct, "cost/cost"), Decimal::from_string("4.00"));
}

TEST(AzureMalformed, ABrokenFileOutsideAnyPeriodFolderFailsEveryMonth) {
  const auto dir = temp_dir("malformed_gzip");
  write_file(dir / "export" / "2023-08.csv", august());
  write_file(dir / "export" / "2023-09.csv.gz", september_truncated());
  PluginHarness harness(billdrop_plugin_entry(), {{"actual", (dir / "export").string()}});
  ASSERT_TRUE(harness.create().ok());
  auto months = harness.months();
  ASSERT_TRUE(months.ok()) << months.error().message();
  EXPECT_EQ(*months, (std::vector<Month>{Month(2023, 8), Month(2023, 9)}));

  // Nothing bounds what the file held after the break: August could be missing rows too.
  for (const Month month : {Month(2023, 8), Month(2023, 9), Month(2023, 10)}) {
    auto rows = harness.read(month);
    ASSERT_FALSE(rows.ok()) << month.to_string();
    const std::string& message = rows.error().message();
    EXPECT_TRUE(message.starts_with("2023-09.csv.gz breaks off at line ")) << message;
    EXPECT_NE(message.find(" (truncated gzip stream"), std::string::npos) << message;
    EXPECT_TRUE(message.ends_with("could belong to " + month.to_string() + ", so " +
                                  month.to_string() + " cannot be read completely"))
        << message;
  }
}

TEST(AzureMalformed, AnUnterminatedQuoteBreaksTheFileWhereTheQuoteOpens) {
  const auto dir = temp_dir("malformed_quote");
  write_file(dir / "exports" / "20230801-20230831" / "run" / "part.csv",
             std::string(header) + dated_rows("08/01/2023", "1.00", 2) +
                 "s1,08/03/2023,\"Storage,2.00,eastus\n" + dated_rows("08/04/2023", "3.00", 2));
  write_file(dir / "exports" / "20230701-20230731" / "run" / "part.csv",
             std::string(header) + dated_rows("07/01/2023", "0.50", 1));
  PluginHarness harness(billdrop_plugin_entry(), {{"actual", (dir / "exports").string()}});
  ASSERT_TRUE(harness.create().ok());
  auto aug = harness.read(Month(2023, 8));
  ASSERT_FALSE(aug.ok());
  EXPECT_EQ(aug.error().message(),
            "part.csv breaks off at line 4 (unterminated quoted field (opened on line 4)); its "
            "rows after that point could belong to 2023-08, so 2023-08 cannot be read completely");
  auto jul = harness.read(Month(2023, 7));
  ASSERT_TRUE(jul.ok()) << jul.error().message();
  EXPECT_EQ(sum(*jul, "cost/cost"), Decimal::from_string("0.50"));
}

TEST(AzureMalformed, AFileThatBreaksBeforeItsFirstRowFailsTheListing) {
  const auto dir = temp_dir("malformed_early");
  write_file(dir / "export" / "2023-08.csv", august());
  write_file(dir / "export" / "2023-09.csv.gz", gzip_compress(august()).substr(0, 12));
  PluginHarness harness(billdrop_plugin_entry(), {{"actual", (dir / "export").string()}});
  ASSERT_TRUE(harness.create().ok());
  auto months = harness.months();
  ASSERT_FALSE(months.ok());
  EXPECT_TRUE(months.error().message().starts_with("2023-09.csv.gz breaks off at line 1 ("))
      << months.error().message();
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

// A file none of whose rows has a readable date holds no month of its own: its rows could belong
// to any month, so every month's read rejects them (and so counts them against the month).
TEST(AzureMalformed, UndatedRowsOfAFileWithoutMonthsAreRejectedInEveryMonth) {
  const auto dir = temp_dir("undated_file");
  write_file(dir / "export" / "a.csv", std::string(header) + dated_rows("07/01/2023", "1.00", 1) +
                                           dated_rows("08/01/2023", "2.00", 1));
  write_file(dir / "export" / "b.csv", std::string(header) + "s1,,Storage,3.00,eastus\n"
                                                             "s1,31/08/2023,Storage,4.00,eastus\n");
  PluginHarness harness(billdrop_plugin_entry(), {{"actual", (dir / "export").string()}});
  ASSERT_TRUE(harness.create().ok());
  auto months = harness.months();
  ASSERT_TRUE(months.ok()) << months.error().message();
  EXPECT_EQ(*months, (std::vector<Month>{Month(2023, 7), Month(2023, 8)}));
  for (const Month month : *months) {
    auto rows = harness.read(month);
    ASSERT_TRUE(rows.ok()) << rows.error().message();
    EXPECT_EQ(rows->size(), 1u);
    ASSERT_EQ(harness.rejects().size(), 2u) << month.to_string();
    EXPECT_EQ(harness.rejects()[0].origin, "b.csv:2");
    EXPECT_EQ(harness.rejects()[0].reason, "empty usage date in column Date");
    EXPECT_EQ(harness.rejects()[1].origin, "b.csv:3");
    EXPECT_NE(harness.rejects()[1].reason.find("usage date \"31/08/2023\" in column Date"),
              std::string::npos)
        << harness.rejects()[1].reason;
  }
}

// An undated row counts against every month of its own file, and no other.
TEST(AzureMalformed, AnUndatedRowIsRejectedInTheMonthsOfItsOwnFile) {
  const auto dir = temp_dir("undated_own_months");
  write_file(dir / "export" / "a.csv", std::string(header) + dated_rows("07/01/2023", "1.00", 1) +
                                           "s1,someday,Storage,3.00,eastus\n" +
                                           dated_rows("08/01/2023", "2.00", 1));
  write_file(dir / "export" / "b.csv", std::string(header) + dated_rows("09/01/2023", "5.00", 1));
  PluginHarness harness(billdrop_plugin_entry(), {{"actual", (dir / "export").string()}});
  ASSERT_TRUE(harness.create().ok());
  for (const Month month : {Month(2023, 7), Month(2023, 8)}) {
    ASSERT_TRUE(harness.read(month).ok());
    ASSERT_EQ(harness.rejects().size(), 1u) << month.to_string();
    EXPECT_EQ(harness.rejects()[0].origin, "a.csv:3");
  }
  auto sep = harness.read(Month(2023, 9));
  ASSERT_TRUE(sep.ok());
  EXPECT_EQ(sum(*sep, "cost/cost"), Decimal::from_string("5.00"));
  EXPECT_TRUE(harness.rejects().empty());
}

// In a billing-period folder, undated rows belong to that period: it is listed and its read
// rejects them, though no row shows the month.
TEST(AzureMalformed, UndatedRowsInAPeriodFolderAreRejectedInThatPeriod) {
  const auto dir = temp_dir("undated_period");
  const auto exports = dir / "exports";
  write_file(exports / "20230701-20230731" / "run" / "part.csv",
             std::string(header) + dated_rows("07/03/2023", "1.50", 2));
  write_file(exports / "20230801-20230831" / "run" / "part.csv",
             std::string(header) + "s1,n/a,Storage,3.00,eastus\n");
  PluginHarness harness(billdrop_plugin_entry(), {{"actual", exports.string()}});
  ASSERT_TRUE(harness.create().ok());
  auto months = harness.months();
  ASSERT_TRUE(months.ok()) << months.error().message();
  EXPECT_EQ(*months, (std::vector<Month>{Month(2023, 7), Month(2023, 8)}));
  auto jul = harness.read(Month(2023, 7));
  ASSERT_TRUE(jul.ok());
  EXPECT_EQ(sum(*jul, "cost/cost"), Decimal::from_string("3.00")); // 2 x 1.50
  EXPECT_TRUE(harness.rejects().empty());
  auto aug = harness.read(Month(2023, 8));
  ASSERT_TRUE(aug.ok());
  EXPECT_TRUE(aug->empty());
  ASSERT_EQ(harness.rejects().size(), 1u);
  EXPECT_EQ(harness.rejects()[0].origin, "part.csv:2");
}

TEST(AzureMalformed, AnExportWithoutAnyReadableDateFailsTheListing) {
  const auto dir = temp_dir("undated_only");
  write_file(dir / "x.csv", std::string(header) + "s1,,Storage,1.00,eastus\n"
                                                  "s1,tomorrow,Storage,2.00,eastus\n");
  PluginHarness harness(billdrop_plugin_entry(), {{"actual", (dir / "x.csv").string()}});
  ASSERT_TRUE(harness.create().ok());
  auto months = harness.months();
  ASSERT_FALSE(months.ok());
  EXPECT_EQ(months.error().kind(), ErrorKind::data);
  EXPECT_EQ(months.error().message(),
            "no row of the export has a readable usage date, so no month can be read (2 rows); "
            "the first: x.csv:2: empty usage date in column Date");
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

// The join's last pass over the amortized export reads only as far as it must: up to its last
// row no actual row took, or its last unreadable row. Each case's totals are summed by hand.
TEST(AzureMalformed, JoinReadsTheAmortizedExportAgainOnlyAsFarAsNeeded) {
  const auto dir = temp_dir("join_last_pass");
  write_file(dir / "actual.csv", std::string(header) + "s1,08/01/2023,Storage,1.00,eastus\n"
                                                       "s1,08/02/2023,Storage,2.00,eastus\n");
  const auto read = [&](const std::string& amortized) {
    write_file(dir / "amortized.csv", std::string(header) + amortized);
    PluginHarness harness(billdrop_plugin_entry(),
                          {{"actual", (dir / "actual.csv").string()},
                           {"amortized", (dir / "amortized.csv").string()}});
    EXPECT_TRUE(harness.create().ok());
    auto rows = harness.read(Month(2023, 8));
    EXPECT_TRUE(rows.ok());
    std::vector<std::string> rejects;
    for (const auto& reject : harness.rejects())
      rejects.push_back(reject.origin);
    return std::make_tuple(rows.ok() ? rows->size() : std::size_t{0},
                           rows.ok() ? sum(*rows, "cost/amortized_cost") : Decimal(), rejects);
  };
  // Every amortized row taken: two rows, amortized 0.50 + 1.50 = 2.00.
  auto [rows, amortized, rejects] = read("s1,08/01/2023,Storage,0.50,eastus\n"
                                         "s1,08/02/2023,Storage,1.50,eastus\n");
  EXPECT_EQ(rows, 2u);
  EXPECT_EQ(amortized, Decimal::from_string("2.00"));
  EXPECT_TRUE(rejects.empty());
  // An unreadable row last, after every taken one: rejected (line 4), the rest as before.
  std::tie(rows, amortized, rejects) = read("s1,08/01/2023,Storage,0.50,eastus\n"
                                            "s1,08/02/2023,Storage,1.50,eastus\n"
                                            "s1,08/03/2023,Storage,n/a,eastus\n");
  EXPECT_EQ(rows, 2u);
  EXPECT_EQ(amortized, Decimal::from_string("2.00"));
  EXPECT_EQ(rejects, std::vector<std::string>{"amortized.csv:4"});
  // An undated row in the middle and an untaken row last (an unused reservation): both found,
  // amortized 0.50 + 1.50 + 0.25 = 2.25 over three rows.
  std::tie(rows, amortized, rejects) = read("s1,08/01/2023,Storage,0.50,eastus\n"
                                            "s1,someday,Storage,9.00,eastus\n"
                                            "s1,08/02/2023,Storage,1.50,eastus\n"
                                            "s1,08/05/2023,Reserved,0.25,eastus\n");
  EXPECT_EQ(rows, 3u);
  EXPECT_EQ(amortized, Decimal::from_string("2.25"));
  EXPECT_EQ(rejects, std::vector<std::string>{"amortized.csv:3"});
}

} // namespace
} // namespace billdrop::azure
