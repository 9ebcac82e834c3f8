// tests plugins/aws/src/map_cell.cpp
#include "map_cell.hpp"

#include <gtest/gtest.h>

namespace {

using billdrop::aws::MapEntries;
using billdrop::aws::parse_map_cell;

TEST(MapCellTest, ReadsAJsonObjectOfStrings) {
  MapEntries entries;
  std::string storage;
  ASSERT_TRUE(
      parse_map_cell(R"({"user:Team":"web", "user:Name" : "a \"b\"\\c"})", entries, storage).ok());
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].first, "user:Team");
  EXPECT_EQ(entries[0].second, "web");
  EXPECT_EQ(entries[1].first, "user:Name");
  EXPECT_EQ(entries[1].second, "a \"b\"\\c");
}

TEST(MapCellTest, EmptyCellsAndEmptyObjectsHoldNothing) {
  MapEntries entries{{"stale", "x"}};
  std::string storage;
  ASSERT_TRUE(parse_map_cell("", entries, storage).ok());
  EXPECT_TRUE(entries.empty());
  ASSERT_TRUE(parse_map_cell(" {} ", entries, storage).ok());
  EXPECT_TRUE(entries.empty());
}

TEST(MapCellTest, UnicodeEscapesBecomeUtf8AndNullsAreSkipped) {
  MapEntries entries;
  std::string storage;
  ASSERT_TRUE(
      parse_map_cell(R"({"k\u00e9":"\ud83d\ude00","n":null,"num":12.5})", entries, storage).ok());
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].first, "k\xc3\xa9");
  EXPECT_EQ(entries[0].second, "\xf0\x9f\x98\x80");
  EXPECT_EQ(entries[1].first, "num");
  EXPECT_EQ(entries[1].second, "12.5");
}

TEST(MapCellTest, MalformedCellSaysWhatWasExpectedWhere) {
  MapEntries entries;
  std::string storage;
  const auto status = parse_map_cell(R"({"a":"b" "c":"d"})", entries, storage);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().message(),
            R"(map cell "{"a":"b" "c":"d"}": expected ',' or '}' at offset 9)");
}

TEST(MapCellTest, ReadsHiveMapText) {
  MapEntries entries;
  std::string storage;
  ASSERT_TRUE(parse_map_cell("{user:a=b, aws:c=d}", entries, storage).ok());
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0], (std::pair<std::string_view, std::string_view>{"user:a", "b"}));
  EXPECT_EQ(entries[1], (std::pair<std::string_view, std::string_view>{"aws:c", "d"}));
  // A comma not followed by key= belongs to the value; a value may hold '='; spaces are trimmed.
  ASSERT_TRUE(parse_map_cell(" { k = x, y ,q=a=b,e= } ", entries, storage).ok());
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0], (std::pair<std::string_view, std::string_view>{"k", "x, y"}));
  EXPECT_EQ(entries[1], (std::pair<std::string_view, std::string_view>{"q", "a=b"}));
  EXPECT_EQ(entries[2], (std::pair<std::string_view, std::string_view>{"e", ""}));
}

TEST(MapCellTest, TextThatIsNeitherJsonNorMapTextIsRejected) {
  MapEntries entries;
  std::string storage;
  const auto python = parse_map_cell("{'user:a': 'b'}", entries, storage);
  ASSERT_FALSE(python.ok());
  EXPECT_EQ(python.error().message(),
            "map cell \"{'user:a': 'b'}\" is neither a JSON object ({\"key\":\"value\", ...}) nor "
            "Hive map text ({key=value, ...}): read as map text, expected '=' after a key at "
            "offset 14");
  EXPECT_FALSE(parse_map_cell("{a=b", entries, storage).ok());     // no closing brace
  EXPECT_FALSE(parse_map_cell("{=b}", entries, storage).ok());     // no key
  EXPECT_FALSE(parse_map_cell("a=b", entries, storage).ok());      // no braces
  EXPECT_FALSE(parse_map_cell("{a, b=c}", entries, storage).ok()); // a key without '='
}

} // namespace
