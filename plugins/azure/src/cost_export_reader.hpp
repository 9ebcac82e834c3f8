#pragma once
// The azure plugin's work: an actual-cost export, an amortized-cost export, or both joined so
// that billed cost comes from the first and amortized cost from the second (README, "Actual and
// amortized together").

#include "export_files.hpp"

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
};

class CostExportReader {
public:
  explicit CostExportReader(ReaderOptions options) : options_(std::move(options)) {}
  static Result<CostExportReader> from_config(const Config& config);

  // Every file of both exports is found and its header has date and cost columns.
  Status check() const;
  // The months of every row's usage date. Also remembers which months each file holds, so that
  // read() skips files without the month: a broken file then fails only its own months.
  Result<std::vector<Month>> months();
  Status read(Month month, RowSink& sink);

private:
  struct FileMonths {
    std::set<Month> months;
    std::optional<Error> error; // the file could not be read to its end
  };

  Result<std::vector<std::filesystem::path>> files_for(ExportKind kind,
                                                       std::optional<Month> month) const;
  Status read_one(const std::vector<std::filesystem::path>& files, Month month, RowSink& sink);
  Status read_joined(const std::vector<std::filesystem::path>& actual,
                     const std::vector<std::filesystem::path>& amortized, Month month,
                     RowSink& sink);

  ReaderOptions options_;
  std::map<std::filesystem::path, FileMonths> scanned_;
};

} // namespace billdrop::azure
