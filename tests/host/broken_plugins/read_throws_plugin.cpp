// Sends five rows, then throws a non-billdrop exception from read().
#include "test_plugin.hpp"

#include <stdexcept>
#include <string>

namespace {

class ReadThrowsPlugin final : public billdrop::test_plugins::IdlePlugin {
public:
  using IdlePlugin::IdlePlugin;
  billdrop::Status read(billdrop::Month month, billdrop::RowSink& sink) override {
    for (int i = 1; i <= 5; ++i) {
      sink.begin_row("read_throws:" + std::to_string(i));
      sink.field("time/usage_start", month.to_string() + "-01T00:00:00Z");
      sink.field("cost/cost", std::to_string(i));
      if (billdrop::Status status = sink.end_row(); !status)
        return status;
    }
    if (billdrop::Status status = sink.flush(); !status)
      return status;
    throw std::runtime_error("disk on fire after row 5");
  }
};

} // namespace

BILLDROP_PLUGIN(ReadThrowsPlugin, "read_throws", "0.0.1", "Throws from read() after five rows")
