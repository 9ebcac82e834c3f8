#pragma once
// The totals of one hour of a month's rows, as a snapshot counts them (snapshot::MonthSummary::
// hours) and as a destination reports what it holds (send::LandedMonth::hours), so that the two
// compare hour by hour. Maps of them are keyed "YYYY-MM-DDTHH" (UTC), which sorts by time.

#include <billdrop/decimal.hpp>
#include <billdrop/timestamp.hpp>

#include <cstdint>
#include <string>

namespace billdrop::cbf {

struct HourTotals {
  std::uint64_t rows = 0;
  Decimal cost; // exact sum of cost/cost

  friend bool operator==(const HourTotals&, const HourTotals&) = default;
};

// "YYYY-MM-DDTHH": the key of the hour that contains `time`.
std::string hour_key(UtcTime time);

} // namespace billdrop::cbf
