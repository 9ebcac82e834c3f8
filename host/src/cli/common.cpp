#include "cli/common.hpp"

#include "core/progress.hpp"

#include <CLI/CLI.hpp>

#include <csignal>
#include <iostream>
#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

namespace billdrop::cli {

bool GlobalOptions::progress() const {
  return !no_progress && core::Progress::enabled_by_default();
}

void add_source_options(CLI::App& command, SourceOptions& options) {
  command.add_option("--config", options.config_file,
                     "billdrop TOML config file (default: the embedded example configuration)");
  command.add_option("--connection", options.connection,
                     "connection name in the config file (default: every connection)");
  command.add_option("--plugin", options.plugin,
                     "plugin name or .so path (instead of a connection)");
  command.add_option("--plugin-config", options.plugin_config,
                     "TOML file with the plugin's configuration (with --plugin)");
  command
      .add_option("--isolation", options.isolation,
                  "where plugins run: process (a child process per plugin; a crash, hang or "
                  "stdout write fails only its month) or in-process (default: the connection's "
                  "`isolation`, else process under serve and in-process elsewhere)")
      ->check(CLI::IsMember({"process", "in-process"}));
}

void add_month_option(CLI::App& command, SourceOptions& options, const std::string& what) {
  command.add_option("--month", options.months, what);
}

void add_format_option(CLI::App& command, std::string& format) {
  command.add_option("--format", format, "text or json")->check(CLI::IsMember({"text", "json"}));
}

jobs::SourceRequest source_request(const GlobalOptions& global, const SourceOptions& options) {
  jobs::SourceRequest request;
  request.config_file = options.config_file;
  request.connection = options.connection;
  request.plugin = options.plugin;
  request.plugin_config = options.plugin_config;
  if (options.isolation == "process")
    request.isolation = config::IsolationMode::process;
  else if (options.isolation == "in-process")
    request.isolation = config::IsolationMode::in_process;
  request.state_dir = global.state_dir;
  request.plugin_dirs.assign(global.plugin_dirs.begin(), global.plugin_dirs.end());
  return request;
}

int exit_code(jobs::FailureKind kind) noexcept {
  switch (kind) {
  case jobs::FailureKind::usage:
    return kExitUsage;
  case jobs::FailureKind::config:
    return kExitConfig;
  case jobs::FailureKind::plugin:
    return kExitPlugin;
  case jobs::FailureKind::source:
    return kExitSource;
  case jobs::FailureKind::data:
    return kExitData;
  case jobs::FailureKind::delivery:
    return kExitDelivery;
  case jobs::FailureKind::busy:
    return kExitBusy;
  case jobs::FailureKind::interrupted:
    return kExitInterrupted;
  case jobs::FailureKind::internal:
    return kExitInternal;
  }
  return kExitInternal;
}

const char* failure_name(jobs::FailureKind kind) noexcept {
  switch (kind) {
  case jobs::FailureKind::usage:
    return "usage";
  case jobs::FailureKind::config:
    return "config";
  case jobs::FailureKind::plugin:
    return "plugin";
  case jobs::FailureKind::source:
    return "source";
  case jobs::FailureKind::data:
    return "data";
  case jobs::FailureKind::delivery:
    return "delivery";
  case jobs::FailureKind::busy:
    return "busy";
  case jobs::FailureKind::interrupted:
    return "interrupted";
  case jobs::FailureKind::internal:
    return "internal";
  }
  return "internal";
}

std::vector<Month> parse_months(const std::vector<std::string>& texts) {
  std::vector<Month> months;
  for (const std::string& text : texts) {
    // "2026-08..2026-10" is a range.
    const std::size_t dots = text.find("..");
    if (dots != std::string::npos) {
      const Month first = jobs::take(Month::parse(text.substr(0, dots)), jobs::FailureKind::usage);
      const Month last = jobs::take(Month::parse(text.substr(dots + 2)), jobs::FailureKind::usage);
      if (last < first)
        throw CommandError(kExitUsage, "month range " + text + " ends before it starts");
      for (Month m = first; m <= last; m = m.next())
        months.push_back(m);
    } else {
      months.push_back(jobs::take(Month::parse(text), jobs::FailureKind::usage));
    }
  }
  return months;
}

// The process's peak resident set so far (Linux reports ru_maxrss in KiB).
std::uint64_t peak_rss_bytes() {
  rusage usage{};
  if (::getrusage(RUSAGE_SELF, &usage) != 0)
    return 0;
  return static_cast<std::uint64_t>(usage.ru_maxrss) * 1024;
}

namespace {

sigset_t stop_signal_set() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGUSR2); // only to wake the watcher when the command ends
  return signals;
}

} // namespace

StopSignals::StopSignals() {
  const sigset_t signals = stop_signal_set();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  watcher_ = std::thread([this, signals] {
    int received = 0;
    for (int stops = 0;;) {
      if (sigwait(&signals, &received) != 0 || received == SIGUSR2)
        return;
      if (++stops == 1) {
        std::cerr << "\nbilldrop: " << (received == SIGINT ? "interrupted" : "terminated")
                  << ": stopping after the request in flight; the month stays resumable "
                     "(send the signal again to exit at once)"
                  << std::endl;
        token_.cancel();
      } else {
        std::_Exit(kExitInterrupted);
      }
    }
  });
}

StopSignals::~StopSignals() {
  pthread_kill(watcher_.native_handle(), SIGUSR2);
  watcher_.join();
}

} // namespace billdrop::cli
