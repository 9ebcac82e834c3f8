#include "cur_columns.hpp"

#include <billdrop/text.hpp>

#include <algorithm>
#include <array>
#include <utility>

namespace billdrop::aws {
namespace {

// "lineItem/UnblendedCost" and "line_item_unblended_cost" both become "lineitemunblendedcost".
std::string canonical(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  for (const char c : name)
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
      out += c;
    else if (c >= 'A' && c <= 'Z')
      out += to_lower_ascii(c);
  return out;
}

using Slot = std::size_t CurColumns::*;

constexpr std::array<std::pair<std::string_view, Slot>, 30> known_columns{{
    {"lineitemusagestartdate", &CurColumns::usage_start},
    {"lineitemlineitemtype", &CurColumns::line_item_type},
    {"lineitemunblendedcost", &CurColumns::unblended_cost},
    {"lineitemnetunblendedcost", &CurColumns::net_unblended_cost},
    {"lineitemusageaccountid", &CurColumns::usage_account},
    {"lineitemproductcode", &CurColumns::product_code},
    {"lineitemusagetype", &CurColumns::usage_type},
    {"lineitemoperation", &CurColumns::operation},
    {"lineitemresourceid", &CurColumns::resource_id},
    {"lineitemlineitemdescription", &CurColumns::description},
    {"billinvoiceid", &CurColumns::invoice_id},
    {"lineitemusageamount", &CurColumns::usage_amount},
    {"pricingunit", &CurColumns::pricing_unit},
    {"productregioncode", &CurColumns::region_code},
    {"productregion", &CurColumns::region},
    {"lineitemavailabilityzone", &CurColumns::availability_zone},
    {"billbillingperiodstartdate", &CurColumns::billing_period_start},
    {"productproductfamily", &CurColumns::product_family},
    {"pricingpublicondemandcost", &CurColumns::on_demand_cost},
    {"savingsplansavingsplaneffectivecost", &CurColumns::sp_effective_cost},
    {"savingsplannetsavingsplaneffectivecost", &CurColumns::sp_net_effective_cost},
    {"savingsplantotalcommitmenttodate", &CurColumns::sp_total_commitment},
    {"savingsplanusedcommitment", &CurColumns::sp_used_commitment},
    {"reservationreservationarn", &CurColumns::ri_arn},
    {"reservationeffectivecost", &CurColumns::ri_effective_cost},
    {"reservationneteffectivecost", &CurColumns::ri_net_effective_cost},
    {"reservationunusedamortizedupfrontfeeforbillingperiod", &CurColumns::ri_unused_upfront},
    {"reservationnetunusedamortizedupfrontfeeforbillingperiod", &CurColumns::ri_net_unused_upfront},
    {"reservationunusedrecurringfee", &CurColumns::ri_unused_recurring},
    {"reservationnetunusedrecurringfee", &CurColumns::ri_net_unused_recurring},
}};

bool starts_with(std::string_view text, std::string_view prefix) noexcept {
  return text.substr(0, prefix.size()) == prefix;
}

// The source tag key of a tag column, or "" when the column holds no tag. Snake_case headers
// (Athena deliveries) have already lost the separator after `user`/`aws`: it is restored as `:`.
std::string tag_key_of(std::string_view name) {
  if (starts_with(name, "resourceTags/"))
    return std::string(name.substr(13));
  if (starts_with(name, "costCategory/"))
    return "cost_category:" + std::string(name.substr(13));
  if (starts_with(name, "resource_tags_")) {
    const std::string_view rest = name.substr(14);
    if (starts_with(rest, "user_"))
      return "user:" + std::string(rest.substr(5));
    if (starts_with(rest, "aws_"))
      return "aws:" + std::string(rest.substr(4));
    return std::string(rest);
  }
  if (starts_with(name, "cost_category_"))
    return "cost_category:" + std::string(name.substr(14));
  return {};
}

std::string list_names(const std::vector<std::string>& names) {
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < 12; ++i)
    out += (i ? ", " : "") + quote_for_message(names[i], 40);
  if (names.size() > 12)
    out += ", ... (" + std::to_string(names.size()) + " columns)";
  return out;
}

} // namespace

std::string_view cbf_tag_key(std::string_view source_key, std::string& buffer) {
  if (starts_with(source_key, "user:") || starts_with(source_key, "user_"))
    return source_key.substr(5);
  if (starts_with(source_key, "aws_")) {
    buffer.assign("aws:");
    buffer.append(source_key.substr(4));
    return buffer;
  }
  return source_key;
}

Result<CurColumns> CurColumns::resolve(const std::vector<std::string>& header,
                                       std::string_view file) {
  CurColumns columns;
  columns.names = header;
  columns.count = header.size();
  for (std::size_t i = 0; i < header.size(); ++i) {
    const std::string_view name = trim_ascii(header[i]);
    if (name == "resource_tags") {
      columns.resource_tags_map = i;
      continue;
    }
    if (name == "cost_category") {
      columns.cost_category_map = i;
      continue;
    }
    if (name == "product") {
      columns.product_map = i;
      continue;
    }
    if (std::string key = tag_key_of(name); !key.empty()) {
      // Only the `user:` prefix is dropped here: a column's `aws_`/`user_` were turned into
      // `aws:`/`user:` by tag_key_of already.
      if (starts_with(key, "user:"))
        key.erase(0, 5);
      columns.tag_keys.push_back(key);
      columns.tags.push_back(TagColumn{i, std::move(key)});
      continue;
    }
    const std::string key = canonical(name);
    for (const auto& [known, slot] : known_columns)
      if (key == known && columns.*slot == no_column) // the first of duplicated columns wins
        columns.*slot = i;
  }

  std::vector<std::string> missing;
  if (columns.usage_start == no_column)
    missing.emplace_back("lineItem/UsageStartDate (line_item_usage_start_date)");
  if (columns.line_item_type == no_column)
    missing.emplace_back("lineItem/LineItemType (line_item_line_item_type)");
  if (columns.unblended_cost == no_column)
    missing.emplace_back("lineItem/UnblendedCost (line_item_unblended_cost)");
  if (!missing.empty()) {
    std::string message = "unexpected header in " + std::string(file) + ": no column ";
    for (std::size_t i = 0; i < missing.size(); ++i)
      message += (i == 0 ? "" : i + 1 == missing.size() ? " or " : ", ") + missing[i];
    message += "; the header has " + list_names(header);
    return data_error(std::move(message));
  }
  columns.required_end =
      std::max({columns.usage_start, columns.line_item_type, columns.unblended_cost,
                columns.has_net() ? columns.net_unblended_cost : 0});
  return columns;
}

std::vector<std::size_t> CurColumns::used() const {
  // A column added above must be added here too, or CsvReader::select() leaves it empty: the
  // size check fails the build until it is.
  static_assert(sizeof(CurColumns) == 35 * sizeof(std::size_t) + sizeof(std::vector<TagColumn>) +
                                          2 * sizeof(std::vector<std::string>),
                "a CurColumns member was added: list it in CurColumns::used()");
  std::vector<std::size_t> columns;
  for (const std::size_t column : {usage_start,
                                   line_item_type,
                                   unblended_cost,
                                   net_unblended_cost,
                                   usage_account,
                                   product_code,
                                   usage_type,
                                   operation,
                                   resource_id,
                                   description,
                                   invoice_id,
                                   usage_amount,
                                   pricing_unit,
                                   region_code,
                                   region,
                                   availability_zone,
                                   product_family,
                                   billing_period_start,
                                   on_demand_cost,
                                   sp_effective_cost,
                                   sp_net_effective_cost,
                                   sp_total_commitment,
                                   sp_used_commitment,
                                   ri_arn,
                                   ri_effective_cost,
                                   ri_net_effective_cost,
                                   ri_unused_upfront,
                                   ri_net_unused_upfront,
                                   ri_unused_recurring,
                                   ri_net_unused_recurring,
                                   resource_tags_map,
                                   cost_category_map,
                                   product_map})
    if (column != no_column)
      columns.push_back(column);
  for (const TagColumn& tag : tags)
    columns.push_back(tag.index);
  return columns;
}

} // namespace billdrop::aws
