#include "service/billing_migrate.hpp"

#include "billing/postgres/postgres_billing_store.hpp"
#include "billing/sqlite/sqlite_billing_store.hpp"
#include "jobs/store_options.hpp"

#include <limits>
#include <set>

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

namespace {

Error import_failed(const std::string& what, const billing::ApiError& error) {
  return data_error("importing " + what + ": " + error.message +
                    " (the items and categories copied before it stay in PostgreSQL)");
}

} // namespace

Result<BillingImport> import_billing_db(const config::HostConfig& config,
                                        const std::filesystem::path& billing_db) {
  Result<store::StoreOptions> options = jobs::store_options(config, false);
  if (!options)
    return options.error();
  if (options->kind != store::StoreOptions::Kind::postgres)
    return config_error("--import-billing-db copies into a PostgreSQL store: the config's [store] "
                        "is not kind = \"postgres\"");
  std::error_code ec;
  if (!std::filesystem::is_regular_file(billing_db, ec))
    return config_error(billing_db.string() + " does not exist: name the billing.db in the state "
                                              "directory of the `billdrop serve` it comes from");
  Result<std::unique_ptr<billing::BillingStore>> from =
      billing::open_sqlite_billing_store(billing_db);
  if (!from)
    return from.error();
  Result<std::unique_ptr<billing::BillingStore>> to =
      billing::open_postgres_billing_store(options->url);
  if (!to)
    return to.error();
  const billing::StoreStats there = (*to)->stats();
  if (there.items != 0 || there.categories != 0)
    return config_error("the PostgreSQL store's billing tables already hold " +
                        std::to_string(there.items) + " items and " +
                        std::to_string(there.categories) +
                        " categories: an import is only into empty ones (nothing was copied)");
  BillingImport done;
  // Categories parents first: each round takes those whose parent is copied.
  std::vector<billing::Category> left = (*from)->categories();
  std::set<std::string> copied;
  while (!left.empty()) {
    std::vector<billing::Category> later;
    for (billing::Category& category : left) {
      if (category.parent_id && copied.count(*category.parent_id) == 0) {
        later.push_back(std::move(category));
        continue;
      }
      billing::Outcome<billing::Category> inserted = (*to)->insert_category(category);
      if (!inserted)
        return import_failed("category " + category.id, inserted.error());
      copied.insert(category.id);
      ++done.categories;
    }
    if (later.size() == left.size())
      return data_error("importing categories: " + std::to_string(later.size()) +
                        " name a parent that is not in " + billing_db.string());
    left = std::move(later);
  }
  std::optional<billing::ItemCursor> after;
  do {
    billing::ItemPage page = (*from)->list_items(billing::ItemFilter{}, 1'000, after);
    for (const billing::Item& item : page.items) {
      billing::Outcome<billing::Item> inserted = (*to)->insert_item(item);
      if (!inserted)
        return import_failed("item " + item.id, inserted.error());
      ++done.items;
    }
    after = page.next;
  } while (after);
  for (const billing::SyncJob& job :
       (*from)->sync_jobs(std::nullopt, std::numeric_limits<std::size_t>::max())) {
    (*to)->save_sync_job(job);
    ++done.sync_jobs;
  }
  return done;
}

} // namespace billdrop::service
