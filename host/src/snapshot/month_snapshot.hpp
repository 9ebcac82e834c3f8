#pragma once
// Month snapshots: the complete, validated rows of one month, in hour order, on disk.
//
// For month M in directory D:
//   D/M.ndjson        the rows as canonical CBF JSON (time/usage_start first), one per line, in
//                     the order they arrived
//   D/M.index         the rows in snapshot order: by hour, arrival order within an hour
//                     (format in snapshot_index.hpp)
//   D/M.summary.json  the MonthSummary
//
// SnapshotBuilder writes each row once, as it arrives, through a background writer; only the
// index (24 bytes a row) is kept and sorted. Past the memory budget the index entries spill to
// disk, and finish() sorts them in hour ranges that fit the budget, so memory stays bounded
// whatever the input size and no row is ever copied a second time. Ordering is stable, so the
// same input always gives the same files, digest and plan. SnapshotReader (snapshot_reader.hpp)
// reads the rows back in snapshot order.

#include "cbf/hour_totals.hpp"
#include "cbf/row_validator.hpp"
#include "snapshot/snapshot_reader.hpp"

#include <billdrop/decimal.hpp>
#include <billdrop/result.hpp>
#include <billdrop/timestamp.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace billdrop::snapshot {

// Defined in cbf/ so that destinations (send/) count what they hold the same way.
using HourTotals = cbf::HourTotals;

struct MonthSummary {
  Month month;
  std::uint64_t rows = 0;
  std::uint64_t json_bytes = 0;                // sum of the rows' JSON sizes (no separators)
  Decimal cost;                                // exact sum of cost/cost
  std::map<std::string, Decimal> cost_by_type; // by lineitem/type ("Usage" when absent)
  std::map<std::string, HourTotals> hours;     // key "YYYY-MM-DDTHH"
  std::string digest;                          // of the rows in snapshot order (snapshot_index.hpp)
  std::filesystem::path file;                  // the rows file; its index is beside it
  // Set by convert (SnapshotBuilder leaves them): rows of the month that failed validation;
  // records that could not be placed in any month, met while reading this one and others (any
  // may belong here); and whether the month was read whole (false when its read failed, when its
  // rows only arrived while reading other months, or in a summary written before convert
  // finished). push never sends a month not read whole, nor, unless --send-invalid, one with
  // invalid rows or unplaced records, as run does.
  std::uint64_t invalid_rows = 0;
  std::uint64_t unplaced_records = 0;
  bool read_whole = false;

  // The month holds every row the source has for it: read whole, and nothing left out. What
  // "complete" says in the JSON, so that a summary with invalid rows never claims it.
  bool complete() const noexcept {
    return read_whole && invalid_rows == 0 && unplaced_records == 0;
  }

  std::string to_json() const;
  // A summary without "read_whole" (an older billdrop's) takes it from "complete".
  static Result<MonthSummary> from_json(std::string_view json);
  // Writes <directory>/<YYYY-MM>.summary.json through a ".partial" file renamed into place.
  Status write(const std::filesystem::path& directory) const;
};

class SnapshotBuilder {
public:
  struct Options {
    std::filesystem::path directory; // where snapshots (and work files) go
    // Bytes of index entries and write buffers; finish() may use as much again to sort a month.
    std::size_t memory_budget = 64 * 1024 * 1024;
  };

  explicit SnapshotBuilder(Options options);
  ~SnapshotBuilder();
  SnapshotBuilder(const SnapshotBuilder&) = delete;
  SnapshotBuilder& operator=(const SnapshotBuilder&) = delete;

  // Copies the row. Throws ErrorException(source) on an I/O failure.
  void add(const cbf::NormalizedRow& row);

  std::uint64_t rows() const noexcept { return rows_; }
  // How many times index entries were spilled to disk to stay within the budget.
  std::uint64_t spilled_runs() const noexcept { return spilled_runs_; }
  std::size_t peak_buffered_bytes() const noexcept { return peak_buffered_; }

  // Forgets every row of `month` added so far (its read failed: a partial month must never become
  // a snapshot, since sending it would replace the whole month with part of it).
  void discard(const Month& month);

  // Writes every month's rows file, index and summary, removes the work files, and returns the
  // summaries in month order.
  Result<std::vector<MonthSummary>> finish();

private:
  struct MonthBuffer;
  class Writer;
  MonthBuffer& buffer_for(const Month& month);
  void spill();
  Status finish_month(MonthBuffer& buffer, MonthSummary& summary);
  std::filesystem::path work_path(const Month& month, std::string_view extension) const;
  void remove_work_files() noexcept;

  Options options_;
  std::uint64_t id_;        // tells this builder's work files from another's
  std::size_t write_block_; // rows go to the writer in blocks of this size
  std::unique_ptr<Writer> writer_;
  std::map<Month, std::unique_ptr<MonthBuffer>> months_;
  std::size_t buffered_ = 0;
  std::size_t peak_buffered_ = 0;
  std::uint64_t rows_ = 0;
  std::uint64_t spilled_runs_ = 0;
};

} // namespace billdrop::snapshot
