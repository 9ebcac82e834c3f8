#include "export_files.hpp"

#include <billdrop/text.hpp>

#include <simdjson.h>

#include <algorithm>
#include <map>
#include <system_error>

namespace billdrop::azure {
namespace fs = std::filesystem;
namespace {

bool is_manifest(const fs::path& file) {
  return iequals_ascii(file.filename().string(), "manifest.json");
}

bool is_csv(const fs::path& file) {
  const std::string name = lower_ascii(file.filename().string());
  return name.ends_with(".csv") || name.ends_with(".csv.gz") || name.ends_with(".parquet");
}

// "20240801-20240831": the billing-period folder Azure puts every run of a month under.
bool is_period_folder(std::string_view name) {
  return parse_period_folder(name).has_value();
}

std::string period_of(const fs::path& manifest) {
  for (fs::path dir = manifest.parent_path(); !dir.empty() && dir != dir.parent_path();
       dir = dir.parent_path())
    if (is_period_folder(dir.filename().string()))
      return dir.string();
  return {};
}

// The nearest billing-period folder among the folders of `path`.
std::optional<BillingPeriod> period_on(const fs::path& path) {
  for (fs::path dir = path.parent_path(); !dir.empty() && dir != dir.parent_path();
       dir = dir.parent_path())
    if (std::optional<BillingPeriod> period = parse_period_folder(dir.filename().string()))
      return period;
  return std::nullopt;
}

int digits_value(std::string_view digits) {
  int value = 0;
  for (const char c : digits)
    value = value * 10 + (c - '0');
  return value;
}

std::string_view kind_name(ExportKind kind) {
  return kind == ExportKind::actual ? "actual" : "amortized";
}

Result<fs::path> find_blob(const fs::path& manifest, std::string_view blob_name) {
  const fs::path blob{std::string(blob_name)};
  std::error_code ec;
  for (fs::path dir = manifest.parent_path();; dir = dir.parent_path()) {
    const fs::path candidate = dir / blob;
    if (fs::is_regular_file(candidate, ec))
      return candidate;
    if (dir.empty() || dir == dir.parent_path())
      break;
  }
  // A run folder copied on its own: the blob's file name beside the manifest.
  const fs::path beside = manifest.parent_path() / blob.filename();
  if (fs::is_regular_file(beside, ec))
    return beside;
  return source_error(manifest.string() + ": blob \"" + std::string(blob_name) +
                      "\" not found under the manifest's folder or any of its parents");
}

} // namespace

std::optional<BillingPeriod> parse_period_folder(std::string_view name) {
  if (name.size() != 17 || name[8] != '-')
    return std::nullopt;
  for (std::size_t i = 0; i < name.size(); ++i)
    if (i != 8 && (name[i] < '0' || name[i] > '9'))
      return std::nullopt;
  const auto date = [&](std::size_t at) -> std::optional<std::int64_t> {
    const int year = digits_value(name.substr(at, 4));
    const int month = digits_value(name.substr(at + 4, 2));
    const int day = digits_value(name.substr(at + 6, 2));
    if (year < 1900 ||
        !is_valid_date(year, static_cast<unsigned>(month), static_cast<unsigned>(day)))
      return std::nullopt;
    return days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  };
  const std::optional<std::int64_t> start = date(0);
  const std::optional<std::int64_t> end = date(9);
  if (!start || !end || *end < *start)
    return std::nullopt;
  return BillingPeriod{Month(digits_value(name.substr(0, 4)), digits_value(name.substr(4, 2))),
                       Month(digits_value(name.substr(9, 4)), digits_value(name.substr(13, 2)))};
}

Result<ExportManifest> read_manifest(const fs::path& manifest) {
  simdjson::dom::parser parser;
  simdjson::padded_string json;
  if (simdjson::padded_string::load(manifest.string()).get(json) != simdjson::SUCCESS)
    return source_error(manifest.string() + ": cannot read the manifest");
  simdjson::dom::object root;
  if (const auto error = parser.parse(json).get_object().get(root); error != simdjson::SUCCESS)
    return data_error(manifest.string() + ": not a JSON object (" + simdjson::error_message(error) +
                      ")");
  ExportManifest out;
  out.path = manifest;
  std::string_view text;
  if (root.at_pointer("/exportConfig/type").get_string().get(text) == simdjson::SUCCESS)
    out.type = text;
  if (root.at_pointer("/runInfo/submittedTime").get_string().get(text) == simdjson::SUCCESS)
    out.submitted_time = text;
  if (root.at_pointer("/deliveryConfig/fileFormat").get_string().get(text) == simdjson::SUCCESS ||
      root["dataFormat"].get_string().get(text) == simdjson::SUCCESS)
    out.file_format = text;
  if (!out.file_format.empty() && !iequals_ascii(out.file_format, "csv") &&
      !iequals_ascii(out.file_format, "parquet"))
    return data_error(manifest.string() + ": the export's file format is \"" + out.file_format +
                      "\"; this plugin reads CSV and Parquet exports (set the export's format to "
                      "CSV or Parquet)");
  simdjson::dom::array blobs;
  if (root["blobs"].get_array().get(blobs) != simdjson::SUCCESS)
    return data_error(manifest.string() + ": expected a \"blobs\" array naming the export's files");
  std::size_t index = 0;
  for (const simdjson::dom::element blob : blobs) {
    std::string_view name;
    if (blob["blobName"].get_string().get(name) != simdjson::SUCCESS)
      return data_error(manifest.string() + ": blobs[" + std::to_string(index) +
                        "] has no \"blobName\" string");
    Result<fs::path> file = find_blob(manifest, name);
    if (!file)
      return std::move(file).error();
    out.blobs.push_back(std::move(*file));
    out.blob_names.emplace_back(name);
    ++index;
  }
  return out;
}

Result<std::vector<ExportDataFile>> export_files(const fs::path& path, ExportKind kind) {
  std::error_code ec;
  if (!fs::exists(path, ec))
    return config_error(std::string(kind_name(kind)) + " export " + path.string() +
                        ": no such file or folder");
  std::vector<fs::path> manifests;
  std::vector<fs::path> csv_files;
  if (fs::is_directory(path, ec)) {
    for (fs::recursive_directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
      if (!it->is_regular_file(ec))
        continue;
      if (is_manifest(it->path()))
        manifests.push_back(it->path());
      else if (is_csv(it->path()))
        csv_files.push_back(it->path());
    }
    if (ec)
      return source_error(path.string() + ": cannot list the folder: " + ec.message());
    std::sort(manifests.begin(), manifests.end());
    std::sort(csv_files.begin(), csv_files.end());
    if (manifests.empty()) {
      std::vector<ExportDataFile> files;
      for (fs::path& file : csv_files) {
        std::optional<BillingPeriod> period = period_on(file);
        files.push_back(ExportDataFile{std::move(file), period});
      }
      return files;
    }
  } else if (is_manifest(path)) {
    manifests.push_back(path);
  } else {
    return std::vector<ExportDataFile>{ExportDataFile{path, period_on(path)}};
  }

  // Every run re-states its whole billing period, so only the latest run of a period is read:
  // the latest runInfo.submittedTime, else the last path in name order (run folders are named
  // by time).
  std::map<std::string, ExportManifest> latest; // period folder (or the manifest) -> manifest
  for (const fs::path& file : manifests) {
    Result<ExportManifest> manifest = read_manifest(file);
    if (!manifest)
      return std::move(manifest).error();
    const bool amortized_type = iequals_ascii(manifest->type, "AmortizedCost");
    if (!manifest->type.empty() && !amortized_type &&
        !iequals_ascii(manifest->type, "ActualCost") && !iequals_ascii(manifest->type, "Usage"))
      return config_error(file.string() + ": the manifest describes an export of type \"" +
                          manifest->type +
                          "\"; this plugin reads ActualCost and AmortizedCost exports (FOCUS "
                          "exports: use the focus plugin)");
    const bool actual_type =
        iequals_ascii(manifest->type, "ActualCost") || iequals_ascii(manifest->type, "Usage");
    if ((kind == ExportKind::actual && amortized_type) ||
        (kind == ExportKind::amortized && actual_type))
      return config_error(file.string() + ": the manifest describes an export of type \"" +
                          manifest->type + "\", configured as the " + std::string(kind_name(kind)) +
                          " export");
    std::string period = period_of(file);
    if (period.empty())
      period = file.string();
    auto it = latest.find(period);
    if (it == latest.end() || it->second.submitted_time <= manifest->submitted_time)
      latest.insert_or_assign(period, std::move(*manifest));
  }
  std::vector<ExportDataFile> files;
  for (auto& [period, manifest] : latest) {
    const std::optional<BillingPeriod> manifest_period = period_on(manifest.path);
    for (std::size_t i = 0; i < manifest.blobs.size(); ++i) {
      std::optional<BillingPeriod> blob_period = period_on(fs::path(manifest.blob_names[i]));
      if (!blob_period)
        blob_period = period_on(manifest.blobs[i]);
      if (!blob_period)
        blob_period = manifest_period;
      files.push_back(ExportDataFile{std::move(manifest.blobs[i]), blob_period});
    }
  }
  return files;
}

} // namespace billdrop::azure
