// Its constructor throws PluginError: create() must fail with the plugin's message and kind.
#include "test_plugin.hpp"

namespace {

class InitThrowsPlugin final : public billdrop::test_plugins::IdlePlugin {
public:
  explicit InitThrowsPlugin(const billdrop::Config& config) : IdlePlugin(config) {
    throw billdrop::PluginError("missing credentials: set token", billdrop::ErrorKind::config);
  }
};

} // namespace

BILLDROP_PLUGIN(InitThrowsPlugin, "init_throws", "0.0.1", "Fails in its constructor")
