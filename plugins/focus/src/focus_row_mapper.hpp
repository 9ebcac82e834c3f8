#pragma once
// One FOCUS record becomes one CBF row. README.md holds the full mapping table; this is its code.

#include "focus_columns.hpp"

#include <billdrop/csv.hpp>
#include <billdrop/result.hpp>
#include <billdrop/source_plugin.hpp>
#include <billdrop/tags.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace billdrop::focus {

// The CBF lineitem/type of a charge. `category` and `charge_class` are the cells (already
// null-cleared); `known` tells whether `category` is one of FOCUS's allowed values.
struct ChargeType {
  std::string_view type;
  bool known = true;
};
ChargeType line_item_type(std::string_view category, std::string_view charge_class,
                          bool has_commitment_discount, bool negative_billed_cost) noexcept;

class RowMapper {
public:
  RowMapper();
  ~RowMapper();
  RowMapper(const RowMapper&) = delete;
  RowMapper& operator=(const RowMapper&) = delete;

  // Writes the row of `record` to `sink`, with `usage_start` (ChargePeriodStart in CBF form); or
  // rejects the record, naming the column and value, when a cost or quantity is not a decimal.
  // The status is the sink's: not ok when the host asked to stop.
  Status write(const CsvRecord& record, const FocusHeader& header, std::string_view origin,
               std::string_view usage_start, RowSink& sink);

  // Hands the tallies kept across rows to the sink; call once at the end of a read.
  void finish(RowSink& sink);

private:
  struct Json; // simdjson state, kept out of this header
  // Adds the tags of a Tags cell to tags_; false when Tags is not a JSON object.
  bool add_tags(std::string_view text);
  // The Tags object's members as (key, value) into `pairs`; false when it is not an object.
  bool parse_tags(std::string_view text, TagCellCache::Pairs& pairs);
  void count_currency(std::string_view currency, RowSink& sink);

  std::unique_ptr<Json> json_;
  TagColumns tags_;
  // Each distinct Tags cell parsed once (exports repeat a few tag sets over millions of rows).
  TagCellCache tag_cells_;
  std::string resource_id_;   // a synthetic id, when the row needs one
  std::string reject_reason_; // reused for rejects
  std::string currency_;      // BillingCurrency of the rows counted in currency_rows_
  std::uint64_t currency_rows_ = 0;
  std::uint64_t bad_tags_logged_ = 0;
};

} // namespace billdrop::focus
