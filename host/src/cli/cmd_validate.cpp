// billdrop validate: CBF rows, drop bodies or CBF CSV from files, or what each source produces.
#include "cli/common.hpp"
#include "core/json_writer.hpp"
#include "core/numbers.hpp"
#include "core/progress.hpp"
#include "ingest/cbf_input.hpp"
#include "ingest/validating_receiver.hpp"
#include "jobs/golden.hpp"
#include "jobs/sync.hpp"
#include "report/golden_report.hpp"
#include "report/sync_report.hpp"

#include <CLI/CLI.hpp>

#include <iostream>
#include <sstream>

#include <unistd.h>

namespace billdrop::cli {

namespace {

struct Options {
  SourceOptions source;
  std::vector<std::string> files;
  std::string format = "text";
  std::size_t max_errors = 100;
  std::size_t max_body_bytes = 5'000'000;
  std::string golden; // compare each month's snapshot with the golden files here
  bool update_golden = false;
  std::size_t golden_rows = 20; // differing rows shown per month
};

// The snapshots a golden comparison needs, in a scratch folder removed when done.
class ScratchFolder {
public:
  ScratchFolder()
      : path_(std::filesystem::temp_directory_path() /
              ("billdrop-golden-" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchFolder() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchFolder(const ScratchFolder&) = delete;
  ScratchFolder& operator=(const ScratchFolder&) = delete;
  const std::filesystem::path& path() const noexcept { return path_; }

private:
  std::filesystem::path path_;
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

// validate --golden DIR [--update-golden]: the run's months against (or into) golden files.
int validate_golden(const GlobalOptions& global, const Options& options, bool json) {
  const std::vector<jobs::ResolvedSource> sources =
      jobs::resolve_sources(source_request(global, options.source), "validate");
  if (sources.size() != 1)
    throw CommandError(kExitUsage, "--golden compares one source: name it with --connection or "
                                   "--plugin");
  StopSignals stop;
  ScratchFolder scratch;
  jobs::ConvertRequest request;
  request.months = parse_months(options.source.months);
  request.out = scratch.path();
  request.max_errors = options.max_errors;
  request.progress = global.progress();
  request.cancel = &stop.token();
  const jobs::ConvertOutcome outcome = jobs::convert_source(sources.front(), request);
  const jobs::GoldenResult golden =
      jobs::golden_files(outcome, options.golden, options.update_golden, options.golden_rows);
  if (json) {
    std::ostringstream report;
    outcome.report.write_json(report);
    core::JsonWriter out;
    out.begin_object()
        .key("report")
        .raw(report.str())
        .key("golden")
        .raw(report::golden_json(golden));
    out.end_object();
    std::cout << out.str() << '\n';
  } else {
    report::print_problems(std::cout, outcome.report, options.max_errors);
    print_summary(std::cout, outcome.result.rows_read, outcome.report);
    report::print_golden(std::cout, golden);
  }
  for (const ingest::ConvertedMonth& month : outcome.result.months)
    if (month.failure)
      std::cerr << "billdrop: " << month.failure->message() << '\n';
  if (!golden.same())
    return kExitData;
  return outcome.failure ? exit_code(*outcome.failure) : kExitOk;
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
  command->add_option("--golden", options->golden,
                      "compare each month's rows, exact totals and digest with the golden files "
                      "in DIR (a source run only)");
  command->add_flag("--update-golden", options->update_golden,
                    "write the golden files in --golden DIR from this run instead");
  command->add_option("--golden-rows", options->golden_rows, "differing rows shown per month")
      ->capture_default_str();
  command->callback([&run, options] {
    run.json = options->format == "json";
    run.action = [&run, options] {
      if (options->update_golden && options->golden.empty())
        throw CommandError(kExitUsage, "--update-golden needs --golden DIR");
      if (!options->golden.empty() && !options->files.empty())
        throw CommandError(kExitUsage, "--golden compares a source run, not files");
      if (!options->golden.empty())
        return validate_golden(run.global, *options, run.json);
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
