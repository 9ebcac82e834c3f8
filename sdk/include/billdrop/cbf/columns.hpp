#pragma once
// The Common Bill Format columns, in the canonical order billdrop writes them
// (reference: shared/reference/anycost-stream.md, "CBF row").

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace billdrop::cbf {

enum class ValueKind : std::uint8_t {
  timestamp,     // normalised to YYYY-MM-DDTHH:MM:SSZ
  decimal,       // exact decimal, normalised to plain digits
  lineitem_type, // one of kLineItemTypes
  region,        // string, never "global"
  text,          // any UTF-8 string
};

enum class Column : std::uint8_t {
  usage_start,
  usage_end,
  lineitem_type,
  lineitem_id,
  lineitem_description,
  cost,
  discounted_cost,
  amortized_cost,
  discounted_amortized_cost,
  on_demand_cost,
  usage_amount,
  usage_units,
  resource_id,
  resource_account,
  resource_service,
  resource_region,
  resource_usage_family,
  action_operation,
  action_usage_type,
  action_account, // deprecated: rewritten to resource/account
  action_region,  // deprecated: rewritten to resource/region
  bill_invoice_id,
  k8s_cluster,
  k8s_namespace,
  k8s_deployment,
  k8s_labels,
};

inline constexpr std::size_t kColumnCount = 26;

struct ColumnInfo {
  Column column;
  std::string_view name;
  ValueKind kind;
  bool required;
};

inline constexpr std::array<ColumnInfo, kColumnCount> kColumns{{
    {Column::usage_start, "time/usage_start", ValueKind::timestamp, true},
    {Column::usage_end, "time/usage_end", ValueKind::timestamp, false},
    {Column::lineitem_type, "lineitem/type", ValueKind::lineitem_type, false},
    {Column::lineitem_id, "lineitem/id", ValueKind::text, false},
    {Column::lineitem_description, "lineitem/description", ValueKind::text, false},
    {Column::cost, "cost/cost", ValueKind::decimal, true},
    {Column::discounted_cost, "cost/discounted_cost", ValueKind::decimal, false},
    {Column::amortized_cost, "cost/amortized_cost", ValueKind::decimal, false},
    {Column::discounted_amortized_cost, "cost/discounted_amortized_cost", ValueKind::decimal,
     false},
    {Column::on_demand_cost, "cost/on_demand_cost", ValueKind::decimal, false},
    {Column::usage_amount, "usage/amount", ValueKind::decimal, false},
    {Column::usage_units, "usage/units", ValueKind::text, false},
    {Column::resource_id, "resource/id", ValueKind::text, false},
    {Column::resource_account, "resource/account", ValueKind::text, false},
    {Column::resource_service, "resource/service", ValueKind::text, false},
    {Column::resource_region, "resource/region", ValueKind::region, false},
    {Column::resource_usage_family, "resource/usage_family", ValueKind::text, false},
    {Column::action_operation, "action/operation", ValueKind::text, false},
    {Column::action_usage_type, "action/usage_type", ValueKind::text, false},
    {Column::action_account, "action/account", ValueKind::text, false},
    {Column::action_region, "action/region", ValueKind::region, false},
    {Column::bill_invoice_id, "bill/invoice_id", ValueKind::text, false},
    {Column::k8s_cluster, "k8s/cluster", ValueKind::text, false},
    {Column::k8s_namespace, "k8s/namespace", ValueKind::text, false},
    {Column::k8s_deployment, "k8s/deployment", ValueKind::text, false},
    {Column::k8s_labels, "k8s/labels", ValueKind::text, false},
}};

inline constexpr std::string_view kTagPrefix = "resource/tag:";

inline constexpr std::array<std::string_view, 9> kLineItemTypes{
    "Usage",    "Tax",    "Support", "Purchase",  "CommittedUsePurchase",
    "Discount", "Credit", "Fee",     "Adjustment"};

inline const ColumnInfo& info(Column column) {
  return kColumns[static_cast<std::size_t>(column)];
}

// The column named `key`, or nullopt (a tag column or an unknown name).
std::optional<Column> find_column(std::string_view key) noexcept;

bool is_lineitem_type(std::string_view value) noexcept;

// A decimal column's value written in exponent notation ("5e-06"). billdrop reads such values from
// sources and writes plain decimals; the API takes plain decimals only, so CBF that is about to be
// sent (a drop body, CBF rows checked by `validate`) must not hold them.
bool is_exponent_decimal(std::string_view column, std::string_view value) noexcept;

// Tag keys: ASCII letters, digits and _ . : / = + - @, at least one character.
bool is_valid_tag_key(std::string_view key) noexcept;

} // namespace billdrop::cbf
