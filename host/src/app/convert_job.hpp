#pragma once
// `convert`: run a plugin for some months, validate every row, and write one month snapshot per
// month (rows sorted by hour) with a summary of rows and exact cost totals.

#include "app/validating_receiver.hpp"
#include "cbf/month_snapshot.hpp"
#include "cbf/validation_report.hpp"
#include "plugin/plugin_loader.hpp"

#include <filesystem>
#include <vector>

namespace billdrop {

struct ConvertOptions {
  std::vector<Month> months; // empty: every month the plugin reports
  std::filesystem::path output_directory;
  std::size_t memory_budget = 256 * 1024 * 1024;
  bool progress = false;
};

struct ConvertedMonth {
  cbf::MonthSummary summary;
  std::uint64_t invalid_rows = 0;
  bool requested = true; // false: rows of this month arrived while reading another (partial)
};

struct ConvertResult {
  std::vector<ConvertedMonth> months;
  std::vector<Month> requested;
  std::uint64_t rows_read = 0;
  std::uint64_t unrouted = 0; // rejects and invalid rows with no readable time
  double seconds = 0;
};

// Source errors (the plugin failed) come back as the Result's error; row problems are in report.
Result<ConvertResult> run_convert(PluginInstance& plugin, const ConvertOptions& options,
                                  cbf::ValidationReport& report);

} // namespace billdrop
