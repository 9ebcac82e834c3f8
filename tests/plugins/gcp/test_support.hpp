#pragma once
// Shared helpers of the gcp plugin tests: a fresh folder per test, fixture writing, sums.

#include <billdrop/decimal.hpp>
#include <billdrop/testing/harness.hpp>

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

// A fresh folder per test and process (ctest runs tests in parallel), removed when the test
// passes and kept for a look when it fails.
class GcpFolderTest : public ::testing::Test {
protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           ("billdrop_gcp_" + std::string(info->test_suite_name()) + "_" + info->name() + "_" +
            std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    if (!HasFailure())
      std::filesystem::remove_all(dir_);
  }
  std::filesystem::path write(const std::string& name, std::string_view bytes) {
    const std::filesystem::path file = dir_ / name;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << bytes;
    return file;
  }
  std::filesystem::path dir_;
};

} // namespace billdrop::gcp::testing
