#pragma once
// Test support for end-to-end tests of sending a month with a split hour through the real billdrop
// binary: a 40-row CSV whose middle hour (30 rows) is bigger than one 1,200-byte body, the config
// of a `custom` connection that sends it to an AnyCost base URL, and the month as the emulator
// holds it, read back through the API. Header-only; test binaries only.
//
// The rows and their totals (summed by hand, not by billdrop):
//   hour 00: 5 rows  a00-0..a00-4 at 1.00, 1.01, ..., 1.04   = 5.10
//   hour 01: 30 rows a01-0..a01-29 at 2.00, 2.01, ..., 2.29  = 30 * 2 + 4.35 = 64.35
//   hour 02: 5 rows  a02-0..a02-4 at 3.00, 3.01, ..., 3.04   = 15.10
//   month:   40 rows                                          = 84.55

#include "support/convert_run.hpp"

#include <billdrop/decimal.hpp>

#include <gtest/gtest.h>
#include <httplib.h>
#include <simdjson.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <tuple>
#include <vector>

namespace billdrop::test::split_hour {

constexpr const char* kMonth = "2026-08";
constexpr const char* kApiKey = "split-hour-key";
constexpr std::size_t kBodyLimit = 1200;
constexpr std::uint64_t kRows = 40;
constexpr const char* kCost = "84.55";
// Hour -> (rows, cost), as summed above.
inline const std::map<std::string, std::pair<std::uint64_t, std::string>> kHours{
    {"2026-08-01T00", {5, "5.10"}},
    {"2026-08-01T01", {30, "64.35"}},
    {"2026-08-01T02", {5, "15.10"}}};

struct Row {
  std::string usage_start;
  std::string line_id;
  std::string cost; // normalized decimal text, so 2.10 and 2.1 compare equal
  auto operator<=>(const Row&) const = default;
};

inline std::string normalized(std::string_view cost) {
  return Decimal::from_string(cost).normalized().to_string();
}

// The source rows, in the order of the CSV.
inline std::vector<Row> source_rows() {
  std::vector<Row> rows;
  const int per_hour[3] = {5, 30, 5};
  for (int hour = 0; hour < 3; ++hour)
    for (int i = 0; i < per_hour[hour]; ++i) {
      char start[32];
      char id[16];
      char cost[16];
      std::snprintf(start, sizeof start, "2026-08-01T%02d:%02d:00Z", hour, i);
      std::snprintf(id, sizeof id, "a%02d-%d", hour, i);
      std::snprintf(cost, sizeof cost, "%d.%02d", hour + 1, i);
      rows.push_back({start, id, cost});
    }
  return rows;
}

inline std::string source_csv() {
  std::string csv = "start,id,amount\n";
  for (const Row& row : source_rows())
    csv += row.usage_start + "," + row.line_id + "," + row.cost + "\n";
  return csv;
}

// A config whose connection `connection_id` reads source.csv (next to the config) and sends it to
// `base_url` with 1,200-byte bodies; quick retries so a test does not wait long for a busy answer.
inline std::string config(const std::string& connection_id, const std::string& base_url) {
  return "state_dir = \"state\"\n[limits]\nmax_body_bytes = " + std::to_string(kBodyLimit) +
         "\n[sending]\ninitial_backoff_ms = 50\nmax_backoff_ms = 200\ngive_up_seconds = 120\n"
         "[connections.split]\nplugin = \"custom\"\ndestination = \"anycost\"\n"
         "connection_id = " +
         toml_string(connection_id) +
         "\n[connections.split.anycost]\nbase_url = " + toml_string(base_url) +
         "\napi_key_file = \"key.txt\"\n[connections.split.config]\npath = \"source.csv\"\n"
         "[connections.split.config.columns]\n\"time/usage_start\" = \"{start}\"\n"
         "\"lineitem/id\" = \"{id}\"\n\"cost/cost\" = \"{amount}\"\n";
}

// Writes source.csv, key.txt and billdrop.toml into `dir`; returns the config's path.
inline std::filesystem::path write_connection(const std::filesystem::path& dir,
                                              const std::string& connection_id,
                                              const std::string& base_url) {
  write_text(dir / "source.csv", source_csv());
  write_text(dir / "key.txt", std::string(kApiKey) + "\n");
  write_text(dir / "billdrop.toml", config(connection_id, base_url));
  return dir / "billdrop.toml";
}

// The month's rows as the emulator at `port` serves them (GET .../billing_drops/2026-08), sorted.
inline std::vector<Row> landed_rows(std::uint16_t port, const std::string& connection_id) {
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(20, 0);
  const httplib::Result result =
      client.Get("/v2/connections/billing/anycost/" + connection_id + "/billing_drops/" + kMonth,
                 {{"Authorization", kApiKey}});
  std::vector<Row> rows;
  if (!result || result->status != 200) {
    ADD_FAILURE() << "reading the landed month failed: "
                  << (result ? result->body : httplib::to_string(result.error()));
    return rows;
  }
  simdjson::dom::parser parser;
  simdjson::dom::array array;
  if (parser.parse(result->body).at_pointer("/billing_drop").get(array)) {
    ADD_FAILURE() << "not a month's rows: " << result->body;
    return rows;
  }
  for (simdjson::dom::element element : array) {
    std::string_view start;
    std::string_view id;
    std::string_view cost;
    if (element["time/usage_start"].get(start) || element["lineitem/id"].get(id) ||
        element["cost/cost"].get(cost)) {
      ADD_FAILURE() << "a landed row lacks a column: " << simdjson::minify(element);
      continue;
    }
    rows.push_back({std::string(start), std::string(id), normalized(cost)});
  }
  std::sort(rows.begin(), rows.end());
  return rows;
}

inline std::vector<Row> expected_rows() {
  std::vector<Row> rows = source_rows();
  for (Row& row : rows)
    row.cost = normalized(row.cost);
  std::sort(rows.begin(), rows.end());
  return rows;
}

inline void PrintTo(const Row& row, std::ostream* out) {
  *out << row.usage_start << " " << row.line_id << " " << row.cost;
}

} // namespace billdrop::test::split_hour
