// billdrop status: what the sync store says of each connection's months, without sending.
#include "cli/common.hpp"
#include "core/json_writer.hpp"
#include "core/numbers.hpp"
#include "jobs/sync.hpp"

#include <CLI/CLI.hpp>

#include <iomanip>
#include <iostream>

namespace billdrop::cli {

namespace {

std::string utc_text(std::chrono::system_clock::time_point at) {
  if (at.time_since_epoch().count() == 0)
    return "";
  const std::time_t seconds = std::chrono::system_clock::to_time_t(at);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

int status(const GlobalOptions& global, const SourceOptions& options, bool json) {
  const std::vector<jobs::ConnectionStatus> statuses =
      jobs::connection_statuses(jobs::resolve_sources(source_request(global, options), "status"));
  if (json) {
    core::JsonWriter out;
    out.begin_object().key("connections").begin_array();
    for (const jobs::ConnectionStatus& connection : statuses) {
      out.begin_object()
          .key("connection")
          .value(connection.source.connection)
          .key("connection_id")
          .value(connection.source.delivery.connection_id)
          .key("provider")
          .value(connection.source.plugin->name())
          .key("months")
          .begin_array();
      for (const jobs::MonthRecord& m : connection.months) {
        out.begin_object()
            .key("month")
            .value(m.month.to_string())
            .key("state")
            .value(store::to_string(m.status.state))
            .key("rows")
            .value(m.status.rows)
            .key("cost")
            .value(m.status.cost.to_string())
            .key("chunks_acknowledged")
            .value(m.status.chunks_acknowledged)
            .key("synced_at")
            .value(utc_text(m.status.synced_at))
            .key("updated_at")
            .value(utc_text(m.status.updated_at));
        if (!m.status.error.empty())
          out.key("error").value(m.status.error);
        out.end_object();
      }
      out.end_array().end_object();
    }
    out.end_array().end_object();
    std::cout << out.str() << '\n';
    return kExitOk;
  }
  bool first = true;
  for (const jobs::ConnectionStatus& connection : statuses) {
    if (!first)
      std::cout << '\n';
    first = false;
    std::cout << connection.source.describe() << " (connection id "
              << connection.source.delivery.connection_id << ")\n";
    if (connection.months.empty()) {
      std::cout << "  never sent\n";
      continue;
    }
    for (const jobs::MonthRecord& m : connection.months) {
      std::cout << "  " << m.month.to_string() << "  " << std::left << std::setw(8)
                << store::to_string(m.status.state) << std::right << std::setw(12)
                << core::group_thousands(m.status.rows) << std::setw(22)
                << m.status.cost.to_string() << "  " << utc_text(m.status.updated_at);
      if (!m.status.error.empty())
        std::cout << "  " << m.status.error;
      std::cout << '\n';
    }
  }
  return kExitOk;
}

} // namespace

void add_status_command(CLI::App& app, Invocation& run) {
  struct Options {
    SourceOptions source;
    std::string format = "text";
  };
  auto options = std::make_shared<Options>();
  auto* command =
      app.add_subcommand("status", "show each connection's months as the sync store records them");
  add_source_options(*command, options->source);
  add_format_option(*command, options->format);
  command->callback([&run, options] {
    run.json = options->format == "json";
    run.action = [&run, options] { return status(run.global, options->source, run.json); };
  });
}

} // namespace billdrop::cli
