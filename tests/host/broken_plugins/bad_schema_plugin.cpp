// Declares a default that is not JSON: the SDK reports it in the schema, the host refuses it.
#include "test_plugin.hpp"

namespace {

class BadSchemaPlugin final : public billdrop::test_plugins::IdlePlugin {
public:
  static constexpr billdrop::ConfigKey config_keys[] = {
      {"limit", billdrop::ConfigType::integer, "ten", false, "Not JSON"}};
  using IdlePlugin::IdlePlugin;
};

} // namespace

BILLDROP_PLUGIN(BadSchemaPlugin, "bad_schema", "0.0.1", "Declares a malformed default")
