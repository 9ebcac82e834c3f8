#pragma once
// Which store a command opens, from the config's [store] table: the state directory's SQLite
// file, or the shared PostgreSQL database whose connection string [store] says where to read
// (an environment variable or a file; never the config itself).

#include "config/host_config.hpp"
#include "store/sync_store.hpp"

#include <billdrop/result.hpp>

namespace billdrop::jobs {

// `leased`: the daemon's store (writes fenced by leases). A config error names the variable or
// file that is missing or empty, never the connection string.
// `leased` also makes it a serving host (see StoreOptions::serving).
Result<store::StoreOptions> store_options(const config::HostConfig& config, bool leased);
// The same from a connection's [store] and state directory (a ResolvedSource's).
Result<store::StoreOptions> store_options(const config::StoreConfig& store,
                                          const std::filesystem::path& state_dir, bool leased);

} // namespace billdrop::jobs
