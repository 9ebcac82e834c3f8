#pragma once
// `convert_incremental`: read what an incremental source changed since a cursor, validate it as
// run_convert does, and merge it into the stored month snapshots, so that every month snapshot
// still holds the whole month (the API replaces a month with each drop: docs/abi.md,
// "Incremental sources").
//
// The merge, per month the increment touches:
//   - a row's identity is its values in the source's identity columns (cbf::RowIdentity);
//   - the increment is read in parts (bd_sink::cursor); of the increment's rows sharing an
//     identity, those of the latest part that has any are kept ("the last restatement wins";
//     within one part every row is kept, so a source may give several rows one identity);
//   - every stored row whose identity the increment has is replaced by those rows; the other
//     stored rows are kept, in their order, and the increment's rows follow them (arrival order);
//   - the rows file, index and summary are written anew, with totals, per-hour totals, totals by
//     type and digest recomputed from the merged rows.
//
// All or nothing: the merged months are built beside the snapshots (in <snapshot_dir>/
// .incremental/) and renamed into place only when every month was built; a failed read, an
// invalid row, a rejected record or a cancelled run leaves every stored snapshot as it was, and
// returns an error instead of a cursor, so the caller keeps the cursor it had and the same
// records are read again next time. Merging an increment a second time gives the same snapshots
// (the same rows replace themselves), so a process that dies after the renames but before it
// stored the new cursor loses nothing by reading the increment again.
//
// The caller holds the connection's lock (snapshot::connection_lock_file) for the whole call, as
// for run_convert: nothing else may write the snapshot folder meanwhile.

#include "cbf/validation_report.hpp"
#include "core/cancel.hpp"
#include "snapshot/month_snapshot.hpp"
#include "source/source_session.hpp"

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace billdrop::ingest {

struct IncrementalOptions {
  const core::CancelToken* cancel = nullptr; // a stop request ends the read between two batches
  std::size_t memory_budget = 128 * 1024 * 1024;
  bool progress = false;
  // Validate on a second thread while the plugin parses (same results).
  bool pipeline = true;
};

struct MergedMonth {
  // The month as it is now stored: rows, exact totals, per-hour totals, digest. invalid_rows,
  // unplaced_records and read_whole are those of the stored summary (a new month: 0, 0, true).
  snapshot::MonthSummary summary;
  std::uint64_t increment_rows = 0;  // valid rows of this month in the increment
  std::uint64_t superseded_rows = 0; // of those, rows a later part of the increment restated
  std::uint64_t stored_rows = 0;     // rows of the snapshot before the merge
  std::uint64_t replaced_rows = 0;   // of those, rows replaced by the increment's
  bool created = false;              // the month had no snapshot before
  // The month's digest differs from the stored one's. False when the increment restated
  // records exactly as they were: the month need not be sent again.
  bool changed = true;
};

struct IncrementalResult {
  std::string cursor; // where the next read starts: store it once this call returned
  // The months the increment touched, in month order: only these need sending (those whose
  // `changed` is set, strictly).
  std::vector<MergedMonth> months;
  std::uint64_t rows_read = 0; // rows the plugin sent (valid ones: sum of increment_rows)
  std::uint64_t parts = 0;     // cursors the plugin gave
  std::map<std::string, std::uint64_t, std::less<>> notes; // the plugin's tallies
  double seconds = 0;
};

// Reads the increment since `cursor` ("" = from the start) from `source` into the snapshots of
// `snapshot_dir` (created when missing). Errors: config when the source is not incremental or
// names an identity column that is not one; data when the increment holds an invalid row or a
// rejected record (they are in `report`; nothing is merged, since the cursor would move past
// them and the month would stay without them for good) or a stored snapshot cannot be read;
// the plugin's error when its read fails; cancelled when `options.cancel` stopped it. On every
// error the stored snapshots are unchanged.
Result<IncrementalResult> convert_incremental(source::SourceSession& source,
                                              std::string_view cursor,
                                              const std::filesystem::path& snapshot_dir,
                                              const IncrementalOptions& options,
                                              cbf::ValidationReport& report);

} // namespace billdrop::ingest
