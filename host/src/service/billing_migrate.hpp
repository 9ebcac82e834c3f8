#pragma once
// `billdrop store migrate` for the Billing API's tables: on a PostgreSQL store ([store] kind =
// "postgres") its billing_* tables, which keep their own schema version, brought to this
// billdrop's. (A SQLite billing.db belongs to one host and migrates when `serve` opens it.)

#include "config/host_config.hpp"

#include <billdrop/result.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>

namespace billdrop::service {

struct BillingMigration {
  int from_version = 0; // 0: the tables did not exist
  int to_version = 0;
};

// Nothing on a SQLite store.
Result<std::optional<BillingMigration>> migrate_billing_store(const config::HostConfig& config);

struct BillingImport {
  std::uint64_t categories = 0;
  std::uint64_t items = 0;
  std::uint64_t sync_jobs = 0;
};

// Copies every category, item and sync job of a host's `billing.db` into the billing tables of
// the config's PostgreSQL store, ids and timestamps as they are (moving a Billing API from one
// host's file to the shared store). Refuses when the store is not PostgreSQL, the file does not
// exist, or the PostgreSQL tables already hold an item or a category (nothing is written then).
Result<BillingImport> import_billing_db(const config::HostConfig& config,
                                        const std::filesystem::path& billing_db);

} // namespace billdrop::service
