// billdrop validate: CBF rows, drop bodies or CBF CSV from files, or what each source produces.
#include "cli/common.hpp"
#include "core/json_writer.hpp"
#include "core/numbers.hpp"
#include "core/progress.hpp"
#include "ingest/cbf_input.hpp"
#include "ingest/validating_receiver.hpp"
#include "jobs/sync.hpp"
#include "report/sync_report.hpp"

#include <CLI/CLI.hpp>

#include <iostream>
#include <sstream>

namespace billdrop::cli {

namespace {

struct Options {
  SourceOptions source;
  std::vector<std::string> files;
  std::string format = "text";
  std::size_t max_errors = 100;
  std::size_t max_body_bytes = 5'000'000;
};

void print_summary(std::ostream& out, std::uint64_t rows, const cbf::ValidationReport& report) {
  out << core::group_thousands(rows) << " rows: " << core::group_thousands(report.valid_rows())
      << " valid, " << core::group_thousands(report.invalid_rows()) << " invalid, "
      << core::group_thousands(report.rejects()) << " rejected; "
      << core::group_thousands(report.errors()) << " error(s), "
      << core::group_thousands(report.warnings()) << " warning(s)\n";
}

int validate_files(const GlobalOptions& global, const Options& options, bool json) {
  cbf::ValidationReport report(options.max_errors);
  core::Progress progress("validating");
  progress.set_enabled(global.progress());
  ingest::ValidatingReceiver receiver(report, nullptr, &progress);
  for (const std::string& file : options.files)
    jobs::take(ingest::validate_cbf_file(file, receiver, report,
                                         ingest::CbfInputOptions{options.max_body_bytes}));
  progress.finish();
  if (json) {
    report.write_json(std::cout);
    std::cout << '\n';
  } else {
    report::print_problems(std::cout, report, options.max_errors);
    print_summary(std::cout, receiver.rows(), report);
  }
  return report.errors() > 0 ? kExitData : kExitOk;
}

int validate_sources(const GlobalOptions& global, const Options& options, bool json) {
  const std::vector<jobs::ResolvedSource> sources =
      jobs::resolve_sources(source_request(global, options.source), "validate");
  StopSignals stop;
  std::vector<jobs::ConvertOutcome> outcomes;
  int code = kExitOk;
  for (const jobs::ResolvedSource& source : sources) {
    jobs::ConvertRequest request;
    request.months = parse_months(options.source.months);
    request.validate_only = true;
    request.max_errors = options.max_errors;
    request.progress = global.progress();
    request.cancel = &stop.token();
    outcomes.push_back(jobs::convert_source(source, request));
    if (code == kExitOk && outcomes.back().failure)
      code = exit_code(*outcomes.back().failure);
  }
  if (json) {
    // One report document per source; with one source, exactly that source's report.
    if (outcomes.size() == 1) {
      outcomes.front().report.write_json(std::cout);
    } else {
      core::JsonWriter out;
      out.begin_object().key("connections").begin_array();
      for (std::size_t i = 0; i < outcomes.size(); ++i) {
        std::ostringstream one;
        outcomes[i].report.write_json(one);
        out.begin_object()
            .key("source")
            .value(sources[i].describe())
            .key("report")
            .raw(one.str())
            .end_object();
      }
      out.end_array().end_object();
      std::cout << out.str();
    }
    std::cout << '\n';
  } else {
    for (std::size_t i = 0; i < outcomes.size(); ++i) {
      if (outcomes.size() > 1)
        std::cout << sources[i].describe() << ":\n";
      report::print_problems(std::cout, outcomes[i].report, options.max_errors);
      print_summary(std::cout, outcomes[i].result.rows_read, outcomes[i].report);
    }
  }
  for (const jobs::ConvertOutcome& outcome : outcomes)
    for (const ingest::ConvertedMonth& month : outcome.result.months)
      if (month.failure)
        std::cerr << "billdrop: " << month.failure->message() << '\n';
  return code;
}

} // namespace

void add_validate_command(CLI::App& app, Invocation& run) {
  auto options = std::make_shared<Options>();
  auto* command = app.add_subcommand(
      "validate", "validate CBF rows or drop bodies from files, or each source's output");
  command->add_option(
      "files", options->files,
      "CBF files: .ndjson/.json rows or drop bodies, .csv with CBF headers (.gz ok)");
  add_source_options(*command, options->source);
  add_month_option(*command, options->source, "months to read from the plugin");
  add_format_option(*command, options->format);
  command->add_option("--max-errors", options->max_errors, "problems listed (all are counted)")
      ->capture_default_str();
  command
      ->add_option("--max-body-bytes", options->max_body_bytes,
                   "request body limit for drop bodies")
      ->capture_default_str();
  command->callback([&run, options] {
    run.json = options->format == "json";
    run.action = [&run, options] {
      if (options->files.empty())
        return validate_sources(run.global, *options, run.json);
      const SourceOptions& s = options->source;
      if (!s.plugin.empty() || !s.connection.empty() || !s.config_file.empty())
        throw CommandError(kExitUsage, "validate takes either files or a plugin run, not both");
      return validate_files(run.global, *options, run.json);
    };
  });
}

} // namespace billdrop::cli
