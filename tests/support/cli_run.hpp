#pragma once
// Test support: runs the real billdrop binary with any arguments and captures exit code, stdout
// and stderr (next to convert_run.hpp, which parses convert's summary). Header-only.
//
//   CliRun run = run_billdrop({"validate", file.string(), "--format", "json"}, dir_);

#include "support/convert_run.hpp"

#include <string>
#include <vector>

namespace billdrop::test {

struct CliRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs billdrop with the built plugins' folder and the loader-test plugins' folder in its plugin
// path and progress off; stdout and stderr go through files in `dir`.
inline CliRun run_billdrop(const std::vector<std::string>& args, const std::filesystem::path& dir) {
  std::string command = shell_quote(BILLDROP_TEST_BILLDROP_EXE) + " --no-progress --plugin-dir " +
                        shell_quote(BILLDROP_TEST_PLUGIN_DIR) + " --plugin-dir " +
                        shell_quote(BILLDROP_TEST_BROKEN_PLUGIN_DIR);
  for (const std::string& arg : args)
    command.append(" ").append(shell_quote(arg));
  command.append(" >").append(shell_quote((dir / "stdout.txt").string()));
  command.append(" 2>").append(shell_quote((dir / "stderr.txt").string())).append(" </dev/null");
  CliRun run;
  const int status = std::system(command.c_str());
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  run.out = read_text(dir / "stdout.txt");
  run.err = read_text(dir / "stderr.txt");
  return run;
}

} // namespace billdrop::test
