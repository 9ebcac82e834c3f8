// ParquetCsvReader: a Parquet file as the CSV records of its CSV twin (header, then rows numbered
// as its lines; maps as the JSON objects billing exports write into CSV cells).
#include <billdrop/parquet_csv.hpp>
#include <support/parquet_writer.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace billdrop;
using namespace billdrop::testing;

TEST(ParquetCsvReaderTest, HeaderThenRowsWithMapsAsJson) {
  ParquetWriter writer({{"cost", PqKind::decimal64, true, 2},
                        {"resource_tags", PqKind::map_string_string},
                        {"discount", PqKind::map_string_double}});
  PqCell tags, discount, none, null_map;
  tags.entries = {{"user:team", "web \"blue\""}, {"user:gone", std::nullopt}, {"tab", "a\tb"}};
  discount.entries = {{"bundled_discount", "-0.5"}};
  null_map.map_null = true;
  writer.add_row({"1.5", tags, discount});
  writer.add_row({PqCell::null(), none, null_map});
  auto reader = ParquetCsvReader::open(memory_random_access(writer.finish(), "cur.parquet"));
  ASSERT_TRUE(reader.ok()) << reader.error().message();
  CsvRecord record;
  std::vector<std::vector<std::string>> records;
  std::vector<std::uint64_t> lines;
  for (;;) {
    auto more = (*reader)->next(record);
    ASSERT_TRUE(more.ok()) << more.error().message();
    if (!*more)
      break;
    records.emplace_back(record.begin(), record.end());
    lines.push_back((*reader)->line());
  }
  EXPECT_EQ(records, (std::vector<std::vector<std::string>>{
                         {"cost", "resource_tags", "discount"},
                         {"1.50", R"({"user:team":"web \"blue\"","tab":"a\u0009b"})",
                          R"({"bundled_discount":"-0.5"})"},
                         {"", "{}", ""}}));
  EXPECT_EQ(lines, (std::vector<std::uint64_t>{1, 2, 3}));
  EXPECT_EQ((*reader)->name(), "cur.parquet");
}
