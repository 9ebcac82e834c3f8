#pragma once
// The azure plugin's work: an actual-cost export, an amortized-cost export, or both joined so
// that billed cost comes from the first and amortized cost from the second (README, "Actual and
// amortized together").

#include "amortized_index.hpp"
#include "export_files.hpp"
#include <billdrop/file_break.hpp>

#include <billdrop/config.hpp>
#include <billdrop/result.hpp>
#include <billdrop/source_plugin.hpp>
#include <billdrop/timestamp.hpp>

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace billdrop::azure {

struct ReaderOptions {
  std::filesystem::path actual;    // empty: not configured
  std::filesystem::path amortized; // empty: not configured
  std::string cost_column;         // empty: the built-in cost column names
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

  // One export (actual or amortized, not both joined) given as a single CSV file is read in one
  // pass (ABI 1.4): every row in its own month, no scan for the months first. Folders, manifests
  // and the join keep months() + read(), so that a file that breaks off fails only the months
  // of its billing period.
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

  // A joined export's amortized rows of one month, indexed by the scan (see scan()).
  struct ScannedIndex {
    std::filesystem::path path; // the amortized export's one data file
    std::uintmax_t size = 0;    // its size and modification time when scanned
    std::filesystem::file_time_type modified;
    Month month;
    std::unique_ptr<AmortizedIndex> index;
    std::uint64_t rows = 0;                       // ordinals handed out: the file's rows
    std::optional<std::uint64_t> last_unreadable; // as read_joined's pass 1 keeps it
  };

  // Scans every data file of both exports, several at once (one thread each, up to four). When
  // the export is joined and the amortized export is one data file, that file's scan also
  // splits each row whole and builds the index of its amortized rows (read_joined's pass 1) as
  // long as they are all of one month, the usual monthly export: the join's read then starts
  // with its pass 2, and the index was built while the actual export was being scanned. A
  // session that only lists the months (check, a scheduled sync's listing) pays for the index
  // without using it: its scan of that file splits whole rows instead of up to the date column.
  Status scan();
  Result<ScannedFile> scan_file(const ExportDataFile& data, std::optional<ScannedIndex>* index);
  // The scan's index for a read of `month` over `amortized`, when it is that read's pass 1 (the
  // same one file, unchanged since); the scan's index is given up either way.
  std::optional<ScannedIndex>
  take_scanned_index(const std::vector<std::filesystem::path>& amortized, Month month);
  Result<std::vector<std::filesystem::path>> files_for(ExportKind kind,
                                                       std::optional<Month> month) const;
  // The rows of `month` (every month when none) of one export's files.
  Status read_one(const std::vector<std::filesystem::path>& files, std::optional<Month> month,
                  RowSink& sink);
  Status read_joined(const std::vector<std::filesystem::path>& actual,
                     const std::vector<std::filesystem::path>& amortized, Month month,
                     RowSink& sink);

  ReaderOptions options_;
  std::map<std::filesystem::path, ScannedFile> scanned_;
  std::optional<ScannedIndex> scanned_index_;
  bool scanned_all_ = false;
};

} // namespace billdrop::azure
