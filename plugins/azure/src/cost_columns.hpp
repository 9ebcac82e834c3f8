#pragma once
// The columns of an Azure cost export, under every name Microsoft has given them: EA
// (`CostInBillingCurrency`, or `Cost` with a byte-order mark), MCA camelCase, legacy
// pay-as-you-go (`SubscriptionGuid`, `UsageDateTime`, `PreTaxCost`) and localized headers that
// carry the English name in parentheses (`Abonnement-GUID (SubscriptionGuid)`). A file's header
// is resolved once; rows are then read by index.

#include <billdrop/csv.hpp>
#include <billdrop/result.hpp>
#include <billdrop/text.hpp>

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace billdrop::azure {

enum class Column {
  date,
  cost,
  subscription,
  meter_category,
  meter_subcategory,
  meter_id,
  meter_name,
  resource_id,
  location,
  quantity,
  unit,
  charge_type,
  pricing_model,
  tags,
  benefit_id,
  reservation_id,
  invoice_id,
  product,
  consumed_service,
};
inline constexpr std::size_t column_count = static_cast<std::size_t>(Column::consumed_service) + 1;

// The canonical English name of a column ("CostInBillingCurrency" for Column::cost), for messages.
std::string_view canonical_name(Column column) noexcept;
// Every accepted name of a column, in order of preference, joined with ", " (for messages).
std::string accepted_names(Column column);

// The English name a header cell stands for: without a byte-order mark and surrounding spaces,
// and for "Localized (EnglishName)" the part in parentheses.
std::string_view english_header_name(std::string_view header) noexcept;

// Column indexes of one file, resolved from its header.
class ColumnIndex {
public:
  static constexpr std::size_t npos = CsvHeader::npos;

  // Resolves `header` (the file's first record). `cost_column`, when not empty, names the cost
  // column instead of the built-in aliases. Fails when the date or cost column is missing,
  // naming the file and the names that were looked for.
  static Result<ColumnIndex> resolve(const CsvRecord& header, std::string_view file_name,
                                     std::string_view cost_column = {});

  std::size_t operator[](Column column) const noexcept {
    return indexes_[static_cast<std::size_t>(column)];
  }
  bool has(Column column) const noexcept { return (*this)[column] != npos; }
  // The cell of `column` in `record`, trimmed; "" when the file has no such column or the record
  // is too short to hold it.
  std::string_view get(const CsvRecord& record, Column column) const noexcept {
    const std::size_t i = (*this)[column];
    if (i >= record.size()) // npos included
      return {};
    const std::string_view cell = record[i];
    // Most cells have no surrounding spaces: two byte checks instead of the trim's loops.
    if (cell.empty() || (!is_ascii_space(cell.front()) && !is_ascii_space(cell.back())))
      return cell;
    return trim_ascii(cell);
  }
  std::size_t header_size() const noexcept { return header_size_; }

private:
  std::array<std::size_t, column_count> indexes_{};
  std::size_t header_size_ = 0;
};

} // namespace billdrop::azure
