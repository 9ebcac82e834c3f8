#include "focus_row_mapper.hpp"

#include <billdrop/decimal.hpp>
#include <billdrop/text.hpp>

#include <simdjson.h>

#include <cstring>
#include <optional>

namespace billdrop::focus {
namespace {

namespace ondemand = simdjson::ondemand;

// Rows whose Tags cannot be read are logged with their origin this many times per read; the
// note in the run report counts all of them.
constexpr std::uint64_t bad_tags_log_limit = 10;

std::string_view trim_right(std::string_view text) noexcept {
  while (!text.empty() && is_ascii_space(text.back()))
    text.remove_suffix(1);
  return text;
}

std::string_view name_of(Column column) noexcept {
  return column_specs[static_cast<std::size_t>(column)].name;
}

// The field when the value is present: the API treats a blank value as absent anyway.
void optional_field(RowSink& sink, std::string_view key, std::string_view value) {
  if (!value.empty())
    sink.field(key, value);
}

// Whether `text` is a decimal; canonical text ("-12.50"), nearly every cost, needs no parse.
bool is_decimal(std::string_view text) {
  return Decimal::is_canonical(text) || Decimal::parse(text).ok();
}

// Whether the decimal `text` is negative; nullopt when it is no decimal. Canonical text writes no
// sign on a zero, so its first character tells; any other text is parsed.
std::optional<bool> negative_decimal(std::string_view text) {
  if (Decimal::is_canonical(text))
    return text.front() == '-';
  Result<Decimal> value = Decimal::parse(text);
  if (!value)
    return std::nullopt;
  return value->is_negative();
}

} // namespace

ChargeType line_item_type(std::string_view category, std::string_view charge_class,
                          bool has_commitment_discount, bool negative_billed_cost) noexcept {
  // A correction fixes a charge of an earlier period, whatever its category.
  if (iequals_ascii(charge_class, "Correction"))
    return {"Adjustment"};
  if (iequals_ascii(category, "Usage")) {
    // A negative usage charge tied to a commitment is the commitment's discount on that usage.
    if (negative_billed_cost && has_commitment_discount)
      return {"Discount"};
    return {"Usage"};
  }
  if (iequals_ascii(category, "Purchase"))
    return {has_commitment_discount ? "CommittedUsePurchase" : "Purchase"};
  if (iequals_ascii(category, "Tax"))
    return {"Tax"};
  if (iequals_ascii(category, "Credit"))
    return {"Credit"};
  if (iequals_ascii(category, "Adjustment"))
    return {"Adjustment"};
  return {"Usage", false};
}

struct RowMapper::Json {
  ondemand::parser parser;
  std::string padded; // the Tags text followed by simdjson's padding
};

RowMapper::RowMapper() : json_(std::make_unique<Json>()) {}
RowMapper::~RowMapper() = default;

bool RowMapper::add_tags(std::string_view text) {
  return tag_cells_.add(text, tags_, [&](std::string_view cell, TagCellCache::Pairs& pairs) {
    return parse_tags(cell, pairs);
  });
}

bool RowMapper::parse_tags(std::string_view text, TagCellCache::Pairs& pairs) {
  json_->padded.resize(text.size() + simdjson::SIMDJSON_PADDING);
  std::memcpy(json_->padded.data(), text.data(), text.size());
  ondemand::document document;
  ondemand::object object;
  if (json_->parser.iterate(json_->padded.data(), text.size(), json_->padded.size()).get(document))
    return false;
  if (document.get_object().get(object))
    return false;
  for (auto member : object) {
    ondemand::field field;
    if (std::move(member).get(field))
      return false;
    std::string_view key;
    if (field.unescaped_key().get(key))
      return false;
    ondemand::value value = field.value();
    ondemand::json_type type;
    if (value.type().get(type))
      return false;
    std::string_view text_value;
    switch (type) {
    case ondemand::json_type::string:
      if (value.get_string().get(text_value))
        return false;
      break;
    case ondemand::json_type::number:
      text_value = trim_right(value.raw_json_token());
      break;
    case ondemand::json_type::boolean: {
      bool flag = false;
      if (value.get_bool().get(flag))
        return false;
      text_value = flag ? "true" : "false";
      break;
    }
    case ondemand::json_type::null: {
      bool null = false;
      if (value.is_null().get(null) || !null)
        return false;
      continue; // a null tag carries nothing
    }
    case ondemand::json_type::object: {
      // FOCUS tag values are strings; a nested value is kept as its JSON text.
      ondemand::object child;
      if (value.get_object().get(child) || child.raw_json().get(text_value))
        return false;
      break;
    }
    case ondemand::json_type::array: {
      ondemand::array child;
      if (value.get_array().get(child) || child.raw_json().get(text_value))
        return false;
      break;
    }
    }
    pairs.emplace_back(key, text_value);
  }
  return true;
}

void RowMapper::count_currency(std::string_view currency, RowSink& sink) {
  if (currency == currency_) {
    ++currency_rows_;
    return;
  }
  finish(sink);
  currency_.assign(currency);
  currency_rows_ = 1;
}

void RowMapper::finish(RowSink& sink) {
  if (currency_rows_ != 0 && !currency_.empty())
    sink.note("rows in BillingCurrency " + currency_ + " (costs are sent as billed, unconverted)",
              currency_rows_);
  currency_rows_ = 0;
  currency_.clear();
}

Status RowMapper::write(const CsvRecord& record, const FocusHeader& header, std::string_view origin,
                        std::string_view usage_start, RowSink& sink) {
  const auto reject_not_decimal = [&](Column column, std::string_view value) {
    reject_reason_.assign(name_of(column));
    reject_reason_ += ' ';
    reject_reason_ += quote_for_message(value);
    reject_reason_ += " is not a decimal number";
    sink.reject(origin, reject_reason_);
  };

  const std::string_view billed = header.get(record, Column::billed_cost);
  if (billed.empty()) {
    sink.reject(origin, "BilledCost is empty; FOCUS requires it on every row");
    return {};
  }
  const std::optional<bool> billed_negative = negative_decimal(billed);
  if (!billed_negative) {
    reject_not_decimal(Column::billed_cost, billed);
    return {};
  }
  const std::string_view effective = header.get(record, Column::effective_cost);
  if (!effective.empty() && !is_decimal(effective)) {
    reject_not_decimal(Column::effective_cost, effective);
    return {};
  }
  const std::string_view list = header.get(record, Column::list_cost);
  if (!list.empty() && !is_decimal(list)) {
    reject_not_decimal(Column::list_cost, list);
    return {};
  }
  // The consumed quantity says what was used; the pricing quantity (in pricing units) stands in
  // when a row has none. Amount and unit always come from the same pair.
  Column amount_column = Column::consumed_quantity;
  std::string_view amount = header.get(record, Column::consumed_quantity);
  std::string_view units = header.get(record, Column::consumed_unit);
  if (amount.empty()) {
    amount_column = Column::pricing_quantity;
    amount = header.get(record, Column::pricing_quantity);
    units = header.get(record, Column::pricing_unit);
  }
  if (!amount.empty() && !is_decimal(amount)) {
    reject_not_decimal(amount_column, amount);
    return {};
  }

  const std::string_view category = header.get(record, Column::charge_category);
  const ChargeType type =
      line_item_type(category, header.get(record, Column::charge_class),
                     !header.get(record, Column::commitment_discount_id).empty(), *billed_negative);
  if (!type.known)
    sink.note("ChargeCategory " + quote_for_message(category) +
              " is not a FOCUS category: " + "mapped to Usage");
  else if (type.type == "Discount")
    sink.note("negative Usage charges with a CommitmentDiscountId mapped to Discount");

  const std::string_view service = header.get(record, Column::service_name);
  std::string_view region = header.get(record, Column::region_id);
  if (iequals_ascii(region, "global")) {
    // CloudZero rejects "global"; a charge without a region is "no-region".
    region = "no-region";
    sink.note("RegionId \"global\" written as no-region");
  }
  std::string_view account = header.get(record, Column::sub_account_id);
  if (account.empty())
    account = header.get(record, Column::billing_account_id);
  std::string_view description = header.get(record, Column::charge_description);
  if (description.empty())
    description = header.get(record, Column::sku_id);

  tags_.clear();
  const std::string_view tags_text = header.get(record, Column::tags);
  if (!tags_text.empty() && !add_tags(tags_text)) {
    tags_.clear();
    sink.note("rows whose Tags is not a JSON object: kept without tags");
    if (bad_tags_logged_++ < bad_tags_log_limit)
      sink.log(LogLevel::warn, std::string(origin) + ": Tags " + quote_for_message(tags_text) +
                                   " is not a JSON object; the row is kept without tags");
  }
  std::string_view resource_id = header.get(record, Column::resource_id);
  if (!tags_.empty() && resource_id.empty()) {
    // CBF needs a resource for tags. The tags are part of the identity so that two charges with
    // different tags never claim to be one resource with two values for a key.
    resource_id_ = synthetic_resource_id(
        "focus-charge",
        {header.get(record, Column::provider_name), header.get(record, Column::billing_account_id),
         account, service, region, header.get(record, Column::sku_id), tags_text});
    resource_id = resource_id_;
    sink.note("tagged rows without ResourceId given a synthetic resource/id");
  }

  sink.begin_row(origin);
  sink.field("time/usage_start", usage_start);
  sink.field("cost/cost", billed);
  optional_field(sink, "cost/amortized_cost", effective);
  optional_field(sink, "cost/on_demand_cost", list);
  sink.field("lineitem/type", type.type);
  optional_field(sink, "resource/id", resource_id);
  optional_field(sink, "resource/account", account);
  optional_field(sink, "resource/service", service);
  optional_field(sink, "resource/region", region);
  optional_field(sink, "resource/usage_family", header.get(record, Column::service_category));
  if (!amount.empty()) {
    sink.field("usage/amount", amount);
    optional_field(sink, "usage/units", units);
  }
  optional_field(sink, "lineitem/description", description);
  optional_field(sink, "bill/invoice_id", header.get(record, Column::invoice_id));
  tags_.write(sink);
  count_currency(header.get(record, Column::billing_currency), sink);
  return sink.end_row();
}

} // namespace billdrop::focus
