// The focus plugin: FOCUS 1.0-1.2 CSV exports (optionally gzip) from any provider. This file holds
// only the plugin class and its entry point; the reading lives in focus_export.cpp, the mapping
// in focus_row_mapper.cpp.
#include "focus_export.hpp"

#include <billdrop/sdk.hpp>

namespace billdrop::focus {

class FocusPlugin final : public SourcePlugin {
public:
  static constexpr ConfigKey config_keys[] = {
      {"path", ConfigType::path, nullptr, true,
       "A FOCUS CSV file, or a folder searched recursively for *.csv and *.csv.gz files"},
      {"month_by", ConfigType::string, "\"charge_period\"", false,
       "Which rows a month's read takes: charge_period (ChargePeriodStart) or billing_period "
       "(BillingPeriodStart); rows are filed under the month of ChargePeriodStart either way"},
  };

  // Growing files (ABI 1.5): every file is read through open_file() or the Parquet reader, so a
  // remote path's objects are read as they download.
  static constexpr bool reads_growing_files = true;

  explicit FocusPlugin(const Config& config)
      : export_(FocusExport::from_config(config).value_or_throw()) {}

  Status check() override { return export_.check(); }
  Result<std::vector<Month>> months() override { return export_.months(); }
  Status read(Month month, RowSink& sink) override { return export_.read(month, sink); }
  bool one_pass() const { return export_.one_pass(); }
  Status read_all(RowSink& sink) { return export_.read_all(sink); }

private:
  FocusExport export_;
};

} // namespace billdrop::focus

BILLDROP_PLUGIN(billdrop::focus::FocusPlugin, "focus", "1.0.0",
                "FOCUS 1.0, 1.1 and 1.2 cost and usage exports (CSV, optionally gzip) from any "
                "provider")
