#pragma once
// A test fixture with a fresh folder per test and process. Header-only; test binaries only.

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include <unistd.h>

namespace billdrop::test {

// A fixture with a fresh folder per test and process (ctest runs tests in parallel), removed
// when the test passes and kept for a look when it fails.
class TempFolderTest : public ::testing::Test {
protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = "billdrop_";
    name.append(info->test_suite_name()).append("_").append(info->name()).append("_");
    name.append(std::to_string(::getpid()));
    dir_ = std::filesystem::temp_directory_path() / name;
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    if (!HasFailure())
      std::filesystem::remove_all(dir_);
  }
  std::filesystem::path dir_;
};

} // namespace billdrop::test
