#include "jobs/store_migrate.hpp"

#include "jobs/store_options.hpp"

namespace billdrop::jobs {

Result<StoreMigration> migrate_store(const config::HostConfig& config) {
  Result<store::StoreOptions> options = store_options(config, false);
  if (!options)
    return options.error();
  Result<store::Migration> migrated = store::migrate_store(*options);
  if (!migrated)
    return migrated.error();
  StoreMigration result;
  result.kind = options->kind == store::StoreOptions::Kind::postgres ? "postgres" : "sqlite";
  result.from_version = migrated->from;
  result.to_version = migrated->to;
  return result;
}

} // namespace billdrop::jobs
