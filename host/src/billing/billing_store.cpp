#include "billing/billing_store.hpp"

#include "billing/indexed_store.hpp"
#include "billing/postgres/postgres_billing_store.hpp"
#include "billing/search_words.hpp"
#include "billing/sqlite/sqlite_billing_store.hpp"

#include <mutex>
#include <random>

namespace billdrop::billing {

Result<std::unique_ptr<BillingStore>> open_billing_store(const std::filesystem::path& state_dir) {
  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);
  auto store = open_sqlite_billing_store(state_dir / "billing.db");
  if (!store)
    return store;
  // One host's own file: reports and searches from memory. A PostgreSQL store is shared by
  // several hosts, whose writes an index in this one would not see.
  return with_memory_indexes(std::move(*store),
                             [](std::string_view text, bool, std::vector<std::string>& tokens) {
                               for (std::string& token : unicode61_tokens(text))
                                 tokens.push_back(std::move(token));
                             });
}

std::vector<Item> BillingStore::items(const std::vector<std::string>& ids) {
  std::vector<Item> found;
  for (const std::string& id : ids)
    if (std::optional<Item> one = item(id))
      found.push_back(std::move(*one));
  return found;
}

Result<std::unique_ptr<BillingStore>> open_billing_store(const std::filesystem::path& state_dir,
                                                         const std::string& postgres_url) {
  if (postgres_url.empty())
    return open_billing_store(state_dir);
  return open_postgres_billing_store(postgres_url);
}

std::string new_id() {
  static std::mutex mutex;
  static std::mt19937_64 rng{std::random_device{}()};
  static constexpr char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string id(12, ' ');
  const std::lock_guard lock(mutex);
  std::uniform_int_distribution<int> pick(0, 35);
  for (char& c : id)
    c = alphabet[pick(rng)];
  return id;
}

} // namespace billdrop::billing
