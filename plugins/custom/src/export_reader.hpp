#pragma once
// The custom plugin's work: the export's files, read record by record and mapped to CBF rows.

#include "column_mapping.hpp"
#include "record_source.hpp"

#include <billdrop/config.hpp>
#include <billdrop/result.hpp>
#include <billdrop/source_plugin.hpp>
#include <billdrop/timestamp.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace billdrop::custom {

struct ExportOptions {
  std::filesystem::path path; // a file, or a directory of files
  std::string file_pattern = "*";
  InputFormat format = InputFormat::automatic;
  char delimiter = ',';
};

class ExportReader {
public:
  ExportReader(ExportOptions options, ColumnMapping mapping)
      : options_(std::move(options)), mapping_(std::move(mapping)) {}

  // From the plugin's (host-validated) configuration; every problem is a config error, all
  // reported at once.
  static Result<ExportReader> from_config(const Config& config);

  // Every file can be opened, its header (CSV) or first record (JSON) read, and every column the
  // mapping names exists in it.
  Status check() const;

  // The months of every record's time/usage_start, ascending. Records that cannot be routed are
  // skipped here and read() rejects them; when no record can be routed, no month would be read,
  // so this is a data error saying how many records were rejected and why the first ones were.
  Result<std::vector<Month>> months() const;

  // Writes the rows of `month`. A record that cannot be routed to a month (malformed, or no
  // readable time/usage_start) is rejected in every read; one that can is rejected only in its
  // month's read when its other values cannot be mapped.
  Status read(Month month, RowSink& sink) const;

private:
  struct OpenedFile {
    std::unique_ptr<RecordSource> source;
    std::optional<FileMapping> mapping; // absent for a JSON file without a valid record
  };

  Result<std::vector<std::filesystem::path>> files() const;
  Result<OpenedFile> open(const std::filesystem::path& file) const;

  ExportOptions options_;
  ColumnMapping mapping_;
};

} // namespace billdrop::custom
