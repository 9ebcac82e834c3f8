// The azure plugin: Azure Cost Management exports (actual cost, amortized cost, or both) as CBF.
// This file holds only the plugin class and its entry point; the reading lives in
// cost_export_reader.cpp and the files it uses.
#include "cost_export_reader.hpp"

#include <billdrop/sdk.hpp>

namespace billdrop::azure {

class AzurePlugin final : public SourcePlugin {
public:
  static constexpr ConfigKey config_keys[] = {
      {"actual", ConfigType::path, nullptr, false,
       "Actual-cost export: a CSV file (optionally gzip), a manifest.json, or an export folder; "
       "required unless amortized is set"},
      {"amortized", ConfigType::path, nullptr, false,
       "Amortized-cost export (same forms). Alone: rows carry the amortized figures. With "
       "actual: cost/cost from actual, cost/amortized_cost from amortized"},
      {"cost_column", ConfigType::string, nullptr, false,
       "Read cost from this column instead of CostInBillingCurrency/Cost/PreTaxCost (e.g. "
       "CostInUsd); matched ignoring case"},
      {"join_one_pass_mb", ConfigType::integer, "1024", false,
       "Join actual and amortized in one pass (no scan for the months first) when both are single "
       "files and the amortized one is at most this many MB as CSV (a .gz or Parquet file counts "
       "8x its size); the join's index then holds every month at once, about 90 bytes a row. 0: "
       "never"},
  };

  explicit AzurePlugin(const Config& config)
      : reader_(CostExportReader::from_config(config).value_or_throw()) {}

  Status check() override { return reader_.check(); }
  Result<std::vector<Month>> months() override { return reader_.months(); }
  Status read(Month month, RowSink& sink) override { return reader_.read(month, sink); }
  bool one_pass() const { return reader_.one_pass(); }
  Status read_all(RowSink& sink) { return reader_.read_all(sink); }

private:
  CostExportReader reader_;
};

} // namespace billdrop::azure

BILLDROP_PLUGIN(billdrop::azure::AzurePlugin, "azure", "1.0.0",
                "Azure Cost Management exports (EA, MCA, pay-as-you-go; actual and amortized "
                "cost; CSV or gzip CSV, with or without manifest) as CBF")
