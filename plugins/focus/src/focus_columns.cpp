#include "focus_columns.hpp"

#include <billdrop/text.hpp>

#include <vector>

namespace billdrop::focus {
namespace {

constexpr bool specs_in_enum_order() {
  for (std::size_t i = 0; i < column_specs.size(); ++i)
    if (static_cast<std::size_t>(column_specs[i].column) != i)
      return false;
  return true;
}
static_assert(specs_in_enum_order(), "column_specs must list the columns in Column's order");

} // namespace

Result<FocusHeader> FocusHeader::bind(const CsvRecord& header, std::string_view file) {
  FocusHeader bound;
  bound.indexes_.fill(absent);
  bound.field_count_ = header.size();
  for (std::size_t i = 0; i < header.size(); ++i) {
    const std::string_view name = trim_ascii(header[i]);
    for (const ColumnSpec& spec : column_specs) {
      // The first of two equal names wins, as it would in a spreadsheet lookup.
      if (spec.name == name && bound.indexes_[static_cast<std::size_t>(spec.column)] == absent)
        bound.indexes_[static_cast<std::size_t>(spec.column)] = i;
    }
  }

  std::string missing;
  std::size_t missing_count = 0;
  for (const ColumnSpec& spec : column_specs) {
    if (!spec.mandatory || bound.has(spec.column))
      continue;
    ++missing_count;
    if (!missing.empty())
      missing += ", ";
    missing += spec.name;
    for (std::size_t i = 0; i < header.size(); ++i) {
      const std::string_view name = trim_ascii(header[i]);
      if (iequals_ascii(name, spec.name)) {
        missing += " (did you mean \"" + std::string(name) + "\"? names are case-sensitive)";
        break;
      }
    }
  }
  if (missing_count != 0)
    return data_error(std::string(file) + ":1: not a FOCUS 1.0-1.2 file: the header lacks " +
                      std::to_string(missing_count) + " mandatory column" +
                      (missing_count == 1 ? "" : "s") + ": " + missing);
  return bound;
}

} // namespace billdrop::focus
