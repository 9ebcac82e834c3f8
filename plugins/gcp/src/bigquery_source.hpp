#pragma once
// Reads the billing export table straight from BigQuery over its REST API: jobs.query for the
// month, then getQueryResults page by page. Nested RECORD / REPEATED values are decoded against
// the response's schema into the same BillingRecord the file readers fill.

#include "row_mapper.hpp"

#include <billdrop/result.hpp>
#include <billdrop/source_plugin.hpp>
#include <billdrop/timestamp.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace billdrop::gcp {

struct BigQueryOptions {
  std::string project;
  std::string dataset;
  std::string table;
  std::string endpoint = "https://bigquery.googleapis.com"; // scheme://host[:port]
  std::string access_token_env = "GOOGLE_OAUTH_ACCESS_TOKEN";
  std::int64_t page_size = 10000;
  MonthBy month_by = MonthBy::usage;
};

class BigQuerySource {
public:
  explicit BigQuerySource(BigQueryOptions options) : options_(std::move(options)) {}

  Status check() const;
  Result<std::vector<Month>> months() const;
  Status read(Month month, RowSink& sink) const;

  // The SQL a read of `month` runs (for tests and the README).
  std::string month_query(Month month) const;

  // The SQL that lists the months.
  std::string months_query() const;

private:
  BigQueryOptions options_;
};

} // namespace billdrop::gcp
