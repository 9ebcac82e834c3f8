// The focus plugin in the real host: `billdrop convert` loads the built billdrop_focus.so and
// writes month snapshots. Expected totals: Python's csv + decimal over the fixtures (see
// focus_plugin_test.cpp for the snippet), or summed by hand where the comment says so.
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

const fs::path fixtures = BILLDROP_FOCUS_FIXTURES;

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
  std::string error;
};

// The month entries of `convert --format json`.
std::vector<MonthLine> months_of(const std::string& json) {
  std::vector<MonthLine> months;
  const std::regex pattern(
      R"re(\{"month":"([0-9-]+)","rows":([0-9]+),"invalid_rows":[0-9]+,"cost":"([-0-9.]+)"[^{}]*?(?:"error":"((?:[^"\\]|\\.)*)")?\})re");
  for (auto it = std::sregex_iterator(json.begin(), json.end(), pattern);
       it != std::sregex_iterator(); ++it)
    months.push_back({(*it)[1], std::stol((*it)[2]), (*it)[3], (*it)[4]});
  return months;
}

class FocusE2eTest : public ::testing::Test {
protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("billdrop_focus_e2e_" + std::string(info->name()) + "_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (!HasFailure())
      fs::remove_all(dir_);
  }

  fs::path write(const std::string& name, const std::string& bytes) {
    const fs::path file = dir_ / name;
    fs::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << bytes;
    return file;
  }

  // Runs `billdrop convert` on `path`; returns the exit code, stdout in out_, stderr in err_.
  int convert(const fs::path& path) {
    const fs::path config = write("focus.toml", "path = " + quote_toml(path.string()) + "\n");
    const std::string command =
        quote(BILLDROP_TEST_BILLDROP_EXE) + " --no-progress --plugin-dir " +
        quote(BILLDROP_TEST_PLUGIN_DIR) + " convert --plugin focus --plugin-config " +
        quote(config.string()) + " --out " + quote((dir_ / "out").string()) + " --format json >" +
        quote((dir_ / "stdout.txt").string()) + " 2>" + quote((dir_ / "stderr.txt").string()) +
        " </dev/null";
    const int status = std::system(command.c_str());
    out_ = read_text(dir_ / "stdout.txt");
    err_ = read_text(dir_ / "stderr.txt");
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  static std::string quote_toml(const std::string& text) {
    std::string out = "\"";
    for (char c : text)
      out += c == '"' || c == '\\' ? std::string("\\") + c : std::string(1, c);
    return out + "\"";
  }

  fs::path dir_;
  std::string out_;
  std::string err_;
};

TEST_F(FocusE2eTest, ConvertsAFocusFileIntoMonthSnapshots) {
  ASSERT_EQ(convert(fixtures / "v1_0_sep_oct.csv"), 0) << out_ << err_;
  const auto months = months_of(out_);
  ASSERT_EQ(months.size(), 2u) << out_;
  EXPECT_EQ(months[0].month, "2024-09");
  EXPECT_EQ(months[0].rows, 11); // Python: 11 rows, 117.87
  EXPECT_EQ(Decimal::from_string(months[0].cost), Decimal::from_string("117.87"));
  EXPECT_EQ(months[1].month, "2024-10");
  EXPECT_EQ(months[1].rows, 3); // Python: 3 rows, 11.501
  EXPECT_EQ(Decimal::from_string(months[1].cost), Decimal::from_string("11.501"));
  // Every row passed the host's CBF validation (types, region, tag keys, resource ids).
  EXPECT_EQ(out_.find("\"invalid_rows\":1"), std::string::npos) << out_;
  EXPECT_TRUE(fs::exists(dir_ / "out" / "2024-09.ndjson"));
}

TEST_F(FocusE2eTest, MalformedFilesCostOnlyTheirOwnMonth) {
  const std::string aug = read_text(fixtures / "malformed_aug.csv");
  write("in/2024-08.csv", aug);
  // September: August's file under another name and month, gzip-compressed and cut short.
  std::string september = aug;
  for (std::size_t at = september.find("2024-08-0"); at != std::string::npos;
       at = september.find("2024-08-0", at))
    september.replace(at, 7, "2024-09");
  for (int i = 0; i < 6; ++i) // enough rows that the cut lands after the header
    september += september.substr(september.find('\n') + 1);
  std::string gzip = billdrop::gzip_compress(september);
  gzip.resize(gzip.size() - 12); // loses the last block's end and the trailer
  write("in/2024-09.csv.gz", gzip);
  write("in/2024-10.csv", read_text(fixtures / "malformed_oct.csv"));

  EXPECT_EQ(convert(dir_ / "in"), 1) << out_ << err_; // 1: data error
  const auto months = months_of(out_);
  ASSERT_EQ(months.size(), 3u) << out_;
  EXPECT_EQ(months[0].month, "2024-08"); // Python: 2 rows, 2.75
  EXPECT_EQ(months[0].rows, 2);
  EXPECT_EQ(Decimal::from_string(months[0].cost), Decimal::from_string("2.75"));
  EXPECT_TRUE(months[0].error.empty());
  EXPECT_EQ(months[1].month, "2024-09");
  EXPECT_EQ(months[1].rows, 0);
  EXPECT_NE(months[1].error.find("2024-09.csv.gz: reading stopped after line"), std::string::npos)
      << months[1].error;
  EXPECT_EQ(months[2].month, "2024-10"); // by hand: 7.00 + 0.70; lines 3 and 4 are rejected
  EXPECT_EQ(months[2].rows, 2);
  EXPECT_EQ(Decimal::from_string(months[2].cost), Decimal::from_string("7.70"));
  EXPECT_NE(err_.find("2024-10.csv:3"), std::string::npos) << err_;
  EXPECT_NE(err_.find("BilledCost \"abc\" is not a decimal number"), std::string::npos) << err_;
  EXPECT_NE(err_.find("2024-10.csv:4"), std::string::npos) << err_;
}

} // namespace
