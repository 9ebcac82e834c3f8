// billdrop store migrate: the config's store ([store]) brought to this billdrop's schema version,
// once, before several hosts start on a shared PostgreSQL store.
#include "cli/common.hpp"
#include "core/json_writer.hpp"
#include "jobs/connections.hpp"
#include "jobs/store_migrate.hpp"
#include "service/billing_migrate.hpp"

#include <CLI/CLI.hpp>

#include <iostream>

namespace billdrop::cli {

namespace {

struct Options {
  SourceOptions source;
  bool json = false;
  std::string import_billing_db; // a billing.db to copy into the PostgreSQL store
};

int store_migrate(const GlobalOptions& global, const Options& options) {
  const jobs::SourceRequest request = source_request(global, options.source);
  const config::HostConfig config = jobs::load_config(request);
  const jobs::StoreMigration migration =
      jobs::take(jobs::migrate_store(config), jobs::FailureKind::config);
  const std::optional<service::BillingMigration> billing =
      jobs::take(service::migrate_billing_store(config), jobs::FailureKind::config);
  std::optional<service::BillingImport> imported;
  if (!options.import_billing_db.empty())
    imported = jobs::take(service::import_billing_db(config, options.import_billing_db),
                          jobs::FailureKind::config);
  if (options.json) {
    core::JsonWriter out;
    out.begin_object()
        .key("store")
        .value(migration.kind)
        .key("fromVersion")
        .value(static_cast<std::int64_t>(migration.from_version))
        .key("toVersion")
        .value(static_cast<std::int64_t>(migration.to_version));
    if (billing)
      out.key("billing")
          .begin_object()
          .key("fromVersion")
          .value(static_cast<std::int64_t>(billing->from_version))
          .key("toVersion")
          .value(static_cast<std::int64_t>(billing->to_version))
          .end_object();
    if (imported)
      out.key("imported")
          .begin_object()
          .key("categories")
          .value(imported->categories)
          .key("items")
          .value(imported->items)
          .key("syncJobs")
          .value(imported->sync_jobs)
          .end_object();
    out.end_object();
    std::cout << out.str() << '\n';
    return kExitOk;
  }
  if (migration.from_version == migration.to_version)
    std::cout << "the " << migration.kind << " store is at schema version " << migration.to_version
              << " already\n";
  else
    std::cout << "migrated the " << migration.kind << " store from schema version "
              << migration.from_version << " to " << migration.to_version << '\n';
  if (billing && billing->from_version == billing->to_version)
    std::cout << "the billing tables are at schema version " << billing->to_version << " already\n";
  else if (billing)
    std::cout << "migrated the billing tables from schema version " << billing->from_version
              << " to " << billing->to_version << '\n';
  if (imported)
    std::cout << "imported " << imported->categories << " categories, " << imported->items
              << " items and " << imported->sync_jobs << " sync jobs from "
              << options.import_billing_db << '\n';
  return kExitOk;
}

} // namespace

void add_store_command(CLI::App& app, Invocation& run) {
  auto* store = app.add_subcommand("store", "manage the sync store ([store] of the config)");
  store->require_subcommand(1);
  auto options = std::make_shared<Options>();
  auto* migrate = store->add_subcommand(
      "migrate", "bring the store's schema to this billdrop's version (run once before starting "
                 "several hosts on a new billdrop)");
  migrate->add_option("--config", options->source.config_file, "billdrop TOML config file");
  migrate->add_flag("--json", options->json, "print the result as JSON");
  migrate->add_option("--import-billing-db", options->import_billing_db,
                      "then copy the Billing API's categories, items and sync jobs of this "
                      "billing.db (a host's state directory) into the PostgreSQL store's empty "
                      "billing tables");
  migrate->callback([&run, options] {
    run.action = [&run, options] { return store_migrate(run.global, *options); };
  });
}

} // namespace billdrop::cli
