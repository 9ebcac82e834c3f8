#pragma once
// What `billdrop plan` prints: per month its rows, body bytes, chunks, operations and the use of
// each month cap, as an aligned text table or as JSON. A month over a cap (DropPlan::caps.over(),
// as measured without the caps: no plan that would be sent) is listed too, its cap use marked
// "OVER" and "over_cap":true in JSON, without chunks.

#include "core/numbers.hpp"
#include "plan/drop_plan.hpp"

#include <cstdint>
#include <ostream>
#include <span>
#include <string>

namespace billdrop::report {

enum class PlanReportFormat { text, json };

struct PlanReportOptions {
  PlanReportFormat format = PlanReportFormat::text;
  bool chunks = false; // also list every chunk of every month
};

std::string format_plan_report(std::span<const plan::DropPlan> plans,
                               const PlanReportOptions& options);
void print_plan_report(std::ostream& out, std::span<const plan::DropPlan> plans,
                       const PlanReportOptions& options);

} // namespace billdrop::report
