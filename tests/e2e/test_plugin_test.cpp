// billdrop test-plugin, the conformance kit, against a plugin that behaves and against the same
// plugin breaking one rule at a time (tests/host/broken_plugins/misbehaving_plugin.cpp): each
// breach fails its own check with the signal, limit or row named, and the other checks still run.
#include "support/cli_run.hpp"
#include "support/temp_folder.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

namespace billdrop::test {
namespace {

struct CheckSeen {
  std::string outcome;
  std::string message;
};

class TestPluginTest : public TempFolderTest {
protected:
  void SetUp() override {
    TempFolderTest::SetUp();
    // By hand: August 100.00 + 12.5 = 112.50 over 2 rows; September -0.25 over 1 row.
    write_text(dir_ / "fees.txt", "2026-08-01,100.00\n2026-08-15,12.5\n2026-09-01,-0.25\n");
  }

  std::filesystem::path plugin_file(const std::string& name = "misbehaving") const {
    return std::filesystem::path(BILLDROP_TEST_BROKEN_PLUGIN_DIR) / ("billdrop_" + name + ".so");
  }

  // Runs the kit on the misbehaving plugin in `mode`; the checks by name.
  std::map<std::string, CheckSeen> run_kit(const std::string& mode,
                                           std::vector<std::string> extra = {},
                                           const std::string& more_config = "") {
    write_text(dir_ / "plugin.toml",
               "path = \"fees.txt\"\nmode = \"" + mode + "\"\n" + more_config);
    std::vector<std::string> args{"test-plugin",     plugin_file().string(),
                                  "--plugin-config", (dir_ / "plugin.toml").string(),
                                  "--format",        "json"};
    args.insert(args.end(), extra.begin(), extra.end());
    last_ = run_billdrop(args, dir_);
    return parse(last_.out);
  }

  std::map<std::string, CheckSeen> parse(const std::string& json) {
    std::map<std::string, CheckSeen> checks;
    simdjson::dom::element root;
    if (parser_.parse(json).get(root) != simdjson::SUCCESS) {
      ADD_FAILURE() << "not JSON: " << json << "\nstderr: " << last_.err;
      return checks;
    }
    for (simdjson::dom::element check : root["checks"].get_array()) {
      const std::string name(check["name"].get_string().value());
      checks[name] = {std::string(check["outcome"].get_string().value()),
                      std::string(check["message"].get_string().value())};
    }
    return checks;
  }

  // Every check passed but those in `failing`, which failed with a message holding the text.
  void expect_only(const std::map<std::string, CheckSeen>& checks,
                   const std::map<std::string, std::string>& failing) {
    for (const auto& [name, seen] : checks) {
      const auto it = failing.find(name);
      if (it == failing.end()) {
        EXPECT_EQ(seen.outcome, "passed") << name << ": " << seen.message;
        continue;
      }
      EXPECT_EQ(seen.outcome, "failed") << name << ": " << seen.message;
      EXPECT_NE(seen.message.find(it->second), std::string::npos) << name << ": " << seen.message;
    }
    for (const auto& [name, text] : failing)
      EXPECT_EQ(checks.count(name), 1u) << "no check " << name;
    EXPECT_EQ(last_.exit_code, failing.empty() ? 0 : 1) << last_.err;
  }

  CliRun last_;
  simdjson::dom::parser parser_;
};

const std::vector<std::string> kAllChecks = {
    "descriptor",   "config_schema", "config_errors", "check",        "months",
    "read 2026-08", "read 2026-09",  "empty_source",  "cancellation", "no_stdout"};

TEST_F(TestPluginTest, AWellBehavedPluginPassesEveryCheck) {
  const auto checks = run_kit("none", {"--junit", (dir_ / "junit.xml").string()});
  std::vector<std::string> names;
  for (const auto& [name, seen] : checks)
    names.push_back(name);
  std::vector<std::string> expected = kAllChecks;
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(names, expected);
  expect_only(checks, {});
  EXPECT_EQ(checks.at("months").message, "2 month(s), 2026-08 to 2026-09");
  EXPECT_NE(checks.at("read 2026-08").message.find("2 rows, cost 112.50, digest "),
            std::string::npos)
      << checks.at("read 2026-08").message;
  EXPECT_NE(checks.at("read 2026-09").message.find("1 rows, cost -0.25, digest "),
            std::string::npos);
  // The same run as JUnit XML: one testcase per check, none failed.
  const std::string junit = read_text(dir_ / "junit.xml");
  EXPECT_NE(junit.find("<testsuite name=\"billdrop test-plugin misbehaving\" tests=\"10\" "
                       "failures=\"0\" errors=\"0\" skipped=\"0\""),
            std::string::npos)
      << junit;
  for (const std::string& name : kAllChecks)
    EXPECT_NE(junit.find("name=\"" + name + "\""), std::string::npos) << name;
}

TEST_F(TestPluginTest, ACrashFailsTheReadsWithTheSignalAndTheKitGoesOn) {
  // empty_source reads a month too: the crash is there as well.
  expect_only(run_kit("segfault_read"),
              {{"read 2026-08", "the plugin crashed: killed by SIGSEGV (Segmentation fault)"},
               {"read 2026-09", "killed by SIGSEGV"},
               {"empty_source", "killed by SIGSEGV"},
               {"cancellation", "killed by SIGSEGV"}});
  expect_only(run_kit("abort_read"), {{"read 2026-08", "killed by SIGABRT"},
                                      {"read 2026-09", "killed by SIGABRT"},
                                      {"empty_source", "killed by SIGABRT"},
                                      {"cancellation", "killed by SIGABRT"}});
}

TEST_F(TestPluginTest, AHangIsKilledAtTheTimeout) {
  expect_only(run_kit("hang_read", {"--timeout-seconds", "1", "--month", "2026-09"}),
              {{"read 2026-09", "did not finish within 1 s"},
               {"empty_source", "did not finish within 1 s"},
               {"cancellation", "did not finish within 1 s"}});
}

TEST_F(TestPluginTest, WritingToStdoutFailsNoStdoutNamingTheCheck) {
  expect_only(run_kit("stdout_read"),
              {{"no_stdout", "read 2026-08 wrote 32 byte(s): \"reading 2026-08\\nreading "
                             "2026-08\\n\"; read 2026-09 wrote 32 byte(s)"}});
}

TEST_F(TestPluginTest, ExitingInCheckFailsCheckAndSkipsWhatNeedsIt) {
  const auto checks = run_kit("exit_check");
  EXPECT_EQ(checks.at("check").outcome, "failed");
  EXPECT_NE(checks.at("check").message.find("ended the process (exit status 3)"),
            std::string::npos);
  EXPECT_EQ(checks.at("months").outcome, "skipped");
  EXPECT_EQ(checks.at("read").outcome, "skipped");
  EXPECT_EQ(last_.exit_code, 1);
}

TEST_F(TestPluginTest, MonthsOutOfOrderOrTwice) {
  expect_only(run_kit("unsorted_months", {"--month", "2026-08"}),
              {{"months", "2026-08 comes after 2026-09: months must come sorted"}});
}

TEST_F(TestPluginTest, RowsTheHostWouldRefuse) {
  expect_only(run_kit("invalid_row"),
              {{"read 2026-08", "row 0 (fees:1) is not valid CBF: lineitem/type: expected one "
                                "of"},
               {"read 2026-09", "got \"Feee\" [lineitem_type]"}});
}

TEST_F(TestPluginTest, RowsOfAnotherMonth) {
  expect_only(run_kit("other_month"),
              {{"read 2026-08", "1 row(s) outside 2026-08 (extra:1 starts in 2026-09)"},
               {"read 2026-09", "1 row(s) outside 2026-09 (extra:1 starts in 2026-10)"},
               {"empty_source", "an empty source gave 1 row(s) for 2026-08"}});
  // Late corrections go to earlier months only: a row of the next month stays an error.
  expect_only(run_kit("other_month", {"--allow-late-rows"}),
              {{"read 2026-08", "only earlier months are late corrections"},
               {"read 2026-09", "only earlier months are late corrections"},
               {"empty_source", "an empty source gave 1 row(s)"}});
}

TEST_F(TestPluginTest, AMonthThatDiffersWhenReadTwice) {
  expect_only(run_kit("nondeterministic"),
              {{"read 2026-08", "read twice, the month differs: 2 rows, cost 112.50"},
               {"read 2026-09", "read twice, the month differs: 1 rows, cost -0.25"}});
}

TEST_F(TestPluginTest, APluginThatIgnoresAStop) {
  // 2 August lines x 1500 rows = 3000 rows: batches of 1024, 1024 and 952; told to stop after
  // the first, the plugin writes the other two.
  expect_only(run_kit("ignore_cancel", {}, "repeat = 1500\n"),
              {{"cancellation", "told to stop after its first batch, the plugin wrote 2 more"}});
}

TEST_F(TestPluginTest, ACrashOnAnEmptySource) {
  expect_only(run_kit("crash_on_empty"), {{"empty_source", "killed by SIGSEGV"}});
}

TEST_F(TestPluginTest, AnErrorThatNamesNeitherKeyNorPath) {
  expect_only(run_kit("vague_errors"),
              {{"config_errors", "names neither the key nor the path: cannot open the file"}});
}

TEST_F(TestPluginTest, AFileNamedForAnotherPlugin) {
  std::filesystem::copy_file(plugin_file(), dir_ / "billdrop_fees.so");
  write_text(dir_ / "plugin.toml", "path = \"fees.txt\"\n");
  last_ = run_billdrop({"test-plugin", (dir_ / "billdrop_fees.so").string(), "--plugin-config",
                        (dir_ / "plugin.toml").string(), "--format", "json"},
                       dir_);
  expect_only(parse(last_.out),
              {{"descriptor", "the file is billdrop_fees.so but the descriptor names "
                              "'misbehaving': the host finds a plugin by its file name, so "
                              "name it billdrop_misbehaving.so"}});
}

TEST_F(TestPluginTest, AFileThatIsNotAPluginSkipsTheRest) {
  write_text(dir_ / "plugin.toml", "");
  last_ = run_billdrop({"test-plugin", plugin_file("bad_magic").string(), "--plugin-config",
                        (dir_ / "plugin.toml").string(), "--format", "json", "--junit",
                        (dir_ / "junit.xml").string()},
                       dir_);
  const auto checks = parse(last_.out);
  EXPECT_EQ(last_.exit_code, 4);
  EXPECT_EQ(checks.at("descriptor").outcome, "failed");
  EXPECT_NE(checks.at("descriptor").message.find("magic"), std::string::npos)
      << checks.at("descriptor").message;
  for (const std::string name : {"config_schema", "check", "months", "no_stdout"})
    EXPECT_EQ(checks.at(name).outcome, "skipped") << name;
  const std::string junit = read_text(dir_ / "junit.xml");
  EXPECT_NE(junit.find("failures=\"1\""), std::string::npos) << junit;
  EXPECT_NE(junit.find("<skipped message=\"the plugin did not load\"/>"), std::string::npos);
}

// The bundled custom plugin, with the example connection's configuration (its
// [connections.acme-gpu.config] tables as a plugin config file), passes the kit.
TEST_F(TestPluginTest, TheBundledCustomPluginPasses) {
  const std::filesystem::path example = std::filesystem::path(BILLDROP_TEST_SOURCE_DIR) /
                                        "plugins" / "custom" / "examples" / "acme-gpu";
  std::string toml = read_text(example / "billdrop.toml");
  const std::string table = "[connections.acme-gpu.config]";
  toml = toml.substr(toml.find(table) + table.size());
  for (std::size_t at; (at = toml.find("[connections.acme-gpu.config.")) != std::string::npos;)
    toml.replace(at, std::string("[connections.acme-gpu.config.").size(), "[");
  toml.replace(toml.find("\"acme_usage.csv\""), std::string("\"acme_usage.csv\"").size(),
               "\"" + (example / "acme_usage.csv").string() + "\"");
  write_text(dir_ / "custom.toml", toml);
  last_ = run_billdrop(
      {"test-plugin",
       (std::filesystem::path(BILLDROP_TEST_PLUGIN_DIR) / "billdrop_custom.so").string(),
       "--plugin-config", (dir_ / "custom.toml").string(), "--format", "json"},
      dir_);
  const auto checks = parse(last_.out);
  for (const auto& [name, seen] : checks)
    EXPECT_EQ(seen.outcome, "passed") << name << ": " << seen.message;
  // The custom plugin reads in one pass (ABI 1.4): read_all gives the rows of the three reads.
  ASSERT_EQ(checks.count("one_pass"), 1u);
  EXPECT_NE(checks.at("one_pass").message.find(", the same rows (digest "), std::string::npos)
      << checks.at("one_pass").message;
  // acme_usage.csv holds 2026-08..2026-10: one read check each.
  EXPECT_EQ(checks.count("read 2026-08") + checks.count("read 2026-09") +
                checks.count("read 2026-10"),
            3u);
  EXPECT_EQ(last_.exit_code, 0) << last_.err;
}

} // namespace
} // namespace billdrop::test
