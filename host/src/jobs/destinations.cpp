// The destination kinds a connection may name, each one factory in one table (registry()): a new
// kind is a factory function and a line there, never a case in a switch.

#include "emulator/emulator.hpp"
#include "jobs/delivery.hpp"

#include <billdrop/text.hpp>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

namespace billdrop::jobs {

Result<std::string> read_api_key(const config::DeliveryConfig& delivery) {
  if (!delivery.api_key_file.empty()) {
    std::ifstream in(delivery.api_key_file, std::ios::binary);
    if (!in)
      return config_error("cannot read the API key file " + delivery.api_key_file.string());
    std::ostringstream text;
    text << in.rdbuf();
    const std::string key(trim_ascii(text.str()));
    if (key.empty())
      return config_error("the API key file " + delivery.api_key_file.string() + " is empty");
    return key;
  }
  const char* value = std::getenv(delivery.api_key_env.c_str());
  if (value == nullptr || *value == '\0')
    return config_error("no AnyCost API key: set the environment variable " + delivery.api_key_env +
                        " (or api_key_env / api_key_file under [connections.<name>.anycost])");
  return std::string(trim_ascii(value));
}

std::optional<LandedMonth> OpenDestination::landed(const std::string& connection_id,
                                                   Month month) const {
  if (!local)
    return std::nullopt;
  Result<emulator::MonthState> state = local->month_state(connection_id, month);
  if (!state)
    return std::nullopt;
  return LandedMonth{state->rows, state->cost, std::move(state->hours)};
}

namespace {

struct DestinationContext {
  const config::DeliveryConfig& delivery;
  const std::filesystem::path& state_dir;
  const config::LimitsConfig& limits;
};

using DestinationFactory = Result<OpenDestination> (*)(const DestinationContext&);

// local: the AnyCost emulator embedded in this process, over loopback, its store in the state
// directory, with the connection's limits.
Result<OpenDestination> open_local(const DestinationContext& context) {
  std::error_code ec;
  std::filesystem::create_directories(context.state_dir, ec);
  if (ec)
    return source_error("cannot create the state directory " + context.state_dir.string() + ": " +
                        ec.message());
  emulator::EmulatorOptions options;
  options.store = context.state_dir / "emulator.db";
  options.max_body_bytes = static_cast<std::size_t>(context.limits.max_body_bytes);
  options.max_rows_per_month = static_cast<std::uint64_t>(context.limits.max_rows_per_month);
  options.max_bytes_per_month = static_cast<std::uint64_t>(context.limits.max_bytes_per_month);
  // The embedded emulator accepts one private key; nothing else can reach it but loopback.
  const std::string key = "local-emulator-key";
  options.api_keys = {key};
  OpenDestination open;
  open.local = std::make_unique<emulator::Emulator>(options);
  Result<std::uint16_t> port = open.local->start("127.0.0.1", 0);
  if (!port)
    return port.error();
  send::AnycostSettings settings;
  settings.base_url = open.local->base_url();
  settings.api_key = key;
  open.destination = send::make_anycost_destination(settings);
  open.description =
      "local emulator at " + open.local->base_url() + " (store " + options.store.string() + ")";
  return open;
}

// anycost: the AnyCost Stream API (or any base URL), the key from the environment or a file.
Result<OpenDestination> open_anycost(const DestinationContext& context) {
  const config::DeliveryConfig& delivery = context.delivery;
  Result<std::string> key = read_api_key(delivery);
  if (!key)
    return key.error();
  send::AnycostSettings settings;
  settings.base_url = delivery.base_url;
  settings.api_key = *key;
  if (!delivery.test_key_env.empty()) {
    const char* test_key = std::getenv(delivery.test_key_env.c_str());
    if (test_key == nullptr || *test_key == '\0')
      return config_error("test_key_env names " + delivery.test_key_env + ", which is not set");
    settings.test_key = test_key;
  }
  settings.timeout = std::chrono::seconds(delivery.timeout_seconds);
  OpenDestination open;
  open.destination = send::make_anycost_destination(settings);
  open.description = "AnyCost Stream API at " + delivery.base_url;
  return open;
}

// dir: request bodies and the legacy bucket layout as files.
Result<OpenDestination> open_dir(const DestinationContext& context) {
  OpenDestination open;
  open.destination = send::make_dir_destination(context.delivery.dir);
  open.description = "directory " + context.delivery.dir.string();
  return open;
}

const std::map<config::DestinationKind, DestinationFactory>& registry() {
  static const std::map<config::DestinationKind, DestinationFactory> factories{
      {config::DestinationKind::local, open_local},
      {config::DestinationKind::anycost, open_anycost},
      {config::DestinationKind::dir, open_dir},
  };
  return factories;
}

} // namespace

Result<OpenDestination> open_destination(const config::DeliveryConfig& delivery,
                                         const std::filesystem::path& state_dir,
                                         const config::LimitsConfig& limits) {
  const auto found = registry().find(delivery.destination);
  if (found == registry().end())
    return internal_error("no factory is registered for this destination kind");
  return found->second(DestinationContext{delivery, state_dir, limits});
}

} // namespace billdrop::jobs
