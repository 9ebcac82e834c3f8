// An Azure cost export as Parquet reads as its CSV twin: the fixtures' CSV rows written to Parquet
// by the test writer with costs as DECIMAL(38,s) or DOUBLE and the usage date as a TIMESTAMP (the
// rest STRING, an empty cell null), then read through the plugin. Every month's total equals the
// CSV form's to every digit and every other field is the same.
#include "test_support.hpp"

#include <billdrop/csv.hpp>
#include <billdrop/text.hpp>
#include <support/parquet_writer.hpp>

#include <gtest/gtest.h>

namespace billdrop::azure {
namespace {

using billdrop::testing::CapturedRow;
using billdrop::testing::ParquetWriter;
using billdrop::testing::PluginHarness;
using billdrop::testing::PqCell;
using billdrop::testing::PqColumn;
using billdrop::testing::PqKind;
using namespace azure::testing;

std::string to_parquet(const std::filesystem::path& csv_file, bool costs_as_double) {
  auto source = open_file(csv_file);
  CsvReader csv(std::move(*source));
  CsvRecord record;
  EXPECT_TRUE(*csv.next(record));
  std::vector<std::string> names(record.begin(), record.end());
  std::vector<std::vector<std::string>> rows;
  while (*csv.next(record))
    rows.emplace_back(record.begin(), record.end());
  std::vector<PqColumn> columns;
  for (std::size_t c = 0; c < names.size(); ++c) {
    // The first header cell may carry a byte-order mark: the name is what the reader sees.
    std::string name = names[c];
    const std::string lower = lower_ascii(name);
    PqColumn column{name, PqKind::string};
    if (lower == "date" || lower == "usagedatetime") {
      column.kind = PqKind::timestamp_us;
    } else if (lower == "cost" || lower == "pretaxcost" || lower == "costinbillingcurrency") {
      int scale = 0;
      for (const auto& row : rows)
        if (const auto dot = row[c].find('.'); dot != std::string::npos)
          scale = std::max(scale, static_cast<int>(row[c].size() - dot - 1));
      column.kind = costs_as_double ? PqKind::float64 : PqKind::decimal_flba;
      column.scale = scale;
    }
    columns.push_back(column);
  }
  ParquetWriter writer(columns);
  for (const auto& row : rows) {
    std::vector<PqCell> cells;
    for (const std::string& cell : row)
      cells.push_back(cell.empty() ? PqCell::null() : PqCell(cell));
    writer.add_row(cells);
  }
  return writer.finish();
}

TEST(AzureParquetExport, ReadsAsItsCsvTwinWithEqualMonthTotals) {
  const auto dir = temp_dir("parquet_export");
  for (const char* name : {"variant_payg.csv", "variant_mca_camel.csv", "ea_actual.csv"})
    for (bool costs_as_double : {false, true}) {
      SCOPED_TRACE(std::string(name) + (costs_as_double ? " DOUBLE" : " DECIMAL"));
      const auto file = dir / (std::string(name) + ".parquet");
      write_file(file, to_parquet(fixture(name), costs_as_double));
      PluginHarness csv(billdrop_plugin_entry(), {{"actual", fixture(name).string()}});
      PluginHarness parquet(billdrop_plugin_entry(), {{"actual", file.string()}});
      ASSERT_TRUE(csv.create().ok());
      ASSERT_TRUE(parquet.create().ok());
      auto check = parquet.check();
      ASSERT_TRUE(check.ok()) << check.error().message();
      auto months = csv.months();
      auto parquet_months = parquet.months();
      ASSERT_TRUE(months.ok());
      ASSERT_TRUE(parquet_months.ok()) << parquet_months.error().message();
      EXPECT_EQ(*parquet_months, *months);
      ASSERT_FALSE(months->empty());
      for (const Month month : *months) {
        auto a = csv.read(month);
        auto b = parquet.read(month);
        ASSERT_TRUE(a.ok());
        ASSERT_TRUE(b.ok()) << b.error().message();
        EXPECT_EQ(parquet.rejects().size(), csv.rejects().size());
        EXPECT_EQ(sum(*b, "cost/cost").normalized().to_string(),
                  sum(*a, "cost/cost").normalized().to_string());
        ASSERT_EQ(b->size(), a->size());
        for (std::size_t i = 0; i < a->size(); ++i) {
          const CapturedRow& x = (*a)[i];
          const CapturedRow& y = (*b)[i];
          ASSERT_EQ(x.fields.size(), y.fields.size()) << "row " << i;
          for (std::size_t f = 0; f < x.fields.size(); ++f) {
            ASSERT_EQ(x.fields[f].first, y.fields[f].first);
            if (x.fields[f].first.rfind("cost/", 0) == 0) // DECIMAL pads to the column's scale
              EXPECT_EQ(Decimal::from_string(x.fields[f].second).normalized().to_string(),
                        Decimal::from_string(y.fields[f].second).normalized().to_string());
            else
              EXPECT_EQ(x.fields[f].second, y.fields[f].second) << x.fields[f].first;
          }
        }
      }
    }
  std::filesystem::remove_all(dir);
}

// A monthly actual + amortized pair as Parquet (the fixtures' August rows, costs as DECIMAL and
// as DOUBLE) is joined as the same pair as CSV, month by month and in one pass. Totals by hand:
// billed 101.74, amortized 5.14, six rows (join_test.cpp).
TEST(AzureParquetExport, AMonthlyPairJoinsAsItsCsvTwin) {
  const auto dir = temp_dir("parquet_join");
  const auto august = [&](const char* name, int rows) {
    const auto path = dir / (std::string("august_") + name);
    write_file(path, fixture_head(name, 1 + rows));
    return path;
  };
  const auto actual_csv = august("ea_actual.csv", 5);
  const auto amortized_csv = august("ea_amortized.csv", 6);
  for (bool costs_as_double : {false, true}) {
    SCOPED_TRACE(costs_as_double ? "DOUBLE" : "DECIMAL");
    const auto actual = dir / "actual.parquet";
    const auto amortized = dir / "amortized.parquet";
    write_file(actual, to_parquet(actual_csv, costs_as_double));
    write_file(amortized, to_parquet(amortized_csv, costs_as_double));
    PluginHarness harness(billdrop_plugin_entry(),
                          {{"actual", actual.string()}, {"amortized", amortized.string()}});
    ASSERT_TRUE(harness.create().ok());
    auto months = harness.months();
    ASSERT_TRUE(months.ok()) << months.error().message();
    ASSERT_EQ(*months, std::vector<Month>{Month(2023, 8)});
    auto rows = harness.read(Month(2023, 8));
    ASSERT_TRUE(rows.ok()) << rows.error().message();
    EXPECT_TRUE(harness.rejects().empty());
    EXPECT_EQ(sum(*rows, "cost/cost"), Decimal::from_string("101.74"));
    EXPECT_EQ(sum(*rows, "cost/amortized_cost"), Decimal::from_string("5.14"));
    EXPECT_EQ(rows->size(), 6u);
    auto one_pass = harness.one_pass();
    ASSERT_TRUE(one_pass.ok());
    EXPECT_TRUE(*one_pass);
    auto compared = harness.compare_one_pass();
    ASSERT_TRUE(compared.ok()) << compared.error().message();
    EXPECT_TRUE(compared->equal()) << compared->first_difference;
  }
  std::filesystem::remove_all(dir);
}

} // namespace
} // namespace billdrop::azure
