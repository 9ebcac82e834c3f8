// convert_incremental against an in-test incremental source whose "files" are written here, so
// every merged row, total and per-hour total below is worked out by hand.
//
// The files (each one part of the increment; cursor "k" = the first k files consumed):
//   file 1: r1  2026-08-01T00  vm-1 Usage 10.00
//           r2  2026-08-01T00  vm-2 Usage  5.25
//           r3  2026-08-01T01  vm-1 Usage 10.00
//           r4  2026-08-01T00  (no resource) Tax 1.10
//   file 2: r5  2026-08-02T00  vm-1 Usage 10.00
//           r6  2026-09-01T00  vm-1 Usage  7.00
//   file 3: r2' 2026-08-01T00  vm-2 Usage  4.75    restates r2 (same identity, new cost)
//           r3' 2026-08-01T01  vm-1 Usage 12.00    restates r3
//           r7  2026-08-01T01  vm-3 Usage  0.333   new
//
// August once all three are merged: r1, r4, r2' (hour 2026-08-01T00: 3 rows, 15.85),
// r3', r7 (2026-08-01T01: 2 rows, 12.333), r5 (2026-08-02T00: 1 row, 10.00); 6 rows, 38.183;
// Usage 37.083, Tax 1.10. The stored rows kept come first (r1, r4, r5 in snapshot order), then
// file 3's (r2', r3', r7), sorted by hour: r1, r4, r2' | r3', r7 | r5.
#include "ingest/incremental.hpp"

#include "snapshot/layout.hpp"
#include "snapshot/snapshot_reader.hpp"
#include "source/plugin_loader.hpp"
#include "support/snapshot_digest.hpp"
#include "support/temp_folder.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <optional>
#include <sstream>

namespace billdrop {
namespace {

namespace fs = std::filesystem;

struct FakeRow {
  std::string origin;
  std::vector<std::pair<std::string, std::string>> fields;
};
using File = std::vector<FakeRow>;

FakeRow usage(std::string origin, std::string start, std::string resource, std::string cost,
              std::string type = "Usage") {
  FakeRow row{std::move(origin), {{"time/usage_start", std::move(start)}}};
  row.fields.emplace_back("lineitem/type", std::move(type));
  row.fields.emplace_back("cost/cost", std::move(cost));
  if (!resource.empty())
    row.fields.emplace_back("resource/id", std::move(resource));
  row.fields.emplace_back("resource/service", "Compute");
  return row;
}

// The canonical JSON the validator writes for usage(...): time first, then kColumns order.
std::string json(std::string start, std::string resource, std::string cost,
                 std::string type = "Usage") {
  return R"({"time/usage_start":")" + start + R"(","lineitem/type":")" + type +
         R"(","cost/cost":")" + cost + "\"" +
         (resource.empty() ? "" : R"(,"resource/id":")" + resource + "\"") +
         R"(,"resource/service":"Compute"})";
}

const std::string kR1 = json("2026-08-01T00:00:00Z", "vm-1", "10.00");
const std::string kR2 = json("2026-08-01T00:00:00Z", "vm-2", "5.25");
const std::string kR3 = json("2026-08-01T01:00:00Z", "vm-1", "10.00");
const std::string kR4 = json("2026-08-01T00:00:00Z", "", "1.10", "Tax");
const std::string kR5 = json("2026-08-02T00:00:00Z", "vm-1", "10.00");
const std::string kR6 = json("2026-09-01T00:00:00Z", "vm-1", "7.00");
const std::string kR2b = json("2026-08-01T00:00:00Z", "vm-2", "4.75");
const std::string kR3b = json("2026-08-01T01:00:00Z", "vm-1", "12.00");
const std::string kR7 = json("2026-08-01T01:00:00Z", "vm-3", "0.333");

std::vector<File> three_files() {
  return {
      {usage("f1:1", "2026-08-01T00:00:00Z", "vm-1", "10.00"),
       usage("f1:2", "2026-08-01T00:00:00Z", "vm-2", "5.25"),
       usage("f1:3", "2026-08-01T01:00:00Z", "vm-1", "10.00"),
       usage("f1:4", "2026-08-01T00:00:00Z", "", "1.10", "Tax")},
      {usage("f2:1", "2026-08-02T00:00:00Z", "vm-1", "10.00"),
       usage("f2:2", "2026-09-01T00:00:00Z", "vm-1", "7.00")},
      {usage("f3:1", "2026-08-01T00:00:00Z", "vm-2", "4.75"),
       usage("f3:2", "2026-08-01T01:00:00Z", "vm-1", "12.00"),
       usage("f3:3", "2026-08-01T01:00:00Z", "vm-3", "0.333")},
  };
}

// An incremental source over `files`: read_since("k") sends files k+1.. one batch each, a cursor
// after each ("k+1", ...). `fail_in` (0-based) makes that file's read fail after its rows, as a
// malformed file does.
class FakeIncrementalSource final : public source::SourceSession {
public:
  std::vector<File> files;
  std::optional<std::size_t> fail_in;
  std::vector<std::string> identity;
  bool is_incremental = true;
  int reads = 0;

  const std::string& name() const noexcept override { return name_; }
  Status check() override { return {}; }
  Result<std::vector<Month>> months() override { return std::vector<Month>{}; }
  Status read(Month, source::RowReceiver&) override {
    return internal_error("whole months are not read here");
  }
  bool incremental() const noexcept override { return is_incremental; }
  const std::vector<std::string>& identity_columns() const noexcept override { return identity; }

  Status read_since(std::string_view cursor, source::RowReceiver& receiver,
                    std::string& next_cursor) override {
    ++reads;
    std::string last(cursor);
    const std::size_t from = cursor.empty() ? 0 : std::stoul(std::string(cursor));
    for (std::size_t k = from; k < files.size(); ++k) {
      std::vector<std::vector<bd_field>> fields;
      std::vector<bd_row> rows;
      for (const FakeRow& row : files[k]) {
        std::vector<bd_field>& out = fields.emplace_back();
        for (const auto& [key, value] : row.fields)
          out.push_back({{key.data(), key.size()}, {value.data(), value.size()}});
      }
      for (std::size_t i = 0; i < files[k].size(); ++i)
        rows.push_back({fields[i].data(),
                        fields[i].size(),
                        {files[k][i].origin.data(), files[k][i].origin.size()}});
      if (!receiver.on_rows(rows))
        return Error(ErrorKind::cancelled, "stopped");
      if (fail_in == k)
        return data_error("file " + std::to_string(k + 1) + " is malformed at line 3");
      last = std::to_string(k + 1);
      receiver.on_cursor(last);
    }
    next_cursor = last;
    return {};
  }

private:
  std::string name_ = "fake";
};

class ConvertIncremental : public test::TempFolderTest {
protected:
  fs::path snapshots() const { return dir_ / "snapshots"; }

  Result<ingest::IncrementalResult> merge(std::string_view cursor) {
    report_ = cbf::ValidationReport();
    ingest::IncrementalOptions options;
    options.memory_budget = 1 << 20;
    return ingest::convert_incremental(source_, cursor, snapshots(), options, report_);
  }

  ingest::IncrementalResult merge_ok(std::string_view cursor) {
    Result<ingest::IncrementalResult> result = merge(cursor);
    EXPECT_TRUE(result.ok()) << result.error().message();
    return result ? std::move(*result) : ingest::IncrementalResult{};
  }

  // The rows of a stored month, in snapshot order (through its index).
  std::vector<std::string> stored_rows(const std::string& month) const {
    Result<snapshot::SnapshotReader> reader =
        snapshot::SnapshotReader::open(snapshots() / (month + ".ndjson"));
    EXPECT_TRUE(reader.ok()) << reader.error().message();
    std::vector<std::string> rows;
    if (!reader)
      return rows;
    EXPECT_TRUE(reader->indexed());
    std::string_view json;
    while (*reader->next(json))
      rows.emplace_back(json);
    return rows;
  }

  snapshot::MonthSummary stored_summary(const std::string& month) const {
    Result<std::vector<snapshot::MonthSummary>> summaries =
        snapshot::read_summaries(snapshots(), {*Month::parse(month)});
    EXPECT_TRUE(summaries.ok() && summaries->size() == 1);
    return summaries && summaries->size() == 1 ? summaries->front() : snapshot::MonthSummary{};
  }

  // Every file of the snapshot folder with its bytes: to show that nothing changed.
  std::map<std::string, std::string> folder_bytes() const {
    std::map<std::string, std::string> files;
    for (const auto& entry : fs::recursive_directory_iterator(snapshots())) {
      std::ifstream in(entry.path(), std::ios::binary);
      std::ostringstream text;
      text << in.rdbuf();
      files[fs::relative(entry.path(), snapshots()).string()] = text.str();
    }
    return files;
  }

  // August after all three files (see the top of the file).
  void expect_final_august() const {
    const std::vector<std::string> expected = {kR1, kR4, kR2b, kR3b, kR7, kR5};
    EXPECT_EQ(stored_rows("2026-08"), expected);
    const snapshot::MonthSummary august = stored_summary("2026-08");
    EXPECT_EQ(august.rows, 6u);
    EXPECT_EQ(august.cost, Decimal::from_string("38.183"));
    ASSERT_EQ(august.hours.size(), 3u);
    EXPECT_EQ(august.hours.at("2026-08-01T00").rows, 3u);
    EXPECT_EQ(august.hours.at("2026-08-01T00").cost, Decimal::from_string("15.85"));
    EXPECT_EQ(august.hours.at("2026-08-01T01").rows, 2u);
    EXPECT_EQ(august.hours.at("2026-08-01T01").cost, Decimal::from_string("12.333"));
    EXPECT_EQ(august.hours.at("2026-08-02T00").rows, 1u);
    EXPECT_EQ(august.hours.at("2026-08-02T00").cost, Decimal::from_string("10.00"));
    ASSERT_EQ(august.cost_by_type.size(), 2u);
    EXPECT_EQ(august.cost_by_type.at("Usage"), Decimal::from_string("37.083"));
    EXPECT_EQ(august.cost_by_type.at("Tax"), Decimal::from_string("1.10"));
    std::uint64_t json_bytes = 0;
    for (const std::string& row : expected)
      json_bytes += row.size();
    EXPECT_EQ(august.json_bytes, json_bytes);
    EXPECT_EQ(august.digest, testing::expected_snapshot_digest(expected));
    EXPECT_TRUE(august.read_whole);
    EXPECT_TRUE(august.complete());
    EXPECT_EQ(august.file, snapshots() / "2026-08.ndjson");

    EXPECT_EQ(stored_rows("2026-09"), std::vector<std::string>{kR6});
    const snapshot::MonthSummary september = stored_summary("2026-09");
    EXPECT_EQ(september.rows, 1u);
    EXPECT_EQ(september.cost, Decimal::from_string("7.00"));
    EXPECT_EQ(september.digest, testing::expected_snapshot_digest({kR6}));
  }

  static std::vector<Month> months_of(const ingest::IncrementalResult& result) {
    std::vector<Month> months;
    for (const ingest::MergedMonth& month : result.months)
      months.push_back(month.summary.month);
    return months;
  }

  FakeIncrementalSource source_;
  cbf::ValidationReport report_;
};

TEST_F(ConvertIncremental, ThreeIncrementsOneAtATimeKeepTheWholeMonth) {
  source_.files = three_files();

  // File 1 alone.
  source_.files.resize(1);
  ingest::IncrementalResult first = merge_ok("");
  EXPECT_EQ(first.cursor, "1");
  EXPECT_EQ(months_of(first), std::vector<Month>{Month(2026, 8)});
  EXPECT_TRUE(first.months[0].created);
  EXPECT_TRUE(first.months[0].changed);
  EXPECT_EQ(first.months[0].increment_rows, 4u);
  EXPECT_EQ(stored_rows("2026-08"), (std::vector<std::string>{kR1, kR2, kR4, kR3}));
  EXPECT_EQ(stored_summary("2026-08").cost, Decimal::from_string("26.35"));

  // File 2: a row of August and one of September.
  source_.files = three_files();
  source_.files.resize(2);
  ingest::IncrementalResult second = merge_ok(first.cursor);
  EXPECT_EQ(second.cursor, "2");
  EXPECT_EQ(months_of(second), (std::vector<Month>{Month(2026, 8), Month(2026, 9)}));
  EXPECT_FALSE(second.months[0].created);
  EXPECT_EQ(second.months[0].stored_rows, 4u);
  EXPECT_EQ(second.months[0].replaced_rows, 0u);
  EXPECT_TRUE(second.months[1].created);
  EXPECT_EQ(stored_rows("2026-08"), (std::vector<std::string>{kR1, kR2, kR4, kR3, kR5}));
  EXPECT_EQ(stored_summary("2026-08").cost, Decimal::from_string("36.35"));

  // File 3 restates r2 and r3 and adds r7: only August is touched.
  source_.files = three_files();
  ingest::IncrementalResult third = merge_ok(second.cursor);
  EXPECT_EQ(third.cursor, "3");
  EXPECT_EQ(months_of(third), std::vector<Month>{Month(2026, 8)});
  const ingest::MergedMonth& august = third.months[0];
  EXPECT_EQ(august.increment_rows, 3u);
  EXPECT_EQ(august.superseded_rows, 0u);
  EXPECT_EQ(august.stored_rows, 5u);
  EXPECT_EQ(august.replaced_rows, 2u);
  EXPECT_TRUE(august.changed);
  EXPECT_EQ(august.summary.rows, 6u);
  EXPECT_EQ(august.summary.cost, Decimal::from_string("38.183"));
  expect_final_august();
  // The work folder is gone.
  EXPECT_FALSE(fs::exists(snapshots() / ".incremental"));
  EXPECT_FALSE(fs::exists(snapshots() / ".runs"));
}

TEST_F(ConvertIncremental, ThreeFilesInOneIncrementTheLastPartWins) {
  source_.files = three_files();
  ingest::IncrementalResult result = merge_ok("");
  EXPECT_EQ(result.cursor, "3");
  EXPECT_EQ(result.parts, 3u);
  EXPECT_EQ(result.rows_read, 9u);
  ASSERT_EQ(months_of(result), (std::vector<Month>{Month(2026, 8), Month(2026, 9)}));
  EXPECT_EQ(result.months[0].increment_rows, 8u);
  EXPECT_EQ(result.months[0].superseded_rows, 2u); // r2 and r3, restated by file 3
  EXPECT_EQ(result.months[0].stored_rows, 0u);
  // The same snapshot, byte for byte, as merging the files one at a time.
  expect_final_august();
}

TEST_F(ConvertIncremental, AFailedIncrementLeavesTheSnapshotsAndTheCursorAlone) {
  source_.files = three_files();
  source_.files.resize(2);
  const std::string cursor = merge_ok("").cursor;
  ASSERT_EQ(cursor, "2");
  const std::map<std::string, std::string> before = folder_bytes();
  ASSERT_EQ(before.size(), 6u); // rows, index and summary of two months

  // File 3 is fine, file 4 is malformed: the read fails after file 3's cursor.
  source_.files = three_files();
  source_.files.push_back({usage("f4:1", "2026-08-03T00:00:00Z", "vm-9", "99")});
  source_.fail_in = 3;
  Result<ingest::IncrementalResult> failed = merge(cursor);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().kind(), ErrorKind::data);
  EXPECT_EQ(failed.error().message(),
            "reading the increment of plugin 'fake' since cursor '2': file 4 is malformed at "
            "line 3");
  EXPECT_EQ(folder_bytes(), before);
  EXPECT_FALSE(fs::exists(snapshots() / ".incremental"));

  // Corrected, the same increment is read again from the cursor that was kept.
  source_.files.pop_back();
  source_.fail_in.reset();
  ingest::IncrementalResult retried = merge_ok(cursor);
  EXPECT_EQ(retried.cursor, "3");
  expect_final_august();
}

TEST_F(ConvertIncremental, AnInvalidRowFailsTheWholeIncrement) {
  source_.files = three_files();
  source_.files.resize(1);
  ASSERT_EQ(merge_ok("").cursor, "1");
  const std::map<std::string, std::string> before = folder_bytes();

  source_.files = three_files();
  source_.files[1][0] = usage("f2:1", "2026-08-02T00:00:00Z", "vm-1", "ten");
  Result<ingest::IncrementalResult> failed = merge("1");
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().kind(), ErrorKind::data);
  EXPECT_EQ(failed.error().message().rfind("the increment of plugin 'fake' since cursor '1' holds "
                                           "1 invalid row or rejected record (see the row "
                                           "problems): nothing was merged",
                                           0),
            0u)
      << failed.error().message();
  EXPECT_EQ(report_.invalid_rows(), 1u);
  ASSERT_FALSE(report_.kept().empty());
  EXPECT_EQ(report_.kept()[0].origin, "f2:1");
  EXPECT_EQ(report_.kept()[0].issue.column, "cost/cost");
  EXPECT_EQ(folder_bytes(), before);
}

TEST_F(ConvertIncremental, MergingTheSameIncrementAgainChangesNothing) {
  source_.files = three_files();
  source_.files.resize(2);
  merge_ok("");
  source_.files = three_files();
  merge_ok("2");
  const std::map<std::string, std::string> once = folder_bytes();
  // The process died before it stored cursor "3": the increment is read and merged again.
  ingest::IncrementalResult again = merge_ok("2");
  EXPECT_EQ(again.cursor, "3");
  ASSERT_EQ(again.months.size(), 1u);
  EXPECT_FALSE(again.months[0].changed);
  EXPECT_EQ(again.months[0].replaced_rows, 3u); // r2', r3' and r7 replace themselves
  EXPECT_EQ(folder_bytes(), once);
  expect_final_august();
}

TEST_F(ConvertIncremental, NothingNewTouchesNoMonth) {
  source_.files = three_files();
  merge_ok("");
  const std::map<std::string, std::string> before = folder_bytes();
  ingest::IncrementalResult none = merge_ok("3");
  EXPECT_EQ(none.cursor, "3");
  EXPECT_TRUE(none.months.empty());
  EXPECT_EQ(folder_bytes(), before);
}

TEST_F(ConvertIncremental, RowsSharingAnIdentityInOnePartAreAllKeptAndReplacedTogether) {
  // With identity {resource/id}: file 1 gives vm-1 two rows, file 2 restates vm-1 with one.
  source_.identity = {"resource/id"};
  source_.files = {{usage("a:1", "2026-08-01T00:00:00Z", "vm-1", "1"),
                    usage("a:2", "2026-08-05T00:00:00Z", "vm-1", "2"),
                    usage("a:3", "2026-08-01T00:00:00Z", "vm-2", "4")}};
  merge_ok("");
  EXPECT_EQ(stored_summary("2026-08").rows, 3u);
  EXPECT_EQ(stored_summary("2026-08").cost, Decimal::from_string("7"));
  source_.files.push_back({usage("b:1", "2026-08-09T00:00:00Z", "vm-1", "8")});
  ingest::IncrementalResult result = merge_ok("1");
  EXPECT_EQ(result.months[0].replaced_rows, 2u);
  EXPECT_EQ(stored_rows("2026-08"),
            (std::vector<std::string>{json("2026-08-01T00:00:00Z", "vm-2", "4"),
                                      json("2026-08-09T00:00:00Z", "vm-1", "8")}));
  EXPECT_EQ(stored_summary("2026-08").cost, Decimal::from_string("12"));
}

TEST_F(ConvertIncremental, AnUnknownIdentityColumnIsAConfigError) {
  source_.identity = {"resource/id", "cost/amount"};
  source_.files = three_files();
  Result<ingest::IncrementalResult> result = merge("");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().kind(), ErrorKind::config);
  EXPECT_EQ(result.error().message(),
            "plugin 'fake' names a row identity billdrop cannot use: the identity column "
            "\"cost/amount\" is not a CBF column nor a tag \"resource/tag:<key>\" (tag keys: "
            "ASCII letters, digits and _ . : / = + - @)");
  EXPECT_EQ(source_.reads, 0);
}

TEST_F(ConvertIncremental, ASourceThatIsNotIncrementalIsRefused) {
  source_.is_incremental = false;
  Result<ingest::IncrementalResult> result = merge("");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().kind(), ErrorKind::config);
  EXPECT_EQ(result.error().message(), "plugin 'fake' does not read increments (with this "
                                      "configuration): convert whole months instead");
  EXPECT_EQ(source_.reads, 0);
}

TEST_F(ConvertIncremental, AStopRequestMergesNothing) {
  source_.files = three_files();
  source_.files.resize(1);
  merge_ok("");
  const std::map<std::string, std::string> before = folder_bytes();
  source_.files = three_files();
  core::CancelToken cancel;
  cancel.cancel();
  ingest::IncrementalOptions options;
  options.cancel = &cancel;
  Result<ingest::IncrementalResult> result =
      ingest::convert_incremental(source_, "1", snapshots(), options, report_);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().kind(), ErrorKind::cancelled);
  EXPECT_EQ(folder_bytes(), before);
}

TEST_F(ConvertIncremental, WithoutThePipelineTheResultIsTheSame) {
  source_.files = three_files();
  ingest::IncrementalOptions options;
  options.pipeline = false;
  Result<ingest::IncrementalResult> result =
      ingest::convert_incremental(source_, "", snapshots(), options, report_);
  ASSERT_TRUE(result.ok()) << result.error().message();
  EXPECT_EQ(result->months[0].superseded_rows, 2u);
  expect_final_august();
}

} // namespace
} // namespace billdrop
