#pragma once
// The host's configuration file (TOML): connections, each naming a plugin and its config table.
//
//   plugin_dirs = ["/opt/billdrop/plugins"]   # optional, searched before the standard path
//   state_dir = ".billdrop"                   # snapshots, sync.db, the local emulator's store
//   [limits]                                  # optional: max_body_bytes, max_rows_per_month, ...
//   [sending]                                 # optional: give_up_seconds, parallel_connections,
//   ... [connections.acme-gpu] plugin = "custom" destination = "local"                     # local
//   (default) | anycost | dir connection_id = "acme-gpu"                # default: the connection's
//   name allow_rollup = false [connections.acme-gpu.anycost]            # base_url, api_key_env,
//   api_key_file, test_key_env [connections.acme-gpu.dir]                # path
//   [connections.acme-gpu.config]
//   path = "acme_usage.csv"                   # `path` keys resolve against this file's folder
//
// Secrets never live here: keys a plugin declares secret are read from the environment or a file
// by the plugin itself, and are never logged.

#include "remote/settings.hpp"

#include <billdrop/config.hpp>
#include <billdrop/result.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace billdrop::config {

enum class DestinationKind { local, anycost, dir };

// Where a connection's drops go and how (see docs/user-guide.md, "Delivery").
struct DeliveryConfig {
  DestinationKind destination = DestinationKind::local;
  std::string connection_id; // the AnyCost connection id; defaults to the connection's name
  bool allow_rollup = false; // over a month cap: roll rows up instead of failing
  // anycost: base URL, and where the API key comes from (never the config file itself).
  std::string base_url = "https://api.cloudzero.com";
  std::string api_key_env = "CLOUDZERO_API_KEY";
  std::filesystem::path api_key_file;
  std::string test_key_env; // optional: environment variable holding a cloudzero-test-key
  std::int64_t timeout_seconds = 60;
  std::filesystem::path dir; // dir: where bodies and the bucket layout go
};

// When and how the daemon (`billdrop serve`) syncs a connection (docs/user-guide.md, "Operating
// billdrop").
struct ScheduleConfig {
  bool enabled = true;
  std::string schedule = "0 5 * * *"; // cron, 5 fields, always UTC
  std::int64_t backfill_months = 13;  // the first sync sends every month of these the source holds
  std::int64_t reprocess_months = 3;  // later syncs re-read the current and previous months
  bool readback = true;               // read a landed month back and compare, where possible
  std::string account_id;             // sync-status's cloudAccountID; default: the name
};

// Where a connection's plugin runs (docs/user-guide.md, "Plugin isolation"): in billdrop's own
// process, or in a child process that billdrop starts and watches.
enum class IsolationMode {
  unset,     // process under `billdrop serve`, in-process for the other commands
  process,   // a runner process per session: a crash, hang or leak fails only the call
  in_process // the plugin's code runs in billdrop itself (fastest start, no protection)
};

struct IsolationConfig {
  IsolationMode mode = IsolationMode::unset;
  // process: the longest one call to the plugin (create, check, months, one month's read) may
  // take before the runner is killed; 0: no limit.
  std::int64_t read_timeout_seconds = 3600;
  // process: the address space the plugin may use beyond the runner's own, in MiB; 0: no limit.
  std::int64_t memory_limit_mb = 0;
};

struct ConnectionConfig {
  std::string name;
  std::string plugin;                   // plugin name or path to a .so
  ConfigValues plugin_config;           // as written, paths not yet resolved
  std::filesystem::path base_directory; // for relative `path` values
  // Where each plugin_config key was set, and what TOML gave for a value it could not read.
  ConfigValueSources plugin_config_sources;
  DeliveryConfig delivery;
  ScheduleConfig schedule;
  remote::RemoteSettings remote; // [connections.<name>.remote]: how a remote `path` is reached
  IsolationConfig isolation;     // isolation, read_timeout_seconds, memory_limit_mb
};

// The AnyCost Stream API's own limits (shared/reference/anycost-stream.md, "Limits"): above them
// it answers 413 (a body) or rejects the month, so a setting may lower them but not raise them.
inline constexpr std::int64_t kApiMaxBodyBytes = 5'000'000;
inline constexpr std::int64_t kApiMaxRowsPerMonth = 1'000'000;
inline constexpr std::int64_t kApiMaxBytesPerMonth = 400'000'000;

// The API's limits; each a setting with the reference's default, checked when the file is read:
// positive, at most the API's, and a body limit that holds at least one row.
struct LimitsConfig {
  std::int64_t max_body_bytes = kApiMaxBodyBytes;
  std::int64_t max_rows_per_month = kApiMaxRowsPerMonth;
  std::int64_t max_bytes_per_month = kApiMaxBytesPerMonth;
  // The API takes one request at a time per connection; the setting exists to say so and only
  // accepts 1.
  std::int64_t requests_in_flight_per_connection = 1;
};

// How billdrop sends: retry with exponential backoff and full jitter, and how many connections
// send at the same time (each still one request at a time).
struct SendingConfig {
  std::int64_t give_up_seconds = 15 * 60; // per chunk, from its first attempt
  std::int64_t initial_backoff_ms = 500;  // the first retry waits up to this, doubling after
  std::int64_t max_backoff_ms = 60'000;   // the longest wait between two attempts
  std::int64_t parallel_connections = 8;  // connections sending side by side
};

// The daemon's HTTP server and job pool ([server]).
struct ServerConfig {
  std::string listen = "127.0.0.1:7420";
  std::int64_t jitter_seconds = 0;           // a due run starts up to this much later, at random
  std::int64_t max_parallel_connections = 4; // syncs running at once
  // A bearer token, required when listening beyond loopback: from the environment or a file.
  std::string token_env;
  std::filesystem::path token_file;
};

// Where sync state lives ([store]): the state directory's SQLite file (the default), or a
// PostgreSQL database shared by several hosts, whose connection string is read from the
// environment or a file, never written in the config.
enum class StoreKind { sqlite, postgres };

struct StoreConfig {
  StoreKind kind = StoreKind::sqlite;
  std::string url_env;                 // the variable holding a libpq connection string
  std::filesystem::path url_file;      // or the file holding it
  std::int64_t lease_ttl_seconds = 60; // postgres: a connection's lease lasts this long unrenewed
};

struct HostConfig {
  std::filesystem::path source; // the file it came from, or "<embedded defaults>"
  std::vector<std::filesystem::path> plugin_dirs;
  std::filesystem::path state_dir = ".billdrop"; // snapshots, sync state, the local emulator
  LimitsConfig limits;
  SendingConfig sending;
  ServerConfig server;
  StoreConfig store;
  std::vector<ConnectionConfig> connections;

  // The connection named `name`; with an empty name, the only connection (an error when there are
  // several, listing them).
  Result<const ConnectionConfig*> connection(std::string_view name) const;
};

Result<HostConfig> load_host_config(const std::filesystem::path& file);
Result<HostConfig> parse_host_config(std::string_view toml, const std::filesystem::path& source,
                                     const std::filesystem::path& base_directory);

// A plugin's configuration as read from TOML: the values, and where each key was set with, for a
// value that has no ConfigValue form (a float, a list of numbers, a nested table), what it is.
// Such values are not errors here: ConfigSchema::validate(name, values, sources) reports them
// with the schema's own problems, each naming the plugin, the key and the file:line.
struct PluginConfigInput {
  ConfigValues values;
  ConfigValueSources sources;
};

// A TOML file whose top-level table is one plugin's configuration (`--plugin-config`).
Result<PluginConfigInput> load_plugin_config(const std::filesystem::path& file);

// The configuration compiled into billdrop: the bundled example connection, reading the example
// data from the data directory (<exe>/../share/billdrop, else the install location).
Result<HostConfig> embedded_host_config();
std::filesystem::path data_directory();

// Rewrites relative values of `path`-typed keys to absolute ones under base_directory; a URL
// (s3://bucket/prefix, ...) is kept as written.
ConfigValues resolve_paths(const ConfigValues& values, const ConfigSchema& schema,
                           const std::filesystem::path& base_directory);

} // namespace billdrop::config
