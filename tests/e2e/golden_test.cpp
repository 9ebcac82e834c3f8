// validate --golden DIR / --update-golden: a source's months against golden files, through the
// real binary and the misbehaving test plugin in its well-behaved mode (lines "date,amount").
#include "support/cli_run.hpp"
#include "support/temp_folder.hpp"

#include <gtest/gtest.h>

#include <string>

namespace billdrop::test {
namespace {

class GoldenTest : public TempFolderTest {
protected:
  void SetUp() override {
    TempFolderTest::SetUp();
    write_text(dir_ / "plugin.toml", "path = \"fees.txt\"\n");
  }
  CliRun validate(std::vector<std::string> extra) {
    std::vector<std::string> args{"validate",
                                  "--plugin",
                                  "misbehaving",
                                  "--plugin-config",
                                  (dir_ / "plugin.toml").string(),
                                  "--golden",
                                  (dir_ / "golden").string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_billdrop(args, dir_);
  }
};

TEST_F(GoldenTest, WritesThenMatchesThenShowsTheRowsThatChanged) {
  write_text(dir_ / "fees.txt", "2026-08-01,100.00\n2026-08-15,12.5\n2026-09-01,-0.25\n");
  CliRun run = validate({"--update-golden"});
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_NE(run.out.find("  2026-08: written\n  2026-09: written\n"), std::string::npos) << run.out;
  // The golden rows are the host's canonical CBF, one a line; the totals summed by hand:
  // August 100.00 + 12.5 = 112.50.
  const std::string august = read_text(dir_ / "golden" / "2026-08.ndjson");
  EXPECT_EQ(august, "{\"time/usage_start\":\"2026-08-01T00:00:00Z\",\"lineitem/type\":\"Fee\","
                    "\"cost/cost\":\"100.00\"}\n"
                    "{\"time/usage_start\":\"2026-08-15T00:00:00Z\",\"lineitem/type\":\"Fee\","
                    "\"cost/cost\":\"12.5\"}\n");
  const std::string summary = read_text(dir_ / "golden" / "2026-08.golden.json");
  EXPECT_NE(summary.find("\"rows\":2,"), std::string::npos) << summary;
  EXPECT_NE(summary.find("\"cost\":\"112.50\""), std::string::npos) << summary;
  EXPECT_NE(summary.find("\"file\":\"2026-08.ndjson\""), std::string::npos) << summary;

  run = validate({});
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_NE(run.out.find("2026-08: same\n  2026-09: same\nthe run matches the golden files"),
            std::string::npos)
      << run.out;

  // One amount changes, a month appears, another goes.
  write_text(dir_ / "fees.txt", "2026-08-01,100.00\n2026-08-15,12.75\n2026-10-01,3\n");
  run = validate({});
  EXPECT_EQ(run.exit_code, 1) << run.out << run.err;
  EXPECT_NE(run.out.find("  2026-08: differs\n"
                         "    cost 112.75 in the run, 112.50 in the golden file\n"
                         "    Fee cost 112.75 in the run, 112.50 in the golden file\n"),
            std::string::npos)
      << run.out;
  EXPECT_NE(run.out.find("    - {\"time/usage_start\":\"2026-08-15T00:00:00Z\",\"lineitem/"
                         "type\":\"Fee\",\"cost/cost\":\"12.5\"}\n"
                         "    + {\"time/usage_start\":\"2026-08-15T00:00:00Z\",\"lineitem/"
                         "type\":\"Fee\",\"cost/cost\":\"12.75\"}\n"),
            std::string::npos)
      << run.out;
  // The row that did not change is not listed.
  EXPECT_EQ(run.out.find("\"cost/cost\":\"100.00\""), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("  2026-09: not in the run\n"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("  2026-10: no golden file"), std::string::npos) << run.out;

  // JSON carries the same comparison.
  run = validate({"--format", "json"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.out.find("\"golden\":{\"directory\":"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("\"same\":false"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("\"rows_only_in_run\":1,\"rows_only_in_golden\":1"), std::string::npos)
      << run.out;

  // Accepting the change rewrites the golden files; September's go.
  run = validate({"--update-golden"});
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "golden" / "2026-09.golden.json"));
  EXPECT_TRUE(std::filesystem::exists(dir_ / "golden" / "2026-10.ndjson"));
  EXPECT_EQ(validate({}).exit_code, 0);
}

TEST_F(GoldenTest, UpdateGoldenNeedsGolden) {
  write_text(dir_ / "fees.txt", "2026-08-01,1\n");
  const CliRun run = run_billdrop({"validate", "--plugin", "misbehaving", "--plugin-config",
                                   (dir_ / "plugin.toml").string(), "--update-golden"},
                                  dir_);
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("--update-golden needs --golden DIR"), std::string::npos) << run.err;
}

} // namespace
} // namespace billdrop::test
