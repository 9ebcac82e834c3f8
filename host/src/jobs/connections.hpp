#pragma once
// Which source a job runs: a connection of a config file (or of the embedded defaults), or a
// plugin named directly with its own config file; resolved into the loaded plugin, its checked
// configuration and the connection's delivery settings. Shared by every command and the daemon.

#include "config/host_config.hpp"
#include "core/file_lock.hpp"
#include "remote/settings.hpp"
#include "source/plugin_loader.hpp"

#include <billdrop/config.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace billdrop::jobs {

// What a caller asks for (the CLI's --config, --connection, --plugin, --plugin-config,
// --state-dir); everything empty: the embedded example configuration.
struct SourceRequest {
  std::filesystem::path config_file;
  std::string connection;
  std::string plugin;
  std::filesystem::path plugin_config;
  std::filesystem::path state_dir;                // overrides the config's state_dir
  std::vector<std::filesystem::path> plugin_dirs; // searched first (--plugin-dir)
  // --isolation: overrides every connection's `isolation`; unset keeps them.
  config::IsolationMode isolation = config::IsolationMode::unset;
  // What a connection that says nothing gets: in-process, but process under `serve`.
  config::IsolationMode default_isolation = config::IsolationMode::in_process;
};

struct ResolvedSource {
  std::shared_ptr<source::LoadedPlugin> plugin;
  ConfigValues config;
  std::string connection; // "" when a plugin was named directly
  config::DeliveryConfig delivery;
  config::LimitsConfig limits;
  config::SendingConfig sending;
  std::filesystem::path state_dir;
  config::StoreConfig store;         // where its sync state is kept ([store]: SQLite in state_dir)
  remote::RemoteSettings remote;     // how remote `path` values (s3://, az://, gs://) are reached
  config::IsolationConfig isolation; // its mode resolved: process or in_process, never unset

  // "connection 'acme'" or "plugin 'aws'", for messages.
  std::string describe() const;
  // Where convert writes this connection's snapshots for sending: <state_dir>/snapshots/<id>.
  std::filesystem::path snapshots_dir() const;
  // Creates a session of the plugin with the checked configuration: in-process, or in a runner
  // process (isolation = "process", source/process_session.hpp). A `path` value
  // that is a remote location is first mirrored into <state_dir>/remote-cache (downloading only
  // what changed) and the plugin given the local mirror: a source error when that fails (the
  // message names the object), before the plugin reads anything.
  std::unique_ptr<source::SourceSession> open_session() const;
};

// The search path: `dirs` (--plugin-dir), the config's plugin_dirs, then the standard places.
// A directory that does not exist is a warning (logged), not an error.
source::PluginLocator plugin_locator(const std::vector<std::filesystem::path>& dirs,
                                     const std::vector<std::filesystem::path>& config_dirs);
std::shared_ptr<source::LoadedPlugin> load_named_plugin(const source::PluginLocator& locator,
                                                        std::string_view name);

// The config file of the request, or the embedded defaults; --state-dir applied.
config::HostConfig load_config(const SourceRequest& request);

ResolvedSource resolve_connection(const SourceRequest& request, const config::HostConfig& config,
                                  const config::ConnectionConfig& connection);
// The one source of the request (a named connection, the config's only connection, or a plugin).
ResolvedSource resolve_source(const SourceRequest& request);
// Every source of the request: all the config's connections when none is named (and no plugin),
// otherwise the one. Connection ids must differ (each names a snapshot folder and the API's
// connection); `verb` is for the message that says so ("run them one at a time").
std::vector<ResolvedSource> resolve_sources(const SourceRequest& request, std::string_view verb);

// One sync of a connection at a time, across processes: the lock of its id in the state
// directory, held while the returned object lives. Waits up to `wait`; a busy connection is a
// JobError(busy) naming the holder's pid.
core::FileLock lock_connection(const ResolvedSource& source,
                               std::chrono::milliseconds wait = std::chrono::milliseconds(0));

} // namespace billdrop::jobs
