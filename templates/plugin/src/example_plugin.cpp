// The example plugin: turns a fee schedule (date,service,amount) into CBF rows. This file holds
// only the plugin class and its entry point; the reading lives in fee_schedule.cpp.
#include "fee_schedule.hpp"

#include <billdrop/sdk.hpp>

#include <set>

namespace example {

class ExamplePlugin final : public billdrop::SourcePlugin {
public:
  static constexpr billdrop::ConfigKey config_keys[] = {
      {"path", billdrop::ConfigType::path, nullptr, true, "CSV fee schedule: date,service,amount"},
      {"account", billdrop::ConfigType::string, "\"example-account\"", false,
       "value for resource/account"},
  };

  explicit ExamplePlugin(const billdrop::Config& config)
      : path_(config.get_string("path")), account_(config.get_string("account")) {}

  billdrop::Status check() override {
    std::vector<Reject> rejects;
    auto fees = read_fee_schedule(path_, rejects);
    if (!fees)
      return fees.error();
    return {};
  }

  billdrop::Result<std::vector<billdrop::Month>> months() override {
    std::vector<Reject> rejects;
    auto fees = read_fee_schedule(path_, rejects);
    if (!fees)
      return fees.error();
    std::set<billdrop::Month> months;
    for (const Fee& fee : *fees)
      months.insert(billdrop::Month::of(fee.start));
    return std::vector<billdrop::Month>(months.begin(), months.end());
  }

  billdrop::Status read(billdrop::Month month, billdrop::RowSink& sink) override {
    std::vector<Reject> rejects;
    auto fees = read_fee_schedule(path_, rejects);
    if (!fees)
      return fees.error();
    for (const Reject& reject : rejects)
      sink.reject(reject.origin, reject.reason);
    for (const Fee& fee : *fees) {
      if (!month.contains(fee.start))
        continue;
      sink.begin_row(fee.origin);
      sink.field("time/usage_start", billdrop::format_iso(fee.start));
      sink.field("cost/cost", fee.amount);
      sink.field("lineitem/type", "Fee");
      sink.field("resource/service", fee.service);
      sink.field("resource/account", account_);
      if (auto status = sink.end_row(); !status)
        return status;
    }
    return {};
  }

private:
  std::string path_;
  std::string account_;
};

} // namespace example

BILLDROP_PLUGIN(example::ExamplePlugin, "example", "0.1.0",
                "Fee schedules (date,service,amount) as CBF")
