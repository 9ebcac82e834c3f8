#include "jobs/new_plugin.hpp"

#include "config/host_config.hpp"
#include "jobs/job_error.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iterator>
#include <sstream>

namespace billdrop::jobs {
namespace {

constexpr std::string_view kTemplateName = "example";
constexpr std::size_t kMaxNameLength = 64;

bool is_plugin_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength || name.front() < 'a' || name.front() > 'z' ||
      name.back() == '-' || name.back() == '_')
    return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

std::string identifier_of(std::string_view name) {
  std::string id(name);
  std::replace(id.begin(), id.end(), '-', '_');
  return id;
}

std::string pascal_of(std::string_view name) {
  std::string out;
  bool upper = true;
  for (char c : name) {
    if (c == '_' || c == '-') {
      upper = true;
      continue;
    }
    out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    upper = false;
  }
  return out;
}

std::string upper_of(std::string_view name) {
  std::string out = identifier_of(name);
  for (char& c : out)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

bool ends_with(std::string_view text, std::size_t end, std::string_view suffix) {
  return end >= suffix.size() && text.substr(end - suffix.size(), suffix.size()) == suffix;
}

// Where the lower-case word names the plugin itself (the .so, BILLDROP_PLUGIN's name, the
// commands that load it) it keeps its dashes; everywhere else it is an identifier.
bool names_the_plugin(std::string_view text, std::size_t at, std::size_t end) {
  const bool quoted = at > 0 && text[at - 1] == '"' && end < text.size() && text[end] == '"';
  return quoted || ends_with(text, at, "billdrop_add_plugin(") ||
         ends_with(text, at, "describe ") || ends_with(text, at, "--plugin ") ||
         (ends_with(text, at, "billdrop_") && text.substr(end).starts_with(".so"));
}

} // namespace

std::string rename_template_text(std::string_view text, std::string_view name) {
  const std::string identifier = identifier_of(name);
  const std::string pascal = pascal_of(name);
  const std::string upper = upper_of(name);
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const std::string_view word = text.substr(i, kTemplateName.size());
    const bool lower = word == "example";
    const bool capital = word == "Example";
    const bool all_caps = word == "EXAMPLE";
    const std::size_t end = i + kTemplateName.size();
    const std::string_view rest = text.substr(std::min(end, text.size()));
    // The sample config and the sample account keep their names: the README and the issue's
    // commands say example.toml, whatever the plugin is called.
    if (!(lower || capital || all_caps) || rest.starts_with(".toml") ||
        rest.starts_with("-account")) {
      out += text[i++];
      continue;
    }
    if (capital)
      out += pascal;
    else if (all_caps)
      out += upper;
    else
      out += names_the_plugin(text, i, end) ? std::string(name) : identifier;
    i = end;
  }
  return out;
}

std::filesystem::path rename_template_path(const std::filesystem::path& relative,
                                           std::string_view name) {
  std::filesystem::path out;
  for (const auto& part : relative)
    out /= rename_template_text(part.string(), identifier_of(name));
  return out;
}

NewPluginResult new_plugin(const NewPluginRequest& request) {
  if (!is_plugin_name(request.name))
    throw JobError(FailureKind::usage,
                   "'" + request.name +
                       "' is not a plugin name: use lower-case letters, digits, '_' and '-', "
                       "starting with a letter (at most 64), e.g. acme or acme-gpu");
  const std::filesystem::path root = request.template_root.empty()
                                         ? config::data_directory() / "templates" / "plugin"
                                         : request.template_root;
  if (!std::filesystem::is_regular_file(root / "CMakeLists.txt"))
    throw JobError(FailureKind::config, "the plugin template is not installed (looked for " +
                                            (root / "CMakeLists.txt").string() +
                                            "); install billdrop with its SDK component");
  std::error_code ec;
  if (std::filesystem::exists(request.directory, ec) &&
      !std::filesystem::is_empty(request.directory, ec))
    throw JobError(FailureKind::usage, request.directory.string() +
                                           " already exists and is not empty: choose another "
                                           "--dir, new-plugin never overwrites files");

  NewPluginResult result;
  result.directory = request.directory;
  result.name = request.name;
  result.identifier = identifier_of(request.name);
  for (auto it = std::filesystem::recursive_directory_iterator(root);
       it != std::filesystem::recursive_directory_iterator(); ++it) {
    const std::filesystem::path relative = it->path().lexically_relative(root);
    if (it->is_directory() && it->path().filename() == "build") {
      it.disable_recursion_pending(); // a build folder of the template itself
      continue;
    }
    if (!it->is_regular_file())
      continue;
    std::ifstream in(it->path(), std::ios::binary);
    if (!in)
      throw JobError(FailureKind::config, "cannot read the template file " + it->path().string());
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::filesystem::path target = rename_template_path(relative, request.name);
    std::filesystem::create_directories((request.directory / target).parent_path());
    std::ofstream out(request.directory / target, std::ios::binary);
    out << rename_template_text(text, request.name);
    if (!out.flush())
      throw JobError(FailureKind::config, "cannot write " + (request.directory / target).string());
    result.files.push_back(target);
  }
  std::sort(result.files.begin(), result.files.end());
  return result;
}

} // namespace billdrop::jobs
