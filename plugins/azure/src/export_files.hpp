#pragma once
// Which files make up an export. A configured path is one of:
//   - a CSV file (optionally gzip), read as is;
//   - a manifest.json, whose `blobs[].blobName` files are read;
//   - a folder: every manifest.json under it is used (the latest run per billing period, see
//     below); a folder without any manifest has every *.csv / *.csv.gz file under it read.
// Both manifest forms are understood: the current one (`exportConfig`, `deliveryConfig`,
// `runInfo`, `blobs[{blobName, byteCount}]`) and the older partitioned one (`manifestVersion`
// "2021-01-01", `blobs[{blobName, byteCount, dataRowCount, headerRowCount}]`).
//
// Azure puts every run of an export under its billing-period folder
// (`<export>/20240801-20240831/<run>/...`). A data file under such a folder holds only that
// period's rows, which bounds what a file that breaks off could have held.

#include <billdrop/result.hpp>
#include <billdrop/timestamp.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace billdrop::azure {

enum class ExportKind { actual, amortized };

// The months of a billing-period folder name, "20240801-20240831" (both days inclusive).
struct BillingPeriod {
  Month first;
  Month last;
  bool contains(Month month) const noexcept { return first <= month && month <= last; }
  friend bool operator==(const BillingPeriod&, const BillingPeriod&) = default;
};

// The period a folder name stands for; nullopt when the name is not of that form or not a valid
// range of dates.
std::optional<BillingPeriod> parse_period_folder(std::string_view name);

// One data file of an export and the billing period its place in the export says it holds: the
// nearest period folder on the blob's name (a container path), on the file's own path, or on
// its manifest's path, in that order; nullopt when none says.
struct ExportDataFile {
  std::filesystem::path path;
  std::optional<BillingPeriod> period;
};

struct ExportManifest {
  std::filesystem::path path;
  std::string type;           // exportConfig.type ("ActualCost", "AmortizedCost"), or ""
  std::string submitted_time; // runInfo.submittedTime, or ""
  std::string file_format;    // deliveryConfig.fileFormat / dataFormat, or ""
  std::vector<std::filesystem::path> blobs; // resolved to files on disk, in manifest order
  std::vector<std::string> blob_names;      // as the manifest spells them, in the same order
};

// Reads a manifest and finds each blob on disk. A blob name is a path inside the storage
// container; it is looked for under the manifest's folder and each of its parents (so a copy of
// the container, or of the run folder alone, both work). Errors name the manifest and the blob.
Result<ExportManifest> read_manifest(const std::filesystem::path& manifest);

// The files of the export at `path`, in the order they are read. `kind` is checked against a
// manifest's exportConfig.type: an amortized export configured as `actual` is a config error.
Result<std::vector<ExportDataFile>> export_files(const std::filesystem::path& path,
                                                 ExportKind kind);

} // namespace billdrop::azure
