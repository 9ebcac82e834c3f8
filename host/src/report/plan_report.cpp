#include "report/plan_report.hpp"

#include <algorithm>
#include <array>
#include <vector>

namespace billdrop::report {

namespace {

using cbf::DropOperation;

constexpr std::array<DropOperation, 3> kOperations{
    DropOperation::replace_drop, DropOperation::replace_hourly, DropOperation::sum};

std::uint64_t count_of(const plan::DropPlan& plan, DropOperation operation) {
  return static_cast<std::uint64_t>(
      std::count_if(plan.chunks.begin(), plan.chunks.end(),
                    [&](const plan::Chunk& chunk) { return chunk.operation == operation; }));
}

// Columns are left-aligned text or right-aligned numbers; two spaces between columns.
class TextTable {
public:
  TextTable(std::vector<std::string> header, std::vector<bool> right_aligned)
      : right_aligned_(std::move(right_aligned)) {
    rows_.push_back(std::move(header));
  }
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }

  void render(std::string& out, std::string_view indent = "") const {
    std::vector<std::size_t> widths(rows_.front().size(), 0);
    for (const auto& row : rows_)
      for (std::size_t i = 0; i < row.size(); ++i)
        widths[i] = std::max(widths[i], row[i].size());
    for (const auto& row : rows_) {
      std::string line(indent);
      for (std::size_t i = 0; i < row.size(); ++i) {
        if (i != 0)
          line += "  ";
        const std::string padding(widths[i] - row[i].size(), ' ');
        line += right_aligned_[i] ? padding + row[i] : row[i] + padding;
      }
      while (!line.empty() && line.back() == ' ')
        line.pop_back();
      out += line;
      out += '\n';
    }
  }

private:
  std::vector<bool> right_aligned_;
  std::vector<std::vector<std::string>> rows_;
};

std::string cap_use(std::uint64_t used, std::uint64_t limit) {
  const std::string percent = core::percent_of(used, limit);
  if (percent == "-")
    return percent;
  return percent + (used > limit ? "% OVER" : "%");
}

std::string format_text(std::span<const plan::DropPlan> plans, const PlanReportOptions& options) {
  std::string out;
  if (plans.empty())
    return "no months to plan\n";
  TextTable months({"month", "rows", "body bytes", "chunks", "replace_drop", "replace_hourly",
                    "sum", "rows cap", "bytes cap", "cost"},
                   {false, true, true, true, true, true, true, true, true, true});
  for (const plan::DropPlan& plan : plans)
    months.add({plan.month.to_string(), core::group_thousands(plan.rows),
                core::group_thousands(plan.caps.bytes), core::group_thousands(plan.chunks.size()),
                core::group_thousands(count_of(plan, DropOperation::replace_drop)),
                core::group_thousands(count_of(plan, DropOperation::replace_hourly)),
                core::group_thousands(count_of(plan, DropOperation::sum)),
                cap_use(plan.caps.rows, plan.caps.rows_limit),
                cap_use(plan.caps.bytes, plan.caps.bytes_limit), plan.cost.to_string()});
  months.render(out);
  for (const plan::DropPlan& plan : plans)
    if (plan.caps.over())
      out += plan.month.to_string() +
             ": over a month cap, so it would not be sent (allow rollup for the connection, or "
             "send fewer rows)\n";
  for (const plan::DropPlan& plan : plans)
    if (plan.rows == 0)
      out += plan.month.to_string() +
             ": replaces the month with nothing (the source holds no rows for it)\n";
  for (const plan::DropPlan& plan : plans)
    if (plan.rollup)
      out += plan.month.to_string() + ": rolled up " +
             core::group_thousands(plan.rollup->rows_before) + " rows into " +
             core::group_thousands(plan.rollup->rows_after) + " (" +
             core::group_thousands(plan.rollup->groups_merged) + " groups merged)\n";
  if (!options.chunks)
    return out;
  for (const plan::DropPlan& plan : plans) {
    if (plan.caps.over()) {
      out += '\n' + plan.month.to_string() + " (over a month cap: no plan to send)\n";
      continue;
    }
    out += '\n' + plan.month.to_string() + " (plan " + plan.digest.substr(0, 12) + "):\n";
    TextTable chunks(
        {"#", "operation", "first hour", "last hour", "rows", "body bytes", "cost", "split hour"},
        {true, false, false, false, true, true, true, false});
    for (const plan::Chunk& chunk : plan.chunks)
      chunks.add(
          {std::to_string(chunk.index), std::string(cbf::to_string(chunk.operation)),
           chunk.first_hour, chunk.last_hour, core::group_thousands(chunk.row_count),
           core::group_thousands(chunk.body_bytes), chunk.cost.to_string(),
           chunk.split_hour_start ? "part of #" + std::to_string(*chunk.split_hour_start) : ""});
    chunks.render(out, "  ");
  }
  return out;
}

void append_cap(std::string& json, std::string_view name, std::uint64_t used, std::uint64_t limit) {
  json += '"';
  json += name;
  json += "\":{\"used\":" + std::to_string(used) + ",\"limit\":" + std::to_string(limit) +
          ",\"percent\":";
  json += limit == 0 ? "null" : core::percent_of(used, limit);
  json += '}';
}

std::string format_json(std::span<const plan::DropPlan> plans, const PlanReportOptions& options) {
  std::string json = "{\"months\":[";
  for (const plan::DropPlan& plan : plans) {
    if (&plan != plans.data())
      json += ',';
    json += "{\"month\":\"" + plan.month.to_string() + "\",\"rows\":" + std::to_string(plan.rows) +
            ",\"body_bytes\":" + std::to_string(plan.caps.bytes) +
            ",\"chunks\":" + std::to_string(plan.chunks.size()) + ",\"operations\":{";
    for (DropOperation operation : kOperations) {
      if (operation != kOperations.front())
        json += ',';
      json += '"';
      json += cbf::to_string(operation);
      json += "\":" + std::to_string(count_of(plan, operation));
    }
    json += "},\"caps\":{";
    append_cap(json, "rows", plan.caps.rows, plan.caps.rows_limit);
    json += ',';
    append_cap(json, "bytes", plan.caps.bytes, plan.caps.bytes_limit);
    json += "},\"over_cap\":";
    json += plan.caps.over() ? "true" : "false";
    json += ",\"empties_month\":";
    json += plan.rows == 0 ? "true" : "false";
    json += ",\"cost\":\"" + plan.cost.to_string() + "\",\"digest\":\"" + plan.digest +
            "\",\"rollup\":";
    if (plan.rollup)
      json += "{\"rows_before\":" + std::to_string(plan.rollup->rows_before) +
              ",\"rows_after\":" + std::to_string(plan.rollup->rows_after) +
              ",\"groups_merged\":" + std::to_string(plan.rollup->groups_merged) + "}";
    else
      json += "null";
    if (options.chunks && !plan.caps.over())
      json += ",\"plan\":" + plan.to_json();
    json += '}';
  }
  json += "]}\n";
  return json;
}

} // namespace

std::string format_plan_report(std::span<const plan::DropPlan> plans,
                               const PlanReportOptions& options) {
  return options.format == PlanReportFormat::json ? format_json(plans, options)
                                                  : format_text(plans, options);
}

void print_plan_report(std::ostream& out, std::span<const plan::DropPlan> plans,
                       const PlanReportOptions& options) {
  out << format_plan_report(plans, options);
}

} // namespace billdrop::report
