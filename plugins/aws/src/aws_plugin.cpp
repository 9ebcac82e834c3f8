// The aws plugin: AWS Cost and Usage Reports (legacy CUR and CUR 2.0, CSV or Parquet) to CBF. This
// file holds only the plugin class and its entry point; the reading lives in cur_report.cpp, the
// mapping in cur_row_mapper.cpp.
#include "cur_report.hpp"

#include <billdrop/sdk.hpp>

namespace billdrop::aws {

class AwsPlugin final : public SourcePlugin {
public:
  static constexpr ConfigKey config_keys[] = {
      {"path", ConfigType::path, nullptr, true,
       "The report prefix (legacy CUR: the folder holding <report>/<YYYYMMDD-YYYYMMDD>/, or "
       "<report>/year=YYYY/month=M/ in the Athena layout), the CUR 2.0 export folder (holding "
       "data/BILLING_PERIOD=YYYY-MM/), or one CUR file (.csv, .csv.gz, .csv.zip, .parquet)"},
      {"format", ConfigType::string, "\"auto\"", false,
       "auto (detect from the folders), legacy (manifests or the Athena layout), athena (only "
       "the Athena layout: year=YYYY/month=M/*.parquet with cost_and_usage_data_status) or cur2"},
      {"report_name", ConfigType::string, nullptr, false,
       "The report (legacy) or export (CUR 2.0) to read when the path holds several"},
      {"month_by", ConfigType::string, "\"usage\"", false,
       "usage: a line counts in the month of its usage start; billing_period: in its billing "
       "period (the period folder, or bill/BillingPeriodStartDate for a single file), a line "
       "dated outside it placed in the period's first or last hour"},
  };

  // Growing files (ABI 1.5): the data files are read through open_file(); a manifest or a zip
  // archive is read once whole (wait_until_whole), so a CUR on s3:// is read as it downloads.
  static constexpr bool reads_growing_files = true;

  explicit AwsPlugin(const Config& config) : report_(options_from(config)) {}

  Status check() override { return report_.check(); }
  Result<std::vector<Month>> months() override { return report_.months(); }
  Status read(Month month, RowSink& sink) override { return report_.read(month, sink); }
  // One pass (ABI 1.4): a single file is read once for every month it holds, instead of once to
  // list its months and again per month. A report tree keeps its months' folders (one_pass false).
  bool one_pass() const { return report_.one_file(); }
  Status read_all(RowSink& sink) { return report_.read_all(sink); }

private:
  static ReportOptions options_from(const Config& config) {
    ReportOptions options;
    options.path = config.get_string("path");
    options.format = parse_report_format(config.get_string_or("format", "auto")).value_or_throw();
    options.report_name = config.get_string_or("report_name", "");
    options.month_by = parse_month_by(config.get_string_or("month_by", "usage")).value_or_throw();
    return options;
  }

  CurReport report_;
};

} // namespace billdrop::aws

BILLDROP_PLUGIN(billdrop::aws::AwsPlugin, "aws", "1.0.0",
                "AWS Cost and Usage Reports (legacy CUR and CUR 2.0, CSV: .csv, .csv.gz, "
                ".csv.zip, or Parquet) to CBF")
