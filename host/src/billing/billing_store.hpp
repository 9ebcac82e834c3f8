#pragma once
// Where the Billing API keeps its items, categories and sync jobs: billing/sqlite (a file
// `billing.db` in the state directory, FTS5 for search; one host) or billing/postgres (the
// database `[store] kind = "postgres"` names, shared by several hosts; PostgreSQL's full-text
// search). Every write is one transaction: it happens whole or not at all. A store is safe to
// use from several threads.

#include "billing/model.hpp"

#include <billdrop/result.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace billdrop::billing {

// What an upsert of a sync item did.
enum class Upserted { created, updated, unchanged };

class BillingStore {
public:
  virtual ~BillingStore() = default;

  // --- items
  // Inserts `item` (its id, createdAt and updatedAt already set). CONFLICT when another item has
  // the same provider and providerRef; VALIDATION_ERROR when its category does not exist.
  virtual Outcome<Item> insert_item(const Item& item) = 0;
  // Reads the item, lets `edit` change it (an error from it aborts), checks it as insert_item
  // does and writes it back, all in one transaction.
  virtual Outcome<Item> update_item(const std::string& id,
                                    const std::function<std::optional<ApiError>(Item&)>& edit) = 0;
  virtual Outcome<Done> delete_item(const std::string& id) = 0;
  virtual std::optional<Item> item(const std::string& id) = 0;
  // The items of `ids` that exist, in the order of `ids` (one query where the store can).
  virtual std::vector<Item> items(const std::vector<std::string>& ids);
  virtual std::optional<Item> item_by_provider_ref(const std::optional<std::string>& provider,
                                                   const std::string& provider_ref) = 0;
  virtual ItemPage list_items(const ItemFilter& filter, std::size_t limit,
                              const std::optional<ItemCursor>& after) = 0;
  // Items matching every word of `query` (prefixes of words, search_words.hpp), best first
  // (SQLite: FTS5's bm25; PostgreSQL: ts_rank, so ties and near-ties may order differently).
  virtual std::vector<Item> search(const std::string& query, std::size_t limit) = 0;
  // The ids of search()'s items, in its order, where the store finds them without reading the
  // items (an in-memory index); nullopt where it cannot.
  virtual std::optional<std::vector<std::string>> search_ids(const std::string& query,
                                                             std::size_t limit) {
    (void)query;
    (void)limit;
    return std::nullopt;
  }
  // Creates the item of `item.provider_ref` or updates its amount, exact amount and fields;
  // keeps its id, createdAt and category.
  virtual Upserted upsert_sync_item(const Item& item) = 0;

  // --- categories
  virtual Outcome<Category> insert_category(const Category& category) = 0;
  virtual Outcome<Category>
  update_category(const std::string& id,
                  const std::function<std::optional<ApiError>(Category&)>& edit) = 0;
  // CONFLICT while items or other categories refer to it.
  virtual Outcome<Done> delete_category(const std::string& id) = 0;
  // By id, else by name (case-insensitive).
  virtual std::optional<Category> category(const std::string& id_or_name) = 0;
  virtual std::vector<Category> categories() = 0;

  // --- reports: the filtered items' sums and counts per group and currency, ordered by
  // currency, then by amount descending (by key for day/week/month).
  virtual std::vector<GroupTotal> totals(const ItemFilter& filter, GroupBy by) = 0;

  // --- sync jobs
  virtual void save_sync_job(const SyncJob& job) = 0;
  virtual std::optional<SyncJob> sync_job(const std::string& id) = 0;
  // Newest first.
  virtual std::vector<SyncJob> sync_jobs(const std::optional<std::string>& provider,
                                         std::size_t limit) = 0;

  virtual StoreStats stats() = 0;
  // A number that changes with every write (on PostgreSQL: every host's): report caches
  // compare it.
  virtual std::uint64_t generation() const = 0;
};

// Opens (creating or migrating) `<state_dir>/billing.db`.
Result<std::unique_ptr<BillingStore>> open_billing_store(const std::filesystem::path& state_dir);
// With a libpq connection string, the PostgreSQL store in that database (its billing tables
// created or migrated); with "", `<state_dir>/billing.db`.
Result<std::unique_ptr<BillingStore>> open_billing_store(const std::filesystem::path& state_dir,
                                                         const std::string& postgres_url);

// A 12-character id of [a-z0-9] ("abc123def456"), random.
std::string new_id();

} // namespace billdrop::billing
