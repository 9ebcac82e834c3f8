#pragma once
// Maps one billing export record to CBF rows: the charge itself at its gross cost, then one row
// per credit in the same hour with the same dimensions, so that a month's Σ cost/cost is exactly
// Σ (cost + Σ credits.amount) and no credit is counted twice.

#include "billing_record.hpp"

#include <billdrop/decimal.hpp>
#include <billdrop/result.hpp>
#include <billdrop/source_plugin.hpp>
#include <billdrop/tags.hpp>
#include <billdrop/timestamp.hpp>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace billdrop::gcp {

// Which month a record belongs to when listing and reading months.
enum class MonthBy { usage, invoice };

Result<MonthBy> parse_month_by(std::string_view text);

// "202408" (the export's form) or "2024-08".
Result<Month> parse_invoice_month(std::string_view text);

// The CBF line-item type of a credit type ("Discount" or "Credit"); unknown types give
// "Credit" and set `known` to false.
std::string_view credit_line_item_type(std::string_view credit_type, bool& known) noexcept;

// The CBF line-item type of a cost_type; unknown types give "Usage" and set `known` to false.
std::string_view cost_type_line_item_type(std::string_view cost_type, bool& known) noexcept;

struct RoutedRecord {
  UtcTime start; // usage_start_time
  Month month;   // the month the record is listed and read in
};

class RowMapper {
public:
  explicit RowMapper(MonthBy month_by) : month_by_(month_by) {}

  // The record's usage start and month. In MonthBy::invoice a record without an invoice month
  // falls back to its usage month.
  Result<RoutedRecord> route(const BillingRecord& record) const;

  // Writes the record's rows into `month` (its routed month). In MonthBy::invoice a record whose
  // usage lies outside its invoice month (a late-arriving charge) is placed in the invoice
  // month's first (or last) hour so that it counts in the month it is invoiced in. Nothing is
  // written when the record cannot be mapped: the error says why, for a reject.
  Status write(const BillingRecord& record, const RoutedRecord& routed, std::string_view origin,
               RowSink& sink);

private:
  Status parse_amounts(const BillingRecord& record);
  void collect_dimensions(const BillingRecord& record, RowSink& sink);
  void write_dimensions(RowSink& sink);
  // Adds a tag to the row's tags and to the text its synthetic resource id is made from.
  void add_tag(std::string_view key, std::string_view value);
  // The row's tags as one text ("key\x1fvalue\x1e" each, sorted).
  std::string_view tags_text();

  MonthBy month_by_;
  TagColumns tags_{"gcp label key rewritten"};
  std::string start_text_;
  std::string cost_text_;
  std::string usage_amount_text_;
  std::vector<std::string> credit_texts_;
  std::string resource_id_;
  std::string tag_key_;
  std::vector<std::string> tag_texts_; // "key\x1fvalue" of the row's tags; capacity kept
  std::size_t tag_count_ = 0;
  std::string tags_text_;
  // The dimensions every row of the record shares: (CBF column, value).
  std::vector<std::pair<std::string_view, std::string_view>> dimensions_;
};

} // namespace billdrop::gcp
