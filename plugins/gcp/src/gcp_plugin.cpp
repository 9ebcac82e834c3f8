// The gcp plugin: Google Cloud billing export data (standard or detailed table), from extracted
// NDJSON / CSV files or straight from BigQuery. This file holds only the plugin class and its
// entry point; reading lives in export_source.cpp and bigquery_source.cpp, mapping in
// row_mapper.cpp.
#include "bigquery_source.hpp"
#include "export_source.hpp"

#include <billdrop/sdk.hpp>

#include <optional>

namespace billdrop::gcp {

class GcpPlugin final : public SourcePlugin {
public:
  static constexpr ConfigKey config_keys[] = {
      {"path", ConfigType::path, nullptr, false,
       "Export extract, or a folder of them (.csv, .json, .ndjson, .jsonl, optionally .gz); "
       "leave unset to read from BigQuery"},
      {"format", ConfigType::string, "\"auto\"", false,
       "auto (by extension, then by the first byte), ndjson or csv"},
      {"month_by", ConfigType::string, "\"usage\"", false,
       "usage: a row belongs to the month of usage_start_time; invoice: to its invoice.month "
       "(late rows are placed in the invoice month)"},
      {"bigquery_project", ConfigType::string, nullptr, false,
       "BigQuery project that holds the billing export dataset (and runs the query)"},
      {"bigquery_dataset", ConfigType::string, nullptr, false, "BigQuery dataset"},
      {"bigquery_table", ConfigType::string, nullptr, false,
       "Export table, e.g. gcp_billing_export_resource_v1_XXXXXX_XXXXXX_XXXXXX"},
      {"bigquery_endpoint", ConfigType::string, "\"https://bigquery.googleapis.com\"", false,
       "BigQuery REST endpoint (scheme://host[:port])"},
      {"access_token_env", ConfigType::string, "\"GOOGLE_OAUTH_ACCESS_TOKEN\"", false,
       "Environment variable holding the OAuth 2.0 access token"},
      {"bigquery_page_size", ConfigType::integer, "10000", false,
       "Rows per BigQuery result page (maxResults)"},
  };

  explicit GcpPlugin(const Config& config) {
    const MonthBy month_by =
        parse_month_by(config.get_string_or("month_by", "usage")).value_or_throw();
    const bool bigquery = config.has("bigquery_project") || config.has("bigquery_dataset") ||
                          config.has("bigquery_table");
    if (config.has("path") == bigquery)
      throw PluginError("set either path (export extracts) or bigquery_project, "
                        "bigquery_dataset and bigquery_table (BigQuery), not " +
                            std::string(bigquery ? "both" : "neither"),
                        ErrorKind::config);
    if (!bigquery) {
      ExportOptions options;
      options.path = config.get_string("path");
      options.format = parse_export_format(config.get_string_or("format", "auto")).value_or_throw();
      options.month_by = month_by;
      files_.emplace(std::move(options));
      return;
    }
    BigQueryOptions options;
    for (const char* key : {"bigquery_project", "bigquery_dataset", "bigquery_table"})
      if (!config.has(key) || config.get_string(key).empty())
        throw PluginError(std::string("config key ") + key +
                              " is required when reading from BigQuery",
                          ErrorKind::config);
    options.project = config.get_string("bigquery_project");
    options.dataset = config.get_string("bigquery_dataset");
    options.table = config.get_string("bigquery_table");
    options.endpoint = config.get_string_or("bigquery_endpoint", options.endpoint);
    options.access_token_env = config.get_string_or("access_token_env", options.access_token_env);
    if (config.has("bigquery_page_size"))
      options.page_size = config.get_int("bigquery_page_size");
    if (options.page_size <= 0)
      throw PluginError("bigquery_page_size must be positive", ErrorKind::config);
    options.month_by = month_by;
    bigquery_.emplace(std::move(options));
  }

  Status check() override { return files_ ? files_->check() : bigquery_->check(); }
  Result<std::vector<Month>> months() override {
    return files_ ? files_->months() : bigquery_->months();
  }
  Status read(Month month, RowSink& sink) override {
    return files_ ? files_->read(month, sink) : bigquery_->read(month, sink);
  }
  // An export extract learns its months only by reading it: a single file is read once. (A
  // folder keeps the listing, which reports a file that breaks off as each month's failure;
  // BigQuery lists months by a query.)
  bool one_pass() const { return files_.has_value() && files_->single_file(); }
  Status read_all(RowSink& sink) {
    if (!files_)
      return internal_error("read_all on a BigQuery source");
    return files_->read_all(sink);
  }

private:
  std::optional<ExportSource> files_;
  std::optional<BigQuerySource> bigquery_;
};

} // namespace billdrop::gcp

BILLDROP_PLUGIN(billdrop::gcp::GcpPlugin, "gcp", "1.0.0",
                "Google Cloud billing export (standard or detailed), from NDJSON/CSV extracts or "
                "BigQuery")
