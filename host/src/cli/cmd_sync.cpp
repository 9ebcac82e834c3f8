// billdrop run (convert, plan, send) and billdrop push (send converted snapshots): each
// connection's months to its destination, every connection at once.
#include "cli/common.hpp"
#include "core/log.hpp"
#include "core/progress.hpp"
#include "jobs/sync.hpp"
#include "report/sync_report.hpp"

#include <CLI/CLI.hpp>

#include <iostream>
#include <mutex>

namespace billdrop::cli {

namespace {

struct SendFlags {
  std::string format = "text";
  bool allow_rollup = false;
  bool send_invalid = false;
  bool allow_empty_month = false;
  std::int64_t give_up_seconds = 0; // 0: the config's sending.give_up_seconds
  std::int64_t wait_seconds = 0;    // for a connection another process is syncing
};

void add_send_flags(CLI::App& command, SendFlags& flags) {
  add_format_option(command, flags.format);
  command.add_flag("--allow-rollup", flags.allow_rollup, "roll rows up when a month is over a cap");
  command.add_flag("--send-invalid", flags.send_invalid,
                   "send months that had invalid rows (only their valid rows)");
  command.add_flag("--allow-empty-month", flags.allow_empty_month,
                   "send a month without rows: it replaces the month at the destination with "
                   "nothing (otherwise such a month is refused)");
  command
      .add_option("--give-up-seconds", flags.give_up_seconds,
                  "stop retrying a chunk this long after its first attempt (default: "
                  "sending.give_up_seconds of the config, else 900)")
      ->check(CLI::PositiveNumber);
  command
      .add_option("--wait-seconds", flags.wait_seconds,
                  "wait this long for a connection another billdrop process is syncing, or whose "
                  "lease a host of a shared store holds (default: refuse at once, exit 75)")
      ->check(CLI::NonNegativeNumber);
}

int finish(const jobs::SyncRun& run, const SendFlags& flags, bool json) {
  if (json)
    std::cout << report::sync_json(run) << '\n';
  else
    report::print_sync_text(std::cout, std::cerr, run);
  if (run.cancelled)
    return kExitInterrupted;
  int code = kExitOk;
  for (const jobs::ConnectionSync& sync : run.connections)
    for (const jobs::MonthDelivery& month : sync.deliveries)
      if (code == kExitOk && !month.synced)
        code = kExitDelivery;
  for (const jobs::ConnectionSync& sync : run.connections)
    if (code == kExitOk && sync.before_send)
      code = exit_code(*sync.before_send);
  (void)flags;
  return code;
}

jobs::SendSettings send_settings(const SendFlags& flags, const StopSignals& stop,
                                 core::Progress& progress) {
  jobs::SendSettings settings;
  settings.allow_rollup = flags.allow_rollup;
  settings.send_invalid = flags.send_invalid;
  settings.give_up_seconds = flags.give_up_seconds;
  settings.cancel = &stop.token();
  // Called from the scheduler's threads, several connections at once.
  settings.on_attempt = [&progress,
                         mutex = std::make_shared<std::mutex>()](const send::Attempt& a) {
    const std::lock_guard lock(*mutex);
    log::info("send.attempt", {{"connection", a.connection_id},
                               {"month", a.month.to_string()},
                               {"chunk", a.chunk_index},
                               {"attempt", a.attempt},
                               {"outcome", send::to_string(a.outcome)},
                               {"status", a.http_status}});
    progress.set_label("sending " + a.month.to_string() + " chunk " +
                       std::to_string(a.chunk_index + 1));
    progress.update(0, 0, a.attempt);
  };
  return settings;
}

// One sync of a connection at a time across processes: every connection's lock, for the whole
// command (its convert writes the snapshots its send reads).
std::vector<core::FileLock> lock_all(const std::vector<jobs::ResolvedSource>& sources,
                                     const SendFlags& flags) {
  std::vector<core::FileLock> locks;
  for (const jobs::ResolvedSource& source : sources)
    locks.push_back(jobs::lock_connection(source, std::chrono::seconds(flags.wait_seconds)));
  return locks;
}

std::unique_ptr<jobs::RunStore> open_shared_store(const std::vector<jobs::ResolvedSource>& sources,
                                                  const SendFlags& flags) {
  if (sources.empty() || sources.front().store.kind != config::StoreKind::postgres)
    return nullptr;
  return jobs::RunStore::open(sources, std::chrono::seconds(flags.wait_seconds));
}

int run_command(const GlobalOptions& global, const SourceOptions& options, const SendFlags& flags,
                bool json) {
  const std::vector<jobs::ResolvedSource> sources =
      jobs::resolve_sources(source_request(global, options), "run");
  StopSignals stop;
  const std::vector<core::FileLock> locks = lock_all(sources, flags);
  // A shared store: the connections' leases first (refused while a host holds one), before
  // anything is converted. The SQLite store is opened when the sends start.
  const std::unique_ptr<jobs::RunStore> store = open_shared_store(sources, flags);
  const std::vector<Month> months = parse_months(options.months);
  jobs::SyncRun run;
  run.store = store ? store->get() : nullptr;
  for (const jobs::ResolvedSource& source : sources) {
    jobs::ConvertRequest request;
    request.months = months;
    request.progress = global.progress();
    request.cancel = &stop.token();
    const jobs::ConvertOutcome converted = jobs::convert_source(source, request);
    const bool noisy = converted.report.errors() > 0 ||
                       converted.result.first_failure() != nullptr ||
                       !converted.result.notes.empty() || !converted.warnings.empty();
    if (sources.size() > 1 && noisy)
      std::cerr << source.describe() << ":\n";
    for (const std::string& warning : converted.warnings)
      std::cerr << "warning: " << warning << '\n';
    if (converted.report.errors() > 0) {
      std::cerr << "row problems (" << converted.report.errors() << " errors):\n";
      report::print_problems(std::cerr, converted.report, 20);
    }
    report::print_failures_and_notes(std::cerr, converted.result);
    jobs::ConnectionSync sync{source};
    sync.months = jobs::months_from_convert(converted.result, flags.allow_empty_month);
    sync.before_send = converted.failure;
    sync.rows_read = converted.result.rows_read;
    run.connections.push_back(std::move(sync));
  }
  core::Progress progress("sending");
  progress.set_enabled(global.progress());
  jobs::send_connections(run, send_settings(flags, stop, progress));
  progress.finish();
  return finish(run, flags, json);
}

int push_command(const GlobalOptions& global, const SourceOptions& options, const std::string& from,
                 const SendFlags& flags, bool json) {
  const std::vector<jobs::ResolvedSource> sources =
      from.empty() ? jobs::resolve_sources(source_request(global, options), "push")
                   : std::vector<jobs::ResolvedSource>{
                         jobs::resolve_source(source_request(global, options))};
  StopSignals stop;
  const std::vector<core::FileLock> locks = lock_all(sources, flags);
  // A shared store: the connections' leases first (refused while a host holds one), before
  // anything is converted. The SQLite store is opened when the sends start.
  const std::unique_ptr<jobs::RunStore> store = open_shared_store(sources, flags);
  const std::vector<Month> months = parse_months(options.months);
  jobs::SyncRun run;
  run.store = store ? store->get() : nullptr;
  for (const jobs::ResolvedSource& source : sources) {
    jobs::ConnectionSync sync{source};
    sync.from = from.empty() ? source.snapshots_dir() : std::filesystem::path(from);
    if (std::filesystem::is_directory(sync.from))
      sync.months = jobs::months_from_snapshots(sync.from, months, flags.allow_empty_month);
    if (sync.months.empty())
      throw CommandError(
          kExitUsage, source.describe() + ": no month snapshots (*.summary.json) in " +
                          sync.from.string() + ": run `billdrop convert" +
                          (source.connection.empty() ? "" : " --connection " + source.connection) +
                          " --out " + sync.from.string() + "` (or `billdrop run`) first");
    run.connections.push_back(std::move(sync));
  }
  core::Progress progress("sending");
  progress.set_enabled(global.progress());
  jobs::send_connections(run, send_settings(flags, stop, progress));
  progress.finish();
  return finish(run, flags, json);
}

} // namespace

void add_sync_commands(CLI::App& app, Invocation& run) {
  struct Options {
    SourceOptions source;
    SendFlags flags;
    std::string from;
  };
  auto run_options = std::make_shared<Options>();
  auto* run_cmd = app.add_subcommand(
      "run", "convert, plan and send each connection's months to its destination (default: the "
             "embedded example into the embedded emulator)");
  add_source_options(*run_cmd, run_options->source);
  add_month_option(*run_cmd, run_options->source, "YYYY-MM or YYYY-MM..YYYY-MM (repeatable)");
  add_send_flags(*run_cmd, run_options->flags);
  run_cmd->callback([&run, run_options] {
    run.json = run_options->flags.format == "json";
    run.action = [&run, run_options] {
      return run_command(run.global, run_options->source, run_options->flags, run.json);
    };
  });

  auto push_options = std::make_shared<Options>();
  auto* push_cmd =
      app.add_subcommand("push", "send converted month snapshots to each connection's destination");
  add_source_options(*push_cmd, push_options->source);
  push_cmd->add_option("--from", push_options->from,
                       "directory written by convert (default: <state_dir>/snapshots/<id>)");
  add_month_option(*push_cmd, push_options->source, "only these months");
  add_send_flags(*push_cmd, push_options->flags);
  push_cmd->callback([&run, push_options] {
    run.json = push_options->flags.format == "json";
    run.action = [&run, push_options] {
      return push_command(run.global, push_options->source, push_options->from, push_options->flags,
                          run.json);
    };
  });
}

} // namespace billdrop::cli
