#include <billdrop/csv.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <unistd.h>
#include <vector>

using namespace billdrop;

namespace {

using Fields = std::vector<std::string>;

struct Parsed {
  std::vector<Fields> records;
  std::vector<std::uint64_t> lines; // CsvReader::line() after each record
  std::string error;                // "" when the input was read to its end

  bool operator==(const Parsed&) const = default;
};

Parsed parse(std::unique_ptr<ByteSource> source, CsvOptions options = {}) {
  CsvReader reader(std::move(source), options);
  Parsed out;
  CsvRecord record;
  for (;;) {
    auto more = reader.next(record);
    if (!more) {
      out.error = more.error().message();
      return out;
    }
    if (!*more)
      break;
    out.records.emplace_back(record.begin(), record.end());
    out.lines.push_back(reader.line());
    EXPECT_EQ(reader.records(), out.records.size());
  }
  return out;
}

// Parses `text` whole and in several chunkings (one byte at a time included) and checks that
// every chunking gives the same result before returning it.
Parsed parse_text(const std::string& text, CsvOptions options = {}) {
  const Parsed whole = parse(memory_source(text, "t.csv"), options);
  for (std::size_t chunk : {1, 2, 3, 5, 16, 17}) {
    const Parsed split = parse(memory_source(text, "t.csv", chunk), options);
    EXPECT_EQ(split, whole) << "chunk size " << chunk;
  }
  return whole;
}

// The format read one byte at a time with none of the reader's machinery (valid input only): the
// expectation for the reader's fast line splitter and its general path alike.
Parsed reference_parse(std::string_view text, char delimiter = ',', char quote = '"') {
  Parsed out;
  std::size_t i = text.substr(0, 3) == "\xEF\xBB\xBF" ? 3 : 0;
  std::uint64_t line = 1;
  // Past the CR, LF or CR LF at i.
  const auto line_end = [&] {
    if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n')
      ++i;
    ++i;
    ++line;
  };
  while (i < text.size()) {
    if (text[i] == '\r' || text[i] == '\n') {
      line_end();
      continue;
    }
    out.lines.push_back(line);
    Fields fields;
    for (;;) {
      std::string value;
      if (i < text.size() && text[i] == quote) {
        for (++i; text[i] != quote || (i + 1 < text.size() && text[i + 1] == quote); ++i) {
          if (text[i] == quote)
            ++i; // the first of a doubled quote
          else if (text[i] == '\r' || (text[i] == '\n' && text[i - 1] != '\r'))
            ++line;
          value += text[i];
        }
        ++i; // the closing quote
      } else {
        for (; i < text.size() && text[i] != delimiter && text[i] != '\r' && text[i] != '\n'; ++i)
          value += text[i];
      }
      fields.push_back(value);
      if (i < text.size() && text[i] == delimiter) {
        ++i;
        continue;
      }
      if (i < text.size())
        line_end();
      break;
    }
    out.records.push_back(fields);
  }
  return out;
}

// A source whose read sizes vary at random: boundaries fall anywhere.
class RandomChunkSource final : public ByteSource {
public:
  RandomChunkSource(std::string data, unsigned seed) : data_(std::move(data)), rng_(seed) {}
  Result<std::size_t> read(char* buffer, std::size_t capacity) override {
    std::size_t n = std::min({capacity, data_.size() - offset_, std::size_t{1} + rng_() % 40});
    std::copy_n(data_.data() + offset_, n, buffer);
    offset_ += n;
    return n;
  }
  const std::string& name() const override { return name_; }
  std::uint64_t position() const override { return offset_; }
  std::uint64_t total() const override { return data_.size(); }

private:
  std::string data_;
  std::string name_ = "t.csv";
  std::mt19937 rng_;
  std::size_t offset_ = 0;
};

// Appends `columns` random fields of a CSV line (no line end) to `text`: short fields, some of
// them long, a third quoted. With `anything`, quotes inside unquoted fields (not first) and line
// ends and doubled quotes inside quoted ones, which take the reader's general path; without,
// lines as exports write them, with a doubled quote now and then, which the fast splitter takes.
void append_random_fields(std::string& text, std::mt19937& rng, int columns, bool anything) {
  const std::string plain_bytes = "ab x\";";
  const std::string quoted_bytes = plain_bytes + ",\r\n\"";
  for (int c = 0; c < columns; ++c) {
    if (c > 0)
      text += ',';
    const std::size_t length = rng() % 4 == 0 ? rng() % 70 : rng() % 6;
    if (rng() % 3 == 0) {
      text += '"';
      for (std::size_t k = 0; k < length; ++k) {
        char ch = quoted_bytes[rng() % quoted_bytes.size()];
        if (!anything && (ch == '\r' || ch == '\n' || (ch == '"' && rng() % 8 != 0)))
          ch = 'y';
        text += ch == '"' ? std::string("\"\"") : std::string(1, ch);
      }
      text += '"';
    } else {
      for (std::size_t k = 0; k < length; ++k) {
        const char ch = plain_bytes[rng() % plain_bytes.size()];
        text += ch == '"' && (k == 0 || !anything) ? 'q' : ch;
      }
    }
  }
}

} // namespace

TEST(CsvReader, PlainRecordsWithLf) {
  const Parsed p = parse_text("a,b,c\n1,2,3\n4,5,6\n");
  EXPECT_EQ(p.error, "");
  EXPECT_EQ(p.records, (std::vector<Fields>{{"a", "b", "c"}, {"1", "2", "3"}, {"4", "5", "6"}}));
  EXPECT_EQ(p.lines, (std::vector<std::uint64_t>{1, 2, 3}));
}

TEST(CsvReader, CrlfAndLoneCrAndMixedLineEnds) {
  const Parsed p = parse_text("a,b\r\n1,2\r3,4\n5,6\r\n");
  EXPECT_EQ(p.error, "");
  EXPECT_EQ(p.records, (std::vector<Fields>{{"a", "b"}, {"1", "2"}, {"3", "4"}, {"5", "6"}}));
  EXPECT_EQ(p.lines, (std::vector<std::uint64_t>{1, 2, 3, 4}));
}

TEST(CsvReader, LastLineWithoutLineEnd) {
  const Parsed p = parse_text("a,b\n1,2");
  EXPECT_EQ(p.records, (std::vector<Fields>{{"a", "b"}, {"1", "2"}}));
  EXPECT_EQ(p.lines, (std::vector<std::uint64_t>{1, 2}));
  EXPECT_EQ(parse_text("x").records, (std::vector<Fields>{{"x"}}));
}

TEST(CsvReader, BlankLinesAreSkippedButCounted) {
  const Parsed p = parse_text("\n\r\na,b\n\n\r\r\n1,2\n\n");
  EXPECT_EQ(p.error, "");
  EXPECT_EQ(p.records, (std::vector<Fields>{{"a", "b"}, {"1", "2"}}));
  // Lines: 1 "", 2 "", 3 "a,b", 4 "", 5 "" (lone CR), 6 "" (CR LF), 7 "1,2".
  EXPECT_EQ(p.lines, (std::vector<std::uint64_t>{3, 7}));
}

TEST(CsvReader, EmptyInputHasNoRecords) {
  EXPECT_EQ(parse_text("").records.size(), 0u);
  EXPECT_EQ(parse_text("\n\n\r\n").records.size(), 0u);
  EXPECT_EQ(parse_text("\xEF\xBB\xBF").records.size(), 0u);
}

TEST(CsvReader, EmptyFieldsAndTrailingDelimiter) {
  const Parsed p = parse_text(",\na,,b,\n,x\n\"\"\n");
  EXPECT_EQ(p.error, "");
  EXPECT_EQ(p.records, (std::vector<Fields>{{"", ""}, {"a", "", "b", ""}, {"", "x"}, {""}}));
  // Input that ends right after a delimiter still has its empty last field.
  EXPECT_EQ(parse_text("a,").records, (std::vector<Fields>{{"a", ""}}));
}

TEST(CsvReader, QuotedFieldsWithDelimitersAndDoubledQuotes) {
  const Parsed p = parse_text("\"a,b\",\"say \"\"hi\"\"\",\"\"\"\"\n\"\",\"x\"\"\",plain\n");
  EXPECT_EQ(p.error, "");
  EXPECT_EQ(p.records, (std::vector<Fields>{{"a,b", "say \"hi\"", "\""}, {"", "x\"", "plain"}}));
}

TEST(CsvReader, EmbeddedLineEndsKeepPhysicalLineNumbers) {
  const std::string text = "id,note\n"                // line 1
                           "1,\"two\nlines\"\n"       // lines 2-3
                           "2,\"crlf\r\ninside\"\r\n" // lines 4-5
                           "3,\"lone\rcr\"\n"         // lines 6-7
                           "4,\"\n\n\"\n"             // lines 8-10
                           "5,end\n";                 // line 11
  const Parsed p = parse_text(text);
  EXPECT_EQ(p.error, "");
  EXPECT_EQ(p.records, (std::vector<Fields>{{"id", "note"},
                                            {"1", "two\nlines"},
                                            {"2", "crlf\r\ninside"},
                                            {"3", "lone\rcr"},
                                            {"4", "\n\n"},
                                            {"5", "end"}}));
  EXPECT_EQ(p.lines, (std::vector<std::uint64_t>{1, 2, 4, 6, 8, 11}));
}

TEST(CsvReader, QuotedFieldClosingAtEndOfInput) {
  EXPECT_EQ(parse_text("a,\"b\"").records, (std::vector<Fields>{{"a", "b"}}));
  EXPECT_EQ(parse_text("a,\"b\"\"\"").records, (std::vector<Fields>{{"a", "b\""}}));
  EXPECT_EQ(parse_text("\"a\"\r").records, (std::vector<Fields>{{"a"}}));
}

TEST(CsvReader, QuoteInsideUnquotedFieldIsLiteral) {
  const Parsed p = parse_text("ab\"c,d\"\"e,5\" screen\n");
  EXPECT_EQ(p.error, "");
  EXPECT_EQ(p.records, (std::vector<Fields>{{"ab\"c", "d\"\"e", "5\" screen"}}));
}

TEST(CsvReader, ByteOrderMarkIsStrippedOnlyAtStart) {
  const Parsed p = parse_text("\xEF\xBB\xBF"
                              "Cost,Date\n\xEF\xBB\xBFx,y\n");
  EXPECT_EQ(p.records, (std::vector<Fields>{{"Cost", "Date"}, {"\xEF\xBB\xBFx", "y"}}));
  EXPECT_EQ(p.lines, (std::vector<std::uint64_t>{1, 2}));
  // A file that starts with part of a BOM keeps its bytes.
  EXPECT_EQ(parse_text("\xEF\xBBx\n").records, (std::vector<Fields>{{"\xEF\xBBx"}}));
}

TEST(CsvReader, GarbageAfterClosingQuoteNamesLineAndColumn) {
  // Line 2 is `1,"abc"x,3`: the 'x' is in column 8, in field 2.
  const Parsed p = parse_text("h1,h2,h3\n1,\"abc\"x,3\n");
  EXPECT_EQ(p.records, (std::vector<Fields>{{"h1", "h2", "h3"}}));
  EXPECT_EQ(p.error, "t.csv:2:8: unexpected 'x' after the closing quote of field 2; expected the "
                     "delimiter or a line end");
}

TEST(CsvReader, GarbageColumnCountsFromEmbeddedLineEnd) {
  // The field opens on line 1 and closes on line 2, where `cd"` is followed by a space.
  const Parsed p = parse_text("\"ab\ncd\" ,x\n");
  EXPECT_EQ(p.error, "t.csv:2:4: unexpected ' ' after the closing quote of field 1; expected the "
                     "delimiter or a line end");
}

TEST(CsvReader, UnterminatedQuoteNamesOpeningLine) {
  const Parsed p = parse_text("a,b\n1,2\n3,\"open\nstill\nopen");
  EXPECT_EQ(p.records, (std::vector<Fields>{{"a", "b"}, {"1", "2"}}));
  EXPECT_EQ(p.error, "t.csv:5: unterminated quoted field (opened on line 3)");
}

TEST(CsvReader, ErrorLeavesReaderUnusable) {
  CsvReader reader(memory_source("\"a\"b\nc\n", "bad.csv"));
  CsvRecord record;
  auto first = reader.next(record);
  ASSERT_FALSE(first.ok());
  auto second = reader.next(record);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().message(), first.error().message());
  EXPECT_EQ(second.error().kind(), ErrorKind::data);
}

TEST(CsvReader, MaxFieldBytesIsEnforced) {
  CsvOptions options;
  options.max_field_bytes = 10;
  EXPECT_EQ(parse_text("0123456789,x\n", options).records,
            (std::vector<Fields>{{"0123456789", "x"}}));
  EXPECT_EQ(parse_text("a\nx,01234567890\n", options).error,
            "t.csv:2: field 2 is longer than 10 bytes (CsvOptions::max_field_bytes)");
  // Quoted fields count their unescaped bytes: 10 quotes written doubled are 10 bytes.
  EXPECT_EQ(parse_text("\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\n", options).records,
            (std::vector<Fields>{{"\"\"\"\"\"\"\"\"\"\""}}));
  EXPECT_EQ(parse_text("\"0123\n56789a\"\n", options).error,
            "t.csv:1: field 1 is longer than 10 bytes (CsvOptions::max_field_bytes)");
  // A runaway quote stops at the limit instead of reading the whole input.
  options.max_field_bytes = 1000;
  std::string runaway_text(5'000'001, 'x');
  runaway_text[0] = '"';
  const Parsed runaway = parse(memory_source(runaway_text, "t.csv"), options);
  EXPECT_EQ(runaway.error,
            "t.csv:1: field 1 is longer than 1000 bytes (CsvOptions::max_field_bytes)");
}

TEST(CsvReader, OtherDelimiters) {
  CsvOptions semicolon;
  semicolon.delimiter = ';';
  EXPECT_EQ(parse_text("a;\"b;c\";d,e\n", semicolon).records,
            (std::vector<Fields>{{"a", "b;c", "d,e"}}));
  CsvOptions tab;
  tab.delimiter = '\t';
  EXPECT_EQ(parse_text("a\t\"b\tc\"\t\n", tab).records, (std::vector<Fields>{{"a", "b\tc", ""}}));
}

TEST(CsvReader, LongRecordsCrossBlockBoundaries) {
  // Fields of 2.5 MB (one quoted with doubled quotes) exceed the reader's 1 MiB block.
  std::string big(2'500'000, 'q');
  for (std::size_t i = 0; i < big.size(); i += 1000)
    big[i] = '"';
  std::string escaped;
  for (char c : big)
    escaped += c == '"' ? std::string("\"\"") : std::string(1, c);
  const std::string plain(2'500'000, 'p');
  std::string text = "h1,h2\n";
  for (int i = 0; i < 3; ++i)
    text += "\"" + escaped + "\"," + plain + "\n" + std::to_string(i) + ",small\n";
  for (std::size_t chunk : {0, 65'536, 1'000'003}) {
    const Parsed p = parse(memory_source(text, "t.csv", chunk));
    EXPECT_EQ(p.error, "");
    ASSERT_EQ(p.records.size(), 7u);
    for (int i = 0; i < 3; ++i) {
      EXPECT_TRUE(p.records[1 + 2 * i] == (Fields{big, plain})) << "chunk " << chunk;
      EXPECT_EQ(p.records[2 + 2 * i], (Fields{std::to_string(i), "small"}));
    }
    EXPECT_EQ(p.lines, (std::vector<std::uint64_t>{1, 2, 3, 4, 5, 6, 7}));
  }
}

TEST(CsvReader, ManyRecordsAcrossBlocksMatchOneByteChunks) {
  std::string text;
  std::vector<Fields> expected;
  for (int i = 0; i < 40'000; ++i) {
    const std::string id = std::to_string(i);
    text += id + ",\"q," + id + "\",x" + id + "\r\n";
    expected.push_back({id, "q," + id, "x" + id});
  }
  const Parsed whole = parse(memory_source(text, "t.csv"));
  EXPECT_EQ(whole.error, "");
  EXPECT_TRUE(whole.records == expected);
  EXPECT_EQ(whole.lines.back(), 40'000u);
  EXPECT_TRUE(parse(memory_source(text, "t.csv", 1)) == whole);
}

// Generated CSV with quotes, embedded line ends, empty fields and both line-end styles; the
// expected fields and lines come from the generator, and every chunking must agree with them.
TEST(CsvReader, PropertyRandomCsvAnyChunking) {
  std::mt19937 rng(20260901);
  const std::string alphabet = "ab,\"\r\n x";
  for (int round = 0; round < 60; ++round) {
    std::string text;
    std::vector<Fields> expected;
    std::vector<std::uint64_t> lines;
    std::uint64_t line = 1;
    if (rng() % 4 == 0)
      text += "\xEF\xBB\xBF";
    const int n_records = 1 + static_cast<int>(rng() % 30);
    for (int r = 0; r < n_records; ++r) {
      while (rng() % 6 == 0) { // blank lines
        text += rng() % 2 ? "\n" : "\r\n";
        ++line;
      }
      Fields fields(1 + rng() % 5);
      lines.push_back(line);
      for (std::size_t f = 0; f < fields.size(); ++f) {
        const std::size_t length = rng() % 8;
        for (std::size_t k = 0; k < length; ++k)
          fields[f] += alphabet[rng() % alphabet.size()];
        const std::string& value = fields[f];
        const bool needs_quotes = value.find_first_of(",\"\r\n") != std::string::npos ||
                                  (fields.size() == 1 && value.empty());
        if (f > 0)
          text += ',';
        if (needs_quotes || rng() % 5 == 0) {
          text += '"';
          for (std::size_t k = 0; k < value.size(); ++k) {
            const char c = value[k];
            text += c;
            if (c == '"')
              text += '"';
            // Physical lines: LF, lone CR, and CR LF counted once.
            if (c == '\n' && (k == 0 || value[k - 1] != '\r'))
              ++line;
            if (c == '\r')
              ++line;
          }
          text += '"';
        } else {
          text += value;
        }
      }
      expected.push_back(fields);
      const bool last = r + 1 == n_records;
      if (!last || rng() % 2) {
        text += rng() % 2 ? "\n" : "\r\n";
        ++line;
      }
    }
    const Parsed whole = parse(memory_source(text, "t.csv"));
    ASSERT_EQ(whole.error, "") << "round " << round;
    ASSERT_TRUE(whole.records == expected) << "round " << round;
    ASSERT_EQ(whole.lines, lines) << "round " << round;
    for (std::size_t chunk : {1, 2, 3, 7}) {
      ASSERT_TRUE(parse(memory_source(text, "t.csv", chunk)) == whole)
          << "round " << round << " chunk " << chunk;
    }
    ASSERT_TRUE(parse(std::make_unique<RandomChunkSource>(text, round)) == whole)
        << "round " << round;
  }
}

// read_ahead() hands its blocks to the reader, which puts the cut record in front of the next
// block: with blocks of 1 to 64 bytes a boundary falls at every offset of every record (quoted
// fields, doubled quotes, CR LF and embedded line ends included), and records longer than the
// headroom in front of a block take the copying path. Every block size must read as the whole
// text does.
TEST(CsvReader, RecordsStraddlingReadAheadBlocksAtEveryOffset) {
  std::string text = "\xEF\xBB\xBFid,name,cost\r\n";
  std::vector<Fields> expected{{"id", "name", "cost"}};
  for (int i = 0; i < 12; ++i) {
    const std::string id = std::to_string(i);
    text += id + ",\"Amazon \"\"" + id + "\"\", Inc.\",0." + id + (i % 2 ? "\n" : "\r\n");
    expected.push_back({id, "Amazon \"" + id + "\", Inc.", "0." + id});
    text += "\"two\nlines\",," + id + "\n";
    expected.push_back({"two\nlines", "", id});
  }
  const Parsed whole = parse(memory_source(text, "t.csv"));
  ASSERT_EQ(whole.error, "");
  ASSERT_TRUE(whole.records == expected);
  for (std::size_t block = 1; block <= 64; ++block)
    ASSERT_TRUE(parse(read_ahead(memory_source(text, "t.csv"), block, 2)) == whole)
        << "block " << block;
  ASSERT_TRUE(parse(read_ahead(memory_source(text, "t.csv", 1), 3, 2)) == whole)
      << "one-byte reads under the read-ahead";

  // Records of 100 KB and 300 KB (more than the 64 KiB headroom), plain and quoted, between
  // short ones.
  const std::string plain(300'000, 'p');
  std::string quoted(100'000, 'q');
  quoted[50'000] = '"';
  std::string long_text = "a,b\n";
  std::vector<Fields> long_expected{{"a", "b"}};
  for (int i = 0; i < 4; ++i) {
    long_text += plain + ",\"" + quoted.substr(0, 50'000) + "\"\"" + quoted.substr(50'001) +
                 "\"\n" + std::to_string(i) + ",x\n";
    long_expected.push_back({plain, quoted});
    long_expected.push_back({std::to_string(i), "x"});
  }
  for (const std::size_t block : {1000ul, 65'536ul, 70'001ul, 1ul << 20}) {
    const Parsed p = parse(read_ahead(memory_source(long_text, "t.csv"), block, 2));
    EXPECT_EQ(p.error, "");
    EXPECT_TRUE(p.records == long_expected) << "block " << block;
    EXPECT_EQ(p.lines, (std::vector<std::uint64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9}));
  }
}

TEST(CsvReader, ReadAheadErrorsArriveAfterTheRecordsBeforeThem) {
  std::string text = "a,b\n";
  for (int i = 0; i < 2000; ++i)
    text += std::to_string(i) + ",row\n";
  const std::string packed = gzip_compress(text);
  const Parsed p = parse(
      read_ahead(gzip_source(memory_source(packed.substr(0, packed.size() - 9), "t.gz")), 512, 2));
  EXPECT_EQ(p.error, "t.gz: truncated gzip stream (unexpected end of file)");
  ASSERT_GT(p.records.size(), 1u);
  for (std::size_t r = 1; r < p.records.size(); ++r)
    EXPECT_EQ(p.records[r], (Fields{std::to_string(r - 1), "row"}));
}

TEST(CsvReader, ReadsGzipFileAndReportsProgress) {
  const std::string text = "Cost,Date\n\"1.50\",2026-09-01\n2.25,2026-09-02\n";
  const auto path = std::filesystem::temp_directory_path() /
                    ("billdrop_csv_test_" + std::to_string(::getpid()) + ".csv.gz");
  const std::string packed = gzip_compress(text);
  std::ofstream(path, std::ios::binary) << packed;
  auto source = open_file(path);
  ASSERT_TRUE(source.ok()) << source.error().message();
  CsvReader reader(std::move(*source));
  EXPECT_EQ(reader.name(), path.string());
  EXPECT_EQ(reader.total(), packed.size());
  CsvRecord record;
  std::vector<Fields> records;
  for (;;) {
    auto more = reader.next(record);
    ASSERT_TRUE(more.ok()) << more.error().message();
    if (!*more)
      break;
    records.emplace_back(record.begin(), record.end());
  }
  EXPECT_EQ(records, (std::vector<Fields>{
                         {"Cost", "Date"}, {"1.50", "2026-09-01"}, {"2.25", "2026-09-02"}}));
  EXPECT_EQ(reader.position(), packed.size());
  EXPECT_EQ(reader.records(), 3u);
  std::filesystem::remove(path);
}

TEST(CsvReader, RecordViewsAndSize) {
  CsvReader reader(memory_source("a,\"b\"\"\",c\n"));
  CsvRecord record;
  EXPECT_TRUE(record.empty());
  auto more = reader.next(record);
  ASSERT_TRUE(more.ok());
  ASSERT_TRUE(*more);
  ASSERT_EQ(record.size(), 3u);
  EXPECT_FALSE(record.empty());
  EXPECT_EQ(record[0], "a");
  EXPECT_EQ(record[1], "b\"");
  EXPECT_EQ(record[2], "c");
  more = reader.next(record);
  ASSERT_TRUE(more.ok());
  EXPECT_FALSE(*more);
  EXPECT_TRUE(record.empty());
  EXPECT_EQ(reader.line(), 1u);
}

TEST(CsvHeader, FindsExactAndCaseInsensitive) {
  CsvReader reader(memory_source("\xEF\xBB\xBFUsage Hour,Cost,cost, Region\n"));
  CsvRecord record;
  ASSERT_TRUE(reader.next(record).value());
  const CsvHeader header(record);
  ASSERT_EQ(header.size(), 4u);
  EXPECT_EQ(header.name(0), "Usage Hour");
  EXPECT_EQ(header.names(), (std::vector<std::string>{"Usage Hour", "Cost", "cost", " Region"}));
  EXPECT_EQ(header.find("Usage Hour"), 0u);
  EXPECT_EQ(header.find("cost"), 2u);
  EXPECT_EQ(header.find("COST"), CsvHeader::npos);
  EXPECT_EQ(header.find_ci("COST"), 1u); // the first match wins
  EXPECT_EQ(header.find_ci("usage hour"), 0u);
  EXPECT_EQ(header.find("Region"), CsvHeader::npos); // no trimming
  EXPECT_EQ(header.find_ci(" region"), 3u);
  EXPECT_EQ(header.find_ci("usage hou"), CsvHeader::npos);
  EXPECT_EQ(CsvHeader().find("x"), CsvHeader::npos);
}

TEST(CsvHeader, FromNames) {
  const CsvHeader header(std::vector<std::string>{"a", "B"});
  EXPECT_EQ(header.find_ci("b"), 1u);
  EXPECT_EQ(header.find("b"), CsvHeader::npos);
}

// Machine-written exports: long lines of short fields, some quoted (with delimiters inside),
// some empty, some with doubled quotes or CR LF ends. The expected fields come from the
// generator, and every chunking must agree (the whole-buffer read takes the fast line splitter,
// one byte at a time takes the general state machine).
TEST(CsvReader, RandomExportLinesSplitAsGenerated) {
  std::mt19937 rng(11);
  const std::vector<std::string> pieces = {
      "",     "0.25", "us-east-1",       "Amazon Web Services, Inc.",
      "a\"b", "x",    "arn:aws:ec2:i-1", "$0.096 per hour"};
  std::string text;
  std::vector<Fields> expected;
  for (int row = 0; row < 300; ++row) {
    Fields fields;
    const int columns = 1 + static_cast<int>(rng() % 40);
    for (int c = 0; c < columns; ++c) {
      const std::string value = pieces[rng() % pieces.size()];
      const bool must_quote = value.find_first_of(",\"") != std::string::npos;
      if (c > 0)
        text += ',';
      if (must_quote || rng() % 5 == 0) {
        text += '"';
        for (char ch : value)
          text += ch == '"' ? std::string("\"\"") : std::string(1, ch);
        text += '"';
      } else {
        text += value;
      }
      fields.push_back(value);
    }
    text += rng() % 4 == 0 ? "\r\n" : "\n";
    expected.push_back(fields);
  }
  const Parsed parsed = parse_text(text);
  EXPECT_EQ(parsed.error, "");
  EXPECT_EQ(parsed.records, expected);
  ASSERT_EQ(parsed.lines.size(), 300u);
  EXPECT_EQ(parsed.lines.back(), 300u);
}

// Lines that put a delimiter, quote, CR or LF at every offset from 0 to 80 of the line (around
// the fast splitter's 16- and 32-byte steps), quoted fields at the start, middle and end, fields
// longer than a step, and lines that end exactly where a read or a read-ahead block does. The
// expected fields are written out per line shape.
TEST(CsvReader, SpecialBytesAtEveryOffsetAroundSplitterSteps) {
  std::string text;
  std::vector<Fields> expected;
  std::vector<std::uint64_t> lines;
  std::uint64_t line = 1;
  const auto add = [&](const std::string& row, std::vector<Fields> records, int physical_lines) {
    text += row;
    for (Fields& record : records) {
      expected.push_back(std::move(record));
      lines.push_back(line);
      ++line;
    }
    line += physical_lines - static_cast<int>(records.size());
  };
  for (std::size_t k = 0; k <= 80; ++k) {
    const std::string x(k, 'x');
    add(x + ",b\n", {{x, "b"}}, 1);
    add("y" + x + "\r\n", {{"y" + x}}, 1);
    add("a," + x + ",\"q,q\",z\n", {{"a", x, "q,q", "z"}}, 1);
    add("\"" + x + "\",z\r\n", {{x, "z"}}, 1);
    add("a,\"" + x + "\"\n", {{"a", x}}, 1);
    add("a,\"" + x + "\"\r\n", {{"a", x}}, 1);
    add("y" + x + "\"q\n", {{"y" + x + "\"q"}}, 1);
    add("\"" + x + "\"\"z\",w\n", {{x + "\"z", "w"}}, 1);
    add("y" + x + "\rv\n", {{"y" + x}, {"v"}}, 2);
    add("\"" + x + "\r\n" + x + "\",w\n", {{x + "\r\n" + x, "w"}}, 2);
    add("\"" + x + "\n,\",w\n", {{x + "\n,", "w"}}, 2);
    add(",,," + x + ",,,\n", {{"", "", "", x, "", "", ""}}, 1);
    add(x + ",\n", {{x, ""}}, 1);
  }
  text += "last,line";
  expected.push_back({"last", "line"});
  lines.push_back(line);
  const Parsed want{expected, lines, ""};
  ASSERT_EQ(reference_parse(text), want);
  EXPECT_EQ(parse(memory_source(text, "t.csv")), want);
  for (std::size_t chunk : {1, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100})
    EXPECT_EQ(parse(memory_source(text, "t.csv", chunk)), want) << "chunk " << chunk;
  for (std::size_t block : {16, 31, 32, 33, 64, 100})
    EXPECT_EQ(parse(read_ahead(memory_source(text, "t.csv"), block, 2)), want) << "block " << block;

  // Each shape alone, its line ending exactly where the first read (or block) does.
  for (std::size_t k : {0, 13, 14, 15, 16, 17, 30, 31, 32, 33, 34, 62, 63, 64, 65}) {
    const std::string x(k, 'x');
    for (const std::string& row : {x + "a\n", x + "a\r\n", "\"" + x + "\"\n", "\"" + x + "\"\r\n",
                                   "a,\"" + x + "\"\n", x + ",\"q\"\n", "\"" + x + "\"\"\"\n"}) {
      const std::string two = row + row + "z\n";
      const Parsed reference = reference_parse(two);
      ASSERT_EQ(reference.records.size(), 3u);
      EXPECT_EQ(parse(memory_source(two, "t.csv", row.size())), reference) << row;
      EXPECT_EQ(parse(read_ahead(memory_source(two, "t.csv"), row.size(), 2)), reference) << row;
    }
  }
}

// Random valid CSV with long and short fields, every special byte inside quotes, stray quotes
// inside unquoted fields, blank lines and every line end, against the reference reading, for
// any split of the input.
TEST(CsvReader, RandomLinesMatchReferenceReadingAnySplit) {
  std::mt19937 rng(4180);
  for (int round = 0; round < 200; ++round) {
    CsvOptions options;
    if (round % 5 == 4)
      options.delimiter = round % 2 ? '\t' : ';';
    const char d = options.delimiter;
    const std::string plain_bytes = std::string("ab x\"") + (d == ',' ? ';' : ',');
    const std::string quoted_bytes = plain_bytes + d + "\r\n\"";
    const std::string line_ends[] = {"\n", "\r\n", "\r"};
    std::string text;
    const int records = 1 + static_cast<int>(rng() % 12);
    for (int r = 0; r < records; ++r) {
      if (rng() % 8 == 0)
        text += line_ends[rng() % 3]; // a blank line
      const int columns = 1 + static_cast<int>(rng() % 12);
      for (int c = 0; c < columns; ++c) {
        if (c > 0)
          text += d;
        const std::size_t length = rng() % 4 == 0 ? rng() % 70 : rng() % 6;
        if (rng() % 3 == 0) {
          text += '"';
          for (std::size_t k = 0; k < length; ++k) {
            const char ch = quoted_bytes[rng() % quoted_bytes.size()];
            text += ch == '"' ? std::string("\"\"") : std::string(1, ch);
          }
          text += '"';
        } else {
          for (std::size_t k = 0; k < length; ++k) {
            const char ch = plain_bytes[rng() % plain_bytes.size()];
            text += k == 0 && ch == '"' ? 'q' : ch;
          }
        }
      }
      if (r + 1 < records || rng() % 2)
        text += line_ends[rng() % 3];
    }
    const Parsed want = reference_parse(text, d);
    ASSERT_EQ(parse(memory_source(text, "t.csv"), options), want) << "round " << round;
    for (std::size_t chunk : {1, 5, 16, 31, 32, 33, 64})
      ASSERT_EQ(parse(memory_source(text, "t.csv", chunk), options), want)
          << "round " << round << " chunk " << chunk;
    for (std::size_t block : {7, 32, 33})
      ASSERT_EQ(parse(read_ahead(memory_source(text, "t.csv"), block, 2), options), want)
          << "round " << round << " block " << block;
  }
}

TEST(CsvReader, LineLongerThanMaxFieldBytesWithShortFields) {
  CsvOptions options;
  options.max_field_bytes = 10;
  const std::string text = "aaaa,bbbb,cccc,\"dd,d\"\n0123456789,0123456789\r\n";
  const Parsed p = parse_text(text, options);
  EXPECT_EQ(p.error, "");
  EXPECT_EQ(p.records,
            (std::vector<Fields>{{"aaaa", "bbbb", "cccc", "dd,d"}, {"0123456789", "0123456789"}}));
  EXPECT_EQ(parse_text(text + "0123456789,01234567890\n", options).error,
            "t.csv:3: field 2 is longer than 10 bytes (CsvOptions::max_field_bytes)");
}

// With a delimiter or quote that is also a line end (or each other), bytes alone cannot tell
// them apart: such options read as the general path reads them.
TEST(CsvReader, OptionsWhoseBytesCoincide) {
  CsvOptions same;
  same.delimiter = '"';
  same.quote = '"';
  EXPECT_EQ(parse_text("a\"b\n", same).records, (std::vector<Fields>{{"a", "b"}}));
  CsvOptions newline_quote;
  newline_quote.quote = '\n';
  EXPECT_EQ(parse_text("a,b\nc,d\n", newline_quote).records,
            (std::vector<Fields>{{"a", "b"}, {"c", "d"}}));
}

// Quoted fields with doubled quotes (JSON tags as exports write them) are taken by the fast line
// splitter and unescaped once the line is taken: up to eight such fields per line there, more
// on the general path. Lines with 0 to 12 of them, at every offset around the splitter's steps,
// must read the same whole and one byte at a time, and equal the generator's fields.
TEST(CsvReader, DoubledQuotesInManyFieldsOfALine) {
  std::string text;
  std::vector<Fields> expected;
  for (int escaped = 0; escaped <= 12; ++escaped) {
    for (std::size_t k = 0; k <= 40; k += 3) {
      Fields fields;
      std::string line;
      const std::string pad(k, 'p');
      line += pad;
      fields.push_back(pad);
      for (int e = 0; e < escaped; ++e) {
        const std::string value = "{\"env\": \"prod\", \"n\": \"" + std::to_string(e) + "\"}" +
                                  std::string(k % 7, 'x') + "\"";
        std::string quoted = "\"";
        for (char c : value)
          quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
        quoted += '"';
        line += "," + quoted + ",plain";
        fields.push_back(value);
        fields.push_back("plain");
      }
      line += ",\"\"\"\",\"\"";
      fields.push_back("\"");
      fields.push_back("");
      text += line + (k % 2 ? "\r\n" : "\n");
      expected.push_back(fields);
    }
  }
  const Parsed whole = parse_text(text);
  EXPECT_EQ(whole.error, "");
  EXPECT_EQ(whole.records, expected);
  EXPECT_EQ(parse(memory_source(text, "t.csv", 1)), whole);
  EXPECT_EQ(parse(read_ahead(memory_source(text, "t.csv"), 97, 2)), whole);
  EXPECT_EQ(reference_parse(text), whole);
}

// next_head() splits only the first fields of each record: they equal the reference reading's
// first fields, `total` its field count, and the lines and errors are next()'s, on random CSV
// (quoted fields with delimiters, doubled quotes and line ends, stray quotes, every line end),
// read whole, one byte at a time, and through the read-ahead thread.
TEST(CsvReader, NextHeadSplitsTheFirstFieldsAndCountsTheRest) {
  std::mt19937 rng(2024);
  const std::string line_ends[] = {"\n", "\r\n", "\r"};
  for (int round = 0; round < 150; ++round) {
    std::string text;
    const int records = 1 + static_cast<int>(rng() % 12);
    for (int r = 0; r < records; ++r) {
      append_random_fields(text, rng, 1 + static_cast<int>(rng() % 40), true);
      if (r + 1 < records || rng() % 2)
        text += line_ends[rng() % 3];
    }
    const Parsed want = reference_parse(text);
    for (const std::size_t head : {0, 1, 3, 8, 33, 100}) {
      const auto read = [&](std::unique_ptr<ByteSource> source, const char* how) {
        CsvReader reader(std::move(source));
        CsvRecord record;
        std::size_t total = 0;
        for (std::size_t i = 0;; ++i) {
          auto more = reader.next_head(record, head, total);
          ASSERT_TRUE(more) << more.error().message();
          if (!*more) {
            EXPECT_EQ(i, want.records.size()) << how;
            return;
          }
          ASSERT_LT(i, want.records.size()) << how;
          const Fields& full = want.records[i];
          EXPECT_EQ(total, full.size()) << how << " round " << round << " record " << i;
          const Fields first(full.begin(), full.begin() + std::min(head, full.size()));
          EXPECT_EQ(Fields(record.begin(), record.end()), first)
              << how << " round " << round << " record " << i << " head " << head;
          EXPECT_EQ(reader.line(), want.lines[i]) << how;
        }
      };
      read(memory_source(text, "t.csv"), "whole");
      read(memory_source(text, "t.csv", 1), "bytes");
      read(read_ahead(memory_source(text, "t.csv"), 33, 2), "read-ahead");
    }
  }
}

// select(): the chosen fields as next() reads them, every other field empty, the field count and
// line numbers unchanged, on lines that take the fast splitter (up to 150 fields, so that whole
// 64-byte steps hold no chosen field) and lines that take the general path (a line end or many
// doubled quotes inside quotes). The selection changes between records, next_head() combines
// with it, and a record another reader filled first is emptied where it must be.
TEST(CsvReader, SelectSplitsOnlyTheChosenFieldsAndEmptiesTheRest) {
  std::mt19937 rng(1304);
  const std::string line_ends[] = {"\n", "\r\n", "\r"};
  for (int round = 0; round < 120; ++round) {
    std::string text;
    const int records = 1 + static_cast<int>(rng() % 10);
    for (int r = 0; r < records; ++r) {
      // Most lines as exports write them, for the fast splitter; one in five with anything, for
      // the general path.
      append_random_fields(text, rng, 1 + static_cast<int>(rng() % 150), rng() % 5 == 0);
      if (r + 1 < records || rng() % 2)
        text += line_ends[rng() % 3];
    }
    const Parsed want = reference_parse(text);

    // The selections tried, the first for the first half of the records, the second after.
    const auto random_selection = [&](unsigned per_mille) {
      std::vector<std::size_t> chosen;
      for (std::size_t i = 0; i < 160; ++i)
        if (rng() % 1000 < per_mille)
          chosen.push_back(i);
      std::shuffle(chosen.begin(), chosen.end(), rng);
      return chosen;
    };
    const std::vector<std::vector<std::size_t>> selections = {{},
                                                              {0},
                                                              {1, 5, 70, 140},
                                                              {149},
                                                              random_selection(100),
                                                              random_selection(500),
                                                              random_selection(950)};
    const std::vector<std::size_t>& first = selections[rng() % selections.size()];
    const std::vector<std::size_t>& second = selections[rng() % selections.size()];
    const std::size_t head = rng() % 3 == 0 ? rng() % 160 : CsvHeader::npos;

    const auto read = [&](std::unique_ptr<ByteSource> source, const char* how) {
      CsvReader reader(std::move(source));
      CsvRecord record;
      // Filled first by another reader, without a selection: every field set.
      CsvReader other(memory_source(std::string(200, ',') + "z\n", "o.csv"));
      ASSERT_TRUE(other.next(record).value());
      reader.select(first);
      const std::vector<std::size_t>* chosen = &first;
      for (std::size_t i = 0;; ++i) {
        if (i == want.records.size() / 2) {
          if (round % 5 == 0) {
            reader.select_all();
            chosen = nullptr;
          } else {
            reader.select(second);
            chosen = &second;
          }
        }
        std::size_t total = 0;
        auto more =
            head == CsvHeader::npos ? reader.next(record) : reader.next_head(record, head, total);
        ASSERT_TRUE(more) << more.error().message();
        if (!*more) {
          EXPECT_EQ(i, want.records.size()) << how;
          return;
        }
        ASSERT_LT(i, want.records.size()) << how;
        const Fields& full = want.records[i];
        const std::size_t size = std::min(full.size(), head);
        ASSERT_EQ(record.size(), size) << how << " round " << round << " record " << i;
        if (head != CsvHeader::npos) {
          EXPECT_EQ(total, full.size()) << how;
        }
        for (std::size_t f = 0; f < size; ++f) {
          const bool wanted =
              chosen == nullptr || std::find(chosen->begin(), chosen->end(), f) != chosen->end();
          ASSERT_EQ(record[f], wanted ? full[f] : std::string())
              << how << " round " << round << " record " << i << " field " << f;
        }
        EXPECT_EQ(reader.line(), want.lines[i]) << how;
      }
    };
    read(memory_source(text, "t.csv"), "whole");
    read(memory_source(text, "t.csv", 7), "chunks of 7");
    read(read_ahead(memory_source(text, "t.csv"), 33, 2), "read-ahead");
  }
}

// Syntax errors in unchosen fields are found as in chosen ones.
TEST(CsvReader, SelectStillChecksTheFieldsItPassesOver) {
  const std::string bad = "a,b,c\nx,\"y\"z,w\n";
  CsvReader reader(memory_source(bad, "t.csv"));
  const std::vector<std::size_t> chosen = {0};
  reader.select(chosen);
  CsvRecord record;
  ASSERT_TRUE(reader.next(record).value());
  EXPECT_EQ(record[0], "a");
  EXPECT_EQ(record[1], "");
  const auto more = reader.next(record);
  ASSERT_FALSE(more);
  EXPECT_NE(more.error().message().find("t.csv:2:"), std::string::npos) << more.error().message();
  EXPECT_NE(more.error().message().find("after the closing quote of field 2"), std::string::npos)
      << more.error().message();
}
