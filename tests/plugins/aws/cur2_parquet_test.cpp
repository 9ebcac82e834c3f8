// A CUR 2.0 export delivered as Parquet reads exactly as the same data delivered as CSV: the same
// rows with the same fields, and month totals equal to every digit. Costs are DOUBLE columns in
// the Parquet form, written as the shortest text that reads back to the same double in the CSV
// form, as AWS writes them; maps are map<string,string> / map<string,double> columns in Parquet
// and JSON cells in CSV. The expected totals are summed by the test from the generated cost texts.
#include <billdrop/sdk.hpp>
#include <billdrop/testing/harness.hpp>
#include <support/csv_text.hpp>
#include <support/parquet_writer.hpp>

#include <gtest/gtest.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <unistd.h>
#include <vector>

extern "C" const bd_plugin_descriptor* billdrop_plugin_entry(void);

namespace {

namespace fs = std::filesystem;
using billdrop::ConfigValues;
using billdrop::Decimal;
using billdrop::Month;
using billdrop::testing::CapturedRow;
using billdrop::testing::ParquetWriter;
using billdrop::testing::PluginHarness;
using billdrop::testing::PqCell;
using billdrop::testing::PqColumn;
using billdrop::testing::PqKind;
using billdrop::testing::PqOptions;

struct Line {
  std::string id, start, end, type, product, usage_type, resource, account;
  std::string usage, cost; // DOUBLE texts
  std::vector<std::pair<std::string, std::string>> tags, categories;
  std::vector<std::pair<std::string, std::string>> discount; // DOUBLE values
  Month month;
};

std::string shortest(double v) {
  char buf[32];
  return std::string(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}

std::vector<Line> generate(std::size_t n) {
  std::mt19937_64 rng(2024);
  const char* products[] = {"AmazonEC2", "AmazonS3", "AWSLambda", "AmazonRDS"};
  const char* types[] = {"Usage", "Usage", "Usage", "Tax", "Credit"};
  const char* teams[] = {"web", "data", "ml"};
  std::vector<Line> lines;
  for (std::size_t i = 0; i < n; ++i) {
    Line l;
    const int month = 7 + static_cast<int>(i % 2);
    const int day = 1 + static_cast<int>(rng() % 28);
    const int hour = static_cast<int>(rng() % 24);
    char buf[64];
    std::snprintf(buf, sizeof buf, "2024-%02d-%02dT%02d:00:00Z", month, day, hour);
    l.start = buf;
    std::snprintf(buf, sizeof buf, "2024-%02d-%02dT%02d:59:59Z", month, day, hour);
    l.end = buf;
    l.month = Month(2024, month);
    l.id = "li-" + std::to_string(i);
    l.type = types[rng() % 5];
    l.product = products[rng() % 4];
    l.usage_type = "USE1-BoxUsage";
    l.resource = rng() % 3 == 0 ? "" : "i-" + std::to_string(rng() % 50);
    l.account = "11112222333" + std::to_string(rng() % 3);
    // Costs as a double holds them: float noise and exponents included.
    double cost = static_cast<double>(rng() % 10000000) / 1e6;
    if (i % 17 == 0)
      cost = 0.1 + 0.2; // 0.30000000000000004
    if (i % 23 == 0)
      cost = 1e-07 * static_cast<double>(1 + rng() % 9);
    if (l.type == "Credit")
      cost = -cost;
    l.cost = shortest(cost);
    l.usage = shortest(static_cast<double>(rng() % 100000) / 1e3);
    if (rng() % 3 != 0)
      l.tags = {{"user:team", teams[rng() % 3]}, {"user:note", "a \"quoted\" value, with comma"}};
    l.categories = {{"cost_center", std::to_string(rng() % 5)}};
    if (rng() % 5 == 0)
      l.discount = {{"bundled_discount", shortest(-cost / 8)}};
    lines.push_back(std::move(l));
  }
  return lines;
}

const std::vector<std::string> header = {"identity_line_item_id",
                                         "line_item_usage_start_date",
                                         "line_item_usage_end_date",
                                         "line_item_line_item_type",
                                         "line_item_product_code",
                                         "line_item_usage_type",
                                         "line_item_resource_id",
                                         "line_item_usage_account_id",
                                         "line_item_usage_amount",
                                         "line_item_unblended_cost",
                                         "resource_tags",
                                         "cost_category",
                                         "discount"};

std::string json_map(const std::vector<std::pair<std::string, std::string>>& entries) {
  std::string out = "{";
  for (const auto& [k, v] : entries) {
    if (out.size() > 1)
      out += ',';
    out += '"' + k + "\":\"";
    for (char c : v) {
      if (c == '"' || c == '\\')
        out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

class Cur2ParquetTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("billdrop-cur2-parquet-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static void write_file(const fs::path& file, const std::string& bytes) {
    fs::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary)
        .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }

  // Each month in two files, as AWS splits a large month.
  void write_csv(const std::vector<Line>& lines) {
    for (int month : {7, 8})
      for (int part : {0, 1}) {
        std::string text = billdrop::test::csv_line(header);
        for (std::size_t i = 0; i < lines.size(); ++i) {
          const Line& l = lines[i];
          if (l.month != Month(2024, month) || static_cast<int>(i / 2 % 2) != part)
            continue;
          text += billdrop::test::csv_line(
              {l.id, l.start, l.end, l.type, l.product, l.usage_type, l.resource, l.account,
               l.usage, l.cost, l.tags.empty() ? "" : json_map(l.tags), json_map(l.categories),
               l.discount.empty() ? "" : json_map(l.discount)});
        }
        write_file(dir_ / "csv" / "data" / ("BILLING_PERIOD=2024-0" + std::to_string(month)) /
                       ("part-" + std::to_string(part) + ".csv"),
                   text);
      }
  }

  void write_parquet(const std::vector<Line>& lines, PqOptions options) {
    const std::vector<PqColumn> columns = {
        {"identity_line_item_id", PqKind::string},
        {"line_item_usage_start_date", PqKind::timestamp_us},
        {"line_item_usage_end_date", PqKind::timestamp_us},
        {"line_item_line_item_type", PqKind::string},
        {"line_item_product_code", PqKind::string},
        {"line_item_usage_type", PqKind::string},
        {"line_item_resource_id", PqKind::string},
        {"line_item_usage_account_id", PqKind::string},
        {"line_item_usage_amount", PqKind::float64},
        {"line_item_unblended_cost", PqKind::float64},
        {"resource_tags", PqKind::map_string_string, true, 0, "key_value"},
        {"cost_category", PqKind::map_string_string, true, 0, "entries"},
        {"discount", PqKind::map_string_double, true, 0, "map"},
    };
    auto map = [](const std::vector<std::pair<std::string, std::string>>& entries) {
      PqCell cell;
      for (const auto& [k, v] : entries)
        cell.entries.emplace_back(k, v);
      return cell;
    };
    for (int month : {7, 8})
      for (int part : {0, 1}) {
        ParquetWriter writer(columns, options);
        for (std::size_t i = 0; i < lines.size(); ++i) {
          const Line& l = lines[i];
          if (l.month != Month(2024, month) || static_cast<int>(i / 2 % 2) != part)
            continue;
          writer.add_row({l.id, l.start, l.end, l.type, l.product, l.usage_type, l.resource,
                          l.account, l.usage, l.cost, map(l.tags), map(l.categories),
                          map(l.discount)});
        }
        write_file(dir_ / "pq" / "data" / ("BILLING_PERIOD=2024-0" + std::to_string(month)) /
                       ("part-" + std::to_string(part) + ".snappy.parquet"),
                   writer.finish());
      }
  }

  std::vector<CapturedRow> read(const std::string& form, Month month) {
    PluginHarness harness(billdrop_plugin_entry(), ConfigValues{{"path", (dir_ / form).string()}});
    EXPECT_TRUE(harness.create().ok());
    auto check = harness.check();
    EXPECT_TRUE(check.ok()) << form << ": " << check.error().message();
    auto months = harness.months();
    EXPECT_TRUE(months.ok());
    if (months.ok()) {
      EXPECT_EQ(*months, (std::vector<Month>{Month(2024, 7), Month(2024, 8)})) << form;
    }
    auto rows = harness.read(month);
    EXPECT_TRUE(rows.ok()) << form << ": " << rows.error().message();
    EXPECT_TRUE(harness.rejects().empty()) << form;
    return rows.ok() ? *rows : std::vector<CapturedRow>{};
  }

  fs::path dir_;
};

Decimal sum(const std::vector<CapturedRow>& rows) {
  Decimal total;
  for (const auto& row : rows)
    total += Decimal::from_string(row.get("cost/cost"));
  return total;
}

} // namespace

TEST_F(Cur2ParquetTest, ParquetExportReadsExactlyAsItsCsvTwin) {
  const std::vector<Line> lines = generate(400);
  write_csv(lines);
  int layouts = 0;
  for (int codec : {0, 1, 6})
    for (bool dictionary : {true, false}) {
      PqOptions options;
      options.codec = codec;
      options.dictionary = dictionary;
      options.rows_per_page = 37;
      options.rows_per_group = 60;
      fs::remove_all(dir_ / "pq");
      write_parquet(lines, options);
      for (int m : {7, 8}) {
        SCOPED_TRACE("codec " + std::to_string(codec) + (dictionary ? " dict" : " plain") +
                     " month " + std::to_string(m));
        // The month's total, summed here from the generated cost texts.
        Decimal expected;
        std::size_t count = 0;
        for (const Line& l : lines)
          if (l.month == Month(2024, m)) {
            expected += Decimal::from_string(l.cost);
            ++count;
          }
        const auto csv = read("csv", Month(2024, m));
        const auto parquet = read("pq", Month(2024, m));
        ASSERT_EQ(csv.size(), count);
        ASSERT_EQ(parquet.size(), count);
        EXPECT_EQ(sum(csv).to_string(), expected.to_string());
        EXPECT_EQ(sum(parquet).to_string(), expected.to_string());
        for (std::size_t i = 0; i < count; ++i)
          ASSERT_EQ(parquet[i].fields, csv[i].fields) << "row " << i;
        // Origins name the line the CSV twin has: "part-0.snappy.parquet:2" for the first row.
        EXPECT_NE(parquet[0].origin.find("part-0.snappy.parquet:2"), std::string::npos)
            << parquet[0].origin;
      }
      ++layouts;
    }
  EXPECT_EQ(layouts, 6);
}

TEST_F(Cur2ParquetTest, ACorruptParquetFileFailsTheMonthNamingTheFile) {
  const std::vector<Line> lines = generate(40);
  write_parquet(lines, {});
  const fs::path file = dir_ / "pq" / "data" / "BILLING_PERIOD=2024-07" / "part-1.snappy.parquet";
  std::string bytes;
  {
    std::ifstream in(file, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  bytes.resize(bytes.size() / 2); // cut: no footer
  write_file(file, bytes);
  PluginHarness harness(billdrop_plugin_entry(), ConfigValues{{"path", (dir_ / "pq").string()}});
  ASSERT_TRUE(harness.create().ok());
  auto check = harness.check();
  ASSERT_FALSE(check.ok());
  EXPECT_NE(check.error().message().find(file.string() + ": not a Parquet file"), std::string::npos)
      << check.error().message();
  auto rows = harness.read(Month(2024, 7));
  ASSERT_FALSE(rows.ok());
  EXPECT_NE(rows.error().message().find("part-1.snappy.parquet"), std::string::npos);
}
