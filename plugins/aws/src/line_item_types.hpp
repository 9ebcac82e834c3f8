#pragma once
// CUR line item types and what each becomes in CBF (the table is in the plugin README).

#include <string_view>

namespace billdrop::aws {

// How the amortized (effective) cost of a line is computed, per the CUR reference table.
enum class AmortizedRule {
  unblended,        // lineItem/UnblendedCost (its Net twin for the net figure)
  sp_effective,     // savingsPlan/SavingsPlanEffectiveCost
  sp_unused,        // savingsPlan/TotalCommitmentToDate - savingsPlan/UsedCommitment
  zero,             // the cost is already spread over the covered usage
  ri_effective,     // reservation/EffectiveCost
  ri_unused,        // reservation/UnusedAmortizedUpfrontFee... + reservation/UnusedRecurringFee
  fee_or_ri_upfront // Fee: zero when reservation/ReservationARN is set, else unblended
};

struct LineItemType {
  std::string_view cur_name;
  std::string_view cbf_type;
  AmortizedRule amortized;
};

// The entry for a CUR line item type (exact match first, then ignoring ASCII case), or nullptr
// for a type this table does not know.
const LineItemType* find_line_item_type(std::string_view cur_name) noexcept;

// Unknown types become this CBF type (and are counted in the run report).
inline constexpr std::string_view default_cbf_type = "Usage";

// Fees for AWS Support plans arrive as `Fee` lines; CBF has a type of their own for them.
bool is_support_product(std::string_view product_code) noexcept;

} // namespace billdrop::aws
