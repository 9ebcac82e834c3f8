// billdrop serve: the daemon (schedules, backfill, reprocessing) and its HTTP API.
#include "cli/common.hpp"
#include "core/http_server.hpp"
#include "core/log.hpp"
#include "service/daemon.hpp"
#include "service/http_api.hpp"

#include <billdrop/text.hpp>

#include <CLI/CLI.hpp>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

namespace billdrop::cli {

namespace {

struct Options {
  SourceOptions source;
  std::string listen;
};

// HOST:PORT (IPv6 as [::1]:PORT).
std::pair<std::string, std::uint16_t> split_listen(const std::string& listen) {
  const std::size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon + 1 == listen.size())
    throw CommandError(kExitConfig, "listen address '" + listen + "' must be HOST:PORT");
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  int port = -1;
  try {
    port = std::stoi(listen.substr(colon + 1));
  } catch (const std::exception&) {
  }
  if (port < 0 || port > 65535)
    throw CommandError(kExitConfig, "listen address '" + listen + "': the port must be 0..65535");
  return {host, static_cast<std::uint16_t>(port)};
}

// The bearer token of [server] token_env / token_file; "" when neither is set.
std::string read_token(const config::ServerConfig& server) {
  if (!server.token_file.empty()) {
    std::ifstream in(server.token_file, std::ios::binary);
    if (!in)
      throw CommandError(kExitConfig, "cannot read the token file " + server.token_file.string());
    std::ostringstream text;
    text << in.rdbuf();
    const std::string token(trim_ascii(text.str()));
    if (token.empty())
      throw CommandError(kExitConfig, "the token file " + server.token_file.string() + " is empty");
    return token;
  }
  if (!server.token_env.empty()) {
    const char* value = std::getenv(server.token_env.c_str());
    if (value == nullptr || *value == '\0')
      throw CommandError(kExitConfig,
                         "server.token_env names " + server.token_env + ", which is not set");
    return std::string(trim_ascii(value));
  }
  return {};
}

int serve(const GlobalOptions& global, const Options& options) {
  jobs::SourceRequest request = source_request(global, options.source);
  request.default_isolation = config::IsolationMode::process; // a daemon outlives its plugins
  if (!request.plugin.empty() || !request.connection.empty())
    throw CommandError(kExitUsage, "serve runs every connection of a config: use --config only");
  config::HostConfig config = jobs::load_config(request);
  const std::string listen = options.listen.empty() ? config.server.listen : options.listen;
  const auto [host, port] = split_listen(listen);
  const std::string token = read_token(config.server);
  if (!core::is_loopback_host(host) && token.empty())
    throw CommandError(kExitConfig,
                       "serve listens on " + host +
                           ", beyond loopback: set [server] token_env or token_file so that "
                           "requests need a bearer token");
  StopSignals stop;
  service::DaemonOptions daemon_options;
  daemon_options.request = request;
  daemon_options.config = std::move(config);
  service::Daemon daemon(std::move(daemon_options));
  service::ApiServer api(daemon, service::ApiOptions{token});
  const std::uint16_t bound = jobs::take(api.listen(host, port), jobs::FailureKind::source);
  jobs::take(daemon.start());
  std::cout << "billdrop serve listening on http://"
            << (host.find(':') != std::string::npos ? "[" + host + "]" : host) << ":" << bound
            << " (" << (token.empty() ? "no token" : "bearer token required") << ")" << std::endl;
  log::info("serve.listening", {{"host", host}, {"port", bound}});
  stop.token().sleep_for(std::chrono::hours(24 * 365 * 100));
  log::info("serve.stopping");
  api.stop();
  daemon.stop();
  std::cout << "stopped" << std::endl;
  return kExitOk;
}

} // namespace

void add_serve_command(CLI::App& app, Invocation& run) {
  auto options = std::make_shared<Options>();
  auto* command = app.add_subcommand(
      "serve", "run the daemon: sync every connection on its schedule and serve the HTTP API");
  command->add_option("--config", options->source.config_file,
                      "billdrop TOML config file (default: the embedded example configuration)");
  command->add_option("--listen", options->listen,
                      "HOST:PORT (default: [server] listen of the config, else 127.0.0.1:7420)");
  command
      ->add_option("--isolation", options->source.isolation,
                   "where plugins run, for every connection: process or in-process (default: "
                   "each connection's `isolation`, else process)")
      ->check(CLI::IsMember({"process", "in-process"}));
  command->callback(
      [&run, options] { run.action = [&run, options] { return serve(run.global, *options); }; });
}

} // namespace billdrop::cli
