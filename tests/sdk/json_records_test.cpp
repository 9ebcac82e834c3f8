#include <billdrop/json_records.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace billdrop;

namespace {

struct Split {
  std::vector<std::string> records;
  std::vector<std::uint64_t> lines; // JsonRecordReader::line() after each record
  std::string error;                // "" when the input was read to its end

  bool operator==(const Split&) const = default;
};

Split split(std::unique_ptr<ByteSource> source, JsonLayout layout) {
  JsonRecordReader reader(std::move(source), layout);
  Split out;
  std::string_view record;
  for (;;) {
    auto more = reader.next(record);
    if (!more) {
      out.error = more.error().message();
      return out;
    }
    if (!*more)
      break;
    out.records.emplace_back(record);
    out.lines.push_back(reader.line());
    EXPECT_EQ(reader.records(), out.records.size());
  }
  // The end is sticky.
  auto again = reader.next(record);
  EXPECT_TRUE(again.ok() && !*again);
  return out;
}

// Splits `text` whole and in several chunkings (one byte at a time included); all must agree.
Split split_text(const std::string& text, JsonLayout layout = JsonLayout::automatic) {
  const Split whole = split(memory_source(text, "t.json"), layout);
  for (std::size_t chunk : {1, 2, 3, 7, 16, 17}) {
    const Split chunked = split(memory_source(text, "t.json", chunk), layout);
    EXPECT_EQ(chunked, whole) << "chunk size " << chunk;
  }
  return whole;
}

using Records = std::vector<std::string>;
using Lines = std::vector<std::uint64_t>;

} // namespace

TEST(JsonRecordsArray, SplitsElementsWithWhitespace) {
  const Split s = split_text("[\n  {\"a\": 1},\n  {\"b\": [1, 2, {\"c\": null}]} ,\n"
                             "  {\"d\": {}}\n]\n");
  EXPECT_EQ(s.error, "");
  EXPECT_EQ(s.records, (Records{"{\"a\": 1}", "{\"b\": [1, 2, {\"c\": null}]}", "{\"d\": {}}"}));
  EXPECT_EQ(s.lines, (Lines{2, 3, 4}));
}

TEST(JsonRecordsArray, ElementsSpanningLinesStartWhereTheyOpen) {
  const Split s = split_text("[{\n\"a\": 1\n},\n{\"b\":\n2}]");
  EXPECT_EQ(s.records, (Records{"{\n\"a\": 1\n}", "{\"b\":\n2}"}));
  EXPECT_EQ(s.lines, (Lines{1, 4}));
}

TEST(JsonRecordsArray, BracketsAndQuotesInsideStrings) {
  const Split s = split_text(R"([{"s": "]}[{,"}, {"q": "say \"hi\" ]"}, {"b": "back\\"}, ["x]"]])");
  EXPECT_EQ(s.error, "");
  EXPECT_EQ(s.records, (Records{R"({"s": "]}[{,"})", R"({"q": "say \"hi\" ]"})",
                                R"({"b": "back\\"})", R"(["x]"])"}));
}

TEST(JsonRecordsArray, ScalarElements) {
  const Split s = split_text("[1, -2.5e3,\"s,]\" , true,null,false ]");
  EXPECT_EQ(s.error, "");
  EXPECT_EQ(s.records, (Records{"1", "-2.5e3", "\"s,]\"", "true", "null", "false"}));
}

TEST(JsonRecordsArray, EmptyArrays) {
  EXPECT_EQ(split_text("[]"), (Split{}));
  EXPECT_EQ(split_text("  \n[ \n ]\n\n"), (Split{}));
  EXPECT_EQ(split_text("\xEF\xBB\xBF[]"), (Split{}));
}

TEST(JsonRecordsArray, TrailingGarbageAfterClosingBracket) {
  const Split s = split_text("[{\"a\":1}]\n\nx");
  EXPECT_EQ(s.records, (Records{"{\"a\":1}"}));
  EXPECT_EQ(s.error, "t.json:3: unexpected 'x' after the closing ']' of the JSON array");
}

TEST(JsonRecordsArray, MissingCommaBetweenElements) {
  const Split s = split_text("[{\"a\":1}\n {\"b\":2}]");
  EXPECT_EQ(s.records, (Records{"{\"a\":1}"}));
  EXPECT_EQ(s.error, "t.json:2: expected ',' or ']' after an array element, found '{'");
}

TEST(JsonRecordsArray, TrailingCommaAndEmptyElement) {
  EXPECT_EQ(split_text("[1,2,]").error,
            "t.json:1: expected a value after ',', found ']' (JSON allows no trailing comma)");
  EXPECT_EQ(split_text("[,1]").error, "t.json:1: unexpected ',' where a JSON value should start");
  EXPECT_EQ(split_text("[1,,2]").error, "t.json:1: unexpected ',' where a JSON value should start");
}

TEST(JsonRecordsArray, UnexpectedEndInsideArray) {
  EXPECT_EQ(split_text("[{\"a\":1},\n{\"b\":2}\n").error,
            "t.json:3: unexpected end of the input inside the JSON array; expected ',' or ']'");
  EXPECT_EQ(split_text("[\n").error,
            "t.json:2: unexpected end of the input inside the JSON array; expected a value or ']'");
  EXPECT_EQ(split_text("[1,").error,
            "t.json:1: unexpected end of the input after ','; expected a value");
  EXPECT_EQ(split_text("[{\"a\":\n[1,2}").error,
            "t.json:2: unexpected end of the input: the record starting on line 1 is missing 1 "
            "closing bracket(s)");
}

TEST(JsonRecordsArray, ForcedArrayLayoutRequiresBracket) {
  EXPECT_EQ(split_text("\n{\"a\":1}\n", JsonLayout::array).error,
            "t.json:2: expected '[' to open the JSON array, found '{'");
  EXPECT_EQ(split_text("  ", JsonLayout::array).error,
            "t.json:1: expected '[' to open the JSON array, found the end of the input");
}

TEST(JsonRecordsNdjson, OneRecordPerLineSkippingBlankLines) {
  const Split s = split_text("{\"a\":1}\n\n  {\"b\":\"x\\ny\"}  \r\n\t\n{\"c\":[]}");
  EXPECT_EQ(s.error, "");
  EXPECT_EQ(s.records, (Records{"{\"a\":1}", "{\"b\":\"x\\ny\"}", "{\"c\":[]}"}));
  EXPECT_EQ(s.lines, (Lines{1, 3, 5}));
}

TEST(JsonRecordsNdjson, AnyValueMayBeARecord) {
  const Split s = split_text("42\n\"text\"\ntrue\n{\"o\":{}}\n", JsonLayout::ndjson);
  EXPECT_EQ(s.records, (Records{"42", "\"text\"", "true", "{\"o\":{}}"}));
  // With the layout forced, a line that starts with '[' is an array record, not the layout.
  const Split arrays = split_text("[1,2]\n[3]\n", JsonLayout::ndjson);
  EXPECT_EQ(arrays.records, (Records{"[1,2]", "[3]"}));
}

TEST(JsonRecordsNdjson, PrettyPrintedRecordsSpanLines) {
  const Split s = split_text("{\n  \"a\": \"}\",\n  \"b\": [\n    1\n  ]\n}\n{\"c\": 2}\n");
  EXPECT_EQ(s.error, "");
  EXPECT_EQ(s.records, (Records{"{\n  \"a\": \"}\",\n  \"b\": [\n    1\n  ]\n}", "{\"c\": 2}"}));
  EXPECT_EQ(s.lines, (Lines{1, 7}));
}

TEST(JsonRecordsNdjson, EscapedQuotesAndBackslashes) {
  const Split s = split_text(R"({"a":"\"{"}
{"b":"\\"}
{"c":"\\\"]"}
)");
  EXPECT_EQ(s.error, "");
  EXPECT_EQ(s.records, (Records{R"({"a":"\"{"})", R"({"b":"\\"})", R"({"c":"\\\"]"})"}));
}

TEST(JsonRecordsNdjson, UnterminatedStringNamesItsLine) {
  const Split s = split_text("{\"a\":1}\n{\"b\":\"open}\n{\"c\":3}\n");
  EXPECT_EQ(s.records, (Records{"{\"a\":1}"}));
  EXPECT_EQ(s.error, "t.json:2: unterminated string (a line ends inside it)");
  EXPECT_EQ(split_text("{\"a\":\"x\\\n\"}").error,
            "t.json:1: unterminated string (a line ends inside it)");
  EXPECT_EQ(split_text("\n\n\"abc").error,
            "t.json:3: unterminated string (the input ends inside it)");
}

TEST(JsonRecordsNdjson, TwoValuesOnOneLineIsAnError) {
  const Split s = split_text("{\"a\":1}\n{\"b\":2} {\"c\":3}\n");
  EXPECT_EQ(s.records, (Records{"{\"a\":1}"}));
  EXPECT_EQ(s.error, "t.json:2: expected a line end after the record, found '{' "
                     "(newline-delimited JSON holds one value per line)");
}

TEST(JsonRecordsNdjson, StrayClosingBracket) {
  EXPECT_EQ(split_text("{\"a\":1}\n}\n").error,
            "t.json:2: unexpected '}' where a JSON value should start");
}

TEST(JsonRecordsNdjson, EmptyInputHasNoRecords) {
  EXPECT_EQ(split_text(""), (Split{}));
  EXPECT_EQ(split_text("\n \r\n\t"), (Split{}));
}

TEST(JsonRecordsNdjson, ErrorIsSticky) {
  JsonRecordReader reader(memory_source("}\n{}\n", "s.json"));
  std::string_view record;
  auto first = reader.next(record);
  ASSERT_FALSE(first.ok());
  auto second = reader.next(record);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().message(), "s.json:1: unexpected '}' where a JSON value should start");
}

TEST(JsonRecordsNdjson, LargeRecordsAndGzipSource) {
  // A 3 MB string crosses the reader's 1 MiB block; the gzip path decodes it on the way.
  const std::string big = "{\"blob\":\"" + std::string(3'000'000, 'z') + "\"}";
  std::string text;
  for (int i = 0; i < 3; ++i)
    text += big + "\n{\"i\":" + std::to_string(i) + "}\n";
  JsonRecordReader reader(gzip_source(memory_source(gzip_compress(text), "big.json.gz", 50'000)));
  EXPECT_EQ(reader.total(), gzip_compress(text).size());
  std::string_view record;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(reader.next(record).value());
    EXPECT_TRUE(record == big);
    EXPECT_EQ(reader.line(), static_cast<std::uint64_t>(2 * i + 1));
    ASSERT_TRUE(reader.next(record).value());
    EXPECT_EQ(record, "{\"i\":" + std::to_string(i) + "}");
  }
  auto end = reader.next(record);
  ASSERT_TRUE(end.ok());
  EXPECT_FALSE(*end);
  EXPECT_EQ(reader.position(), reader.total());
}

TEST(JsonRecordsNdjson, RecordBeyond64MiBIsAnError) {
  const std::string text = "{\"a\":1}\n{\"blob\":\"" + std::string((64u << 20) + 10, 'z') + "\"}\n";
  const Split s = split(memory_source(text, "huge.json"), JsonLayout::automatic);
  EXPECT_EQ(s.records, (Records{"{\"a\":1}"}));
  EXPECT_EQ(s.error, "huge.json:2: the record starting on line 2 is larger than 64 MiB");
}

TEST(JsonRecordsNdjson, ManyRecordsMatchOneByteChunks) {
  std::string text;
  Records expected;
  for (int i = 0; i < 5000; ++i) {
    expected.push_back("{\"id\":" + std::to_string(i) + ",\"s\":\"a]\\\"" + std::to_string(i) +
                       "\",\"n\":[" + std::to_string(i % 7) + "]}");
    text += expected.back() + (i % 3 == 0 ? "\r\n" : "\n");
  }
  const Split whole = split(memory_source(text, "t.json"), JsonLayout::automatic);
  EXPECT_EQ(whole.error, "");
  EXPECT_TRUE(whole.records == expected);
  EXPECT_EQ(whole.lines.back(), 5000u);
  EXPECT_TRUE(split(memory_source(text, "t.json", 1), JsonLayout::automatic) == whole);
  // The same values as one array.
  std::string array = "[";
  for (std::size_t i = 0; i < expected.size(); ++i)
    array += (i ? ",\n" : "") + expected[i];
  array += "]";
  const Split as_array = split(memory_source(array, "t.json", 3), JsonLayout::automatic);
  EXPECT_EQ(as_array.error, "");
  EXPECT_TRUE(as_array.records == expected);
}

TEST(JsonRecordsNdjson, DeepNestingIsCountedNotRecursed) {
  // The splitter keeps a depth counter, not a call stack: 200,000 levels split like one, and an
  // unclosed one says how many brackets are missing. (Parsing the record is the caller's
  // business: see the custom plugin's depth limit.)
  const std::string deep = std::string(100'000, '[') + "{\"a\":" + std::string(100'000, '{') +
                           std::string(100'000, '}') + "}" + std::string(100'000, ']');
  const Split whole = split(memory_source(deep + "\n{\"b\":1}\n", "t.json"), JsonLayout::ndjson);
  EXPECT_EQ(whole.error, "");
  EXPECT_EQ(whole.records, (Records{deep, "{\"b\":1}"}));

  const Split open =
      split(memory_source("{\"a\":" + std::string(50'000, '['), "t.json"), JsonLayout::ndjson);
  EXPECT_EQ(open.error, "t.json:1: unexpected end of the input: the record starting on line 1 is "
                        "missing 50001 closing bracket(s)");
}
