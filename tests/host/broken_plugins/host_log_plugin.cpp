// A plugin that logs through its host context (ABI 1.4, SourcePlugin::log()) from its
// constructor, check() and months(), which have no sink; and through the sink in read().
#include <billdrop/sdk.hpp>

#include <string>
#include <vector>

namespace {

class HostLogPlugin final : public billdrop::SourcePlugin {
public:
  static constexpr billdrop::ConfigKey config_keys[] = {
      {"account", billdrop::ConfigType::string, "\"a-1\"", false, "Named in the log lines"}};

  explicit HostLogPlugin(const billdrop::Config& config) : account_(config.get_string("account")) {
    log(billdrop::LogLevel::debug, "created for " + account_);
  }
  billdrop::Status check() override {
    log(billdrop::LogLevel::info, "checking " + account_);
    return {};
  }
  billdrop::Result<std::vector<billdrop::Month>> months() override {
    log(billdrop::LogLevel::warn, "listing the months of " + account_ + " by hand");
    return std::vector<billdrop::Month>{billdrop::Month(2024, 8)};
  }
  billdrop::Status read(billdrop::Month month, billdrop::RowSink& sink) override {
    sink.log(billdrop::LogLevel::info, "reading " + month.to_string());
    return {};
  }

private:
  std::string account_;
};

} // namespace

BILLDROP_PLUGIN(HostLogPlugin, "host_log", "0.0.1", "Logs from check and months (ABI 1.4)")
