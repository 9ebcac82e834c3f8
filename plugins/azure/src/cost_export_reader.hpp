#pragma once
// The azure plugin's work: an actual-cost export, an amortized-cost export, or both joined so
// that billed cost comes from the first and amortized cost from the second (README, "Actual and
// amortized together").

#include "export_files.hpp"
#include <billdrop/file_break.hpp>

#include <billdrop/config.hpp>
#include <billdrop/result.hpp>
#include <billdrop/source_plugin.hpp>
#include <billdrop/timestamp.hpp>

#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace billdrop::azure {

struct ReaderOptions {
  std::filesystem::path actual;    // empty: not configured
  std::filesystem::path amortized; // empty: not configured
  std::string cost_column;         // empty: the built-in cost column names
  // A join of two single files is read in one pass when the amortized file is at most this
  // large as CSV (see one_pass()); 0: never.
  std::uint64_t join_one_pass_mb = 1024;
};

class CostExportReader {
public:
  explicit CostExportReader(ReaderOptions options) : options_(std::move(options)) {}
  static Result<CostExportReader> from_config(const Config& config);

  // Every file of both exports is found and its header has date and cost columns.
  Status check() const;
  // The months of every row's usage date, and the billing periods of files whose rows are not
  // all known (see read()). The first listing or read scans every file once and remembers which
  // months each holds, so that a read opens only the files it needs.
  Result<std::vector<Month>> months();
  // Writes the month's rows. Fails, before writing any, when a file that broke off (a truncated
  // gzip, an unterminated quote) could hold rows of the month: any month inside its billing
  // period, or any month at all when no period folder bounds it. Rows without a readable date
  // are rejected in the read of every month their file holds (its billing period, else the
  // months of its dated rows, else every month).
  Status read(Month month, RowSink& sink);

  // One export given as a single data file is read in one pass (ABI 1.4): every row in its own
  // month, no scan for the months first. So is the join of two single files, when the amortized
  // one is at most join_one_pass_mb as CSV: its index then holds every month's rows at once.
  // Folders and manifests keep months() + read(), so that a file that breaks off fails only the
  // months of its billing period.
  bool one_pass() const;
  Status read_all(RowSink& sink);

private:
  // What the scan learnt about one data file.
  struct ScannedFile {
    std::optional<BillingPeriod> period; // from the export's layout, when its rows agree
    std::set<Month> months;              // of its dated rows, as far as the scan got
    std::uint64_t undated = 0;           // rows without a readable date
    std::string first_undated;           // "<file>:<line>: <reason>"
    std::optional<FileBreak> broken;     // the scan stopped before the end

    // Whether a read of `month` must open the file: it holds rows of the month, or undated rows
    // that the month's read rejects.
    bool read_for(Month month) const;
    // Whether the rows after a break could belong to `month`.
    bool could_hold(Month month) const;
  };

  // Scans every data file of both exports, several at once (one thread each, up to four).
  Status scan();
  Result<ScannedFile> scan_file(const ExportDataFile& data);
  Result<std::vector<std::filesystem::path>> files_for(ExportKind kind,
                                                       std::optional<Month> month) const;
  // The rows of `month` (every month when none) of one export's files.
  Status read_one(const std::vector<std::filesystem::path>& files, std::optional<Month> month,
                  RowSink& sink);
  // The join of `month`'s rows (every month's when none).
  Status read_joined(const std::vector<std::filesystem::path>& actual,
                     const std::vector<std::filesystem::path>& amortized,
                     std::optional<Month> month, RowSink& sink);

  ReaderOptions options_;
  std::map<std::filesystem::path, ScannedFile> scanned_;
  bool scanned_all_ = false;
};

} // namespace billdrop::azure
