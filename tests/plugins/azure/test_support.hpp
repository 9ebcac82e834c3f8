#pragma once
// Shared helpers of the azure plugin tests.

#include <billdrop/decimal.hpp>
#include <billdrop/testing/harness.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <unistd.h>
#include <vector>

extern "C" const bd_plugin_descriptor* billdrop_plugin_entry(void);

namespace billdrop::azure::testing {

inline std::filesystem::path fixture(std::string_view name) {
  return std::filesystem::path(AZURE_FIXTURES) / std::string(name);
}

// A fresh folder per test and process (ctest runs tests in parallel).
inline std::filesystem::path temp_dir(std::string_view test) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("billdrop_azure_" + std::string(test) + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

inline void write_file(const std::filesystem::path& path, std::string_view bytes) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The first `lines` lines of a fixture (its header included).
inline std::string fixture_head(std::string_view name, int lines) {
  const std::string text = read_file(fixture(name));
  std::size_t end = 0;
  for (int i = 0; i < lines; ++i)
    end = text.find('\n', end) + 1;
  return text.substr(0, end);
}

inline Decimal sum(const std::vector<billdrop::testing::CapturedRow>& rows, std::string_view key) {
  Decimal total;
  for (const auto& row : rows)
    total += Decimal::from_string(row.get(key));
  return total;
}

} // namespace billdrop::azure::testing
