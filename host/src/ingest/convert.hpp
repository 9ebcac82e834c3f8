#pragma once
// `convert`: run a plugin for some months, validate every row, and write one month snapshot per
// month (rows sorted by hour) with a summary of rows and exact cost totals.

#include "cbf/validation_report.hpp"
#include "core/cancel.hpp"
#include "ingest/validating_receiver.hpp"
#include "snapshot/month_snapshot.hpp"
#include "source/plugin_loader.hpp"
#include "source/source_session.hpp"

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace billdrop::ingest {

struct ConvertOptions {
  std::vector<Month> months; // empty: every month the plugin reports
  // Where the month snapshots go; empty: validate only (rows are checked and counted, no snapshot
  // or summary is written), which is what `validate` of a plugin's output does.
  std::filesystem::path output_directory;
  const core::CancelToken* cancel = nullptr; // a stop request ends the read between two batches
  std::size_t memory_budget = 128 * 1024 * 1024;
  bool progress = false;
  // Validate and build snapshots on a second thread while the plugin parses (same results).
  bool pipeline = true;
};

struct ConvertedMonth {
  snapshot::MonthSummary summary;
  std::uint64_t invalid_rows = 0;
  // Records that could not be placed in any month, met while reading this one (and others): they
  // may belong here, so the month is incomplete. The same records for every month that met them.
  std::uint64_t unplaced_records = 0;
  bool requested = true; // false: rows of this month arrived while reading another (partial)
  // Set when reading this month failed: it has no snapshot (its partial rows were discarded), the
  // other months are unaffected.
  std::optional<Error> failure;
};

struct ConvertResult {
  std::vector<ConvertedMonth> months;
  std::vector<Month> requested;
  std::uint64_t rows_read = 0;
  std::uint64_t unrouted = 0; // rejects and invalid rows with no readable time
  std::uint64_t unplaced = 0; // distinct records met in the reads of several months
  std::map<std::string, std::uint64_t, std::less<>> notes; // the plugin's tallies
  double seconds = 0;

  // The first failed month's error, if any month failed.
  const Error* first_failure() const noexcept;
  // What the unplaced records mean for the months, for the text reports ("" when there are none):
  // "1 record could not be placed in a month (see the row problems); it may belong to 2026-08 or
  // 2026-09, which are therefore incomplete and not sent without --send-invalid".
  std::string unplaced_note() const;
};

// A month whose read fails is recorded in its ConvertedMonth and the run goes on with the next
// month; the Result's error is for what stops everything (listing months, the output directory,
// the user cancelling). Row problems are in report.
Result<ConvertResult> run_convert(source::SourceSession& source, const ConvertOptions& options,
                                  cbf::ValidationReport& report);

} // namespace billdrop::ingest
