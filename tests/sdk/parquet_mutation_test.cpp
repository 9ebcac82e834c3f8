// Mutations of real Parquet files (bit flips, truncations, lengths and counts overwritten, the
// footer's length swapped) must never crash the reader: each ends with all rows read or with an
// error that names the file. Runs over the parquet-testing files (../shared/samples) when present
// and over files of the test writer always; CI also runs it under AddressSanitizer.
//
// BILLDROP_PARQUET_MUTATIONS sets the cases per file (default 300).

#include "parquet_rows.hpp"

#include <billdrop/parquet.hpp>
#include <support/parquet_writer.hpp>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

using namespace billdrop;
using namespace billdrop::testing;
namespace fs = std::filesystem;

namespace {

std::size_t cases_per_file() {
  if (const char* n = std::getenv("BILLDROP_PARQUET_MUTATIONS"))
    return static_cast<std::size_t>(std::strtoul(n, nullptr, 10));
  return 300;
}

// One mutation of `data`, chosen by `rng`; half of them aim at the footer and page headers'
// neighbourhood (the last 2 KB and the first 256 bytes), where lengths and counts live.
std::string mutate(const std::string& data, std::mt19937_64& rng, std::string& what) {
  std::string out = data;
  auto pick = [&](bool focused) -> std::size_t {
    if (focused && out.size() > 16 && rng() % 2 == 0) {
      const std::size_t tail = std::min<std::size_t>(2048, out.size() - 8);
      return out.size() - 8 - 1 - rng() % tail;
    }
    if (focused && rng() % 3 == 0)
      return 4 + rng() % std::min<std::size_t>(256, out.size() - 4);
    return rng() % out.size();
  };
  switch (rng() % 6) {
  case 0:
  case 1: { // flip 1 to 4 bits
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < flips; ++i) {
      const std::size_t at = pick(true);
      out[at] = static_cast<char>(out[at] ^ (1 << (rng() % 8)));
    }
    what = "bit flips";
    break;
  }
  case 2: { // truncate, keeping the trailing magic so the footer is looked for
    const std::size_t keep = rng() % out.size();
    out = out.substr(0, keep) + out.substr(out.size() - 8);
    what = "truncation to " + std::to_string(keep);
    break;
  }
  case 3: { // a varint or length byte made huge
    const std::size_t at = pick(true);
    const char values[] = {'\x7f', '\xff', '\x80', '\0', '\x0f', '\x1c'};
    out[at] = values[rng() % sizeof values];
    what = "byte set";
    break;
  }
  case 4: { // swap two nearby 4-byte words (lengths, sizes, offsets trade places)
    const std::size_t a = pick(true);
    const std::size_t b = std::min(out.size() - 4, a + 4 + rng() % 24);
    if (a + 4 <= out.size() && b + 4 <= out.size())
      for (int i = 0; i < 4; ++i)
        std::swap(out[a + static_cast<std::size_t>(i)], out[b + static_cast<std::size_t>(i)]);
    what = "swapped words";
    break;
  }
  default: { // the footer length itself
    std::uint32_t len = static_cast<std::uint32_t>(rng());
    if (rng() % 2)
      len %= static_cast<std::uint32_t>(out.size() + 16);
    std::memcpy(out.data() + out.size() - 8, &len, 4);
    what = "footer length " + std::to_string(len);
    break;
  }
  }
  return out;
}

std::size_t run_mutations(const std::string& name, const std::string& data, std::uint64_t seed,
                          std::size_t cases) {
  std::mt19937_64 rng(seed);
  std::size_t errors = 0;
  for (std::size_t i = 0; i < cases; ++i) {
    std::string what;
    const std::string mutated = mutate(data, rng, what);
    auto table = read_parquet_table(memory_random_access(mutated, name));
    if (!table.error.empty()) {
      ++errors;
      EXPECT_EQ(table.error.rfind(name + ": ", 0), 0u)
          << "case " << i << " (" << what << "): " << table.error;
    }
  }
  return errors;
}

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

} // namespace

TEST(ParquetMutationTest, WriterFilesNeverCrashAndFailClearly) {
  std::vector<std::vector<PqCell>> rows;
  for (int i = 0; i < 60; ++i) {
    PqCell tags;
    for (int k = 0; k < i % 3; ++k)
      tags.entries.emplace_back("user:k" + std::to_string(k), "v" + std::to_string(i));
    rows.push_back({"id" + std::to_string(i % 7), std::to_string(i) + ".5",
                    "2024-01-0" + std::to_string(1 + i % 9) + "T00:00:00Z", tags});
  }
  std::size_t total = 0;
  for (int codec : {0, 1, 2, 6})
    for (bool v2 : {false, true}) {
      PqOptions options;
      options.codec = codec;
      options.page_v2 = v2;
      options.rows_per_page = 16;
      options.rows_per_group = 40;
      ParquetWriter writer({{"id", PqKind::string},
                            {"cost", PqKind::decimal64, true, 3},
                            {"start", PqKind::timestamp_us},
                            {"tags", PqKind::map_string_string}},
                           options);
      for (const auto& row : rows)
        writer.add_row(row);
      const std::string name = "writer-" + std::to_string(codec) + (v2 ? "-v2" : "-v1");
      const std::size_t cases = cases_per_file();
      const std::size_t errors = run_mutations(name, writer.finish(), 42 + codec, cases);
      EXPECT_GT(errors, 0u) << name;
      total += cases;
    }
  EXPECT_GE(total, 8 * cases_per_file());
}

TEST(ParquetMutationTest, SampleFilesNeverCrashAndFailClearly) {
  const fs::path samples =
      fs::path(BILLDROP_TEST_SOURCE_DIR) / ".." / "shared" / "samples" / "parquet-testing";
  if (!fs::exists(samples))
    GTEST_SKIP() << "../shared/samples/parquet-testing is absent: sample mutations not run";
  std::size_t files = 0, total = 0;
  std::uint64_t seed = 1;
  for (const auto& entry : fs::directory_iterator(samples)) {
    if (entry.path().extension() != ".parquet" || fs::file_size(entry.path()) > 64 * 1024)
      continue; // the large files add time, not cases of another kind
    const std::string name = entry.path().filename().string();
    run_mutations(name, slurp(entry.path()), seed++, cases_per_file());
    ++files;
    total += cases_per_file();
  }
  EXPECT_GE(files, 40u);
  RecordProperty("cases", static_cast<int>(total));
}
