#pragma once
// What every command shares: the global options, the source options, exit codes by failure kind,
// month arguments, stop signals. The commands themselves (one file each) only parse their
// options, call a job (jobs/) and print its result through report/.

#include "cli/exit_codes.hpp"
#include "core/cancel.hpp"
#include "jobs/connections.hpp"
#include "jobs/job_error.hpp"

#include <billdrop/timestamp.hpp>

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace CLI {
class App;
}

namespace billdrop::cli {

struct GlobalOptions {
  std::vector<std::string> plugin_dirs;
  std::string state_dir;
  std::string log_level = "warn";
  std::string log_format = "text";
  bool no_progress = false;

  bool progress() const; // drawn only on a terminal, never with --no-progress
};

// Set by a command's parse callback: what to run, and whether its errors print as JSON.
struct Invocation {
  GlobalOptions global;
  std::function<int()> action;
  bool json = false;
};

// --config, --connection, --plugin, --plugin-config, --isolation (and --month where the command
// takes it).
struct SourceOptions {
  std::string config_file;
  std::string connection;
  std::string plugin;
  std::string plugin_config;
  std::string isolation; // --isolation: "", "process" or "in-process"
  std::vector<std::string> months;
};
void add_source_options(CLI::App& command, SourceOptions& options);
void add_month_option(CLI::App& command, SourceOptions& options, const std::string& what);
void add_format_option(CLI::App& command, std::string& format);
jobs::SourceRequest source_request(const GlobalOptions& global, const SourceOptions& options);

// A failure with the exit code to return (docs/cli.md).
class CommandError : public std::runtime_error {
public:
  CommandError(int code, const std::string& message) : std::runtime_error(message), code_(code) {}
  int code() const noexcept { return code_; }

private:
  int code_;
};

int exit_code(jobs::FailureKind kind) noexcept;
const char* failure_name(jobs::FailureKind kind) noexcept;

// "2026-08", or a range "2026-08..2026-10"; a usage error otherwise.
std::vector<Month> parse_months(const std::vector<std::string>& texts);

std::uint64_t peak_rss_bytes();

// While it lives, SIGINT and SIGTERM request a stop through token() instead of killing the process:
// the first one prints what happens and cancels; a second one exits at once (130). Create it before
// any other thread starts, so that every thread inherits the blocked signals.
class StopSignals {
public:
  StopSignals();
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;
  const core::CancelToken& token() const noexcept { return token_; }

private:
  core::CancelToken token_;
  std::thread watcher_;
};

// The commands, each in its own file: registers its subcommand; its parse callback sets `run`.
void add_plugins_command(CLI::App& app, Invocation& run);
void add_check_command(CLI::App& app, Invocation& run);
void add_convert_command(CLI::App& app, Invocation& run);
void add_validate_command(CLI::App& app, Invocation& run);
void add_plan_command(CLI::App& app, Invocation& run);
void add_sync_commands(CLI::App& app, Invocation& run); // run, push
void add_emulator_command(CLI::App& app, Invocation& run);
void add_status_command(CLI::App& app, Invocation& run);
void add_serve_command(CLI::App& app, Invocation& run);
void add_store_command(CLI::App& app, Invocation& run); // store migrate
void add_new_plugin_command(CLI::App& app, Invocation& run);
void add_test_plugin_command(CLI::App& app, Invocation& run);

} // namespace billdrop::cli
