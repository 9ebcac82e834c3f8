#include "cost_columns.hpp"

#include <billdrop/text.hpp>

namespace billdrop::azure {
namespace {

struct Alias {
  Column column;
  std::string_view name;
};

// Canonical English name first, then the other spellings in order of preference. Names are
// compared ignoring ASCII case, so `costInBillingCurrency` (MCA) needs no entry of its own.
constexpr Alias aliases[] = {
    {Column::date, "Date"},
    {Column::date, "UsageDateTime"},
    {Column::date, "UsageDate"},
    {Column::cost, "CostInBillingCurrency"},
    {Column::cost, "Cost"},
    {Column::cost, "PreTaxCost"},
    {Column::subscription, "SubscriptionId"},
    {Column::subscription, "SubscriptionGuid"},
    {Column::meter_category, "MeterCategory"},
    {Column::meter_subcategory, "MeterSubCategory"},
    {Column::meter_id, "MeterId"},
    {Column::meter_name, "MeterName"},
    {Column::resource_id, "ResourceId"},
    {Column::resource_id, "InstanceId"},
    {Column::resource_id, "InstanceName"},
    {Column::location, "ResourceLocation"},
    {Column::location, "Location"},
    {Column::quantity, "Quantity"},
    {Column::quantity, "UsageQuantity"},
    {Column::unit, "UnitOfMeasure"},
    {Column::charge_type, "ChargeType"},
    {Column::pricing_model, "PricingModel"},
    {Column::tags, "Tags"},
    {Column::benefit_id, "BenefitId"},
    {Column::reservation_id, "ReservationId"},
    {Column::invoice_id, "InvoiceId"},
    {Column::product, "ProductName"},
    {Column::product, "Product"},
    {Column::consumed_service, "ConsumedService"},
};

constexpr std::string_view utf8_bom = "\xEF\xBB\xBF";

} // namespace

std::string_view canonical_name(Column column) noexcept {
  for (const Alias& alias : aliases)
    if (alias.column == column)
      return alias.name;
  return "?";
}

std::string accepted_names(Column column) {
  std::string out;
  for (const Alias& alias : aliases) {
    if (alias.column != column)
      continue;
    if (!out.empty())
      out += ", ";
    out += alias.name;
  }
  return out;
}

std::string_view english_header_name(std::string_view header) noexcept {
  if (header.starts_with(utf8_bom))
    header.remove_prefix(utf8_bom.size());
  header = trim_ascii(header);
  if (header.ends_with(')')) {
    const std::size_t open = header.rfind('(');
    if (open != std::string_view::npos)
      return trim_ascii(header.substr(open + 1, header.size() - open - 2));
  }
  return header;
}

Result<ColumnIndex> ColumnIndex::resolve(const CsvRecord& header, std::string_view file_name,
                                         std::string_view cost_column) {
  ColumnIndex index;
  index.indexes_.fill(npos);
  index.header_size_ = header.size();
  // Rank of the alias that claimed each column: a better-ranked alias anywhere in the header wins
  // (a file with both `CostInBillingCurrency` and `Cost` is read from the first).
  std::array<std::size_t, column_count> rank;
  rank.fill(npos);
  for (std::size_t i = 0; i < header.size(); ++i) {
    std::string_view cell = header[i];
    if (cell.starts_with(utf8_bom))
      cell.remove_prefix(utf8_bom.size());
    cell = trim_ascii(cell);
    const std::string_view english = english_header_name(cell);
    if (!cost_column.empty()) {
      if (iequals_ascii(cell, cost_column) || iequals_ascii(english, cost_column)) {
        index.indexes_[static_cast<std::size_t>(Column::cost)] = i;
        rank[static_cast<std::size_t>(Column::cost)] = 0;
      }
    }
    for (std::size_t a = 0; a < std::size(aliases); ++a) {
      const Alias& alias = aliases[a];
      if (!cost_column.empty() && alias.column == Column::cost)
        continue;
      if (!iequals_ascii(cell, alias.name) && !iequals_ascii(english, alias.name))
        continue;
      const auto c = static_cast<std::size_t>(alias.column);
      if (rank[c] == npos || a < rank[c]) {
        rank[c] = a;
        index.indexes_[c] = i;
      }
    }
  }
  if (!index.has(Column::date))
    return data_error(std::string(file_name) +
                      ":1: the header has no usage date column (looked for " +
                      accepted_names(Column::date) + ", ignoring case)");
  if (!index.has(Column::cost)) {
    std::string looked_for;
    if (cost_column.empty()) {
      looked_for = accepted_names(Column::cost);
    } else {
      looked_for.append("\"").append(cost_column).append("\" (the cost_column setting)");
    }
    return data_error(std::string(file_name) + ":1: the header has no cost column (looked for " +
                      looked_for + ", ignoring case)");
  }
  return index;
}

} // namespace billdrop::azure
