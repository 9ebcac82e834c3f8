// The bundled example (plugins/custom/examples/acme-gpu) read with its own billdrop.toml: per
// month, the rows and the exact cost/cost total must equal what generate.py computed with
// Python's decimal module when it wrote the file.
#include <billdrop/sdk.hpp>
#include <billdrop/testing/harness.hpp>

#include <gtest/gtest.h>
#include <simdjson.h>
#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <map>
#include <string>

extern "C" const bd_plugin_descriptor* billdrop_plugin_entry(void);

namespace {

namespace fs = std::filesystem;
using billdrop::ConfigValues;
using billdrop::Decimal;
using billdrop::Month;
using billdrop::testing::PluginHarness;

const fs::path example_dir =
    fs::path(BILLDROP_TEST_SOURCE_DIR) / "plugins/custom/examples/acme-gpu";

// [connections.acme-gpu.config] as the host would hand it over, `path` made absolute.
ConfigValues example_config() {
  const toml::table file = toml::parse_file((example_dir / "billdrop.toml").string());
  const toml::table* config = file["connections"]["acme-gpu"]["config"].as_table();
  if (config == nullptr)
    throw std::runtime_error("billdrop.toml has no [connections.acme-gpu.config]");
  if (file["connections"]["acme-gpu"]["plugin"].value_or(std::string()) != "custom")
    throw std::runtime_error("the acme-gpu connection does not use the custom plugin");
  ConfigValues values;
  for (const auto& [key, node] : *config) {
    const std::string name(key.str());
    if (const auto* text = node.as_string()) {
      values.emplace(name, text->get());
    } else if (const auto* list = node.as_array()) {
      std::vector<std::string> items;
      for (const auto& item : *list)
        items.push_back(item.value_or(std::string()));
      values.emplace(name, items);
    } else if (const auto* table = node.as_table()) {
      billdrop::StringMap entries;
      for (const auto& [entry, value] : *table)
        entries.emplace_back(std::string(entry.str()), value.value_or(std::string()));
      values.emplace(name, entries);
    } else {
      throw std::runtime_error("unexpected TOML value for " + name);
    }
  }
  auto& path = std::get<std::string>(values.at("path"));
  path = (example_dir / path).string();
  return values;
}

struct MonthTotal {
  std::size_t rows = 0;
  Decimal cost;
};

std::map<std::string, MonthTotal> expected_totals() {
  simdjson::dom::parser parser;
  simdjson::dom::element root = parser.load((example_dir / "expected_totals.json").string());
  std::map<std::string, MonthTotal> totals;
  for (auto [month, entry] : root["months"].get_object()) {
    MonthTotal total;
    total.rows = static_cast<std::size_t>(int64_t(entry["rows"]));
    total.cost = Decimal::from_string(std::string_view(entry["cost"]));
    totals.emplace(std::string(month), total);
  }
  return totals;
}

TEST(AcmeExample, MonthlyRowsAndCostsMatchTheGeneratorsDecimalTotals) {
  const auto expected = expected_totals();
  ASSERT_EQ(expected.size(), 3u);
  PluginHarness harness(billdrop_plugin_entry(), example_config());
  ASSERT_TRUE(harness.create().ok());
  auto check = harness.check();
  ASSERT_TRUE(check.ok()) << check.error().message();
  auto months = harness.months();
  ASSERT_TRUE(months.ok()) << months.error().message();
  EXPECT_EQ(*months, (std::vector<Month>{Month(2026, 8), Month(2026, 9), Month(2026, 10)}));

  constexpr std::array<std::string_view, 9> types{
      "Usage",    "Tax",    "Support", "Purchase",  "CommittedUsePurchase",
      "Discount", "Credit", "Fee",     "Adjustment"};
  for (const Month& month : *months) {
    auto rows = harness.read(month);
    ASSERT_TRUE(rows.ok()) << rows.error().message();
    EXPECT_TRUE(harness.rejects().empty())
        << harness.rejects().front().origin << ": " << harness.rejects().front().reason;
    MonthTotal total;
    for (const auto& row : *rows) {
      total.cost += Decimal::from_string(row.get("cost/cost"));
      ++total.rows;
      // Every row is in the month read, with a CBF line-item type, and tags only with an id.
      auto start = billdrop::parse_timestamp(row.get("time/usage_start"));
      ASSERT_TRUE(start.ok()) << row.origin;
      EXPECT_TRUE(month.contains(*start)) << row.origin;
      EXPECT_NE(std::find(types.begin(), types.end(), row.get("lineitem/type")), types.end())
          << row.origin << ": " << row.get("lineitem/type");
      const bool tagged = std::any_of(row.fields.begin(), row.fields.end(), [](const auto& f) {
        return f.first.rfind("resource/tag:", 0) == 0;
      });
      if (tagged) {
        EXPECT_TRUE(row.has("resource/id")) << row.origin;
      }
    }
    const MonthTotal& want = expected.at(month.to_string());
    EXPECT_EQ(total.rows, want.rows) << month.to_string();
    EXPECT_EQ(total.cost, want.cost)
        << month.to_string() << ": " << total.cost.to_string() << " != " << want.cost.to_string();
  }
}

TEST(AcmeExample, TheCreditWithAQuotedMultiLineDescription) {
  PluginHarness harness(billdrop_plugin_entry(), example_config());
  ASSERT_TRUE(harness.create().ok());
  auto rows = harness.read(Month(2026, 9));
  ASSERT_TRUE(rows.ok()) << rows.error().message();
  auto credit = std::find_if(rows->begin(), rows->end(), [](const auto& row) {
    return row.get("resource/usage_family") == "credit.promo";
  });
  ASSERT_NE(credit, rows->end());
  EXPECT_EQ(credit->origin, "acme_usage.csv:4601");
  auto fields = credit->fields; // in the order of the config's columns table, which TOML sorts
  std::sort(fields.begin(), fields.end());
  EXPECT_EQ(fields,
            (std::vector<std::pair<std::string, std::string>>{
                {"bill/invoice_id", "INV-202609-100234"},
                {"cost/cost", "-250.00"},
                {"lineitem/description",
                 "Promotional credit, Startup Program \"Launchpad\"\nReference: PROMO-2026-0193"},
                {"lineitem/type", "Credit"},
                {"resource/account", "ACME-100234"},
                {"resource/service", "Credits"},
                {"resource/usage_family", "credit.promo"},
                {"time/usage_end", "2026-10-01T00:00:00Z"},
                {"time/usage_start", "2026-09-01T00:00:00Z"},
            }));
}

TEST(AcmeExample, AnHourOfGpuUsageWithTags) {
  PluginHarness harness(billdrop_plugin_entry(), example_config());
  ASSERT_TRUE(harness.create().ok());
  auto rows = harness.read(Month(2026, 8));
  ASSERT_TRUE(rows.ok()) << rows.error().message();
  // acme_usage.csv line 5: the first hour of the H100 behind the inference API.
  auto gpu = std::find_if(rows->begin(), rows->end(),
                          [](const auto& row) { return row.origin == "acme_usage.csv:5"; });
  ASSERT_NE(gpu, rows->end());
  EXPECT_EQ(gpu->get("time/usage_start"), "2026-08-01T00:00:00Z");
  EXPECT_EQ(gpu->get("time/usage_end"), "2026-08-01T01:00:00Z");
  EXPECT_EQ(gpu->get("cost/cost"), "2.49000000");
  EXPECT_EQ(gpu->get("cost/on_demand_cost"), "2.49000000");
  EXPECT_EQ(gpu->get("resource/id"), "instance/gi-4f8a21c0");
  EXPECT_EQ(gpu->get("resource/region"), "acme-us-east-1");
  EXPECT_EQ(gpu->get("lineitem/description"), "NVIDIA H100 80GB SXM, 1x GPU, on-demand");
  EXPECT_EQ(gpu->get("usage/amount"), "1");
  EXPECT_EQ(gpu->get("usage/units"), "GPU-Hours");
  EXPECT_EQ(gpu->get("resource/tag:project"), "inference-api");
  EXPECT_EQ(gpu->get("resource/tag:team"), "platform");
  EXPECT_EQ(gpu->get("resource/tag:env"), "prod");
  EXPECT_EQ(gpu->get("resource/tag:cost-center"), "CC-5100");
  EXPECT_EQ(gpu->get("resource/tag:owner"), "oncall-platform@nimbus.example");
}

} // namespace
