#pragma once
// A legacy CUR manifest (`<report>-Manifest.json`): which assembly is current and which data files
// it consists of. AWS re-delivers a month several times a day into new assembly folders; only the
// files the month folder's manifest names are current.

#include <billdrop/result.hpp>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace billdrop::aws {

struct CurManifest {
  std::string assembly_id;
  std::string report_name;
  std::string compression; // GZIP, ZIP, Parquet ("" when absent)
  std::vector<std::string> report_keys;

  // Parses manifest JSON; `file` names it in errors.
  static Result<CurManifest> parse(std::string_view json, std::string_view file);
  static Result<CurManifest> load(const std::filesystem::path& file);
};

// Where a report key lives on disk. Keys are bucket paths ("/koku-local/20180801-20180901/<id>/
// koku-local-1.csv.gz" or "my-prefix/my-report/..."): the part after the billing period folder's
// name is taken relative to `month_dir`; a key without that folder falls back to
// <month_dir>/<assembly>/<file name>.
std::filesystem::path resolve_report_key(std::string_view key,
                                         const std::filesystem::path& month_dir,
                                         std::string_view assembly_id);

} // namespace billdrop::aws
