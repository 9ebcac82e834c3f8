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
