// End-to-end tests of the billdrop binary: the real CLI, the real plugin .so files loaded by the
// real loader, real files on disk. Expected totals come from fixtures summed by hand or from the
// example's expected_totals.json, which its Python generator computed with decimal.Decimal.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <thread>

namespace fs = std::filesystem;

namespace {

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string read_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string quote(const std::string& arg) {
  std::string quoted = "'";
  for (char c : arg) {
    if (c == '\'')
      quoted += "'\\''";
    else
      quoted += c;
  }
  return quoted + "'";
}

class CliTest : public ::testing::Test {
protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / "billdrop_e2e" / (std::string(info->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (!HasFailure())
      fs::remove_all(dir_);
  }

  CommandResult run(const std::vector<std::string>& args) {
    std::string command = quote(BILLDROP_TEST_BILLDROP_EXE);
    for (const auto& arg : args)
      command += " " + quote(arg);
    const fs::path out = dir_ / "stdout.txt";
    const fs::path err = dir_ / "stderr.txt";
    command += " >" + quote(out.string()) + " 2>" + quote(err.string()) + " </dev/null";
    const int status = std::system(command.c_str());
    CommandResult result;
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    result.out = read_file(out);
    result.err = read_file(err);
    return result;
  }

  fs::path write(const std::string& name, const std::string& content) {
    const fs::path file = dir_ / name;
    fs::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << content;
    return file;
  }

  fs::path dir_;
};

// The month entries of `convert --format json` output.
struct MonthLine {
  std::string month;
  long rows;
  long invalid;
  std::string cost;
};

std::vector<MonthLine> months_of(const std::string& json) {
  std::vector<MonthLine> months;
  const std::regex pattern(
      R"re("month":"([0-9-]+)","rows":([0-9]+),"invalid_rows":([0-9]+),"cost":"([-0-9.]+)")re");
  for (auto it = std::sregex_iterator(json.begin(), json.end(), pattern);
       it != std::sregex_iterator(); ++it)
    months.push_back({(*it)[1], std::stol((*it)[2]), std::stol((*it)[3]), (*it)[4]});
  return months;
}

TEST_F(CliTest, ConvertsTheEmbeddedExampleToTheGeneratorsTotals) {
  const auto result = run({"convert", "--out", (dir_ / "out").string(), "--format", "json"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const std::string expected = read_file(fs::path(BILLDROP_TEST_SOURCE_DIR) /
                                         "plugins/custom/examples/acme-gpu/expected_totals.json");
  ASSERT_FALSE(expected.empty());
  const auto months = months_of(result.out);
  ASSERT_EQ(months.size(), 3u) << result.out;
  for (const auto& month : months) {
    // expected_totals.json: {"2026-08": {"rows": N, "cost": "…"}, …}
    const std::regex entry(
        "\"" + month.month +
        R"re("\s*:\s*\{\s*"rows"\s*:\s*([0-9]+)\s*,\s*"cost"\s*:\s*"([-0-9.]+)")re");
    std::smatch match;
    ASSERT_TRUE(std::regex_search(expected, match, entry)) << month.month << " in " << expected;
    EXPECT_EQ(month.rows, std::stol(match[1])) << month.month;
    EXPECT_EQ(month.cost, match[2].str()) << month.month;
    EXPECT_EQ(month.invalid, 0) << month.month;
    EXPECT_TRUE(fs::exists(dir_ / "out" / (month.month + ".ndjson")));
  }
}

TEST_F(CliTest, TextSummaryListsEveryMonth) {
  const auto result = run({"convert", "--out", (dir_ / "out").string()});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("2026-08"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("2026-09"), std::string::npos);
  EXPECT_NE(result.out.find("2026-10"), std::string::npos);
  EXPECT_NE(result.out.find("cost/cost total"), std::string::npos);
}

// A small vendor file, summed by hand: August 10.50 + 0.25 + (-1.00) = 9.75; September 5e-06.
constexpr const char* kVendorCsv = "day,amount,svc,team\n"
                                   "2026-08-01,10.50,Compute,ml\n"
                                   "2026-08-02,0.25,\"Storage, cold\",\n"
                                   "2026-08-31,-1.00,Credit,ml\n"
                                   "2026-09-01,5e-06,Compute,web\n";

constexpr const char* kVendorConfig = "path = \"vendor.csv\"\n"
                                      "tag_columns = [\"team\"]\n"
                                      "[columns]\n"
                                      "\"time/usage_start\" = \"{day}\"\n"
                                      "\"cost/cost\" = \"{amount}\"\n"
                                      "\"resource/service\" = \"{svc}\"\n"
                                      "\"resource/id\" = \"vendor/{svc}\"\n";

TEST_F(CliTest, ConvertsAVendorFileWithHandComputedTotals) {
  write("vendor.csv", kVendorCsv);
  const auto config = write("vendor.toml", kVendorConfig);
  const auto result = run({"convert", "--plugin", "custom", "--plugin-config", config.string(),
                           "--out", (dir_ / "out").string(), "--format", "json"});
  ASSERT_EQ(result.exit_code, 0) << result.err << result.out;
  const auto months = months_of(result.out);
  ASSERT_EQ(months.size(), 2u) << result.out;
  EXPECT_EQ(months[0].month, "2026-08");
  EXPECT_EQ(months[0].rows, 3);
  EXPECT_EQ(months[0].cost, "9.75");
  EXPECT_EQ(months[1].month, "2026-09");
  EXPECT_EQ(months[1].cost, "0.000005");
  const std::string september = read_file(dir_ / "out" / "2026-09.ndjson");
  // lineitem_type_default ("Usage") is emitted when no lineitem/type template is given.
  EXPECT_EQ(september, "{\"time/usage_start\":\"2026-09-01T00:00:00Z\",\"lineitem/type\":\"Usage\","
                       "\"cost/cost\":\"0.000005\","
                       "\"resource/id\":\"vendor/Compute\",\"resource/service\":\"Compute\","
                       "\"resource/tag:team\":\"web\"}\n");
}

TEST_F(CliTest, InvalidRowsAreReportedWithOriginAndExitOne) {
  write("vendor.csv", "day,amount,svc,team\n"
                      "2026-08-01,10.50,Compute,ml\n"
                      "2026-08-02,12;50,Compute,ml\n"
                      "2026-08-03,1.00,Compute\n");
  const auto config = write("vendor.toml", kVendorConfig);
  const auto result = run({"convert", "--plugin", "custom", "--plugin-config", config.string(),
                           "--out", (dir_ / "out").string(), "--format", "json"});
  EXPECT_EQ(result.exit_code, 1) << result.err;
  // The bad decimal names file, line and column; the short row is rejected, not dropped.
  EXPECT_NE(result.err.find("vendor.csv:3"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("cost/cost"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("vendor.csv:4"), std::string::npos) << result.err;
  const auto months = months_of(result.out);
  ASSERT_EQ(months.size(), 1u);
  EXPECT_EQ(months[0].rows, 1);
  // The bad decimal and the rejected short row, read for August, both count against it.
  EXPECT_EQ(months[0].invalid, 2);
  EXPECT_EQ(months[0].cost, "10.50");
}

TEST_F(CliTest, SpillingToDiskGivesTheSameSnapshots) {
  const auto big = run({"convert", "--out", (dir_ / "big").string()});
  ASSERT_EQ(big.exit_code, 0) << big.err;
  const auto small = run({"convert", "--out", (dir_ / "small").string(), "--memory-mb", "1"});
  ASSERT_EQ(small.exit_code, 0) << small.err;
  for (const char* month : {"2026-08", "2026-09", "2026-10"}) {
    const std::string name = std::string(month) + ".ndjson";
    const std::string a = read_file(dir_ / "big" / name);
    ASSERT_FALSE(a.empty());
    EXPECT_EQ(a, read_file(dir_ / "small" / name)) << month;
  }
}

TEST_F(CliTest, ValidateFindsErrorsInRowsFile) {
  const auto rows =
      write("rows.ndjson", "{\"time/usage_start\":\"2026-08-01T00:00:00Z\",\"cost/cost\":\"1.5\"}\n"
                           "{\"time/usage_start\":\"2026-08-01T00:00:00Z\",\"cost/cost\":\"abc\"}\n"
                           "{\"time/usage_start\":\"2026-08-01 05:00:00\",\"cost/cost\":\"1\","
                           "\"lineitem/type\":\"Refund\"}\n");
  const auto result = run({"validate", rows.string(), "--format", "json"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.out.find("\"valid_rows\":1"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("\"invalid_rows\":2"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("rows.ndjson:2"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("lineitem_type"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("decimal"), std::string::npos) << result.out;
}

TEST_F(CliTest, ValidateAcceptsItsOwnSnapshots) {
  const auto convert = run({"convert", "--out", (dir_ / "out").string()});
  ASSERT_EQ(convert.exit_code, 0) << convert.err;
  const auto result = run({"validate", (dir_ / "out" / "2026-08.ndjson").string()});
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_NE(result.out.find(" 0 error(s)"), std::string::npos) << result.out;
}

TEST_F(CliTest, ValidateChecksDropBodies) {
  const auto body =
      write("body.json", "{\"month\":\"2026-08\",\"operation\":\"replace_drop\",\"data\":["
                         "{\"time/usage_start\":\"2026-08-01T00:00:00Z\",\"cost/cost\":\"1\"},"
                         "{\"time/usage_start\":\"2026-09-01T00:00:00Z\",\"cost/cost\":\"2\"}]}\n");
  const auto result = run({"validate", body.string(), "--format", "json"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.out.find("month_mismatch"), std::string::npos) << result.out;

  const auto bad_op =
      write("op.json", "{\"month\":\"2026-08\",\"operation\":\"append\",\"data\":[]}");
  const auto op = run({"validate", bad_op.string(), "--format", "json"});
  EXPECT_EQ(op.exit_code, 1);
  EXPECT_NE(op.out.find("drop_operation"), std::string::npos) << op.out;

  const auto good =
      write("good.json", "{\"month\":\"2026-08\",\"operation\":\"sum\",\"data\":["
                         "{\"time/usage_start\":\"2026-08-01T00:00:00Z\",\"cost/cost\":\"1\"}]}");
  EXPECT_EQ(run({"validate", good.string()}).exit_code, 0);
  // The same body over a 50-byte limit is too large.
  const auto small = run({"validate", good.string(), "--max-body-bytes", "50", "--format", "json"});
  EXPECT_EQ(small.exit_code, 1);
  EXPECT_NE(small.out.find("body_size"), std::string::npos) << small.out;
}

TEST_F(CliTest, ValidateRunsAPlugin) {
  write("vendor.csv", kVendorCsv);
  const auto config = write("vendor.toml", kVendorConfig);
  const auto result = run({"validate", "--plugin", "custom", "--plugin-config", config.string()});
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_NE(result.out.find("4 rows: 4 valid"), std::string::npos) << result.out;
}

TEST_F(CliTest, PluginsListAndDescribe) {
  const auto list = run({"plugins", "list"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find("custom"), std::string::npos) << list.out;
  const auto describe = run({"plugins", "describe", "custom"});
  ASSERT_EQ(describe.exit_code, 0) << describe.err;
  EXPECT_NE(describe.out.find("columns"), std::string::npos) << describe.out;
  EXPECT_NE(describe.out.find("required"), std::string::npos) << describe.out;
}

TEST_F(CliTest, ErrorsHaveDocumentedExitCodes) {
  EXPECT_EQ(run({"convert", "--plugin", "no-such-plugin"}).exit_code, 4);
  EXPECT_EQ(run({"frobnicate"}).exit_code, 2);

  const auto unknown_key =
      write("bad.toml", "path = \"x.csv\"\npth = 1\n[columns]\n\"cost/cost\" = \"{a}\"\n");
  const auto bad = run({"check", "--plugin", "custom", "--plugin-config", unknown_key.string()});
  EXPECT_EQ(bad.exit_code, 3);
  EXPECT_NE(
      bad.err.find("plugin 'custom': " + unknown_key.string() + ":2: unknown config key 'pth'"),
      std::string::npos)
      << bad.err;

  const auto missing =
      write("missing.toml", "path = \"nowhere.csv\"\n[columns]\n\"cost/cost\" = \"{a}\"\n"
                            "\"time/usage_start\" = \"{d}\"\n");
  const auto check = run({"check", "--plugin", "custom", "--plugin-config", missing.string()});
  EXPECT_EQ(check.exit_code, 5) << check.err;
  EXPECT_NE(check.err.find("nowhere.csv"), std::string::npos) << check.err;

  const auto not_so = write("billdrop_fake.so", "this is not a shared object\n");
  const auto fake = run({"plugins", "describe", not_so.string()});
  EXPECT_EQ(fake.exit_code, 4);
  EXPECT_NE(fake.err.find("not a shared object"), std::string::npos) << fake.err;
}

TEST_F(CliTest, CheckTheEmbeddedExample) {
  const auto result = run({"check"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("ok"), std::string::npos);
  EXPECT_NE(result.out.find("2026-08 to 2026-10"), std::string::npos) << result.out;
}

TEST_F(CliTest, StructuredLogsInJson) {
  const auto result = run({"--log-level", "info", "--log-format", "json", "check"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  // Every stderr line is one JSON object with ts, level and event.
  std::istringstream lines(result.err);
  std::string line;
  int count = 0;
  while (std::getline(lines, line)) {
    if (line.empty())
      continue;
    ++count;
    EXPECT_EQ(line.front(), '{') << line;
    EXPECT_NE(line.find("\"level\":\""), std::string::npos) << line;
    EXPECT_NE(line.find("\"event\":\""), std::string::npos) << line;
  }
  EXPECT_GT(count, 0);
}

TEST_F(CliTest, RunSendsTheEmbeddedExampleIntoTheEmbeddedEmulator) {
  // The state directory is the working directory's .billdrop: run from the test's folder.
  const std::string command = "cd " + quote(dir_.string()) + " && " +
                              quote(BILLDROP_TEST_BILLDROP_EXE) +
                              " run --format json >out.json 2>err.txt";
  ASSERT_EQ(std::system(command.c_str()), 0) << read_file(dir_ / "err.txt");
  const std::string out = read_file(dir_ / "out.json");
  const std::string expected = read_file(fs::path(BILLDROP_TEST_SOURCE_DIR) /
                                         "plugins/custom/examples/acme-gpu/expected_totals.json");
  int months = 0;
  const std::regex landed(
      R"re("month":"([0-9-]+)","rows":([0-9]+),"cost":"([-0-9.]+)","chunks":[0-9]+,"attempts":[0-9]+,"synced":true,"landed_rows":([0-9]+),"landed_cost":"([-0-9.]+)")re");
  for (auto it = std::sregex_iterator(out.begin(), out.end(), landed); it != std::sregex_iterator();
       ++it) {
    ++months;
    const std::string month = (*it)[1];
    const std::regex entry(
        "\"" + month + R"re("\s*:\s*\{\s*"rows"\s*:\s*([0-9]+)\s*,\s*"cost"\s*:\s*"([-0-9.]+)")re");
    std::smatch match;
    ASSERT_TRUE(std::regex_search(expected, match, entry)) << month;
    // What landed in the emulator is what the generator summed, row for row and cent for cent.
    EXPECT_EQ((*it)[4].str(), match[1].str()) << month;
    EXPECT_EQ((*it)[5].str(), match[2].str()) << month;
    EXPECT_EQ((*it)[2].str(), match[1].str()) << month;
  }
  EXPECT_EQ(months, 3) << out;
  EXPECT_TRUE(fs::exists(dir_ / ".billdrop" / "sync.db"));
}

TEST_F(CliTest, PlanAndRunWithASmallBodyLimitSplitIntoChunks) {
  write("vendor.csv", kVendorCsv);
  write("billdrop.toml", "state_dir = \"state\"\n[limits]\nmax_body_bytes = 300\n"
                         "[connections.v]\nplugin = \"custom\"\n[connections.v.config]\n"
                         "path = \"vendor.csv\"\ntag_columns = [\"team\"]\n"
                         "[connections.v.config.columns]\n\"time/usage_start\" = \"{day}\"\n"
                         "\"cost/cost\" = \"{amount}\"\n\"resource/service\" = \"{svc}\"\n"
                         "\"resource/id\" = \"vendor/{svc}\"\n");
  const auto config = (dir_ / "billdrop.toml").string();
  const auto plan = run({"plan", "--config", config, "--month", "2026-08", "--format", "json"});
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  // By hand: the rows serialise to 172, 158 and 170 bytes; an empty replace_drop body is 56 bytes
  // and a replace_hourly one 58. 56+172 = 228 fits in 300 but 228+1+158 does not, so every row
  // gets its own chunk: replace_drop (228), replace_hourly (216), replace_hourly (228) = 672.
  EXPECT_NE(plan.out.find("\"body_bytes\":672,\"chunks\":3,\"operations\":{\"replace_drop\":1,"
                          "\"replace_hourly\":2,\"sum\":0}"),
            std::string::npos)
      << plan.out;
  EXPECT_NE(plan.out.find("\"chunks\":3"), std::string::npos) << plan.out;
  const auto sent = run({"run", "--config", config, "--month", "2026-08", "--format", "json"});
  ASSERT_EQ(sent.exit_code, 0) << sent.err << sent.out;
  EXPECT_NE(
      sent.out.find("\"rows\":3,\"cost\":\"9.75\",\"chunks\":3,\"attempts\":3,\"synced\":true,"
                    "\"landed_rows\":3,\"landed_cost\":\"9.75\""),
      std::string::npos)
      << sent.out;
}

TEST_F(CliTest, MonthsWithInvalidRowsAreNotSent) {
  write("vendor.csv",
        "day,amount,svc,team\n2026-08-01,10.50,Compute,ml\n2026-08-02,oops,Compute,ml\n");
  write("billdrop.toml", "state_dir = \"state\"\n[connections.v]\nplugin = \"custom\"\n"
                         "[connections.v.config]\npath = \"vendor.csv\"\n"
                         "[connections.v.config.columns]\n\"time/usage_start\" = \"{day}\"\n"
                         "\"cost/cost\" = \"{amount}\"\n");
  const auto sent = run({"run", "--config", (dir_ / "billdrop.toml").string(), "--format", "json"});
  EXPECT_EQ(sent.exit_code, 6) << sent.err << sent.out;
  EXPECT_NE(sent.out.find("\"synced\":false"), std::string::npos) << sent.out;
  EXPECT_NE(sent.out.find("invalid row(s): not sent"), std::string::npos) << sent.out;
}

TEST_F(CliTest, AMonthWhoseReadFailsCostsNoOtherMonth) {
  const std::string plugin =
      std::string(BILLDROP_TEST_BROKEN_PLUGIN_DIR) + "/billdrop_month_fails.so";
  const auto converted =
      run({"convert", "--plugin", plugin, "--out", (dir_ / "out").string(), "--format", "json"});
  EXPECT_EQ(converted.exit_code, 1) << converted.err; // the failure is a data error
  // 1.10 + 2.20 + 3.30 = 6.60 in each good month; 2024-08 keeps nothing of its two rows.
  const auto months = months_of(converted.out);
  ASSERT_EQ(months.size(), 3u) << converted.out;
  EXPECT_EQ(months[0].month, "2024-07");
  EXPECT_EQ(months[0].rows, 3);
  EXPECT_EQ(months[0].cost, "6.60");
  EXPECT_EQ(months[1].month, "2024-08");
  EXPECT_EQ(months[1].rows, 0);
  EXPECT_EQ(months[2].month, "2024-09");
  EXPECT_EQ(months[2].cost, "6.60");
  EXPECT_NE(converted.out.find("\"error\":\"plugin 'month_fails' failed reading 2024-08: "
                               "usage-2024-08.csv.gz:4: truncated gzip stream"),
            std::string::npos)
      << converted.out;
  EXPECT_NE(converted.out.find("\"notes\":{\"rows from 2024-07\":3,\"rows from 2024-09\":3}"),
            std::string::npos)
      << converted.out;
  EXPECT_TRUE(fs::exists(dir_ / "out" / "2024-07.ndjson"));
  EXPECT_FALSE(fs::exists(dir_ / "out" / "2024-08.ndjson"));
  EXPECT_TRUE(fs::exists(dir_ / "out" / "2024-09.ndjson"));

  // `run` sends the two good months and never the failed one.
  write("billdrop.toml", "state_dir = \"state\"\n[connections.m]\nplugin = \"" + plugin + "\"\n");
  const auto sent = run({"run", "--config", (dir_ / "billdrop.toml").string(), "--format", "json"});
  EXPECT_NE(sent.exit_code, 0) << sent.err << sent.out;
  EXPECT_NE(sent.out.find("not sent: reading the month failed"), std::string::npos) << sent.out;
  EXPECT_NE(sent.out.find("\"month\":\"2024-07\",\"rows\":3"), std::string::npos) << sent.out;
}

TEST_F(CliTest, EmulatorServesPushesFromAnotherProcess) {
  // `billdrop emulator` in the background on an ephemeral port; its first line names the port.
  const fs::path out = dir_ / "emulator.out";
  const std::string start =
      quote(BILLDROP_TEST_BILLDROP_EXE) + " emulator --listen 127.0.0.1:0 --store " +
      quote((dir_ / "emu.db").string()) + " --api-key secret-key >" + quote(out.string()) +
      " 2>&1 & echo $! >" + quote((dir_ / "pid").string());
  ASSERT_EQ(std::system(start.c_str()), 0);
  std::string banner;
  for (int i = 0; i < 200 && banner.find("listening on") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    banner = read_file(out);
  }
  std::smatch port;
  ASSERT_TRUE(std::regex_search(banner, port, std::regex(R"(127\.0\.0\.1:([0-9]+))"))) << banner;
  const std::string pid = read_file(dir_ / "pid");

  write("vendor.csv", kVendorCsv);
  write("billdrop.toml", "state_dir = \"state\"\n[connections.v]\nplugin = \"custom\"\n"
                         "destination = \"anycost\"\nconnection_id = \"conn-1\"\n"
                         "[connections.v.anycost]\nbase_url = \"http://127.0.0.1:" +
                             port[1].str() +
                             "\"\napi_key_file = \"key.txt\"\n"
                             "[connections.v.config]\npath = \"vendor.csv\"\n"
                             "[connections.v.config.columns]\n\"time/usage_start\" = \"{day}\"\n"
                             "\"cost/cost\" = \"{amount}\"\n");
  const auto config = (dir_ / "billdrop.toml").string();
  ASSERT_EQ(run({"convert", "--config", config, "--out", (dir_ / "snap").string()}).exit_code, 0);
  // A wrong key is refused (403) and not retried; the month is not synced.
  write("key.txt", "wrong-key\n");
  const auto refused = run({"push", "--config", config, "--from", (dir_ / "snap").string()});
  EXPECT_EQ(refused.exit_code, 6) << refused.out << refused.err;
  EXPECT_NE(refused.out.find("FAILED"), std::string::npos) << refused.out;
  write("key.txt", "secret-key\n");
  const auto pushed =
      run({"push", "--config", config, "--from", (dir_ / "snap").string(), "--format", "json"});
  EXPECT_EQ(pushed.exit_code, 0) << pushed.out << pushed.err;
  EXPECT_NE(pushed.out.find("\"month\":\"2026-08\",\"rows\":3,\"cost\":\"9.75\""),
            std::string::npos)
      << pushed.out;
  EXPECT_NE(pushed.out.find("\"month\":\"2026-09\",\"rows\":1,\"cost\":\"0.000005\""),
            std::string::npos)
      << pushed.out;
  // The key never appears in what billdrop prints.
  EXPECT_EQ(pushed.out.find("secret-key"), std::string::npos);
  EXPECT_EQ(pushed.err.find("secret-key"), std::string::npos);

  ASSERT_EQ(std::system(("kill -TERM " + pid).c_str()), 0);
  std::string tail;
  for (int i = 0; i < 200 && tail.find("stopped after") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    tail = read_file(out);
  }
  EXPECT_NE(tail.find("stopped after"), std::string::npos) << tail;
}

} // namespace
