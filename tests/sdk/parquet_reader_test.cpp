// The Parquet reader against files the test writer (tests/support/parquet_writer.hpp) makes: every
// column kind a billing export uses, under every codec, page version, encoding and split into
// pages and row groups, with the texts expected written out by hand.

#include "parquet_rows.hpp"

#include <billdrop/parquet.hpp>
#include <support/parquet_writer.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace billdrop;
using namespace billdrop::testing;

namespace {

std::vector<PqColumn> billing_columns() {
  return {
      {"line_item_id", PqKind::string, false},
      {"usage_amount", PqKind::float64},
      {"unblended_cost", PqKind::decimal64, true, 4},
      {"net_cost", PqKind::decimal_flba, true, 10},
      {"usage_date", PqKind::date},
      {"usage_start", PqKind::timestamp_us},
      {"count", PqKind::int64},
      {"credit", PqKind::boolean},
      {"resource_tags", PqKind::map_string_string, true, 0, "entries"},
      {"discount", PqKind::map_string_double, true, 0, "key_value"},
  };
}

std::vector<std::vector<PqCell>> billing_rows() {
  auto map = [](std::vector<std::pair<std::string, std::optional<std::string>>> entries) {
    PqCell cell;
    cell.entries = std::move(entries);
    return cell;
  };
  PqCell null_map;
  null_map.map_null = true;
  return {
      {"a1", "0.1", "1.5", "-0.0000000001", "2024-02-29", "2024-02-29T23:00:00Z", "7", "true",
       map({{"user:team", "blue"}, {"user:env", std::nullopt}}), map({{"SppDiscount", "-0.25"}})},
      {"a2", "1e-07", "-12.3456", "12345678901234567890.0123456789", "1970-01-01",
       "1999-12-31 23:59:59", "-9223372036854775808", "false", map({}), null_map},
      {"a3", PqCell::null(), PqCell::null(), PqCell::null(), PqCell::null(), PqCell::null(),
       PqCell::null(), PqCell::null(), null_map, map({})},
      {"a4", "3.3000000000000003", "0", "0", "2100-03-01", "2024-08-16T05:00:00+02:00", "0", "true",
       map({{"k", ""}}), map({{"EdpDiscount", "-1.5"}, {"SppDiscount", "0"}})},
      {"a5", "123456789.125", "99999999999999.9999", "-1", "2024-01-31", "2024-01-31T00:00:00Z",
       "42", "false", map({{"user:team", "blue"}}), map({{"x", std::nullopt}})},
  };
}

// What the reader must give for billing_rows(), by hand from the rules in parquet.hpp.
const std::vector<std::vector<std::string>> expected_billing = {
    {"a1", "0.1", "1.5000", "-0.0000000001", "2024-02-29", "2024-02-29T23:00:00Z", "7", "true",
     "{user:team=blue;user:env=<null>;}", "{SppDiscount=-0.25;}"},
    {"a2", "1e-07", "-12.3456", "12345678901234567890.0123456789", "1970-01-01",
     "1999-12-31T23:59:59Z", "-9223372036854775808", "false", "{}", "<null>"},
    {"a3", "<null>", "<null>", "<null>", "<null>", "<null>", "<null>", "<null>", "<null>", "{}"},
    {"a4", "3.3000000000000003", "0.0000", "0.0000000000", "2100-03-01", "2024-08-16T03:00:00Z",
     "0", "true", "{k=;}", "{EdpDiscount=-1.5;SppDiscount=0;}"},
    {"a5", "123456789.125", "99999999999999.9999", "-1.0000000000", "2024-01-31",
     "2024-01-31T00:00:00Z", "42", "false", "{user:team=blue;}", "{x=<null>;}"},
};

std::string write(const std::vector<PqColumn>& columns,
                  const std::vector<std::vector<PqCell>>& rows, PqOptions options) {
  ParquetWriter writer(columns, options);
  for (const auto& row : rows)
    writer.add_row(row);
  return writer.finish();
}

} // namespace

TEST(ParquetReaderTest, EveryBillingColumnKindUnderEveryCodecPageVersionAndLayout) {
  int files = 0;
  for (int codec : {0, 1, 2, 6})
    for (bool v2 : {false, true})
      for (bool dictionary : {false, true})
        for (std::size_t rows_per_page : {std::size_t{1}, std::size_t{2}, std::size_t{1000}})
          for (std::size_t rows_per_group : {std::size_t{2}, std::size_t{1000}}) {
            PqOptions options;
            options.codec = codec;
            options.page_v2 = v2;
            options.dictionary = dictionary;
            options.rows_per_page = rows_per_page;
            options.rows_per_group = rows_per_group;
            const std::string label = "codec " + std::to_string(codec) + (v2 ? " v2" : " v1") +
                                      (dictionary ? " dict" : " plain") + " page " +
                                      std::to_string(rows_per_page) + " group " +
                                      std::to_string(rows_per_group);
            auto table = read_parquet_table(
                memory_random_access(write(billing_columns(), billing_rows(), options), label));
            ASSERT_EQ(table.error, "") << label;
            EXPECT_EQ(table.rows, expected_billing) << label;
            ++files;
          }
  EXPECT_EQ(files, 96);
}

TEST(ParquetReaderTest, DescribesColumnsWithTheirShapesAndTypes) {
  auto reader = ParquetReader::open(
      memory_random_access(write(billing_columns(), billing_rows(), {}), "cur.parquet"));
  ASSERT_TRUE(reader.ok()) << reader.error().message();
  const auto& columns = (*reader)->columns();
  ASSERT_EQ(columns.size(), 10u);
  EXPECT_EQ(columns[0].type, "BYTE_ARRAY STRING");
  EXPECT_EQ(columns[2].type, "INT64 DECIMAL(18,4)");
  EXPECT_EQ(columns[3].type, "FIXED_LEN_BYTE_ARRAY(16) DECIMAL(38,10)");
  EXPECT_EQ(columns[5].type, "INT64 TIMESTAMP(MICROS,UTC)");
  EXPECT_EQ(columns[8].shape, ParquetShape::map);
  EXPECT_EQ(columns[8].type, "map<BYTE_ARRAY STRING,BYTE_ARRAY STRING>");
  EXPECT_EQ(columns[9].type, "map<BYTE_ARRAY STRING,DOUBLE>");
  EXPECT_EQ((*reader)->find("discount"), 9u);
  EXPECT_EQ((*reader)->find_ci("RESOURCE_TAGS"), 8u);
  EXPECT_EQ((*reader)->find("missing"), ParquetReader::npos);
  EXPECT_EQ((*reader)->num_rows(), 5u);
  EXPECT_EQ((*reader)->created_by(), "billdrop test writer");
}

TEST(ParquetReaderTest, DictionaryFallsBackToPlainMidChunk) {
  std::vector<std::vector<PqCell>> rows;
  std::vector<std::vector<std::string>> expected;
  for (int i = 0; i < 40; ++i) {
    const std::string product = "product-" + std::to_string(i % 13);
    const std::string cost = std::to_string(i) + ".25";
    rows.push_back({product, cost});
    expected.push_back({product, cost});
  }
  PqOptions options;
  options.dictionary_limit = 5; // 5 products fit; the page that meets the 6th is PLAIN, and on
  options.rows_per_page = 4;
  auto table = read_parquet_table(memory_random_access(
      write({{"product", PqKind::string}, {"cost", PqKind::decimal64, true, 2}}, rows, options),
      "fallback.parquet"));
  ASSERT_EQ(table.error, "");
  EXPECT_EQ(table.rows, expected);
}

TEST(ParquetReaderTest, ProjectionReadsOnlyTheColumnsAskedFor) {
  // The second column's only value is a marker; its length prefix is then broken, so reading that
  // column fails while a projection without it never touches its bytes.
  PqOptions options;
  options.codec = 0;
  options.dictionary = false;
  std::string file =
      write({{"cost", PqKind::decimal64, true, 2}, {"blob", PqKind::string}},
            {{"1.25", "MARKER-MARKER-MARKER"}, {"2.50", "MARKER-MARKER-MARKER"}}, options);
  const std::size_t at = file.find("MARKER-MARKER-MARKER");
  ASSERT_NE(at, std::string::npos);
  file[at - 1] = '\x7f'; // the 4-byte length's high byte: 2 GB

  auto whole = read_parquet_table(memory_random_access(file, "projection.parquet"));
  EXPECT_NE(whole.error.find("projection.parquet: row group 1, column 'blob', page 1"),
            std::string::npos)
      << whole.error;

  auto reader = ParquetReader::open(memory_random_access(file, "projection.parquet"));
  ASSERT_TRUE(reader.ok());
  ASSERT_TRUE((*reader)->project({(*reader)->find("cost")}).ok());
  auto table = read_parquet_table(**reader);
  ASSERT_EQ(table.error, "");
  EXPECT_EQ(table.rows, (std::vector<std::vector<std::string>>{{"1.25"}, {"2.50"}}));
}

TEST(ParquetReaderTest, ProjectionOrdersAndRepeatsColumns) {
  auto reader = ParquetReader::open(
      memory_random_access(write(billing_columns(), billing_rows(), {}), "cur.parquet"));
  ASSERT_TRUE(reader.ok());
  ASSERT_TRUE((*reader)->project({9, 0, 2}).ok());
  auto table = read_parquet_table(**reader);
  ASSERT_EQ(table.error, "");
  ASSERT_EQ(table.rows.size(), 5u);
  EXPECT_EQ(table.rows[0], (std::vector<std::string>{"{SppDiscount=-0.25;}", "a1", "1.5000"}));
  EXPECT_EQ(table.rows[3],
            (std::vector<std::string>{"{EdpDiscount=-1.5;SppDiscount=0;}", "a4", "0.0000"}));
  EXPECT_FALSE((*reader)->project({0}).ok()) << "project() after reading began";
}

TEST(ParquetReaderTest, MapInnerGroupMayHaveAnyName) {
  for (const char* group : {"key_value", "entries", "map", "whatever"}) {
    PqColumn tags{"tags", PqKind::map_string_string, true, 0, group};
    PqCell cell;
    cell.entries = {{"a", "1"}, {"b", "2"}};
    auto table =
        read_parquet_table(memory_random_access(write({tags}, {{cell}}, {}), "tags.parquet"));
    ASSERT_EQ(table.error, "") << group;
    EXPECT_EQ(table.rows, (std::vector<std::vector<std::string>>{{"{a=1;b=2;}"}})) << group;
  }
}

TEST(ParquetReaderTest, ManyRowsAcrossPagesAndGroupsKeepTheirOrder) {
  std::vector<std::vector<PqCell>> rows;
  for (int i = 0; i < 5000; ++i) {
    PqCell tags;
    for (int k = 0; k < i % 4; ++k)
      tags.entries.emplace_back(std::string(1, 'k').append(std::to_string(k)), std::to_string(i));
    rows.push_back({std::to_string(i), tags});
  }
  PqOptions options;
  options.rows_per_page = 333;
  options.rows_per_group = 1700;
  auto table = read_parquet_table(memory_random_access(
      write({{"n", PqKind::int64}, {"tags", PqKind::map_string_string}}, rows, options),
      "many.parquet"));
  ASSERT_EQ(table.error, "");
  ASSERT_EQ(table.rows.size(), 5000u);
  for (int i = 0; i < 5000; ++i) {
    std::string tags = "{";
    for (int k = 0; k < i % 4; ++k)
      tags.append("k").append(std::to_string(k)).append("=").append(std::to_string(i)).append(";");
    tags.append("}");
    ASSERT_EQ(table.rows[static_cast<std::size_t>(i)],
              (std::vector<std::string>{std::to_string(i), tags}));
  }
}

TEST(ParquetReaderTest, BadFilesAreErrorsNamingTheFile) {
  auto text = read_parquet_table(memory_random_access("a,b\n1,2\n3,4\n", "export.csv"));
  EXPECT_EQ(text.error, "export.csv: not a Parquet file (no PAR1 magic at its start and end)");

  auto tiny = read_parquet_table(memory_random_access("PAR1", "tiny.parquet"));
  EXPECT_EQ(tiny.error, "tiny.parquet: not a Parquet file (4 bytes, too short)");

  std::string encrypted = write(billing_columns(), billing_rows(), {});
  encrypted.replace(encrypted.size() - 4, 4, "PARE");
  auto enc = read_parquet_table(memory_random_access(encrypted, "secret.parquet"));
  EXPECT_EQ(enc.error, "secret.parquet: encrypted Parquet (modular encryption, encrypted footer) "
                       "is not supported");

  const std::string good = write(billing_columns(), billing_rows(), {});
  auto cut = read_parquet_table(
      memory_random_access(good.substr(0, good.size() / 2) + "PAR1", "cut.parquet"));
  EXPECT_EQ(cut.error.rfind("cut.parquet: ", 0), 0u) << cut.error;

  auto missing = ParquetReader::open(std::filesystem::path("/nonexistent/cur.parquet"));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message().find("/nonexistent/cur.parquet"), std::string::npos);
}

TEST(ParquetReaderTest, OneEntryDictionaryHasZeroWidthIndexes) {
  // A column holding one value (CUR 2.0's bill_bill_type, line_item_currency_code) is a
  // one-entry dictionary whose indexes are 0 bits wide: its bit-packed runs take no bytes.
  std::vector<std::vector<PqCell>> rows(1000, std::vector<PqCell>{"Anniversary", "USD"});
  PqOptions options;
  options.rows_per_page = 500;
  auto table = read_parquet_table(memory_random_access(
      write({{"bill_type", PqKind::string}, {"currency", PqKind::string, false}}, rows, options),
      "constant.parquet"));
  ASSERT_EQ(table.error, "");
  EXPECT_EQ(table.rows, std::vector<std::vector<std::string>>(1000, {"Anniversary", "USD"}));
}
