#pragma once
// `billdrop store migrate`'s use case: the config's store brought to this billdrop's schema.

#include "config/host_config.hpp"

#include <billdrop/result.hpp>

#include <string>

namespace billdrop::jobs {

struct StoreMigration {
  std::string kind; // "sqlite", "postgres"
  int from_version = 0;
  int to_version = 0;
};

Result<StoreMigration> migrate_store(const config::HostConfig& config);

} // namespace billdrop::jobs
