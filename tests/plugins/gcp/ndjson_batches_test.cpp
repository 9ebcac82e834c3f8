// NDJSON extracts as export_file.cpp reads them: many records per simdjson batch (files of several
// batches here), line numbers counted from byte offsets, a month's read parsing only the runs of
// records the months scan found for it, and the record-by-record reader taking over at the first
// record a batch cannot take. Every expected total and line is counted by the test as it writes
// the records.
#include "test_support.hpp"

#include <billdrop/byte_source.hpp>
#include <billdrop/sdk.hpp>

#include <gtest/gtest.h>
#include <simdjson.h>

#include <map>
#include <set>
#include <string>

namespace billdrop::gcp {
namespace {

using billdrop::testing::PluginHarness;
using testing::GcpFolderTest;
using testing::total;

// A record of about 600 bytes with labels and a credit. Records 1,000, 2,500, 4,000, ... have a
// string with escapes, which the plain scanner leaves to simdjson with the rest of its batch
// (1 MiB, about 1,700 records): every file here is read by both, the scanner reading whole
// batches, batch ends and file ends too.
bool escaped(int i) {
  return i % 1500 == 1000;
}

// `plain`: none has escapes (the scanner reads the whole file).
std::string record(int month, int i, const std::string& cost, bool plain = false) {
  const std::string day = (i % 28 < 9 ? "0" : "") + std::to_string(i % 28 + 1);
  return R"({"billing_account_id":"01ABCD-234567-89EF01","service":{"id":"S-1","description":)" +
         std::string(escaped(i) && !plain ? R"("Compute \"Engine\"")" : R"("Compute Engine")") +
         R"(},"sku":{"id":"SKU-)" + std::to_string(i % 50) +
         R"(","description":"N1 core"},"usage_start_time":"2024-0)" + std::to_string(month) + "-" +
         day +
         R"( 00:00:00 UTC","project":{"id":"shop-prod","labels":[{"key":"team","value":"web"}]},)"
         R"("labels":[{"key":"env","value":"prod"}],"system_labels":[],"location":{"location":)"
         R"("us-central1","region":"us-central1"},"cost":)" +
         cost +
         R"(,"currency":"USD","usage":{"amount":3600,"unit":"seconds"},"credits":[{"name":)"
         R"("SUD","amount":-0.01,"full_name":null,"id":"sud","type":"SUSTAINED_USAGE_DISCOUNT"}],)"
         R"("invoice":{"month":"2024)" +
         (month < 10 ? "0" : "") + std::to_string(month) +
         R"("},"cost_type":"regular","resource":{"name":"vm-)" + std::to_string(i) + R"("}})";
}

// What the test wrote for one month: Σ cost/cost (charges and credits) and the origins of its
// rows.
struct Expected {
  Decimal cost;
  std::multiset<std::string> origins;
};

// The origins of `rows`.
std::multiset<std::string> origins(const std::vector<billdrop::testing::CapturedRow>& rows) {
  std::multiset<std::string> out;
  for (const auto& row : rows)
    out.insert(row.origin);
  return out;
}

class GcpNdjsonBatchesTest : public GcpFolderTest {
protected:
  // Appends a record of `month` on its own line; `line` counts the file's lines.
  void add(std::string& text, int month, int i, const std::string& cost,
           std::map<int, Expected>& expected, int& line, const std::string& name,
           bool plain = false) {
    text += record(month, i, cost, plain) + "\n";
    Expected& e = expected[month];
    e.cost += Decimal::from_string(cost);
    e.cost += Decimal::from_string("-0.01"); // the credit
    e.origins.insert(name + ":" + std::to_string(line));
    e.origins.insert(name + ":" + std::to_string(line));
    ++line;
  }
};

TEST_F(GcpNdjsonBatchesTest, RunsOfMonthsAcrossBatchesKeepTheirTotalsAndLines) {
  // About 4.5 MB: a byte-order mark, runs of July and August records of uneven lengths, blank and
  // CRLF lines between them, and the last record without a line end.
  std::string text = "\xEF\xBB\xBF";
  std::map<int, Expected> expected;
  int line = 1;
  int i = 0;
  for (int run = 0; run < 12; ++run) {
    const int month = run % 3 == 2 ? 8 : 7;
    for (int k = 0; k < 300 + run * 97; ++k, ++i) {
      add(text, month, i, std::to_string(i % 100) + "." + std::to_string(i % 7) + "5", expected,
          line, "a.ndjson");
      if (i % 500 == 0) {
        text += "\n  \r\n"; // two blank lines
        line += 2;
      }
    }
  }
  text += record(8, i, "1.5");
  expected[8].cost += Decimal::from_string("1.49"); // 1.5 - 0.01
  expected[8].origins.insert("a.ndjson:" + std::to_string(line));
  expected[8].origins.insert("a.ndjson:" + std::to_string(line));
  ASSERT_GT(text.size(), std::size_t{4} << 20);
  write("a.ndjson", text);

  PluginHarness harness(billdrop_plugin_entry(), {{"path", (dir_ / "a.ndjson").string()}});
  ASSERT_TRUE(harness.create().ok());
  auto months = harness.months();
  ASSERT_TRUE(months.ok()) << months.error().message();
  ASSERT_EQ(*months, (std::vector<Month>{Month(2024, 7), Month(2024, 8)}));
  std::multiset<std::string> services;
  for (const int month : {7, 8}) {
    auto rows = harness.read(Month(2024, month));
    ASSERT_TRUE(rows.ok()) << rows.error().message();
    EXPECT_TRUE(harness.rejects().empty());
    EXPECT_EQ(rows->size(), expected[month].origins.size()) << month;
    EXPECT_EQ(total(*rows), expected[month].cost) << month;
    EXPECT_EQ(origins(*rows), expected[month].origins) << month;
    for (const auto& row : *rows)
      services.insert(std::string(row.get("resource/service")));
  }
  // Both readers' strings: as written, and unescaped (two rows, charge and credit, a record).
  int escapes = 0;
  for (int k = 0; k <= i; ++k)
    escapes += escaped(k) ? 1 : 0;
  ASSERT_GT(escapes, 2);
  EXPECT_EQ(services.count("Compute \"Engine\""), 2u * static_cast<unsigned>(escapes));
  EXPECT_EQ(services.count("Compute Engine"), services.size() - 2u * escapes);

  // The same as gzip: a month's read inflates through the other months' runs.
  write("gz/a.ndjson.gz", gzip_compress(text));
  PluginHarness gz(billdrop_plugin_entry(), {{"path", (dir_ / "gz" / "a.ndjson.gz").string()}});
  ASSERT_TRUE(gz.create().ok());
  for (const int month : {8, 7}) {
    auto rows = gz.read(Month(2024, month));
    ASSERT_TRUE(rows.ok()) << rows.error().message();
    EXPECT_TRUE(gz.rejects().empty());
    EXPECT_EQ(total(*rows), expected[month].cost) << month;
    std::multiset<std::string> renamed;
    for (const std::string& origin : expected[month].origins)
      renamed.insert("a.ndjson.gz" + origin.substr(origin.find(':')));
    EXPECT_EQ(origins(*rows), renamed) << month;
  }
}

TEST_F(GcpNdjsonBatchesTest, AMalformedRecordDeepInAFileIsRejectedWithItsLineAndTheRestConverts) {
  // 4,000 records (July, then August from record 2,000), with a record that is invalid JSON at
  // line 3,001 and one that is not an object at line 3,500, both among August's records.
  std::string text;
  std::map<int, Expected> expected;
  int line = 1;
  for (int i = 0; i < 4000; ++i) {
    if (line == 3001) {
      text += R"({"cost":1.5,,"usage_start_time":"2024-08-03 00:00:00 UTC"})"
              "\n";
      ++line;
      continue;
    }
    if (line == 3500) {
      text += "[1, 2]\n";
      ++line;
      continue;
    }
    add(text, i < 2000 ? 7 : 8, i, "2.25", expected, line, "b.ndjson");
  }
  write("b.ndjson", text);

  PluginHarness harness(billdrop_plugin_entry(), {{"path", (dir_ / "b.ndjson").string()}});
  ASSERT_TRUE(harness.create().ok());
  auto months = harness.months();
  ASSERT_TRUE(months.ok()) << months.error().message();
  ASSERT_EQ(*months, (std::vector<Month>{Month(2024, 7), Month(2024, 8)}));
  // Records of no month are rejected in the read of every month of their file.
  for (const int month : {7, 8}) {
    auto rows = harness.read(Month(2024, month));
    ASSERT_TRUE(rows.ok()) << rows.error().message();
    EXPECT_EQ(total(*rows), expected[month].cost) << month;
    EXPECT_EQ(origins(*rows), expected[month].origins) << month;
    ASSERT_EQ(harness.rejects().size(), 2u) << month;
    EXPECT_EQ(harness.rejects()[0].origin, "b.ndjson:3001");
    EXPECT_EQ(harness.rejects()[0].reason.rfind("invalid JSON: ", 0), 0u)
        << harness.rejects()[0].reason;
    EXPECT_EQ(harness.rejects()[1].origin, "b.ndjson:3500");
    EXPECT_EQ(harness.rejects()[1].reason, "the record is not a JSON object");
  }
}

TEST_F(GcpNdjsonBatchesTest, TwoRecordsOnOneLineBreakTheFileThere) {
  // Newline-delimited JSON holds one value per line: line 2,501 holds two records, so the file
  // breaks off there and no month can be read completely.
  std::string text;
  std::map<int, Expected> expected;
  int line = 1;
  for (int i = 0; i < 3000; ++i) {
    if (line == 2501)
      text += record(8, i, "9") + " ";
    add(text, i < 1000 ? 7 : 8, i, "1", expected, line, "c.ndjson");
  }
  write("c.ndjson", text);

  PluginHarness harness(billdrop_plugin_entry(), {{"path", (dir_ / "c.ndjson").string()}});
  ASSERT_TRUE(harness.create().ok());
  auto months = harness.months();
  ASSERT_TRUE(months.ok()) << months.error().message();
  ASSERT_EQ(*months, (std::vector<Month>{Month(2024, 7), Month(2024, 8)}));
  auto july = harness.read(Month(2024, 7));
  ASSERT_FALSE(july.ok());
  EXPECT_NE(july.error().message().find("c.ndjson breaks off at line 2,501 (expected a line end "
                                        "after the record, found '{'"),
            std::string::npos)
      << july.error().message();
  EXPECT_TRUE(harness.rows().empty());
}

TEST_F(GcpNdjsonBatchesTest, AFileChangedAfterTheMonthsScanIsReadWhole) {
  std::string before;
  std::map<int, Expected> unused;
  int line = 1;
  for (int i = 0; i < 2000; ++i)
    add(before, i < 1000 ? 7 : 8, i, "1", unused, line, "d.ndjson");
  write("d.ndjson", before);
  PluginHarness harness(billdrop_plugin_entry(), {{"path", (dir_ / "d.ndjson").string()}});
  ASSERT_TRUE(harness.create().ok());
  auto months = harness.months();
  ASSERT_TRUE(months.ok()) << months.error().message();

  // Rewritten with the months in the other order: the runs the scan found no longer hold them.
  std::string after;
  std::map<int, Expected> expected;
  line = 1;
  for (int i = 0; i < 2500; ++i)
    add(after, i < 1500 ? 8 : 7, i, "3", expected, line, "d.ndjson");
  write("d.ndjson", after);
  for (const int month : {7, 8}) {
    auto rows = harness.read(Month(2024, month));
    ASSERT_TRUE(rows.ok()) << rows.error().message();
    EXPECT_EQ(total(*rows), expected[month].cost) << month;
    EXPECT_EQ(origins(*rows), expected[month].origins) << month;
  }
}

} // namespace
} // namespace billdrop::gcp

namespace billdrop::gcp {
namespace {

TEST_F(GcpNdjsonBatchesTest, ARecordOverSeveralLinesIsOneRecordStartingOnItsFirstLine) {
  // A record written over four lines, once across the first batch's end (1 MiB) and once at the
  // end of the file: read by simdjson in e.ndjson (an earlier record of each batch has escapes),
  // by the plain scanner in p.ndjson (none has), which leaves the one across the batch end to
  // simdjson and reads the next batch itself again.
  for (const bool plain : {false, true}) {
    const std::string name = plain ? "p.ndjson" : "e.ndjson";
    std::string text;
    std::map<int, Expected> expected;
    int line = 1;
    auto spread = [&](int i) {
      std::string value = record(7, i, "4", plain);
      value.insert(value.find(R"("cost":)"), "\n  ");
      value.insert(value.find(R"("credits":)"), "\r\n");
      value.insert(value.find(R"("resource":)"), "\n");
      text += value + "\n";
      expected[7].cost += Decimal::from_string("3.99");
      expected[7].origins.insert(name + ":" + std::to_string(line));
      expected[7].origins.insert(name + ":" + std::to_string(line));
      line += 4;
    };
    for (int i = 0; i < 3000; ++i) {
      if (text.size() < (std::size_t{1} << 20) && text.size() + 700 > (std::size_t{1} << 20))
        spread(i);
      add(text, 7, i, "1", expected, line, name, plain);
    }
    spread(3000);
    write(name, text);

    PluginHarness harness(billdrop_plugin_entry(), {{"path", (dir_ / name).string()}});
    ASSERT_TRUE(harness.create().ok());
    auto rows = harness.read(Month(2024, 7));
    ASSERT_TRUE(rows.ok()) << rows.error().message();
    EXPECT_TRUE(harness.rejects().empty()) << name;
    EXPECT_EQ(total(*rows), expected[7].cost) << name;
    EXPECT_EQ(origins(*rows), expected[7].origins) << name;
  }
}

} // namespace
} // namespace billdrop::gcp

namespace billdrop::gcp {
namespace {

TEST_F(GcpNdjsonBatchesTest, ARecordMalformedOnlyBeyondItsRoutingFieldsIsRejectedInItsMonthsRead) {
  // The months scan reads only usage_start_time and invoice.month, so it takes line 2,200 (a
  // credit that is not an object) as an August record; August's read finds it malformed and
  // rejects it, and every other record still converts once. July: lines 1-1,500 and 3,001-4,000.
  std::string text;
  std::map<int, Expected> expected;
  int line = 1;
  for (int i = 0; i < 4000; ++i) {
    if (line == 2200) {
      std::string bad = record(8, i, "7");
      bad.replace(bad.find(R"([{"name":"SUD")"), 1, "[5,");
      text += bad + "\n";
      ++line;
      continue;
    }
    add(text, line <= 1500 || line > 3000 ? 7 : 8, i, "1.5", expected, line, "f.ndjson");
  }
  write("f.ndjson", text);

  PluginHarness harness(billdrop_plugin_entry(), {{"path", (dir_ / "f.ndjson").string()}});
  ASSERT_TRUE(harness.create().ok());
  auto months = harness.months();
  ASSERT_TRUE(months.ok()) << months.error().message();
  ASSERT_EQ(*months, (std::vector<Month>{Month(2024, 7), Month(2024, 8)}));
  auto july = harness.read(Month(2024, 7));
  ASSERT_TRUE(july.ok()) << july.error().message();
  EXPECT_TRUE(harness.rejects().empty());
  EXPECT_EQ(total(*july), expected[7].cost);
  EXPECT_EQ(origins(*july), expected[7].origins);
  auto august = harness.read(Month(2024, 8));
  ASSERT_TRUE(august.ok()) << august.error().message();
  EXPECT_EQ(total(*august), expected[8].cost);
  EXPECT_EQ(origins(*august), expected[8].origins);
  ASSERT_EQ(harness.rejects().size(), 1u);
  EXPECT_EQ(harness.rejects()[0].origin, "f.ndjson:2200");
  EXPECT_EQ(harness.rejects()[0].reason.rfind("invalid JSON: ", 0), 0u)
      << harness.rejects()[0].reason;
}

// Keys are taken as written only when that is what they say: keys with escapes are unescaped
// ("c\u006fst" is "cost"), blanks may stand on either side of the ':', and keys that hold a ':',
// a backslash or nothing are read past.
TEST_F(GcpNdjsonBatchesTest, KeysWithEscapesOrBlanksAroundTheirColonAreRead) {
  const std::string text =
      "{\"usage_start_time\" : \"2024-07-01 00:00:00 UTC\",\t\"cost\"\t:\t2.50 , \"currency\" :"
      "\"USD\", \"service\" : {\"description\" :\"Compute\"} , "
      "\"invoice\":{\"month\":\"202407\"}}\n"
      "{\"usage\\u005fstart_time\":\"2024-07-02 00:00:00 UTC\",\"c\\u006fst\":1.25,\"currency\":"
      "\"USD\",\"service\":{\"descr\\u0069ption\":\"Storage\"},\"invoice\":{\"month\":\"202407\"}}"
      "\n"
      "{\"a\\\\\":1,\"x:y\":\"b\",\"\":3,\"usage_start_time\":\"2024-07-03 00:00:00 UTC\","
      "\"cost\":0.75,\"currency\":\"USD\",\"credits\":[{\"n\\u0061me\":\"SUD\",\"amount\" : "
      "-0.25}],\"service\":{\"description\":\"Network\"},\"invoice\":{\"month\":\"202407\"}}\n";
  write("k.ndjson", text);
  PluginHarness harness(billdrop_plugin_entry(), {{"path", (dir_ / "k.ndjson").string()}});
  ASSERT_TRUE(harness.create().ok());
  auto months = harness.months();
  ASSERT_TRUE(months.ok()) << months.error().message();
  ASSERT_EQ(*months, (std::vector<Month>{Month(2024, 7)}));
  auto rows = harness.read(Month(2024, 7));
  ASSERT_TRUE(rows.ok()) << rows.error().message();
  EXPECT_TRUE(harness.rejects().empty());
  ASSERT_EQ(rows->size(), 4u);                           // three charges and the credit
  EXPECT_EQ(total(*rows), Decimal::from_string("4.25")); // 2.50 + 1.25 + 0.75 - 0.25
  std::multiset<std::string> services;
  for (const auto& row : *rows)
    services.insert(std::string(row.get("resource/service")));
  EXPECT_EQ(services, (std::multiset<std::string>{"Compute", "Storage", "Network", "Network"}));
  EXPECT_EQ(origins(*rows),
            (std::multiset<std::string>{"k.ndjson:1", "k.ndjson:2", "k.ndjson:3", "k.ndjson:3"}));
}

// The plugin is compiled for baseline x86-64, so simdjson's inline On Demand code is its
// `fallback` namespace; the parts that use SIMD (stage 1, which finds every structural character,
// and string unescaping) are the shared library's, which picks the best kernel for the CPU at run
// time (ondemand::parser takes get_active_implementation()). This holds that: on a CPU with the
// SSE4.2 and CLMUL of simdjson's `westmere` kernel or better, the kernel is not the fallback.
TEST(GcpNdjsonSimd, Stage1RunsTheCpusSimdKernel) {
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("sse4.2") || !__builtin_cpu_supports("pclmul"))
    GTEST_SKIP() << "this CPU has no SIMD kernel of simdjson";
  const simdjson::implementation* active = simdjson::get_active_implementation();
  EXPECT_NE(active->name(), "fallback");
  EXPECT_TRUE(active->supported_by_runtime_system());
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi") &&
      __builtin_cpu_supports("bmi2")) {
    EXPECT_TRUE(active->name() == "haswell" || active->name() == "icelake") << active->name();
  }
  // A parser of the same shared library parses with it.
  simdjson::ondemand::parser parser;
  simdjson::padded_string json(std::string_view(R"({"cost":1.25,"sku":{"id":"a\"b"}})"));
  auto document = parser.iterate(json);
  std::string_view id;
  ASSERT_EQ(document["sku"]["id"].get_string().get(id), simdjson::SUCCESS);
  EXPECT_EQ(id, "a\"b");
#else
  GTEST_SKIP() << "x86-64 only";
#endif
}

} // namespace
} // namespace billdrop::gcp
