#pragma once
// The host tests' own plugins (tests/host/broken_plugins, built into
// BILLDROP_TEST_BROKEN_PLUGIN_DIR): the file of one, and loading it. Header-only; for the test
// binaries that define BILLDROP_TEST_BROKEN_PLUGIN_DIR.

#include "source/plugin_loader.hpp"

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string_view>

namespace billdrop::test {

// The file of the test plugin `name`.
inline std::filesystem::path broken_plugin_file(std::string_view name) {
  return std::filesystem::path(BILLDROP_TEST_BROKEN_PLUGIN_DIR).lexically_normal() /
         source::plugin_file_name(name);
}

// The test plugin `name`, loaded and checked to be that plugin; throws when it cannot be.
inline std::shared_ptr<source::LoadedPlugin> load_broken_plugin(std::string_view name) {
  Result<std::shared_ptr<source::LoadedPlugin>> plugin =
      source::load_plugin(broken_plugin_file(name), name);
  if (!plugin)
    throw std::runtime_error(plugin.error().message());
  return *plugin;
}

} // namespace billdrop::test
