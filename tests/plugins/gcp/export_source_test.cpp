// A folder of extracts as ExportSource reads it: files that break off, and records that cannot be
// placed in a month. Fixtures are written here; expected totals are sums of the costs the test
// writes, added up in the test.
#include "test_support.hpp"

#include <billdrop/byte_source.hpp>
#include <billdrop/sdk.hpp>

#include <gtest/gtest.h>

#include <string>

namespace billdrop::gcp {
namespace {

using billdrop::testing::PluginHarness;
using testing::GcpFolderTest;
using testing::total;

std::string record(const std::string& start, const std::string& cost) {
  return R"({"usage_start_time":")" + start + R"(","cost":)" + cost +
         R"(,"project":{"id":"shop-prod"},"service":{"description":"Compute Engine"}})"
         "\n";
}

class GcpExportSourceTest : public GcpFolderTest {};

// The scenario of a real truncated download: a gzip that breaks off after 60,000 August records
// (in reality it also held 1,000 September records after the break) beside an intact file.
TEST_F(GcpExportSourceTest, ABrokenFileFailsEveryMonthNamingWhereItBroke) {
  std::string august;
  for (int i = 0; i < 60000; ++i)
    august += record("2024-08-" + std::string(i % 28 < 9 ? "0" : "") + std::to_string(i % 28 + 1) +
                         " 00:00:00 UTC",
                     "0.01");
  std::string september;
  for (int i = 0; i < 1000; ++i)
    september += record("2024-09-02 00:00:00 UTC", "0.02");
  // Two gzip members; the second breaks off right after its header, so every August record comes
  // out and no September record does.
  write("in/big.ndjson.gz", gzip_compress(august) + gzip_compress(september).substr(0, 10));
  write("in/intact.ndjson", record("2024-07-01 00:00:00 UTC", "1.25") +
                                record("2024-07-02 00:00:00 UTC", "2.50") +
                                record("2024-09-01 00:00:00 UTC", "4.00"));

  PluginHarness harness(billdrop_plugin_entry(), {{"path", (dir_ / "in").string()}});
  ASSERT_TRUE(harness.create().ok());
  auto months = harness.months();
  ASSERT_TRUE(months.ok()) << months.error().message();
  EXPECT_EQ(*months, (std::vector<Month>{Month(2024, 7), Month(2024, 8), Month(2024, 9)}));

  // Extracts carry nothing that bounds their months, so any month could be missing rows: July,
  // held only by the intact file, too, and a month no file shows.
  for (const Month month : {Month(2024, 7), Month(2024, 8), Month(2024, 9), Month(2024, 10)}) {
    auto rows = harness.read(month);
    ASSERT_FALSE(rows.ok()) << month.to_string();
    EXPECT_EQ(rows.error().kind(), ErrorKind::data);
    EXPECT_EQ(rows.error().message(),
              "big.ndjson.gz breaks off at line 60,001 (truncated gzip stream (unexpected end of "
              "file)); its rows after that point could belong to " +
                  month.to_string() + ", so " + month.to_string() + " cannot be read completely");
    EXPECT_TRUE(harness.rows().empty());
  }

  // In one pass too: the read of every month fails at the break, naming it.
  auto all = harness.read_all();
  ASSERT_FALSE(all.ok());
  EXPECT_EQ(all.error().kind(), ErrorKind::data);
  EXPECT_EQ(all.error().message(),
            "big.ndjson.gz breaks off at line 60,001 (truncated gzip stream (unexpected end of "
            "file)); its rows after that point could belong to any month, so no month it holds "
            "can be read completely");

  // Without the broken file the intact one converts: July by hand 1.25 + 2.50.
  std::filesystem::remove(dir_ / "in" / "big.ndjson.gz");
  PluginHarness intact(billdrop_plugin_entry(), {{"path", (dir_ / "in").string()}});
  ASSERT_TRUE(intact.create().ok());
  auto july = intact.read(Month(2024, 7));
  ASSERT_TRUE(july.ok()) << july.error().message();
  EXPECT_EQ(total(*july), Decimal::from_string("3.75"));
}

TEST_F(GcpExportSourceTest, AFileThatBreaksBeforeItsFirstRecordFailsTheListing) {
  write("in/a.ndjson", record("2024-07-01 00:00:00 UTC", "1.25"));
  write("in/b.ndjson.gz", gzip_compress(record("2024-07-02 00:00:00 UTC", "1")).substr(0, 12));
  PluginHarness harness(billdrop_plugin_entry(), {{"path", (dir_ / "in").string()}});
  ASSERT_TRUE(harness.create().ok());
  auto months = harness.months();
  ASSERT_FALSE(months.ok());
  EXPECT_NE(months.error().message().find("b.ndjson.gz breaks off at line 1 ("), std::string::npos)
      << months.error().message();
  EXPECT_NE(months.error().message().find("no month can be read completely"), std::string::npos)
      << months.error().message();
}

TEST_F(GcpExportSourceTest, AnUnroutableRecordIsRejectedOnlyInTheMonthsOfItsOwnFile) {
  // a: July, with a bad timestamp (line 4) and a row cut before usage_start_time (line 5).
  write("in/a.csv", "billing_account_id,project.id,usage_start_time,cost\n"
                    "01ABCD,shop-prod,2024-07-01 00:00:00+00:00,1.10\n"
                    "01ABCD,shop-prod,2024-07-02 00:00:00+00:00,2.20\n"
                    "01ABCD,shop-prod,yesterday,3.30\n"
                    "01ABCD,shop-prod\n");
  // b: August, with a broken JSON line whose error comes before usage_start_time (line 2).
  write("in/b.ndjson", record("2024-08-01 00:00:00 UTC", "5") +
                           R"({"cost":1.5,,"usage_start_time":"2024-08-03 00:00:00 UTC"})"
                           "\n" +
                           record("2024-08-02 00:00:00 UTC", "0.5"));
  PluginHarness harness(billdrop_plugin_entry(), {{"path", (dir_ / "in").string()}});
  ASSERT_TRUE(harness.create().ok());
  auto months = harness.months();
  ASSERT_TRUE(months.ok()) << months.error().message();
  EXPECT_EQ(*months, (std::vector<Month>{Month(2024, 7), Month(2024, 8)}));

  auto july = harness.read(Month(2024, 7));
  ASSERT_TRUE(july.ok()) << july.error().message();
  EXPECT_EQ(total(*july), Decimal::from_string("3.30")); // 1.10 + 2.20
  ASSERT_EQ(harness.rejects().size(), 2u);
  EXPECT_EQ(harness.rejects()[0].origin, "a.csv:4");
  EXPECT_NE(harness.rejects()[0].reason.find("usage_start_time \"yesterday\" is not a timestamp"),
            std::string::npos)
      << harness.rejects()[0].reason;
  EXPECT_EQ(harness.rejects()[1].origin, "a.csv:5");
  EXPECT_EQ(harness.rejects()[1].reason, "the row has 2 fields but the header has 4");

  auto august = harness.read(Month(2024, 8));
  ASSERT_TRUE(august.ok()) << august.error().message();
  EXPECT_EQ(total(*august), Decimal::from_string("5.5")); // 5 + 0.5
  ASSERT_EQ(harness.rejects().size(), 1u);                // not a.csv's records again
  EXPECT_EQ(harness.rejects()[0].origin, "b.ndjson:2");
  EXPECT_NE(harness.rejects()[0].reason.find("invalid JSON"), std::string::npos)
      << harness.rejects()[0].reason;
}

TEST_F(GcpExportSourceTest, RecordsOfAFileWithoutAnyMonthAreRejectedInEveryMonth) {
  write("in/a.ndjson",
        record("2024-07-01 00:00:00 UTC", "1") + record("2024-08-01 00:00:00 UTC", "2"));
  write("in/b.ndjson", R"({"cost":3,"usage_start_time":""})"
                       "\n");
  PluginHarness harness(billdrop_plugin_entry(), {{"path", (dir_ / "in").string()}});
  ASSERT_TRUE(harness.create().ok());
  auto months = harness.months();
  ASSERT_TRUE(months.ok()) << months.error().message();
  EXPECT_EQ(*months, (std::vector<Month>{Month(2024, 7), Month(2024, 8)}));
  // Nothing tells which month b's record belongs to: each month's read counts it.
  for (const Month month : *months) {
    auto rows = harness.read(month);
    ASSERT_TRUE(rows.ok()) << rows.error().message();
    EXPECT_EQ(rows->size(), 1u);
    ASSERT_EQ(harness.rejects().size(), 1u) << month.to_string();
    EXPECT_EQ(harness.rejects()[0].origin, "b.ndjson:1");
    EXPECT_EQ(harness.rejects()[0].reason, "usage_start_time is blank");
  }
}

TEST_F(GcpExportSourceTest, ASourceOfOnlyUnroutableRecordsFailsTheListingWithTheRejects) {
  write("in/a.ndjson", R"({"cost":3,"usage_start_time":"soon"})"
                       "\n"
                       R"({"cost":4})"
                       "\n");
  PluginHarness harness(billdrop_plugin_entry(), {{"path", (dir_ / "in").string()}});
  ASSERT_TRUE(harness.create().ok());
  auto months = harness.months();
  ASSERT_FALSE(months.ok());
  EXPECT_EQ(months.error().kind(), ErrorKind::data);
  const std::string& message = months.error().message();
  EXPECT_NE(message.find("can be placed in a month, so no month can be read (2 records)"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("the first: a.ndjson:1: usage_start_time \"soon\" is not a timestamp"),
            std::string::npos)
      << message;
}

} // namespace
} // namespace billdrop::gcp
