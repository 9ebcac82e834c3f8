#include "service/billing_migrate.hpp"

#include "billing/postgres/postgres_billing_store.hpp"
#include "jobs/store_options.hpp"

namespace billdrop::service {

Result<std::optional<BillingMigration>> migrate_billing_store(const config::HostConfig& config) {
  Result<store::StoreOptions> options = jobs::store_options(config, false);
  if (!options)
    return options.error();
  if (options->kind != store::StoreOptions::Kind::postgres)
    return std::optional<BillingMigration>();
  Result<int> from = billing::migrate_postgres_billing_store(options->url);
  if (!from)
    return from.error();
  return std::optional<BillingMigration>(
      BillingMigration{*from, billing::kPostgresBillingSchemaVersion});
}

} // namespace billdrop::service
