#pragma once
// Golden files for a source's conversion (`validate --golden DIR`, `--update-golden`): per month,
// DIR/<YYYY-MM>.ndjson holds the snapshot's rows (canonical CBF JSON, in snapshot order) and
// DIR/<YYYY-MM>.golden.json the month's row count, exact cost total (and by line-item type) and
// snapshot digest. A plugin's tests keep them next to their sample data: any change to what the
// plugin emits shows as the rows that differ.

#include "jobs/sync.hpp"

#include <billdrop/timestamp.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace billdrop::jobs {

struct GoldenMonth {
  Month month;
  enum class State { same, differs, missing_golden, missing_run, written } state = State::same;
  std::vector<std::string> differences;    // "cost 112.50 in the run, 112.49 in the golden file"
  std::vector<std::string> only_in_run;    // rows (JSON), at most `max_rows` shown
  std::vector<std::string> only_in_golden; // rows (JSON), at most `max_rows` shown
  std::uint64_t rows_only_in_run = 0;      // all of them, counted
  std::uint64_t rows_only_in_golden = 0;
};

struct GoldenResult {
  std::filesystem::path directory;
  std::vector<GoldenMonth> months;
  bool updated = false;
  bool same() const;
};

// Compares the months `outcome` converted (snapshots in outcome.out) with the golden files in
// `directory`, or, with `update`, writes them (a golden month the run no longer has is removed).
// Only months read whole are compared; a month whose read failed is a difference. `max_rows`:
// differing rows kept per month for the report.
GoldenResult golden_files(const ConvertOutcome& outcome, const std::filesystem::path& directory,
                          bool update, std::size_t max_rows = 20);

} // namespace billdrop::jobs
