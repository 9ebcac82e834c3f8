#include "cli/cli.hpp"

#include "app/cbf_input.hpp"
#include "app/convert_job.hpp"
#include "app/delivery.hpp"
#include "app/host_config.hpp"
#include "app/validating_receiver.hpp"
#include "cbf/json_writer.hpp"
#include "cbf/validation_report.hpp"
#include "cli/exit_codes.hpp"
#include "emulator/emulator.hpp"
#include "plan/plan_report.hpp"
#include "plugin/plugin_loader.hpp"
#include "util/log.hpp"
#include "util/numbers.hpp"
#include "util/progress.hpp"

#include <billdrop/version.hpp>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <limits>
#include <map>
#include <mutex>
#include <pthread.h>
#include <sstream>
#include <sys/resource.h>

namespace billdrop::cli {
namespace {

struct GlobalOptions {
  std::vector<std::string> plugin_dirs;
  std::string log_level = "warn";
  std::string log_format = "text";
  bool no_progress = false;
};

// Which plugin to run and with which configuration: a connection of a config file (or of the
// embedded defaults), or a plugin named directly with its own config file.
struct SourceOptions {
  std::string config_file;
  std::string connection;
  std::string plugin;
  std::string plugin_config;
  std::vector<std::string> months;
};

struct SourceSelection {
  std::shared_ptr<LoadedPlugin> plugin;
  ConfigValues config;
  std::string connection; // "" when --plugin was used
  DeliveryConfig delivery;
  LimitsConfig limits;
  SendingConfig sending;
  std::filesystem::path state_dir;
};

void add_source_options(CLI::App& command, SourceOptions& options) {
  command.add_option("--config", options.config_file,
                     "billdrop TOML config file (default: the embedded example configuration)");
  command.add_option("--connection", options.connection, "connection name in the config file");
  command.add_option("--plugin", options.plugin,
                     "plugin name or .so path (instead of a connection)");
  command.add_option("--plugin-config", options.plugin_config,
                     "TOML file with the plugin's configuration (with --plugin)");
}

class CommandError : public std::runtime_error {
public:
  CommandError(int code, const std::string& message) : std::runtime_error(message), code_(code) {}
  int code() const noexcept { return code_; }

private:
  int code_;
};

int exit_code_for(const Error& error) {
  switch (error.kind()) {
  case ErrorKind::config:
    return kExitConfig;
  case ErrorKind::source:
    return kExitSource;
  case ErrorKind::data:
    return kExitData;
  case ErrorKind::cancelled:
    return kExitInterrupted;
  case ErrorKind::internal:
    return kExitInternal;
  }
  return kExitInternal;
}

template <class T>
T take(Result<T> result, int code) {
  if (!result)
    throw CommandError(code, result.error().message());
  return std::move(result).value();
}

// The same with the exit code of the error's kind (docs/cli.md): for what a plugin or a run
// reports, where a data error must exit 1 and a source error 5 whichever command met it.
template <class T>
T take_by_kind(Result<T> result) {
  if (!result)
    throw CommandError(exit_code_for(result.error()), result.error().message());
  return std::move(result).value();
}

PluginLocator locator_for(const GlobalOptions& global,
                          const std::vector<std::filesystem::path>& extra) {
  std::vector<std::filesystem::path> dirs(global.plugin_dirs.begin(), global.plugin_dirs.end());
  dirs.insert(dirs.end(), extra.begin(), extra.end());
  return PluginLocator::standard(std::move(dirs));
}

std::shared_ptr<LoadedPlugin> load_named_plugin(const PluginLocator& locator,
                                                std::string_view name) {
  const std::filesystem::path file = take(locator.find(name), kExitPlugin);
  auto plugin = take(load_plugin(file), kExitPlugin);
  log::info("plugin.loaded", {{"name", plugin->name()},
                              {"version", plugin->version()},
                              {"path", plugin->path().string()}});
  return plugin;
}

// Checks the configuration against the plugin's schema with where each key was written, so that
// every problem (unknown key, wrong type, a value TOML gave in no usable form, missing key) is
// reported at once with plugin, key and file:line. PluginInstance::create() checks again.
void check_plugin_config(const SourceSelection& selection, const ConfigValueSources& sources) {
  take(selection.plugin->schema().validate(selection.plugin->name(), selection.config, sources),
       kExitConfig);
}

HostConfig load_config(const SourceOptions& options) {
  return options.config_file.empty() ? take(embedded_host_config(), kExitConfig)
                                     : take(load_host_config(options.config_file), kExitConfig);
}

SourceSelection select_connection(const GlobalOptions& global, const HostConfig& config,
                                  const ConnectionConfig& connection) {
  SourceSelection selection;
  const PluginLocator locator = locator_for(global, config.plugin_dirs);
  selection.plugin = load_named_plugin(locator, connection.plugin);
  selection.config = resolve_paths(connection.plugin_config, selection.plugin->schema(),
                                   connection.base_directory);
  check_plugin_config(selection, connection.plugin_config_sources);
  selection.connection = connection.name;
  selection.delivery = connection.delivery;
  selection.limits = config.limits;
  selection.sending = config.sending;
  selection.state_dir = config.state_dir;
  return selection;
}

SourceSelection select_source(const GlobalOptions& global, const SourceOptions& options) {
  SourceSelection selection;
  if (!options.plugin.empty()) {
    if (!options.connection.empty() || !options.config_file.empty())
      throw CommandError(
          kExitUsage,
          "use either --plugin (with --plugin-config) or --config/--connection, not both");
    const PluginLocator locator = locator_for(global, {});
    selection.plugin = load_named_plugin(locator, options.plugin);
    PluginConfigInput input;
    std::filesystem::path base = std::filesystem::current_path();
    if (!options.plugin_config.empty()) {
      input = take(load_plugin_config(options.plugin_config), kExitConfig);
      base = std::filesystem::absolute(options.plugin_config).parent_path();
    }
    selection.config = resolve_paths(input.values, selection.plugin->schema(), base);
    check_plugin_config(selection, input.sources);
    selection.delivery.connection_id = selection.plugin->name();
    selection.state_dir = std::filesystem::absolute(".billdrop");
    return selection;
  }
  if (!options.plugin_config.empty())
    throw CommandError(kExitUsage, "--plugin-config needs --plugin");
  const HostConfig config = load_config(options);
  return select_connection(global, config,
                           *take(config.connection(options.connection), kExitConfig));
}

std::vector<Month> parse_months(const std::vector<std::string>& texts) {
  std::vector<Month> months;
  for (const std::string& text : texts) {
    // "2026-08..2026-10" is a range.
    const std::size_t dots = text.find("..");
    if (dots != std::string::npos) {
      const Month first = take(Month::parse(text.substr(0, dots)), kExitUsage);
      const Month last = take(Month::parse(text.substr(dots + 2)), kExitUsage);
      if (last < first)
        throw CommandError(kExitUsage, "month range " + text + " ends before it starts");
      for (Month m = first; m <= last; m = m.next())
        months.push_back(m);
    } else {
      months.push_back(take(Month::parse(text), kExitUsage));
    }
  }
  return months;
}

// A configuration the plugin refuses is a configuration error (3); a plugin that cannot reach
// its source while starting (credentials service down) is a source error (5), and so on by kind.
std::unique_ptr<PluginInstance> create_instance(const SourceSelection& selection) {
  return take_by_kind(PluginInstance::create(selection.plugin, selection.config));
}

std::string describe_source(const SourceSelection& selection) {
  return selection.connection.empty() ? "plugin '" + selection.plugin->name() + "'"
                                      : "connection '" + selection.connection + "'";
}

// "the source holds (2026-08 to 2026-10)", for messages about months.
std::string describe_source_months(const std::vector<Month>& months) {
  if (months.empty())
    return "the source holds (it lists none)";
  if (months.size() == 1)
    return "the source holds (only " + months.front().to_string() + ")";
  return "the source holds (" + months.front().to_string() + " to " + months.back().to_string() +
         ")";
}

// The process's peak resident set so far (Linux reports ru_maxrss in KiB).
std::uint64_t peak_rss_bytes() {
  rusage usage{};
  if (::getrusage(RUSAGE_SELF, &usage) != 0)
    return 0;
  return static_cast<std::uint64_t>(usage.ru_maxrss) * 1024;
}

// The exit code of a convert: a failed month's own code first, then row problems.
int convert_exit_code(const ConvertResult& result, const cbf::ValidationReport& report) {
  if (const Error* failure = result.first_failure())
    return exit_code_for(*failure);
  return report.errors() > 0 ? kExitData : kExitOk;
}

// Months that were asked for with --month but that the source does not hold: they convert to
// nothing, which is worth a warning rather than a silent empty month. Only months without any
// row are looked up, so a normal run does not list the source's months twice.
std::vector<std::string> unlisted_month_warnings(PluginInstance& instance,
                                                 const ConvertResult& result) {
  std::vector<Month> empty;
  for (const ConvertedMonth& m : result.months)
    if (m.requested && m.summary.rows == 0 && m.invalid_rows == 0 && !m.failure)
      empty.push_back(m.summary.month);
  if (empty.empty())
    return {};
  Result<std::vector<Month>> listed = instance.months();
  if (!listed)
    return {}; // the reads worked; a listing that does not is not worth failing the run for
  std::vector<std::string> warnings;
  for (const Month& month : empty) {
    if (std::binary_search(listed->begin(), listed->end(), month))
      continue;
    std::string text = month.to_string() + " is not among the months " +
                       describe_source_months(*listed) + ": nothing was converted for it";
    warnings.push_back(std::move(text));
  }
  return warnings;
}

// Failed months and the plugin's tallies, for the text summaries (stderr keeps stdout parseable).
void print_failures_and_notes(const ConvertResult& result, std::ostream& out) {
  for (const ConvertedMonth& m : result.months)
    if (m.failure)
      out << m.summary.month.to_string() << " FAILED, no snapshot written: " << m.failure->message()
          << '\n';
  if (const std::string unplaced = result.unplaced_note(); !unplaced.empty())
    out << unplaced << '\n';
  if (!result.notes.empty()) {
    out << "notes from the plugin:\n";
    for (const auto& [key, count] : result.notes)
      out << "  " << key << " (" << group_thousands(count) << ")\n";
  }
}

void print_report_text(const cbf::ValidationReport& report, std::ostream& out,
                       std::size_t max_shown) {
  std::size_t shown = 0;
  std::ostringstream text;
  report.write_text(text);
  std::istringstream lines(text.str());
  std::string line;
  while (std::getline(lines, line)) {
    if (shown++ >= max_shown) {
      out << "… (" << report.errors() + report.warnings() - max_shown
          << " more; --format json or --max-errors to see them)\n";
      break;
    }
    out << line << '\n';
  }
}

// ---- commands ----

int cmd_plugins_list(const GlobalOptions& global, bool json) {
  const PluginLocator locator = locator_for(global, {});
  std::vector<std::shared_ptr<LoadedPlugin>> plugins;
  std::vector<std::string> problems;
  for (const auto& file : locator.list()) {
    Result<std::shared_ptr<LoadedPlugin>> plugin = load_plugin(file);
    if (plugin)
      plugins.push_back(*plugin);
    else
      problems.push_back(plugin.error().message());
  }
  if (json) {
    std::string out = "[";
    for (std::size_t i = 0; i < plugins.size(); ++i) {
      const auto& p = *plugins[i];
      out += i ? "," : "";
      out += "{\"name\":";
      cbf::append_json_string(out, p.name());
      out += ",\"version\":";
      cbf::append_json_string(out, p.version());
      out += ",\"abi\":\"" + std::to_string(p.descriptor().abi_major) + "." +
             std::to_string(p.descriptor().abi_minor) + "\",\"path\":";
      cbf::append_json_string(out, p.path().string());
      out += ",\"description\":";
      cbf::append_json_string(out, p.description());
      out += "}";
    }
    out += "]\n";
    std::cout << out;
  } else {
    if (plugins.empty()) {
      std::cout << "no plugins found; searched:\n";
      for (const auto& dir : locator.directories())
        std::cout << "  " << dir.string() << '\n';
    }
    for (const auto& p : plugins)
      std::cout << std::left << std::setw(10) << p->name() << ' ' << std::setw(8) << p->version()
                << ' ' << p->description() << "\n           " << p->path().string() << '\n';
  }
  for (const auto& problem : problems)
    std::cerr << "warning: " << problem << '\n';
  return kExitOk;
}

int cmd_plugins_describe(const GlobalOptions& global, const std::string& name, bool json) {
  const PluginLocator locator = locator_for(global, {});
  const auto plugin = load_named_plugin(locator, name);
  if (json) {
    std::cout << plugin->schema().to_json() << '\n';
    return kExitOk;
  }
  std::cout << plugin->name() << ' ' << plugin->version() << " (ABI "
            << plugin->descriptor().abi_major << '.' << plugin->descriptor().abi_minor << ")\n"
            << plugin->description() << "\n"
            << plugin->path().string() << "\n\nconfig keys:\n";
  for (const ConfigKeySpec& key : plugin->schema().keys()) {
    std::cout << "  " << key.key << "  (" << to_string(key.type)
              << (key.required ? ", required" : "") << (key.secret ? ", secret" : "");
    if (key.default_value)
      std::cout << ", default " << config_value_to_json(*key.default_value);
    std::cout << ")\n      " << key.description << '\n';
  }
  return kExitOk;
}

int cmd_check(const GlobalOptions& global, const SourceOptions& options) {
  const SourceSelection selection = select_source(global, options);
  auto instance = create_instance(selection);
  log::info("check.start", {{"source", describe_source(selection)}});
  Status status = instance->check();
  if (!status) {
    std::cerr << describe_source(selection) << ": check failed"
              << (status.error().retryable() ? " (temporary; retry later)" : "") << ": "
              << status.error().message() << '\n';
    return exit_code_for(status.error());
  }
  Result<std::vector<Month>> months = instance->months();
  if (!months) {
    std::cerr << describe_source(selection)
              << ": listing months failed: " << months.error().message() << '\n';
    return exit_code_for(months.error());
  }
  std::cout << describe_source(selection) << ": ok";
  if (!months->empty())
    std::cout << " — " << months->size() << " month(s), " << months->front().to_string() << " to "
              << months->back().to_string();
  std::cout << '\n';
  return kExitOk;
}

int cmd_convert(const GlobalOptions& global, const SourceOptions& options, const std::string& out,
                const std::string& format, std::size_t memory_mb, std::size_t max_errors) {
  const SourceSelection selection = select_source(global, options);
  auto instance = create_instance(selection);
  ConvertOptions convert;
  convert.months = parse_months(options.months);
  convert.output_directory = out;
  convert.memory_budget = memory_mb * 1024 * 1024;
  convert.progress = !global.no_progress && Progress::enabled_by_default();
  cbf::ValidationReport report(max_errors);
  log::info("convert.start", {{"source", describe_source(selection)}, {"out", out}});
  ConvertResult result = take_by_kind(run_convert(*instance, convert, report));
  const std::vector<std::string> warnings = unlisted_month_warnings(*instance, result);
  for (const std::string& warning : warnings)
    std::cerr << "warning: " << warning << '\n';

  const bool problems = report.errors() > 0;
  if (format == "json") {
    std::string json = "{\"source\":";
    cbf::append_json_string(json, describe_source(selection));
    char rate[64];
    std::snprintf(rate, sizeof rate, "%.3f\",\"rows_per_second\":%.0f", result.seconds,
                  result.seconds > 0 ? static_cast<double>(result.rows_read) / result.seconds
                                     : 0.0);
    json += ",\"rows_read\":" + std::to_string(result.rows_read) +
            ",\"errors\":" + std::to_string(report.errors()) + ",\"seconds\":\"" + rate +
            ",\"peak_rss_bytes\":" + std::to_string(peak_rss_bytes()) + ",\"warnings\":[";
    for (std::size_t i = 0; i < warnings.size(); ++i) {
      json += i ? "," : "";
      cbf::append_json_string(json, warnings[i]);
    }
    json += "],\"notes\":{";
    bool first_note = true;
    for (const auto& [key, count] : result.notes) {
      json += first_note ? "" : ",";
      first_note = false;
      cbf::append_json_string(json, key);
      json += ":" + std::to_string(count);
    }
    json += "},\"months\":[";
    for (std::size_t i = 0; i < result.months.size(); ++i) {
      const auto& m = result.months[i];
      json += i ? "," : "";
      json += "{\"month\":\"" + m.summary.month.to_string() +
              "\",\"rows\":" + std::to_string(m.summary.rows) +
              ",\"invalid_rows\":" + std::to_string(m.invalid_rows) + ",\"cost\":\"" +
              m.summary.cost.to_string() + "\",\"bytes\":" + std::to_string(m.summary.json_bytes) +
              ",\"requested\":" + (m.requested ? "true" : "false") + ",\"file\":";
      cbf::append_json_string(json, m.summary.rows ? m.summary.file.string() : std::string());
      json += ",\"digest\":\"" + m.summary.digest +
              "\",\"unplaced_records\":" + std::to_string(m.unplaced_records);
      if (m.failure) {
        json += ",\"error\":";
        cbf::append_json_string(json, m.failure->message());
      }
      json += "}";
    }
    json += "]}\n";
    std::cout << json;
  } else {
    std::cout << "converted " << describe_source(selection) << " (" << selection.plugin->name()
              << " " << selection.plugin->version() << ") into " << out << "\n\n";
    std::cout << std::left << std::setw(9) << "month" << std::right << std::setw(12) << "rows"
              << std::setw(10) << "invalid" << std::setw(26) << "cost/cost total"
              << "  file\n";
    for (const auto& m : result.months) {
      std::cout << std::left << std::setw(9) << m.summary.month.to_string() << std::right
                << std::setw(12) << group_thousands(m.summary.rows) << std::setw(10)
                << group_thousands(m.invalid_rows) << std::setw(26) << m.summary.cost.to_string()
                << "  " << (m.summary.rows ? m.summary.file.filename().string() : "-")
                << (m.failure     ? "  FAILED (see below)"
                    : m.requested ? ""
                                  : "  (partial: late rows found while reading other months)")
                << '\n';
    }
    std::cout << "\n"
              << group_thousands(result.rows_read) << " rows read in " << std::fixed
              << std::setprecision(2) << result.seconds << " s";
    if (problems)
      std::cout << "; " << group_thousands(report.errors()) << " error(s)";
    std::cout << '\n';
    print_failures_and_notes(result, std::cerr);
  }
  if (problems) {
    std::cerr << "\nrow problems (" << report.errors() << " errors, " << report.warnings()
              << " warnings):\n";
    print_report_text(report, std::cerr, 20);
  }
  return convert_exit_code(result, report);
}

int cmd_validate(const GlobalOptions& global, const SourceOptions& options,
                 const std::vector<std::string>& files, const std::string& format,
                 std::size_t max_errors, std::size_t max_body_bytes) {
  cbf::ValidationReport report(max_errors);
  Progress progress("validating");
  progress.set_enabled(!global.no_progress && Progress::enabled_by_default());
  ValidatingReceiver receiver(report, nullptr, &progress);
  // Months whose read failed: the report of the others is still printed, like convert's summary.
  std::vector<Error> failures;
  if (!files.empty()) {
    if (!options.plugin.empty() || !options.connection.empty() || !options.config_file.empty())
      throw CommandError(kExitUsage, "validate takes either files or a plugin run, not both");
    for (const std::string& file : files) {
      Status status = validate_cbf_file(file, receiver, report, CbfInputOptions{max_body_bytes});
      if (!status)
        throw CommandError(exit_code_for(status.error()), status.error().message());
    }
  } else {
    const SourceSelection selection = select_source(global, options);
    auto instance = create_instance(selection);
    std::vector<Month> months = parse_months(options.months);
    if (months.empty())
      months = take_by_kind(instance->months());
    for (const Month& month : months) {
      progress.set_label("validating " + month.to_string());
      receiver.begin_month(month);
      Status status = instance->read(month, receiver);
      if (!status) {
        if (status.error().kind() == ErrorKind::cancelled)
          throw ErrorException(status.error());
        failures.push_back(status.error().with_context("plugin '" + selection.plugin->name() +
                                                       "' failed reading " + month.to_string()));
      }
    }
  }
  progress.finish();
  if (format == "json") {
    report.write_json(std::cout);
    std::cout << '\n';
  } else {
    print_report_text(report, std::cout, max_errors);
    std::cout << group_thousands(receiver.rows())
              << " rows: " << group_thousands(report.valid_rows()) << " valid, "
              << group_thousands(report.invalid_rows()) << " invalid, "
              << group_thousands(report.rejects()) << " rejected; "
              << group_thousands(report.errors()) << " error(s), "
              << group_thousands(report.warnings()) << " warning(s)\n";
  }
  for (const Error& failure : failures)
    std::cerr << "billdrop: " << failure.message() << '\n';
  if (!failures.empty())
    return exit_code_for(failures.front());
  return report.errors() > 0 ? kExitData : kExitOk;
}

// ---- delivery commands ----

std::vector<MonthToDeliver> months_from_convert(const ConvertResult& result) {
  std::vector<MonthToDeliver> months;
  for (const ConvertedMonth& m : result.months) {
    if (!m.requested)
      continue; // partial months (late rows only) are never sent: they would replace the month
    months.push_back({m.summary, m.invalid_rows,
                      m.failure ? "reading the month failed: " + m.failure->message() : ""});
  }
  return months;
}

std::vector<MonthToDeliver> months_from_directory(const std::filesystem::path& dir,
                                                  const std::vector<Month>& only) {
  std::vector<MonthToDeliver> months;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    const std::string suffix = ".summary.json";
    if (name.size() <= suffix.size() ||
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
      continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    Result<cbf::MonthSummary> summary = cbf::MonthSummary::from_json(text.str());
    if (!summary)
      throw CommandError(kExitData, entry.path().string() + ": " + summary.error().message());
    if (!summary->file.empty() && summary->file.is_relative())
      summary->file = dir / summary->file.filename();
    if (!only.empty() && std::find(only.begin(), only.end(), summary->month) == only.end())
      continue;
    // The same rules as run: only a month read whole, and without invalid rows or unplaced
    // records unless --send-invalid (deliver() checks them).
    MonthToDeliver month{*summary, summary->invalid_rows, ""};
    if (!summary->read_whole)
      month.failure = entry.path().filename().string() +
                      " does not say the month was read whole (`convert` marks such a month "
                      "\"read_whole\":true; this one's read failed, its rows only came while "
                      "reading other months, or an older billdrop or an interrupted convert "
                      "wrote it): convert " +
                      summary->month.to_string() + " again";
    months.push_back(std::move(month));
  }
  if (ec)
    throw CommandError(kExitSource, "cannot read " + dir.string() + ": " + ec.message());
  std::sort(months.begin(), months.end(), [](const MonthToDeliver& a, const MonthToDeliver& b) {
    return a.summary.month < b.summary.month;
  });
  return months;
}

bool all_synced(const std::vector<MonthDelivery>& deliveries) {
  return std::all_of(deliveries.begin(), deliveries.end(),
                     [](const MonthDelivery& d) { return d.synced; });
}

// {"destination":…,"months":[…]} (with `fields` first, e.g. "\"connection\":\"x\",").
std::string deliveries_json(const OpenDestination& destination,
                            const std::vector<MonthDelivery>& deliveries,
                            const std::string& fields = "") {
  std::string json = "{" + fields + "\"destination\":";
  cbf::append_json_string(json, destination.description);
  json += ",\"months\":[";
  for (std::size_t i = 0; i < deliveries.size(); ++i) {
    const auto& d = deliveries[i];
    json += i ? "," : "";
    json += "{\"month\":\"" + d.month.to_string() + "\",\"rows\":" + std::to_string(d.rows) +
            ",\"cost\":\"" + d.cost.to_string() +
            "\",\"chunks\":" + std::to_string(d.plan ? d.plan->chunks.size() : 0) +
            ",\"attempts\":" + std::to_string(d.attempts) +
            ",\"synced\":" + (d.synced ? "true" : "false");
    if (d.landed)
      json += ",\"landed_rows\":" + std::to_string(d.landed->rows) + ",\"landed_cost\":\"" +
              d.landed->cost.to_string() + "\"";
    if (!d.problem.empty()) {
      json += ",\"problem\":";
      cbf::append_json_string(json, d.problem);
    }
    if (d.plan && d.plan->rollup)
      json += ",\"rollup\":{\"rows_before\":" + std::to_string(d.plan->rollup->rows_before) +
              ",\"rows_after\":" + std::to_string(d.plan->rollup->rows_after) +
              ",\"groups_merged\":" + std::to_string(d.plan->rollup->groups_merged) + "}";
    json += "}";
  }
  json += "]}";
  return json;
}

// The table on stdout, the problems on stderr (each after `who`, e.g. "connection 'x': ").
void print_deliveries_text(const std::string& what, const OpenDestination& destination,
                           const std::vector<MonthDelivery>& deliveries,
                           const std::string& who = "") {
  std::cout << what << " to " << destination.description << "\n\n";
  std::cout << std::left << std::setw(9) << "month" << std::right << std::setw(10) << "rows"
            << std::setw(22) << "cost/cost total" << std::setw(8) << "chunks" << std::setw(10)
            << "attempts"
            << "  " << std::left << std::setw(8) << "status";
  if (destination.local)
    std::cout << std::right << std::setw(12) << "landed rows" << std::setw(22) << "landed cost";
  std::cout << '\n';
  for (const auto& d : deliveries) {
    std::cout << std::left << std::setw(9) << d.month.to_string() << std::right << std::setw(10)
              << group_thousands(d.rows) << std::setw(22) << d.cost.to_string() << std::setw(8)
              << (d.plan ? d.plan->chunks.size() : 0) << std::setw(10) << d.attempts << "  "
              << std::left << std::setw(8) << (d.synced ? "synced" : "FAILED");
    if (d.landed)
      std::cout << std::right << std::setw(12) << group_thousands(d.landed->rows) << std::setw(22)
                << d.landed->cost.to_string();
    std::cout << '\n';
  }
  for (const auto& d : deliveries)
    if (d.plan && d.plan->rollup) {
      const plan::RollupReport& rollup = *d.plan->rollup;
      std::cout << d.month.to_string() << ": over a month cap, rolled up "
                << group_thousands(rollup.rows_before) << " rows into "
                << group_thousands(rollup.rows_after) << " ("
                << group_thousands(rollup.groups_merged)
                << (rollup.groups_merged == 1 ? " group" : " groups")
                << " of rows differing only in their amounts merged, sums exact)\n";
    }
  for (const auto& d : deliveries) {
    if (d.problem.empty())
      continue;
    // Most problems name their month already ("2026-08: 1,250,000 rows is ..."): not twice.
    const std::string month = d.month.to_string();
    const bool named = d.problem.starts_with(month + ":") || d.problem.starts_with(month + " ");
    std::cerr << who << (named ? "" : month + ": ") << d.problem << '\n';
  }
}

int print_deliveries(const std::string& what, const OpenDestination& destination,
                     const std::vector<MonthDelivery>& deliveries, const std::string& format) {
  if (format == "json")
    std::cout << deliveries_json(destination, deliveries) << '\n';
  else
    print_deliveries_text(what, destination, deliveries);
  return all_synced(deliveries) ? kExitOk : kExitDelivery;
}

// What run and push take besides the source: output, rollup, invalid months, retry time.
struct SendFlags {
  std::string format = "text";
  bool allow_rollup = false;
  bool send_invalid = false;
  std::int64_t give_up_seconds = 0; // 0: the config's sending.give_up_seconds
};

void add_send_flags(CLI::App& command, SendFlags& flags) {
  command.add_option("--format", flags.format, "text or json")
      ->check(CLI::IsMember({"text", "json"}));
  command.add_flag("--allow-rollup", flags.allow_rollup, "roll rows up when a month is over a cap");
  command.add_flag("--send-invalid", flags.send_invalid,
                   "send months that had invalid rows (only their valid rows)");
  command
      .add_option("--give-up-seconds", flags.give_up_seconds,
                  "stop retrying a chunk this long after its first attempt (default: "
                  "sending.give_up_seconds of the config, else 900)")
      ->check(CLI::PositiveNumber);
}

DeliveryOptions delivery_options(const SourceSelection& selection, const SendFlags& flags,
                                 Progress& progress) {
  DeliveryOptions options;
  options.limits = plan_limits(selection.limits);
  SendingConfig sending = selection.sending;
  if (flags.give_up_seconds > 0)
    sending.give_up_seconds = flags.give_up_seconds;
  options.retry = retry_policy(sending);
  options.parallel_connections = static_cast<std::size_t>(sending.parallel_connections);
  options.allow_rollup = flags.allow_rollup || selection.delivery.allow_rollup;
  options.send_months_with_invalid_rows = flags.send_invalid;
  // Called from the scheduler's threads, several connections at once.
  options.on_attempt = [&progress, mutex = std::make_shared<std::mutex>()](const send::Attempt& a) {
    const std::lock_guard lock(*mutex);
    log::info("send.attempt", {{"connection", a.connection_id},
                               {"month", a.month.to_string()},
                               {"chunk", a.chunk_index},
                               {"attempt", a.attempt},
                               {"outcome", send::to_string(a.outcome)},
                               {"status", a.http_status}});
    progress.set_label("sending " + a.month.to_string() + " chunk " +
                       std::to_string(a.chunk_index + 1));
    progress.update(0, 0, a.attempt);
  };
  return options;
}

int cmd_plan(const GlobalOptions& global, const SourceOptions& options, const std::string& out,
             const std::string& format, bool allow_rollup, bool chunks) {
  const SourceSelection selection = select_source(global, options);
  auto instance = create_instance(selection);
  ConvertOptions convert;
  convert.months = parse_months(options.months);
  convert.output_directory =
      out.empty() ? selection.state_dir / "snapshots" / selection.delivery.connection_id
                  : std::filesystem::path(out);
  convert.progress = !global.no_progress && Progress::enabled_by_default();
  cbf::ValidationReport report;
  ConvertResult result = take_by_kind(run_convert(*instance, convert, report));
  std::vector<plan::DropPlan> plans;
  int code = convert_exit_code(result, report);
  print_failures_and_notes(result, std::cerr);
  for (const MonthToDeliver& month : months_from_convert(result)) {
    if (!month.failure.empty())
      continue;
    const plan::PlanLimits limits = plan_limits(selection.limits);
    Result<plan::DropPlan> plan =
        plan::plan_month(month.summary, limits,
                         allow_rollup || selection.delivery.allow_rollup ? plan::CapPolicy::rollup
                                                                         : plan::CapPolicy::fail);
    if (!plan) {
      std::cerr << plan.error().message() << '\n';
      code = kExitData;
      // Over a cap, the month still gets its row in the table: planned as if there were no
      // month caps, with the real caps' use shown (and marked) against the real limits. It is
      // not a plan that would be sent, so it has no digest.
      plan::PlanLimits uncapped = limits;
      uncapped.max_rows_per_month = std::numeric_limits<std::uint64_t>::max();
      uncapped.max_bytes_per_month = std::numeric_limits<std::uint64_t>::max();
      Result<plan::DropPlan> measured =
          plan::plan_month(month.summary, uncapped, plan::CapPolicy::fail);
      if (measured) {
        measured->caps.rows_limit = limits.max_rows_per_month;
        measured->caps.bytes_limit = limits.max_bytes_per_month;
        measured->digest.clear();
        if (measured->caps.over())
          plans.push_back(std::move(*measured));
      }
      continue;
    }
    plans.push_back(std::move(*plan));
  }
  plan::PlanReportOptions report_options;
  report_options.format =
      format == "json" ? plan::PlanReportFormat::json : plan::PlanReportFormat::text;
  report_options.chunks = chunks;
  plan::print_plan_report(std::cout, plans, report_options);
  if (report.errors() > 0) {
    std::cerr << "\nrow problems (" << report.errors() << " errors):\n";
    print_report_text(report, std::cerr, 20);
  }
  return code;
}

// What run sends: a connection's months converted into its state folder, row problems, failed
// months and notes on stderr (after `heading`, when there is anything to say), and the exit code
// the conversion alone would give.
struct ConvertedForSending {
  ConvertResult result;
  int exit_code = kExitOk;
};

ConvertedForSending convert_for_sending(const SourceSelection& selection,
                                        const std::vector<Month>& months, bool progress,
                                        const std::string& heading = "") {
  auto instance = create_instance(selection);
  ConvertOptions convert;
  convert.months = months;
  convert.output_directory = selection.state_dir / "snapshots" / selection.delivery.connection_id;
  convert.progress = progress;
  cbf::ValidationReport report;
  ConvertedForSending converted{take_by_kind(run_convert(*instance, convert, report))};
  const ConvertResult& result = converted.result;
  if (!heading.empty() &&
      (report.errors() > 0 || result.first_failure() != nullptr || !result.notes.empty()))
    std::cerr << heading << ":\n";
  if (report.errors() > 0) {
    std::cerr << "row problems (" << report.errors() << " errors):\n";
    print_report_text(report, std::cerr, 20);
  }
  print_failures_and_notes(result, std::cerr);
  converted.exit_code = convert_exit_code(result, report);
  return converted;
}

// A connection id names the snapshot folder and the API's connection: one config connection
// each, or two would overwrite each other's snapshots and share one request slot.
void check_connection_ids_differ(const HostConfig& config, std::string_view one_at_a_time) {
  std::map<std::string, std::string> names_by_id;
  for (const ConnectionConfig& connection : config.connections) {
    const auto [it, added] =
        names_by_id.emplace(connection.delivery.connection_id, connection.name);
    if (!added)
      throw CommandError(kExitConfig,
                         config.source.string() + ": connections '" + it->second + "' and '" +
                             connection.name + "' both send to connection id '" + it->first +
                             "'; give each its own connection_id, or " +
                             std::string(one_at_a_time) + " them one at a time with --connection");
  }
}

// One connection's part in a send of several: its months, and what to say about them.
struct ConnectionSend {
  SourceSelection selection;
  std::vector<MonthToDeliver> months;
  std::string heading;            // "sent connection 'a' (3 rows read)"
  std::string json_fields;        // the connection's own fields in the JSON report
  int before_send_code = kExitOk; // a failed conversion's code
  OpenDestination* destination = nullptr;
};

// Sends several connections' months at once (one request in flight per connection, up to
// sending.parallel_connections connections side by side), every local connection into one
// embedded emulator, and reports them one after another. Returns the exit code.
int send_all(const GlobalOptions& global, const HostConfig& config,
             std::vector<ConnectionSend>& sends, const SendFlags& flags) {
  std::vector<std::unique_ptr<OpenDestination>> destinations;
  OpenDestination* local = nullptr;
  for (ConnectionSend& send : sends) {
    if (send.selection.delivery.destination == DestinationKind::local && local != nullptr) {
      send.destination = local;
      continue;
    }
    destinations.push_back(std::make_unique<OpenDestination>(take(
        open_destination(send.selection.delivery, send.selection.state_dir, send.selection.limits),
        kExitConfig)));
    send.destination = destinations.back().get();
    if (send.selection.delivery.destination == DestinationKind::local)
      local = send.destination;
  }

  std::vector<ConnectionToDeliver> connections;
  for (const ConnectionSend& send : sends)
    connections.push_back({send.selection.delivery.connection_id, send.months, send.destination,
                           send.selection.delivery.allow_rollup});
  Progress progress("sending");
  progress.set_enabled(!global.no_progress && Progress::enabled_by_default());
  // Limits and sending settings are the config's, the same for every connection; allow_rollup
  // is each connection's own (ConnectionToDeliver) or'ed with --allow-rollup.
  DeliveryOptions delivery = delivery_options(sends.front().selection, flags, progress);
  delivery.allow_rollup = flags.allow_rollup;
  const auto deliveries = deliver_all(connections, delivery, config.state_dir / "sync.db");
  progress.finish();

  if (flags.format == "json") {
    std::string json = "{\"connections\":[";
    for (std::size_t i = 0; i < sends.size(); ++i) {
      std::string fields = "\"connection\":";
      cbf::append_json_string(fields, sends[i].selection.connection);
      fields += ",\"connection_id\":";
      cbf::append_json_string(fields, sends[i].selection.delivery.connection_id);
      fields += "," + sends[i].json_fields;
      json += (i ? "," : "") + deliveries_json(*sends[i].destination, deliveries[i], fields);
    }
    std::cout << json << "]}\n";
  } else {
    for (std::size_t i = 0; i < sends.size(); ++i) {
      if (i > 0)
        std::cout << '\n';
      print_deliveries_text(sends[i].heading, *sends[i].destination, deliveries[i],
                            describe_source(sends[i].selection) + ": ");
    }
  }
  int code = kExitOk;
  for (std::size_t i = 0; i < sends.size(); ++i)
    if (code == kExitOk && !all_synced(deliveries[i]))
      code = kExitDelivery;
  for (const ConnectionSend& send : sends)
    if (code == kExitOk)
      code = send.before_send_code;
  return code;
}

// `run` on a config with several connections and no --connection: converts each connection's
// months in turn, then sends them all at once.
int cmd_run_all(const GlobalOptions& global, const HostConfig& config, const SourceOptions& options,
                const SendFlags& flags) {
  check_connection_ids_differ(config, "run");
  const std::vector<Month> months = parse_months(options.months);
  const bool progress_enabled = !global.no_progress && Progress::enabled_by_default();
  std::vector<ConnectionSend> sends;
  for (const ConnectionConfig& connection : config.connections) {
    ConnectionSend send;
    send.selection = select_connection(global, config, connection);
    const ConvertedForSending done = convert_for_sending(send.selection, months, progress_enabled,
                                                         describe_source(send.selection));
    send.months = months_from_convert(done.result);
    send.heading = "sent " + describe_source(send.selection) + " (" +
                   group_thousands(done.result.rows_read) + " rows read)";
    send.json_fields = "\"rows_read\":" + std::to_string(done.result.rows_read) + ",";
    send.before_send_code = done.exit_code;
    sends.push_back(std::move(send));
  }
  return send_all(global, config, sends, flags);
}

// `push` on a config with several connections and no --connection: every connection's
// snapshots (<state_dir>/snapshots/<connection id>, where `run` and `plan` put them), sent all at
// once. A connection without snapshots is an error before anything is sent.
int cmd_push_all(const GlobalOptions& global, const HostConfig& config,
                 const SourceOptions& options, const SendFlags& flags) {
  check_connection_ids_differ(config, "push");
  const std::vector<Month> months = parse_months(options.months);
  std::vector<ConnectionSend> sends;
  for (const ConnectionConfig& connection : config.connections) {
    ConnectionSend send;
    send.selection = select_connection(global, config, connection);
    const std::filesystem::path dir =
        send.selection.state_dir / "snapshots" / send.selection.delivery.connection_id;
    if (std::filesystem::is_directory(dir))
      send.months = months_from_directory(dir, months);
    if (send.months.empty())
      throw CommandError(kExitUsage, describe_source(send.selection) +
                                         ": no month snapshots (*.summary.json) in " +
                                         dir.string() + ": run `billdrop convert --connection " +
                                         connection.name + " --out " + dir.string() +
                                         "` (or `billdrop run`) first");
    send.heading = "pushed " + dir.string();
    send.json_fields = "\"from\":";
    cbf::append_json_string(send.json_fields, dir.string());
    send.json_fields += ",";
    sends.push_back(std::move(send));
  }
  return send_all(global, config, sends, flags);
}

int cmd_run(const GlobalOptions& global, const SourceOptions& options, const SendFlags& flags) {
  SourceSelection selection;
  if (options.plugin.empty() && options.connection.empty() && options.plugin_config.empty()) {
    const HostConfig config = load_config(options);
    if (config.connections.size() > 1)
      return cmd_run_all(global, config, options, flags);
    selection = select_connection(global, config, *take(config.connection(""), kExitConfig));
  } else {
    selection = select_source(global, options);
  }
  const bool progress_enabled = !global.no_progress && Progress::enabled_by_default();
  const ConvertedForSending converted =
      convert_for_sending(selection, parse_months(options.months), progress_enabled);
  const ConvertResult& result = converted.result;
  OpenDestination destination = take(
      open_destination(selection.delivery, selection.state_dir, selection.limits), kExitConfig);
  Progress progress("sending");
  progress.set_enabled(progress_enabled);
  const auto deliveries =
      deliver(selection.delivery.connection_id, months_from_convert(result), destination,
              delivery_options(selection, flags, progress), selection.state_dir / "sync.db");
  progress.finish();
  const int code = print_deliveries("sent " + describe_source(selection) + " (" +
                                        group_thousands(result.rows_read) + " rows read)",
                                    destination, deliveries, flags.format);
  return code != kExitOk ? code : converted.exit_code;
}

int cmd_push(const GlobalOptions& global, const SourceOptions& options, const std::string& from,
             const SendFlags& flags) {
  if (options.plugin.empty() && options.connection.empty() && options.plugin_config.empty() &&
      from.empty()) {
    const HostConfig config = load_config(options);
    if (config.connections.size() > 1)
      return cmd_push_all(global, config, options, flags);
  }
  const SourceSelection selection = select_source(global, options);
  const std::filesystem::path dir =
      from.empty() ? selection.state_dir / "snapshots" / selection.delivery.connection_id
                   : std::filesystem::path(from);
  const auto months = months_from_directory(dir, parse_months(options.months));
  if (months.empty())
    throw CommandError(kExitUsage, "no month snapshots (*.summary.json) in " + dir.string() +
                                       ": run `billdrop convert --out " + dir.string() + "` first");
  OpenDestination destination = take(
      open_destination(selection.delivery, selection.state_dir, selection.limits), kExitConfig);
  Progress progress("sending");
  progress.set_enabled(!global.no_progress && Progress::enabled_by_default());
  const auto deliveries =
      deliver(selection.delivery.connection_id, months, destination,
              delivery_options(selection, flags, progress), selection.state_dir / "sync.db");
  progress.finish();
  return print_deliveries("pushed " + dir.string(), destination, deliveries, flags.format);
}

int cmd_emulator(const std::string& listen, const emulator::EmulatorOptions& options) {
  const std::size_t colon = listen.rfind(':');
  if (colon == std::string::npos)
    throw CommandError(kExitUsage, "--listen must be HOST:PORT, e.g. 127.0.0.1:8080");
  const std::string host = listen.substr(0, colon);
  int port = 0;
  try {
    port = std::stoi(listen.substr(colon + 1));
  } catch (const std::exception&) {
    port = -1;
  }
  if (port < 0 || port > 65535)
    throw CommandError(kExitUsage, "--listen port must be 0..65535");
  // Block the signals before any thread starts so that only sigwait below sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  emulator::Emulator server(options);
  const std::uint16_t bound =
      take(server.start(host, static_cast<std::uint16_t>(port)), kExitSource);
  std::cout << "AnyCost emulator listening on http://" << host << ":" << bound << " (store "
            << options.store.string() << ")" << std::endl;
  log::info("emulator.listening", {{"host", host}, {"port", bound}});
  int received = 0;
  sigwait(&signals, &received);
  log::info("emulator.stopping", {{"signal", received}});
  server.stop();
  std::cout << "stopped after " << server.requests_served() << " requests" << std::endl;
  return kExitOk;
}

} // namespace

int run(int argc, char** argv) {
  CLI::App app{"billdrop — moves custom cost data into cost platforms as Common Bill Format"};
  app.set_version_flag("--version", std::string("billdrop ") + BILLDROP_VERSION + " (plugin ABI " +
                                        std::to_string(BILLDROP_ABI_MAJOR) + "." +
                                        std::to_string(BILLDROP_ABI_MINOR) + ")");
  app.require_subcommand(1);
  GlobalOptions global;
  app.add_option("--plugin-dir", global.plugin_dirs, "extra plugin directory (repeatable)");
  app.add_option("--log-level", global.log_level, "debug, info, warn, error or off")
      ->capture_default_str();
  app.add_option("--log-format", global.log_format, "text (logfmt) or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  app.add_flag("--no-progress", global.no_progress, "never draw progress on the terminal");

  auto* plugins = app.add_subcommand("plugins", "list or describe installed plugins");
  plugins->require_subcommand(1);
  bool list_json = false;
  auto* plugins_list = plugins->add_subcommand("list", "list the plugins found in the search path");
  plugins_list->add_flag("--json", list_json, "machine-readable output");
  std::string describe_name;
  bool describe_json = false;
  auto* plugins_describe = plugins->add_subcommand("describe", "print a plugin's config schema");
  plugins_describe->add_option("name", describe_name, "plugin name or .so path")->required();
  plugins_describe->add_flag("--json", describe_json, "print the schema as JSON");

  SourceOptions check_options;
  auto* check = app.add_subcommand("check", "check that a source can be reached and read");
  add_source_options(*check, check_options);

  SourceOptions convert_options;
  std::string convert_out = "billdrop-out";
  std::string convert_format = "text";
  std::size_t memory_mb = 128;
  std::size_t convert_max_errors = 1000;
  auto* convert = app.add_subcommand(
      "convert", "convert a source's months to validated CBF month snapshots in a directory");
  add_source_options(*convert, convert_options);
  convert->add_option(
      "--month", convert_options.months,
      "YYYY-MM or YYYY-MM..YYYY-MM (repeatable; default: every month the source holds)");
  convert->add_option("--out", convert_out, "output directory")->capture_default_str();
  convert->add_option("--format", convert_format, "summary format: text or json")
      ->check(CLI::IsMember({"text", "json"}));
  convert->add_option("--memory-mb", memory_mb, "row buffer before spilling to disk")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 20));
  convert->add_option("--max-errors", convert_max_errors, "row problems kept for the report")
      ->capture_default_str();

  SourceOptions validate_options;
  std::vector<std::string> validate_files;
  std::string validate_format = "text";
  std::size_t validate_max_errors = 100;
  std::size_t max_body_bytes = 5'000'000;
  auto* validate = app.add_subcommand(
      "validate", "validate CBF rows or drop bodies from files, or a plugin's output");
  validate->add_option(
      "files", validate_files,
      "CBF files: .ndjson/.json rows or drop bodies, .csv with CBF headers (.gz ok)");
  add_source_options(*validate, validate_options);
  validate->add_option("--month", validate_options.months, "months to read from the plugin");
  validate->add_option("--format", validate_format, "text or json")
      ->check(CLI::IsMember({"text", "json"}));
  validate->add_option("--max-errors", validate_max_errors, "problems listed (all are counted)")
      ->capture_default_str();
  validate->add_option("--max-body-bytes", max_body_bytes, "request body limit for drop bodies")
      ->capture_default_str();

  SourceOptions plan_options;
  std::string plan_out;
  std::string plan_format = "text";
  bool plan_rollup = false;
  bool plan_chunks = false;
  auto* plan_cmd = app.add_subcommand(
      "plan", "convert and print the drop plan per month: rows, bytes, chunks, operations, caps");
  add_source_options(*plan_cmd, plan_options);
  plan_cmd->add_option("--month", plan_options.months, "YYYY-MM or YYYY-MM..YYYY-MM (repeatable)");
  plan_cmd->add_option("--out", plan_out,
                       "snapshot directory (default: <state_dir>/snapshots/<id>)");
  plan_cmd->add_option("--format", plan_format, "text or json")
      ->check(CLI::IsMember({"text", "json"}));
  plan_cmd->add_flag("--allow-rollup", plan_rollup, "roll rows up when a month is over a cap");
  plan_cmd->add_flag("--chunks", plan_chunks, "list every chunk");

  SourceOptions run_options;
  SendFlags run_flags;
  auto* run_cmd = app.add_subcommand(
      "run", "convert, plan and send a connection's months to its destination (default: the "
             "embedded example into the embedded emulator)");
  add_source_options(*run_cmd, run_options);
  run_cmd->add_option("--month", run_options.months, "YYYY-MM or YYYY-MM..YYYY-MM (repeatable)");
  add_send_flags(*run_cmd, run_flags);

  SourceOptions push_options;
  std::string push_from;
  SendFlags push_flags;
  auto* push_cmd =
      app.add_subcommand("push", "send converted month snapshots to a connection's destination");
  add_source_options(*push_cmd, push_options);
  push_cmd->add_option("--from", push_from,
                       "directory written by convert (default: <state_dir>/snapshots/<id>)");
  push_cmd->add_option("--month", push_options.months, "only these months");
  add_send_flags(*push_cmd, push_flags);

  std::string emulator_listen = "127.0.0.1:8080";
  emulator::EmulatorOptions emulator_options;
  std::string emulator_store = "billdrop-emulator.db";
  long long latency_min = 0;
  long long latency_max = 0;
  auto* emulator_cmd = app.add_subcommand(
      "emulator", "serve the AnyCost Stream API emulator (for offline tests of any adaptor)");
  emulator_cmd->add_option("--listen", emulator_listen, "HOST:PORT (port 0: any free port)")
      ->capture_default_str();
  emulator_cmd->add_option("--store", emulator_store, "SQLite file for the emulator's state")
      ->capture_default_str();
  emulator_cmd->add_option("--api-key", emulator_options.api_keys,
                           "accepted API key (repeatable; default: any)");
  emulator_cmd->add_option("--max-body-bytes", emulator_options.max_body_bytes)
      ->capture_default_str();
  emulator_cmd->add_option("--max-rows-per-month", emulator_options.max_rows_per_month)
      ->capture_default_str();
  emulator_cmd->add_option("--max-bytes-per-month", emulator_options.max_bytes_per_month)
      ->capture_default_str();
  emulator_cmd
      ->add_option("--fault-seed", emulator_options.faults.seed, "seed of the fault sequence")
      ->capture_default_str();
  emulator_cmd->add_option("--fault-500", emulator_options.faults.error_500, "probability of a 500")
      ->check(CLI::Range(0.0, 1.0));
  emulator_cmd->add_option("--fault-429", emulator_options.faults.error_429, "probability of a 429")
      ->check(CLI::Range(0.0, 1.0));
  emulator_cmd
      ->add_option("--fault-close", emulator_options.faults.close_before_reply,
                   "probability of closing the connection before replying")
      ->check(CLI::Range(0.0, 1.0));
  emulator_cmd
      ->add_option("--fault-apply-then-fail", emulator_options.faults.apply_then_fail,
                   "probability of storing the drop and answering 500")
      ->check(CLI::Range(0.0, 1.0));
  long long test_key_ttl = 3600;
  long long idempotency_ttl = 24 * 3600;
  emulator_cmd
      ->add_option("--test-key-ttl-seconds", test_key_ttl,
                   "a cloudzero-test-key namespace is purged this long after its first request")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  emulator_cmd
      ->add_option("--idempotency-ttl-seconds", idempotency_ttl,
                   "how long a response is replayed for its cloudzero-idempotency-key")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  emulator_cmd->add_option("--latency-min-ms", latency_min, "added latency, lower bound");
  emulator_cmd->add_option("--latency-max-ms", latency_max, "added latency, upper bound");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }

  log::Level level = log::Level::warn;
  if (!log::parse_level(global.log_level, level)) {
    std::cerr << "billdrop: --log-level must be debug, info, warn, error or off\n";
    return kExitUsage;
  }
  log::configure(level, global.log_format == "json" ? log::Format::json : log::Format::text);

  try {
    if (plugins_list->parsed())
      return cmd_plugins_list(global, list_json);
    if (plugins_describe->parsed())
      return cmd_plugins_describe(global, describe_name, describe_json);
    if (check->parsed())
      return cmd_check(global, check_options);
    if (convert->parsed())
      return cmd_convert(global, convert_options, convert_out, convert_format, memory_mb,
                         convert_max_errors);
    if (plan_cmd->parsed())
      return cmd_plan(global, plan_options, plan_out, plan_format, plan_rollup, plan_chunks);
    if (run_cmd->parsed())
      return cmd_run(global, run_options, run_flags);
    if (push_cmd->parsed())
      return cmd_push(global, push_options, push_from, push_flags);
    if (emulator_cmd->parsed()) {
      emulator_options.store = emulator_store;
      emulator_options.test_namespace_ttl = std::chrono::seconds(test_key_ttl);
      emulator_options.idempotency_ttl = std::chrono::seconds(idempotency_ttl);
      emulator_options.faults.latency_min = std::chrono::milliseconds(latency_min);
      emulator_options.faults.latency_max =
          std::chrono::milliseconds(std::max(latency_min, latency_max));
      return cmd_emulator(emulator_listen, emulator_options);
    }
    if (validate->parsed())
      return cmd_validate(global, validate_options, validate_files, validate_format,
                          validate_max_errors, max_body_bytes);
  } catch (const CommandError& e) {
    std::cerr << "billdrop: " << e.what() << '\n';
    return e.code();
  } catch (const ErrorException& e) {
    std::cerr << "billdrop: " << e.error().message() << '\n';
    return exit_code_for(e.error());
  } catch (const std::exception& e) {
    std::cerr << "billdrop: internal error: " << e.what() << '\n';
    return kExitInternal;
  }
  return kExitUsage;
}

} // namespace billdrop::cli
