#include "record_source.hpp"
#include "support/temp_folder.hpp"

#include <billdrop/byte_source.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

namespace {

namespace fs = std::filesystem;
using billdrop::ErrorKind;
using billdrop::custom::glob_match;
using billdrop::custom::InputFormat;
using billdrop::custom::list_export_files;
using billdrop::custom::parse_input_format;
using billdrop::custom::RecordOptions;
using billdrop::custom::RecordSource;
using billdrop::custom::resolve_format;
using billdrop::custom::SourceRecord;

// A fresh directory per test, removed afterwards.
class RecordSourceTest : public billdrop::test::TempFolderTest {
protected:
  fs::path write(const std::string& name, const std::string& bytes) {
    const fs::path file = dir_ / name;
    std::ofstream(file, std::ios::binary) << bytes;
    return file;
  }

  std::unique_ptr<RecordSource> open(const fs::path& file, InputFormat format,
                                     char delimiter = ',') {
    RecordOptions options;
    options.format = format;
    options.delimiter = delimiter;
    auto source = RecordSource::open(file, options);
    EXPECT_TRUE(source.ok()) << source.error().message();
    return source.ok() ? std::move(*source) : nullptr;
  }

  // Reads every record, as (line, malformed reason, values by column name order).
  struct Row {
    std::uint64_t line;
    std::string malformed;
    std::vector<std::string> values;
  };
  static std::vector<Row> read_all(RecordSource& source) {
    std::vector<Row> rows;
    SourceRecord record;
    while (true) {
      auto more = source.next(record);
      EXPECT_TRUE(more.ok()) << more.error().message();
      if (!more.ok() || !*more)
        return rows;
      Row row{record.line, record.malformed, {}};
      for (std::size_t i = 0; i < source.columns().size(); ++i)
        row.values.emplace_back(record.value(i));
      rows.push_back(std::move(row));
    }
  }
};

TEST(GlobMatch, StarMatchesAnyRunAndQuestionMarkOneByte) {
  EXPECT_TRUE(glob_match("*", "usage.csv"));
  EXPECT_TRUE(glob_match("*.csv", "usage.csv"));
  EXPECT_FALSE(glob_match("*.csv", "usage.csv.gz"));
  EXPECT_TRUE(glob_match("usage-2026-0?.csv.gz", "usage-2026-08.csv.gz"));
  EXPECT_FALSE(glob_match("usage-2026-0?.csv.gz", "usage-2026-10.csv.gz"));
  EXPECT_TRUE(glob_match("a*b*c", "aXXbYYbc"));
  EXPECT_FALSE(glob_match("a*b*c", "aXXbYY"));
  EXPECT_TRUE(glob_match("**", ""));
  EXPECT_FALSE(glob_match("", "a"));
  EXPECT_FALSE(glob_match("?", ""));
  EXPECT_FALSE(glob_match("USAGE.csv", "usage.csv")); // case matters, as on the file system
}

TEST(ResolveFormat, ByExtensionIgnoringGzip) {
  EXPECT_EQ(*resolve_format("a/usage.csv", InputFormat::automatic), InputFormat::csv);
  EXPECT_EQ(*resolve_format("usage.TSV.gz", InputFormat::automatic), InputFormat::csv);
  EXPECT_EQ(*resolve_format("usage.csv.gz", InputFormat::automatic), InputFormat::csv);
  EXPECT_EQ(*resolve_format("usage.ndjson", InputFormat::automatic), InputFormat::ndjson);
  EXPECT_EQ(*resolve_format("usage.jsonl.gz", InputFormat::automatic), InputFormat::ndjson);
  EXPECT_EQ(*resolve_format("usage.json", InputFormat::automatic), InputFormat::json);
  // An explicit format wins over the extension.
  EXPECT_EQ(*resolve_format("usage.txt", InputFormat::ndjson), InputFormat::ndjson);
  auto unknown = resolve_format("exports/usage.txt", InputFormat::automatic);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().kind(), ErrorKind::config);
  EXPECT_NE(unknown.error().message().find("exports/usage.txt"), std::string::npos);
  EXPECT_NE(unknown.error().message().find("set format"), std::string::npos);
}

TEST(ParseInputFormat, KnowsFourNames) {
  EXPECT_EQ(*parse_input_format("auto"), InputFormat::automatic);
  EXPECT_EQ(*parse_input_format("csv"), InputFormat::csv);
  EXPECT_EQ(*parse_input_format("json"), InputFormat::json);
  EXPECT_EQ(*parse_input_format("ndjson"), InputFormat::ndjson);
  auto bad = parse_input_format("parquet");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message(), "format \"parquet\" is not one of auto, csv, json, ndjson");
}

TEST_F(RecordSourceTest, CsvWithBomCrlfQuotesAndEmbeddedNewlines) {
  const auto file = write("usage.csv", "\xEF\xBB\xBF"
                                       "date,desc,cost\r\n"
                                       "2026-08-01,\"GPU, 1x \"\"H100\"\"\",1.5\r\n"
                                       "2026-08-02,\"line one\nline two\",2\r\n"
                                       "2026-08-03,plain,3");
  auto source = open(file, InputFormat::csv);
  ASSERT_TRUE(source);
  EXPECT_EQ(source->name(), "usage.csv");
  EXPECT_EQ(source->columns(), (std::vector<std::string>{"date", "desc", "cost"}));
  const auto rows = read_all(*source);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].line, 2u);
  EXPECT_EQ(rows[0].values, (std::vector<std::string>{"2026-08-01", "GPU, 1x \"H100\"", "1.5"}));
  EXPECT_EQ(rows[1].line, 3u);
  EXPECT_EQ(rows[1].values[1], "line one\nline two");
  EXPECT_EQ(rows[2].line, 5u); // the quoted newline took a physical line
  EXPECT_EQ(rows[2].values, (std::vector<std::string>{"2026-08-03", "plain", "3"}));
  for (const auto& row : rows)
    EXPECT_EQ(row.malformed, "");
}

TEST_F(RecordSourceTest, ShortRowsAndValuesPastTheHeaderAreMalformed) {
  const auto file = write("usage.csv", "a,b,c\n"
                                       "1,2,3\n"
                                       "1,2\n"
                                       "1,2,3,\n"
                                       "1,2,3,4\n");
  auto source = open(file, InputFormat::csv);
  ASSERT_TRUE(source);
  const auto rows = read_all(*source);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].malformed, "");
  EXPECT_EQ(rows[1].malformed, "the row has 2 fields but the header has 3");
  EXPECT_EQ(rows[2].malformed, ""); // a trailing delimiter adds only an empty field
  EXPECT_EQ(rows[3].malformed,
            "the row has 4 fields but the header has 3 (an unquoted delimiter inside a value?)");
  EXPECT_EQ(rows[3].line, 5u);
}

TEST_F(RecordSourceTest, OtherDelimiters) {
  const auto file = write("usage.txt", "a\tb\n1,5\t2\n");
  auto source = open(file, InputFormat::csv, '\t');
  ASSERT_TRUE(source);
  const auto rows = read_all(*source);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].values, (std::vector<std::string>{"1,5", "2"}));
}

TEST_F(RecordSourceTest, GzipIsDetectedByMagicNotByName) {
  const std::string csv = "a,b\nx,1\ny,2\n";
  for (const std::string name : {"usage.csv.gz", "usage.csv"}) {
    const auto file = write(name, billdrop::gzip_compress(csv));
    auto source = open(file, InputFormat::csv);
    ASSERT_TRUE(source);
    const auto rows = read_all(*source);
    ASSERT_EQ(rows.size(), 2u) << name;
    EXPECT_EQ(rows[1].values, (std::vector<std::string>{"y", "2"}));
  }
}

TEST_F(RecordSourceTest, TruncatedGzipIsADataErrorNamingTheFile) {
  std::string lines = "a,b\n";
  for (int i = 0; i < 2000; ++i)
    lines += "row" + std::to_string(i) + "," + std::to_string(i * 7) + "\n";
  const std::string gz = billdrop::gzip_compress(lines);
  const auto file = write("broken.csv.gz", gz.substr(0, gz.size() / 2));
  RecordOptions options;
  auto source = RecordSource::open(file, options);
  std::optional<billdrop::Error> error;
  if (!source.ok()) {
    error = source.error();
  } else {
    SourceRecord record;
    while (true) {
      auto more = (*source)->next(record);
      if (!more.ok()) {
        error = more.error();
        break;
      }
      ASSERT_TRUE(*more) << "a truncated stream must not end quietly";
    }
  }
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->kind(), ErrorKind::data);
  EXPECT_NE(error->message().find("broken.csv.gz"), std::string::npos) << error->message();
  EXPECT_NE(error->message().find("line"), std::string::npos) << error->message();
}

TEST_F(RecordSourceTest, UnterminatedQuoteIsADataErrorNamingFileAndLine) {
  const auto file = write("usage.csv", "a,b\n1,2\n3,\"never closed\n4,5\n");
  auto source = open(file, InputFormat::csv);
  ASSERT_TRUE(source);
  SourceRecord record;
  ASSERT_TRUE(*source->next(record));
  auto broken = source->next(record);
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.error().kind(), ErrorKind::data);
  EXPECT_NE(broken.error().message().find("usage.csv:"), std::string::npos)
      << broken.error().message();
  EXPECT_NE(broken.error().message().find("3"), std::string::npos) << broken.error().message();
}

TEST_F(RecordSourceTest, EmptyCsvHasNoHeader) {
  const auto file = write("empty.csv", "");
  auto source = RecordSource::open(file, RecordOptions{});
  ASSERT_FALSE(source.ok());
  EXPECT_EQ(source.error().kind(), ErrorKind::data);
  EXPECT_EQ(source.error().message(),
            "empty.csv is empty; a CSV export starts with a header line naming its columns");
}

TEST_F(RecordSourceTest, MissingFileIsASourceError) {
  auto source = RecordSource::open(dir_ / "absent.csv", RecordOptions{});
  ASSERT_FALSE(source.ok());
  EXPECT_EQ(source.error().kind(), ErrorKind::source);
  EXPECT_NE(source.error().message().find("absent.csv"), std::string::npos);
}

TEST_F(RecordSourceTest, NdjsonFlattensNestedObjectsAndKeepsArraysAsJson) {
  const auto file =
      write("usage.ndjson",
            "{\"usage\":{\"amount\":3,\"unit\":\"h\",\"meta\":{\"sku\":\"g1\"}},\"cost\":\"1.25\","
            "\"labels\":[{\"key\":\"team\",\"value\":\"ml\"}],\"active\":true,\"note\":null}\n");
  auto source = open(file, InputFormat::ndjson);
  ASSERT_TRUE(source);
  EXPECT_EQ(source->columns(),
            (std::vector<std::string>{"usage.amount", "usage.unit", "usage.meta.sku", "cost",
                                      "labels", "active", "note"}));
  const auto rows = read_all(*source);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].malformed, "");
  EXPECT_EQ(rows[0].line, 1u);
  EXPECT_EQ(rows[0].values,
            (std::vector<std::string>{"3", "h", "g1", "1.25",
                                      "[{\"key\":\"team\",\"value\":\"ml\"}]", "true", ""}));
}

TEST_F(RecordSourceTest, JsonNumbersKeepEveryDigitAsWritten) {
  const auto file =
      write("usage.json", "[{\"cost\": 0.12345678901234567890123 , \"tiny\": 5e-06, "
                          "\"neg\": -12.50, \"big\": 123456789012345678901234567890}]");
  auto source = open(file, InputFormat::json);
  ASSERT_TRUE(source);
  const auto rows = read_all(*source);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].values, (std::vector<std::string>{"0.12345678901234567890123", "5e-06",
                                                      "-12.50", "123456789012345678901234567890"}));
}

TEST_F(RecordSourceTest, JsonStringsAreUnescaped) {
  const auto file = write("usage.ndjson", "{\"name\":\"caf\\u00e9 \\\"x\\\"\\n2\"}\n");
  auto source = open(file, InputFormat::ndjson);
  ASSERT_TRUE(source);
  const auto rows = read_all(*source);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].values[0], "caf\xC3\xA9 \"x\"\n2");
}

TEST_F(RecordSourceTest, JsonArrayWithKeysAppearingInLaterRecords) {
  const auto file = write("usage.json", "[\n"
                                        "  {\"a\": \"1\", \"b\": \"2\"},\n"
                                        "  {\"b\": \"3\", \"c\": {\"d\": \"4\"}},\n"
                                        "  {\"a\": \"5\"}\n"
                                        "]\n");
  auto source = open(file, InputFormat::json);
  ASSERT_TRUE(source);
  EXPECT_EQ(source->columns(), (std::vector<std::string>{"a", "b"}));
  const auto rows = read_all(*source);
  EXPECT_EQ(source->columns(), (std::vector<std::string>{"a", "b", "c.d"}));
  ASSERT_EQ(rows.size(), 3u);
  // read_all() took each record's values for the columns known when it was read.
  EXPECT_EQ(rows[0].values, (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(rows[1].values, (std::vector<std::string>{"", "3", "4"}));
  EXPECT_EQ(rows[2].values, (std::vector<std::string>{"5", "", ""}));
  EXPECT_EQ(rows[0].line, 2u);
  EXPECT_EQ(rows[2].line, 4u);
}

TEST_F(RecordSourceTest, InvalidJsonRecordsAreMalformedNotFatal) {
  const auto file = write("usage.ndjson", "{\"a\": 1, \"b\": 2,}\n"
                                          "{\"a\": 1}\n"
                                          "[1, 2]\n"
                                          "{\"a\": 12abc}\n"
                                          "{\"a\": tru}\n"
                                          "{\"a\": 2}\n");
  auto source = open(file, InputFormat::ndjson);
  ASSERT_TRUE(source);
  // The columns come from the first valid record, on line 2.
  EXPECT_EQ(source->columns(), (std::vector<std::string>{"a"}));
  const auto rows = read_all(*source);
  ASSERT_EQ(rows.size(), 6u);
  EXPECT_EQ(rows[0].line, 1u);
  EXPECT_NE(rows[0].malformed.find("invalid JSON"), std::string::npos) << rows[0].malformed;
  EXPECT_EQ(rows[1].malformed, "");
  EXPECT_EQ(rows[1].values[0], "1");
  EXPECT_EQ(rows[2].malformed, "the record is not a JSON object");
  EXPECT_EQ(rows[3].malformed, "invalid JSON: 12abc is not a number");
  EXPECT_NE(rows[4].malformed.find("invalid JSON"), std::string::npos) << rows[4].malformed;
  EXPECT_EQ(rows[5].malformed, "");
  EXPECT_EQ(rows[5].values[0], "2");
  EXPECT_EQ(rows[5].line, 6u);
}

// `levels` objects, each the value of the key "a" in the one around it; the record is level 1.
std::string nested_objects(std::size_t levels) {
  std::string out;
  for (std::size_t i = 1; i < levels; ++i)
    out += "{\"a\":";
  return out + "{\"a\":\"x\"}" + std::string(levels - 1, '}');
}

TEST_F(RecordSourceTest, ObjectsNestedPastTheDepthLimitMakeTheRecordMalformedNotACrash) {
  // 64 levels are read; 65, and 50,000 (which used to exhaust the stack), are malformed records
  // naming the limit; 50,000 nested arrays are a value kept as its text, not a level.
  const std::string deep_arrays = std::string(50'000, '[') + std::string(50'000, ']');
  const auto file =
      write("deep.ndjson", nested_objects(64) + "\n" + nested_objects(65) + "\n" +
                               nested_objects(50'000) + "\n{\"b\":" + deep_arrays + "}\n");
  auto source = open(file, InputFormat::ndjson);
  ASSERT_TRUE(source);
  std::string column_64 = "a";
  for (int i = 1; i < 64; ++i)
    column_64 += ".a";
  EXPECT_EQ(source->columns(), std::vector<std::string>{column_64});
  const auto rows = read_all(*source);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].malformed, "");
  EXPECT_EQ(rows[0].values, std::vector<std::string>{"x"});
  for (const std::size_t i : {1u, 2u}) {
    EXPECT_EQ(rows[i].line, i + 1);
    EXPECT_EQ(rows[i].malformed.rfind("the record nests objects more than 64 levels deep (at key "
                                      "\"a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a. ... .a.a",
                                      0),
              0u)
        << rows[i].malformed;
    EXPECT_TRUE(rows[i].malformed.ends_with("\"); the custom plugin reads at most 64"))
        << rows[i].malformed;
  }
  EXPECT_EQ(rows[3].malformed, "");
  EXPECT_EQ(rows[3].values.back(), deep_arrays);
}

TEST_F(RecordSourceTest, JsonFileWithoutValidRecordsHasNoColumns) {
  const auto empty = write("empty.json", "[]");
  auto source = open(empty, InputFormat::json);
  ASSERT_TRUE(source);
  EXPECT_FALSE(source->has_columns());
  EXPECT_TRUE(read_all(*source).empty());

  const auto junk = write("junk.ndjson", "[1]\n\"text\"\n");
  source = open(junk, InputFormat::ndjson);
  ASSERT_TRUE(source);
  EXPECT_FALSE(source->has_columns());
  const auto rows = read_all(*source);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].malformed, "the record is not a JSON object");
  EXPECT_EQ(rows[1].malformed, "the record is not a JSON object");
}

TEST_F(RecordSourceTest, JsonFileWhoseFirstThousandRecordsAreNotObjectsIsNotAnExport) {
  std::string lines;
  for (int i = 0; i < 1001; ++i)
    lines += std::to_string(i) + "\n";
  const auto file = write("numbers.ndjson", lines + "{\"a\":1}\n");
  auto source = RecordSource::open(file, RecordOptions{InputFormat::ndjson, ','});
  ASSERT_FALSE(source.ok());
  EXPECT_EQ(source.error().kind(), ErrorKind::data);
  EXPECT_EQ(source.error().message(),
            "numbers.ndjson: none of the first 1000 records is a valid JSON object (last error: "
            "the record is not a JSON object); is it a JSON export?");
}

TEST_F(RecordSourceTest, DirectoryListsMatchingRegularFilesInNameOrder) {
  write("b.csv", "x\n");
  write("a.csv", "x\n");
  write("c.txt", "x\n");
  write(".hidden.csv", "x\n");
  fs::create_directories(dir_ / "d.csv");
  auto files = list_export_files(dir_, "*.csv");
  ASSERT_TRUE(files.ok()) << files.error().message();
  ASSERT_EQ(files->size(), 2u);
  EXPECT_EQ((*files)[0].filename(), "a.csv");
  EXPECT_EQ((*files)[1].filename(), "b.csv");

  auto everything = list_export_files(dir_, "*");
  ASSERT_TRUE(everything.ok());
  EXPECT_EQ(everything->size(), 3u); // a.csv, b.csv, c.txt: not the hidden file, not the folder

  auto single = list_export_files(dir_ / "c.txt", "*.csv"); // a file is read whatever the pattern
  ASSERT_TRUE(single.ok());
  EXPECT_EQ(single->size(), 1u);

  auto none = list_export_files(dir_, "*.json");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().kind(), ErrorKind::source);
  EXPECT_NE(none.error().message().find("no files matching file_pattern \"*.json\""),
            std::string::npos);

  auto missing = list_export_files(dir_ / "nope", "*");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message(), "path " + (dir_ / "nope").string() + " does not exist");
}

} // namespace
