#pragma once
// A FOCUS export: one CSV file or a folder of them (gzip or not), indexed by month once so that a
// month's read opens only the files that hold it. A file that breaks off fails the reads of the
// months its rows after the break could belong to (see FocusExport::read).

#include "focus_columns.hpp"
#include <billdrop/file_break.hpp>

#include <billdrop/config.hpp>
#include <billdrop/result.hpp>
#include <billdrop/source_plugin.hpp>
#include <billdrop/timestamp.hpp>

#include <algorithm>
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

// The billing period of a partition folder, "BILLING_PERIOD=2024-09" (AWS Data Exports; the key
// in any case); nullopt for any other name.
std::optional<Month> parse_billing_period_folder(std::string_view name);

class FocusExport {
public:
  explicit FocusExport(ExportOptions options) : options_(std::move(options)) {}

  static Result<FocusExport> from_config(const Config& config);

  // Every file opens and its header has the mandatory FOCUS columns; all problems at once.
  Status check() const;

  // The months of the export's rows (by month_by), ascending, with the billing period of a
  // partitioned file whose rows are not all known (a break, unroutable records), so that its
  // failure is reported. Scans every file once and keeps the result for read(). A file that
  // breaks off before any month and outside any partition is an error here: every month's read
  // would fail.
  Result<std::vector<Month>> months();

  // Writes the rows of `month`. Fails, before writing any, when a file that broke off (a
  // truncated gzip, an unterminated quote) could hold rows of the month: with month_by =
  // billing_period and the file under a BILLING_PERIOD=YYYY-MM folder, only that month; else
  // any month. Records that cannot be placed in a month (a short row, an unreadable
  // ChargePeriodStart) are rejected in the read of every month their file holds (every month,
  // when it holds none).
  Status read(Month month, RowSink& sink);

  // A single file (not a folder) is read in one pass (ABI 1.4): every row in its own month, no
  // scan for the months first. A folder keeps months() + read(), so that a file that breaks off
  // in a BILLING_PERIOD= partition fails only its own month.
  bool one_pass() const;
  Status read_all(RowSink& sink);

private:
  struct IndexedFile {
    std::filesystem::path path;
    std::string name;          // for origins: the path below the configured folder
    std::vector<Month> months; // ascending, as far as the scan got
    // The BILLING_PERIOD=YYYY-MM folder the file is under, with month_by = billing_period and
    // when its rows agree.
    std::optional<Month> period;
    std::uint64_t unroutable = 0;
    std::string first_unroutable; // "name:line: reason", for the error when nothing routes
    std::optional<FileBreak> broken;

    bool holds(Month month) const {
      return std::binary_search(months.begin(), months.end(), month);
    }
    // Whether a read of `month` opens the file: it holds the month, or records of no month that
    // the month's read rejects.
    bool read_for(Month month) const;
    // Whether the rows after a break could belong to `month`.
    bool could_hold(Month month) const { return !period || *period == month || holds(month); }
  };

  Status build_index();
  Status scan(IndexedFile& file) const;

  ExportOptions options_;
  std::optional<std::vector<IndexedFile>> index_;
};

} // namespace billdrop::focus
