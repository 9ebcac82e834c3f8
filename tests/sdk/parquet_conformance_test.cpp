// Conformance against apache/parquet-testing (../shared/samples/parquet-testing, Apache-2.0):
// every file whose features the reader supports is read whole and its values checked against
// what the repository gives — its *_expect.csv files, the values its .md notes state, and files
// that hold the same data under another encoding or codec, which must read the same. Files with
// features the reader refuses (or that are corrupt on purpose) must fail with a clear error that
// names the file. Skipped, with a message, when ../shared/samples is absent.

#include "parquet_rows.hpp"

#include <billdrop/csv.hpp>
#include <billdrop/parquet.hpp>
#include <support/parquet_writer.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

using namespace billdrop;
using namespace billdrop::testing;
namespace fs = std::filesystem;

namespace {

const fs::path samples =
    fs::path(BILLDROP_TEST_SOURCE_DIR) / ".." / "shared" / "samples" / "parquet-testing";

#define REQUIRE_SAMPLES()                                                                          \
  if (!fs::exists(samples))                                                                        \
  GTEST_SKIP() << "../shared/samples/parquet-testing is absent: conformance not checked"

ParquetTable read_sample(const std::string& file) {
  auto source = open_random_access_file(samples / file);
  if (!source.ok()) {
    ParquetTable t;
    t.error = source.error().message();
    return t;
  }
  return read_parquet_table(std::move(source.value()));
}

std::vector<std::string> column(const ParquetTable& t, const std::string& name) {
  std::vector<std::string> out;
  std::size_t c = 0;
  while (c < t.names.size() && t.names[c] != name)
    ++c;
  if (c == t.names.size())
    return out;
  for (const auto& row : t.rows)
    out.push_back(row[c]);
  return out;
}

// Files that must fail, and a word their error must carry.
const std::map<std::string, std::string> refused = {
    {"datapage_v1-corrupt-checksum.parquet", "checksum"},
    {"rle-dict-uncompressed-corrupt-checksum.parquet", "checksum"},
    {"nation.dict-malformed.parquet", "page"},
    // A string chunk of more than 2 GB in one page: refused rather than allocated.
    {"large_string_map.brotli.parquet", "refused"},
};

} // namespace

TEST(ParquetConformanceTest, EveryFileReadsWholeOrFailsNamingFileAndFeature) {
  REQUIRE_SAMPLES();
  int read = 0;
  for (const auto& entry : fs::directory_iterator(samples)) {
    const std::string name = entry.path().filename().string();
    if (entry.path().extension() != ".parquet")
      continue;
    SCOPED_TRACE(name);
    auto reader = ParquetReader::open(entry.path());
    if (auto it = refused.find(name); it != refused.end()) {
      const std::string error =
          reader.ok() ? read_parquet_table(**reader).error : reader.error().message();
      EXPECT_NE(error.find(name), std::string::npos) << error;
      EXPECT_NE(error.find(it->second), std::string::npos) << error;
      continue;
    }
    ASSERT_TRUE(reader.ok()) << reader.error().message();
    const std::uint64_t rows = (*reader)->num_rows();
    auto table = read_parquet_table(**reader);
    EXPECT_EQ(table.error, "");
    EXPECT_EQ(table.rows.size(), rows);
    ++read;
  }
  EXPECT_GE(read, 55);
}

TEST(ParquetConformanceTest, NestedFeaturesBeyondMapsAndListsAreNamedNotGuessed) {
  REQUIRE_SAMPLES();
  auto reader = ParquetReader::open(samples / "nested_lists.snappy.parquet");
  ASSERT_TRUE(reader.ok());
  ASSERT_EQ((*reader)->unsupported().size(), 1u);
  EXPECT_EQ((*reader)->unsupported()[0].name, "a");
  EXPECT_EQ((*reader)->unsupported()[0].reason,
            "a list of lists, maps or structs is not supported");
}

TEST(ParquetConformanceTest, DeltaEncodedFilesMatchTheirExpectedCsv) {
  REQUIRE_SAMPLES();
  for (const char* base : {"delta_binary_packed", "delta_byte_array",
                           "delta_encoding_optional_column", "delta_encoding_required_column"}) {
    SCOPED_TRACE(base);
    auto table = read_sample(std::string(base) + ".parquet");
    ASSERT_EQ(table.error, "");
    auto csv_source = open_file(samples / (std::string(base) + "_expect.csv"));
    ASSERT_TRUE(csv_source.ok());
    CsvReader csv(std::move(csv_source.value()));
    CsvRecord record;
    ASSERT_TRUE(*csv.next(record));
    ASSERT_EQ(record.size(), table.names.size());
    std::size_t r = 0;
    for (;;) {
      auto more = csv.next(record);
      ASSERT_TRUE(more.ok());
      if (!*more)
        break;
      ASSERT_LT(r, table.rows.size());
      ASSERT_EQ(record.size(), table.names.size());
      for (std::size_t c = 0; c < record.size(); ++c) {
        // The expected files write a null as an empty cell.
        const std::string expected = record[c].empty() ? "<null>" : std::string(record[c]);
        ASSERT_EQ(table.rows[r][c], expected) << "row " << r + 1 << " column " << table.names[c];
      }
      ++r;
    }
    EXPECT_EQ(r, table.rows.size());
    EXPECT_GT(r, 0u);
  }
}

TEST(ParquetConformanceTest, DeltaLengthByteArrayHoldsItsDocumentedFruit) {
  REQUIRE_SAMPLES();
  // "apple_banana_mango" followed by i*i, for i < 1000 (the values Arrow's own reader test checks).
  auto table = read_sample("delta_length_byte_array.parquet");
  ASSERT_EQ(table.error, "");
  ASSERT_EQ(table.rows.size(), 1000u);
  for (std::size_t i = 0; i < 1000; ++i)
    ASSERT_EQ(table.rows[i][0], "apple_banana_mango" + std::to_string(i * i));
}

// UTC text ("[-]YYYY…-MM-DDTHH:MM:SS[.ffffff]Z") back to microseconds since the epoch.
__extension__ typedef __int128 Micros;
Micros micros_of(const std::string& text) {
  const std::size_t t = text.find('T');
  const std::size_t dash = text.rfind('-', text.rfind('-', t) - 1);
  const long long year = std::stoll(text.substr(0, dash));
  const auto month = static_cast<unsigned>(std::stoi(text.substr(dash + 1, 2)));
  const auto day = static_cast<unsigned>(std::stoi(text.substr(dash + 4, 2)));
  const Micros days = pqw::days_from_civil(year, month, day);
  Micros us = (days * 86400 + std::stoi(text.substr(t + 1, 2)) * 3600 +
               std::stoi(text.substr(t + 4, 2)) * 60 + std::stoi(text.substr(t + 7, 2))) *
              1000000;
  if (text[t + 9] == '.') {
    std::string fraction = text.substr(t + 10, text.size() - t - 11);
    fraction.resize(6, '0');
    us += std::stoll(fraction);
  }
  return us;
}

TEST(ParquetConformanceTest, Int96FromSparkMatchesItsDocumentedMicroseconds) {
  REQUIRE_SAMPLES();
  // int96_from_spark.md gives the instants as microseconds since the epoch. The last one is past
  // what 64 bits of microseconds plus Spark's Julian-day offset hold: Spark wrapped it around 2^64
  // when it wrote the file, so the file's bits hold that instant minus 2^64 microseconds, which
  // is what the reader prints.
  auto table = read_sample("int96_from_spark.parquet");
  ASSERT_EQ(table.error, "");
  const auto a = column(table, "a");
  ASSERT_EQ(a.size(), 6u);
  const Micros two_to_64 = static_cast<Micros>(1) << 64;
  const Micros documented[] = {1704141296123456,
                               1704070800000000,
                               253402225200000000,
                               1735599600000000,
                               0,
                               static_cast<Micros>(9089380393200000000ull)};
  for (std::size_t i = 0; i < 6; ++i) {
    if (i == 4) {
      EXPECT_EQ(a[i], "<null>");
      continue;
    }
    const Micros expected = i == 5 ? documented[i] - two_to_64 : documented[i];
    EXPECT_TRUE(micros_of(a[i]) == expected) << a[i];
  }
  EXPECT_EQ(a[0], "2024-01-01T20:34:56.123456Z");
  EXPECT_EQ(a[2], "9999-12-31T03:00:00Z");
}

TEST(ParquetConformanceTest, DecimalsOnEveryBackingReadExactly) {
  REQUIRE_SAMPLES();
  // Each holds 1.00 … 24.00 (DECIMAL with scale 2) on INT32, INT64, BYTE_ARRAY and FIXED backing.
  for (const char* file :
       {"int32_decimal.parquet", "int64_decimal.parquet", "byte_array_decimal.parquet",
        "fixed_length_decimal.parquet", "fixed_length_decimal_legacy.parquet"}) {
    SCOPED_TRACE(file);
    auto table = read_sample(file);
    ASSERT_EQ(table.error, "");
    ASSERT_EQ(table.rows.size(), 24u);
    for (std::size_t i = 0; i < 24; ++i)
      EXPECT_EQ(table.rows[i][0], std::to_string(i + 1) + ".00");
  }
}

TEST(ParquetConformanceTest, ConcatenatedGzipMembersReadAsOnePage) {
  REQUIRE_SAMPLES();
  // 513 UINT64 numbers, 1 … 513, in one page compressed as two gzip members.
  auto table = read_sample("concatenated_gzip_members.parquet");
  ASSERT_EQ(table.error, "");
  ASSERT_EQ(table.rows.size(), 513u);
  for (std::size_t i = 0; i < 513; ++i)
    ASSERT_EQ(table.rows[i][0], std::to_string(i + 1));
}

TEST(ParquetConformanceTest, SameDataUnderOtherEncodingsAndCodecsReadsTheSame) {
  REQUIRE_SAMPLES();
  const std::pair<const char*, const char*> pairs[] = {
      // dictionary-encoded small pages vs PLAIN small pages (7300 rows, 13 columns)
      {"alltypes_tiny_pages.parquet", "alltypes_tiny_pages_plain.parquet"},
      // LZ4 in Hadoop framing, LZ4_RAW, and LZ4 as a bare block
      {"hadoop_lz4_compressed.parquet", "lz4_raw_compressed.parquet"},
      {"hadoop_lz4_compressed.parquet", "non_hadoop_lz4_compressed.parquet"},
      {"hadoop_lz4_compressed_larger.parquet", "lz4_raw_compressed_larger.parquet"},
      // uncompressed vs SNAPPY pages with checksums
      {"datapage_v1-uncompressed-checksum.parquet",
       "datapage_v1-snappy-compressed-checksum.parquet"},
  };
  for (const auto& [a, b] : pairs) {
    SCOPED_TRACE(std::string(a) + " vs " + b);
    auto x = read_sample(a);
    auto y = read_sample(b);
    ASSERT_EQ(x.error, "");
    ASSERT_EQ(y.error, "");
    EXPECT_GT(x.rows.size(), 0u);
    EXPECT_EQ(x.names, y.names);
    EXPECT_EQ(x.rows, y.rows);
  }
  // BYTE_STREAM_SPLIT columns beside PLAIN columns of the same values (FLOAT16, FLOAT, DOUBLE,
  // INT32, INT64, FIXED_LEN_BYTE_ARRAY, DECIMAL).
  auto table = read_sample("byte_stream_split_extended.gzip.parquet");
  ASSERT_EQ(table.error, "");
  ASSERT_EQ(table.names.size(), 14u);
  for (std::size_t c = 0; c < 14; c += 2) {
    EXPECT_EQ(table.names[c].substr(0, table.names[c].size() - 6),
              table.names[c + 1].substr(0, table.names[c + 1].size() - 18));
    for (const auto& row : table.rows)
      ASSERT_EQ(row[c], row[c + 1]) << table.names[c];
  }
}

TEST(ParquetConformanceTest, AlltypesFilesAgreeRowForRow) {
  REQUIRE_SAMPLES();
  // alltypes_plain (PLAIN, 8 rows), its SNAPPY copy (ids 6, 7) and its dictionary copy (ids 0, 1):
  // each row of the smaller files is the row with the same id in the first.
  auto plain = read_sample("alltypes_plain.parquet");
  ASSERT_EQ(plain.error, "");
  ASSERT_EQ(plain.rows.size(), 8u);
  EXPECT_EQ(column(plain, "id"),
            (std::vector<std::string>{"4", "5", "6", "7", "2", "3", "0", "1"}));
  std::map<std::string, std::vector<std::string>> by_id;
  for (const auto& row : plain.rows)
    by_id[row[0]] = row;
  for (const char* file : {"alltypes_plain.snappy.parquet", "alltypes_dictionary.parquet"}) {
    auto other = read_sample(file);
    ASSERT_EQ(other.error, "") << file;
    ASSERT_EQ(other.names, plain.names) << file;
    ASSERT_EQ(other.rows.size(), 2u) << file;
    for (const auto& row : other.rows)
      EXPECT_EQ(row, by_id[row[0]]) << file;
  }
  // Its INT96 timestamps are whole minutes of 2009 (Impala's test data).
  for (const auto& t : column(plain, "timestamp_col"))
    EXPECT_EQ(t.rfind("2009-0", 0), 0u) << t;
}

TEST(ParquetConformanceTest, NullsAndListsAndMapsReadAsTheirDocumentedShapes) {
  REQUIRE_SAMPLES();
  // map_no_value.md: my_map's keys are 1…9 with null values; my_list holds the same numbers.
  auto maps = read_sample("map_no_value.parquet");
  ASSERT_EQ(maps.error, "");
  EXPECT_EQ(column(maps, "my_map"), (std::vector<std::string>{"{1=<null>;2=<null>;3=<null>;}",
                                                              "{4=<null>;5=<null>;6=<null>;}",
                                                              "{7=<null>;8=<null>;9=<null>;}"}));
  EXPECT_EQ(column(maps, "my_list"),
            (std::vector<std::string>{"{1;2;3;}", "{4;5;6;}", "{7;8;9;}"}));
  // nulls.snappy: a struct whose only field is null in all 8 rows.
  auto nulls = read_sample("nulls.snappy.parquet");
  ASSERT_EQ(nulls.error, "");
  EXPECT_EQ(column(nulls, "b_struct.b_c_int"), std::vector<std::string>(8, "<null>"));
  // null_list: one row holding an empty list.
  auto empty = read_sample("null_list.parquet");
  ASSERT_EQ(empty.error, "");
  EXPECT_EQ(empty.rows, (std::vector<std::vector<std::string>>{{"{}"}}));
}
