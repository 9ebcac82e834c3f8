// check() fails with a retryable source error, as a plugin behind a flaky API would.
#include "test_plugin.hpp"

namespace {

class CheckRetryablePlugin final : public billdrop::test_plugins::IdlePlugin {
public:
  using IdlePlugin::IdlePlugin;
  billdrop::Status check() override {
    return billdrop::source_error("api.example.test timed out after 30 s", true);
  }
};

} // namespace

BILLDROP_PLUGIN(CheckRetryablePlugin, "check_retryable", "0.0.1", "Its source is unreachable")
