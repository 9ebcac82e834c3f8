#pragma once
// Maps one CUR line to one CBF row (the field mapping is in the plugin README). Everything a row
// needs is reused from row to row: the mapper allocates only for rare events (an exponent to
// rewrite, a formula to compute, a synthetic resource id).

#include "cur_columns.hpp"
#include "line_item_types.hpp"
#include "map_cell.hpp"

#include <billdrop/csv.hpp>
#include <billdrop/decimal.hpp>
#include <billdrop/source_plugin.hpp>
#include <billdrop/tags.hpp>
#include <billdrop/text.hpp>
#include <billdrop/timestamp.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace billdrop::aws {

// `text` if it is already a plain decimal ("-0.5", "12"), else its plain form written to `buffer`
// ("5e-06" -> "0.000005"). An error quotes the text.
Result<std::string_view> plain_decimal(std::string_view text, std::string& buffer);

class CurRowMapper {
public:
  // Rows go to `sink`; with `only_month` set, lines whose usage starts in another month are skipped
  // (a single file holding several months is read once per month).
  CurRowMapper(RowSink& sink, std::optional<Month> only_month)
      : sink_(sink), only_month_(only_month) {}

  // The columns of the file about to be read; they must outlive the calls to map().
  void bind(const CurColumns& columns, std::string_view file_name) {
    columns_ = &columns;
    file_name_ = file_name;
  }

  // Maps `record` (whose origin is `origin`, "file:line") and writes it, or rejects it with a
  // reason. A non-ok status means the host asked to stop.
  Status map(const CsvRecord& record, std::string_view origin);

  std::uint64_t rows() const noexcept { return rows_; }

private:
  std::string_view cell(std::size_t index) const noexcept {
    return index < record_->size() ? trim_ascii((*record_)[index]) : std::string_view();
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

  RowSink& sink_;
  std::optional<Month> only_month_;
  const CurColumns* columns_ = nullptr;
  std::string_view file_name_;
  const CsvRecord* record_ = nullptr;

  TagColumns tags_;
  MapEntries map_entries_;
  std::string map_storage_;
  std::string tag_key_;
  std::string start_;
  std::string cost_;
  std::string gross_amortized_;
  std::string net_amortized_;
  std::string on_demand_;
  std::string usage_;
  std::string resource_id_;
  std::map<std::string, std::string, std::less<>> unknown_type_notes_;
  std::uint64_t rows_ = 0;
};

} // namespace billdrop::aws
