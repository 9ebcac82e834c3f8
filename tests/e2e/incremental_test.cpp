// An incremental source end to end, in-process: the real custom plugin (.so) with
// `incremental = true` reads a folder to which each new CSV file brings new or changed records,
// and ingest::convert_incremental merges each increment into the month snapshots, as the daemon
// will: store the cursor it returns, pass it back next time.
//
//   0001.csv  vm-1 2026-08-01T00 10.00 | vm-2 2026-08-01T00 5.25 | vm-1 2026-08-01T01 10.00
//   0002.csv  vm-1 2026-08-02T00 10.00
//   0003.csv  vm-2 2026-08-01T00 4.75 (restates vm-2's 5.25) | vm-3 2026-08-01T02 1.005
//
// August then holds 5 rows, 35.755: 2026-08-01T00 2 rows 14.75, T01 1 row 10.00, T02 1 row 1.005,
// 2026-08-02T00 1 row 10.00.
#include "ingest/incremental.hpp"
#include "snapshot/layout.hpp"
#include "snapshot/snapshot_reader.hpp"
#include "source/plugin_loader.hpp"

#include "support/snapshot_digest.hpp"
#include "support/temp_folder.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>

namespace billdrop {
namespace {

namespace fs = std::filesystem;

std::string row(std::string start, std::string resource, std::string cost) {
  return R"({"time/usage_start":")" + start + R"(","lineitem/type":"Usage","cost/cost":")" + cost +
         R"(","resource/id":")" + resource + R"(","resource/service":"Compute"})";
}

class IncrementalCustom : public test::TempFolderTest {
protected:
  void SetUp() override {
    TempFolderTest::SetUp();
    fs::create_directories(drops());
  }
  fs::path drops() const { return dir_ / "drops"; }
  fs::path snapshots() const { return dir_ / "snapshots"; }

  void drop(const std::string& name, const std::string& records) const {
    // Written under a hidden name and renamed in, as a producer must (README, "Incremental mode").
    const fs::path partial = drops() / ("." + name + ".partial");
    std::ofstream(partial, std::ios::binary) << "date,resource,service,cost\n" << records;
    fs::rename(partial, drops() / name);
  }

  std::unique_ptr<source::PluginInstance> open_custom() const {
    Result<std::shared_ptr<source::LoadedPlugin>> plugin =
        source::load_plugin(fs::path(BILLDROP_TEST_PLUGIN_DIR) / "billdrop_custom.so");
    EXPECT_TRUE(plugin.ok()) << plugin.error().message();
    if (!plugin)
      return nullptr;
    Result<std::unique_ptr<source::PluginInstance>> instance = source::PluginInstance::create(
        *plugin, {{"path", drops().string()},
                  {"incremental", true},
                  {"columns", StringMap{{"time/usage_start", "{date}"},
                                        {"cost/cost", "{cost}"},
                                        {"resource/id", "{resource}"},
                                        {"resource/service", "{service}"}}}});
    EXPECT_TRUE(instance.ok()) << instance.error().message();
    return instance ? std::move(*instance) : nullptr;
  }

  Result<ingest::IncrementalResult> merge(source::SourceSession& session,
                                          const std::string& cursor) {
    report_ = cbf::ValidationReport();
    return ingest::convert_incremental(session, cursor, snapshots(), {}, report_);
  }

  std::vector<std::string> stored_rows(const std::string& month) const {
    Result<snapshot::SnapshotReader> reader =
        snapshot::SnapshotReader::open(snapshots() / (month + ".ndjson"));
    EXPECT_TRUE(reader.ok()) << reader.error().message();
    std::vector<std::string> rows;
    std::string_view json;
    while (reader && *reader->next(json))
      rows.emplace_back(json);
    return rows;
  }

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

  cbf::ValidationReport report_;
};

TEST_F(IncrementalCustom, ThreeDropsMergeIntoTheWholeMonth) {
  std::unique_ptr<source::PluginInstance> custom = open_custom();
  ASSERT_TRUE(custom);
  ASSERT_TRUE(custom->incremental());
  EXPECT_TRUE(custom->identity_columns().empty()); // billdrop's default identity

  std::string cursor; // what the daemon stores
  drop("0001.csv", "2026-08-01T00:00:00Z,vm-1,Compute,10.00\n"
                   "2026-08-01T00:00:00Z,vm-2,Compute,5.25\n"
                   "2026-08-01T01:00:00Z,vm-1,Compute,10.00\n");
  Result<ingest::IncrementalResult> result = merge(*custom, cursor);
  ASSERT_TRUE(result.ok()) << result.error().message();
  cursor = result->cursor;
  EXPECT_EQ(cursor, "0001.csv");
  EXPECT_EQ(result->months.at(0).summary.cost, Decimal::from_string("25.25"));

  drop("0002.csv", "2026-08-02T00:00:00Z,vm-1,Compute,10.00\n");
  result = merge(*custom, cursor);
  ASSERT_TRUE(result.ok()) << result.error().message();
  cursor = result->cursor;
  EXPECT_EQ(cursor, "0002.csv");
  EXPECT_EQ(result->months.at(0).summary.cost, Decimal::from_string("35.25"));

  drop("0003.csv", "2026-08-01T00:00:00Z,vm-2,Compute,4.75\n"
                   "2026-08-01T02:00:00Z,vm-3,Compute,1.005\n");
  result = merge(*custom, cursor);
  ASSERT_TRUE(result.ok()) << result.error().message();
  cursor = result->cursor;
  EXPECT_EQ(cursor, "0003.csv");
  ASSERT_EQ(result->months.size(), 1u);
  const ingest::MergedMonth& august = result->months[0];
  EXPECT_EQ(august.replaced_rows, 1u);
  EXPECT_TRUE(august.changed);

  const std::vector<std::string> expected = {
      row("2026-08-01T00:00:00Z", "vm-1", "10.00"), row("2026-08-01T00:00:00Z", "vm-2", "4.75"),
      row("2026-08-01T01:00:00Z", "vm-1", "10.00"), row("2026-08-01T02:00:00Z", "vm-3", "1.005"),
      row("2026-08-02T00:00:00Z", "vm-1", "10.00")};
  EXPECT_EQ(stored_rows("2026-08"), expected);
  Result<std::vector<snapshot::MonthSummary>> summaries = snapshot::read_summaries(snapshots());
  ASSERT_TRUE(summaries.ok()) << summaries.error().message();
  ASSERT_EQ(summaries->size(), 1u);
  const snapshot::MonthSummary& summary = summaries->front();
  EXPECT_EQ(summary.rows, 5u);
  EXPECT_EQ(summary.cost, Decimal::from_string("35.755"));
  ASSERT_EQ(summary.hours.size(), 4u);
  EXPECT_EQ(summary.hours.at("2026-08-01T00").rows, 2u);
  EXPECT_EQ(summary.hours.at("2026-08-01T00").cost, Decimal::from_string("14.75"));
  EXPECT_EQ(summary.hours.at("2026-08-01T01").cost, Decimal::from_string("10.00"));
  EXPECT_EQ(summary.hours.at("2026-08-01T02").cost, Decimal::from_string("1.005"));
  EXPECT_EQ(summary.hours.at("2026-08-02T00").cost, Decimal::from_string("10.00"));
  EXPECT_EQ(summary.digest, testing::expected_snapshot_digest(expected));
  EXPECT_TRUE(summary.complete());

  // A malformed drop (an unterminated quote): nothing changes, and the cursor stays.
  const std::map<std::string, std::string> before = folder_bytes();
  drop("0004.csv", "2026-08-03T00:00:00Z,vm-1,Compute,10.00\n"
                   "2026-08-03T01:00:00Z,\"vm-1,Compute,10.00\n");
  result = merge(*custom, cursor);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().kind(), ErrorKind::data);
  EXPECT_NE(result.error().message().find("0004.csv"), std::string::npos)
      << result.error().message();
  EXPECT_EQ(folder_bytes(), before);

  // The producer replaces the file; the same cursor picks it up.
  fs::remove(drops() / "0004.csv");
  drop("0004.csv", "2026-08-03T00:00:00Z,vm-1,Compute,10.00\n");
  result = merge(*custom, cursor);
  ASSERT_TRUE(result.ok()) << result.error().message();
  EXPECT_EQ(result->cursor, "0004.csv");
  EXPECT_EQ(result->months.at(0).summary.rows, 6u);
  EXPECT_EQ(result->months.at(0).summary.cost, Decimal::from_string("45.755"));
}

TEST_F(IncrementalCustom, AnOldMinorPluginIsNotIncremental) {
  Result<std::shared_ptr<source::LoadedPlugin>> plugin = source::load_plugin(
      fs::path(BILLDROP_TEST_BROKEN_PLUGIN_DIR) / source::plugin_file_name("abi_1_2"));
  ASSERT_TRUE(plugin.ok()) << plugin.error().message();
  Result<std::unique_ptr<source::PluginInstance>> instance =
      source::PluginInstance::create(*plugin, {});
  ASSERT_TRUE(instance.ok()) << instance.error().message();
  EXPECT_FALSE((*instance)->incremental());
  Result<ingest::IncrementalResult> result = merge(**instance, "");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().kind(), ErrorKind::config);
  EXPECT_FALSE(fs::exists(snapshots() / "2024-08.ndjson"));
}

} // namespace
} // namespace billdrop
