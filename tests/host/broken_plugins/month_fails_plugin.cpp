// Holds three months; reading the middle one fails after two rows, as a plugin does when one
// month's file is truncated. The host must keep the other two months and drop the partial one.
#include "test_plugin.hpp"

#include <string>

namespace {

class MonthFailsPlugin final : public billdrop::test_plugins::IdlePlugin {
public:
  using IdlePlugin::IdlePlugin;
  billdrop::Result<std::vector<billdrop::Month>> months() override {
    return std::vector<billdrop::Month>{billdrop::Month(2024, 7), billdrop::Month(2024, 8),
                                        billdrop::Month(2024, 9)};
  }
  billdrop::Status read(billdrop::Month month, billdrop::RowSink& sink) override {
    const std::string file = "usage-" + month.to_string() + ".csv.gz";
    const char* costs[] = {"1.10", "2.20", "3.30"};
    for (int i = 0; i < 3; ++i) {
      if (month == billdrop::Month(2024, 8) && i == 2)
        return billdrop::Error(billdrop::ErrorKind::data,
                               file + ":4: truncated gzip stream (unexpected end of file)");
      sink.begin_row(file + ":" + std::to_string(i + 2));
      sink.field("time/usage_start",
                 month.to_string() + "-0" + std::to_string(i + 1) + "T10:00:00Z");
      sink.field("cost/cost", costs[i]);
      if (billdrop::Status status = sink.end_row(); !status)
        return status;
    }
    sink.note("rows from " + month.to_string(), 3);
    return {};
  }
};

} // namespace

BILLDROP_PLUGIN(MonthFailsPlugin, "month_fails", "0.0.1", "Fails reading 2024-08 after two rows")
