#pragma once
// The columns of one CUR file, resolved once from its header into plain indexes so that mapping a
// row never looks a name up. Legacy headers (`lineItem/UnblendedCost`) and snake_case headers
// (`line_item_unblended_cost`, CUR 2.0 and Athena deliveries) resolve to the same slots: a name is
// compared by its letters and digits only, lower-cased.

#include <billdrop/result.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace billdrop::aws {

inline constexpr std::size_t no_column = static_cast<std::size_t>(-1);

// A column holding one tag; `key` is the CBF tag key before the shared rewrite rule.
struct TagColumn {
  std::size_t index = no_column;
  std::string key;
};

// The CBF tag key (before the shared rewrite rule) for a key of a `resource_tags` map cell:
// `user:` is dropped (user tags read as their own names) and `aws:` kept (AWS-generated tags stay
// distinguishable). The snake_case forms that Athena and CID queries use (`user_cost_center`,
// `aws_created_by`) follow the snake_case column rule: `user_` is dropped, `aws_` becomes `aws:`.
// Anything else is kept as is. The result is `source_key`'s tail or is written to `buffer`.
std::string_view cbf_tag_key(std::string_view source_key, std::string& buffer);

struct CurColumns {
  std::size_t usage_start = no_column;
  std::size_t line_item_type = no_column;
  std::size_t unblended_cost = no_column;
  std::size_t net_unblended_cost = no_column;
  std::size_t usage_account = no_column;
  std::size_t product_code = no_column;
  std::size_t usage_type = no_column;
  std::size_t operation = no_column;
  std::size_t resource_id = no_column;
  std::size_t description = no_column;
  std::size_t invoice_id = no_column;
  std::size_t usage_amount = no_column;
  std::size_t pricing_unit = no_column;
  std::size_t region_code = no_column;       // product/regionCode, product_region_code
  std::size_t region = no_column;            // product/region (a code in CUR files)
  std::size_t availability_zone = no_column; // lineItem/AvailabilityZone
  std::size_t product_family = no_column;
  std::size_t billing_period_start = no_column; // bill/BillingPeriodStartDate
  std::size_t on_demand_cost = no_column;
  std::size_t sp_effective_cost = no_column;
  std::size_t sp_net_effective_cost = no_column;
  std::size_t sp_total_commitment = no_column;
  std::size_t sp_used_commitment = no_column;
  std::size_t ri_arn = no_column;
  std::size_t ri_effective_cost = no_column;
  std::size_t ri_net_effective_cost = no_column;
  std::size_t ri_unused_upfront = no_column;
  std::size_t ri_net_unused_upfront = no_column;
  std::size_t ri_unused_recurring = no_column;
  std::size_t ri_net_unused_recurring = no_column;
  // CUR 2.0 map columns (a JSON object or Hive map text per cell).
  std::size_t resource_tags_map = no_column;
  std::size_t cost_category_map = no_column;
  std::size_t product_map = no_column;

  std::vector<TagColumn> tags;       // resourceTags/*, costCategory/* and their snake_case forms
  std::vector<std::string> tag_keys; // tags[i].key, for TagColumns::declare()
  std::vector<std::string> names;    // the header as written, for messages
  std::size_t count = 0;
  std::size_t required_end = 0; // the last column every row needs (start, type, costs)

  bool has_net() const noexcept { return net_unblended_cost != no_column; }
  // Whether a line's region or product family can only come from the `product` map.
  bool region_from_product_map() const noexcept {
    return product_map != no_column && region_code == no_column && region == no_column;
  }
  bool family_from_product_map() const noexcept {
    return product_map != no_column && product_family == no_column;
  }
  const std::string& name(std::size_t index) const { return names[index]; }
  // Every column a row is mapped from (the ones the file has): what CsvReader::select() splits.
  std::vector<std::size_t> used() const;

  // Resolves `header`. A header without the columns every row needs (usage start date, line item
  // type, unblended cost) is an error that names `file` and lists what it found.
  static Result<CurColumns> resolve(const std::vector<std::string>& header, std::string_view file);
};

} // namespace billdrop::aws
