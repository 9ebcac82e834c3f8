// core::JsonWriter: commas, nesting, escaping, numbers as numbers, raw values.
#include "core/json_writer.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

namespace billdrop::core {
namespace {

TEST(JsonWriterTest, WritesNestedObjectsAndArraysWithCommasInTheirPlaces) {
  JsonWriter json;
  json.begin_object()
      .key("a")
      .value(1)
      .key("b")
      .begin_array()
      .value("x")
      .value(true)
      .null()
      .begin_object()
      .end_object()
      .end_array()
      .key("c")
      .begin_object()
      .key("d")
      .value(false)
      .end_object()
      .end_object();
  EXPECT_EQ(json.str(), R"({"a":1,"b":["x",true,null,{}],"c":{"d":false}})");
}

TEST(JsonWriterTest, EscapesKeysAndStrings) {
  JsonWriter json;
  json.begin_object().key("q\"k").value("line\nbreak\\").end_object();
  EXPECT_EQ(json.str(), R"({"q\"k":"line\nbreak\\"})");
}

TEST(JsonWriterTest, NumbersAreNumbersAtTheirFullRange) {
  JsonWriter json;
  json.begin_array()
      .value(std::numeric_limits<std::uint64_t>::max())
      .value(std::numeric_limits<std::int64_t>::min())
      .value(std::uint32_t{0})
      .number_text("1.250")
      .end_array();
  EXPECT_EQ(json.str(), "[18446744073709551615,-9223372036854775808,0,1.250]");
}

TEST(JsonWriterTest, RawValuesTakeTheirPlaceLikeAnyValue) {
  JsonWriter json;
  json.begin_object().key("schema").raw(R"({"keys":[]})").key("n").value(2).end_object();
  EXPECT_EQ(json.str(), R"({"schema":{"keys":[]},"n":2})");
}

} // namespace
} // namespace billdrop::core
