// Plugin configuration problems through the real binary: every one reported together, each
// naming the plugin, the key and the file:line (docs/cli.md), exit code 3.
#include "support/cli_run.hpp"

#include <gtest/gtest.h>

#include <string>

namespace billdrop::test {
namespace {

using PluginConfigTest = TempFolderTest;

TEST_F(PluginConfigTest, TypeProblemsOfAPluginConfigFileAreReportedTogether) {
  write_text(dir_ / "custom.toml", "path = \"usage.csv\"\n" // 1
                                   "null_values = [1, 2]\n" // 2
                                   "delimiter = 1.5\n"      // 3
                                   "pth = \"typo\"\n"       // 4
                                   "[columns]\n"            // 5
                                   "a = { b = \"c\" }\n");  // 6
  const std::string file = (dir_ / "custom.toml").string();
  const CliRun run = run_billdrop({"check", "--plugin", "custom", "--plugin-config", file}, dir_);
  EXPECT_EQ(run.exit_code, 3) << run.err;
  for (const std::string& line : {"plugin 'custom': " + file + ":4: unknown config key 'pth'",
                                  "plugin 'custom': " + file +
                                      ":2: config key 'null_values' must be a list of strings, got "
                                      "a list holding an integer (item 1)",
                                  "plugin 'custom': " + file +
                                      ":3: config key 'delimiter' must be a string, got a "
                                      "floating-point number",
                                  "plugin 'custom': " + file +
                                      ":5: config key 'columns' must be a table of strings, got a "
                                      "table whose 'a' is a table"})
    EXPECT_NE(run.err.find(line), std::string::npos) << line << "\nin:\n" << run.err;
}

TEST_F(PluginConfigTest, TypeProblemsInAConnectionAreReportedTogether) {
  write_text(dir_ / "billdrop.toml", "[connections.acme]\n"         // 1
                                     "plugin = \"custom\"\n"        // 2
                                     "[connections.acme.config]\n"  // 3
                                     "path = \"usage.csv\"\n"       // 4
                                     "delimiter = 1.5\n"            // 5
                                     "null_values = [\"-\", 0]\n"); // 6
  const std::string file = (dir_ / "billdrop.toml").string();
  const CliRun run =
      run_billdrop({"convert", "--config", file, "--out", (dir_ / "out").string()}, dir_);
  EXPECT_EQ(run.exit_code, 3) << run.err;
  for (const std::string& line :
       {"plugin 'custom': " + file + ":5: config key 'delimiter' must be a string",
        "plugin 'custom': " + file +
            ":6: config key 'null_values' must be a list of strings, got "
            "a list holding an integer (item 2)",
        std::string("plugin 'custom': missing required config key 'columns'")})
    EXPECT_NE(run.err.find(line), std::string::npos) << line << "\nin:\n" << run.err;
}

} // namespace
} // namespace billdrop::test
