#pragma once
// The Billing API's data (issue 13, seed 002): cost items, categories, report groups and sync
// jobs, as plain structs the store keeps and the API renders. Money is an integer in the
// currency's minor unit (money.hpp); times are milliseconds since 1970-01-01T00:00:00Z (UTC).

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace billdrop::billing {

struct Item {
  std::string id;
  std::string name;
  std::int64_t amount = 0; // minor units of `currency`
  std::string currency;
  std::optional<std::string> provider;
  std::optional<std::string> provider_ref;
  std::vector<std::string> tags;
  std::optional<std::string> description;
  bool recurring = false;
  std::optional<std::string> period; // monthly | quarterly | yearly (when recurring)
  std::int64_t date_ms = 0;
  std::optional<std::string> category; // a category id
  std::optional<std::string> service;
  std::optional<std::string> stage_app;
  std::optional<std::string> author;
  std::string source = "manual";           // manual | sync
  std::optional<std::string> adapter;      // sync items: the plugin
  std::optional<std::string> amount_exact; // sync items: the exact decimal total
  std::int64_t created_ms = 0;
  std::int64_t updated_ms = 0;
};

struct Category {
  std::string id;
  std::string name;
  std::optional<std::string> description;
  std::optional<std::string> color; // #RRGGBB
  std::optional<std::string> parent_id;
  std::int64_t created_ms = 0;
  std::int64_t updated_ms = 0;
};

// What a list of items or a report keeps. Empty optionals and vectors filter nothing.
struct ItemFilter {
  std::vector<std::string> categories; // ids: a category and its descendants
  std::optional<std::string> provider;
  std::optional<std::string> service;
  std::optional<std::string> currency;
  std::optional<std::int64_t> from_ms; // date >= from_ms
  std::optional<std::int64_t> to_ms;   // date <  to_ms (the day after `to`)
  std::optional<bool> recurring;
  std::vector<std::string> tags; // any of them
  std::optional<std::string> stage_app;
  std::optional<std::string> author;
  std::optional<std::string> source;
};

// Lists go newest first (date, then id, both descending); a cursor is the last item's position.
struct ItemCursor {
  std::int64_t date_ms = 0;
  std::string id;
};

struct ItemPage {
  std::vector<Item> items;
  std::optional<ItemCursor> next;
};

enum class GroupBy { none, provider, category, service, recurring, tag, day, week, month };

// One group of a report: its key (null for items without one), currency, sum and count.
struct GroupTotal {
  std::optional<std::string> key;
  std::string currency;
  std::int64_t amount = 0;
  std::int64_t count = 0;
};

// A report's order: by key for day/week/month, else by currency, then amount descending, then
// key (a missing key first). Every store returns its groups in this order.
void sort_groups(std::vector<GroupTotal>& groups, GroupBy by);

struct SyncJob {
  std::string id;
  std::string provider;                  // the provider (plugin) synced
  std::optional<std::string> connection; // when one connection was asked for
  std::string status = "running";        // running | completed | failed
  std::string from;                      // YYYY-MM-DD
  std::string to;
  std::int64_t items_created = 0;
  std::int64_t items_updated = 0;
  std::int64_t items_unchanged = 0;
  std::optional<std::string> error;
  std::int64_t started_ms = 0;
  std::optional<std::int64_t> completed_ms;
};

struct StoreStats {
  std::int64_t items = 0;
  std::int64_t categories = 0;
  std::int64_t sync_jobs = 0;
  std::vector<GroupTotal> totals_by_currency;
  std::string storage_type; // "sqlite"
  std::string location;     // the database file
  std::int64_t bytes = 0;   // its size on disk
  int schema_version = 0;
};

// An API error: the HTTP status, a stable code (NOT_FOUND, VALIDATION_ERROR, CONFLICT, …), a
// message that names the field, and the field itself when one is at fault.
struct ApiError {
  int status = 400;
  std::string code;
  std::string message;
  std::string field;
};

ApiError validation_error(std::string field, const std::string& problem);
ApiError not_found(const std::string& message);
ApiError conflict(std::string field, const std::string& message);

// A value or an ApiError.
template <class T>
class Outcome {
public:
  Outcome(T value) : state_(std::move(value)) {}
  Outcome(ApiError error) : state_(std::move(error)) {}
  explicit operator bool() const noexcept { return state_.index() == 0; }
  T& operator*() { return std::get<0>(state_); }
  const T& operator*() const { return std::get<0>(state_); }
  T* operator->() { return &std::get<0>(state_); }
  const T* operator->() const { return &std::get<0>(state_); }
  const ApiError& error() const { return std::get<1>(state_); }

private:
  std::variant<T, ApiError> state_;
};

struct Done {};

} // namespace billdrop::billing
