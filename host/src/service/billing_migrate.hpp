#pragma once
// `billdrop store migrate` for the Billing API's tables: on a PostgreSQL store ([store] kind =
// "postgres") its billing_* tables, which keep their own schema version, brought to this
// billdrop's. (A SQLite billing.db belongs to one host and migrates when `serve` opens it.)

#include "config/host_config.hpp"

#include <billdrop/result.hpp>

#include <optional>

namespace billdrop::service {

struct BillingMigration {
  int from_version = 0; // 0: the tables did not exist
  int to_version = 0;
};

// Nothing on a SQLite store.
Result<std::optional<BillingMigration>> migrate_billing_store(const config::HostConfig& config);

} // namespace billdrop::service
