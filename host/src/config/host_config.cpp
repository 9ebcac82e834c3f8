#include "config/host_config.hpp"

#include "cbf/drop_body.hpp"
#include "config/embedded_config.hpp"
#include "core/cron.hpp"
#include "core/numbers.hpp"
#include "remote/location.hpp"

#include <boost/dll/runtime_symbol_info.hpp>
#include <toml++/toml.h>

#include <fstream>
#include <initializer_list>
#include <optional>
#include <sstream>

namespace billdrop::config {
namespace {

std::string where(const toml::node& node, const std::filesystem::path& source) {
  const auto& begin = node.source().begin;
  std::ostringstream out;
  out << source.string() << ":" << begin.line;
  return out.str();
}

// What a TOML value is, for "got ..." messages: never the value itself (it may be a secret).
std::string toml_kind(const toml::node& node) {
  switch (node.type()) {
  case toml::node_type::string:
    return "a string";
  case toml::node_type::integer:
    return "an integer";
  case toml::node_type::floating_point:
    return "a floating-point number";
  case toml::node_type::boolean:
    return "a boolean";
  case toml::node_type::date:
  case toml::node_type::time:
  case toml::node_type::date_time:
    return "a TOML date or time";
  case toml::node_type::array:
    return "a list";
  case toml::node_type::table:
    return "a table";
  default:
    return "a value of no known TOML type";
  }
}

// A plugin's TOML value as a ConfigValue, or nothing with `found` saying what it is instead (a
// float, a list of numbers, a nested table). The schema check reports those with its own
// problems, naming plugin and key, so a configuration's problems are all listed at once.
std::optional<ConfigValue> to_config_value(const toml::node& node, std::string& found) {
  if (auto v = node.as_string())
    return ConfigValue(std::string(v->get()));
  if (auto v = node.as_integer())
    return ConfigValue(static_cast<std::int64_t>(v->get()));
  if (auto v = node.as_boolean())
    return ConfigValue(v->get());
  if (auto array = node.as_array()) {
    std::vector<std::string> items;
    for (std::size_t i = 0; i < array->size(); ++i) {
      auto text = (*array)[i].as_string();
      if (!text) {
        found =
            "a list holding " + toml_kind((*array)[i]) + " (item " + std::to_string(i + 1) + ")";
        return std::nullopt;
      }
      items.emplace_back(text->get());
    }
    return ConfigValue(std::move(items));
  }
  if (auto table = node.as_table()) {
    StringMap entries;
    for (const auto& [entry_key, entry_value] : *table) {
      auto text = entry_value.as_string();
      if (!text) {
        found = "a table whose '" + std::string(entry_key.str()) + "' is " + toml_kind(entry_value);
        return std::nullopt;
      }
      entries.emplace_back(std::string(entry_key.str()), std::string(text->get()));
    }
    return ConfigValue(std::move(entries));
  }
  found = toml_kind(node);
  if (node.is_floating_point())
    found += " (write it as a string, \"1.5\", or an integer)";
  else if (node.is_date() || node.is_time() || node.is_date_time())
    found += " (write it as a string)";
  return std::nullopt;
}

PluginConfigInput table_to_values(const toml::table& table, const std::filesystem::path& source) {
  PluginConfigInput input;
  for (const auto& [key, node] : table) {
    ConfigValueSource& where_set = input.sources[std::string(key.str())];
    where_set.location = where(node, source);
    if (std::optional<ConfigValue> value = to_config_value(node, where_set.unreadable))
      input.values.emplace(std::string(key.str()), std::move(*value));
  }
  return input;
}

Result<toml::table> parse_toml(std::string_view text, const std::filesystem::path& source) {
  try {
    return toml::parse(text, source.string());
  } catch (const toml::parse_error& e) {
    std::ostringstream out;
    out << source.string() << ":" << e.source().begin.line << ":" << e.source().begin.column << ": "
        << e.description();
    return config_error(out.str());
  }
}

Status parse_string_field(const toml::node& value, std::string_view name,
                          const std::filesystem::path& source, std::string& out) {
  auto text = value.as_string();
  if (!text)
    return config_error(where(value, source) + ": " + std::string(name) + " must be a string");
  out = text->get();
  return {};
}

// [connections.<name>.remote]: how a remote `path` (s3://, az://, gs://) is reached, each key
// optional (remote/settings.hpp). Secrets are refused: only where to find them.
Status parse_remote_table(ConnectionConfig& c, const toml::node& node,
                          const std::filesystem::path& source) {
  const std::string prefix = "connections." + c.name + ".remote.";
  auto table = node.as_table();
  if (!table)
    return config_error(where(node, source) + ": connections." + c.name +
                        ".remote must be a table");
  remote::RemoteSettings& r = c.remote;
  const std::pair<const char*, std::string*> strings[] = {
      {"s3_endpoint", &r.s3_endpoint},
      {"s3_region", &r.s3_region},
      {"aws_profile", &r.aws_profile},
      {"sts_endpoint", &r.sts_endpoint},
      {"azure_endpoint", &r.azure_endpoint},
      {"azure_connection_string_env", &r.azure_connection_string_env},
      {"azure_key_env", &r.azure_key_env},
      {"azure_sas_env", &r.azure_sas_env},
      {"gcs_endpoint", &r.gcs_endpoint}};
  const std::pair<const char*, std::filesystem::path*> files[] = {
      {"aws_shared_credentials_file", &r.aws_shared_credentials_file},
      {"gcs_credentials_file", &r.gcs_credentials_file}};
  for (const auto& [key, entry] : *table) {
    const std::string_view k = key.str();
    const std::string name = prefix + std::string(k);
    bool known = false;
    for (const auto& [field, target] : strings)
      if (k == field) {
        known = true;
        if (Status status = parse_string_field(entry, name, source, *target); !status)
          return status;
      }
    for (const auto& [field, target] : files)
      if (k == field) {
        known = true;
        std::string text;
        if (Status status = parse_string_field(entry, name, source, text); !status)
          return status;
        *target = std::filesystem::path(text).is_absolute() ? std::filesystem::path(text)
                                                            : c.base_directory / text;
      }
    if (k == "cache_max_bytes" || k == "list_page_size" || k == "timeout_seconds") {
      known = true;
      auto number = entry.as_integer();
      if (!number || number->get() < 1)
        return config_error(where(entry, source) + ": " + name + " must be a positive integer");
      if (k == "cache_max_bytes")
        r.cache_max_bytes = static_cast<std::uint64_t>(number->get());
      else if (k == "list_page_size")
        r.list_page_size = static_cast<std::uint64_t>(number->get());
      else
        r.timeout_seconds = number->get();
    }
    if (k == "read_while_downloading") {
      known = true;
      auto flag = entry.as_boolean();
      if (!flag)
        return config_error(where(entry, source) + ": " + name + " must be true or false");
      r.read_while_downloading = flag->get();
    }
    if (k.find("secret") != std::string_view::npos || k == "account_key" || k == "sas_token" ||
        k == "connection_string" || k == "access_key_id")
      return config_error(where(entry, source) + ": " + name +
                          ": credentials never go in the config file; name the environment "
                          "variable or file that holds them (docs/user-guide.md, \"Remote "
                          "paths\")");
    if (!known)
      return config_error(
          where(entry, source) + ": unknown key '" + name +
          "' (known keys: s3_endpoint, s3_region, aws_profile, aws_shared_credentials_file, "
          "sts_endpoint, azure_endpoint, azure_connection_string_env, azure_key_env, "
          "azure_sas_env, gcs_credentials_file, gcs_endpoint, cache_max_bytes, list_page_size, "
          "timeout_seconds, read_while_downloading)");
  }
  return {};
}

Status parse_connection_field(ConnectionConfig& c, std::string_view field, const toml::node& value,
                              const std::filesystem::path& source) {
  const std::string prefix = "connections." + c.name + ".";
  DeliveryConfig& d = c.delivery;
  if (field == "plugin")
    return parse_string_field(value, prefix + "plugin", source, c.plugin);
  if (field == "connection_id")
    return parse_string_field(value, prefix + "connection_id", source, d.connection_id);
  if (field == "config") {
    auto plugin_table = value.as_table();
    if (!plugin_table)
      return config_error(where(value, source) + ": " + prefix + "config must be a table");
    PluginConfigInput input = table_to_values(*plugin_table, source);
    c.plugin_config = std::move(input.values);
    c.plugin_config_sources = std::move(input.sources);
    return {};
  }
  if (field == "destination") {
    std::string kind;
    if (Status status = parse_string_field(value, prefix + "destination", source, kind); !status)
      return status;
    if (kind == "local")
      d.destination = DestinationKind::local;
    else if (kind == "anycost")
      d.destination = DestinationKind::anycost;
    else if (kind == "dir")
      d.destination = DestinationKind::dir;
    else
      return config_error(where(value, source) + ": " + prefix +
                          "destination must be local, anycost or dir, not '" + kind + "'");
    return {};
  }
  if (field == "allow_rollup") {
    auto flag = value.as_boolean();
    if (!flag)
      return config_error(where(value, source) + ": " + prefix +
                          "allow_rollup must be true or false");
    d.allow_rollup = flag->get();
    return {};
  }
  if (field == "anycost") {
    auto table = value.as_table();
    if (!table)
      return config_error(where(value, source) + ": " + prefix + "anycost must be a table");
    for (const auto& [key, entry] : *table) {
      const std::string_view k = key.str();
      const std::string name = prefix + "anycost." + std::string(k);
      if (k == "timeout_seconds") {
        auto number = entry.as_integer();
        if (!number || number->get() <= 0)
          return config_error(where(entry, source) + ": " + name + " must be a positive integer");
        d.timeout_seconds = number->get();
        continue;
      }
      std::string text;
      if (Status status = parse_string_field(entry, name, source, text); !status)
        return status;
      if (k == "base_url")
        d.base_url = text;
      else if (k == "api_key_env")
        d.api_key_env = text;
      else if (k == "api_key_file")
        d.api_key_file = std::filesystem::path(text).is_absolute() ? std::filesystem::path(text)
                                                                   : c.base_directory / text;
      else if (k == "test_key_env")
        d.test_key_env = text;
      else if (k == "api_key")
        return config_error(
            where(entry, source) + ": " + name +
            ": API keys never go in the config file; set api_key_env or api_key_file");
      else
        return config_error(
            where(entry, source) + ": unknown key '" + name +
            "' (known keys: base_url, api_key_env, api_key_file, test_key_env, timeout_seconds)");
    }
    return {};
  }
  if (field == "remote")
    return parse_remote_table(c, value, source);
  if (field == "dir") {
    auto table = value.as_table();
    if (!table)
      return config_error(where(value, source) + ": " + prefix + "dir must be a table with a path");
    for (const auto& [key, entry] : *table) {
      if (key.str() != "path")
        return config_error(where(entry, source) + ": unknown key '" + prefix + "dir." +
                            std::string(key.str()) + "' (known keys: path)");
      std::string text;
      if (Status status = parse_string_field(entry, prefix + "dir.path", source, text); !status)
        return status;
      d.dir = std::filesystem::path(text).is_absolute() ? std::filesystem::path(text)
                                                        : c.base_directory / text;
    }
    return {};
  }
  ScheduleConfig& schedule = c.schedule;
  const auto flag = [&](std::string_view name, bool& target) -> Status {
    auto value_flag = value.as_boolean();
    if (!value_flag)
      return config_error(where(value, source) + ": " + prefix + std::string(name) +
                          " must be true or false");
    target = value_flag->get();
    return {};
  };
  const auto months = [&](std::string_view name, std::int64_t& target,
                          std::int64_t maximum) -> Status {
    auto number = value.as_integer();
    if (!number || number->get() < 1 || number->get() > maximum)
      return config_error(where(value, source) + ": " + prefix + std::string(name) +
                          " must be a whole number of months from 1 to " + std::to_string(maximum));
    target = number->get();
    return {};
  };
  if (field == "isolation") {
    std::string mode;
    if (Status status = parse_string_field(value, prefix + "isolation", source, mode); !status)
      return status;
    if (mode == "process")
      c.isolation.mode = IsolationMode::process;
    else if (mode == "in-process")
      c.isolation.mode = IsolationMode::in_process;
    else
      return config_error(where(value, source) + ": " + prefix +
                          "isolation must be \"process\" or \"in-process\", not '" + mode + "'");
    return {};
  }
  if (field == "read_timeout_seconds" || field == "memory_limit_mb") {
    auto number = value.as_integer();
    if (!number || number->get() < 0)
      return config_error(where(value, source) + ": " + prefix + std::string(field) +
                          " must be a whole number, 0 or more (0: no limit)");
    (field == "read_timeout_seconds" ? c.isolation.read_timeout_seconds
                                     : c.isolation.memory_limit_mb) = number->get();
    return {};
  }
  if (field == "enabled")
    return flag("enabled", schedule.enabled);
  if (field == "readback")
    return flag("readback", schedule.readback);
  if (field == "schedule") {
    if (Status status = parse_string_field(value, prefix + "schedule", source, schedule.schedule);
        !status)
      return status;
    if (Result<core::CronSchedule> parsed = core::CronSchedule::parse(schedule.schedule); !parsed)
      return config_error(where(value, source) + ": " + prefix +
                          "schedule: " + parsed.error().message());
    return {};
  }
  if (field == "account_id")
    return parse_string_field(value, prefix + "account_id", source, schedule.account_id);
  if (field == "backfill_months")
    return months("backfill_months", schedule.backfill_months, 120);
  if (field == "reprocess_months")
    return months("reprocess_months", schedule.reprocess_months, 120);
  return config_error(
      where(value, source) + ": unknown key '" + prefix + std::string(field) +
      "' (known keys: plugin, config, connection_id, destination, allow_rollup, anycost, dir, "
      "remote, "
      "enabled, schedule, backfill_months, reprocess_months, readback, account_id, isolation, "
      "read_timeout_seconds, memory_limit_mb)");
}

// [server]: the daemon's listen address, job pool and token.
Status parse_server_table(const toml::node& node, const std::filesystem::path& source,
                          const std::filesystem::path& base_directory, ServerConfig& server) {
  auto table = node.as_table();
  if (!table)
    return config_error(where(node, source) + ": server must be a table");
  for (const auto& [key, value] : *table) {
    const std::string_view k = key.str();
    const std::string name = "server." + std::string(k);
    if (k == "listen" || k == "token_env" || k == "token_file") {
      std::string text;
      if (Status status = parse_string_field(value, name, source, text); !status)
        return status;
      if (k == "listen")
        server.listen = text;
      else if (k == "token_env")
        server.token_env = text;
      else
        server.token_file = std::filesystem::path(text).is_absolute() ? std::filesystem::path(text)
                                                                      : base_directory / text;
    } else if (k == "jitter_seconds" || k == "max_parallel_connections") {
      auto number = value.as_integer();
      const std::int64_t minimum = k == "jitter_seconds" ? 0 : 1;
      if (!number || number->get() < minimum)
        return config_error(
            where(value, source) + ": " + name +
            (minimum == 0 ? " must be an integer, 0 or more" : " must be a positive integer"));
      (k == "jitter_seconds" ? server.jitter_seconds : server.max_parallel_connections) =
          number->get();
    } else if (k == "token") {
      return config_error(where(value, source) + ": " + name +
                          ": tokens never go in the config file; set token_env or token_file");
    } else {
      return config_error(where(value, source) + ": unknown key '" + name +
                          "' (known keys: listen, jitter_seconds, max_parallel_connections, "
                          "token_env, token_file)");
    }
  }
  return {};
}

// [store]: kind = "sqlite" | "postgres"; postgres needs url_env or url_file.
Status parse_store_table(const toml::node& node, const std::filesystem::path& source,
                         const std::filesystem::path& base_directory, StoreConfig& store) {
  auto table = node.as_table();
  if (!table)
    return config_error(where(node, source) + ": store must be a table");
  for (const auto& [key, value] : *table) {
    const std::string_view k = key.str();
    const std::string name = "store." + std::string(k);
    if (k == "kind" || k == "url_env" || k == "url_file") {
      std::string text;
      if (Status status = parse_string_field(value, name, source, text); !status)
        return status;
      if (k == "kind") {
        if (text == "sqlite")
          store.kind = StoreKind::sqlite;
        else if (text == "postgres")
          store.kind = StoreKind::postgres;
        else
          return config_error(where(value, source) + ": store.kind is \"" + text +
                              "\"; it must be \"sqlite\" or \"postgres\"");
      } else if (k == "url_env") {
        store.url_env = text;
      } else {
        store.url_file = std::filesystem::path(text).is_absolute() ? std::filesystem::path(text)
                                                                   : base_directory / text;
      }
    } else if (k == "lease_ttl_seconds") {
      auto number = value.as_integer();
      if (!number || number->get() < 1)
        return config_error(where(value, source) + ": " + name + " must be a positive integer");
      store.lease_ttl_seconds = number->get();
    } else if (k == "url") {
      return config_error(where(value, source) + ": " + name +
                          ": a connection string (it may hold a password) never goes in the config "
                          "file; set url_env or url_file");
    } else {
      return config_error(where(value, source) + ": unknown key '" + name +
                          "' (known keys: kind, url_env, url_file, lease_ttl_seconds)");
    }
  }
  if (store.kind == StoreKind::postgres && store.url_env.empty() && store.url_file.empty())
    return config_error(where(node, source) +
                        ": store.kind = \"postgres\" needs url_env or url_file (where the libpq "
                        "connection string is)");
  if (!store.url_env.empty() && !store.url_file.empty())
    return config_error(where(node, source) + ": store: set url_env or url_file, not both");
  return {};
}

struct IntegerKey {
  std::string_view key;
  std::int64_t* target;
  std::int64_t minimum;
};

// A table of integer settings such as [limits]: unknown keys, other types and values below the
// key's minimum are errors naming the file, line and key.
Status parse_integer_table(const toml::node& node, const std::filesystem::path& source,
                           std::string_view table_name, std::initializer_list<IntegerKey> keys) {
  const std::string name(table_name);
  auto table = node.as_table();
  if (!table)
    return config_error(where(node, source) + ": " + name + " must be a table");
  for (const auto& [key, value] : *table) {
    const IntegerKey* found = nullptr;
    for (const IntegerKey& candidate : keys)
      if (candidate.key == key.str())
        found = &candidate;
    if (found == nullptr) {
      std::string known;
      for (const IntegerKey& candidate : keys)
        known += (known.empty() ? "" : ", ") + std::string(candidate.key);
      return config_error(where(value, source) + ": unknown key '" + name + "." +
                          std::string(key.str()) + "' (known keys: " + known + ")");
    }
    auto number = value.as_integer();
    if (!number || number->get() < found->minimum)
      return config_error(
          where(value, source) + ": " + name + "." + std::string(key.str()) +
          (found->minimum == 0 ? " must be an integer, 0 or more" : " must be a positive integer"));
    *found->target = number->get();
  }
  return {};
}

// What the API would not honour, found when the file is read rather than when a month is sent:
// a limit above the API's own, or a body limit too small for a single row.
Status check_limits(const toml::table& table, const std::filesystem::path& source,
                    const LimitsConfig& limits) {
  struct Ceiling {
    std::string_view key;
    std::int64_t value;
    std::int64_t api_limit;
    std::string_view what; // what the API's limit counts, and what it does above it
  };
  for (const Ceiling& c :
       {Ceiling{"max_body_bytes", limits.max_body_bytes, kApiMaxBodyBytes,
                "bytes for one request body (it answers 413 to a larger one)"},
        Ceiling{"max_rows_per_month", limits.max_rows_per_month, kApiMaxRowsPerMonth,
                "rows per month and connection (it rejects the month)"},
        Ceiling{"max_bytes_per_month", limits.max_bytes_per_month, kApiMaxBytesPerMonth,
                "bytes per month and connection (it rejects the month)"}}) {
    if (c.value > c.api_limit)
      return config_error(where(*table.get(c.key), source) + ": limits." + std::string(c.key) +
                          " is " + core::group_thousands(static_cast<std::uint64_t>(c.value)) +
                          ", above the API's limit of " +
                          core::group_thousands(static_cast<std::uint64_t>(c.api_limit)) + " " +
                          std::string(c.what));
  }
  const std::size_t smallest = cbf::DropBodyWriter::smallest_with_a_row();
  if (static_cast<std::uint64_t>(limits.max_body_bytes) < smallest)
    return config_error(where(*table.get("max_body_bytes"), source) +
                        ": limits.max_body_bytes is " +
                        core::group_thousands(static_cast<std::uint64_t>(limits.max_body_bytes)) +
                        ", too small for a request body with one row: the smallest takes " +
                        std::to_string(smallest) + " bytes (the value is in bytes, not megabytes)");
  return {};
}

} // namespace

Result<const ConnectionConfig*> HostConfig::connection(std::string_view name) const {
  if (name.empty()) {
    if (connections.size() == 1)
      return &connections.front();
    if (connections.empty())
      return config_error(source.string() + " defines no [connections.<name>] table");
    std::string names;
    for (const auto& c : connections)
      names += (names.empty() ? "" : ", ") + c.name;
    return config_error(source.string() + " defines several connections (" + names +
                        "): choose one with --connection");
  }
  for (const auto& c : connections)
    if (c.name == name)
      return &c;
  std::string names;
  for (const auto& c : connections)
    names += (names.empty() ? "" : ", ") + c.name;
  return config_error("no connection named '" + std::string(name) + "' in " + source.string() +
                      (names.empty() ? "" : " (it defines: " + names + ")"));
}

Result<HostConfig> parse_host_config(std::string_view text, const std::filesystem::path& source,
                                     const std::filesystem::path& base_directory) {
  Result<toml::table> parsed = parse_toml(text, source);
  if (!parsed)
    return parsed.error();
  const toml::table& root = *parsed;
  HostConfig config;
  config.source = source;
  config.state_dir = base_directory / ".billdrop";
  for (const auto& [key, node] : root) {
    const std::string_view k = key.str();
    if (k == "plugin_dirs") {
      auto array = node.as_array();
      if (!array)
        return config_error(where(node, source) + ": plugin_dirs must be a list of strings");
      for (const toml::node& item : *array) {
        auto dir = item.as_string();
        if (!dir)
          return config_error(where(item, source) + ": plugin_dirs must be a list of strings");
        std::filesystem::path path(dir->get());
        config.plugin_dirs.push_back(path.is_absolute() ? path : base_directory / path);
      }
    } else if (k == "connections") {
      auto table = node.as_table();
      if (!table)
        return config_error(where(node, source) + ": connections must be a table of tables");
      for (const auto& [name, connection_node] : *table) {
        auto connection = connection_node.as_table();
        if (!connection)
          return config_error(where(connection_node, source) + ": connections." +
                              std::string(name.str()) + " must be a table");
        ConnectionConfig c;
        c.name = std::string(name.str());
        c.base_directory = base_directory;
        c.delivery.connection_id = c.name;
        for (const auto& [field, value] : *connection) {
          if (Status status = parse_connection_field(c, field.str(), value, source); !status)
            return status.error();
        }
        if (c.plugin.empty())
          return config_error(where(connection_node, source) + ": connection '" + c.name +
                              "' needs a plugin = \"<name>\" key");
        if (c.delivery.destination == DestinationKind::dir && c.delivery.dir.empty())
          return config_error(where(connection_node, source) + ": connection '" + c.name +
                              "' sends to a dir destination but has no [connections." + c.name +
                              ".dir] path");
        config.connections.push_back(std::move(c));
      }
    } else if (k == "state_dir") {
      auto dir = node.as_string();
      if (!dir)
        return config_error(where(node, source) + ": state_dir must be a string");
      const std::filesystem::path path(dir->get());
      config.state_dir = path.is_absolute() ? path : base_directory / path;
    } else if (k == "limits") {
      if (Status status =
              parse_integer_table(node, source, "limits",
                                  {{"max_body_bytes", &config.limits.max_body_bytes, 1},
                                   {"max_rows_per_month", &config.limits.max_rows_per_month, 1},
                                   {"max_bytes_per_month", &config.limits.max_bytes_per_month, 1},
                                   {"requests_in_flight_per_connection",
                                    &config.limits.requests_in_flight_per_connection, 1}});
          !status)
        return status.error();
      if (config.limits.requests_in_flight_per_connection != 1)
        return config_error(
            where(*node.as_table()->get("requests_in_flight_per_connection"), source) +
            ": limits.requests_in_flight_per_connection must be 1: the AnyCost Stream API takes "
            "one request at a time per connection (send more connections in parallel with "
            "sending.parallel_connections instead)");
      if (Status status = check_limits(*node.as_table(), source, config.limits); !status)
        return status.error();
    } else if (k == "sending") {
      if (Status status = parse_integer_table(
              node, source, "sending",
              {{"give_up_seconds", &config.sending.give_up_seconds, 1},
               {"initial_backoff_ms", &config.sending.initial_backoff_ms, 0},
               {"max_backoff_ms", &config.sending.max_backoff_ms, 0},
               {"parallel_connections", &config.sending.parallel_connections, 1}});
          !status)
        return status.error();
      if (config.sending.max_backoff_ms < config.sending.initial_backoff_ms)
        return config_error(where(node, source) + ": sending.max_backoff_ms (" +
                            std::to_string(config.sending.max_backoff_ms) +
                            ") is less than sending.initial_backoff_ms (" +
                            std::to_string(config.sending.initial_backoff_ms) + ")");
    } else if (k == "server") {
      if (Status status = parse_server_table(node, source, base_directory, config.server); !status)
        return status.error();
    } else if (k == "store") {
      if (Status status = parse_store_table(node, source, base_directory, config.store); !status)
        return status.error();
    } else {
      return config_error(where(node, source) + ": unknown top-level key '" + std::string(k) +
                          "' (known keys: plugin_dirs, state_dir, limits, sending, server, store, "
                          "connections)");
    }
  }
  return config;
}

Result<HostConfig> load_host_config(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in)
    return config_error("cannot read config file " + file.string() + ": " +
                        (std::filesystem::exists(file) ? "permission denied" : "no such file"));
  std::ostringstream text;
  text << in.rdbuf();
  const std::filesystem::path base = std::filesystem::absolute(file).parent_path();
  return parse_host_config(text.str(), file, base);
}

Result<PluginConfigInput> load_plugin_config(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in)
    return config_error("cannot read plugin config file " + file.string());
  std::ostringstream text;
  text << in.rdbuf();
  Result<toml::table> parsed = parse_toml(text.str(), file);
  if (!parsed)
    return parsed.error();
  return table_to_values(*parsed, file);
}

std::filesystem::path data_directory() {
  std::error_code ec;
  const std::filesystem::path exe = boost::dll::program_location(ec);
  if (!ec) {
    const std::filesystem::path relative = exe.parent_path().parent_path() / "share" / "billdrop";
    if (std::filesystem::exists(relative / "examples"))
      return relative;
  }
  return BILLDROP_INSTALL_DATA_DIR;
}

Result<HostConfig> embedded_host_config() {
  const std::filesystem::path base = data_directory() / "examples" / "acme-gpu";
  if (!std::filesystem::exists(base))
    return config_error("the bundled example data is not installed (looked in " + base.string() +
                        "); pass --config FILE");
  Result<HostConfig> config = parse_host_config(kEmbeddedConfig, "<embedded defaults>", base);
  // The example data may be installed read-only: state goes under the working directory.
  if (config)
    config->state_dir = std::filesystem::absolute(".billdrop");
  return config;
}

ConfigValues resolve_paths(const ConfigValues& values, const ConfigSchema& schema,
                           const std::filesystem::path& base_directory) {
  ConfigValues resolved = values;
  for (auto& [key, value] : resolved) {
    const ConfigKeySpec* spec = schema.find(key);
    if (spec == nullptr || spec->type != ConfigType::path)
      continue;
    if (auto* text = std::get_if<std::string>(&value)) {
      std::filesystem::path path(*text);
      // A remote location (s3://, az://, gs://) or any other URL is not a file path: the jobs
      // mirror remote ones (remote::RemoteMirror) before the plugin runs.
      if (remote::looks_like_url(*text))
        continue;
      if (!text->empty() && path.is_relative())
        *text = (base_directory / path).lexically_normal().string();
    }
  }
  return resolved;
}

} // namespace billdrop::config
