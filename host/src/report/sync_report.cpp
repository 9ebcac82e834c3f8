#include "report/sync_report.hpp"

#include "core/json_writer.hpp"
#include "core/numbers.hpp"

#include <cstdio>
#include <iomanip>
#include <sstream>

namespace billdrop::report {

namespace {

void write_month(core::JsonWriter& json, const ingest::ConvertedMonth& m) {
  json.begin_object()
      .key("month")
      .value(m.summary.month.to_string())
      .key("rows")
      .value(m.summary.rows)
      .key("invalid_rows")
      .value(m.invalid_rows)
      .key("cost")
      .value(m.summary.cost.to_string())
      .key("bytes")
      .value(m.summary.json_bytes)
      .key("requested")
      .value(m.requested)
      .key("file")
      .value(m.summary.rows ? m.summary.file.string() : std::string())
      .key("digest")
      .value(m.summary.digest)
      .key("unplaced_records")
      .value(m.unplaced_records);
  if (m.failure)
    json.key("error").value(m.failure->message());
  json.end_object();
}

std::string fixed(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

} // namespace

std::string convert_json(const std::vector<const jobs::ResolvedSource*>& sources,
                         const std::vector<const jobs::ConvertOutcome*>& outcomes,
                         std::uint64_t peak_rss_bytes) {
  core::JsonWriter json;
  json.begin_object().key("connections").begin_array();
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    const jobs::ConvertOutcome& outcome = *outcomes[i];
    const ingest::ConvertResult& result = outcome.result;
    json.begin_object()
        .key("source")
        .value(sources[i]->describe())
        .key("connection")
        .value(sources[i]->connection)
        .key("out")
        .value(outcome.out.string())
        .key("rows_read")
        .value(result.rows_read)
        .key("errors")
        .value(outcome.report.errors())
        .key("warnings_count")
        .value(outcome.report.warnings())
        .key("seconds")
        .number_text(fixed(result.seconds, 3))
        .key("rows_per_second")
        .number_text(fixed(
            result.seconds > 0 ? static_cast<double>(result.rows_read) / result.seconds : 0.0, 0));
    json.key("warnings").begin_array();
    for (const std::string& warning : outcome.warnings)
      json.value(warning);
    json.end_array().key("notes").begin_object();
    for (const auto& [key, count] : result.notes)
      json.key(key).value(count);
    json.end_object().key("months").begin_array();
    for (const ingest::ConvertedMonth& m : result.months)
      write_month(json, m);
    json.end_array().end_object();
  }
  json.end_array().key("peak_rss_bytes").value(peak_rss_bytes).end_object();
  return json.take();
}

void print_failures_and_notes(std::ostream& err, const ingest::ConvertResult& result) {
  for (const ingest::ConvertedMonth& m : result.months)
    if (m.failure)
      err << m.summary.month.to_string() << " FAILED, no snapshot written: " << m.failure->message()
          << '\n';
  if (const std::string unplaced = result.unplaced_note(); !unplaced.empty())
    err << unplaced << '\n';
  if (!result.notes.empty()) {
    err << "notes from the plugin:\n";
    for (const auto& [key, count] : result.notes)
      err << "  " << key << " (" << core::group_thousands(count) << ")\n";
  }
}

void print_problems(std::ostream& out, const cbf::ValidationReport& report, std::size_t max_shown) {
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

void print_convert_text(std::ostream& out, std::ostream& err, const jobs::ResolvedSource& source,
                        const jobs::ConvertOutcome& outcome) {
  const ingest::ConvertResult& result = outcome.result;
  out << "converted " << source.describe() << " (" << source.plugin->name() << " "
      << source.plugin->version() << ") into " << outcome.out.string() << "\n\n";
  out << std::left << std::setw(9) << "month" << std::right << std::setw(12) << "rows"
      << std::setw(10) << "invalid" << std::setw(26) << "cost/cost total"
      << "  file\n";
  for (const auto& m : result.months) {
    out << std::left << std::setw(9) << m.summary.month.to_string() << std::right << std::setw(12)
        << core::group_thousands(m.summary.rows) << std::setw(10)
        << core::group_thousands(m.invalid_rows) << std::setw(26) << m.summary.cost.to_string()
        << "  " << (m.summary.rows ? m.summary.file.filename().string() : "-")
        << (m.failure     ? "  FAILED (see below)"
            : m.requested ? ""
                          : "  (partial: late rows found while reading other months)")
        << '\n';
  }
  out << "\n"
      << core::group_thousands(result.rows_read) << " rows read in " << fixed(result.seconds, 2)
      << " s";
  if (outcome.report.errors() > 0)
    out << "; " << core::group_thousands(outcome.report.errors()) << " error(s)";
  out << '\n';
  for (const std::string& warning : outcome.warnings)
    err << "warning: " << warning << '\n';
  print_failures_and_notes(err, result);
  if (outcome.report.errors() > 0) {
    err << "\nrow problems (" << outcome.report.errors() << " errors, " << outcome.report.warnings()
        << " warnings):\n";
    print_problems(err, outcome.report, 20);
  }
}

namespace {

void write_delivery(core::JsonWriter& json, const jobs::MonthDelivery& d) {
  json.begin_object()
      .key("month")
      .value(d.month.to_string())
      .key("rows")
      .value(d.rows)
      .key("cost")
      .value(d.cost.to_string())
      .key("chunks")
      .value(d.plan ? d.plan->chunks.size() : 0)
      .key("attempts")
      .value(d.attempts)
      .key("synced")
      .value(d.synced);
  if (d.landed)
    json.key("landed_rows")
        .value(d.landed->rows)
        .key("landed_cost")
        .value(d.landed->cost.to_string());
  if (!d.problem.empty())
    json.key("problem").value(d.problem);
  if (d.cancelled)
    json.key("interrupted").value(true);
  if (d.plan && d.plan->rollup)
    json.key("rollup")
        .begin_object()
        .key("rows_before")
        .value(d.plan->rollup->rows_before)
        .key("rows_after")
        .value(d.plan->rollup->rows_after)
        .key("groups_merged")
        .value(d.plan->rollup->groups_merged)
        .end_object();
  json.end_object();
}

std::string heading(const jobs::ConnectionSync& sync) {
  if (!sync.from.empty())
    return "pushed " + sync.from.string();
  return "sent " + sync.source.describe() + " (" + core::group_thousands(sync.rows_read) +
         " rows read)";
}

} // namespace

std::string sync_json(const jobs::SyncRun& run) {
  core::JsonWriter json;
  json.begin_object().key("connections").begin_array();
  for (const jobs::ConnectionSync& sync : run.connections) {
    json.begin_object()
        .key("connection")
        .value(sync.source.connection)
        .key("connection_id")
        .value(sync.source.delivery.connection_id);
    if (!sync.from.empty())
      json.key("from").value(sync.from.string());
    else
      json.key("rows_read").value(sync.rows_read);
    json.key("destination").value(sync.destination ? sync.destination->description : "");
    json.key("months").begin_array();
    for (const jobs::MonthDelivery& d : sync.deliveries)
      write_delivery(json, d);
    json.end_array().end_object();
  }
  json.end_array().key("interrupted").value(run.cancelled).end_object();
  return json.take();
}

void print_sync_text(std::ostream& out, std::ostream& err, const jobs::SyncRun& run) {
  bool first = true;
  for (const jobs::ConnectionSync& sync : run.connections) {
    if (!first)
      out << '\n';
    first = false;
    const bool local = sync.destination != nullptr && sync.destination->local != nullptr;
    out << heading(sync) << " to " << (sync.destination ? sync.destination->description : "")
        << "\n\n";
    out << std::left << std::setw(9) << "month" << std::right << std::setw(10) << "rows"
        << std::setw(22) << "cost/cost total" << std::setw(8) << "chunks" << std::setw(10)
        << "attempts"
        << "  " << std::left << std::setw(11) << "status";
    if (local)
      out << std::right << std::setw(12) << "landed rows" << std::setw(22) << "landed cost";
    out << '\n';
    for (const auto& d : sync.deliveries) {
      out << std::left << std::setw(9) << d.month.to_string() << std::right << std::setw(10)
          << core::group_thousands(d.rows) << std::setw(22) << d.cost.to_string() << std::setw(8)
          << (d.plan ? d.plan->chunks.size() : 0) << std::setw(10) << d.attempts << "  "
          << std::left << std::setw(11)
          << (d.synced      ? "synced"
              : d.cancelled ? "INTERRUPTED"
                            : "FAILED");
      if (d.landed)
        out << std::right << std::setw(12) << core::group_thousands(d.landed->rows) << std::setw(22)
            << d.landed->cost.to_string();
      out << '\n';
    }
    for (const auto& d : sync.deliveries)
      if (d.plan && d.plan->rollup) {
        const plan::RollupReport& rollup = *d.plan->rollup;
        out << d.month.to_string() << ": over a month cap, rolled up "
            << core::group_thousands(rollup.rows_before) << " rows into "
            << core::group_thousands(rollup.rows_after) << " ("
            << core::group_thousands(rollup.groups_merged)
            << (rollup.groups_merged == 1 ? " group" : " groups")
            << " of rows differing only in their amounts merged, sums exact)\n";
      }
    const std::string who = run.connections.size() > 1 ? sync.source.describe() + ": " : "";
    for (const auto& d : sync.deliveries) {
      if (d.problem.empty())
        continue;
      // Most problems name their month already ("2026-08: 1,250,000 rows is ..."): not twice.
      const std::string month = d.month.to_string();
      const bool named = d.problem.starts_with(month + ":") || d.problem.starts_with(month + " ");
      err << who << (named ? "" : month + ": ") << d.problem << '\n';
    }
  }
}

std::string error_json(std::string_view kind, std::string_view message) {
  core::JsonWriter json;
  json.begin_object()
      .key("error")
      .begin_object()
      .key("kind")
      .value(kind)
      .key("message")
      .value(message)
      .end_object()
      .end_object();
  return json.take();
}

} // namespace billdrop::report
