// billdrop/source_files.hpp: origins built in place, byte totals for progress.
#include <billdrop/source_files.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

namespace fs = std::filesystem;

namespace {

TEST(SourceFiles, OriginIsNameColonLineAndReusesItsString) {
  std::string origin;
  billdrop::make_origin(origin, "usage.csv", 42);
  EXPECT_EQ(origin, "usage.csv:42");
  billdrop::make_origin(origin, "a/b.ndjson.gz", 18446744073709551615ull);
  EXPECT_EQ(origin, "a/b.ndjson.gz:18446744073709551615");
  const char* storage = origin.data();
  billdrop::make_origin(origin, "x", 1); // shorter: the same storage
  EXPECT_EQ(origin, "x:1");
  EXPECT_EQ(origin.data(), storage);
}

TEST(SourceFiles, TotalBytesSumsTheFilesThatCanBeRead) {
  const fs::path dir =
      fs::temp_directory_path() / ("billdrop_source_files_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "a") << std::string(1000, 'a');
  std::ofstream(dir / "b") << std::string(24, 'b');
  const std::vector<fs::path> files{dir / "a", dir / "b", dir / "missing"};
  EXPECT_EQ(billdrop::file_bytes(dir / "a"), 1000u);
  EXPECT_EQ(billdrop::file_bytes(dir / "missing"), 0u);
  EXPECT_EQ(billdrop::total_bytes(files), 1024u); // 1000 + 24, the missing one as 0
  EXPECT_EQ(billdrop::total_bytes({}), 0u);
  fs::remove_all(dir);
}

} // namespace
