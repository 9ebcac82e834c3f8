#include "cur_manifest.hpp"

#include <billdrop/growing_file.hpp>

#include <simdjson.h>

#include <fstream>
#include <sstream>

namespace billdrop::aws {

Result<CurManifest> CurManifest::parse(std::string_view json, std::string_view file) {
  const auto invalid = [&](std::string_view what) {
    return data_error("manifest " + std::string(file) + " " + std::string(what));
  };
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(json.data(), json.size()).get(root) != simdjson::SUCCESS)
    return invalid("is not valid JSON");
  simdjson::dom::object object;
  if (root.get_object().get(object) != simdjson::SUCCESS)
    return invalid("is not a JSON object");

  CurManifest manifest;
  const auto text = [&](const char* key, std::string& out) {
    std::string_view value;
    if (object[key].get_string().get(value) == simdjson::SUCCESS)
      out.assign(value);
  };
  text("assemblyId", manifest.assembly_id);
  text("reportName", manifest.report_name);
  text("compression", manifest.compression);
  simdjson::dom::array keys;
  if (object["reportKeys"].get_array().get(keys) != simdjson::SUCCESS)
    return invalid("has no \"reportKeys\" array");
  for (simdjson::dom::element key : keys) {
    std::string_view value;
    if (key.get_string().get(value) != simdjson::SUCCESS)
      return invalid("has a \"reportKeys\" entry that is not a string");
    manifest.report_keys.emplace_back(value);
  }
  return manifest;
}

Result<CurManifest> CurManifest::load(const std::filesystem::path& file) {
  // Read whole: a manifest still downloading (a growing file) is waited for.
  if (Status whole = wait_until_whole(file); !whole)
    return std::move(whole).error();
  std::ifstream in(file, std::ios::binary);
  if (!in)
    return source_error("cannot open manifest " + file.string());
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return parse(bytes.str(), file.string());
}

std::filesystem::path resolve_report_key(std::string_view key,
                                         const std::filesystem::path& month_dir,
                                         std::string_view assembly_id) {
  const std::string period = month_dir.filename().string();
  const std::string marker = period + "/";
  // The last occurrence: a prefix could repeat the period name, the data folders never do.
  std::size_t at = std::string_view::npos;
  for (std::size_t pos = key.find(marker); pos != std::string_view::npos;
       pos = key.find(marker, pos + 1))
    if (pos == 0 || key[pos - 1] == '/')
      at = pos;
  if (at != std::string_view::npos)
    return month_dir / std::filesystem::path(std::string(key.substr(at + marker.size())));
  const std::size_t slash = key.rfind('/');
  const std::string_view name = slash == std::string_view::npos ? key : key.substr(slash + 1);
  return month_dir / std::string(assembly_id) / std::string(name);
}

} // namespace billdrop::aws
