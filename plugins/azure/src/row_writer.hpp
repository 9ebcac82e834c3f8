#pragma once
// Writes one Azure export row as a CBF row (the field mapping table is in the README).

#include "cost_file.hpp"
#include "region_names.hpp"
#include "tag_parser.hpp"

#include <billdrop/decimal.hpp>
#include <billdrop/source_plugin.hpp>
#include <billdrop/tags.hpp>
#include <billdrop/timestamp.hpp>

#include <string>
#include <utility>
#include <vector>

namespace billdrop::azure {

// The cost figures of a row. `amortized` is null when no amortized figure is known (one export
// only): the row then carries cost/cost alone and CBF's fallbacks apply.
struct RowCosts {
  const Decimal* cost;
  const Decimal* amortized;
};

class RowWriter {
public:
  // Writes the current row of `file`. Returns the sink's status (non-ok: the host asked to stop).
  Status write(CostFile& file, UtcTime start, RowCosts costs, const Decimal* quantity,
               RowSink& sink);

private:
  // Adds the tags of a Tags cell to tags_; false when the cell is not a JSON object.
  bool add_tags(std::string_view cell);

  TagColumns tags_{"azure: tag key rewritten"};
  TagParser tag_parser_;
  // Each distinct Tags cell parsed once (exports repeat a few tag sets over millions of rows).
  TagCellCache tag_cells_;
  RegionNames regions_;
  std::string last_location_; // the last location and its region (a view into regions_)
  std::string_view last_region_;
  bool has_last_location_ = false;
  UtcTime last_start_{};
  std::string start_;
  std::string cost_;
  std::string amortized_;
  std::string quantity_;
  std::string resource_id_;
};

} // namespace billdrop::azure
