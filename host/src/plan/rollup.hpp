#pragma once
// Rollup: shrinks a month snapshot that is over a month cap without changing any total.
//
// Rows that are identical except for their amounts (the cost/* columns and usage/amount) become
// one row whose amounts are the exact sums. "Identical" is byte equality of the canonical row JSON
// with the amount values cut out, so every other column (time/usage_start included, hence the same
// hour) and the set of amount columns present must match: a row without cost/discounted_cost
// falls back to cost/cost and cannot be summed with one that has it. The merged row keeps the
// first row's key order and position within its hour, so the output is canonical and sorted by
// hour like its input.

#include "snapshot/month_snapshot.hpp"

#include <billdrop/result.hpp>

#include <cstdint>
#include <filesystem>

namespace billdrop::plan {

struct RollupReport {
  std::uint64_t rows_before = 0;
  std::uint64_t rows_after = 0;
  std::uint64_t groups_merged = 0; // groups of 2+ rows that became one row
};

struct RolledUpSnapshot {
  snapshot::MonthSummary summary; // of the rolled-up file (rows, bytes, totals, digest, file)
  RollupReport report;
};

// Reads `snapshot.file` once and writes the rolled-up rows to `output` (through a ".partial"
// file renamed into place). Memory is bounded by the distinct rows of one hour.
Result<RolledUpSnapshot> rollup_snapshot(const snapshot::MonthSummary& snapshot,
                                         const std::filesystem::path& output);

} // namespace billdrop::plan
