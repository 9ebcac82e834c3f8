// billdrop new-plugin NAME [--dir DIR]: a plugin project from the SDK's template.
#include "cli/common.hpp"
#include "core/json_writer.hpp"
#include "jobs/new_plugin.hpp"

#include <CLI/CLI.hpp>

#include <iostream>

namespace billdrop::cli {

namespace {

int new_plugin(const std::string& name, const std::string& dir, const std::string& template_dir,
               bool json) {
  jobs::NewPluginRequest request;
  request.name = name;
  request.directory = dir.empty() ? std::filesystem::path(name) : std::filesystem::path(dir);
  request.template_root = template_dir;
  const jobs::NewPluginResult result = jobs::new_plugin(request);
  if (json) {
    core::JsonWriter out;
    out.begin_object()
        .key("name")
        .value(result.name)
        .key("directory")
        .value(result.directory.string())
        .key("files")
        .begin_array();
    for (const auto& file : result.files)
      out.value(file.generic_string());
    out.end_array().end_object();
    std::cout << out.str() << '\n';
    return kExitOk;
  }
  const std::string dir_text = result.directory.string();
  std::cout << "plugin '" << result.name << "' written to " << dir_text << ":\n";
  for (const auto& file : result.files)
    std::cout << "  " << file.generic_string() << '\n';
  std::cout << "\nnext:\n"
            << "  cmake -S " << dir_text << " -B " << dir_text
            << "/build -DCMAKE_PREFIX_PATH=<billdrop install prefix>\n"
            << "  cmake --build " << dir_text << "/build\n"
            << "  ctest --test-dir " << dir_text << "/build\n"
            << "  billdrop --plugin-dir " << dir_text << "/build convert --plugin " << result.name
            << " --plugin-config " << dir_text << "/example.toml\n"
            << "  billdrop test-plugin " << dir_text << "/build/billdrop_" << result.name
            << ".so --plugin-config " << dir_text << "/example.toml\n";
  return kExitOk;
}

} // namespace

void add_new_plugin_command(CLI::App& app, Invocation& run) {
  struct Options {
    std::string name;
    std::string dir;
    std::string template_dir;
    std::string format = "text";
  };
  auto options = std::make_shared<Options>();
  auto* command = app.add_subcommand(
      "new-plugin", "write a new source plugin project (CMake, sample config and data, a test) "
                    "from the SDK's template");
  command->add_option("name", options->name, "the plugin's name: lower-case letters, digits, _ -")
      ->required();
  command->add_option("--dir", options->dir, "where to write it (default: ./NAME); must be empty");
  command->add_option("--template", options->template_dir,
                      "the template folder (default: share/billdrop/templates/plugin)");
  add_format_option(*command, options->format);
  command->callback([&run, options] {
    run.json = options->format == "json";
    run.action = [&run, options] {
      return new_plugin(options->name, options->dir, options->template_dir, run.json);
    };
  });
}

} // namespace billdrop::cli
