#include "jobs/store_options.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace billdrop::jobs {

Result<store::StoreOptions> store_options(const config::HostConfig& config, bool leased) {
  store::StoreOptions options;
  options.state_dir = config.state_dir;
  options.lease_ttl = std::chrono::seconds(config.store.lease_ttl_seconds);
  options.leased = leased;
  if (config.store.kind == config::StoreKind::sqlite)
    return options;
  options.kind = store::StoreOptions::Kind::postgres;
  if (!config.store.url_file.empty()) {
    std::ifstream in(config.store.url_file, std::ios::binary);
    if (!in)
      return config_error("cannot read store.url_file " + config.store.url_file.string());
    std::ostringstream text;
    text << in.rdbuf();
    options.url = text.str();
  } else {
    const char* value = std::getenv(config.store.url_env.c_str());
    if (value == nullptr)
      return config_error("store.url_env names " + config.store.url_env + ", which is not set");
    options.url = value;
  }
  while (!options.url.empty() &&
         (options.url.back() == '\n' || options.url.back() == '\r' || options.url.back() == ' '))
    options.url.pop_back();
  if (options.url.empty())
    return config_error("the PostgreSQL connection string (" +
                        (config.store.url_file.empty()
                             ? "store.url_env " + config.store.url_env
                             : "store.url_file " + config.store.url_file.string()) +
                        ") is empty");
  return options;
}

} // namespace billdrop::jobs
