#include "cur_row_mapper.hpp"

#include <algorithm>

namespace billdrop::aws {
namespace {

// "-12.5", "0", "3.000": an optional minus, digits, and optionally a point followed by digits.
bool is_plain_decimal(std::string_view text) noexcept {
  std::size_t i = 0;
  if (i < text.size() && text[i] == '-')
    ++i;
  const std::size_t first_digit = i;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9')
    ++i;
  if (i == first_digit)
    return false;
  if (i == text.size())
    return true;
  if (text[i] != '.')
    return false;
  const std::size_t first_fraction = ++i;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9')
    ++i;
  return i == text.size() && i > first_fraction;
}

bool is_lower_letters(std::string_view text) noexcept {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= 'a' && c <= 'z'; });
}

// Whether `key` spells `name` (lower-case letters and digits) when only its letters and digits
// are compared, ignoring case: "region_code", "regionCode" and "RegionCode" all match
// "regioncode", as column names do.
bool same_name(std::string_view key, std::string_view name) noexcept {
  std::size_t n = 0;
  for (const char c : key) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum)
      continue;
    if (n == name.size() || to_lower_ascii(c) != name[n])
      return false;
    ++n;
  }
  return n == name.size();
}

} // namespace

Result<std::string_view> plain_decimal(std::string_view text, std::string& buffer) {
  if (is_plain_decimal(text))
    return text;
  Result<Decimal> value = Decimal::parse(text);
  if (!value)
    return value.error(); // quotes the text and says what is wrong with it
  buffer.clear();
  value->append_to(buffer);
  return std::string_view(buffer);
}

std::string_view region_of_availability_zone(std::string_view zone) noexcept {
  // <letters>-<letters>[-<letters>...]-<digits> then the zone letter ("us-east-1a",
  // "us-gov-west-1b"), or "-" and a Local/Wavelength Zone suffix ("us-east-1-bos-1a").
  std::size_t pos = 0;
  int words = 0;
  while (true) {
    const std::size_t dash = zone.find('-', pos);
    if (!is_lower_letters(zone.substr(pos, dash == std::string_view::npos ? dash : dash - pos)))
      break;
    if (dash == std::string_view::npos)
      return {}; // letters only: not a zone
    ++words;
    pos = dash + 1;
  }
  if (words < 2)
    return {};
  std::size_t end = pos;
  while (end < zone.size() && zone[end] >= '0' && zone[end] <= '9')
    ++end;
  if (end == pos)
    return {};
  if (end == zone.size()) // already a region code
    return zone;
  if (zone[end] == '-') // a Local Zone or Wavelength Zone of the region
    return zone.substr(0, end);
  if (end + 1 == zone.size() && zone[end] >= 'a' && zone[end] <= 'z')
    return zone.substr(0, end);
  return {};
}

Result<MonthBy> parse_month_by(std::string_view text) {
  if (text == "usage")
    return MonthBy::usage;
  if (text == "billing_period")
    return MonthBy::billing_period;
  return config_error("month_by \"" + std::string(text) + "\" is not one of usage, billing_period");
}

CurRowMapper::CurRowMapper(RowSink& sink, ReadScope scope)
    : sink_(sink), scope_(scope), period_start_(scope.month.first_instant()),
      period_end_(scope.month.next().first_instant()) {}

Result<std::string_view> CurRowMapper::amount(std::size_t index, std::string& buffer) {
  Result<std::string_view> value = plain_decimal(cell(index), buffer);
  if (!value)
    return data_error(columns_->name(index) + " " + value.error().message());
  return value;
}

Result<Decimal> CurRowMapper::decimal(std::size_t index) {
  const std::string_view text = cell(index);
  if (text.empty())
    return Decimal();
  Result<Decimal> value = Decimal::parse(text);
  if (!value)
    return data_error(columns_->name(index) + " " + value.error().message());
  return value;
}

void CurRowMapper::note_fallback(std::string_view column) {
  sink_.note("amortized cost: column " + std::string(column) +
             " absent, lineItem/UnblendedCost used instead");
}

Result<std::string_view> CurRowMapper::amortized(AmortizedRule rule, bool net,
                                                 std::string_view billed, std::string& buffer) {
  const CurColumns& c = *columns_;
  // The Net twin when the net figure is asked for and the file has it, else the gross column.
  const auto pick = [net](std::size_t gross, std::size_t net_twin) {
    return net && net_twin != no_column ? net_twin : gross;
  };
  const std::string_view unblended = cell(c.unblended_cost);
  const std::string_view fallback = net ? billed : unblended;
  switch (rule) {
  case AmortizedRule::unblended:
    break;
  case AmortizedRule::zero:
    return std::string_view("0");
  case AmortizedRule::fee_or_ri_upfront:
    if (!cell(c.ri_arn).empty())
      return std::string_view("0");
    break;
  case AmortizedRule::sp_effective:
  case AmortizedRule::ri_effective: {
    const bool sp = rule == AmortizedRule::sp_effective;
    const std::size_t column = sp ? pick(c.sp_effective_cost, c.sp_net_effective_cost)
                                  : pick(c.ri_effective_cost, c.ri_net_effective_cost);
    if (column == no_column) {
      note_fallback(sp ? "savingsPlan/SavingsPlanEffectiveCost" : "reservation/EffectiveCost");
      break;
    }
    if (cell(column).empty())
      return std::string_view("0");
    return amount(column, buffer);
  }
  case AmortizedRule::sp_unused:
  case AmortizedRule::ri_unused: {
    const bool sp = rule == AmortizedRule::sp_unused;
    const std::size_t first =
        sp ? c.sp_total_commitment : pick(c.ri_unused_upfront, c.ri_net_unused_upfront);
    const std::size_t second =
        sp ? c.sp_used_commitment : pick(c.ri_unused_recurring, c.ri_net_unused_recurring);
    if (first == no_column || second == no_column) {
      note_fallback(sp ? "savingsPlan/TotalCommitmentToDate or savingsPlan/UsedCommitment"
                       : "reservation/UnusedAmortizedUpfrontFeeForBillingPeriod or "
                         "reservation/UnusedRecurringFee");
      break;
    }
    Result<Decimal> a = decimal(first);
    if (!a)
      return std::move(a).error();
    Result<Decimal> b = decimal(second);
    if (!b)
      return std::move(b).error();
    buffer.clear();
    (sp ? *a - *b : *a + *b).append_to(buffer);
    return std::string_view(buffer);
  }
  }
  if (fallback.data() == billed.data())
    return billed;
  return amount(c.unblended_cost, buffer);
}

const LineItemType& CurRowMapper::line_item_type(std::string_view text) {
  if (const LineItemType* type = find_line_item_type(text))
    return *type;
  static constexpr LineItemType unknown{"", default_cbf_type, AmortizedRule::unblended};
  auto it = unknown_type_notes_.find(text);
  if (it == unknown_type_notes_.end())
    it = unknown_type_notes_
             .emplace(std::string(text),
                      text.empty()
                          ? "empty line item type mapped to " + std::string(default_cbf_type)
                          : "unknown line item type '" + std::string(text) + "' mapped to " +
                                std::string(default_cbf_type))
             .first;
  sink_.note(it->second);
  return unknown;
}

Status CurRowMapper::reject(std::string_view origin, const Error& error) {
  sink_.reject(origin, error.message());
  return {};
}

Result<bool> CurRowMapper::in_billing_period(UtcTime start) {
  const std::string_view text = cell(columns_->billing_period_start);
  if (text.empty()) // no period given: the usage month stands in for it
    return scope_.month.contains(start);
  Result<UtcTime> period = parse_timestamp(text);
  if (!period) {
    // It could belong to any month: it is rejected once, in the read of its usage month.
    if (!scope_.month.contains(start))
      return false;
    return data_error(columns_->name(columns_->billing_period_start) + " " +
                      quote_for_message(text) + " is not a timestamp");
  }
  return scope_.month.contains(*period);
}

Status CurRowMapper::take_month_of(UtcTime start) {
  Month month = Month::of(start);
  if (scope_.month_by == MonthBy::billing_period && columns_->billing_period_start != no_column) {
    const std::string_view text = cell(columns_->billing_period_start);
    if (!text.empty()) {
      Result<UtcTime> period = parse_timestamp(text);
      if (!period) // the same reject as the read of its usage month gives
        return data_error(columns_->name(columns_->billing_period_start) + " " +
                          quote_for_message(text) + " is not a timestamp");
      month = Month::of(*period);
    }
  }
  if (month != scope_.month) {
    scope_.month = month;
    period_start_ = month.first_instant();
    period_end_ = month.next().first_instant();
  }
  return {};
}

void CurRowMapper::outside_period(UtcTime& start) {
  const Month dated = Month::of(start);
  const bool before = start < period_start_;
  auto it = outside_period_notes_.find({scope_.month, dated});
  if (it == outside_period_notes_.end()) {
    const std::string period = scope_.month.to_string();
    std::string note =
        "billing period " + period + " holds lines dated " + dated.to_string() + ": ";
    if (scope_.month_by == MonthBy::billing_period)
      note += before ? "placed in its first hour" : "placed in its last hour";
    else
      note += "filed under " + dated.to_string() +
              " (month_by = \"billing_period\" keeps them in " + period + ")";
    it = outside_period_notes_.emplace(std::pair{scope_.month, dated}, std::move(note)).first;
  }
  sink_.note(it->second);
  if (scope_.month_by == MonthBy::billing_period)
    start = before ? period_start_ : UtcTime{period_end_.seconds - 3600};
}

Status CurRowMapper::read_product_map(std::string_view& region, std::string_view& family) {
  const CurColumns& c = *columns_;
  const std::string_view text = cell(c.product_map);
  if (text.empty())
    return {};
  if (Status parsed = parse_map_cell(text, product_entries_, product_storage_); !parsed)
    return parsed.error().with_context(c.name(c.product_map));
  std::string_view region_code;
  for (const auto& [key, value] : product_entries_) {
    if (c.region_from_product_map()) {
      if (same_name(key, "regioncode"))
        region_code = value;
      else if (same_name(key, "region") && region.empty())
        region = value;
    }
    if (c.family_from_product_map() && same_name(key, "productfamily"))
      family = value;
  }
  if (!region_code.empty())
    region = region_code;
  return {};
}

Status CurRowMapper::map(std::span<const std::string_view> record, std::string_view origin) {
  const CurColumns& c = *columns_;
  record_ = record;
  // Some deliveries end lines before trailing empty cells (koku's samples do): a short line is
  // read with its missing cells empty as long as it holds every column a row needs.
  if (record.size() != c.count) {
    if (record.size() > c.count || record.size() <= c.required_end)
      return reject(origin, data_error("the line has " + std::to_string(record.size()) +
                                       " fields; the header of " + std::string(file_name_) +
                                       " has " + std::to_string(c.count)));
    sink_.note("lines shorter than their header (missing trailing cells read as empty)");
  }

  const std::string_view start_text = cell(c.usage_start);
  Result<UtcTime> start = parse_timestamp(start_text);
  if (!start)
    return reject(origin, data_error(c.name(c.usage_start) + " " + quote_for_message(start_text) +
                                     " is not a timestamp"));
  if (scope_.every_month)
    if (Status placed = take_month_of(*start); !placed)
      return reject(origin, placed.error());
  if (!scope_.period_files) {
    // A loose file is read once per month it holds: take only this month's lines.
    if (scope_.month_by == MonthBy::billing_period && c.billing_period_start != no_column) {
      Result<bool> in_period = in_billing_period(*start);
      if (!in_period)
        return reject(origin, in_period.error());
      if (!*in_period)
        return {};
    } else if (*start < period_start_ || *start >= period_end_) {
      return {};
    }
  }
  // Counted (and with billing_period moved) only once the line is known to become a row.
  const bool outside = *start < period_start_ || *start >= period_end_;

  // Billed cost: the net unblended cost when the file has it and the line fills it.
  const bool net_present = c.has_net() && !cell(c.net_unblended_cost).empty();
  const std::size_t billed_column = net_present ? c.net_unblended_cost : c.unblended_cost;
  if (cell(billed_column).empty())
    return reject(origin, data_error(c.name(billed_column) + " is empty"));
  Result<std::string_view> billed = amount(billed_column, cost_);
  if (!billed)
    return reject(origin, billed.error());

  const std::string_view type_text = cell(c.line_item_type);
  const std::string_view product_code = cell(c.product_code);
  const LineItemType& type = line_item_type(type_text);
  std::string_view cbf_type = type.cbf_type;
  if (type.amortized == AmortizedRule::fee_or_ri_upfront) {
    if (!cell(c.ri_arn).empty())
      cbf_type = "CommittedUsePurchase"; // the upfront payment of a reservation
    else if (is_support_product(product_code))
      cbf_type = "Support";
  }

  Result<std::string_view> gross = amortized(type.amortized, false, *billed, gross_amortized_);
  if (!gross)
    return reject(origin, gross.error());
  std::string_view net_amortized;
  if (c.has_net()) {
    Result<std::string_view> net = amortized(type.amortized, true, *billed, net_amortized_);
    if (!net)
      return reject(origin, net.error());
    net_amortized = *net;
  }
  std::string_view on_demand;
  if (!cell(c.on_demand_cost).empty()) {
    Result<std::string_view> value = amount(c.on_demand_cost, on_demand_);
    if (!value)
      return reject(origin, value.error());
    on_demand = *value;
  }
  std::string_view usage_amount;
  if (!cell(c.usage_amount).empty()) {
    Result<std::string_view> value = amount(c.usage_amount, usage_);
    if (!value)
      return reject(origin, value.error());
    usage_amount = *value;
  }

  tags_.clear();
  for (std::size_t i = 0; i < c.tags.size(); ++i)
    tags_.add(tag_handles_[i], cell(c.tags[i].index));
  if (!cell(c.resource_tags_map).empty()) {
    if (Status parsed = parse_map_cell(cell(c.resource_tags_map), map_entries_, map_storage_);
        !parsed)
      return reject(origin, parsed.error().with_context(c.name(c.resource_tags_map)));
    for (const auto& [key, value] : map_entries_)
      tags_.add(cbf_tag_key(key, tag_key_), value);
  }
  if (!cell(c.cost_category_map).empty()) {
    if (Status parsed = parse_map_cell(cell(c.cost_category_map), map_entries_, map_storage_);
        !parsed)
      return reject(origin, parsed.error().with_context(c.name(c.cost_category_map)));
    for (const auto& [key, value] : map_entries_) {
      tag_key_.assign("cost_category:");
      tag_key_.append(key);
      tags_.add(tag_key_, value);
    }
  }

  // Region: the product's region code, else product/region, else (CUR 2.0 without those columns)
  // the `product` map, else the availability zone's region. "global" is never a region.
  std::string_view region = cell(c.region_code);
  if (region.empty() || iequals_ascii(region, "global"))
    region = cell(c.region);
  std::string_view family = cell(c.product_family);
  if (c.region_from_product_map() || c.family_from_product_map()) {
    std::string_view map_region;
    if (Status read = read_product_map(map_region, family); !read)
      return reject(origin, read.error());
    if (region.empty() || iequals_ascii(region, "global"))
      region = map_region;
  }
  if (region.empty() || iequals_ascii(region, "global"))
    region = region_of_availability_zone(cell(c.availability_zone));
  if (iequals_ascii(region, "global"))
    region = {};
  const std::string_view account = cell(c.usage_account);
  std::string_view resource_id = cell(c.resource_id);
  if (resource_id.empty() && !tags_.empty()) {
    // The tags are part of the id: lines that differ only in a tag value are two resources, not
    // one with two values for one key (which CBF does not allow).
    synthetic_resource_id(resource_id_, product_code.empty() ? "aws" : product_code,
                          {account, product_code, cell(c.usage_type), cell(c.operation), region},
                          tags_);
    resource_id = resource_id_;
    sink_.note("synthetic resource/id for tagged lines without a resource id");
  }

  if (outside)
    outside_period(*start);
  // CUR writes times as 2024-08-01T00:00:00Z, the form CBF takes, or as 2024-08-01 00:00:00
  // (koku's samples): such a text goes out as it is or with a T and a Z (the host checks it
  // again); others, and a line moved into its billing period, are written anew.
  std::string_view usage_start =
      outside ? std::string_view() : canonical_utc_text(start_text, plain_start_);
  if (usage_start.empty()) {
    start_.clear();
    append_iso(start_, *start);
    usage_start = start_;
  }
  sink_.begin_row(origin);
  sink_.field("time/usage_start", usage_start);
  sink_.field("cost/cost", *billed);
  sink_.field("cost/amortized_cost", *gross);
  if (!net_amortized.empty())
    sink_.field("cost/discounted_amortized_cost", net_amortized);
  if (!on_demand.empty())
    sink_.field("cost/on_demand_cost", on_demand);
  sink_.field("lineitem/type", cbf_type);
  const auto optional = [this](std::string_view key, std::string_view value) {
    if (!value.empty())
      sink_.field(key, value);
  };
  optional("resource/account", account);
  optional("resource/service", product_code);
  optional("resource/region", region);
  optional("resource/id", resource_id);
  optional("resource/usage_family", family);
  if (!usage_amount.empty()) {
    sink_.field("usage/amount", usage_amount);
    optional("usage/units", cell(c.pricing_unit));
  }
  optional("lineitem/description", cell(c.description));
  optional("bill/invoice_id", cell(c.invoice_id));
  optional("action/usage_type", cell(c.usage_type));
  optional("action/operation", cell(c.operation));
  tags_.write(sink_);
  ++rows_;
  return sink_.end_row();
}

} // namespace billdrop::aws
