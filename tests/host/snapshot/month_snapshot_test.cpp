#include "snapshot/month_snapshot.hpp"

#include "support/snapshot_digest.hpp"
#include "support/temp_folder.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

namespace billdrop::snapshot {
using namespace billdrop::cbf;
namespace {

namespace fs = std::filesystem;

class MonthSnapshotTest : public test::TempFolderTest {
protected:
};

// A row as the validator makes it; `id` tells rows apart in the output.
NormalizedRow make_row(std::string_view time, std::string_view cost, std::string_view type = "",
                       std::string_view id = "") {
  std::vector<FieldView> fields{{"time/usage_start", time}, {"cost/cost", cost}};
  if (!type.empty())
    fields.push_back({"lineitem/type", type});
  if (!id.empty())
    fields.push_back({"lineitem/id", id});
  NormalizedRow row;
  std::vector<RowIssue> issues;
  EXPECT_TRUE(RowValidator().normalize(fields, row, issues)) << time << " " << cost;
  return row;
}

std::string read_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> read_lines(const fs::path& file) {
  std::vector<std::string> lines;
  std::ifstream in(file, std::ios::binary);
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  return lines;
}

// The rows in snapshot order, through the reader under test.
std::vector<std::string> read_snapshot(const fs::path& file) {
  std::vector<std::string> rows;
  Result<SnapshotReader> reader = SnapshotReader::open(file);
  EXPECT_TRUE(reader.ok()) << (reader.ok() ? "" : reader.error().message());
  if (!reader.ok())
    return rows;
  std::string_view json;
  for (;;) {
    Result<bool> more = reader->next(json);
    EXPECT_TRUE(more.ok()) << (more.ok() ? "" : more.error().message());
    if (!more.ok() || !*more)
      break;
    rows.emplace_back(json);
  }
  return rows;
}

// The index file decoded here, by the format in snapshot_index.hpp.
struct DecodedIndex {
  std::string magic;
  std::uint64_t rows = 0;
  std::uint64_t rows_file_bytes = 0;
  std::vector<IndexEntry> entries;
};

DecodedIndex decode_index(const fs::path& file) {
  const std::string bytes = read_file(file);
  DecodedIndex index;
  if (bytes.size() < 64)
    return index;
  index.magic = bytes.substr(0, 8);
  std::memcpy(&index.rows, bytes.data() + 8, 8);
  std::memcpy(&index.rows_file_bytes, bytes.data() + 16, 8);
  for (std::size_t at = 64; at + 24 <= bytes.size(); at += 24) {
    IndexEntry entry;
    std::memcpy(&entry.offset, bytes.data() + at, 8);
    std::memcpy(&entry.length, bytes.data() + at + 8, 4);
    std::memcpy(&entry.hour, bytes.data() + at + 12, 4);
    std::memcpy(&entry.hash, bytes.data() + at + 16, 8);
    index.entries.push_back(entry);
  }
  return index;
}

std::vector<MonthSummary> build(const fs::path& dir, std::size_t budget,
                                const std::vector<NormalizedRow>& rows,
                                std::uint64_t* spilled = nullptr) {
  SnapshotBuilder builder({dir, budget});
  for (const NormalizedRow& row : rows)
    builder.add(row);
  EXPECT_EQ(builder.rows(), rows.size());
  if (spilled != nullptr)
    *spilled = builder.spilled_runs();
  Result<std::vector<MonthSummary>> summaries = builder.finish();
  EXPECT_TRUE(summaries.ok()) << (summaries.ok() ? "" : summaries.error().message());
  return summaries.ok() ? *summaries : std::vector<MonthSummary>{};
}

// Hour of a snapshot line, from its text.
std::string hour_of(const std::string& json) {
  return json.substr(21, 13);
}

TEST_F(MonthSnapshotTest, TotalsMatchAHandComputedSum) {
  const std::vector<NormalizedRow> rows{
      make_row("2024-08-02T10:15:00Z", "1.10"),
      make_row("2024-08-01T00:00:00Z", "2.005", "Usage"),
      make_row("2024-08-02T10:59:59Z", "-0.5", "Credit"),
      make_row("2024-08-31T23:00:00Z", "5e-06", "Tax"),
  };
  const std::vector<MonthSummary> summaries = build(dir_, 1 << 20, rows);
  ASSERT_EQ(summaries.size(), 1u);
  const MonthSummary& s = summaries[0];
  EXPECT_EQ(s.month, Month(2024, 8));
  EXPECT_EQ(s.rows, 4u);
  // 1.10 + 2.005 - 0.5 + 0.000005
  EXPECT_EQ(s.cost, Decimal::from_string("2.605005"));
  EXPECT_EQ(s.cost.to_string(), "2.605005");
  ASSERT_EQ(s.cost_by_type.size(), 3u);
  EXPECT_EQ(s.cost_by_type.at("Usage"), Decimal::from_string("3.105"));
  EXPECT_EQ(s.cost_by_type.at("Credit"), Decimal::from_string("-0.5"));
  EXPECT_EQ(s.cost_by_type.at("Tax"), Decimal::from_string("0.000005"));
  ASSERT_EQ(s.hours.size(), 3u);
  EXPECT_EQ(s.hours.at("2024-08-01T00").rows, 1u);
  EXPECT_EQ(s.hours.at("2024-08-02T10").rows, 2u);
  EXPECT_EQ(s.hours.at("2024-08-02T10").cost, Decimal::from_string("0.6"));
  EXPECT_EQ(s.hours.at("2024-08-31T23").cost, Decimal::from_string("0.000005"));

  EXPECT_EQ(s.file, dir_ / "2024-08.ndjson");
  // The rows file: every row once, as it arrived.
  const std::vector<std::string> arrived{
      R"({"time/usage_start":"2024-08-02T10:15:00Z","cost/cost":"1.10"})",
      R"({"time/usage_start":"2024-08-01T00:00:00Z","lineitem/type":"Usage","cost/cost":"2.005"})",
      R"({"time/usage_start":"2024-08-02T10:59:59Z","lineitem/type":"Credit","cost/cost":"-0.5"})",
      R"({"time/usage_start":"2024-08-31T23:00:00Z","lineitem/type":"Tax","cost/cost":"0.000005"})",
  };
  EXPECT_EQ(read_lines(s.file), arrived);
  // Snapshot order: by hour, arrival order within an hour.
  const std::vector<std::string> by_hour{arrived[1], arrived[0], arrived[2], arrived[3]};
  EXPECT_EQ(read_snapshot(s.file), by_hour);
  std::uint64_t bytes = 0;
  for (const std::string& line : arrived)
    bytes += line.size();
  EXPECT_EQ(s.json_bytes, bytes);
  EXPECT_EQ(read_file(s.file).size(), bytes + 4); // one newline per row
  EXPECT_EQ(s.digest, testing::expected_snapshot_digest(by_hour));

  // The index, decoded by hand: the rows in hour order, where each one is.
  const DecodedIndex index = decode_index(dir_ / "2024-08.index");
  EXPECT_EQ(index.magic, "BDSNAPX1");
  EXPECT_EQ(index.rows, 4u);
  EXPECT_EQ(index.rows_file_bytes, bytes + 4);
  ASSERT_EQ(index.entries.size(), 4u);
  const std::uint64_t offsets[] = {arrived[0].size() + 1, 0,
                                   arrived[0].size() + arrived[1].size() + 2,
                                   arrived[0].size() + arrived[1].size() + arrived[2].size() + 3};
  const std::uint32_t hours[] = {0, 34, 34, 30 * 24 + 23}; // hours of the month
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(index.entries[i].offset, offsets[i]) << i;
    EXPECT_EQ(index.entries[i].length, by_hour[i].size()) << i;
    EXPECT_EQ(index.entries[i].hour, hours[i]) << i;
  }

  // The summary file holds the same summary.
  Result<MonthSummary> stored = MonthSummary::from_json(read_file(dir_ / "2024-08.summary.json"));
  ASSERT_TRUE(stored.ok()) << stored.error().message();
  EXPECT_EQ(stored->to_json(), s.to_json());
  // Work files are gone; only the rows, their index and the summary are left.
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir_))
    names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names,
            (std::vector<std::string>{"2024-08.index", "2024-08.ndjson", "2024-08.summary.json"}));
}

TEST_F(MonthSnapshotTest, PartitionsRowsByMonth) {
  std::vector<NormalizedRow> rows;
  const char* times[] = {"2024-09-01T00:00:00Z",      "2024-07-31T23:59:59Z",
                         "2024-08-15T12:00:00Z",      "2024-07-01T00:00:00Z",
                         "2024-08-31T23:00:00-01:00", // = 09-01 00:00Z
                         "2024-08-01T00:00:00Z"};
  for (int i = 0; i < 6; ++i)
    rows.push_back(make_row(times[i], std::to_string(i + 1)));
  const std::vector<MonthSummary> summaries = build(dir_, 1 << 20, rows);
  ASSERT_EQ(summaries.size(), 3u);
  EXPECT_EQ(summaries[0].month, Month(2024, 7));
  EXPECT_EQ(summaries[1].month, Month(2024, 8));
  EXPECT_EQ(summaries[2].month, Month(2024, 9));
  EXPECT_EQ(summaries[0].rows, 2u);
  EXPECT_EQ(summaries[1].rows, 2u);
  EXPECT_EQ(summaries[2].rows, 2u);
  EXPECT_EQ(summaries[0].cost, Decimal::from_int(2 + 4));
  EXPECT_EQ(summaries[1].cost, Decimal::from_int(3 + 6));
  EXPECT_EQ(summaries[2].cost, Decimal::from_int(1 + 5));
  for (const MonthSummary& summary : summaries) {
    for (const std::string& line : read_lines(summary.file))
      EXPECT_EQ(line.substr(21, 7), summary.month.to_string()) << line;
    EXPECT_EQ(read_snapshot(summary.file).size(), 2u);
    EXPECT_TRUE(fs::exists(dir_ / (summary.month.to_string() + ".summary.json")));
  }
}

// Many rows over three months, hours in random order and several rows per hour.
std::vector<NormalizedRow> random_rows(int count, unsigned seed) {
  std::mt19937 rng(seed);
  const char* types[] = {"Usage", "Tax", "Credit", "Fee"};
  std::vector<NormalizedRow> rows;
  for (int i = 0; i < count; ++i) {
    const int month = 7 + static_cast<int>(rng() % 3);
    char time[32];
    std::snprintf(time, sizeof time, "2024-%02d-%02dT%02d:%02u:00Z", month,
                  1 + static_cast<int>(rng() % 28), static_cast<int>(rng() % 24),
                  static_cast<unsigned>(rng() % 60));
    const std::string cost =
        std::to_string(static_cast<int>(rng() % 20000) - 5000) + "." + std::to_string(rng() % 1000);
    rows.push_back(make_row(time, cost, types[rng() % 4], std::to_string(i)));
  }
  return rows;
}

TEST_F(MonthSnapshotTest, SpillingGivesTheSameFilesAsMemory) {
  // About 230 rows a month, in hours in random order.
  const std::vector<NormalizedRow> rows = random_rows(700, 1);
  std::uint64_t memory_runs = 0;
  std::uint64_t tiny_runs = 0;
  const auto in_memory = build(dir_ / "memory", std::size_t{1} << 30, rows, &memory_runs);
  // A budget below one row spills the index after every row, and finish() sorts it one hour at a
  // time.
  const auto spilled = build(dir_ / "spilled", 1, rows, &tiny_runs);
  EXPECT_EQ(memory_runs, 0u);
  EXPECT_EQ(tiny_runs, rows.size());
  // A budget of a few hundred index entries: spills holding several hours and months each, sorted
  // in several hour ranges.
  const auto small = build(dir_ / "small", 8 * 1024, rows);
  ASSERT_EQ(in_memory.size(), 3u);
  ASSERT_EQ(spilled.size(), 3u);
  ASSERT_EQ(small.size(), 3u);
  for (std::size_t m = 0; m < 3; ++m) {
    const std::string reference = read_file(in_memory[m].file);
    EXPECT_EQ(read_file(spilled[m].file), reference);
    EXPECT_EQ(read_file(small[m].file), reference);
    const std::string reference_index = read_file(index_path_for(in_memory[m].file));
    EXPECT_EQ(read_file(index_path_for(spilled[m].file)), reference_index);
    EXPECT_EQ(read_file(index_path_for(small[m].file)), reference_index);
    EXPECT_EQ(spilled[m].digest, in_memory[m].digest);
    EXPECT_EQ(small[m].digest, in_memory[m].digest);
    EXPECT_EQ(in_memory[m].digest,
              testing::expected_snapshot_digest(read_snapshot(in_memory[m].file)));
    EXPECT_EQ(spilled[m].cost, in_memory[m].cost);
    EXPECT_EQ(spilled[m].hours.size(), in_memory[m].hours.size());
    MonthSummary expected = in_memory[m];
    MonthSummary actual = spilled[m];
    expected.file = actual.file = "";
    EXPECT_EQ(actual.to_json(), expected.to_json());
  }
  EXPECT_FALSE(fs::exists(dir_ / "spilled" / ".runs"));
  EXPECT_FALSE(fs::exists(dir_ / "small" / ".runs"));
}

TEST_F(MonthSnapshotTest, SortsByHourAndKeepsArrivalOrderWithinAnHour) {
  const std::vector<NormalizedRow> rows = random_rows(700, 2);
  // The expected order, by an independent stable sort of the input.
  std::vector<std::size_t> order(rows.size());
  for (std::size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return rows[a].usage_start.substr(0, 13) < rows[b].usage_start.substr(0, 13);
  });
  for (std::size_t budget : {std::size_t{1} << 30, std::size_t{4096}, std::size_t{1}}) {
    const fs::path dir = dir_ / std::to_string(budget);
    const auto summaries = build(dir, budget, rows);
    ASSERT_EQ(summaries.size(), 3u);
    std::vector<std::string> actual;
    for (const MonthSummary& summary : summaries)
      for (std::string& line : read_snapshot(summary.file))
        actual.push_back(std::move(line));
    ASSERT_EQ(actual.size(), rows.size());
    for (std::size_t i = 0; i < order.size(); ++i)
      ASSERT_EQ(actual[i], rows[order[i]].json) << "budget " << budget << ", line " << i;
    // The hour totals add up to the month totals.
    for (const MonthSummary& summary : summaries) {
      std::uint64_t hour_rows = 0;
      Decimal hour_cost;
      for (const auto& [hour, totals] : summary.hours) {
        EXPECT_EQ(hour.substr(0, 7), summary.month.to_string());
        hour_rows += totals.rows;
        hour_cost += totals.cost;
      }
      EXPECT_EQ(hour_rows, summary.rows);
      EXPECT_EQ(hour_cost, summary.cost);
    }
  }
}

TEST_F(MonthSnapshotTest, HourTotalsAndTypeTotalsAgreeWithTheRows) {
  const std::vector<NormalizedRow> rows = random_rows(1500, 3);
  const auto summaries = build(dir_, 2048, rows);
  // Totals recomputed here from the rows themselves.
  std::map<std::string, Decimal> by_hour;
  std::map<std::string, std::map<std::string, Decimal>> by_type;
  for (const NormalizedRow& row : rows) {
    by_hour[row.usage_start.substr(0, 13)] += row.cost;
    by_type[row.month.to_string()][std::string(row.lineitem_type)] += row.cost;
  }
  for (const MonthSummary& summary : summaries) {
    EXPECT_EQ(summary.cost_by_type, by_type[summary.month.to_string()]);
    for (const auto& [hour, totals] : summary.hours)
      EXPECT_EQ(totals.cost, by_hour.at(hour)) << hour;
  }
}

TEST_F(MonthSnapshotTest, MemoryStaysWithinTheBudget) {
  const std::vector<NormalizedRow> rows = random_rows(2000, 4);
  std::size_t largest = 0;
  for (const NormalizedRow& row : rows)
    largest = std::max(largest, row.json.size());
  SnapshotBuilder builder({dir_, 16 * 1024});
  for (const NormalizedRow& row : rows)
    builder.add(row);
  EXPECT_GT(builder.spilled_runs(), 0u);
  // The budget plus at most one row and its index entry.
  EXPECT_LE(builder.peak_buffered_bytes(), 16 * 1024 + largest + 64);
  ASSERT_TRUE(builder.finish().ok());
}

TEST_F(MonthSnapshotTest, FinishWithNoRowsWritesNothing) {
  SnapshotBuilder builder({dir_, 1024});
  Result<std::vector<MonthSummary>> summaries = builder.finish();
  ASSERT_TRUE(summaries.ok());
  EXPECT_TRUE(summaries->empty());
  EXPECT_TRUE(fs::is_empty(dir_));
}

TEST_F(MonthSnapshotTest, DestroyingABuilderRemovesItsRuns) {
  {
    SnapshotBuilder builder({dir_, 1});
    builder.add(make_row("2024-08-01", "1"));
    builder.add(make_row("2024-08-02", "2"));
    EXPECT_EQ(builder.spilled_runs(), 2u);
    EXPECT_FALSE(fs::is_empty(dir_ / ".runs"));
  }
  EXPECT_TRUE(fs::is_empty(dir_));
}

TEST(MonthSummary, RoundTripsThroughJson) {
  MonthSummary summary;
  summary.month = Month(2026, 2);
  summary.rows = 3;
  summary.json_bytes = 180;
  summary.cost = Decimal::from_string("-1.000005");
  summary.cost_by_type = {{"Usage", Decimal::from_string("1.5")},
                          {"Credit", Decimal::from_string("-2.500005")}};
  summary.hours = {{"2026-02-01T00", {2, Decimal::from_string("1.5")}},
                   {"2026-02-28T23", {1, Decimal::from_string("-2.500005")}}};
  summary.digest = std::string(32, 'a');
  summary.file = "/tmp/snapshots/2026-02.ndjson";
  summary.invalid_rows = 4;
  summary.unplaced_records = 2;
  summary.read_whole = true;
  const std::string json = summary.to_json();
  EXPECT_EQ(json, R"({"month":"2026-02","rows":3,"json_bytes":180,"cost":"-1.000005",)"
                  R"("cost_by_type":{"Credit":"-2.500005","Usage":"1.5"},)"
                  R"("hours":{"2026-02-01T00":{"rows":2,"cost":"1.5"},)"
                  R"("2026-02-28T23":{"rows":1,"cost":"-2.500005"}},)"
                  R"("digest":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",)"
                  R"("file":"/tmp/snapshots/2026-02.ndjson","invalid_rows":4,)"
                  R"("unplaced_records":2,"read_whole":true,"complete":false})");
  Result<MonthSummary> back = MonthSummary::from_json(json);
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(back->month, summary.month);
  EXPECT_EQ(back->rows, 3u);
  EXPECT_EQ(back->json_bytes, 180u);
  EXPECT_EQ(back->cost, summary.cost);
  EXPECT_EQ(back->cost_by_type, summary.cost_by_type);
  ASSERT_EQ(back->hours.size(), 2u);
  EXPECT_EQ(back->hours.at("2026-02-28T23").rows, 1u);
  EXPECT_EQ(back->hours.at("2026-02-28T23").cost, Decimal::from_string("-2.500005"));
  EXPECT_EQ(back->digest, summary.digest);
  EXPECT_EQ(back->file, summary.file);
  EXPECT_EQ(back->invalid_rows, 4u);
  EXPECT_EQ(back->unplaced_records, 2u);
  EXPECT_TRUE(back->read_whole);
  EXPECT_FALSE(back->complete());
  EXPECT_EQ(back->to_json(), json);
  // A summary without them (an older billdrop's) reads as not known to be complete.
  Result<MonthSummary> older =
      MonthSummary::from_json(R"({"month":"2026-02","rows":1,"cost":"1"})");
  ASSERT_TRUE(older.ok());
  EXPECT_FALSE(older->read_whole);
  EXPECT_FALSE(older->complete());
  EXPECT_EQ(older->invalid_rows, 0u);
  EXPECT_EQ(older->unplaced_records, 0u);
}

// "complete" says the month holds every row the source has for it, so a summary with invalid
// rows or unplaced records never says it, whatever it was given; an older summary that did is
// read as read whole (push then refuses it unless --send-invalid, as before).
TEST(MonthSummary, NeverSaysCompleteWithRowsLeftOut) {
  MonthSummary summary;
  summary.month = Month(2026, 8);
  summary.read_whole = true;
  EXPECT_TRUE(summary.complete());
  EXPECT_NE(summary.to_json().find(R"("read_whole":true,"complete":true})"), std::string::npos);
  summary.invalid_rows = 1;
  EXPECT_FALSE(summary.complete());
  EXPECT_NE(summary.to_json().find(R"("invalid_rows":1,"unplaced_records":0,"read_whole":true,)"
                                   R"("complete":false})"),
            std::string::npos)
      << summary.to_json();
  summary.invalid_rows = 0;
  summary.unplaced_records = 1;
  EXPECT_FALSE(summary.complete());

  Result<MonthSummary> older = MonthSummary::from_json(
      R"({"month":"2026-08","rows":1,"cost":"1","invalid_rows":1,"complete":true})");
  ASSERT_TRUE(older.ok()) << older.error().message();
  EXPECT_TRUE(older->read_whole);
  EXPECT_FALSE(older->complete());
  EXPECT_NE(older->to_json().find(R"("complete":false})"), std::string::npos);
}

TEST(MonthSummary, RejectsMalformedSummaries) {
  for (std::string_view bad : {
           "[]",
           "not json",
           R"({"rows":1,"cost":"1"})",                     // no month
           R"({"month":"2026-13","rows":1,"cost":"1"})",   // no such month
           R"({"month":"2026-02","rows":-1,"cost":"1"})",  // negative count
           R"({"month":"2026-02","rows":1,"cost":1.5})",   // cost as a JSON number
           R"({"month":"2026-02","rows":1,"cost":"1,5"})", // not a decimal
           R"({"month":"2026-02","rows":1,"cost":"1","hours":{"2026-02-01T00":3}})",
           R"({"month":"2026-02","rows":1,"cost":"1","complete":"yes"})",
           R"({"month":"2026-02","rows":1,"cost":"1","invalid_rows":-2})",
           R"({"month":"2026-02","rows":1,"cost":"1","unplaced_records":"1"})",
           R"({"month":"2026-02","rows":1,"cost":"1","read_whole":1})",
       }) {
    Result<MonthSummary> summary = MonthSummary::from_json(bad);
    ASSERT_FALSE(summary.ok()) << bad;
    EXPECT_NE(summary.error().message().find("month summary"), std::string::npos);
  }
}

TEST_F(MonthSnapshotTest, ReaderReturnsRowsAndTheirHours) {
  const std::vector<NormalizedRow> rows{make_row("2024-08-16T05:30:00Z", "1"),
                                        make_row("2024-08-01T23:00:00Z", "2"),
                                        make_row("2024-08-16T05:00:00Z", "3")};
  const auto summaries = build(dir_, 1 << 20, rows);
  ASSERT_EQ(summaries.size(), 1u);
  Result<SnapshotReader> reader = SnapshotReader::open(summaries[0].file);
  ASSERT_TRUE(reader.ok()) << reader.error().message();
  EXPECT_TRUE(reader->indexed());
  EXPECT_EQ(reader->rows(), 3u);
  std::string_view json;
  ASSERT_TRUE(*reader->next(json));
  EXPECT_EQ(json, rows[1].json);
  EXPECT_EQ(reader->hour(), "2024-08-01T23");
  EXPECT_EQ(reader->position(), 0u);
  ASSERT_TRUE(*reader->next(json));
  EXPECT_EQ(json, rows[0].json);
  EXPECT_EQ(reader->hour(), "2024-08-16T05");
  EXPECT_EQ(hour_of(std::string(json)), "2024-08-16T05");
  // rows[0] is the first line of the rows file.
  EXPECT_EQ(reader->where(), "the row at byte 0 of " + summaries[0].file.string());
  ASSERT_TRUE(*reader->next(json));
  EXPECT_EQ(json, rows[2].json);
  EXPECT_FALSE(*reader->next(json));

  // Random access: back to the second row in snapshot order.
  ASSERT_TRUE(reader->seek(1).ok());
  ASSERT_TRUE(*reader->next(json));
  EXPECT_EQ(json, rows[0].json);
  EXPECT_FALSE(reader->seek(4).ok());

  Result<SnapshotReader> missing = SnapshotReader::open(dir_ / "2099-01.ndjson");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message().find("2099-01.ndjson"), std::string::npos);
}

TEST_F(MonthSnapshotTest, ReaderWithoutAnIndexReadsTheFileInOrder) {
  const fs::path file = dir_ / "2024-08.ndjson";
  {
    std::ofstream out(file, std::ios::binary);
    out << "{\"time/usage_start\":\"2024-08-02T00:00:00Z\",\"cost/cost\":\"1\"}\n"
        << "{\"time/usage_start\":\"2024-08-01T00:00:00Z\",\"cost/cost\":\"2\"}"; // no '\n'
  }
  Result<SnapshotReader> reader = SnapshotReader::open(file);
  ASSERT_TRUE(reader.ok()) << reader.error().message();
  EXPECT_FALSE(reader->indexed());
  ASSERT_EQ(reader->rows(), 2u);
  std::string_view json;
  ASSERT_TRUE(*reader->next(json));
  EXPECT_EQ(reader->hour(), "2024-08-02T00");
  EXPECT_EQ(reader->where(), "line 1 of " + file.string());
  ASSERT_TRUE(*reader->next(json));
  EXPECT_EQ(json, R"({"time/usage_start":"2024-08-01T00:00:00Z","cost/cost":"2"})");
  EXPECT_EQ(reader->where(), "line 2 of " + file.string());
  EXPECT_FALSE(*reader->next(json));
}

TEST_F(MonthSnapshotTest, ReaderRefusesARowsFileThatChangedAfterIndexing) {
  const std::vector<NormalizedRow> rows{make_row("2024-08-02T00:00:00Z", "1.25"),
                                        make_row("2024-08-01T00:00:00Z", "2.50")};
  const auto summaries = build(dir_, 1 << 20, rows);
  ASSERT_EQ(summaries.size(), 1u);
  const fs::path file = summaries[0].file;

  // One digit changed, same size: the row's hash no longer matches.
  std::string text = read_file(file);
  text[text.find("1.25")] = '7';
  std::ofstream(file, std::ios::binary | std::ios::trunc) << text;
  Result<SnapshotReader> reader = SnapshotReader::open(file);
  ASSERT_TRUE(reader.ok()) << reader.error().message();
  std::string_view json;
  ASSERT_TRUE(*reader->next(json)); // the 08-01 row is untouched
  Result<bool> changed = reader->next(json);
  ASSERT_FALSE(changed.ok());
  EXPECT_NE(changed.error().message().find("does not match its index at row 2"), std::string::npos)
      << changed.error().message();

  // A different size is caught when opening.
  std::ofstream(file, std::ios::binary | std::ios::app) << "{}\n";
  Result<SnapshotReader> longer = SnapshotReader::open(file);
  ASSERT_FALSE(longer.ok());
  EXPECT_NE(longer.error().message().find("2024-08.index"), std::string::npos)
      << longer.error().message();

  // So is an index that is not one.
  std::ofstream(dir_ / "2024-08.index", std::ios::binary | std::ios::trunc) << "not an index";
  Result<SnapshotReader> garbage = SnapshotReader::open(file);
  ASSERT_FALSE(garbage.ok());
  EXPECT_NE(garbage.error().message().find("not a billdrop snapshot index"), std::string::npos);
}

TEST_F(MonthSnapshotTest, DiscardForgetsAMonthAndKeepsTheOthers) {
  for (std::size_t budget : {std::size_t{1} << 20, std::size_t{1}}) {
    const fs::path dir = dir_ / std::to_string(budget);
    SnapshotBuilder builder({dir, budget});
    builder.add(make_row("2024-08-01T00:00:00Z", "1"));
    builder.add(make_row("2024-09-01T00:00:00Z", "2"));
    builder.add(make_row("2024-08-02T00:00:00Z", "3"));
    builder.discard(Month(2024, 8));
    EXPECT_EQ(builder.rows(), 1u);
    builder.add(make_row("2024-08-03T00:00:00Z", "4")); // the month may start again
    Result<std::vector<MonthSummary>> summaries = builder.finish();
    ASSERT_TRUE(summaries.ok()) << summaries.error().message();
    ASSERT_EQ(summaries->size(), 2u);
    EXPECT_EQ((*summaries)[0].month, Month(2024, 8));
    EXPECT_EQ((*summaries)[0].rows, 1u);
    EXPECT_EQ((*summaries)[0].cost, Decimal::from_int(4));
    EXPECT_EQ(read_snapshot((*summaries)[0].file).size(), 1u);
    EXPECT_EQ((*summaries)[1].cost, Decimal::from_int(2));
    EXPECT_FALSE(fs::exists(dir / ".runs"));
  }
}

TEST_F(MonthSnapshotTest, ManyMonthsAtOnceEachGetTheirRowsInHourOrder) {
  // Fifteen months, rows round-robin over them, hours descending within each month.
  std::vector<NormalizedRow> rows;
  std::map<int, std::vector<std::string>> expected; // by month, in hour order
  for (int hour = 23; hour >= 0; --hour)
    for (int m = 0; m < 15; ++m) {
      char time[32];
      std::snprintf(time, sizeof time, "20%02d-%02d-05T%02d:00:00Z", 23 + m / 12, 1 + m % 12, hour);
      rows.push_back(make_row(time, std::to_string(m) + "." + std::to_string(hour)));
      expected[m].insert(expected[m].begin(), rows.back().json);
    }
  for (std::size_t budget : {std::size_t{1} << 20, std::size_t{512}}) {
    const auto summaries = build(dir_ / std::to_string(budget), budget, rows);
    ASSERT_EQ(summaries.size(), 15u);
    for (int m = 0; m < 15; ++m) {
      EXPECT_EQ(read_snapshot(summaries[static_cast<std::size_t>(m)].file), expected[m])
          << "budget " << budget << ", month " << m;
      EXPECT_EQ(summaries[static_cast<std::size_t>(m)].rows, 24u);
    }
  }
}

TEST_F(MonthSnapshotTest, AWriteErrorFailsTheBuildNamingTheFile) {
  SnapshotBuilder builder({dir_, 64 * 1024});
  builder.add(make_row("2024-08-01T00:00:00Z", "1"));
  fs::remove_all(dir_ / ".runs"); // the rows file is gone before its first block is written
  bool threw = false;
  try {
    for (int i = 0; i < 20000; ++i)
      builder.add(make_row("2024-08-01T00:00:00Z", "1", "", std::to_string(i)));
  } catch (const ErrorException& e) {
    threw = true;
    EXPECT_NE(e.error().message().find("2024-08-"), std::string::npos) << e.error().message();
  }
  Result<std::vector<MonthSummary>> summaries = builder.finish();
  EXPECT_TRUE(threw || !summaries.ok());
  EXPECT_FALSE(summaries.ok());
  EXPECT_FALSE(fs::exists(dir_ / "2024-08.ndjson"));
}

TEST_F(MonthSnapshotTest, WorkFilesOfAProcessThatIsGoneAreRemoved) {
  // A child that exits at once gives a pid that no longer runs.
  const pid_t gone = ::fork();
  if (gone == 0)
    ::_exit(0);
  ASSERT_GT(gone, 0);
  ::waitpid(gone, nullptr, 0);
  fs::create_directories(dir_ / ".runs");
  const fs::path stale = dir_ / ".runs" / ("2024-08-" + std::to_string(gone) + "-0.ndjson");
  const fs::path live = dir_ / ".runs" / ("2024-08-" + std::to_string(::getppid()) + "-0.ndjson");
  std::ofstream(stale) << "{}\n";
  std::ofstream(live) << "{}\n";
  {
    SnapshotBuilder builder({dir_, 1 << 20});
    EXPECT_FALSE(fs::exists(stale));
    EXPECT_TRUE(fs::exists(live)); // its process still runs: it may be another convert's
  }
  fs::remove(live);
}

} // namespace
} // namespace billdrop::snapshot
