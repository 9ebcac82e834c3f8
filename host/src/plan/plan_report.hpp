#pragma once
// What `billdrop plan` prints: per month its rows, body bytes, chunks, operations and the use of
// each month cap, as an aligned text table or as JSON. A month over a cap (DropPlan::caps.over(),
// as measured without the caps: no plan that would be sent) is listed too, its cap use marked
// "OVER" and "over_cap":true in JSON, without chunks.

#include "plan/drop_plan.hpp"
#include "util/numbers.hpp"

#include <cstdint>
#include <ostream>
#include <span>
#include <string>

namespace billdrop::plan {

enum class PlanReportFormat { text, json };

struct PlanReportOptions {
  PlanReportFormat format = PlanReportFormat::text;
  bool chunks = false; // also list every chunk of every month
};

std::string format_plan_report(std::span<const DropPlan> plans, const PlanReportOptions& options);
void print_plan_report(std::ostream& out, std::span<const DropPlan> plans,
                       const PlanReportOptions& options);

// `part` as a percentage of `whole` with one decimal, rounded half up: "25.0". Integer arithmetic
// only, so the figure is the same everywhere. "-" when `whole` is 0.
std::string percent_of(std::uint64_t part, std::uint64_t whole);

} // namespace billdrop::plan
