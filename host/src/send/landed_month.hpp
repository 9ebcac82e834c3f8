#pragma once
// What a destination holds for one (connection, month), read back after a send: the rows, their
// exact cost/cost total and the per-hour totals a snapshot keeps (snapshot::MonthSummary::hours),
// so that jobs/readback.hpp can reconcile the two.

#include "cbf/hour_totals.hpp"

#include <billdrop/decimal.hpp>
#include <billdrop/result.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace billdrop::send {

struct LandedMonth {
  std::uint64_t rows = 0;
  Decimal cost;                                 // exact sum of cost/cost
  std::map<std::string, cbf::HourTotals> hours; // by "YYYY-MM-DDTHH" of time/usage_start

  // Counts one row from its time/usage_start (any form parse_timestamp accepts) and its cost/cost
  // (a decimal string). On an error nothing is counted; the message names the column and the
  // value, and the caller says which row it was.
  Status add_row(std::string_view usage_start, std::string_view cost_text);

  friend bool operator==(const LandedMonth&, const LandedMonth&) = default;
};

} // namespace billdrop::send
