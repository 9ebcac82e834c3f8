#pragma once
// The manual items of a `billdrop serve` Billing API store (billing.db, read only) and the months
// each one costs in: a one-off item in the month of its date; a recurring one in every month of
// its period from its date's month through `until` (monthly: each month, quarterly: every third,
// yearly: every twelfth), on the same day of the month (the last day when the month is shorter)
// and at the same time.

#include <billdrop/result.hpp>
#include <billdrop/timestamp.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace manual {

struct ManualItem {
  std::string id;
  std::string name;
  std::int64_t amount = 0; // minor units of `currency`
  std::string currency;
  std::string provider;
  std::string provider_ref;
  std::string service;
  std::string category; // the category's name, "" for none
  bool recurring = false;
  int period_months = 0; // 1, 3 or 12 when recurring
  billdrop::UtcTime date;
};

// The schema version of billing.db this plugin reads.
inline constexpr int kBillingSchemaVersion = 1;

// Every item with source "manual", by date. An error names the file when it cannot be opened or
// holds another schema.
billdrop::Result<std::vector<ManualItem>> read_manual_items(const std::filesystem::path& file);

// The schema version of the PostgreSQL billing tables (billdrop_billing_schema) this plugin reads.
inline constexpr int kPostgresBillingSchemaVersion = 1;

// The same from the billing tables of a `billdrop serve` PostgreSQL store ([store] kind =
// "postgres"), reached with the libpq connection string `url`; `where` names where the string
// came from for messages (the string itself never appears in one: it may hold a password).
billdrop::Result<std::vector<ManualItem>> read_manual_items_postgres(const std::string& url,
                                                                     const std::string& where);

// The times at which `item` costs, from its date through the month `until` (included).
std::vector<billdrop::UtcTime> occurrences(const ManualItem& item, billdrop::Month until);

// `amount` minor units with `exponent` digits after the point, as decimal text ("10.50").
std::string minor_units_text(std::int64_t amount, int exponent);

} // namespace manual
