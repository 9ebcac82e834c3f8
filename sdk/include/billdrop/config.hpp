#pragma once
// Plugin configuration declared as data.
//
// A plugin lists its keys (name, type, default, required, description); the host validates the
// user's configuration against that list before the plugin sees it — unknown key, wrong type,
// missing required key are errors naming the plugin and the key — fills in defaults, and hands the
// plugin a JSON object that Config::parse() reads back.

#include <billdrop/result.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace billdrop {

// `path` is a string the host resolves against the directory of the configuration file that set
// it (absolute paths are kept), so a config file can name data files next to it.
enum class ConfigType { string, integer, boolean, string_list, string_map, path };

const char* to_string(ConfigType type) noexcept;
std::optional<ConfigType> parse_config_type(std::string_view name) noexcept;

// One declared key, best written with designated initialisers and a plain-text default:
//
//   {.key = "account", .type = ConfigType::string, .description = "resource/account value",
//    .default_value = "example-account"},
//   {.key = "path", .type = ConfigType::path, .required = true, .description = "Export file"},
//
// default_value is the default as the user would write it: the text itself for a string or path,
// "10" for an integer, "true"/"false" for a boolean. A list or map default is JSON text in
// default_json ("[\"a\"]", "{\"k\":\"v\"}"), which also still takes any default as JSON (the
// older positional form: {"account", ConfigType::string, "\"main\"", false, "..."}). At most one
// of the two. The host fills the default in, so the plugin reads every key through its Config
// and never repeats a default in code. A secret value is never logged or printed.
struct ConfigKey {
  const char* key;
  ConfigType type;
  const char* default_json = nullptr;
  bool required = false;
  const char* description = nullptr;
  bool secret = false;
  const char* default_value = nullptr;
};

using StringMap = std::vector<std::pair<std::string, std::string>>; // keeps declaration order
// A `path` value is held as a std::string.
using ConfigValue =
    std::variant<std::string, std::int64_t, bool, std::vector<std::string>, StringMap>;

using ConfigValues = std::map<std::string, ConfigValue, std::less<>>;

ConfigType type_of(const ConfigValue& value) noexcept;

// What the host knows about a user's value besides the value: where it was written
// ("file:line"), and, for a value that has no ConfigValue form at all (a TOML float, a list of
// numbers, a nested table), what was found instead. validate() reports such values with its own
// problems, so that every problem of a configuration is listed at once.
struct ConfigValueSource {
  std::string location;   // "" when not known
  std::string unreadable; // "" when the value was read; else e.g. "a floating-point number (1.5)"
};
using ConfigValueSources = std::map<std::string, ConfigValueSource, std::less<>>;

// A key of a schema after it was read back from JSON (host side) or converted from ConfigKey.
struct ConfigKeySpec {
  std::string key;
  ConfigType type = ConfigType::string;
  std::optional<ConfigValue> default_value;
  bool required = false;
  std::string description;
  bool secret = false;
};

class ConfigSchema {
public:
  ConfigSchema() = default;
  explicit ConfigSchema(std::vector<ConfigKeySpec> keys) : keys_(std::move(keys)) {}
  // From a plugin's declaration; throws std::invalid_argument on a malformed default (a bug).
  static ConfigSchema from_keys(std::span<const ConfigKey> keys);
  // From the descriptor's config_schema_json.
  static Result<ConfigSchema> from_json(std::string_view json);

  std::string to_json() const;
  const std::vector<ConfigKeySpec>& keys() const noexcept { return keys_; }
  const ConfigKeySpec* find(std::string_view key) const noexcept;

  // Checks user values against the schema and returns them with defaults filled in. Every
  // problem is reported at once, one per line: "plugin 'custom': unknown config key 'pth'
  // (known keys: path, format, ...)", "plugin 'custom': config key 'skip_rows' must be an
  // integer, got a string", "plugin 'custom': missing required config key 'path'".
  Result<ConfigValues> validate(std::string_view plugin_name, const ConfigValues& values) const;
  // The same, naming where each value was written ("plugin 'custom': app.toml:4: config key
  // 'skip_rows' must be an integer, got a string") and reporting the unreadable values of
  // `sources` (keys that are not in `values`) as wrong types or unknown keys.
  Result<ConfigValues> validate(std::string_view plugin_name, const ConfigValues& values,
                                const ConfigValueSources& sources) const;

private:
  std::vector<ConfigKeySpec> keys_;
};

// Serialises validated values as the JSON object passed to a plugin's create().
std::string config_to_json(const ConfigValues& values);
// A value as JSON text (also used to print defaults).
std::string config_value_to_json(const ConfigValue& value);

// The plugin's view of its configuration.
class Config {
public:
  Config() = default;
  explicit Config(ConfigValues values) : values_(std::move(values)) {}
  static Result<Config> parse(std::string_view json);

  bool has(std::string_view key) const noexcept;
  // Typed accessors; throw ErrorException(config) when the key is absent or of another type
  // (the host validated types already, so that is a bug or a missing optional key).
  const std::string& get_string(std::string_view key) const;
  std::int64_t get_int(std::string_view key) const;
  bool get_bool(std::string_view key) const;
  const std::vector<std::string>& get_list(std::string_view key) const;
  const StringMap& get_map(std::string_view key) const;

  std::string get_string_or(std::string_view key, std::string fallback) const;

  const ConfigValues& values() const noexcept { return values_; }

private:
  const ConfigValue& at(std::string_view key) const;
  ConfigValues values_;
};

} // namespace billdrop
