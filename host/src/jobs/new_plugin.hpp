#pragma once
// `billdrop new-plugin NAME`: a plugin project from the SDK's template (share/billdrop/templates/
// plugin), renamed for NAME: the CMake project and target, the C++ namespace and class, the file
// names, the plugin name in BILLDROP_PLUGIN(...) and the README's commands. The sample config
// (example.toml), data (data/fees.csv) and test come with it, so the project configures, builds
// against the installed SDK, passes its test and converts its sample data as it stands.

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace billdrop::jobs {

struct NewPluginRequest {
  std::string name;                    // the plugin's name: [a-z][a-z0-9_-]*, at most 64 bytes
  std::filesystem::path directory;     // where to write it; must not exist or be empty
  std::filesystem::path template_root; // empty: <data directory>/templates/plugin
};

struct NewPluginResult {
  std::filesystem::path directory;
  std::string name;
  std::string identifier; // the name as a C++/CMake identifier: '-' written as '_'
  std::vector<std::filesystem::path> files; // written, relative to directory, sorted
};

// The template rewritten for `name`: every "example" (any case) that names the plugin becomes the
// new name; the two sample words that only look like it ("example.toml", "example-account") stay.
// Pure, so that the renaming is tested without files.
std::string rename_template_text(std::string_view text, std::string_view name);

// The same for a path inside the template ("src/example_plugin.cpp" -> "src/acme_plugin.cpp").
std::filesystem::path rename_template_path(const std::filesystem::path& relative,
                                           std::string_view name);

// Writes the project. Throws JobError: usage for a bad name or a directory that holds files,
// config when the template is not installed.
NewPluginResult new_plugin(const NewPluginRequest& request);

} // namespace billdrop::jobs
