#include "jobs/store_options.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace billdrop::jobs {

Result<store::StoreOptions> store_options(const config::HostConfig& config, bool leased) {
  return store_options(config.store, config.state_dir, leased);
}

Result<store::StoreOptions> store_options(const config::StoreConfig& store,
                                          const std::filesystem::path& state_dir, bool leased) {
  store::StoreOptions options;
  options.state_dir = state_dir;
  options.lease_ttl = std::chrono::seconds(store.lease_ttl_seconds);
  options.leased = leased;
  options.serving = leased;
  if (store.kind == config::StoreKind::sqlite)
    return options;
  options.kind = store::StoreOptions::Kind::postgres;
  if (!store.url_file.empty()) {
    std::ifstream in(store.url_file, std::ios::binary);
    if (!in)
      return config_error("cannot read store.url_file " + store.url_file.string());
    std::ostringstream text;
    text << in.rdbuf();
    options.url = text.str();
  } else {
    const char* value = std::getenv(store.url_env.c_str());
    if (value == nullptr)
      return config_error("store.url_env names " + store.url_env + ", which is not set");
    options.url = value;
  }
  while (!options.url.empty() &&
         (options.url.back() == '\n' || options.url.back() == '\r' || options.url.back() == ' '))
    options.url.pop_back();
  if (options.url.empty())
    return config_error("the PostgreSQL connection string (" +
                        (store.url_file.empty() ? "store.url_env " + store.url_env
                                                : "store.url_file " + store.url_file.string()) +
                        ") is empty");
  return options;
}

} // namespace billdrop::jobs
