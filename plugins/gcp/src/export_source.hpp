#pragma once
// A file or folder of billing export extracts. The first listing or read scans every file once
// for the months it holds, so that a read touches only the files holding its month. Extracts
// carry no layout that bounds their months, so a file that breaks off could hold rows of any
// month after the break: then every month's read fails, naming the file and the line.

#include "export_file.hpp"
#include "row_mapper.hpp"

#include <billdrop/result.hpp>
#include <billdrop/source_plugin.hpp>
#include <billdrop/timestamp.hpp>

#include <filesystem>
#include <optional>
#include <set>
#include <vector>

namespace billdrop::gcp {

struct ExportOptions {
  std::filesystem::path path; // a file, or a folder whose export files are read in name order
  ExportFormat format = ExportFormat::automatic;
  MonthBy month_by = MonthBy::usage;
};

class ExportSource {
public:
  explicit ExportSource(ExportOptions options) : options_(std::move(options)) {}

  // Every file can be opened and (CSV) has the columns the mapping needs.
  Status check() const;
  Result<std::vector<Month>> months();
  Status read(Month month, RowSink& sink);
  // Every record of every file, each in its own month, in one pass and with no scan for the
  // months first (the host routes the rows; ABI 1.4 one pass). The plugin offers it for a
  // single file; a folder keeps months() + read(), whose listing names a file that breaks off.
  Status read_all(RowSink& sink);
  // The configured path is one file, not a folder.
  bool single_file() const;

private:
  struct Run {
    std::uint64_t offset;       // of its first record
    std::uint64_t line;         // of its first record
    std::optional<Month> month; // none: records of no month
  };

  struct FileIndex {
    std::filesystem::path path;
    std::set<Month> months; // of its records, as far as the scan got
    // Records whose month cannot be told. They are rejected in the read of every month the file
    // holds, or of every month when it holds none.
    std::uint64_t unroutable = 0;
    std::string first_unroutable;    // "<file>:<line>: <reason>"
    std::optional<FileBreak> broken; // the scan stopped before the end
    // Runs of consecutive records of one month (or of no month), so that a read parses only the
    // parts of the file that hold its month. Empty when the reader gave no offsets (CSV, or an
    // NDJSON file with a record it could not take in a batch) or the runs were too many.
    std::vector<Run> runs;
    std::uintmax_t size = 0; // as scanned: a file changed since is read whole
    std::filesystem::file_time_type modified;

    // Whether a read of `month` reads the file: it holds the month, or it holds only records of
    // no month, which every month's read then rejects.
    bool read_for(Month month) const;
    // The parts of the file a read of `month` needs (its runs and those of no month); empty: the
    // whole file.
    std::vector<ByteRange> ranges_for(Month month) const;
  };

  Result<std::vector<std::filesystem::path>> files() const;
  Status build_index();
  // What a read of every month met: records placed in a month, and those that could not be.
  struct PassCounts {
    std::uint64_t routed = 0;
    std::uint64_t unroutable = 0;
    std::string first_unroutable; // "<file>:<line>: <reason>"
  };
  // The records of `month` in `path` (its `ranges` only, when given), or of every month when
  // `month` is none (then counted in `counts`).
  Status read_file(const std::filesystem::path& path, const std::vector<ByteRange>& ranges,
                   std::optional<Month> month, RowSink& sink, std::uint64_t& done,
                   std::uint64_t total, PassCounts* counts = nullptr);

  ExportOptions options_;
  std::optional<std::vector<FileIndex>> index_;
};

} // namespace billdrop::gcp
