#include "billing/billing_store.hpp"

#include "billing/postgres/postgres_billing_store.hpp"
#include "billing/sqlite/sqlite_billing_store.hpp"

#include <algorithm>
#include <mutex>
#include <random>

namespace billdrop::billing {

Result<std::unique_ptr<BillingStore>> open_billing_store(const std::filesystem::path& state_dir) {
  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);
  return open_sqlite_billing_store(state_dir / "billing.db");
}

Result<std::unique_ptr<BillingStore>> open_billing_store(const std::filesystem::path& state_dir,
                                                         const std::string& postgres_url) {
  if (postgres_url.empty())
    return open_billing_store(state_dir);
  return open_postgres_billing_store(postgres_url);
}

void sort_groups(std::vector<GroupTotal>& groups, GroupBy by) {
  const bool by_time = by == GroupBy::day || by == GroupBy::week || by == GroupBy::month;
  std::sort(groups.begin(), groups.end(), [by_time](const GroupTotal& a, const GroupTotal& b) {
    if (by_time && a.key != b.key)
      return a.key < b.key;
    if (a.currency != b.currency)
      return a.currency < b.currency;
    if (a.amount != b.amount)
      return a.amount > b.amount;
    return a.key < b.key;
  });
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
