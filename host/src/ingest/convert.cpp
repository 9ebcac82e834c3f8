#include "ingest/convert.hpp"

#include "core/log.hpp"
#include "core/progress.hpp"
#include "ingest/pipelined_receiver.hpp"
#include "ingest/stoppable_receiver.hpp"

#include <algorithm>
#include <chrono>
#include <sstream>

namespace billdrop::ingest {

namespace {

// The report's first `count` problems as its text lines, joined by "; ".
std::string first_problems(const cbf::ValidationReport& report, std::size_t count) {
  std::ostringstream text;
  report.write_text(text);
  std::istringstream lines(text.str());
  std::string joined;
  std::string line;
  for (std::size_t n = 0; n < count && std::getline(lines, line); ++n)
    joined.append(n == 0 ? "" : "; ").append(line);
  return joined;
}

} // namespace

Result<ConvertResult> run_convert(source::SourceSession& source, const ConvertOptions& options,
                                  cbf::ValidationReport& report) {
  const auto start = std::chrono::steady_clock::now();
  ConvertResult result;
  // Every month of a source that learns its months only by reading its data: one pass over it
  // (ABI 1.4) instead of one to list the months and one more per month.
  const bool one_pass = options.months.empty() && source.one_pass();
  if (one_pass) {
    // The months are those the read meets (below).
  } else if (options.months.empty()) {
    Result<std::vector<Month>> months = source.months();
    if (!months)
      return months.error();
    result.requested = std::move(*months);
  } else {
    result.requested = options.months;
    std::sort(result.requested.begin(), result.requested.end());
    result.requested.erase(std::unique(result.requested.begin(), result.requested.end()),
                           result.requested.end());
  }

  const bool build = !options.output_directory.empty();
  std::optional<snapshot::SnapshotBuilder> builder;
  if (build) {
    std::error_code ec;
    std::filesystem::create_directories(options.output_directory, ec);
    if (ec)
      return source_error("cannot create output directory " + options.output_directory.string() +
                          ": " + ec.message());
    builder.emplace(
        snapshot::SnapshotBuilder::Options{options.output_directory, options.memory_budget});
  }
  core::Progress progress("");
  progress.set_enabled(options.progress);
  ValidatingReceiver receiver(report, builder ? &*builder : nullptr, &progress);
  std::optional<PipelinedReceiver> pipeline;
  if (options.pipeline && !source.reads_ahead()) // a runner process parses meanwhile already
    pipeline.emplace(receiver);
  StoppableReceiver stoppable(pipeline ? static_cast<source::RowReceiver&>(*pipeline)
                                       : static_cast<source::RowReceiver&>(receiver),
                              options.cancel);
  std::map<Month, Error> failures;
  try {
    if (one_pass) {
      progress.set_label("reading every month");
      log::info("convert.read_all", {{"plugin", source.name()}});
      receiver.begin_one_pass();
      Status status = source.read_all(stoppable);
      bool host_failed = false;
      if (pipeline) {
        if (Status drained = pipeline->drain(); !drained) {
          status = std::move(drained);
          host_failed = true;
        }
      }
      progress.finish();
      for (const auto& [month, counts] : receiver.months())
        result.requested.push_back(month);
      receiver.end_one_pass(result.requested);
      log::info("convert.read_done", {{"months", result.requested.size()},
                                      {"rows_so_far", receiver.rows()},
                                      {"ok", static_cast<bool>(status)}});
      // Records read and none placed in a month: as when a listing finds no month for them, the
      // run fails and says why, never "0 rows read" and success.
      if (status && result.requested.empty() && receiver.unrouted() != 0)
        return data_error(
            "no record of the source can be placed in a month, so no month can be read (" +
            std::to_string(receiver.unrouted()) +
            (receiver.unrouted() == 1 ? " record" : " records") +
            ", all rejected); the first: " + first_problems(report, 3));
      if (!status) {
        if (host_failed && status.error().kind() == ErrorKind::source)
          return status.error().with_context("writing the snapshots");
        Error error = status.error().with_context(
            host_failed ? std::string("billdrop could not build the snapshots")
                        : "plugin '" + source.name() + "' failed reading every month in one pass");
        // Nothing read yet says which months the source holds: the run fails as a whole, as when
        // listing the months fails.
        if (error.kind() == ErrorKind::cancelled || result.requested.empty())
          return error;
        // A row of any month may come last: no month met in a failed read is complete.
        log::error("convert.one_pass_failed",
                   {{"months", result.requested.size()}, {"error", error.message()}});
        for (const Month& month : result.requested) {
          if (builder)
            builder->discard(month);
          failures.emplace(month, error);
        }
      }
    }
    for (const Month& month : one_pass ? std::vector<Month>{} : result.requested) {
      progress.set_label("reading " + month.to_string());
      log::info("convert.read", {{"plugin", source.name()}, {"month", month.to_string()}});
      receiver.begin_month(month); // the pipeline is drained between months
      Status status = source.read(month, stoppable);
      bool host_failed = false;
      if (pipeline) {
        // The receiver and the builder are the worker's until the queue is empty.
        if (Status drained = pipeline->drain(); !drained) {
          status = std::move(drained); // the host's own failure is why the read stopped
          host_failed = true;
        }
      }
      progress.finish();
      log::info("convert.read_done", {{"month", month.to_string()},
                                      {"rows_so_far", receiver.rows()},
                                      {"ok", static_cast<bool>(status)}});
      if (status)
        continue;
      if (host_failed && status.error().kind() == ErrorKind::source) // the disk, not the data
        return status.error().with_context("writing the snapshots of " + month.to_string());
      Error error = status.error().with_context(
          host_failed ? "billdrop could not build the snapshot of " + month.to_string()
                      : "plugin '" + source.name() + "' failed reading " + month.to_string());
      if (error.kind() == ErrorKind::cancelled)
        return error;
      // One month's bad file must not cost the others: drop this month's partial rows and go on.
      log::error("convert.month_failed",
                 {{"month", month.to_string()}, {"error", error.message()}});
      if (builder)
        builder->discard(month);
      failures.emplace(month, std::move(error));
    }
  } catch (const ErrorException& e) {
    return e.error();
  }

  Result<std::vector<snapshot::MonthSummary>> summaries =
      builder ? builder->finish()
              : Result<std::vector<snapshot::MonthSummary>>(std::vector<snapshot::MonthSummary>{});
  if (!summaries)
    return summaries.error();
  log::info("convert.snapshots_written", {{"months", summaries->size()}});
  for (snapshot::MonthSummary& summary : *summaries) {
    ConvertedMonth converted;
    converted.requested =
        std::binary_search(result.requested.begin(), result.requested.end(), summary.month);
    if (auto it = receiver.months().find(summary.month); it != receiver.months().end()) {
      converted.invalid_rows = it->second.invalid;
      converted.unplaced_records = it->second.unplaced;
    }
    if (auto it = failures.find(summary.month); it != failures.end())
      converted.failure = it->second; // rows of it that came while reading another month
    converted.summary = std::move(summary);
    result.months.push_back(std::move(converted));
  }
  // Months that were asked for but produced no valid row still appear in the summary.
  for (const Month& month : result.requested) {
    const bool present =
        std::any_of(result.months.begin(), result.months.end(),
                    [&](const ConvertedMonth& m) { return m.summary.month == month; });
    if (!present) {
      ConvertedMonth empty;
      empty.summary.month = month;
      if (auto it = receiver.months().find(month); it != receiver.months().end()) {
        empty.invalid_rows = it->second.invalid;
        empty.unplaced_records = it->second.unplaced;
        if (!build) { // validate only: the counts are all there is
          empty.summary.rows = it->second.valid;
          empty.summary.cost = it->second.cost;
        }
      }
      if (auto it = failures.find(month); it != failures.end())
        empty.failure = it->second;
      result.months.push_back(std::move(empty));
    }
  }
  std::sort(result.months.begin(), result.months.end(),
            [](const ConvertedMonth& a, const ConvertedMonth& b) {
              return a.summary.month < b.summary.month;
            });
  // Every month convert touched gets a summary saying how it was read; a month without rows gets
  // one too, so an older summary of it can never be pushed in its place.
  for (ConvertedMonth& month : result.months) {
    month.summary.invalid_rows = month.invalid_rows;
    month.summary.unplaced_records = month.unplaced_records;
    month.summary.read_whole = month.requested && !month.failure;
    // Rewritten with what only convert knows (invalid rows, whether the month was read whole),
    // so that `push` can refuse what `run` would refuse.
    if (!build)
      continue;
    if (Status written = month.summary.write(options.output_directory); !written)
      return written.error();
  }
  result.rows_read = receiver.rows();
  result.unrouted = receiver.unrouted();
  result.unplaced = receiver.unplaced();
  result.notes = receiver.notes();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

const Error* ConvertResult::first_failure() const noexcept {
  for (const ConvertedMonth& month : months)
    if (month.failure)
      return &*month.failure;
  return nullptr;
}

std::string ConvertResult::unplaced_note() const {
  if (unplaced == 0)
    return {};
  std::vector<std::string> blocked;
  for (const ConvertedMonth& month : months)
    if (month.unplaced_records > 0)
      blocked.push_back(month.summary.month.to_string());
  std::string text = std::to_string(unplaced) + (unplaced == 1 ? " record" : " records") +
                     " could not be placed in a month (see the row problems); " +
                     (unplaced == 1 ? "it" : "they") + " may belong to ";
  for (std::size_t i = 0; i < blocked.size(); ++i)
    text.append(i == 0 ? "" : i + 1 == blocked.size() ? " or " : ", ").append(blocked[i]);
  text += blocked.size() == 1 ? ", which is" : ", which are";
  return text + " therefore incomplete and not sent without --send-invalid";
}

} // namespace billdrop::ingest
