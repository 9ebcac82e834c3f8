// Its constructor throws PluginError: create() must fail with the plugin's message and kind. By
// default a configuration error; with note = "source" a retryable source error (its credentials
// service is down), which the CLI must map to the source exit code.
#include "test_plugin.hpp"

namespace {

class InitThrowsPlugin final : public billdrop::test_plugins::IdlePlugin {
public:
  explicit InitThrowsPlugin(const billdrop::Config& config) : IdlePlugin(config) {
    if (config.get_string_or("note", "") == "source")
      throw billdrop::PluginError("token service unreachable: connection refused",
                                  billdrop::ErrorKind::source, true);
    throw billdrop::PluginError("missing credentials: set token", billdrop::ErrorKind::config);
  }
};

} // namespace

BILLDROP_PLUGIN(InitThrowsPlugin, "init_throws", "0.0.1", "Fails in its constructor")
