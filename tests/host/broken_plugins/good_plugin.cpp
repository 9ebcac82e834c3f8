// A small, correct plugin for the loader tests. It reads nothing: every row is derived from its
// configuration, so a test can compute the expected rows by hand.
//
//   row i (1-based) of month M: origin "good:<i>", time/usage_start M-01T<(i-1) % 24>:00:00Z,
//   cost/cost i * 1.25 (two decimals), resource/id "<prefix>-<i>", resource/account <account>,
//   and one resource/tag:<k> per tag when `tagged` is true.
#include <billdrop/sdk.hpp>

#include <cstdio>
#include <string>
#include <vector>

namespace {

using billdrop::ConfigKey;
using billdrop::ConfigType;

class GoodPlugin final : public billdrop::SourcePlugin {
public:
  static constexpr ConfigKey config_keys[] = {
      {"account", ConfigType::string, nullptr, true, "Account id written to every row"},
      {"rows", ConfigType::integer, "3", false, "Rows per month"},
      {"prefix", ConfigType::string, "\"res\"", false, "Prefix of resource ids"},
      {"tagged", ConfigType::boolean, "false", false, "Write the tags to every row"},
      {"months", ConfigType::string_list, R"(["2024-08","2024-06","2024-08"])", false,
       "Months the source holds, as the source lists them"},
      {"tags", ConfigType::string_map, R"({"team":"core"})", false, "Tags of every resource"},
      {"data", ConfigType::path, nullptr, false, "A data file (unused)"},
      {"token", ConfigType::string, nullptr, false, "API token (unused)", true},
  };

  explicit GoodPlugin(const billdrop::Config& config)
      : account_(config.get_string("account")), rows_(config.get_int("rows")),
        prefix_(config.get_string("prefix")), tagged_(config.get_bool("tagged")),
        months_(config.get_list("months")), tags_(config.get_map("tags")) {
    if (rows_ < 0)
      throw billdrop::PluginError("rows must not be negative", billdrop::ErrorKind::config);
  }

  billdrop::Status check() override { return {}; }

  billdrop::Result<std::vector<billdrop::Month>> months() override {
    std::vector<billdrop::Month> months;
    for (const std::string& text : months_)
      months.push_back(billdrop::Month::parse(text).value_or_throw());
    return months;
  }

  billdrop::Status read(billdrop::Month month, billdrop::RowSink& sink) override {
    sink.log(billdrop::LogLevel::info, "reading " + month.to_string());
    for (std::int64_t i = 1; i <= rows_; ++i) {
      char start[32];
      std::snprintf(start, sizeof start, "%s-01T%02d:00:00Z", month.to_string().c_str(),
                    static_cast<int>((i - 1) % 24));
      const std::int64_t cents = i * 125;
      char cost[32];
      std::snprintf(cost, sizeof cost, "%lld.%02lld", static_cast<long long>(cents / 100),
                    static_cast<long long>(cents % 100));
      sink.begin_row("good:" + std::to_string(i));
      sink.field("time/usage_start", start);
      sink.field("cost/cost", cost);
      sink.field("resource/id", prefix_ + "-" + std::to_string(i));
      sink.field("resource/account", account_);
      if (tagged_)
        for (const auto& [key, value] : tags_)
          sink.field("resource/tag:" + key, value);
      if (billdrop::Status status = sink.end_row(); !status)
        return status;
    }
    sink.reject("good:extra", "a record the plugin could not map");
    sink.progress(static_cast<std::uint64_t>(rows_), static_cast<std::uint64_t>(rows_));
    return {};
  }

private:
  std::string account_;
  std::int64_t rows_;
  std::string prefix_;
  bool tagged_;
  std::vector<std::string> months_;
  billdrop::StringMap tags_;
};

} // namespace

BILLDROP_PLUGIN(GoodPlugin, "good", "1.2.3", "Emits rows computed from its configuration")
