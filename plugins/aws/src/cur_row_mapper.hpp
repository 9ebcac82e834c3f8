#pragma once
// Maps one CUR line to one CBF row (the field mapping is in the plugin README). Everything a row
// needs is reused from row to row: the mapper allocates only for rare events (an exponent to
// rewrite, a formula to compute, a new tag key, the first of a kind of note).

#include "cur_columns.hpp"
#include "line_item_types.hpp"
#include "map_cell.hpp"

#include <billdrop/csv.hpp>
#include <billdrop/decimal.hpp>
#include <billdrop/source_plugin.hpp>
#include <billdrop/tags.hpp>
#include <billdrop/text.hpp>
#include <billdrop/timestamp.hpp>

#include <span>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace billdrop::aws {

// `text` if it is already a plain decimal ("-0.5", "12"), else its plain form written to `buffer`
// ("5e-06" -> "0.000005"). An error quotes the text and says what is wrong (not a number, more
// digits than a Decimal holds).
Result<std::string_view> plain_decimal(std::string_view text, std::string& buffer);

// The region of an availability zone name: "us-east-1a" -> "us-east-1", a Local Zone
// "us-east-1-bos-1a" or a Wavelength Zone "us-east-1-wl1-bos-wlz-1" -> "us-east-1" (the parent
// region), a region code as it is. Anything else (a zone id such as "use1-az1", empty text) gives
// "".
std::string_view region_of_availability_zone(std::string_view zone) noexcept;

// Which month a line belongs to (config key `month_by`).
enum class MonthBy {
  usage,         // the month of its usage start (the default)
  billing_period // the billing period that holds it
};
Result<MonthBy> parse_month_by(std::string_view text);

// What one read() covers.
struct ReadScope {
  Month month; // the month asked for
  // true: the files read are `month`'s billing period (a report tree's period folder); false: a
  // loose file, of which only `month`'s lines are taken (by usage start, or with billing_period
  // by bill/BillingPeriodStartDate when the file has it).
  bool period_files = true;
  MonthBy month_by = MonthBy::usage;
  // true: a loose file read once for every month it holds (read_all): each line is taken in its
  // own month (its usage start's, or with billing_period its bill/BillingPeriodStartDate's), as
  // the read of that month would take it; `month` is only the first month assumed.
  bool every_month = false;
};

class CurRowMapper {
public:
  CurRowMapper(RowSink& sink, ReadScope scope);

  // The columns of the file about to be read; they must outlive the calls to map().
  void bind(const CurColumns& columns, std::string_view file_name) {
    columns_ = &columns;
    file_name_ = file_name;
    tags_.declare(columns.tag_keys);
    tag_handles_.clear();
    for (const TagColumn& tag : columns.tags)
      tag_handles_.push_back(tags_.key(tag.key));
  }

  // Maps `record` (whose origin is `origin`, "file:line") and writes it, or rejects it with a
  // reason. A non-ok status means the host asked to stop.
  Status map(const CsvRecord& record, std::string_view origin) {
    return map(std::span<const std::string_view>(record.begin(), record.size()), origin);
  }
  // The same for a row of cells from another reader (a Parquet file's row as text).
  Status map(std::span<const std::string_view> record, std::string_view origin);

  std::uint64_t rows() const noexcept { return rows_; }

private:
  std::string_view cell(std::size_t index) const noexcept {
    if (index >= record_.size())
      return {};
    const std::string_view text = record_[index];
    // Every ASCII space is at most ' ', and cells seldom start or end with one: two compares
    // settle most cells before trim_ascii() would test six characters at each end.
    if (text.empty() || (static_cast<unsigned char>(text.front()) > ' ' &&
                         static_cast<unsigned char>(text.back()) > ' '))
      return text;
    return trim_ascii(text);
  }
  // The plain decimal in column `index`, or an error naming the column.
  Result<std::string_view> amount(std::size_t index, std::string& buffer);
  // Column `index` as a Decimal; empty or absent is zero.
  Result<Decimal> decimal(std::size_t index);
  // The amortized figure for `rule`, using the Net twins when `net` is set. `billed` is the
  // unblended (or net unblended) cost already validated.
  Result<std::string_view> amortized(AmortizedRule rule, bool net, std::string_view billed,
                                     std::string& buffer);
  const LineItemType& line_item_type(std::string_view text);
  void note_fallback(std::string_view column);
  Status reject(std::string_view origin, const Error& error);
  // Whether a loose file's line belongs to this read (by its billing period); an error rejects it.
  Result<bool> in_billing_period(UtcTime start);
  // A line dated outside the period being read: noted, and with billing_period moved into it.
  void outside_period(UtcTime& start);
  // every_month: makes the line's own month the one being read.
  Status take_month_of(UtcTime start);
  // region and product family from the `product` map, when the flat columns are absent.
  Status read_product_map(std::string_view& region, std::string_view& family);

  RowSink& sink_;
  ReadScope scope_;
  UtcTime period_start_; // scope_.month's first instant
  UtcTime period_end_;   // the next month's first instant
  const CurColumns* columns_ = nullptr;
  std::string_view file_name_;
  std::span<const std::string_view> record_;

  TagColumns tags_;
  std::vector<TagColumns::Key> tag_handles_; // of columns_->tags, in order
  MapEntries map_entries_;
  std::string map_storage_;
  MapEntries product_entries_;
  std::string product_storage_;
  std::string tag_key_;
  std::string start_;
  char plain_start_[20]; // a zone-less usage start made canonical (canonical_utc_text)
  std::string cost_;
  std::string gross_amortized_;
  std::string net_amortized_;
  std::string on_demand_;
  std::string usage_;
  std::string resource_id_;
  std::map<std::string, std::string, std::less<>> unknown_type_notes_;
  // By the month read and the month a line is dated in.
  std::map<std::pair<Month, Month>, std::string> outside_period_notes_;
  std::uint64_t rows_ = 0;
};

} // namespace billdrop::aws
