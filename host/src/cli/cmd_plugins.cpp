// billdrop plugins list | describe NAME
#include "cli/common.hpp"
#include "core/json_writer.hpp"
#include "core/log.hpp"
#include "jobs/connections.hpp"

#include <CLI/CLI.hpp>

#include <iomanip>
#include <iostream>

namespace billdrop::cli {

namespace {

int plugins_list(const GlobalOptions& global, bool json) {
  const source::PluginLocator locator = jobs::plugin_locator(
      std::vector<std::filesystem::path>(global.plugin_dirs.begin(), global.plugin_dirs.end()), {});
  std::vector<std::shared_ptr<source::LoadedPlugin>> plugins;
  std::vector<std::string> problems;
  for (const auto& file : locator.list()) {
    Result<std::shared_ptr<source::LoadedPlugin>> plugin =
        source::load_plugin(file, source::plugin_name_of_file(file));
    if (plugin)
      plugins.push_back(*plugin);
    else
      problems.push_back(plugin.error().message());
  }
  if (json) {
    core::JsonWriter out;
    out.begin_object().key("plugins").begin_array();
    for (const auto& p : plugins)
      out.begin_object()
          .key("name")
          .value(p->name())
          .key("version")
          .value(p->version())
          .key("abi")
          .value(std::to_string(p->descriptor().abi_major) + "." +
                 std::to_string(p->descriptor().abi_minor))
          .key("path")
          .value(p->path().string())
          .key("description")
          .value(p->description())
          .end_object();
    out.end_array().key("problems").begin_array();
    for (const auto& problem : problems)
      out.value(problem);
    out.end_array().end_object();
    std::cout << out.str() << '\n';
    return kExitOk;
  }
  if (plugins.empty()) {
    std::cout << "no plugins found; searched:\n";
    for (const auto& dir : locator.directories())
      std::cout << "  " << dir.string() << '\n';
  }
  for (const auto& p : plugins)
    std::cout << std::left << std::setw(10) << p->name() << ' ' << std::setw(8) << p->version()
              << ' ' << p->description() << "\n           " << p->path().string() << '\n';
  for (const auto& problem : problems)
    std::cerr << "warning: " << problem << '\n';
  return kExitOk;
}

int plugins_describe(const GlobalOptions& global, const std::string& name, bool json) {
  const auto plugin = jobs::load_named_plugin(
      jobs::plugin_locator(
          std::vector<std::filesystem::path>(global.plugin_dirs.begin(), global.plugin_dirs.end()),
          {}),
      name);
  if (json) {
    core::JsonWriter out;
    out.begin_object()
        .key("name")
        .value(plugin->name())
        .key("version")
        .value(plugin->version())
        .key("abi")
        .value(std::to_string(plugin->descriptor().abi_major) + "." +
               std::to_string(plugin->descriptor().abi_minor))
        .key("path")
        .value(plugin->path().string())
        .key("description")
        .value(plugin->description())
        .key("config_schema")
        .raw(plugin->schema().to_json())
        .end_object();
    std::cout << out.str() << '\n';
    return kExitOk;
  }
  std::cout << plugin->name() << ' ' << plugin->version() << " (ABI "
            << plugin->descriptor().abi_major << '.' << plugin->descriptor().abi_minor << ")\n"
            << plugin->description() << "\n"
            << plugin->path().string() << "\n\nconfig keys:\n";
  for (const ConfigKeySpec& key : plugin->schema().keys()) {
    std::cout << "  " << key.key << "  (" << to_string(key.type)
              << (key.required ? ", required" : "") << (key.secret ? ", secret" : "");
    if (key.default_value)
      std::cout << ", default " << config_value_to_json(*key.default_value);
    std::cout << ")\n      " << key.description << '\n';
  }
  return kExitOk;
}

} // namespace

void add_plugins_command(CLI::App& app, Invocation& run) {
  auto* plugins = app.add_subcommand("plugins", "list or describe installed plugins");
  plugins->require_subcommand(1);
  struct Options {
    std::string format = "text";
    bool json = false;
    std::string name;
  };
  auto list_options = std::make_shared<Options>();
  auto* list = plugins->add_subcommand("list", "list the plugins found in the search path");
  add_format_option(*list, list_options->format);
  list->add_flag("--json", list_options->json, "the same as --format json");
  list->callback([&run, list_options] {
    run.json = list_options->json || list_options->format == "json";
    run.action = [&run, list_options] { return plugins_list(run.global, run.json); };
  });
  auto describe_options = std::make_shared<Options>();
  auto* describe = plugins->add_subcommand("describe", "print a plugin's config schema");
  describe->add_option("name", describe_options->name, "plugin name or .so path")->required();
  add_format_option(*describe, describe_options->format);
  describe->add_flag("--json", describe_options->json, "the same as --format json");
  describe->callback([&run, describe_options] {
    run.json = describe_options->json || describe_options->format == "json";
    run.action = [&run, describe_options] {
      return plugins_describe(run.global, describe_options->name, run.json);
    };
  });
}

} // namespace billdrop::cli
