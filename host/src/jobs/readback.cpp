#include "jobs/readback.hpp"

#include "core/numbers.hpp"

#include <algorithm>
#include <map>
#include <vector>

namespace billdrop::jobs {
namespace {

using Hours = std::map<std::string, cbf::HourTotals>;

std::string rows_text(std::uint64_t rows) {
  return core::group_thousands(rows) + (rows == 1 ? " row" : " rows");
}

// The hours whose totals differ (an hour missing on one side counts as 0 rows, cost 0), in time
// order: one merge of the two sorted maps.
std::vector<std::string> differing_hours(const Hours& landed, const Hours& snapshot) {
  static const cbf::HourTotals kNone;
  std::vector<std::string> out;
  auto l = landed.begin();
  auto s = snapshot.begin();
  while (l != landed.end() || s != snapshot.end()) {
    if (s == snapshot.end() || (l != landed.end() && l->first < s->first)) {
      if (!(l->second == kNone))
        out.push_back(l->first);
      ++l;
    } else if (l == landed.end() || s->first < l->first) {
      if (!(s->second == kNone))
        out.push_back(s->first);
      ++s;
    } else {
      if (!(l->second == s->second))
        out.push_back(l->first);
      ++l;
      ++s;
    }
  }
  return out;
}

std::string hour_text(const Hours& hours, const std::string& hour) {
  const auto found = hours.find(hour);
  if (found == hours.end())
    return "0 rows 0";
  return rows_text(found->second.rows) + " " + found->second.cost.to_string();
}

} // namespace

std::optional<std::string> reconcile_month(const snapshot::MonthSummary& snapshot,
                                           const send::LandedMonth& landed) {
  const std::vector<std::string> hours = differing_hours(landed.hours, snapshot.hours);
  if (hours.empty() && landed.rows == snapshot.rows && landed.cost == snapshot.cost)
    return std::nullopt;
  std::string message = snapshot.month.to_string() + ": read back " + rows_text(landed.rows) +
                        ", cost " + landed.cost.to_string() +
                        " at the destination; the snapshot has " + rows_text(snapshot.rows) +
                        ", cost " + snapshot.cost.to_string();
  if (hours.empty())
    return message; // only the totals differ: one side's hours do not add up to its total
  message += hours.size() == 1 ? " (first difference: " : " (first differences: ";
  for (std::size_t i = 0; i < hours.size() && i < kHoursInReconcileMessage; ++i) {
    if (i > 0)
      message += "; ";
    message += "hour " + hours[i] + ": " + hour_text(landed.hours, hours[i]) + " vs " +
               hour_text(snapshot.hours, hours[i]);
  }
  if (const std::size_t more = hours.size() - std::min(hours.size(), kHoursInReconcileMessage))
    message += "; " + core::group_thousands(more) +
               (more == 1 ? " more hour differs" : " more hours differ");
  message += ")";
  return message;
}

} // namespace billdrop::jobs
