#include "billing/sync_items.hpp"

#include "billing/money.hpp"
#include "billing/utc_time.hpp"

#include <simdjson.h>

#include <fstream>

namespace billdrop::billing {

namespace {

constexpr const char* kNoService = "unspecified";

} // namespace

Result<std::map<std::string, Decimal>> service_totals(const snapshot::MonthSummary& month) {
  std::map<std::string, Decimal> totals;
  std::ifstream in(month.file, std::ios::binary);
  if (!in)
    return source_error("cannot read the snapshot " + month.file.string());
  simdjson::dom::parser parser;
  std::string line;
  std::uint64_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty())
      continue;
    const std::string where = month.file.string() + ":" + std::to_string(number);
    simdjson::dom::object row;
    if (parser.parse(line).get_object().get(row) != simdjson::SUCCESS)
      return source_error(where + ": not a JSON object");
    std::string_view service = kNoService;
    std::string_view text;
    if (row["resource/service"].get_string().get(text) == simdjson::SUCCESS && !text.empty())
      service = text;
    std::string_view cost;
    if (row["cost/cost"].get_string().get(cost) != simdjson::SUCCESS)
      return source_error(where + ": cost/cost is not a decimal string");
    Result<Decimal> value = Decimal::parse(cost);
    if (!value)
      return std::move(value).error().with_context(where);
    totals[std::string(service)] += *value;
  }
  return totals;
}

Result<LandedCounts> land_month(BillingStore& store, const snapshot::MonthSummary& month,
                                const std::string& connection, const std::string& adapter) {
  Result<std::map<std::string, Decimal>> totals = service_totals(month);
  if (!totals)
    return std::move(totals).error();
  const std::string month_text = month.month.to_string();
  const std::int64_t month_start =
      days_from_civil(month.month.year(), static_cast<unsigned>(month.month.month()), 1) *
      ms_per_day;
  const std::string prefix = connection + "/" + month_text + "/";
  const int exponent = *currency_exponent("USD");
  LandedCounts counts;
  const std::int64_t now = now_ms();
  for (const auto& [service, exact] : *totals) {
    const std::optional<std::int64_t> amount = to_minor_units(exact, exponent);
    if (!amount || *amount > max_amount || *amount < -max_amount)
      return source_error("connection '" + connection + "', " + month_text + ", service '" +
                          service + "': the total " + exact.to_string() +
                          " USD does not fit an amount in cents");
    Item item;
    item.id = new_id();
    item.name = service + " (" + connection + ", " + month_text + ")";
    item.amount = *amount;
    item.currency = "USD";
    item.provider = adapter;
    item.provider_ref = prefix + service;
    item.date_ms = month_start;
    item.service = service;
    item.source = "sync";
    item.adapter = adapter;
    item.amount_exact = exact.normalized().to_string();
    item.created_ms = now;
    item.updated_ms = now;
    switch (store.upsert_sync_item(item)) {
    case Upserted::created:
      ++counts.created;
      break;
    case Upserted::updated:
      ++counts.updated;
      break;
    case Upserted::unchanged:
      ++counts.unchanged;
      break;
    }
  }
  // The month's sync items of services no longer in it.
  ItemFilter filter;
  filter.provider = adapter;
  filter.source = "sync";
  filter.from_ms = month_start;
  filter.to_ms = month_start + 1; // sync items are dated at the month's first instant
  for (std::optional<ItemCursor> after;;) {
    const ItemPage page = store.list_items(filter, 1000, after);
    for (const Item& item : page.items)
      if (item.provider_ref && item.provider_ref->starts_with(prefix) &&
          !totals->contains(item.provider_ref->substr(prefix.size())) && store.delete_item(item.id))
        ++counts.removed;
    if (!page.next)
      break;
    after = page.next;
  }
  return counts;
}

} // namespace billdrop::billing
