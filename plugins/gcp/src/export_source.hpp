#pragma once
// A file or folder of billing export extracts. The first listing or read scans every file once
// for the months it holds, so that a read touches only the files holding its month and a broken
// file costs only its own months.

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

private:
  struct FileIndex {
    std::filesystem::path path;
    std::set<Month> months;
    bool has_unroutable = false;  // records whose month cannot be told: rejected in each read
    std::optional<Error> failure; // the file broke off; `months` holds what came before
  };

  Result<std::vector<std::filesystem::path>> files() const;
  Status build_index();
  Status read_file(const FileIndex& file, Month month, RowSink& sink, std::uint64_t& done,
                   std::uint64_t total);

  ExportOptions options_;
  std::optional<std::vector<FileIndex>> index_;
};

} // namespace billdrop::gcp
