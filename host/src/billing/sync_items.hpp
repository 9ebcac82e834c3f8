#pragma once
// Sync items: after a connection's month lands (a sync sent it, or found it unchanged), the
// month's cost per service becomes one item each, keyed by providerRef
// `<connection>/<YYYY-MM>/<service>`, with `source: "sync"`, `adapter` (the plugin) and both
// the exact decimal total (`amountExact`) and `amount`, that total rounded once, half to even,
// into minor units. CBF costs are USD (the AnyCost Stream's currency), so sync items are too.
// Rows without resource/service count under the service "unspecified".
//
// Re-landing a month updates its items (created, updated or unchanged, counted), and deletes
// the month's sync items of services that no longer appear, so that the items of a month always
// add up to its snapshot's total.

#include "billing/billing_store.hpp"
#include "snapshot/month_snapshot.hpp"

#include <billdrop/decimal.hpp>
#include <billdrop/result.hpp>

#include <cstdint>
#include <map>
#include <string>

namespace billdrop::billing {

// The month's exact cost/cost per resource/service, read from its snapshot's rows.
Result<std::map<std::string, Decimal>> service_totals(const snapshot::MonthSummary& month);

struct LandedCounts {
  std::int64_t created = 0;
  std::int64_t updated = 0;
  std::int64_t unchanged = 0;
  std::int64_t removed = 0;
};

// Upserts the month's sync items for `connection` (whose plugin is `adapter`).
Result<LandedCounts> land_month(BillingStore& store, const snapshot::MonthSummary& month,
                                const std::string& connection, const std::string& adapter);

} // namespace billdrop::billing
