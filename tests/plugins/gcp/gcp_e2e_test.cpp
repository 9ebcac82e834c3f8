// The gcp plugin in the real host: `billdrop convert` loads the built billdrop_gcp.so and writes
// month snapshots. Expected totals as in gcp_plugin_test.cpp (Python json + decimal).
#include <billdrop/byte_source.hpp>
#include <billdrop/decimal.hpp>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

namespace {

namespace fs = std::filesystem;
using billdrop::Decimal;

const fs::path fixtures = fs::path(BILLDROP_TEST_SOURCE_DIR) / "tests/plugins/gcp/fixtures";

std::string read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string quote(const std::string& arg) {
  std::string quoted = "'";
  for (char c : arg)
    quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

struct MonthLine {
  std::string month;
  long rows = 0;
  std::string cost;
};

std::vector<MonthLine> months_of(const std::string& json) {
  std::vector<MonthLine> months;
  const std::regex pattern(
      R"re(\{"month":"([0-9-]+)","rows":([0-9]+),"invalid_rows":[0-9]+,"cost":"([-0-9.]+)")re");
  for (auto it = std::sregex_iterator(json.begin(), json.end(), pattern);
       it != std::sregex_iterator(); ++it)
    months.push_back({(*it)[1], std::stol((*it)[2]), (*it)[3]});
  return months;
}

class GcpE2eTest : public ::testing::Test {
protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("billdrop_gcp_e2e_" + std::string(info->name()) + "_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (!HasFailure())
      fs::remove_all(dir_);
  }

  int convert(const std::string& config_text) {
    const fs::path config = dir_ / "gcp.toml";
    std::ofstream(config) << config_text;
    const std::string command = quote(BILLDROP_TEST_BILLDROP_EXE) + " --no-progress --plugin-dir " +
                                quote(BILLDROP_TEST_PLUGIN_DIR) +
                                " convert --plugin gcp --plugin-config " + quote(config.string()) +
                                " --out " + quote((dir_ / "out").string()) + " --format json >" +
                                quote((dir_ / "stdout.txt").string()) + " 2>" +
                                quote((dir_ / "stderr.txt").string()) + " </dev/null";
    const int status = std::system(command.c_str());
    out_ = read_text(dir_ / "stdout.txt");
    err_ = read_text(dir_ / "stderr.txt");
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  fs::path dir_;
  std::string out_;
  std::string err_;
};

TEST_F(GcpE2eTest, ConvertsAnNdjsonExtractIntoMonthSnapshots) {
  ASSERT_EQ(convert("path = \"" + (fixtures / "billing_2024.ndjson").string() + "\"\n"), 0)
      << out_ << err_;
  const auto months = months_of(out_);
  ASSERT_EQ(months.size(), 2u) << out_;
  EXPECT_EQ(months[0].month, "2024-07");
  EXPECT_EQ(months[0].rows, 6); // Python: 6 rows, 10.750000
  EXPECT_EQ(Decimal::from_string(months[0].cost), Decimal::from_string("10.75"));
  EXPECT_EQ(months[1].month, "2024-08");
  EXPECT_EQ(months[1].rows, 7); // Python: 7 rows, 61.36
  EXPECT_EQ(Decimal::from_string(months[1].cost), Decimal::from_string("61.36"));
  // Every row passed the host's CBF validation (types, region, tag keys, resource ids).
  EXPECT_EQ(out_.find("\"invalid_rows\":1"), std::string::npos) << out_;
}

TEST_F(GcpE2eTest, ATruncatedFileCostsOnlyItsMonth) {
  fs::create_directories(dir_ / "in");
  fs::copy_file(fixtures / "billing_2024.csv", dir_ / "in" / "a.csv");
  std::string september = R"({"usage_start_time":"2024-09-01 00:00:00 UTC","cost":1.5})"
                          "\n";
  for (int i = 0; i < 14; ++i)
    september += september;
  std::string gzip = billdrop::gzip_compress(september);
  gzip.resize(gzip.size() / 2);
  std::ofstream(dir_ / "in" / "b_2024-09.ndjson.gz", std::ios::binary) << gzip;

  EXPECT_NE(convert("path = \"" + (dir_ / "in").string() + "\"\n"), 0) << out_ << err_;
  const auto months = months_of(out_);
  ASSERT_EQ(months.size(), 3u) << out_;
  EXPECT_EQ(Decimal::from_string(months[0].cost), Decimal::from_string("10.75")); // as above
  EXPECT_EQ(Decimal::from_string(months[1].cost), Decimal::from_string("61.36"));
  EXPECT_EQ(months[2].month, "2024-09");
  EXPECT_EQ(months[2].rows, 0);
  EXPECT_NE(out_.find("b_2024-09.ndjson.gz:"), std::string::npos) << out_;
}

} // namespace
