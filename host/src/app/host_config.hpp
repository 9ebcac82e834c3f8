#pragma once
// The host's configuration file (TOML): connections, each naming a plugin and its config table.
//
//   plugin_dirs = ["/opt/billdrop/plugins"]   # optional, searched before the standard path
//   [connections.acme-gpu]
//   plugin = "custom"
//   [connections.acme-gpu.config]
//   path = "acme_usage.csv"                   # `path` keys resolve against this file's folder
//
// Secrets never live here: keys a plugin declares secret are read from the environment or a file
// by the plugin itself, and are never logged.

#include <billdrop/config.hpp>
#include <billdrop/result.hpp>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace billdrop {

struct ConnectionConfig {
  std::string name;
  std::string plugin;                   // plugin name or path to a .so
  ConfigValues plugin_config;           // as written, paths not yet resolved
  std::filesystem::path base_directory; // for relative `path` values
};

struct HostConfig {
  std::filesystem::path source; // the file it came from, or "<embedded defaults>"
  std::vector<std::filesystem::path> plugin_dirs;
  std::vector<ConnectionConfig> connections;

  // The connection named `name`; with an empty name, the only connection (an error when there are
  // several, listing them).
  Result<const ConnectionConfig*> connection(std::string_view name) const;
};

Result<HostConfig> load_host_config(const std::filesystem::path& file);
Result<HostConfig> parse_host_config(std::string_view toml, const std::filesystem::path& source,
                                     const std::filesystem::path& base_directory);

// A TOML file whose top-level table is one plugin's configuration (`--plugin-config`).
Result<ConfigValues> load_plugin_config(const std::filesystem::path& file);

// The configuration compiled into billdrop: the bundled example connection, reading the example
// data from the data directory (<exe>/../share/billdrop, else the install location).
Result<HostConfig> embedded_host_config();
std::filesystem::path data_directory();

// Rewrites relative values of `path`-typed keys to absolute ones under base_directory.
ConfigValues resolve_paths(const ConfigValues& values, const ConfigSchema& schema,
                           const std::filesystem::path& base_directory);

} // namespace billdrop
