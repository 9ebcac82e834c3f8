// billdrop test-plugin FILE.so --plugin-config FILE [--junit OUT.xml]: the conformance kit.
#include "cli/common.hpp"
#include "jobs/test_plugin.hpp"
#include "report/test_plugin_report.hpp"

#include <CLI/CLI.hpp>

#include <fstream>
#include <iostream>

namespace billdrop::cli {

namespace {

struct Options {
  std::string plugin_file;
  std::string plugin_config;
  std::string junit;
  std::vector<std::string> months;
  int timeout_seconds = 120;
  bool allow_late_rows = false;
  std::string format = "text";
};

int test_plugin(const Options& options, bool json) {
  jobs::TestPluginRequest request;
  request.plugin_file = options.plugin_file;
  request.plugin_config = options.plugin_config;
  request.months = parse_months(options.months);
  request.timeout = std::chrono::seconds(options.timeout_seconds);
  request.allow_late_rows = options.allow_late_rows;
  const jobs::TestPluginResult result = jobs::test_plugin(request);
  if (!options.junit.empty()) {
    std::ofstream out(options.junit, std::ios::binary);
    out << report::test_plugin_junit(result);
    if (!out.flush())
      throw CommandError(kExitConfig, "cannot write the JUnit report " + options.junit);
  }
  if (json)
    std::cout << report::test_plugin_json(result) << '\n';
  else
    std::cout << report::test_plugin_text(result);
  const bool loaded = !result.plugin.empty();
  return result.passed() ? kExitOk : loaded ? kExitData : kExitPlugin;
}

} // namespace

void add_test_plugin_command(CLI::App& app, Invocation& run) {
  auto options = std::make_shared<Options>();
  auto* command = app.add_subcommand(
      "test-plugin", "run the conformance checks on a plugin file (for a plugin's CI): "
                     "descriptor, config schema and errors, check, months, each month's rows, "
                     "an empty source, cancellation, stdout");
  command->add_option("file", options->plugin_file, "the plugin's .so file")
      ->required()
      ->check(CLI::ExistingFile);
  command
      ->add_option("--plugin-config", options->plugin_config,
                   "the plugin's configuration (TOML) that reads a small sample source")
      ->required()
      ->check(CLI::ExistingFile);
  command->add_option("--junit", options->junit, "also write the results as JUnit XML to FILE");
  command->add_option("--month", options->months,
                      "read only these months (YYYY-MM or a range A..B; default: every month "
                      "the plugin lists)");
  command
      ->add_option("--timeout-seconds", options->timeout_seconds,
                   "a check that runs longer fails (default 120)")
      ->check(CLI::PositiveNumber);
  command->add_flag("--allow-late-rows", options->allow_late_rows,
                    "rows of months before the one read are late corrections, not errors");
  add_format_option(*command, options->format);
  command->callback([&run, options] {
    run.json = options->format == "json";
    run.action = [&run, options] { return test_plugin(*options, run.json); };
  });
}

} // namespace billdrop::cli
