#pragma once
// A plugin run in a child process: the SourceSession of `isolation = "process"`.
//
// billdrop starts itself again (/proc/self/exe) as `billdrop __plugin-runner`, which loads the
// plugin, creates the instance and calls it; the rows come back in the layout the plugin gave
// them (runner_protocol.hpp), through a shared-memory ring announced on a pipe (row_ring.hpp),
// and reach the RowReceiver as a span of bd_row, as from an in-process plugin, so everything
// above a SourceSession is unchanged.
//
// What a plugin can no longer do to the host, and what it gets instead (each an error of the call
// it happened in, so a read fails its own month; the runner is started again for the next call):
//   - crash (SIGSEGV, abort(), exit()): "plugin 'x' crashed while reading 2026-08: its runner
//     process was killed by SIGSEGV (Segmentation fault)";
//   - hang: the call is given read_timeout_seconds, then the runner is killed with SIGKILL;
//   - use more memory than memory_limit_mb: the runner's address space is limited (RLIMIT_AS);
//     an allocation that fails there is reported as the limit, whether the plugin then returns
//     an error or crashes;
//   - print to stdout (which belongs to the host: JSON output, drop bodies): the runner's
//     stdout is a pipe the host watches, and any byte on it fails the call.
// The host still loads the plugin file itself, to read its descriptor and config schema (no
// instance is created and none of the plugin's functions is called in the host).

#include "source/plugin_loader.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

namespace billdrop::source {

struct ProcessOptions {
  // The billdrop binary to start as the runner; tests that are not billdrop name it.
  std::filesystem::path runner = "/proc/self/exe";
  // The longest one call (create, check, months, one read) may take; 0: no limit.
  std::chrono::seconds timeout{0};
  // The address space the plugin may add to the runner's own, in MiB; 0: no limit.
  std::uint64_t memory_limit_mb = 0;
  // The connection named in the plugin's log lines (ABI 1.4 bd_host); empty: none.
  std::string connection;
  // Where those lines go; empty: plugin_log(plugin, connection), the host's structured log.
  PluginLog log;
  // The shared-memory ring the rows come through (row_ring.hpp), in bytes: 8 MiB holds about 35
  // batches of a wide CUR, plenty for the runner to parse ahead while the host validates. Its
  // pages are allocated as the runner first writes them, and then count in the RSS of both
  // processes (the same 8 MiB of memory) until the runner ends. 0: no ring, every batch through
  // the pipe (the way before issue 15's ring; tests). A batch larger than a quarter of the ring
  // goes through the pipe whatever this is.
  std::size_t ring_bytes = std::size_t(8) << 20;
};

class ProcessSession final : public SourceSession {
public:
  // Checks `config` against the schema (as PluginInstance::create() does), starts the runner and
  // creates the instance in it: its errors are create()'s, and a runner that crashes or hangs
  // while creating is one too.
  static Result<std::unique_ptr<ProcessSession>> create(std::shared_ptr<const LoadedPlugin> plugin,
                                                        const ConfigValues& config,
                                                        ProcessOptions options = {});
  ~ProcessSession() override; // ends the runner (EOF on its requests; SIGKILL if it lingers)
  ProcessSession(const ProcessSession&) = delete;
  ProcessSession& operator=(const ProcessSession&) = delete;

  const std::string& name() const noexcept override { return plugin_->name(); }
  Status check() override;
  Result<std::vector<Month>> months() override;
  Status read(Month month, RowReceiver& receiver) override;
  bool reads_ahead() const noexcept override { return true; } // the runner parses meanwhile
  bool incremental() const noexcept override { return incremental_; }
  const std::vector<std::string>& identity_columns() const noexcept override {
    return identity_columns_;
  }
  Status read_since(std::string_view cursor, RowReceiver& receiver,
                    std::string& next_cursor) override;
  bool one_pass() const noexcept override { return one_pass_; }
  Status read_all(RowReceiver& receiver) override;

  // The runner's process id while one runs (tests), else -1.
  int runner_pid() const noexcept;
  // How the batches of rows came so far, over every runner of the session (tests): through the
  // shared-memory ring, or in the pipe.
  struct BatchCounts {
    std::uint64_t ring = 0;
    std::uint64_t pipe = 0;
  };
  BatchCounts batch_counts() const noexcept { return batch_counts_; }

  struct Runner; // the child and its pipes (process_session.cpp)

private:
  ProcessSession(std::shared_ptr<const LoadedPlugin> plugin, std::string config_json,
                 ProcessOptions options);
  // Starts the runner and creates the instance in it, unless one runs.
  Status ensure_runner();
  // Sends a request and takes what comes back until the call's result; its payload after the
  // status is left in result_.
  Status call(const std::string& request, RowReceiver* receiver, const std::string& doing);

  std::shared_ptr<const LoadedPlugin> plugin_;
  std::string config_json_;
  ProcessOptions options_;
  std::unique_ptr<Runner> runner_;
  PluginLog host_log_; // where the plugin's bd_host log lines go
  bool incremental_ = false;
  std::vector<std::string> identity_columns_;
  bool one_pass_ = false;
  std::string result_;
  BatchCounts batch_counts_;
};

// `billdrop __plugin-runner`: the child's side, on the descriptors runner_protocol.hpp lists.
// Returns the process's exit code.
int run_plugin_runner();

} // namespace billdrop::source
