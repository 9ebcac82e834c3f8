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

std::string time_text(std::chrono::system_clock::time_point at) {
  return at.time_since_epoch().count() == 0 ? "" : jobs::utc_text(at);
}

int status(const GlobalOptions& global, const SourceOptions& options, bool json) {
  const jobs::SourceRequest request = source_request(global, options);
  const std::vector<jobs::ConnectionStatus> statuses = jobs::connection_statuses(
      jobs::resolve_sources(request, "status"),
      request.plugin.empty() ? jobs::load_config(request) : config::HostConfig{});
  if (json) {
    core::JsonWriter out;
    out.begin_object().key("connections").begin_array();
    for (const jobs::ConnectionStatus& connection : statuses) {
      const jobs::SyncStatusEntry& e = connection.entry;
      out.begin_object();
      out.key("cloudAccountID").value(e.cloud_account_id);
      out.key("provider").value(e.provider);
      if (e.last_synced_at)
        out.key("lastSyncedAt").value(jobs::utc_text(*e.last_synced_at));
      else
        out.key("lastSyncedAt").null();
      out.key("status").value(e.status);
      if (!e.message.empty())
        out.key("message").value(e.message);
      out.key("monthsBackfilled").value(e.months_backfilled);
      out.key("monthsPending").value(e.months_pending);
      out.key("connection").value(connection.source.connection);
      out.key("connection_id").value(connection.source.delivery.connection_id);
      out.key("months").begin_array();
      for (const jobs::MonthRecord& m : connection.months) {
        out.begin_object();
        out.key("month").value(m.month.to_string());
        out.key("state").value(store::to_string(m.status.state));
        out.key("rows").value(m.status.rows);
        out.key("cost").value(m.status.cost.to_string());
        out.key("chunks_acknowledged").value(m.status.chunks_acknowledged);
        out.key("synced_at").value(time_text(m.status.synced_at));
        out.key("updated_at").value(time_text(m.status.updated_at));
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
    const jobs::SyncStatusEntry& e = connection.entry;
    std::cout << connection.source.describe() << " (connection id "
              << connection.source.delivery.connection_id << ", " << e.provider
              << "): " << e.status;
    if (e.last_synced_at)
      std::cout << ", last synced " << jobs::utc_text(*e.last_synced_at);
    std::cout << ", " << e.months_backfilled << " month(s) backfilled";
    if (!e.message.empty())
      std::cout << " — " << e.message;
    std::cout << '\n';
    if (connection.months.empty()) {
      std::cout << "  never sent\n";
      continue;
    }
    for (const jobs::MonthRecord& m : connection.months) {
      std::cout << "  " << m.month.to_string() << "  " << std::left << std::setw(8)
                << store::to_string(m.status.state) << std::right << std::setw(12)
                << core::group_thousands(m.status.rows) << std::setw(22)
                << m.status.cost.to_string() << "  " << time_text(m.status.updated_at);
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
