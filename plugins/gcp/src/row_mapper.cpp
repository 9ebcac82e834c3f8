#include "row_mapper.hpp"

#include <billdrop/text.hpp>

#include <algorithm>
#include <array>
#include <cstddef>

namespace billdrop::gcp {
namespace {

struct TypeEntry {
  std::string_view source;
  std::string_view cbf;
};

// Credits that lower the price of what was used are discounts; money granted regardless of
// price (promotions, the free tier) is credit. Kept in step with the README's table.
constexpr std::array<TypeEntry, 9> credit_types = {{
    {"COMMITTED_USAGE_DISCOUNT", "Discount"},
    {"COMMITTED_USAGE_DISCOUNT_DOLLAR_BASE", "Discount"},
    {"DISCOUNT", "Discount"},
    {"SUSTAINED_USAGE_DISCOUNT", "Discount"},
    {"RESELLER_MARGIN", "Discount"},
    {"SUBSCRIPTION_BENEFIT", "Discount"},
    {"FEE_UTILIZATION_OFFSET", "Discount"},
    {"PROMOTION", "Credit"},
    {"FREE_TIER", "Credit"},
}};

constexpr std::array<TypeEntry, 4> cost_types = {{
    {"regular", "Usage"},
    {"tax", "Tax"},
    {"adjustment", "Adjustment"},
    {"rounding_error", "Adjustment"},
}};

bool all_digits(std::string_view text) noexcept {
  if (text.empty())
    return false;
  for (const char c : text)
    if (c < '0' || c > '9')
      return false;
  return true;
}

int to_int(std::string_view digits) noexcept {
  int value = 0;
  for (const char c : digits)
    value = value * 10 + (c - '0');
  return value;
}

// An amount as CBF text in `out`: as written when it already is the canonical text of its value
// (the common case: "0.001000", "-0.012345"), else parsed and written ("-5e-06" is
// "-0.000005").
Status amount_text(std::string_view name, std::string_view text, std::string& out) {
  out.clear();
  if (Decimal::is_canonical(text)) {
    out.assign(text);
    return {};
  }
  Result<Decimal> value = Decimal::parse(trim_ascii(text));
  if (!value)
    return data_error(std::string(name) + " " + quote_for_message(text) +
                      " is not a decimal number");
  value->append_to(out);
  return {};
}

} // namespace

Result<MonthBy> parse_month_by(std::string_view text) {
  if (text == "usage")
    return MonthBy::usage;
  if (text == "invoice")
    return MonthBy::invoice;
  return config_error("month_by \"" + std::string(text) + "\" is not one of usage, invoice");
}

Result<Month> parse_invoice_month(std::string_view text) {
  text = trim_ascii(text);
  int year = 0;
  int month = 0;
  if (text.size() == 6 && all_digits(text)) {
    year = to_int(text.substr(0, 4));
    month = to_int(text.substr(4, 2));
  } else if (text.size() == 7 && text[4] == '-' && all_digits(text.substr(0, 4)) &&
             all_digits(text.substr(5, 2))) {
    year = to_int(text.substr(0, 4));
    month = to_int(text.substr(5, 2));
  }
  if (year < 1900 || month < 1 || month > 12)
    return data_error("invoice.month " + quote_for_message(text) +
                      " is not a month (expected YYYYMM, such as 202408)");
  return Month(year, month);
}

std::string_view credit_line_item_type(std::string_view credit_type, bool& known) noexcept {
  for (const TypeEntry& entry : credit_types)
    if (iequals_ascii(entry.source, credit_type)) {
      known = true;
      return entry.cbf;
    }
  known = false;
  return "Credit";
}

std::string_view cost_type_line_item_type(std::string_view cost_type, bool& known) noexcept {
  known = true;
  if (cost_type.empty())
    return "Usage"; // exports from before cost_type existed hold only regular usage
  for (const TypeEntry& entry : cost_types)
    if (iequals_ascii(entry.source, cost_type))
      return entry.cbf;
  known = false;
  return "Usage";
}

Result<RoutedRecord> RowMapper::route(const BillingRecord& record) const {
  const std::string_view start_text = record[Field::usage_start_time];
  if (trim_ascii(start_text).empty())
    return data_error("usage_start_time is blank");
  Result<UtcTime> start = parse_timestamp(trim_ascii(start_text));
  if (!start)
    return data_error("usage_start_time " + quote_for_message(start_text) +
                      " is not a timestamp: " + start.error().message());
  RoutedRecord routed{*start, Month::of(*start)};
  if (month_by_ == MonthBy::invoice && !trim_ascii(record[Field::invoice_month]).empty()) {
    Result<Month> invoice = parse_invoice_month(record[Field::invoice_month]);
    if (!invoice)
      return invoice.error();
    routed.month = *invoice;
  }
  return routed;
}

Status RowMapper::parse_amounts(const BillingRecord& record) {
  if (trim_ascii(record[Field::cost]).empty())
    return data_error("cost is blank");
  if (Status status = amount_text("cost", record[Field::cost], cost_text_); !status)
    return status;

  usage_amount_text_.clear();
  if (!trim_ascii(record[Field::usage_amount]).empty())
    if (Status status =
            amount_text("usage.amount", record[Field::usage_amount], usage_amount_text_);
        !status)
      return status;

  if (credit_texts_.size() < record.credits.size())
    credit_texts_.resize(record.credits.size());
  std::size_t i = 0;
  for (const Credit& credit : record.credits) {
    if (trim_ascii(credit.amount).empty())
      return data_error("credit " + quote_for_message(credit.name) + " has no amount");
    if (Status status = amount_text("credit amount", credit.amount, credit_texts_[i]); !status)
      return status;
    ++i;
  }
  return {};
}

void RowMapper::collect_dimensions(const BillingRecord& record, RowSink& sink) {
  dimensions_.clear();
  const std::string_view project = record[Field::project_id];
  dimensions_.emplace_back("resource/account",
                           project.empty() ? record[Field::billing_account_id] : project);
  if (!record[Field::service_description].empty())
    dimensions_.emplace_back("resource/service", record[Field::service_description]);
  if (!record[Field::sku_description].empty())
    dimensions_.emplace_back("resource/usage_family", record[Field::sku_description]);
  if (!record[Field::sku_id].empty())
    dimensions_.emplace_back("action/usage_type", record[Field::sku_id]);
  std::string_view region = record[Field::location_region];
  if (region.empty())
    region = record[Field::location_location];
  if (!region.empty() && !iequals_ascii(region, "global"))
    dimensions_.emplace_back("resource/region", region);
  if (!record[Field::invoice_month].empty())
    dimensions_.emplace_back("bill/invoice_id", record[Field::invoice_month]);

  tags_.clear();
  tag_count_ = 0;
  for (const Label& label : record.labels)
    add_tag(label.key, label.value);
  for (const Label& label : record.system_labels) {
    bool duplicate = false;
    for (const Label& user : record.labels)
      duplicate |= user.key == label.key;
    if (duplicate) {
      // One value per key: a system label that repeats a label's key keeps both values.
      tag_key_.assign("system:");
      tag_key_ += label.key;
      add_tag(tag_key_, label.value);
      sink.note("gcp system label sharing a label's key written as system:<key>");
    } else {
      add_tag(label.key, label.value);
    }
  }
  for (const Label& label : record.project_labels) {
    tag_key_.assign("project:");
    tag_key_ += label.key;
    add_tag(tag_key_, label.value);
  }

  // "//compute.googleapis.com/projects/..." without the leading "//", so that CloudZero's split
  // on the first '/' gives the service as the type.
  std::string_view resource = record[Field::resource_global_name];
  while (!resource.empty() && resource.front() == '/')
    resource.remove_prefix(1);
  if (resource.empty())
    resource = record[Field::resource_name];
  if (!resource.empty()) {
    resource_id_.assign(resource);
  } else if (!tags_.empty()) {
    // The tags are part of the id: CBF allows one value per tag key per resource, and charges
    // with the same dimensions often differ only in their labels.
    resource_id_ = synthetic_resource_id(
        "gcp-project", {record[Field::project_id], record[Field::service_id], record[Field::sku_id],
                        record[Field::location_location], tags_text()});
  } else {
    resource_id_.clear();
  }
  if (!resource_id_.empty())
    dimensions_.emplace_back("resource/id", resource_id_);
}

void RowMapper::add_tag(std::string_view key, std::string_view value) {
  tags_.add(key, value);
  if (value.empty()) // TagColumns skips it too: an empty tag carries nothing
    return;
  if (tag_count_ == tag_texts_.size())
    tag_texts_.emplace_back();
  std::string& text = tag_texts_[tag_count_++];
  text.assign(key);
  text += '\x1f';
  text += value;
}

std::string_view RowMapper::tags_text() {
  // Sorted, so that the same tags give the same id in whatever order the export lists them.
  std::sort(tag_texts_.begin(), tag_texts_.begin() + static_cast<std::ptrdiff_t>(tag_count_));
  tags_text_.clear();
  for (std::size_t i = 0; i < tag_count_; ++i) {
    tags_text_ += tag_texts_[i];
    tags_text_ += '\x1e';
  }
  return tags_text_;
}

void RowMapper::write_dimensions(RowSink& sink) {
  for (const auto& [key, value] : dimensions_)
    sink.field(key, value);
  tags_.write(sink);
}

Status RowMapper::write(const BillingRecord& record, const RoutedRecord& routed,
                        std::string_view origin, RowSink& sink) {
  if (Status parsed = parse_amounts(record); !parsed)
    return parsed;

  UtcTime start = routed.start;
  if (!routed.month.contains(start)) {
    // Only in MonthBy::invoice: a charge invoiced in another month than its usage counts in the
    // invoice month, at the hour nearest to its usage.
    if (start < routed.month.first_instant()) {
      start = routed.month.first_instant();
      sink.note("gcp usage from before its invoice month placed in the invoice month's first hour");
    } else {
      start = UtcTime{routed.month.next().first_instant().seconds - 3600};
      sink.note("gcp usage from after its invoice month placed in the invoice month's last hour");
    }
  }
  start_text_.clear();
  append_iso(start_text_, start);

  bool known = true;
  const std::string_view type = cost_type_line_item_type(record[Field::cost_type], known);
  if (!known)
    sink.note("gcp cost_type '" + std::string(record[Field::cost_type]) + "' mapped to Usage");

  collect_dimensions(record, sink);

  sink.begin_row(origin);
  sink.field("time/usage_start", start_text_);
  sink.field("cost/cost", cost_text_);
  sink.field("lineitem/type", type);
  write_dimensions(sink);
  if (!usage_amount_text_.empty()) {
    sink.field("usage/amount", usage_amount_text_);
    if (!record[Field::usage_unit].empty())
      sink.field("usage/units", record[Field::usage_unit]);
  }
  if (!record[Field::adjustment_description].empty())
    sink.field("lineitem/description", record[Field::adjustment_description]);
  if (Status status = sink.end_row(); !status)
    return status;

  std::size_t i = 0;
  for (const Credit& credit : record.credits) {
    const std::string_view credit_type = credit_line_item_type(credit.type, known);
    if (!known)
      sink.note("gcp credit type '" + std::string(credit.type) + "' mapped to Credit");
    sink.begin_row(origin);
    sink.field("time/usage_start", start_text_);
    sink.field("cost/cost", credit_texts_[i++]);
    sink.field("lineitem/type", credit_type);
    write_dimensions(sink);
    if (!credit.id.empty())
      sink.field("lineitem/id", credit.id);
    const std::string_view description = credit.full_name.empty() ? credit.name : credit.full_name;
    if (!description.empty())
      sink.field("lineitem/description", description);
    if (Status status = sink.end_row(); !status)
      return status;
  }
  return {};
}

} // namespace billdrop::gcp
