#pragma once
// Where a state directory keeps what: the one place that names its files and folders.
//
//   <state_dir>/snapshots/<connection id>/YYYY-MM.{ndjson,index,summary.json}   month snapshots
//   <state_dir>/sync.db                                                          the sync store
//   <state_dir>/emulator.db                                    the embedded emulator's store
//   <state_dir>/locks/<connection id>.lock                    one sync per connection at a time

#include "snapshot/month_snapshot.hpp"

#include <billdrop/result.hpp>
#include <billdrop/timestamp.hpp>

#include <filesystem>
#include <string_view>
#include <vector>

namespace billdrop::snapshot {

std::filesystem::path snapshots_dir(const std::filesystem::path& state_dir,
                                    std::string_view connection_id);
std::filesystem::path sync_store_file(const std::filesystem::path& state_dir);
std::filesystem::path emulator_store_file(const std::filesystem::path& state_dir);
std::filesystem::path connection_lock_file(const std::filesystem::path& state_dir,
                                           std::string_view connection_id);

// The month summaries (*.summary.json) of a snapshot folder, by month; only those of `only` when
// it is not empty. A summary's relative rows file is made absolute under `dir`. An unreadable
// summary is a data error naming the file; a folder that cannot be listed, a source error.
Result<std::vector<MonthSummary>> read_summaries(const std::filesystem::path& dir,
                                                 const std::vector<Month>& only = {});

} // namespace billdrop::snapshot
