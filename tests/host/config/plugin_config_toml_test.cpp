// A plugin's configuration from TOML: values TOML gives in no usable form (a float, a list of
// numbers, a nested table) are not the first and only error; they reach the schema check and
// are reported with every other problem, each naming the plugin, the key and the file:line.
#include "config/host_config.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

namespace billdrop {
namespace {

ConfigSchema custom_like_schema() {
  return ConfigSchema({{"path", ConfigType::path, std::nullopt, true, "file"},
                       {"delimiter", ConfigType::string, std::nullopt, false, "delimiter"},
                       {"null_values", ConfigType::string_list, std::nullopt, false, "nulls"},
                       {"columns", ConfigType::string_map, std::nullopt, true, "columns"},
                       {"skip_rows", ConfigType::integer, std::nullopt, false, "rows"}});
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = text.find('\n', start);
    lines.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos)
      break;
    start = end + 1;
  }
  return lines;
}

constexpr const char* kConfig = "[connections.acme]\n"                // line 1
                                "plugin = \"custom\"\n"               // 2
                                "[connections.acme.config]\n"         // 3
                                "path = \"usage.csv\"\n"              // 4
                                "null_values = [1, 2]\n"              // 5
                                "delimiter = 1.5\n"                   // 6
                                "skip_rows = \"two\"\n"               // 7
                                "sheet = 2026-08-01\n"                // 8
                                "[connections.acme.config.columns]\n" // 9
                                "a = { b = \"c\" }\n";                // 10

TEST(PluginConfigFromToml, UnusableValuesAreKeptForTheSchemaCheckWithTheirLines) {
  Result<config::HostConfig> config = config::parse_host_config(kConfig, "app.toml", "/data");
  ASSERT_TRUE(config.ok()) << config.error().message();
  const config::ConnectionConfig& acme = config->connections.at(0);
  // Only the values TOML gave in a usable form are values.
  EXPECT_EQ(acme.plugin_config.size(), 2u);
  EXPECT_TRUE(acme.plugin_config.contains("path"));
  EXPECT_TRUE(acme.plugin_config.contains("skip_rows"));
  const ConfigValueSources& sources = acme.plugin_config_sources;
  EXPECT_EQ(sources.at("path").location, "app.toml:4");
  EXPECT_EQ(sources.at("path").unreadable, "");
  EXPECT_EQ(sources.at("null_values").unreadable, "a list holding an integer (item 1)");
  EXPECT_EQ(sources.at("delimiter").location, "app.toml:6");
  EXPECT_EQ(sources.at("columns").unreadable, "a table whose 'a' is a table");
}

TEST(PluginConfigFromToml, EveryProblemIsReportedTogetherNamingPluginKeyAndLine) {
  Result<config::HostConfig> config = config::parse_host_config(kConfig, "app.toml", "/data");
  ASSERT_TRUE(config.ok()) << config.error().message();
  const config::ConnectionConfig& acme = config->connections.at(0);
  Result<ConfigValues> checked =
      custom_like_schema().validate("custom", acme.plugin_config, acme.plugin_config_sources);
  ASSERT_FALSE(checked.ok());
  EXPECT_EQ(checked.error().kind(), ErrorKind::config);
  EXPECT_EQ(lines_of(checked.error().message()),
            (std::vector<std::string>{
                "plugin 'custom': app.toml:8: unknown config key 'sheet' (known keys: path, "
                "delimiter, null_values, columns, skip_rows)",
                "plugin 'custom': app.toml:6: config key 'delimiter' must be a string, got a "
                "floating-point number (write it as a string, \"1.5\", or an integer)",
                "plugin 'custom': app.toml:5: config key 'null_values' must be a list of strings, "
                "got a list holding an integer (item 1)",
                "plugin 'custom': app.toml:9: config key 'columns' must be a table of strings, "
                "got a table whose 'a' is a table",
                "plugin 'custom': app.toml:7: config key 'skip_rows' must be an integer, got a "
                "string"}));
}

TEST(PluginConfigFromToml, APluginConfigFileKeepsItsLinesToo) {
  const auto file = std::filesystem::temp_directory_path() /
                    ("billdrop_plugin_config_" + std::to_string(::getpid()) + ".toml");
  {
    std::ofstream out(file);
    out << "path = \"usage.csv\"\n[columns]\n\"cost/cost\" = 3\n";
  }
  Result<config::PluginConfigInput> input = config::load_plugin_config(file);
  std::filesystem::remove(file);
  ASSERT_TRUE(input.ok()) << input.error().message();
  Result<ConfigValues> checked =
      custom_like_schema().validate("custom", input->values, input->sources);
  ASSERT_FALSE(checked.ok());
  EXPECT_EQ(checked.error().message(),
            "plugin 'custom': " + file.string() +
                ":2: config key 'columns' must be a table of strings, got a table whose "
                "'cost/cost' is an integer");
}

} // namespace
} // namespace billdrop
