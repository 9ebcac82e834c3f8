#pragma once
// Azure's ChargeType x PricingModel as a CBF line-item type (the table is in the README).

#include <billdrop/source_plugin.hpp>

#include <string_view>

namespace billdrop::azure {

// The CBF `lineitem/type` of a row. Unknown values map to Usage (charge type) or are read as
// OnDemand (pricing model), each counted with sink.note() so the run report shows them.
std::string_view lineitem_type(std::string_view charge_type, std::string_view pricing_model,
                               RowSink& sink);

} // namespace billdrop::azure
