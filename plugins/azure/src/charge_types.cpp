#include "charge_types.hpp"

#include <billdrop/text.hpp>

#include <string>

namespace billdrop::azure {
namespace {

enum class Pricing { on_demand, commitment };

Pricing pricing_of(std::string_view pricing_model, RowSink& sink) {
  if (pricing_model.empty() || iequals_ascii(pricing_model, "OnDemand") ||
      iequals_ascii(pricing_model, "Spot"))
    return Pricing::on_demand;
  if (iequals_ascii(pricing_model, "Reservation") || iequals_ascii(pricing_model, "SavingsPlan"))
    return Pricing::commitment;
  sink.note("azure: unknown PricingModel \"" + std::string(pricing_model) + "\" read as OnDemand");
  return Pricing::on_demand;
}

} // namespace

std::string_view lineitem_type(std::string_view charge_type, std::string_view pricing_model,
                               RowSink& sink) {
  // Usage first: it is nearly every row.
  if (charge_type.empty() || iequals_ascii(charge_type, "Usage"))
    return "Usage";
  // A refund reverses a purchase, so it lands in the purchase's type and nets out there.
  if (iequals_ascii(charge_type, "Purchase") || iequals_ascii(charge_type, "Refund"))
    return pricing_of(pricing_model, sink) == Pricing::commitment ? "CommittedUsePurchase"
                                                                  : "Purchase";
  // The unused part of a commitment is spend on the commitment's behalf: Usage keeps it in
  // CloudZero's real (amortized) cost, as Azure's amortized view does.
  if (iequals_ascii(charge_type, "UnusedReservation") ||
      iequals_ascii(charge_type, "UnusedSavingsPlan"))
    return "Usage";
  if (iequals_ascii(charge_type, "RoundingAdjustment"))
    return "Adjustment";
  if (iequals_ascii(charge_type, "Tax"))
    return "Tax";
  if (iequals_ascii(charge_type, "Credit"))
    return "Credit";
  sink.note("azure: unknown ChargeType \"" + std::string(charge_type) + "\" mapped to Usage");
  return "Usage";
}

} // namespace billdrop::azure
