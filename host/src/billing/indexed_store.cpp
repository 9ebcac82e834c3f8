#include "billing/indexed_store.hpp"

#include "billing/report_index.hpp"

#include <atomic>
#include <mutex>

namespace billdrop::billing {

namespace {

class IndexedStore final : public BillingStore {
public:
  IndexedStore(std::unique_ptr<BillingStore> inner, Tokenizer tokenize)
      : inner_(std::move(inner)), search_(std::move(tokenize)) {
    std::optional<ItemCursor> after;
    do {
      ItemPage page = inner_->list_items(ItemFilter{}, 10'000, after);
      for (const Item& item : page.items)
        put(item);
      after = page.next;
    } while (after);
  }

  // --- writes: the wrapped store, then the index, then a new generation

  Outcome<Item> insert_item(const Item& item) override {
    const std::lock_guard lock(write_mutex_);
    Outcome<Item> stored = inner_->insert_item(item);
    if (stored)
      indexed(*stored);
    return stored;
  }

  Outcome<Item> update_item(const std::string& id,
                            const std::function<std::optional<ApiError>(Item&)>& edit) override {
    const std::lock_guard lock(write_mutex_);
    Outcome<Item> stored = inner_->update_item(id, edit);
    if (stored)
      indexed(*stored);
    return stored;
  }

  Outcome<Done> delete_item(const std::string& id) override {
    const std::lock_guard lock(write_mutex_);
    Outcome<Done> deleted = inner_->delete_item(id);
    if (deleted) {
      index_.erase(id);
      search_.erase(id);
      ++generation_;
    }
    return deleted;
  }

  Upserted upsert_sync_item(const Item& item) override {
    const std::lock_guard lock(write_mutex_);
    const Upserted result = inner_->upsert_sync_item(item);
    if (result != Upserted::unchanged && item.provider_ref) {
      // The stored item keeps its own id, createdAt and category: index what the store holds.
      if (std::optional<Item> stored =
              inner_->item_by_provider_ref(item.provider, *item.provider_ref))
        indexed(*stored);
    }
    return result;
  }

  Outcome<Category> insert_category(const Category& category) override {
    const std::lock_guard lock(write_mutex_);
    return bumped(inner_->insert_category(category));
  }
  Outcome<Category>
  update_category(const std::string& id,
                  const std::function<std::optional<ApiError>(Category&)>& edit) override {
    const std::lock_guard lock(write_mutex_);
    return bumped(inner_->update_category(id, edit));
  }
  Outcome<Done> delete_category(const std::string& id) override {
    const std::lock_guard lock(write_mutex_);
    return bumped(inner_->delete_category(id));
  }
  void save_sync_job(const SyncJob& job) override {
    const std::lock_guard lock(write_mutex_);
    inner_->save_sync_job(job);
    ++generation_;
  }

  // --- reads

  std::vector<GroupTotal> totals(const ItemFilter& filter, GroupBy by) override {
    return index_.totals(filter, by);
  }

  std::optional<Item> item(const std::string& id) override { return inner_->item(id); }
  std::vector<Item> items(const std::vector<std::string>& ids) override {
    return inner_->items(ids);
  }
  std::optional<Item> item_by_provider_ref(const std::optional<std::string>& provider,
                                           const std::string& provider_ref) override {
    return inner_->item_by_provider_ref(provider, provider_ref);
  }
  ItemPage list_items(const ItemFilter& filter, std::size_t limit,
                      const std::optional<ItemCursor>& after) override {
    return inner_->list_items(filter, limit, after);
  }
  std::vector<Item> search(const std::string& query, std::size_t limit) override {
    std::optional<std::vector<std::string>> ids = search_.search(query, limit);
    if (!ids)
      return inner_->search(query, limit);
    return inner_->items(*ids); // an item deleted meanwhile is left out
  }
  std::optional<std::vector<std::string>> search_ids(const std::string& query,
                                                     std::size_t limit) override {
    return search_.search(query, limit);
  }
  std::optional<Category> category(const std::string& id_or_name) override {
    return inner_->category(id_or_name);
  }
  std::vector<Category> categories() override { return inner_->categories(); }
  std::optional<SyncJob> sync_job(const std::string& id) override { return inner_->sync_job(id); }
  std::vector<SyncJob> sync_jobs(const std::optional<std::string>& provider,
                                 std::size_t limit) override {
    return inner_->sync_jobs(provider, limit);
  }
  StoreStats stats() override { return inner_->stats(); }
  std::uint64_t generation() const override { return generation_.load(); }

private:
  void put(const Item& item) {
    index_.put(item);
    // The columns of items_fts, as the SQLite store fills them.
    std::string tags;
    for (const std::string& tag : item.tags)
      tags += (tags.empty() ? "" : " ") + tag;
    const std::string none;
    search_.put(SearchIndex::Document{item.id,
                                      item.date_ms,
                                      {item.name, item.description ? *item.description : none,
                                       item.provider ? *item.provider : none,
                                       item.service ? *item.service : none, tags}});
  }
  void indexed(const Item& item) {
    put(item);
    ++generation_;
  }
  template <class T>
  Outcome<T> bumped(Outcome<T> outcome) {
    if (outcome)
      ++generation_;
    return outcome;
  }

  std::unique_ptr<BillingStore> inner_;
  ReportIndex index_;
  SearchIndex search_;
  std::mutex write_mutex_; // one write at a time: store and index change in the same order
  std::atomic<std::uint64_t> generation_{0};
};

} // namespace

std::unique_ptr<BillingStore> with_memory_indexes(std::unique_ptr<BillingStore> inner,
                                                  Tokenizer tokenize) {
  return std::make_unique<IndexedStore>(std::move(inner), std::move(tokenize));
}

} // namespace billdrop::billing
