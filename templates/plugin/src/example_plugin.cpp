// The example plugin: turns a fee schedule (date,service,amount) into CBF rows. This file holds
// only the plugin class and its entry point; the reading lives in fee_schedule.cpp.
#include "fee_schedule.hpp"

#include <billdrop/sdk.hpp>

#include <set>

namespace example {

class ExamplePlugin final : public billdrop::SourcePlugin {
public:
  // The configuration as data: the host checks a user's values against it (unknown keys, types,
  // required keys) and fills in the defaults, so the constructor reads every key as given.
  static constexpr billdrop::ConfigKey config_keys[] = {
      {.key = "path",
       .type = billdrop::ConfigType::path,
       .required = true,
       .description = "CSV fee schedule: date,service,amount"},
      {.key = "account",
       .type = billdrop::ConfigType::string,
       .description = "value for resource/account",
       .default_value = "example-account"},
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
      sink.reject(reject.origin, reject.column, reject.rule, reject.reason);
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
