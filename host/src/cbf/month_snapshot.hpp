#pragma once
// Month snapshots: the complete, validated rows of one month, sorted by hour, on disk.
//
// SnapshotBuilder partitions rows by UTC month and keeps them in memory up to a budget; past it,
// each month's buffer is sorted and spilled to a run file, and finish() merges the runs. Sorting is
// stable (rows of one hour keep their arrival order), so the same input always gives the same
// file, digest and plan. Memory stays bounded by the budget whatever the input size.
//
// Snapshot file: <dir>/<YYYY-MM>.ndjson, one canonical CBF JSON object per line, time/usage_start
// first; plus <dir>/<YYYY-MM>.summary.json with the MonthSummary.

#include "cbf/row_validator.hpp"

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

namespace billdrop::cbf {

struct HourTotals {
  std::uint64_t rows = 0;
  Decimal cost;
};

struct MonthSummary {
  Month month;
  std::uint64_t rows = 0;
  std::uint64_t json_bytes = 0;                // sum of the rows' JSON sizes (no separators)
  Decimal cost;                                // exact sum of cost/cost
  std::map<std::string, Decimal> cost_by_type; // by lineitem/type ("Usage" when absent)
  std::map<std::string, HourTotals> hours;     // key "YYYY-MM-DDTHH"
  std::string sha256;                          // hex digest of the snapshot file's bytes
  std::filesystem::path file;
  // Set by convert (SnapshotBuilder leaves them): rows of the month that failed validation, and
  // whether the month was read whole (false when its read failed, when its rows only arrived
  // while reading other months, or in a summary written before convert finished). push refuses
  // a month that is not complete or had invalid rows, as run does.
  std::uint64_t invalid_rows = 0;
  bool complete = false;

  std::string to_json() const;
  static Result<MonthSummary> from_json(std::string_view json);
};

class SnapshotBuilder {
public:
  struct Options {
    std::filesystem::path directory;              // where snapshots (and spill runs) go
    std::size_t memory_budget = 64 * 1024 * 1024; // bytes of buffered rows before spilling
  };

  explicit SnapshotBuilder(Options options);
  ~SnapshotBuilder();
  SnapshotBuilder(const SnapshotBuilder&) = delete;
  SnapshotBuilder& operator=(const SnapshotBuilder&) = delete;

  // Copies the row. Throws ErrorException(source) on an I/O failure while spilling.
  void add(const NormalizedRow& row);

  std::uint64_t rows() const noexcept { return rows_; }
  std::uint64_t spilled_runs() const noexcept { return spilled_runs_; }
  std::size_t peak_buffered_bytes() const noexcept { return peak_buffered_; }

  // Forgets every row of `month` added so far (its read failed: a partial month must never become
  // a snapshot, since sending it would replace the whole month with part of it).
  void discard(const Month& month);

  // Writes every month's snapshot and summary, removes the run files, and returns the summaries
  // in month order.
  Result<std::vector<MonthSummary>> finish();

private:
  struct MonthBuffer;
  void spill();
  Status reduce_runs(MonthBuffer& buffer);
  std::filesystem::path next_run_path(const Month& month);
  void remove_runs() noexcept;

  Options options_;
  std::uint64_t id_;           // tells this builder's run files from another's
  std::uint64_t next_run_ = 0; // numbers run files
  std::size_t block_size_;     // rows are buffered in blocks of this size
  std::vector<std::unique_ptr<char[]>> free_blocks_; // blocks freed by a spill, for reuse
  std::map<Month, std::unique_ptr<MonthBuffer>> months_;
  std::size_t buffered_ = 0;
  std::size_t peak_buffered_ = 0;
  std::uint64_t rows_ = 0;
  std::uint64_t spilled_runs_ = 0;
};

// Reads a snapshot file back, row by row.
class SnapshotReader {
public:
  static Result<SnapshotReader> open(const std::filesystem::path& file);
  // The next row's JSON (valid until the next call) or false at the end.
  bool next(std::string_view& json);
  // "YYYY-MM-DDTHH" of the row last returned (snapshot rows start with time/usage_start).
  std::string_view hour() const noexcept;

private:
  explicit SnapshotReader(std::unique_ptr<std::ifstream> in) : in_(std::move(in)) {}
  std::unique_ptr<std::ifstream> in_;
  std::string line_;
};

} // namespace billdrop::cbf
