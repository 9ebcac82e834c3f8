#pragma once
// `billdrop test-plugin FILE.so --plugin-config FILE`: the conformance kit a plugin runs in its CI
// (what Airbyte's acceptance tests are to connectors). Each check drives the plugin through its
// real C descriptor with the SDK's harness (billdrop/testing/harness.hpp, which checks every row
// with the host's CBF rules), in a child process of its own: a plugin that crashes, hangs past
// the timeout or writes to stdout fails that check with the signal or the limit named, and the
// kit goes on to the next.
//
// The checks, in order (a check that cannot run for want of an earlier one is skipped):
//   descriptor       loads (magic, ABI, symbols); name [a-z0-9_-]+ and the file billdrop_<name>.so;
//                    a version and a description
//   config_schema    every key named [a-z0-9_]+ once, with a description; no required key with a
//                    default
//   config_errors    an unknown key, each required key left out, and each path key pointing
//                    nowhere: each is an error whose message names the key (or the path)
//   check            create and check pass with the given configuration
//   months           the months come sorted and without duplicates
//   read <month>     (each month) every row valid CBF; rows for the month asked, or, with
//                    allow_late_rows, an earlier one (late corrections); the same rows, count,
//                    exact cost total and digest when read twice
//   empty_source     each path key pointing at an empty file (or folder): no months, or an error,
//                    never a crash and never rows
//   cancellation     told to stop after its first batch, the read ends cancelled and writes no
//                    further batch
//   no_stdout        no check printed anything to stdout (the host's stdout is its JSON output)

#include <billdrop/timestamp.hpp>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace billdrop::jobs {

struct TestPluginRequest {
  std::filesystem::path plugin_file;
  std::filesystem::path plugin_config; // a TOML file: the plugin's configuration
  std::vector<Month> months;           // empty: every month the plugin lists
  std::chrono::seconds timeout{120};   // per check
  bool allow_late_rows = false;        // rows of earlier months are late corrections
};

enum class CheckOutcome { passed, failed, skipped };

struct PluginCheck {
  std::string name; // "descriptor", "read 2026-08", ...
  CheckOutcome outcome = CheckOutcome::passed;
  std::string message; // why it failed or was skipped; what was seen when it passed
  double seconds = 0;
};

struct TestPluginResult {
  std::string plugin; // the descriptor's name ("" when it did not load)
  std::filesystem::path file;
  std::vector<PluginCheck> checks;

  std::size_t count(CheckOutcome outcome) const;
  bool passed() const { return count(CheckOutcome::failed) == 0; }
};

// Runs every check. Throws JobError (config) when the plugin config file cannot be read; a plugin
// that does not load is the `descriptor` check failing, not an exception.
TestPluginResult test_plugin(const TestPluginRequest& request);

} // namespace billdrop::jobs
