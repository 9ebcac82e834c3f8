#include "jobs/connections.hpp"

#include "core/log.hpp"
#include "jobs/job_error.hpp"
#include "remote/location.hpp"
#include "remote/mirror.hpp"
#include "snapshot/layout.hpp"
#include "source/process_session.hpp"

#include <map>

namespace billdrop::jobs {

std::string ResolvedSource::describe() const {
  return connection.empty() ? "plugin '" + plugin->name() + "'" : "connection '" + connection + "'";
}

std::filesystem::path ResolvedSource::snapshots_dir() const {
  return snapshot::snapshots_dir(state_dir, delivery.connection_id);
}

namespace {

// A session reading local mirrors of remote paths: the mirrors stay locked (never evicted)
// while the plugin may read them. A plugin that reads growing files starts while the objects
// still download (remote::MirrorMode::follow); a read that succeeds is then a success only once
// every download has ended well, so no failed download can hide behind a plugin that did not
// open that object (the plugin's own reads already fail on the objects they touch).
class MirroredSession final : public source::SourceSession {
public:
  MirroredSession(std::unique_ptr<source::SourceSession> inner,
                  std::vector<remote::MirrorLease> leases)
      : leases_(std::move(leases)), inner_(std::move(inner)) {}
  const std::string& name() const noexcept override { return inner_->name(); }
  Status check() override { return inner_->check(); }
  Result<std::vector<Month>> months() override { return inner_->months(); }
  Status read(Month month, source::RowReceiver& receiver) override {
    return after_downloads(inner_->read(month, receiver));
  }
  bool reads_ahead() const noexcept override { return inner_->reads_ahead(); }
  bool one_pass() const noexcept override { return inner_->one_pass(); }
  Status read_all(source::RowReceiver& receiver) override {
    return after_downloads(inner_->read_all(receiver));
  }
  bool incremental() const noexcept override { return inner_->incremental(); }
  const std::vector<std::string>& identity_columns() const noexcept override {
    return inner_->identity_columns();
  }
  Status read_since(std::string_view cursor, source::RowReceiver& receiver,
                    std::string& next_cursor) override {
    return after_downloads(inner_->read_since(cursor, receiver, next_cursor));
  }

private:
  // A read that succeeded, once every download has ended well; a failed read as it is.
  Status after_downloads(Status read) const {
    if (!read)
      return read;
    for (const remote::MirrorLease& lease : leases_)
      if (Status done = lease.wait(); !done)
        return done;
    return {};
  }

  // The leases outlive the plugin (destroyed after it): its files stay until it is gone.
  std::vector<remote::MirrorLease> leases_;
  std::unique_ptr<source::SourceSession> inner_;
};

} // namespace

// A configuration the plugin refuses is a configuration error; a plugin that cannot reach its
// source while starting (credentials service down) is a source error, and so on by kind.
std::unique_ptr<source::SourceSession> ResolvedSource::open_session() const {
  ConfigValues values = config;
  std::vector<remote::MirrorLease> leases;
  std::optional<remote::RemoteMirror> mirror;
  for (auto& [key, value] : values) {
    const ConfigKeySpec* spec = plugin->schema().find(key);
    auto* text = std::get_if<std::string>(&value);
    if (spec == nullptr || spec->type != ConfigType::path || text == nullptr ||
        !remote::is_remote_location(*text))
      continue;
    const remote::RemoteLocation location =
        take(remote::parse_remote_location(*text), FailureKind::config);
    if (!mirror)
      mirror.emplace(state_dir / "remote-cache", remote);
    remote::MirrorLease lease =
        take(mirror->mirror(location, delivery.connection_id,
                            plugin->reads_growing_files() && remote.read_while_downloading
                                ? remote::MirrorMode::follow
                                : remote::MirrorMode::whole));
    *text = lease.local_path.string();
    leases.push_back(std::move(lease));
  }
  std::unique_ptr<source::SourceSession> session;
  if (isolation.mode == config::IsolationMode::process) {
    source::ProcessOptions options;
    options.timeout = std::chrono::seconds(isolation.read_timeout_seconds);
    options.memory_limit_mb = static_cast<std::uint64_t>(isolation.memory_limit_mb);
    options.connection = connection;
    session = take(source::ProcessSession::create(plugin, values, std::move(options)));
  } else {
    session = take(source::PluginInstance::create(plugin, values, connection));
  }
  if (leases.empty())
    return session;
  return std::make_unique<MirroredSession>(std::move(session), std::move(leases));
}

source::PluginLocator plugin_locator(const std::vector<std::filesystem::path>& dirs,
                                     const std::vector<std::filesystem::path>& config_dirs) {
  std::vector<std::filesystem::path> all(dirs.begin(), dirs.end());
  all.insert(all.end(), config_dirs.begin(), config_dirs.end());
  for (const auto& dir : all) {
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec))
      log::warn(
          "plugin_dir.missing",
          {{"path", dir.string()}, {"message", "not a directory; no plugin is looked for there"}});
  }
  return source::PluginLocator::standard(std::move(all));
}

std::shared_ptr<source::LoadedPlugin> load_named_plugin(const source::PluginLocator& locator,
                                                        std::string_view name) {
  const std::filesystem::path file = take(locator.find(name), FailureKind::plugin);
  auto plugin =
      take(source::load_plugin(file, source::plugin_name_of_file(file)), FailureKind::plugin);
  log::info("plugin.loaded", {{"name", plugin->name()},
                              {"version", plugin->version()},
                              {"path", plugin->path().string()}});
  return plugin;
}

config::HostConfig load_config(const SourceRequest& request) {
  config::HostConfig config =
      request.config_file.empty()
          ? take(config::embedded_host_config(), FailureKind::config)
          : take(config::load_host_config(request.config_file), FailureKind::config);
  if (!request.state_dir.empty())
    config.state_dir = std::filesystem::absolute(request.state_dir);
  return config;
}

namespace {

// Checks the configuration against the plugin's schema with where each key was written, so that
// every problem (unknown key, wrong type, a value TOML gave in no usable form, missing key) is
// reported at once with plugin, key and file:line. PluginInstance::create() checks again.
void check_plugin_config(const ResolvedSource& source, const ConfigValueSources& sources) {
  take(source.plugin->schema().validate(source.plugin->name(), source.config, sources),
       FailureKind::config);
}

// --isolation first, then the connection's own, then the command's default.
config::IsolationMode resolve_isolation(const SourceRequest& request,
                                        config::IsolationMode configured) {
  if (request.isolation != config::IsolationMode::unset)
    return request.isolation;
  if (configured != config::IsolationMode::unset)
    return configured;
  return request.default_isolation == config::IsolationMode::unset
             ? config::IsolationMode::in_process
             : request.default_isolation;
}

} // namespace

ResolvedSource resolve_connection(const SourceRequest& request, const config::HostConfig& config,
                                  const config::ConnectionConfig& connection) {
  ResolvedSource source;
  source.plugin =
      load_named_plugin(plugin_locator(request.plugin_dirs, config.plugin_dirs), connection.plugin);
  source.config = config::resolve_paths(connection.plugin_config, source.plugin->schema(),
                                        connection.base_directory);
  check_plugin_config(source, connection.plugin_config_sources);
  source.connection = connection.name;
  source.delivery = connection.delivery;
  source.limits = config.limits;
  source.sending = config.sending;
  source.state_dir = config.state_dir;
  source.store = config.store;
  source.remote = connection.remote;
  source.isolation = connection.isolation;
  source.isolation.mode = resolve_isolation(request, connection.isolation.mode);
  return source;
}

ResolvedSource resolve_source(const SourceRequest& request) {
  if (request.plugin.empty()) {
    if (!request.plugin_config.empty())
      throw JobError(FailureKind::usage, "--plugin-config needs --plugin");
    const config::HostConfig config = load_config(request);
    return resolve_connection(request, config,
                              *take(config.connection(request.connection), FailureKind::config));
  }
  if (!request.connection.empty() || !request.config_file.empty())
    throw JobError(FailureKind::usage,
                   "use either --plugin (with --plugin-config) or --config/--connection, not both");
  ResolvedSource source;
  source.plugin = load_named_plugin(plugin_locator(request.plugin_dirs, {}), request.plugin);
  config::PluginConfigInput input;
  std::filesystem::path base = std::filesystem::current_path();
  if (!request.plugin_config.empty()) {
    input = take(config::load_plugin_config(request.plugin_config), FailureKind::config);
    base = std::filesystem::absolute(request.plugin_config).parent_path();
  }
  source.config = config::resolve_paths(input.values, source.plugin->schema(), base);
  check_plugin_config(source, input.sources);
  source.delivery.connection_id = source.plugin->name();
  source.isolation.mode = resolve_isolation(request, config::IsolationMode::unset);
  source.state_dir = std::filesystem::absolute(
      request.state_dir.empty() ? std::filesystem::path(".billdrop") : request.state_dir);
  return source;
}

std::vector<ResolvedSource> resolve_sources(const SourceRequest& request, std::string_view verb) {
  if (!request.plugin.empty() || !request.connection.empty() || !request.plugin_config.empty())
    return {resolve_source(request)};
  const config::HostConfig config = load_config(request);
  // A connection id names the snapshot folder and the API's connection: one config connection
  // each, or two would overwrite each other's snapshots and share one request slot.
  std::map<std::string, std::string> names_by_id;
  for (const config::ConnectionConfig& connection : config.connections) {
    const auto [it, added] =
        names_by_id.emplace(connection.delivery.connection_id, connection.name);
    if (!added)
      throw JobError(FailureKind::config,
                     config.source.string() + ": connections '" + it->second + "' and '" +
                         connection.name + "' both send to connection id '" + it->first +
                         "'; give each its own connection_id, or " + std::string(verb) +
                         " them one at a time with --connection");
  }
  std::vector<ResolvedSource> sources;
  for (const config::ConnectionConfig& connection : config.connections)
    sources.push_back(resolve_connection(request, config, connection));
  return sources;
}

core::FileLock lock_connection(const ResolvedSource& source, std::chrono::milliseconds wait) {
  return take(core::FileLock::acquire(
                  snapshot::connection_lock_file(source.state_dir, source.delivery.connection_id),
                  source.describe(), wait),
              FailureKind::busy);
}

} // namespace billdrop::jobs
