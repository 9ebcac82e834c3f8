#pragma once
// A FOCUS export: one CSV file or a folder of them (gzip or not), indexed by month once so that a
// month's read opens only the files that hold it, and a broken file costs only its own months.

#include "focus_columns.hpp"

#include <billdrop/config.hpp>
#include <billdrop/result.hpp>
#include <billdrop/source_plugin.hpp>
#include <billdrop/timestamp.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace billdrop::focus {

// Which timestamp puts a row in a requested month. Either way time/usage_start is
// ChargePeriodStart, and the host files each row under the month of its usage_start.
enum class MonthBy {
  charge_period, // ChargePeriodStart (default)
  billing_period // BillingPeriodStart: a month's read is that invoice's rows, late ones included
};

// "charge_period" or "billing_period"; anything else is a config error naming the key.
Result<MonthBy> parse_month_by(std::string_view text);

struct ExportOptions {
  std::filesystem::path path; // a file, or a folder searched recursively
  MonthBy month_by = MonthBy::charge_period;
};

// `path` itself when it is a file; for a folder, every *.csv and *.csv.gz below it (names matched
// ignoring case; hidden files and folders skipped), in path order. None is a source error.
Result<std::vector<std::filesystem::path>> list_focus_files(const std::filesystem::path& path);

class FocusExport {
public:
  explicit FocusExport(ExportOptions options) : options_(std::move(options)) {}

  static Result<FocusExport> from_config(const Config& config);

  // Every file opens and its header has the mandatory FOCUS columns; all problems at once.
  Status check() const;

  // The months of the export's rows (by month_by), ascending. Scans every file once and keeps the
  // result for read(). A file that fails mid-way (a truncated gzip) keeps the months seen before
  // the failure, whose reads then fail with the same error; a file that fails before any month is
  // an error here, since no month can carry it.
  Result<std::vector<Month>> months();

  // Writes the rows of `month`. Records that cannot be routed to a month (a short row, an
  // unreadable ChargePeriodStart) are rejected once, in the read of their file's first month.
  Status read(Month month, RowSink& sink);

private:
  struct IndexedFile {
    std::filesystem::path path;
    std::string name;          // for origins: the path below the configured folder
    std::vector<Month> months; // ascending
    bool has_unroutable = false;
    std::optional<Month> reject_month; // the read that rejects its unroutable records
    std::string first_unroutable;      // "name:line: reason", for the error when nothing routes
  };

  Status build_index();
  Status scan(IndexedFile& file) const;

  ExportOptions options_;
  std::optional<std::vector<IndexedFile>> index_;
};

} // namespace billdrop::focus
