#pragma once
// `billdrop serve`: syncs every enabled connection on its schedule (cron, UTC), backfills on the
// first sync, re-reads the reprocess window later, and serves the HTTP API (service/http_api).
//
// The object graph: one store, one embedded emulator shared by `local` connections, one resolved
// source and schedule per connection, a scheduler thread that marks connections due and a pool of
// `max_parallel_connections` workers that run them, never two runs of one connection at once
// (across processes too: the connection's lock). Stop: no new run starts, runs in progress stop
// before their next request (resumable), then the threads end.

#include "config/host_config.hpp"
#include "core/cancel.hpp"
#include "jobs/connections.hpp"
#include "jobs/scheduled_sync.hpp"
#include "jobs/sync_status.hpp"
#include "store/sync_store.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace billdrop::service {

struct DaemonOptions {
  jobs::SourceRequest request; // plugin dirs, state dir override
  config::HostConfig config;
  // Replaced in tests: the wall clock.
  std::function<std::chrono::system_clock::time_point()> clock;
};

// One connection's line in the verify job's result.
struct VerifyResult {
  std::string connection;
  std::string cloud_account_id;
  bool reachable = false;
  bool schema_matches = false;
  bool sample_valid = false;
  std::uint32_t months_backfilled = 0;
  std::string error;
  bool done = false;
};

// One month of a connection, as the dashboard shows it.
struct MonthView {
  Month month;
  // "synced" (landed), "unchanged" (synced, and the last run found its digest unchanged),
  // "failed" (the last send gave up), "pending" (a send began and has not finished)
  std::string state;
  std::uint64_t rows = 0;
  Decimal cost;
  std::optional<std::chrono::system_clock::time_point> synced_at;
  std::string message; // why it failed
};

// A configured connection as the Billing API sees it (sync adapters, POST /sync).
struct ConnectionView {
  std::string name;
  std::string plugin; // as configured
  bool loaded = false;
  std::string load_error;
  std::string plugin_name, plugin_version, abi, description, config_schema_json; // when loaded
  std::filesystem::path snapshots_dir;                                           // when loaded
};

// What one sync of a connection landed: the months it sent or found unchanged, and what went
// wrong, if anything.
struct SyncLanded {
  std::string connection;
  std::vector<Month> months;
  std::string error;
};

class Daemon {
public:
  explicit Daemon(DaemonOptions options);
  ~Daemon(); // stops
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Opens the store (interrupting jobs of processes that died), resolves every connection and
  // starts the scheduler and the workers. A connection whose plugin cannot be loaded is an error
  // in its status, not a failed start.
  Status start();
  // No new run starts; runs in progress stop between two requests; returns when all ended.
  void stop();

  std::vector<jobs::SyncStatusEntry> sync_status() const;
  // The months the store knows of a connection, newest first; nullopt: no such connection.
  Result<std::optional<std::vector<MonthView>>> connection_months(const std::string& name) const;
  // Starts the org-wide verify job, or returns the one running.
  Result<std::string> start_verify();
  // The job's record and, for a verify job, its per-connection results.
  Result<std::optional<store::JobRecord>> job(const std::string& id) const;
  // Prometheus text exposition of the counters.
  std::string metrics() const;
  // Runs every enabled connection's sync now (as if due); for tests and `serve --once`.
  void run_all_now();
  // True while a sync or verify runs or is due now.
  bool busy() const;
  // The configuration it runs (state directory, connections).
  const config::HostConfig& config() const;
  // The configured connections; plugins and snapshot folders are known after start().
  std::vector<ConnectionView> connection_views() const;
  // Called (on the worker's thread) after every sync of a connection; set before start().
  void on_sync_landed(std::function<void(const SyncLanded&)> listener);
  // Runs the named connections now and returns when their runs have ended, or the daemon
  // stops; an unknown name is an error.
  Status run_and_wait(const std::vector<std::string>& names);

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The verify job's result document: {"jobId","status","startedAt","completedAt","connections":[…]}.
std::string verify_json(const store::JobRecord& job);

} // namespace billdrop::service
