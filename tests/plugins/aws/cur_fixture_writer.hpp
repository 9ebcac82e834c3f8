#pragma once
// Test support: CUR files and report trees that a test writes for itself (CSV text, gzip, zip,
// manifests), so that each test shows the lines it reads and works out what it expects by hand.
// Header-only; aws test binary only.

#include "support/csv_text.hpp"
#include "support/temp_folder.hpp"

#include <gtest/gtest.h>
#include <zip.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <unistd.h>

namespace billdrop::aws::test {

namespace fs = std::filesystem;

using ::billdrop::test::csv_line; // a cell holding a comma, quote or newline is quoted

// A CSV file: `header`, then one line per row, each cell taken from the row by column name
// (absent names are empty cells).
using CsvRow = std::map<std::string, std::string>;
inline std::string csv_text(const std::vector<std::string>& header,
                            const std::vector<CsvRow>& rows) {
  std::string text = csv_line(header);
  for (const CsvRow& row : rows) {
    std::vector<std::string> cells;
    for (const std::string& name : header) {
      const auto it = row.find(name);
      cells.push_back(it == row.end() ? std::string() : it->second);
    }
    text += csv_line(cells);
  }
  return text;
}

inline void write_bytes(const fs::path& file, std::string_view bytes) {
  fs::create_directories(file.parent_path());
  std::ofstream(file, std::ios::binary) << bytes;
}

// gzip (RFC 1952) of `text`, written with zlib's deflate.
inline void write_gzip(const fs::path& file, std::string_view text) {
  z_stream stream{};
  ASSERT_EQ(deflateInit2(&stream, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&stream, text.size()) + 64, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  stream.avail_in = static_cast<uInt>(text.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  ASSERT_EQ(deflate(&stream, Z_FINISH), Z_STREAM_END);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  write_bytes(file, out);
}

// A zip archive holding `entries` (name -> contents), written with libzip.
inline void write_zip(const fs::path& file,
                      const std::vector<std::pair<std::string, std::string>>& entries) {
  fs::create_directories(file.parent_path());
  int code = 0;
  zip_t* archive = zip_open(file.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &code);
  ASSERT_NE(archive, nullptr) << code;
  for (const auto& [name, contents] : entries) {
    zip_source_t* source = zip_source_buffer(archive, contents.data(), contents.size(), 0);
    ASSERT_NE(source, nullptr);
    ASSERT_GE(zip_file_add(archive, name.c_str(), source, ZIP_FL_OVERWRITE), 0);
  }
  ASSERT_EQ(zip_close(archive), 0); // the buffers are read here, while `entries` is alive
}

// A legacy CUR manifest naming `keys` as the current assembly's data files.
inline std::string manifest_json(std::string_view report, std::string_view assembly,
                                 const std::vector<std::string>& keys,
                                 std::string_view compression = "GZIP") {
  std::string json = "{\"assemblyId\":\"" + std::string(assembly) + "\",\"reportName\":\"" +
                     std::string(report) + "\",\"compression\":\"" + std::string(compression) +
                     "\",\"billingPeriod\":{\"start\":\"x\",\"end\":\"y\"},\"reportKeys\":[";
  for (std::size_t i = 0; i < keys.size(); ++i)
    json += (i ? ",\"" : "\"") + keys[i] + "\"";
  return json + "]}";
}

// A legacy report tree <root>/<report>/<period>/<assembly>/<file> with the month manifest; `file`
// must already be written by the caller at the returned folder.
inline fs::path legacy_month_folder(const fs::path& root, std::string_view report,
                                    std::string_view period, std::string_view assembly,
                                    const std::vector<std::string>& files,
                                    std::string_view compression = "GZIP") {
  const fs::path month = root / report / period;
  std::vector<std::string> keys;
  for (const std::string& file : files)
    keys.push_back(std::string(report) + "/" + std::string(period) + "/" + std::string(assembly) +
                   "/" + file);
  write_bytes(month / (std::string(report) + "-Manifest.json"),
              manifest_json(report, assembly, keys, compression));
  return month / assembly;
}

// A fresh folder per test and process, removed when the test passes.
using CurFixtureTest = ::billdrop::test::TempFolderTest;

} // namespace billdrop::aws::test
