#pragma once
// CUR 2.0 writes its map columns (`resource_tags`, `cost_category`, `product`) into CSV as one
// JSON object per cell: {"user:CostCenter":"42","user:Name":"web"}. Files written by a query
// engine (Athena, Hive) print maps as `{user:CostCenter=42, user:Name=web}` instead; both are
// read. An empty cell or `{}` is an empty map.

#include <billdrop/result.hpp>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace billdrop::aws {

using MapEntries = std::vector<std::pair<std::string_view, std::string_view>>;

// Parses `cell` into `entries` (cleared first). A cell whose first key starts with '"' is JSON:
// unescaped text is written to `storage`, which the views point into, valid until the next call;
// null values are skipped, numbers and booleans kept as written. Otherwise it is Hive map text:
// the views point into `cell`. Anything else is an error that says what was expected at which
// byte offset.
Status parse_map_cell(std::string_view cell, MapEntries& entries, std::string& storage);

} // namespace billdrop::aws
