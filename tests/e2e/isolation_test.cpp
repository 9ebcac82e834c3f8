// Plugin isolation (isolation = "process") through the real billdrop binary: one config, several
// connections, each faulty plugin (tests/host/broken_plugins/faulty_plugin.cpp) misbehaving in
// 2026-08 only. Each fails its own month with a message naming the plugin and the signal or
// limit; its other months and the other connections convert, and the JSON summary on stdout
// stays one document although a plugin printed. A real plugin gives byte-identical snapshots
// (and the same exact totals) in-process and in a runner.
#include "support/cli_run.hpp"
#include "support/process.hpp"
#include "support/sqlite_query.hpp"
#include "support/temp_folder.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <signal.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace billdrop {
namespace {

namespace fs = std::filesystem;

using IsolationTest = test::TempFolderTest;

struct MonthResult {
  std::uint64_t rows = 0;
  std::string cost;
  std::string error;
};
using ConnectionMonths = std::map<std::string, std::map<std::string, MonthResult>>;

// convert's JSON summary: connection -> month -> rows, cost, error. Fails the test when stdout is
// not one JSON document.
ConnectionMonths parse_summary(const std::string& out) {
  ConnectionMonths result;
  simdjson::dom::parser parser;
  simdjson::dom::element document;
  EXPECT_EQ(parser.parse(out).get(document), simdjson::SUCCESS) << "stdout is not JSON: " << out;
  simdjson::dom::array connections;
  if (document["connections"].get_array().get(connections) != simdjson::SUCCESS)
    return result;
  for (simdjson::dom::element connection : connections) {
    std::string_view name;
    EXPECT_EQ(connection["connection"].get_string().get(name), simdjson::SUCCESS);
    simdjson::dom::array months;
    if (connection["months"].get_array().get(months) != simdjson::SUCCESS)
      continue;
    for (simdjson::dom::element month : months) {
      MonthResult m;
      std::string_view text, cost;
      EXPECT_EQ(month["month"].get_string().get(text), simdjson::SUCCESS);
      EXPECT_EQ(month["rows"].get_uint64().get(m.rows), simdjson::SUCCESS);
      EXPECT_EQ(month["cost"].get_string().get(cost), simdjson::SUCCESS);
      m.cost = std::string(cost);
      std::string_view error;
      if (month["error"].get_string().get(error) == simdjson::SUCCESS)
        m.error = std::string(error);
      result[std::string(name)][std::string(text)] = m;
    }
  }
  return result;
}

std::string faulty_connection(const std::string& name, const std::string& plugin,
                              const std::string& extra = "") {
  return "[connections." + name + "]\nplugin = \"" + plugin + "\"\nisolation = \"process\"\n" +
         extra + "[connections." + name + ".config]\nrows = 4\n";
}

TEST_F(IsolationTest, EachFaultFailsOnlyItsOwnMonthAndTheOtherConnectionsConvert) {
  const std::string toml =
      "state_dir = \"state\"\n"
      "[connections.good]\nplugin = \"good\"\nisolation = \"process\"\n"
      "[connections.good.config]\naccount = \"acme\"\nrows = 3\nmonths = [\"2024-08\"]\n" +
      faulty_connection("segv", "fault_segfault") + faulty_connection("aborts", "fault_abort") +
      faulty_connection("hangs", "fault_hang", "read_timeout_seconds = 2\n") +
      faulty_connection("hog", "fault_hog", "memory_limit_mb = 256\n") +
      faulty_connection("prints", "fault_stdout") +
      // in-process, a well-behaved month of a faulty plugin is fine too
      "[connections.inproc]\nplugin = \"fault_segfault\"\nisolation = \"in-process\"\n"
      "[connections.inproc.config]\nrows = 2\nfault_month = \"2030-01\"\n";
  test::write_text(dir_ / "billdrop.toml", toml);
  const auto start = std::chrono::steady_clock::now();
  const test::CliRun run =
      test::run_billdrop({"convert", "--config", (dir_ / "billdrop.toml").string(), "--out",
                          (dir_ / "out").string(), "--format", "json"},
                         dir_);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(seconds, 60.0);
  EXPECT_NE(run.exit_code, 0) << run.err;
  const ConnectionMonths months = parse_summary(run.out);
  ASSERT_EQ(months.size(), 7u) << run.out << run.err;

  // good: 3 rows of 1.25, 2.50, 3.75 = 7.50 (by hand).
  EXPECT_EQ(months.at("good").at("2024-08").rows, 3u);
  EXPECT_EQ(months.at("good").at("2024-08").cost, "7.50");
  EXPECT_EQ(months.at("good").at("2024-08").error, "");
  // inproc: rows 1 + 2 = 3 in each month, no fault.
  for (const char* month : {"2026-07", "2026-08", "2026-09"}) {
    EXPECT_EQ(months.at("inproc").at(month).rows, 2u);
    EXPECT_EQ(months.at("inproc").at(month).cost, "3");
  }
  const std::map<std::string, std::string> expected_errors = {
      {"segv", "plugin 'fault_segfault' crashed while reading 2026-08: its runner process was "
               "killed by SIGSEGV (" +
                   std::string(strsignal(SIGSEGV)) + ")"},
      {"aborts", "plugin 'fault_abort' crashed while reading 2026-08: its runner process was "
                 "killed by SIGABRT (" +
                     std::string(strsignal(SIGABRT)) + ")"},
      {"hangs", "plugin 'fault_hang' did not finish reading 2026-08 within "
                "read_timeout_seconds = 2: its runner process was killed (SIGKILL)"},
      {"hog", "plugin 'fault_hog' exceeded its memory limit (memory_limit_mb = 256) while "
              "reading 2026-08"},
      {"prints", "plugin 'fault_stdout' wrote to stdout while reading 2026-08 (\"hello from a "
                 "plugin that prints\\n\")"},
  };
  for (const auto& [connection, error] : expected_errors) {
    SCOPED_TRACE(connection);
    const auto& got = months.at(connection);
    // 1 + 2 + 3 + 4 = 10 in the months around the fault, read by a fresh runner after it.
    EXPECT_EQ(got.at("2026-07").rows, 4u);
    EXPECT_EQ(got.at("2026-07").cost, "10");
    EXPECT_EQ(got.at("2026-07").error, "");
    EXPECT_EQ(got.at("2026-09").rows, 4u);
    EXPECT_EQ(got.at("2026-09").cost, "10");
    EXPECT_EQ(got.at("2026-09").error, "");
    // The failed month keeps none of its rows, and says why.
    EXPECT_EQ(got.at("2026-08").rows, 0u);
    EXPECT_NE(got.at("2026-08").error.find(error), std::string::npos) << got.at("2026-08").error;
  }
  // The printing plugin's line is not on billdrop's stdout (which parsed as one JSON document
  // above): only quoted, in the month's error.
  EXPECT_EQ(run.out.find("hello from a plugin that prints\n"), std::string::npos);
  // Nothing of the faulty months was written as a month read whole.
  EXPECT_FALSE(fs::exists(dir_ / "out" / "segv" / "2026-08.cbf"));
}

TEST_F(IsolationTest, TheIsolationOptionOverridesTheConfigAndRefusesOtherValues) {
  // --isolation process on a plugin run without any config: the segfault fails its month only.
  const test::CliRun run =
      test::run_billdrop({"convert", "--plugin", "fault_segfault", "--isolation", "process",
                          "--out", (dir_ / "out").string(), "--format", "json"},
                         dir_);
  EXPECT_NE(run.exit_code, 0);
  const ConnectionMonths months = parse_summary(run.out);
  ASSERT_EQ(months.size(), 1u) << run.out << run.err;
  const auto& got = months.begin()->second;
  EXPECT_EQ(got.at("2026-07").rows, 4u);
  EXPECT_EQ(got.at("2026-09").rows, 4u);
  EXPECT_NE(got.at("2026-08").error.find("SIGSEGV"), std::string::npos);

  const test::CliRun wrong =
      test::run_billdrop({"convert", "--plugin", "good", "--isolation", "container"}, dir_);
  EXPECT_EQ(wrong.exit_code, 2) << wrong.err;
  EXPECT_NE(wrong.err.find("--isolation"), std::string::npos) << wrong.err;

  test::write_text(dir_ / "bad.toml", "[connections.a]\nplugin = \"good\"\nisolation = \"vm\"\n"
                                      "[connections.a.config]\naccount = \"x\"\n");
  const test::CliRun bad =
      test::run_billdrop({"check", "--config", (dir_ / "bad.toml").string()}, dir_);
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("bad.toml:3"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("connections.a.isolation must be \"process\" or \"in-process\", not 'vm'"),
            std::string::npos)
      << bad.err;
}

TEST_F(IsolationTest, ARenamedPluginFileIsRefusedNamingBothPlugins) {
  // billdrop_unloadable.so holds plugin 'good'.
  const test::CliRun run = test::run_billdrop({"check", "--plugin", "unloadable"}, dir_);
  EXPECT_NE(run.exit_code, 0);
  EXPECT_NE(run.err.find("holds plugin 'good', but plugin 'unloadable' was asked for"),
            std::string::npos)
      << run.err;
}

TEST_F(IsolationTest, TheDaemonSyncsTheOtherConnectionsWhilePluginsCrashAndHang) {
  // No `isolation` key: process is serve's default. Every month is in the backfill window
  // (2026-07..2026-09, 13 months back from now at the latest).
  const std::string toml =
      "state_dir = \"state\"\n[server]\nlisten = \"127.0.0.1:0\"\n"
      "[connections.crashy]\nplugin = \"fault_segfault\"\nbackfill_months = 120\n"
      "[connections.hangs]\nplugin = \"fault_hang\"\nbackfill_months = 120\n"
      "read_timeout_seconds = 2\n"
      "[connections.steady]\nplugin = \"fault_abort\"\nbackfill_months = 120\n"
      "[connections.steady.config]\nfault_month = \"2030-01\"\n";
  test::write_text(dir_ / "billdrop.toml", toml);
  const pid_t pid =
      test::spawn_billdrop({"--plugin-dir", BILLDROP_TEST_BROKEN_PLUGIN_DIR, "--log-level", "info",
                            "serve", "--config", (dir_ / "billdrop.toml").string()},
                           dir_, "serve");
  const auto synced = [&](const std::string& connection) {
    return test::query_text(dir_ / "state" / "sync.db",
                            "SELECT group_concat(month || '=' || cost, ' ') FROM (SELECT month, "
                            "cost FROM month_sync WHERE connection_id='" +
                                connection + "' AND state='synced' ORDER BY month)");
  };
  // 1 + 2 + 3 + 4 = 10 each month, by hand.
  const bool all_synced = test::eventually(
      [&] {
        return synced("steady") == "2026-07=10 2026-08=10 2026-09=10" &&
               synced("crashy") == "2026-07=10 2026-09=10" &&
               synced("hangs") == "2026-07=10 2026-09=10";
      },
      std::chrono::milliseconds(90'000));
  EXPECT_TRUE(all_synced) << "steady: " << synced("steady") << "; crashy: " << synced("crashy")
                          << "; hangs: " << synced("hangs") << "\n"
                          << test::read_text(dir_ / "serve.err");
  EXPECT_EQ(::kill(pid, 0), 0) << "the daemon is still running";
  const std::string log = test::read_text(dir_ / "serve.err");
  EXPECT_NE(log.find("plugin 'fault_segfault' crashed while reading 2026-08: its runner process "
                     "was killed by SIGSEGV"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("plugin 'fault_hang' did not finish reading 2026-08 within "
                     "read_timeout_seconds = 2"),
            std::string::npos)
      << log;
  ::kill(pid, SIGTERM);
  EXPECT_EQ(test::wait_exit(pid, std::chrono::milliseconds(15'000)), 0);
}

// Every file under `dir`, relative path -> bytes, with `dir` itself (which summaries name)
// written as "<out>".
std::map<std::string, std::string> files_under(const fs::path& dir) {
  std::map<std::string, std::string> files;
  const std::string name = dir.string();
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file())
      continue;
    std::string bytes = test::read_text(entry.path());
    for (std::size_t at = bytes.find(name); at != std::string::npos; at = bytes.find(name, at))
      bytes.replace(at, name.size(), "<out>");
    files[fs::relative(entry.path(), dir).string()] = std::move(bytes);
  }
  return files;
}

// Converts with `source_args` in-process and in a runner: the snapshot folders must be equal
// byte for byte, and the summaries give the same rows and exact costs (the runner's months in
// `process_months`, when given).
void expect_same_snapshots(const fs::path& dir, const std::vector<std::string>& source_args,
                           std::map<std::string, MonthResult>* process_months = nullptr) {
  std::map<std::string, std::map<std::string, std::string>> outputs;
  std::map<std::string, ConnectionMonths> summaries;
  for (const std::string isolation : {"in-process", "process"}) {
    const fs::path out = dir / ("out-" + isolation);
    std::vector<std::string> args = {"convert"};
    args.insert(args.end(), source_args.begin(), source_args.end());
    args.insert(args.end(), {"--isolation", isolation, "--out", out.string(), "--format", "json"});
    const test::CliRun run = test::run_billdrop(args, dir);
    EXPECT_EQ(run.exit_code, 0) << isolation << ": " << run.err;
    outputs[isolation] = files_under(out);
    summaries[isolation] = parse_summary(run.out);
  }
  ASSERT_FALSE(outputs["process"].empty());
  EXPECT_EQ(outputs["process"].size(), outputs["in-process"].size());
  for (const auto& [file, bytes] : outputs["in-process"]) {
    auto it = outputs["process"].find(file);
    ASSERT_NE(it, outputs["process"].end()) << file;
    EXPECT_TRUE(it->second == bytes) << file << " differs between in-process and process";
  }
  ASSERT_EQ(summaries["process"].size(), 1u);
  const auto& in_process = summaries["in-process"].begin()->second;
  const auto& process = summaries["process"].begin()->second;
  ASSERT_FALSE(process.empty());
  std::uint64_t rows = 0;
  for (const auto& [month, result] : in_process) {
    EXPECT_EQ(process.at(month).rows, result.rows) << month;
    EXPECT_EQ(process.at(month).cost, result.cost) << month; // exact decimal text
    rows += result.rows;
  }
  EXPECT_GT(rows, 0u);
  if (process_months != nullptr)
    *process_months = process;
}

TEST_F(IsolationTest, TheAwsPluginGivesByteIdenticalSnapshotsInProcessAndInARunner) {
  const fs::path fixtures =
      fs::path(BILLDROP_TEST_SOURCE_DIR) / "tests" / "plugins" / "aws" / "fixtures" / "legacy";
  test::write_text(dir_ / "aws.toml", "path = " + test::toml_string(fixtures.string()) + "\n");
  expect_same_snapshots(dir_, {"--plugin", "aws", "--plugin-config", (dir_ / "aws.toml").string()});
}

TEST_F(IsolationTest, ManyBatchesThroughTheRingGiveByteIdenticalSnapshotsAndExactTotals) {
  // tests/host/broken_plugins/batches_plugin.cpp: 20,000 rows in each of 2024-07 and 2024-08, in
  // the SDK's batches of 1,024 (20 batches through the runner's shared-memory ring), a column
  // first met in row 10,000. Row i costs i + (i % 100) / 100: a month costs
  // 20,000 * 20,001 / 2 + 200 * 4,950 / 100 = 200,010,000 + 9,900.
  test::write_text(dir_ / "batches.toml", "rows = 20000\nlate_tag_row = 10000\npad = 40\n");
  std::map<std::string, MonthResult> months;
  expect_same_snapshots(
      dir_, {"--plugin", "batches", "--plugin-config", (dir_ / "batches.toml").string()}, &months);
  ASSERT_EQ(months.size(), 2u);
  for (const char* month : {"2024-07", "2024-08"}) {
    EXPECT_EQ(months.at(month).rows, 20'000u) << month;
    EXPECT_EQ(months.at(month).cost, "200019900.00") << month;
  }
}

TEST_F(IsolationTest, TheBundledExampleGivesByteIdenticalSnapshotsInProcessAndInARunner) {
  // plugins/custom/examples/acme-gpu: 2026-08..2026-10 with credits, tax and corrections.
  const fs::path example = fs::path(BILLDROP_TEST_SOURCE_DIR) / "plugins" / "custom" / "examples" /
                           "acme-gpu" / "billdrop.toml";
  expect_same_snapshots(dir_, {"--config", example.string()});
}

} // namespace
} // namespace billdrop
