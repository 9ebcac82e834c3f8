// Exit codes follow the error's kind (docs/cli.md) whichever command meets it, and a failure
// keeps what was learnt before it: the real binary, the custom plugin and the loader-test plugins.
#include "support/cli_run.hpp"

#include <gtest/gtest.h>

#include <string>

namespace billdrop::test {
namespace {

using ExitCodesTest = TempFolderTest;

TEST_F(ExitCodesTest, TheSameBadCsvGivesTheDataCodeFromCheckConvertAndValidate) {
  // Line 3 opens a quote that never closes: the file is malformed past per-row rejects.
  write_text(dir_ / "bad.csv", "day,amount\n2026-08-01,1\n2026-08-02,\"10.5\n");
  write_text(dir_ / "bad.toml", "path = \"bad.csv\"\n[columns]\n\"time/usage_start\" = \"{day}\"\n"
                                "\"cost/cost\" = \"{amount}\"\n");
  const std::string config = (dir_ / "bad.toml").string();
  for (const char* command : {"check", "convert", "validate"}) {
    std::vector<std::string> args = {command, "--plugin", "custom", "--plugin-config", config};
    if (std::string(command) == "convert")
      args.insert(args.end(), {"--out", (dir_ / "out").string()});
    const CliRun run = run_billdrop(args, dir_);
    EXPECT_EQ(run.exit_code, 1) << command << ": " << run.err;
    EXPECT_NE(run.err.find("bad.csv:4: unterminated quoted field (opened on line 3)"),
              std::string::npos)
        << command << ": " << run.err;
  }
}

// No record can be placed in a month (dates that are not on the calendar, an hour 24), so the
// source lists no month and no read ever rejects the records: every command must still fail with
// the data code and say how many records were rejected and why, never "0 rows read" and exit 0.
TEST_F(ExitCodesTest, ASourceWhoseRecordsAllHaveNoMonthIsADataErrorInEveryCommand) {
  write_text(dir_ / "dates.csv", "day,amount\n2025-13-01,1\n2025-02-30,2\n2025-03-01 24:00,3\n");
  write_text(dir_ / "billdrop.toml",
             "state_dir = \"state\"\n[connections.d]\nplugin = \"custom\"\n"
             "[connections.d.config]\npath = \"dates.csv\"\n[connections.d.config.columns]\n"
             "\"time/usage_start\" = \"{day}\"\n\"cost/cost\" = \"{amount}\"\n");
  const std::string config = (dir_ / "billdrop.toml").string();
  for (const char* command : {"check", "convert", "validate", "run"}) {
    std::vector<std::string> args = {command, "--config", config};
    if (std::string(command) == "convert")
      args.insert(args.end(), {"--out", (dir_ / "out").string()});
    const CliRun run = run_billdrop(args, dir_);
    EXPECT_EQ(run.exit_code, 1) << command << ": " << run.out << run.err;
    EXPECT_EQ(run.out.find(": ok"), std::string::npos) << command << ": " << run.out;
    EXPECT_EQ(run.out.find("0 rows read"), std::string::npos) << command << ": " << run.out;
    // Three records, lines 2 to 4 of dates.csv, each with its reason.
    EXPECT_NE(run.err.find("3 records, all rejected"), std::string::npos)
        << command << ": " << run.err;
    EXPECT_NE(run.err.find("dates.csv:2: time/usage_start: [timestamp]"), std::string::npos)
        << command << ": " << run.err;
    EXPECT_NE(run.err.find("dates.csv:4: time/usage_start: [timestamp]"), std::string::npos)
        << command << ": " << run.err;
  }
  // Nothing reached the destination.
  EXPECT_FALSE(std::filesystem::exists(dir_ / "state" / "emulator.db"));

  // A timestamp_format that matches none of the dates is the same case.
  write_text(dir_ / "iso.csv", "day,amount\n2026-08-01 10:00,1\n2026-08-02 11:00,2\n");
  write_text(dir_ / "format.toml", "path = \"iso.csv\"\ntimestamp_format = \"%d/%m/%Y %H:%M\"\n"
                                   "[columns]\n\"time/usage_start\" = \"{day}\"\n"
                                   "\"cost/cost\" = \"{amount}\"\n");
  const CliRun wrong =
      run_billdrop({"convert", "--plugin", "custom", "--plugin-config",
                    (dir_ / "format.toml").string(), "--out", (dir_ / "out2").string()},
                   dir_);
  EXPECT_EQ(wrong.exit_code, 1) << wrong.out << wrong.err;
  EXPECT_NE(wrong.err.find("2 records, all rejected"), std::string::npos) << wrong.err;
  EXPECT_NE(wrong.err.find("2026-08-01 10:00"), std::string::npos) << wrong.err;
}

TEST_F(ExitCodesTest, APluginThatFailsToInitialiseExitsByTheKindOfItsError) {
  const CliRun config = run_billdrop({"check", "--plugin", "init_throws"}, dir_);
  EXPECT_EQ(config.exit_code, 3) << config.err;
  EXPECT_NE(config.err.find("plugin 'init_throws' failed to initialise: missing credentials: "
                            "set token"),
            std::string::npos)
      << config.err;

  write_text(dir_ / "source.toml", "note = \"source\"\n");
  const CliRun source = run_billdrop(
      {"check", "--plugin", "init_throws", "--plugin-config", (dir_ / "source.toml").string()},
      dir_);
  EXPECT_EQ(source.exit_code, 5) << source.err;
  EXPECT_NE(source.err.find("plugin 'init_throws' failed to initialise: token service "
                            "unreachable"),
            std::string::npos)
      << source.err;
}

// A limit outside what the API takes is a configuration error (3) naming the file, line and key,
// found before anything is read or sent, rather than a month that fails to send (6).
TEST_F(ExitCodesTest, ALimitTheApiWouldNotHonourIsAConfigErrorBeforeAnythingIsSent) {
  write_text(dir_ / "usage.csv", "day,amount\n2026-08-01,1\n");
  const std::string connection = "[connections.u]\nplugin = \"custom\"\n[connections.u.config]\n"
                                 "path = \"usage.csv\"\n[connections.u.config.columns]\n"
                                 "\"time/usage_start\" = \"{day}\"\n\"cost/cost\" = \"{amount}\"\n";
  struct Case {
    std::string limit;   // the [limits] line, on line 3 of the file
    std::string message; // what the error says after "billdrop.toml:3: "
  };
  for (const Case& c :
       {Case{"max_body_bytes = 6000000", "limits.max_body_bytes is 6,000,000, above the API's "
                                         "limit of 5,000,000 bytes"},
        Case{"max_body_bytes = 50", "limits.max_body_bytes is 50, too small for a request body "
                                    "with one row"},
        Case{"max_rows_per_month = 2000000", "limits.max_rows_per_month is 2,000,000, above the "
                                             "API's limit of 1,000,000 rows"},
        Case{"max_bytes_per_month = 500000000", "limits.max_bytes_per_month is 500,000,000, "
                                                "above the API's limit of 400,000,000 bytes"}}) {
    std::filesystem::remove_all(dir_ / "state");
    write_text(dir_ / "billdrop.toml",
               "state_dir = \"state\"\n[limits]\n" + c.limit + "\n" + connection);
    const CliRun run = run_billdrop({"run", "--config", (dir_ / "billdrop.toml").string()}, dir_);
    EXPECT_EQ(run.exit_code, 3) << c.limit << ": " << run.out << run.err;
    const std::string file_and_line = (dir_ / "billdrop.toml").string() + ":3: ";
    EXPECT_NE(run.err.find(file_and_line + c.message), std::string::npos)
        << c.limit << ": " << run.err;
    EXPECT_FALSE(std::filesystem::exists(dir_ / "state" / "sync.db")) << c.limit;
  }
}

TEST_F(ExitCodesTest, ValidateThroughAPluginKeepsTheOtherMonthsReport) {
  // month_fails holds 2024-07..09 with three rows each; 2024-08 fails (a data error) while its
  // first two rows still wait in the plugin's batch, so they never reach the host: 3 + 3 rows.
  const CliRun json =
      run_billdrop({"validate", "--plugin", "month_fails", "--format", "json"}, dir_);
  EXPECT_EQ(json.exit_code, 1) << json.err;
  EXPECT_EQ(json.out.rfind("{\"valid_rows\":6,\"invalid_rows\":0,", 0), 0u) << json.out;
  EXPECT_NE(json.err.find("plugin 'month_fails' failed reading 2024-08: usage-2024-08.csv.gz:4: "
                          "truncated gzip stream"),
            std::string::npos)
      << json.err;

  const CliRun text = run_billdrop({"validate", "--plugin", "month_fails"}, dir_);
  EXPECT_EQ(text.exit_code, 1);
  EXPECT_NE(text.out.find("6 rows: 6 valid, 0 invalid"), std::string::npos) << text.out;
}

TEST_F(ExitCodesTest, ConvertWarnsAboutAMonthTheSourceDoesNotHold) {
  // The embedded example holds 2026-08 to 2026-10.
  const CliRun json = run_billdrop({"convert", "--month", "2030-01", "--month", "2026-08", "--out",
                                    (dir_ / "out").string(), "--format", "json"},
                                   dir_);
  EXPECT_EQ(json.exit_code, 0) << json.err;
  const std::string warning =
      "2030-01 is not among the months the source holds (2026-08 to 2026-10): nothing was "
      "converted for it";
  EXPECT_NE(json.err.find("warning: " + warning), std::string::npos) << json.err;
  EXPECT_NE(json.out.find("\"warnings\":[\"" + warning + "\"]"), std::string::npos) << json.out;

  const CliRun listed = run_billdrop(
      {"convert", "--month", "2026-09", "--out", (dir_ / "out").string(), "--format", "json"},
      dir_);
  EXPECT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_NE(listed.out.find("\"warnings\":[]"), std::string::npos) << listed.out;
  EXPECT_EQ(listed.err.find("warning:"), std::string::npos) << listed.err;
}

} // namespace
} // namespace billdrop::test
