// billdrop plan: convert each source and print its drop plan per month.
#include "cli/common.hpp"
#include "jobs/sync.hpp"
#include "report/plan_report.hpp"
#include "report/sync_report.hpp"

#include <CLI/CLI.hpp>

#include <iostream>

namespace billdrop::cli {

namespace {

struct Options {
  SourceOptions source;
  std::string out;
  std::string format = "text";
  bool allow_rollup = false;
  bool allow_empty_month = false;
  bool chunks = false;
};

int plan(const GlobalOptions& global, const Options& options, bool json) {
  const std::vector<jobs::ResolvedSource> sources =
      jobs::resolve_sources(source_request(global, options.source), "plan");
  StopSignals stop;
  std::vector<plan::DropPlan> plans;
  int code = kExitOk;
  for (const jobs::ResolvedSource& source : sources) {
    // Writing the connection's own snapshots: not while another process syncs it.
    core::FileLock lock;
    if (options.out.empty())
      lock = jobs::lock_connection(source);
    jobs::ConvertRequest request;
    request.months = parse_months(options.source.months);
    request.out = options.out.empty() ? std::filesystem::path()
                  : sources.size() > 1
                      ? std::filesystem::path(options.out) / source.delivery.connection_id
                      : std::filesystem::path(options.out);
    request.progress = global.progress();
    request.cancel = &stop.token();
    const jobs::ConvertOutcome converted = jobs::convert_source(source, request);
    if (code == kExitOk && converted.failure)
      code = exit_code(*converted.failure);
    report::print_failures_and_notes(std::cerr, converted.result);
    for (const std::string& warning : converted.warnings)
      std::cerr << "warning: " << warning << '\n';
    for (jobs::PlannedMonth& month : jobs::plan_months(
             source, jobs::months_from_convert(converted.result, options.allow_empty_month),
             options.allow_rollup)) {
      if (!month.problem.empty()) {
        std::cerr << month.problem << '\n';
        if (code == kExitOk)
          code = kExitData;
      }
      if (month.plan)
        plans.push_back(std::move(*month.plan));
    }
    if (converted.report.errors() > 0) {
      std::cerr << "\nrow problems (" << converted.report.errors() << " errors):\n";
      report::print_problems(std::cerr, converted.report, 20);
    }
  }
  report::PlanReportOptions report_options;
  report_options.format = json ? report::PlanReportFormat::json : report::PlanReportFormat::text;
  report_options.chunks = options.chunks;
  report::print_plan_report(std::cout, plans, report_options);
  return code;
}

} // namespace

void add_plan_command(CLI::App& app, Invocation& run) {
  auto options = std::make_shared<Options>();
  auto* command = app.add_subcommand(
      "plan", "convert and print the drop plan per month: rows, bytes, chunks, operations, caps");
  add_source_options(*command, options->source);
  add_month_option(*command, options->source, "YYYY-MM or YYYY-MM..YYYY-MM (repeatable)");
  command->add_option("--out", options->out,
                      "snapshot directory (default: <state_dir>/snapshots/<id>)");
  add_format_option(*command, options->format);
  command->add_flag("--allow-rollup", options->allow_rollup,
                    "roll rows up when a month is over a cap");
  command->add_flag("--allow-empty-month", options->allow_empty_month,
                    "plan a month without rows (sending it replaces the month with nothing)");
  command->add_flag("--chunks", options->chunks, "list every chunk");
  command->callback([&run, options] {
    run.json = options->format == "json";
    run.action = [&run, options] { return plan(run.global, *options, run.json); };
  });
}

} // namespace billdrop::cli
