// billdrop convert: each source's months into validated CBF month snapshots in a folder.
#include "cli/common.hpp"
#include "jobs/sync.hpp"
#include "report/sync_report.hpp"

#include <CLI/CLI.hpp>

#include <iostream>

namespace billdrop::cli {

namespace {

struct Options {
  SourceOptions source;
  std::string out = "billdrop-out";
  std::string format = "text";
  std::size_t memory_mb = 128;
  std::size_t max_errors = 1000;
};

int convert(const GlobalOptions& global, const Options& options, bool json) {
  const std::vector<jobs::ResolvedSource> sources =
      jobs::resolve_sources(source_request(global, options.source), "convert");
  StopSignals stop;
  std::vector<jobs::ConvertOutcome> outcomes;
  for (const jobs::ResolvedSource& source : sources) {
    jobs::ConvertRequest request;
    request.months = parse_months(options.source.months);
    // Several connections: one folder each under --out, named by connection id.
    request.out = sources.size() > 1
                      ? std::filesystem::path(options.out) / source.delivery.connection_id
                      : std::filesystem::path(options.out);
    request.memory_mb = options.memory_mb;
    request.max_errors = options.max_errors;
    request.progress = global.progress();
    request.cancel = &stop.token();
    outcomes.push_back(jobs::convert_source(source, request));
  }
  int code = kExitOk;
  for (const jobs::ConvertOutcome& outcome : outcomes)
    if (code == kExitOk && outcome.failure)
      code = exit_code(*outcome.failure);
  if (json) {
    std::vector<const jobs::ResolvedSource*> source_list;
    std::vector<const jobs::ConvertOutcome*> outcome_list;
    for (std::size_t i = 0; i < sources.size(); ++i) {
      source_list.push_back(&sources[i]);
      outcome_list.push_back(&outcomes[i]);
    }
    std::cout << report::convert_json(source_list, outcome_list, peak_rss_bytes()) << '\n';
    for (const jobs::ConvertOutcome& outcome : outcomes) {
      for (const std::string& warning : outcome.warnings)
        std::cerr << "warning: " << warning << '\n';
      report::print_failures_and_notes(std::cerr, outcome.result);
      if (outcome.report.errors() > 0) {
        std::cerr << "row problems (" << outcome.report.errors() << " errors, "
                  << outcome.report.warnings() << " warnings):\n";
        report::print_problems(std::cerr, outcome.report, 20);
      }
    }
    return code;
  }
  for (std::size_t i = 0; i < sources.size(); ++i) {
    if (i > 0)
      std::cout << '\n';
    report::print_convert_text(std::cout, std::cerr, sources[i], outcomes[i]);
  }
  return code;
}

} // namespace

void add_convert_command(CLI::App& app, Invocation& run) {
  auto options = std::make_shared<Options>();
  auto* command = app.add_subcommand(
      "convert", "convert each source's months to validated CBF month snapshots in a directory");
  add_source_options(*command, options->source);
  add_month_option(
      *command, options->source,
      "YYYY-MM or YYYY-MM..YYYY-MM (repeatable; default: every month the source holds)");
  command
      ->add_option("--out", options->out,
                   "output directory (several connections: one folder each in it)")
      ->capture_default_str();
  add_format_option(*command, options->format);
  command->add_option("--memory-mb", options->memory_mb, "row buffer before spilling to disk")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 20));
  command->add_option("--max-errors", options->max_errors, "row problems kept for the report")
      ->capture_default_str();
  command->callback([&run, options] {
    run.json = options->format == "json";
    run.action = [&run, options] { return convert(run.global, *options, run.json); };
  });
}

} // namespace billdrop::cli
