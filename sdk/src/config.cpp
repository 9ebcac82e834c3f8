#include <billdrop/config.hpp>

#include <charconv>

#include <simdjson.h>

#include <stdexcept>

namespace billdrop {
namespace {

constexpr ConfigType kAllTypes[] = {ConfigType::string,     ConfigType::integer,
                                    ConfigType::boolean,    ConfigType::string_list,
                                    ConfigType::string_map, ConfigType::path};

// What a key of `type` must hold, for "must be ..." messages.
const char* expected_text(ConfigType type) noexcept {
  switch (type) {
  case ConfigType::string:
    return "a string";
  case ConfigType::integer:
    return "an integer";
  case ConfigType::boolean:
    return "a boolean (true or false)";
  case ConfigType::string_list:
    return "a list of strings";
  case ConfigType::string_map:
    return "a table of strings";
  case ConfigType::path:
    return "a path (a string)";
  }
  return "a value";
}

// What a value is, for "got ..." messages. Never the value itself: it may be a secret.
const char* value_text(const ConfigValue& value) noexcept {
  switch (value.index()) {
  case 0:
    return "a string";
  case 1:
    return "an integer";
  case 2:
    return "a boolean";
  case 3:
    return "a list of strings";
  default:
    return "a table of strings";
  }
}

// A `path` is written as a string; everything else must match exactly.
bool holds(ConfigType type, const ConfigValue& value) noexcept {
  const ConfigType actual = type_of(value);
  return actual == type || (type == ConfigType::path && actual == ConfigType::string);
}

std::string single_quoted(std::string_view text) {
  return "'" + std::string(text) + "'";
}

void append_json_string(std::string& out, std::string_view text) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  for (const char c : text) {
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\r':
      out += "\\r";
      break;
    case '\t':
      out += "\\t";
      break;
    case '\b':
      out += "\\b";
      break;
    case '\f':
      out += "\\f";
      break;
    default:
      if (static_cast<unsigned char>(c) < 0x20) {
        out += "\\u00";
        out += hex[(static_cast<unsigned char>(c) >> 4) & 0xf];
        out += hex[static_cast<unsigned char>(c) & 0xf];
      } else {
        out += c;
      }
    }
  }
  out += '"';
}

void append_value(std::string& out, const ConfigValue& value) {
  switch (value.index()) {
  case 0:
    append_json_string(out, std::get<std::string>(value));
    break;
  case 1:
    out += std::to_string(std::get<std::int64_t>(value));
    break;
  case 2:
    out += std::get<bool>(value) ? "true" : "false";
    break;
  case 3: {
    out += '[';
    bool first = true;
    for (const std::string& item : std::get<std::vector<std::string>>(value)) {
      if (!first)
        out += ',';
      first = false;
      append_json_string(out, item);
    }
    out += ']';
    break;
  }
  default: {
    out += '{';
    bool first = true;
    for (const auto& [key, item] : std::get<StringMap>(value)) {
      if (!first)
        out += ',';
      first = false;
      append_json_string(out, key);
      out += ':';
      append_json_string(out, item);
    }
    out += '}';
    break;
  }
  }
}

// A JSON value as a ConfigValue; the type follows the JSON. The error message is a fragment
// ("is null", ...) that callers prefix with the key it belongs to.
Result<ConfigValue> value_from_json(simdjson::dom::element element) {
  using simdjson::dom::element_type;
  switch (element.type()) {
  case element_type::STRING:
    return ConfigValue(std::string(element.get_string().value_unsafe()));
  case element_type::INT64:
    return ConfigValue(element.get_int64().value_unsafe());
  case element_type::UINT64:
    return config_error("is an integer too large for 64 bits");
  case element_type::DOUBLE:
    return config_error("is a number with a fraction or exponent; only integers are supported");
  case element_type::BOOL:
    return ConfigValue(element.get_bool().value_unsafe());
  case element_type::NULL_VALUE:
    return config_error("is null");
  case element_type::ARRAY: {
    std::vector<std::string> items;
    const simdjson::dom::array array = element.get_array().value_unsafe();
    for (simdjson::dom::element item : array) {
      if (!item.is_string())
        return config_error("is a list holding something other than strings");
      items.emplace_back(item.get_string().value_unsafe());
    }
    return ConfigValue(std::move(items));
  }
  case element_type::OBJECT: {
    StringMap entries;
    const simdjson::dom::object object = element.get_object().value_unsafe();
    for (simdjson::dom::key_value_pair field : object) {
      if (!field.value.is_string())
        return config_error("has entry " + single_quoted(field.key) + " that is not a string");
      for (const auto& entry : entries)
        if (entry.first == field.key)
          return config_error("has entry " + single_quoted(field.key) + " twice");
      entries.emplace_back(std::string(field.key),
                           std::string(field.value.get_string().value_unsafe()));
    }
    return ConfigValue(std::move(entries));
  }
  }
  return config_error("has an unsupported JSON type");
}

Result<simdjson::dom::element> parse_json(simdjson::dom::parser& parser, std::string_view json,
                                          std::string_view what) {
  simdjson::dom::element root;
  const simdjson::error_code error = parser.parse(json.data(), json.size()).get(root);
  if (error)
    return config_error(std::string(what) +
                        " is not valid JSON: " + simdjson::error_message(error));
  return root;
}

void join_line(std::string& out, const std::string& line) {
  if (!out.empty())
    out += '\n';
  out += line;
}

} // namespace

const char* to_string(ConfigType type) noexcept {
  switch (type) {
  case ConfigType::string:
    return "string";
  case ConfigType::integer:
    return "integer";
  case ConfigType::boolean:
    return "boolean";
  case ConfigType::string_list:
    return "string_list";
  case ConfigType::string_map:
    return "string_map";
  case ConfigType::path:
    return "path";
  }
  return "unknown";
}

std::optional<ConfigType> parse_config_type(std::string_view name) noexcept {
  for (const ConfigType type : kAllTypes)
    if (name == to_string(type))
      return type;
  return std::nullopt;
}

ConfigType type_of(const ConfigValue& value) noexcept {
  switch (value.index()) {
  case 0:
    return ConfigType::string;
  case 1:
    return ConfigType::integer;
  case 2:
    return ConfigType::boolean;
  case 3:
    return ConfigType::string_list;
  default:
    return ConfigType::string_map;
  }
}

namespace {

// A default written as plain text (ConfigKey::default_value), read as the key's type.
Result<ConfigValue> plain_default(ConfigType type, std::string_view text) {
  switch (type) {
  case ConfigType::string:
  case ConfigType::path:
    return ConfigValue(std::string(text));
  case ConfigType::integer: {
    std::int64_t number = 0;
    const char* end = text.data() + text.size();
    const auto [at, ec] = std::from_chars(text.data(), end, number);
    if (text.empty() || ec != std::errc() || at != end)
      return config_error("is not an integer");
    return ConfigValue(number);
  }
  case ConfigType::boolean:
    if (text == "true" || text == "false")
      return ConfigValue(text == "true");
    return config_error("is not a boolean (true or false)");
  case ConfigType::string_list:
  case ConfigType::string_map:
    break;
  }
  return config_error("cannot be plain text for a " + std::string(to_string(type)) +
                      ": give the default as JSON in default_json");
}

} // namespace

ConfigSchema ConfigSchema::from_keys(std::span<const ConfigKey> keys) {
  std::vector<ConfigKeySpec> specs;
  specs.reserve(keys.size());
  simdjson::dom::parser parser;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const ConfigKey& key = keys[i];
    if (key.key == nullptr || *key.key == '\0')
      throw std::invalid_argument("config key #" + std::to_string(i + 1) + " has no name");
    ConfigKeySpec spec;
    spec.key = key.key;
    spec.type = key.type;
    spec.required = key.required;
    spec.description = key.description != nullptr ? key.description : "";
    spec.secret = key.secret;
    for (const ConfigKeySpec& earlier : specs)
      if (earlier.key == spec.key)
        throw std::invalid_argument("config key " + single_quoted(spec.key) + " is declared twice");
    if (key.default_json != nullptr && key.default_value != nullptr)
      throw std::invalid_argument("config key " + single_quoted(spec.key) +
                                  " has both default_json and default_value: give one");
    if (key.default_value != nullptr) {
      Result<ConfigValue> value = plain_default(spec.type, key.default_value);
      if (!value)
        throw std::invalid_argument("config key " + single_quoted(spec.key) + ": default_value " +
                                    single_quoted(key.default_value) + " " +
                                    value.error().message());
      spec.default_value = std::move(*value);
    }
    if (key.default_json != nullptr) {
      const std::string context =
          "config key " + single_quoted(spec.key) + ": default " + std::string(key.default_json);
      Result<simdjson::dom::element> root = parse_json(parser, key.default_json, context);
      if (!root)
        throw std::invalid_argument(root.error().message());
      Result<ConfigValue> value = value_from_json(*root);
      if (!value)
        throw std::invalid_argument(context + " " + value.error().message());
      if (!holds(spec.type, *value))
        throw std::invalid_argument(context + " is " + value_text(*value) + ", not " +
                                    expected_text(spec.type));
      spec.default_value = std::move(*value);
    }
    specs.push_back(std::move(spec));
  }
  return ConfigSchema(std::move(specs));
}

Result<ConfigSchema> ConfigSchema::from_json(std::string_view json) {
  simdjson::dom::parser parser;
  Result<simdjson::dom::element> root = parse_json(parser, json, "the config schema");
  if (!root)
    return root.error();
  simdjson::dom::object object;
  if (root->get_object().get(object))
    return config_error("the config schema is not a JSON object");
  // The SDK reports a malformed config_keys declaration this way instead of failing to load.
  std::string_view reported;
  if (!object["error"].get_string().get(reported))
    return config_error(std::string(reported));
  simdjson::dom::array keys;
  if (object["keys"].get_array().get(keys))
    return config_error("the config schema has no \"keys\" array");

  std::vector<ConfigKeySpec> specs;
  std::size_t index = 0;
  for (simdjson::dom::element item : keys) {
    ++index;
    const std::string where = "config schema key #" + std::to_string(index);
    simdjson::dom::object entry;
    if (item.get_object().get(entry))
      return config_error(where + " is not a JSON object");
    ConfigKeySpec spec;
    std::string_view text;
    if (entry["key"].get_string().get(text) || text.empty())
      return config_error(where + " has no \"key\" string");
    spec.key = std::string(text);
    const std::string named = "config schema key " + single_quoted(spec.key);
    for (const ConfigKeySpec& earlier : specs)
      if (earlier.key == spec.key)
        return config_error(named + " is declared twice");
    if (entry["type"].get_string().get(text))
      return config_error(named + " has no \"type\" string");
    std::optional<ConfigType> type = parse_config_type(text);
    if (!type)
      return config_error(named + " has unknown type " + single_quoted(text) +
                          " (known types: string, integer, boolean, string_list, string_map, "
                          "path)");
    spec.type = *type;
    simdjson::dom::element field;
    if (!entry["required"].get(field) && !field.is_null() && field.get_bool().get(spec.required))
      return config_error(named + ": \"required\" must be true or false");
    if (!entry["secret"].get(field) && !field.is_null() && field.get_bool().get(spec.secret))
      return config_error(named + ": \"secret\" must be true or false");
    if (!entry["description"].get(field) && !field.is_null()) {
      if (field.get_string().get(text))
        return config_error(named + ": \"description\" must be a string");
      spec.description = std::string(text);
    }
    if (!entry["default"].get(field) && !field.is_null()) {
      Result<ConfigValue> value = value_from_json(field);
      if (!value)
        return config_error(named + ": the default " + value.error().message());
      if (!holds(spec.type, *value))
        return config_error(named + ": the default is " + value_text(*value) + ", not " +
                            expected_text(spec.type));
      spec.default_value = std::move(*value);
    }
    specs.push_back(std::move(spec));
  }
  return ConfigSchema(std::move(specs));
}

std::string ConfigSchema::to_json() const {
  std::string out = "{\"keys\":[";
  for (std::size_t i = 0; i < keys_.size(); ++i) {
    const ConfigKeySpec& key = keys_[i];
    if (i > 0)
      out += ',';
    out += "{\"key\":";
    append_json_string(out, key.key);
    out += ",\"type\":\"";
    out += to_string(key.type);
    out += "\",\"required\":";
    out += key.required ? "true" : "false";
    out += ",\"default\":";
    if (key.default_value)
      append_value(out, *key.default_value);
    else
      out += "null";
    out += ",\"secret\":";
    out += key.secret ? "true" : "false";
    out += ",\"description\":";
    append_json_string(out, key.description);
    out += '}';
  }
  out += "]}";
  return out;
}

const ConfigKeySpec* ConfigSchema::find(std::string_view key) const noexcept {
  for (const ConfigKeySpec& spec : keys_)
    if (spec.key == key)
      return &spec;
  return nullptr;
}

Result<ConfigValues> ConfigSchema::validate(std::string_view plugin_name,
                                            const ConfigValues& values) const {
  return validate(plugin_name, values, {});
}

Result<ConfigValues> ConfigSchema::validate(std::string_view plugin_name,
                                            const ConfigValues& values,
                                            const ConfigValueSources& sources) const {
  const std::string plugin = "plugin " + single_quoted(plugin_name) + ": ";
  // "plugin 'custom': app.toml:4: " where the key's line is known.
  auto prefix = [&](std::string_view key) {
    const auto source = sources.find(key);
    return source == sources.end() || source->second.location.empty()
               ? plugin
               : plugin + source->second.location + ": ";
  };
  auto unreadable = [&](std::string_view key) -> const std::string* {
    const auto source = sources.find(key);
    return source == sources.end() || source->second.unreadable.empty()
               ? nullptr
               : &source->second.unreadable;
  };
  std::string problems;
  std::string known;
  for (const ConfigKeySpec& spec : keys_)
    known += (known.empty() ? "" : ", ") + spec.key;
  auto unknown_key = [&](const std::string& key) {
    join_line(problems, prefix(key) + "unknown config key " + single_quoted(key) +
                            (known.empty() ? " (it takes no configuration)"
                                           : " (known keys: " + known + ")"));
  };
  for (const auto& [key, value] : values)
    if (find(key) == nullptr)
      unknown_key(key);
  for (const auto& [key, source] : sources)
    if (!source.unreadable.empty() && !values.contains(key) && find(key) == nullptr)
      unknown_key(key);

  ConfigValues result;
  for (const ConfigKeySpec& spec : keys_) {
    const auto given = values.find(spec.key);
    if (given != values.end()) {
      if (holds(spec.type, given->second))
        result.emplace(spec.key, given->second);
      else
        join_line(problems, prefix(spec.key) + "config key " + single_quoted(spec.key) +
                                " must be " + expected_text(spec.type) + ", got " +
                                value_text(given->second));
    } else if (const std::string* found = unreadable(spec.key)) {
      join_line(problems, prefix(spec.key) + "config key " + single_quoted(spec.key) + " must be " +
                              expected_text(spec.type) + ", got " + *found);
    } else if (spec.default_value) {
      result.emplace(spec.key, *spec.default_value);
    } else if (spec.required) {
      join_line(problems, plugin + "missing required config key " + single_quoted(spec.key));
    }
  }
  if (!problems.empty())
    return config_error(std::move(problems));
  return result;
}

std::string config_to_json(const ConfigValues& values) {
  std::string out = "{";
  for (const auto& [key, value] : values) {
    if (out.size() > 1)
      out += ',';
    append_json_string(out, key);
    out += ':';
    append_value(out, value);
  }
  out += '}';
  return out;
}

std::string config_value_to_json(const ConfigValue& value) {
  std::string out;
  append_value(out, value);
  return out;
}

Result<Config> Config::parse(std::string_view json) {
  simdjson::dom::parser parser;
  Result<simdjson::dom::element> root = parse_json(parser, json, "the plugin configuration");
  if (!root)
    return root.error();
  simdjson::dom::object object;
  if (root->get_object().get(object))
    return config_error("the plugin configuration is not a JSON object");
  ConfigValues values;
  for (simdjson::dom::key_value_pair field : object) {
    Result<ConfigValue> value = value_from_json(field.value);
    if (!value)
      return config_error("config key " + single_quoted(field.key) + " " + value.error().message());
    if (!values.emplace(std::string(field.key), std::move(*value)).second)
      return config_error("config key " + single_quoted(field.key) + " appears twice");
  }
  return Config(std::move(values));
}

bool Config::has(std::string_view key) const noexcept {
  return values_.find(key) != values_.end();
}

const ConfigValue& Config::at(std::string_view key) const {
  const auto found = values_.find(key);
  if (found == values_.end())
    throw ErrorException(config_error("config key " + single_quoted(key) + " is not set"));
  return found->second;
}

namespace {
[[noreturn]] void throw_wrong_type(std::string_view key, const ConfigValue& value,
                                   ConfigType wanted) {
  throw ErrorException(config_error("config key " + single_quoted(key) + " is " +
                                    value_text(value) + ", not " + expected_text(wanted)));
}
} // namespace

const std::string& Config::get_string(std::string_view key) const {
  const ConfigValue& value = at(key);
  if (const auto* text = std::get_if<std::string>(&value))
    return *text;
  throw_wrong_type(key, value, ConfigType::string);
}

std::int64_t Config::get_int(std::string_view key) const {
  const ConfigValue& value = at(key);
  if (const auto* number = std::get_if<std::int64_t>(&value))
    return *number;
  throw_wrong_type(key, value, ConfigType::integer);
}

bool Config::get_bool(std::string_view key) const {
  const ConfigValue& value = at(key);
  if (const auto* flag = std::get_if<bool>(&value))
    return *flag;
  throw_wrong_type(key, value, ConfigType::boolean);
}

const std::vector<std::string>& Config::get_list(std::string_view key) const {
  const ConfigValue& value = at(key);
  if (const auto* items = std::get_if<std::vector<std::string>>(&value))
    return *items;
  throw_wrong_type(key, value, ConfigType::string_list);
}

const StringMap& Config::get_map(std::string_view key) const {
  const ConfigValue& value = at(key);
  if (const auto* entries = std::get_if<StringMap>(&value))
    return *entries;
  throw_wrong_type(key, value, ConfigType::string_map);
}

std::string Config::get_string_or(std::string_view key, std::string fallback) const {
  if (!has(key))
    return fallback;
  return get_string(key);
}

} // namespace billdrop
