// Rows of chosen sizes in batches of chosen lengths, for the tests of how a plugin runner's rows
// reach the host (the shared-memory ring and the pipe, tests/host/source/row_transport_test.cpp).
// Every row is computed from its number, so a test can check each one by hand:
//
//   row i (1-based) of month M: origin "batches:<i>", time/usage_start M-01T<(i-1) % 24>:00:00Z,
//   cost/cost "<i>.<i % 100, two digits>", resource/id "r-<i>-" followed by `pad` bytes, each
//   'a' + (i + k) % 26 for k = 0, 1, ..., and resource/tag:late = "yes" from row `late_tag_row`
//   on (0: never), a column the host meets only in a later batch.
//
//   `flush_every` > 0 hands the rows over every that many rows (small batches); else the SDK's
//   batches of 1,024 rows.
#include <billdrop/sdk.hpp>

#include <cstdio>
#include <string>
#include <vector>

namespace {

using billdrop::ConfigKey;
using billdrop::ConfigType;

class BatchesPlugin final : public billdrop::SourcePlugin {
public:
  static constexpr ConfigKey config_keys[] = {
      {"rows", ConfigType::integer, "3000", false, "Rows per month"},
      {"pad", ConfigType::integer, "0", false, "Bytes added to every resource/id"},
      {"late_tag_row", ConfigType::integer, "0", false,
       "Rows from this one on (1-based) get resource/tag:late; 0: none"},
      {"flush_every", ConfigType::integer, "0", false, "Rows per batch; 0: the SDK's"},
  };

  explicit BatchesPlugin(const billdrop::Config& config)
      : rows_(config.get_int("rows")), pad_(config.get_int("pad")),
        late_tag_row_(config.get_int("late_tag_row")), flush_every_(config.get_int("flush_every")) {
    if (rows_ < 0 || pad_ < 0 || late_tag_row_ < 0 || flush_every_ < 0)
      throw billdrop::PluginError("rows, pad, late_tag_row and flush_every must not be negative",
                                  billdrop::ErrorKind::config);
  }

  billdrop::Status check() override { return {}; }

  billdrop::Result<std::vector<billdrop::Month>> months() override {
    return std::vector<billdrop::Month>{billdrop::Month(2024, 7), billdrop::Month(2024, 8)};
  }

  billdrop::Status read(billdrop::Month month, billdrop::RowSink& sink) override {
    std::string id;
    for (std::int64_t i = 1; i <= rows_; ++i) {
      char start[32];
      std::snprintf(start, sizeof start, "%s-01T%02d:00:00Z", month.to_string().c_str(),
                    static_cast<int>((i - 1) % 24));
      char cost[48];
      std::snprintf(cost, sizeof cost, "%lld.%02lld", static_cast<long long>(i),
                    static_cast<long long>(i % 100));
      id = "r-" + std::to_string(i) + "-";
      for (std::int64_t k = 0; k < pad_; ++k)
        id.push_back(static_cast<char>('a' + (i + k) % 26));
      sink.begin_row("batches:" + std::to_string(i));
      sink.field("time/usage_start", start);
      sink.field("cost/cost", cost);
      sink.field("resource/id", id);
      if (late_tag_row_ > 0 && i >= late_tag_row_)
        sink.field("resource/tag:late", "yes");
      if (billdrop::Status status = sink.end_row(); !status)
        return status;
      if (flush_every_ > 0 && i % flush_every_ == 0)
        if (billdrop::Status status = sink.flush(); !status)
          return status;
    }
    return {};
  }

private:
  std::int64_t rows_;
  std::int64_t pad_;
  std::int64_t late_tag_row_;
  std::int64_t flush_every_;
};

} // namespace

BILLDROP_PLUGIN(BatchesPlugin, "batches", "0.0.1",
                "Rows of chosen sizes in batches of chosen lengths, for the transport tests")
