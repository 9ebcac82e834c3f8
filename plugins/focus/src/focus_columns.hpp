#pragma once
// The FOCUS columns the plugin reads, and one file's header resolved to column indexes.
//
// FOCUS 1.0, 1.1 and 1.2 share the same 21 mandatory columns (see
// samples/schemas/focus_spec_columns_v1.0-v1.2.csv); the later versions only add optional ones.
// So one column list serves every version: a file is FOCUS when it has the mandatory columns, and
// each optional column is used when present.

#include <billdrop/csv.hpp>
#include <billdrop/result.hpp>
#include <billdrop/text.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace billdrop::focus {

enum class Column : std::uint8_t {
  // Mandatory in FOCUS 1.0, 1.1 and 1.2.
  billed_cost,
  billing_account_id,
  billing_account_name,
  billing_currency,
  billing_period_end,
  billing_period_start,
  charge_category,
  charge_class,
  charge_description,
  charge_period_end,
  charge_period_start,
  contracted_cost,
  effective_cost,
  invoice_issuer_name,
  list_cost,
  pricing_quantity,
  pricing_unit,
  provider_name,
  publisher_name,
  service_category,
  service_name,
  // Optional (Conditional or Recommended); used when the header has them.
  commitment_discount_id,
  consumed_quantity,
  consumed_unit,
  invoice_id,
  region_id,
  resource_id,
  sku_id,
  sub_account_id,
  tags,
};

struct ColumnSpec {
  Column column;
  std::string_view name; // as the specification spells it; matched case-sensitively
  bool mandatory;
};

inline constexpr std::array<ColumnSpec, 30> column_specs = {{
    {Column::billed_cost, "BilledCost", true},
    {Column::billing_account_id, "BillingAccountId", true},
    {Column::billing_account_name, "BillingAccountName", true},
    {Column::billing_currency, "BillingCurrency", true},
    {Column::billing_period_end, "BillingPeriodEnd", true},
    {Column::billing_period_start, "BillingPeriodStart", true},
    {Column::charge_category, "ChargeCategory", true},
    {Column::charge_class, "ChargeClass", true},
    {Column::charge_description, "ChargeDescription", true},
    {Column::charge_period_end, "ChargePeriodEnd", true},
    {Column::charge_period_start, "ChargePeriodStart", true},
    {Column::contracted_cost, "ContractedCost", true},
    {Column::effective_cost, "EffectiveCost", true},
    {Column::invoice_issuer_name, "InvoiceIssuerName", true},
    {Column::list_cost, "ListCost", true},
    {Column::pricing_quantity, "PricingQuantity", true},
    {Column::pricing_unit, "PricingUnit", true},
    {Column::provider_name, "ProviderName", true},
    {Column::publisher_name, "PublisherName", true},
    {Column::service_category, "ServiceCategory", true},
    {Column::service_name, "ServiceName", true},
    {Column::commitment_discount_id, "CommitmentDiscountId", false},
    {Column::consumed_quantity, "ConsumedQuantity", false},
    {Column::consumed_unit, "ConsumedUnit", false},
    {Column::invoice_id, "InvoiceId", false},
    {Column::region_id, "RegionId", false},
    {Column::resource_id, "ResourceId", false},
    {Column::sku_id, "SkuId", false},
    {Column::sub_account_id, "SubAccountId", false},
    {Column::tags, "Tags", false},
}};

// A cell with surrounding spaces removed; "", "NULL" and "null" (how exports write a null) give
// an empty view, which the plugin treats as absent.
inline std::string_view cell_value(std::string_view cell) noexcept {
  // Most cells have no surrounding spaces: two byte checks instead of the trim's loops.
  if (!cell.empty() && (is_ascii_space(cell.front()) || is_ascii_space(cell.back())))
    cell = trim_ascii(cell);
  if (cell.size() == 4 && (cell == "NULL" || cell == "null"))
    return {};
  return cell;
}

// One file's header: where each FOCUS column is, and how many fields a record must have.
class FocusHeader {
public:
  static constexpr std::size_t absent = static_cast<std::size_t>(-1);

  // Resolves the columns of `header`, whose names are trimmed of spaces (a byte-order mark is
  // already gone). A header without every mandatory column is a data error naming `file` and
  // listing each missing column ("did you mean" when only the case differs). Columns starting
  // with x_ (provider extensions) and other columns the plugin does not map are ignored.
  static Result<FocusHeader> bind(const CsvRecord& header, std::string_view file);

  std::size_t index(Column column) const noexcept {
    return indexes_[static_cast<std::size_t>(column)];
  }
  bool has(Column column) const noexcept { return index(column) != absent; }
  std::size_t field_count() const noexcept { return field_count_; }

  // The value of `column` in `record` (see cell_value()); empty when the header lacks it.
  std::string_view get(const CsvRecord& record, Column column) const noexcept {
    const std::size_t i = index(column);
    return i < record.size() ? cell_value(record[i]) : std::string_view();
  }

private:
  std::array<std::size_t, column_specs.size()> indexes_{};
  std::size_t field_count_ = 0;
};

} // namespace billdrop::focus
