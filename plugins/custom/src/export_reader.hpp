#pragma once
// The custom plugin's work: the export's files, read record by record and mapped to CBF rows.

#include "column_mapping.hpp"
#include "record_source.hpp"

#include <billdrop/config.hpp>
#include <billdrop/result.hpp>
#include <billdrop/source_plugin.hpp>
#include <billdrop/timestamp.hpp>

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace billdrop::custom {

struct ExportOptions {
  std::filesystem::path path; // a file, or a directory of files
  std::string file_pattern = "*";
  InputFormat format = InputFormat::automatic;
  char delimiter = ',';
  // Incremental mode (README, "Incremental mode"): `path` is a folder to which each new file
  // brings only new or changed records; read_since() reads the files after the cursor, which is
  // the name of the last file read.
  bool incremental = false;
  std::vector<std::string> identity_columns; // empty: the host's default identity
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
  // Every record of every file, each row in its own month, in one pass (ABI 1.4): the months of
  // an export are known only by reading it, and read() reads every file for each month.
  Status read_all(RowSink& sink) const;

  bool incremental() const noexcept { return options_.incremental; }
  const std::vector<std::string>& identity_columns() const noexcept {
    return options_.identity_columns;
  }
  // Incremental mode: the rows of every record of the files whose names sort after `cursor`
  // ("" = every file), in name order, whatever their months; a checkpoint with the file's name
  // after each file. `next_cursor` is the last file's name (unchanged when there is none).
  Status read_since(std::string_view cursor, RowSink& sink, std::string& next_cursor) const;

private:
  struct OpenedFile {
    std::unique_ptr<RecordSource> source;
    std::optional<FileMapping> mapping; // absent for a JSON file without a valid record
  };

  Result<std::vector<std::filesystem::path>> files() const;
  // Incremental mode: the folder's files whose names sort after `cursor`, in name order (none is
  // not an error: nothing new arrived).
  Result<std::vector<std::filesystem::path>> files_after(std::string_view cursor) const;
  Result<OpenedFile> open(const std::filesystem::path& file) const;
  // Writes the rows of the records of `paths` whose time/usage_start falls in `month` (every
  // record when there is none), calling `after_file` after each file when it is set.
  Status read_files(const std::vector<std::filesystem::path>& paths, std::optional<Month> month,
                    RowSink& sink,
                    const std::function<Status(const std::filesystem::path&)>& after_file) const;

  ExportOptions options_;
  ColumnMapping mapping_;
};

} // namespace billdrop::custom
