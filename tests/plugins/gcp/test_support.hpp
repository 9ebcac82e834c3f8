#pragma once
// Shared helpers of the gcp plugin tests: a fresh folder per test, fixture writing, sums.

#include <billdrop/decimal.hpp>
#include <billdrop/testing/harness.hpp>

#include "support/temp_folder.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include <unistd.h>

extern "C" const bd_plugin_descriptor* billdrop_plugin_entry(void);

namespace billdrop::gcp::testing {

// Σ cost/cost of captured rows.
inline Decimal total(const std::vector<billdrop::testing::CapturedRow>& rows) {
  Decimal sum;
  for (const auto& row : rows)
    sum += Decimal::from_string(row.get("cost/cost"));
  return sum;
}

// A fresh folder per test and process (the shared fixture), and fixture writing.
class GcpFolderTest : public billdrop::test::TempFolderTest {
protected:
  std::filesystem::path write(const std::string& name, std::string_view bytes) {
    const std::filesystem::path file = dir_ / name;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << bytes;
    return file;
  }
};

} // namespace billdrop::gcp::testing
