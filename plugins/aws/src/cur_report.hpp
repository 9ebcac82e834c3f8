#pragma once
// Where a CUR's data files are and how they are read: a legacy report tree
// (<report>/<YYYYMMDD-YYYYMMDD>/<assembly>/... with manifests), a legacy report in the Athena
// layout (<report>/year=YYYY/month=M/*.parquet with the cost_and_usage_data_status table), a
// CUR 2.0 export (data/BILLING_PERIOD=YYYY-MM/...), or one loose file (.csv, .csv.gz, .csv.zip,
// .parquet).

#include "cur_row_mapper.hpp"

#include <billdrop/source_plugin.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace billdrop::aws {

// legacy: either legacy layout (manifests, or Athena); athena: the Athena layout only.
enum class ReportFormat { automatic, legacy, athena, cur2 };

Result<ReportFormat> parse_report_format(std::string_view text);

struct ReportOptions {
  std::filesystem::path path;
  ReportFormat format = ReportFormat::automatic;
  std::string report_name; // legacy: which report under a prefix holding several
  MonthBy month_by = MonthBy::usage;
};

// One billing month: its data files, or why they cannot be known (no manifest, a manifest naming
// absent files, Parquet data).
struct MonthFiles {
  Month month;
  std::filesystem::path folder;
  std::vector<std::filesystem::path> files;
  std::vector<std::string> problems;
};

enum class LayoutKind { legacy, athena, cur2, file };

struct ReportLayout {
  LayoutKind kind = LayoutKind::file;
  std::filesystem::path root; // the report folder, the export's data folder, or the file
  std::vector<MonthFiles> months;
  // Why no month can be read now (the Athena status table says AWS is rewriting the report).
  std::vector<std::string> problems;
};

// Finds the report under `options.path`. Errors say what was looked for and what was found.
Result<ReportLayout> locate_report(const ReportOptions& options);

class CurReport {
public:
  explicit CurReport(ReportOptions options) : options_(std::move(options)) {}

  // Every problem at once, one per line: missing manifests, absent files, unreadable or
  // unexpected headers. Data lines are not read (a truncated gzip tail shows up on read).
  Status check() const;
  Result<std::vector<Month>> months() const;
  Status read(Month month, RowSink& sink) const;
  // Whether the path is one loose file, whose months are known only by reading it: then
  // read_all() reads it once for all of them.
  bool one_file() const;
  // Every line of a loose file, each in its own month, in one pass (ABI 1.4).
  Status read_all(RowSink& sink) const;

private:
  ReportOptions options_;
};

} // namespace billdrop::aws
