#include "line_item_types.hpp"

#include <billdrop/text.hpp>

#include <array>

namespace billdrop::aws {
namespace {

constexpr std::array<LineItemType, 19> types{{
    {"Usage", "Usage", AmortizedRule::unblended},
    {"DiscountedUsage", "Usage", AmortizedRule::ri_effective},
    {"SavingsPlanCoveredUsage", "Usage", AmortizedRule::sp_effective},
    {"SavingsPlanNegation", "Discount", AmortizedRule::zero},
    {"SavingsPlanUpfrontFee", "CommittedUsePurchase", AmortizedRule::zero},
    {"SavingsPlanRecurringFee", "CommittedUsePurchase", AmortizedRule::sp_unused},
    {"RIFee", "CommittedUsePurchase", AmortizedRule::ri_unused},
    {"Fee", "Fee", AmortizedRule::fee_or_ri_upfront},
    {"Tax", "Tax", AmortizedRule::unblended},
    {"Credit", "Credit", AmortizedRule::unblended},
    {"Refund", "Credit", AmortizedRule::unblended},
    {"BundledDiscount", "Discount", AmortizedRule::unblended},
    {"EdpDiscount", "Discount", AmortizedRule::unblended},
    {"PrivateRateDiscount", "Discount", AmortizedRule::unblended},
    {"Discount", "Discount", AmortizedRule::unblended},
    {"DistributorDiscount", "Discount", AmortizedRule::unblended},
    {"SppDiscount", "Discount", AmortizedRule::unblended},
    {"TotalDiscount", "Discount", AmortizedRule::unblended},
    {"Support", "Support", AmortizedRule::unblended},
}};

} // namespace

const LineItemType* find_line_item_type(std::string_view cur_name) noexcept {
  for (const LineItemType& type : types)
    if (type.cur_name == cur_name)
      return &type;
  for (const LineItemType& type : types)
    if (iequals_ascii(type.cur_name, cur_name))
      return &type;
  return nullptr;
}

bool is_support_product(std::string_view product_code) noexcept {
  return product_code.substr(0, 10) == "AWSSupport" ||
         product_code.substr(0, 17) == "OCBPremiumSupport";
}

} // namespace billdrop::aws
