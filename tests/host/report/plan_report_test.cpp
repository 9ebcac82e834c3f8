// The plan report's handling of a month over a cap: it is listed, marked, and has no chunks.
#include "report/plan_report.hpp"

#include <gtest/gtest.h>

namespace billdrop::report {
using namespace billdrop::plan;
namespace {

DropPlan over_cap_plan() {
  DropPlan plan;
  plan.month = Month(2026, 9);
  plan.rows = 12'500;
  plan.cost = Decimal::from_string("7.25");
  plan.caps = {12'500, 10'000, 2'000'000, 400'000'000}; // rows 125.0% of the cap, bytes 0.5%
  Chunk chunk;
  chunk.operation = cbf::DropOperation::replace_drop;
  chunk.row_count = 12'500;
  chunk.body_bytes = 2'000'000;
  plan.chunks = {chunk};
  return plan;
}

TEST(PlanReport, AMonthOverACapIsListedAndMarked) {
  const std::vector<DropPlan> plans{over_cap_plan()};
  const std::string text = format_plan_report(plans, {PlanReportFormat::text, true});
  EXPECT_EQ(text, "month      rows  body bytes  chunks  replace_drop  replace_hourly  sum  "
                  "   rows cap  bytes cap  cost\n"
                  "2026-09  12,500   2,000,000       1             1               0    0  "
                  "125.0% OVER       0.5%  7.25\n"
                  "2026-09: over a month cap, so it would not be sent (allow rollup for the "
                  "connection, or send fewer rows)\n"
                  "\n"
                  "2026-09 (over a month cap: no plan to send)\n");
  EXPECT_EQ(text.find("no months to plan"), std::string::npos);

  const std::string json = format_plan_report(plans, {PlanReportFormat::json, true});
  EXPECT_NE(json.find("\"rows\":{\"used\":12500,\"limit\":10000,\"percent\":125.0}"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find("\"over_cap\":true"), std::string::npos) << json;
  EXPECT_EQ(json.find("\"plan\":"), std::string::npos) << json; // no chunks: nothing to send
}

TEST(PlanReport, AMonthWithinItsCapsIsNotMarked) {
  DropPlan plan = over_cap_plan();
  plan.caps.rows = 10'000; // exactly at the cap is within it
  plan.digest = "0123456789abcdef";
  const std::vector<DropPlan> plans{plan};
  const std::string text = format_plan_report(plans, {PlanReportFormat::text, false});
  EXPECT_EQ(text.find("OVER"), std::string::npos) << text;
  EXPECT_NE(text.find("100.0%"), std::string::npos) << text;
  EXPECT_NE(format_plan_report(plans, {PlanReportFormat::json, false}).find("\"over_cap\":false"),
            std::string::npos);
}

} // namespace
} // namespace billdrop::report
