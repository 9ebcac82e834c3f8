// A FOCUS export as Parquet reads as its CSV twin: the fixtures' CSV rows written to Parquet by the
// test writer (costs as DECIMAL(38,s) or DOUBLE columns, the rest as STRING, an empty cell as
// null), then read through the plugin. Month totals must equal the CSV form's to every digit (the
// CSV totals are the Python-checked ones of focus_plugin_test.cpp) and every other field must be
// the same.
#include <billdrop/sdk.hpp>
#include <billdrop/testing/harness.hpp>
#include <support/parquet_writer.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>
#include <vector>

extern "C" const bd_plugin_descriptor* billdrop_plugin_entry(void);

namespace {

namespace fs = std::filesystem;
using billdrop::CsvReader;
using billdrop::CsvRecord;
using billdrop::Decimal;
using billdrop::Month;
using billdrop::testing::CapturedRow;
using billdrop::testing::ParquetWriter;
using billdrop::testing::PluginHarness;
using billdrop::testing::PqCell;
using billdrop::testing::PqColumn;
using billdrop::testing::PqKind;

const fs::path fixtures = BILLDROP_FOCUS_FIXTURES;

std::string cost_total(const std::vector<CapturedRow>& rows) {
  Decimal total;
  for (const CapturedRow& row : rows)
    total += Decimal::from_string(row.get("cost/cost"));
  return total.normalized().to_string();
}

bool is_cost(const std::string& name) {
  return name.size() > 4 && name.compare(name.size() - 4, 4, "Cost") == 0;
}

// The fixture as Parquet: cost columns DECIMAL with the widest scale the column holds (or DOUBLE),
// the others STRING.
std::string to_parquet(const fs::path& csv_file, bool costs_as_double) {
  auto source = billdrop::open_file(csv_file);
  CsvReader csv(std::move(*source));
  CsvRecord record;
  EXPECT_TRUE(*csv.next(record));
  std::vector<std::string> names(record.begin(), record.end());
  std::vector<std::vector<std::string>> rows;
  while (*csv.next(record))
    rows.emplace_back(record.begin(), record.end());
  std::vector<PqColumn> columns;
  for (std::size_t c = 0; c < names.size(); ++c) {
    PqColumn column{names[c], PqKind::string};
    if (is_cost(names[c])) {
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

} // namespace

TEST(FocusParquetTest, ParquetExportTotalsEqualItsCsvTwinToEveryDigit) {
  const fs::path dir =
      fs::temp_directory_path() / ("billdrop_focus_parquet_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  for (bool costs_as_double : {false, true}) {
    SCOPED_TRACE(costs_as_double ? "DOUBLE costs" : "DECIMAL costs");
    const fs::path file = dir / "export" / "part-0.parquet";
    fs::create_directories(file.parent_path());
    const std::string bytes = to_parquet(fixtures / "v1_0_sep_oct.csv", costs_as_double);
    std::ofstream(file, std::ios::binary)
        .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    PluginHarness csv(billdrop_plugin_entry(),
                      {{"path", (fixtures / "v1_0_sep_oct.csv").string()}});
    PluginHarness parquet(billdrop_plugin_entry(), {{"path", dir.string()}});
    ASSERT_TRUE(csv.create().ok());
    ASSERT_TRUE(parquet.create().ok());
    auto check = parquet.check();
    ASSERT_TRUE(check.ok()) << check.error().message();
    auto months = parquet.months();
    ASSERT_TRUE(months.ok()) << months.error().message();
    EXPECT_EQ(*months, (std::vector<Month>{Month(2024, 9), Month(2024, 10)}));
    // focus_plugin_test.cpp: Python's csv and decimal give 11 rows, 117.87 and 3 rows, 11.501.
    const std::pair<Month, std::string> expected[] = {{Month(2024, 9), "117.87"},
                                                      {Month(2024, 10), "11.501"}};
    for (const auto& [month, total] : expected) {
      auto from_csv = csv.read(month);
      auto from_parquet = parquet.read(month);
      ASSERT_TRUE(from_csv.ok());
      ASSERT_TRUE(from_parquet.ok()) << from_parquet.error().message();
      EXPECT_TRUE(parquet.rejects().empty());
      EXPECT_EQ(cost_total(*from_csv), total);
      EXPECT_EQ(cost_total(*from_parquet), total);
      ASSERT_EQ(from_parquet->size(), from_csv->size());
      for (std::size_t i = 0; i < from_csv->size(); ++i) {
        const CapturedRow& a = (*from_csv)[i];
        const CapturedRow& b = (*from_parquet)[i];
        ASSERT_EQ(a.fields.size(), b.fields.size()) << "row " << i;
        for (std::size_t f = 0; f < a.fields.size(); ++f) {
          ASSERT_EQ(a.fields[f].first, b.fields[f].first);
          if (a.fields[f].first.rfind("cost/", 0) == 0) // DECIMAL pads to the column's scale
            EXPECT_EQ(Decimal::from_string(a.fields[f].second).normalized().to_string(),
                      Decimal::from_string(b.fields[f].second).normalized().to_string());
          else
            EXPECT_EQ(a.fields[f].second, b.fields[f].second) << a.fields[f].first;
        }
        // The same line numbers as the CSV: "export/part-0.parquet:2".
        EXPECT_EQ(b.origin.substr(b.origin.rfind(':')), a.origin.substr(a.origin.rfind(':')));
      }
    }
  }
  fs::remove_all(dir);
}
