#include <billdrop/json_flatten.hpp>

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

using namespace billdrop;

namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;
using Row = std::vector<std::string>;

// The last record's leaves as (column name, value), in document order.
Pairs pairs(const JsonFlattener& flattener) {
  Pairs out;
  for (const JsonLeaf& leaf : flattener.leaves())
    out.emplace_back(flattener.columns().at(leaf.column), std::string(leaf.value));
  return out;
}

// The last record as a row: one value per column.
Row row(const JsonFlattener& flattener) {
  std::vector<std::string_view> values;
  flattener.values(values);
  return Row(values.begin(), values.end());
}

// Flattens a record that must be valid.
void flatten_ok(JsonFlattener& flattener, std::string_view record) {
  const Status flat = flattener.flatten(record);
  ASSERT_TRUE(flat.ok()) << record << ": " << flat.error().message();
  EXPECT_EQ(flattener.problem(), JsonFlattenProblem::none);
}

// Flattens a record that must be rejected; its message.
std::string flatten_error(JsonFlattener& flattener, std::string_view record) {
  const Status flat = flattener.flatten(record);
  if (flat.ok()) {
    ADD_FAILURE() << record << " was flattened";
    return {};
  }
  EXPECT_EQ(flat.error().kind(), ErrorKind::data);
  EXPECT_NE(flattener.problem(), JsonFlattenProblem::none);
  EXPECT_TRUE(flattener.leaves().empty());
  return flat.error().message();
}

TEST(JsonFlattener, NestedObjectKeysAreJoinedWithDots) {
  JsonFlattener flattener;
  flatten_ok(flattener, R"({"usage":{"amount":3,"unit":"h","meta":{"sku":"g1"}},"cost":"1.25"})");
  EXPECT_EQ(
      pairs(flattener),
      (Pairs{
          {"usage.amount", "3"}, {"usage.unit", "h"}, {"usage.meta.sku", "g1"}, {"cost", "1.25"}}));
  EXPECT_EQ(flattener.columns(), (Row{"usage.amount", "usage.unit", "usage.meta.sku", "cost"}));
  EXPECT_EQ(row(flattener), (Row{"3", "h", "g1", "1.25"}));
}

TEST(JsonFlattener, ArraysAreKeptAsTheirJsonTextAsWritten) {
  JsonFlattener flattener;
  flatten_ok(flattener, R"({"labels":[{"key":"team","value":"ml"}], "spaced" : [1, 2 ,[3]] ,)"
                        R"("none":[],"deep":{"list":["a\"b",null]}})");
  EXPECT_EQ(pairs(flattener), (Pairs{{"labels", R"([{"key":"team","value":"ml"}])"},
                                     {"spaced", "[1, 2 ,[3]]"},
                                     {"none", "[]"},
                                     {"deep.list", R"(["a\"b",null])"}}));
}

TEST(JsonFlattener, NumbersKeepEveryDigitAsWritten) {
  JsonFlattener flattener;
  flatten_ok(flattener,
             R"({"cost": 0.12345678901234567890123 , "big": 123456789012345678901234567890,)"
             R"( "tiny": 5e-06, "neg": -12.50, "huge": 1E+400, "zero": -0, "e": 0.1e-7})");
  EXPECT_EQ(pairs(flattener), (Pairs{{"cost", "0.12345678901234567890123"},
                                     {"big", "123456789012345678901234567890"},
                                     {"tiny", "5e-06"},
                                     {"neg", "-12.50"},
                                     {"huge", "1E+400"},
                                     {"zero", "-0"},
                                     {"e", "0.1e-7"}}));
}

TEST(JsonFlattener, KeysAndStringsAreUnescaped) {
  JsonFlattener flattener;
  flatten_ok(flattener, R"({"caf\u00e9":"line\nnext\t\"q\" \\ \u20ac","tag\u0073":{"te\"am":"ml"},)"
                        R"("a.b":"dot kept"})");
  EXPECT_EQ(pairs(flattener), (Pairs{{"caf\xC3\xA9", "line\nnext\t\"q\" \\ \xE2\x82\xAC"},
                                     {"tags.te\"am", "ml"},
                                     {"a.b", "dot kept"}}));
}

TEST(JsonFlattener, BooleansAreTrueOrFalseAndNullIsBlank) {
  JsonFlattener flattener;
  flatten_ok(flattener, R"({"on":true,"off":false,"note":null,"x":{"n":null}})");
  EXPECT_EQ(pairs(flattener), (Pairs{{"on", "true"}, {"off", "false"}, {"note", ""}, {"x.n", ""}}));
  // A null is a column all the same: a later record may fill it.
  EXPECT_EQ(flattener.columns(), (Row{"on", "off", "note", "x.n"}));
}

TEST(JsonFlattener, EmptyObjectsGiveNoColumns) {
  JsonFlattener flattener;
  flatten_ok(flattener, "{}");
  EXPECT_TRUE(flattener.leaves().empty());
  EXPECT_TRUE(flattener.columns().empty());
  flatten_ok(flattener, R"({"a":{},"b":{"c":{}},"d":"1"})");
  EXPECT_EQ(flattener.columns(), (Row{"d"}));
  flatten_ok(flattener, " { } ");
  EXPECT_EQ(row(flattener), (Row{""}));
}

TEST(JsonFlattener, DuplicateKeysAreOneColumnAndTheLaterValueWins) {
  JsonFlattener flattener;
  flatten_ok(flattener, R"({"a":"1","b":"x","a":"2"})");
  EXPECT_EQ(flattener.columns(), (Row{"a", "b"}));
  // leaves() shows both, in document order; the row keeps the later.
  EXPECT_EQ(pairs(flattener), (Pairs{{"a", "1"}, {"b", "x"}, {"a", "2"}}));
  EXPECT_EQ(row(flattener), (Row{"2", "x"}));
  // A dotted key and a nested object that flatten to the same name are the same column.
  flatten_ok(flattener, R"({"c":{"d":"3"},"c.d":"4"})");
  EXPECT_EQ(flattener.columns(), (Row{"a", "b", "c.d"}));
  EXPECT_EQ(row(flattener), (Row{"", "", "4"}));
  // Once known, a duplicate still lands on its one column.
  flatten_ok(flattener, R"({"a":"5","a":"6"})");
  EXPECT_EQ(row(flattener), (Row{"6", "", ""}));
}

// `levels` objects, each the value of the key "a" in the one around it; the record is level 1.
std::string nested_objects(std::size_t levels) {
  std::string out;
  for (std::size_t i = 1; i < levels; ++i)
    out += "{\"a\":";
  return out + "{\"a\":\"x\"}" + std::string(levels - 1, '}');
}

TEST(JsonFlattener, SixtyFourLevelsAreReadAndSixtyFiveAreRejected) {
  JsonFlattener flattener;
  flatten_ok(flattener, nested_objects(64));
  ASSERT_EQ(flattener.leaves().size(), 1u);
  EXPECT_EQ(flattener.columns().at(0).size(), 127u); // "a" and 63 times ".a"
  EXPECT_EQ(flattener.columns().at(0).substr(0, 6), "a.a.a.");
  EXPECT_EQ(flattener.leaves()[0].value, "x");

  for (const std::size_t levels : {65u, 50'000u}) {
    EXPECT_EQ(flatten_error(flattener, nested_objects(levels)),
              "the record nests objects more than 64 levels deep (at key "
              "\"a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a. ... "
              ".a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a\")");
    EXPECT_EQ(flattener.problem(), JsonFlattenProblem::too_deep);
  }
  // The key where it went too deep, its middle left out.
  EXPECT_EQ(
      flatten_error(flattener, "{\"k\":" + nested_objects(64) + "}"),
      "the record nests objects more than 64 levels deep (at key "
      "\"k.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a. ... .a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a\")");
  EXPECT_EQ(flattener.columns().size(), 1u);

  // Arrays are values, not levels: 50,000 of them nested are one value, kept as text.
  const std::string arrays = std::string(50'000, '[') + std::string(50'000, ']');
  flatten_ok(flattener, "{\"b\":" + arrays + "}");
  EXPECT_EQ(flattener.leaves()[0].value, arrays);
}

TEST(JsonFlattener, InvalidRecordsSayWhatIsWrong) {
  JsonFlattener flattener;
  for (const char* not_object : {"[1, 2]", "3", "\"text\"", "null"}) {
    EXPECT_EQ(flatten_error(flattener, not_object), "the record is not a JSON object");
    EXPECT_EQ(flattener.problem(), JsonFlattenProblem::not_an_object) << not_object;
  }
  EXPECT_EQ(flatten_error(flattener, R"({"a": 12abc})"), "invalid JSON: 12abc is not a number");
  EXPECT_EQ(flatten_error(flattener, R"({"a": 01})"), "invalid JSON: 01 is not a number");
  EXPECT_EQ(flatten_error(flattener, R"({"a": 1., "b": 2})"), "invalid JSON: 1. is not a number");
  EXPECT_EQ(flatten_error(flattener, R"({"a": -})"), "invalid JSON: - is not a number");
  EXPECT_EQ(flattener.problem(), JsonFlattenProblem::invalid_json);
  // Syntax errors, in simdjson's words after the prefix.
  for (const char* broken :
       {R"({"a": 1, "b": 2,})", R"({"a": tru})", R"({"a": 1)", R"({"a" 1})",
        R"({"a": "unterminated})", R"({"a": 1} {"b": 2})", R"({"a": 1} x)", R"({"a": nul})", ""}) {
    const std::string message = flatten_error(flattener, broken);
    EXPECT_EQ(message.rfind("invalid JSON: ", 0), 0u) << broken << ": " << message;
    EXPECT_GT(message.size(), std::string("invalid JSON: ").size()) << broken;
    EXPECT_EQ(flattener.problem(), JsonFlattenProblem::invalid_json) << broken;
  }
  // No rejected record added a column, though most had keys before their error.
  EXPECT_TRUE(flattener.columns().empty());
  // Spaces after the object are not content.
  flatten_ok(flattener, "{\"a\": 1}  \t ");
  EXPECT_EQ(pairs(flattener), (Pairs{{"a", "1"}}));
}

TEST(JsonFlattener, ColumnIndexesStayTheSameAcrossRecordsWithDifferentKeys) {
  JsonFlattener flattener;
  flatten_ok(flattener, R"({"a":"1","b":"2"})");
  EXPECT_EQ(row(flattener), (Row{"1", "2"}));
  flatten_ok(flattener, R"({"c":{"d":"4"},"b":"3"})");
  EXPECT_EQ(flattener.columns(), (Row{"a", "b", "c.d"}));
  EXPECT_EQ(row(flattener), (Row{"", "3", "4"}));
  // The same keys in another order, and fewer of them.
  flatten_ok(flattener, R"({"b":"5","a":"6"})");
  EXPECT_EQ(row(flattener), (Row{"6", "5", ""}));
  // A rejected record's new key is not a column; the next valid record's is, after the others.
  EXPECT_EQ(flatten_error(flattener, R"({"e":"1","a":})").rfind("invalid JSON: ", 0), 0u);
  flatten_ok(flattener, R"({"f":"7","e":"8","a":"9"})");
  EXPECT_EQ(flattener.columns(), (Row{"a", "b", "c.d", "f", "e"}));
  EXPECT_EQ(row(flattener), (Row{"9", "", "", "7", "8"}));
  ASSERT_EQ(flattener.leaves().size(), 3u);
  EXPECT_EQ(flattener.leaves()[0].column, 3u);
  EXPECT_EQ(flattener.leaves()[1].column, 4u);
  EXPECT_EQ(flattener.leaves()[2].column, 0u);
  // Looked up by name.
  EXPECT_EQ(flattener.column("a"), std::optional<std::size_t>(0));
  EXPECT_EQ(flattener.column("c.d"), std::optional<std::size_t>(2));
  EXPECT_EQ(flattener.column("e"), std::optional<std::size_t>(4));
  EXPECT_EQ(flattener.column("c"), std::nullopt);
  // Many records with the usual keys keep their places.
  for (int i = 0; i < 3; ++i) {
    flatten_ok(flattener, R"({"a":"x","b":"y","c":{"d":"z"}})");
    EXPECT_EQ(row(flattener), (Row{"x", "y", "z", "", ""}));
  }
}

TEST(JsonFlattener, ValuesOutliveTheRecordTextAndTheFlattenerMoves) {
  JsonFlattener flattener;
  {
    std::string text = R"({"cost": 1.50, "name": "n\u0041", "list": [1]})";
    flatten_ok(flattener, text);
    text.assign(text.size(), '#'); // the flattener parsed its own copy
  }
  EXPECT_EQ(row(flattener), (Row{"1.50", "nA", "[1]"}));
  JsonFlattener moved = std::move(flattener);
  EXPECT_EQ(moved.columns(), (Row{"cost", "name", "list"}));
  flatten_ok(moved, R"({"list": [2], "cost": 3})");
  EXPECT_EQ(row(moved), (Row{"3", "", "[2]"}));
}

} // namespace
