#pragma once
// Read-back reconciliation: once a month has landed, what the destination holds
// (send::Destination::read_back) is compared with the snapshot that was sent -- the row count,
// the exact cost/cost total and the same two per hour. `billdrop serve` reports a difference as
// the month's error.

#include "send/landed_month.hpp"
#include "snapshot/month_snapshot.hpp"

#include <cstddef>
#include <optional>
#include <string>

namespace billdrop::jobs {

// Differing hours a reconciliation message names, earliest first.
inline constexpr std::size_t kHoursInReconcileMessage = 3;

// nullopt when the destination holds what the snapshot has: the same rows and cost in total and
// in every hour (costs compare by value, so 1.50 equals 1.5). Otherwise a sentence naming the
// month, both totals and the first differing hours, each hour with the destination's figures
// first, as in the totals:
//   2026-08: read back 4,598 rows, cost 14032.03 at the destination; the snapshot has 4,599 rows,
//   cost 14033.03 (first difference: hour 2026-08-03T07: 12 rows 1.00 vs 13 rows 2.00)
// `snapshot` is the summary of what was sent: for a month sent rolled up, the rolled-up
// snapshot's (plan::RolledUpSnapshot::summary), which has fewer rows than the source's.
std::optional<std::string> reconcile_month(const snapshot::MonthSummary& snapshot,
                                           const send::LandedMonth& landed);

} // namespace billdrop::jobs
