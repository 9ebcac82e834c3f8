// End-to-end tests of the billdrop binary: the real CLI, the real plugin .so files loaded by the
// real loader, real files on disk. Expected totals come from fixtures summed by hand or from the
// example's expected_totals.json, which its Python generator computed with decimal.Decimal.
#include "support/sqlite_query.hpp"
#include "support/temp_folder.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <unistd.h>

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

class CliTest : public billdrop::test::TempFolderTest {
protected:
  CommandResult run(const std::vector<std::string>& args) {
    std::string command = quote(BILLDROP_TEST_BILLDROP_EXE);
    for (const auto& arg : args)
      command.append(" ").append(quote(arg));
    const fs::path out = dir_ / "stdout.txt";
    const fs::path err = dir_ / "stderr.txt";
    command.append(" >").append(quote(out.string()));
    command.append(" 2>").append(quote(err.string())).append(" </dev/null");
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

// A loopback port nothing listens on: bound, read back, closed.
int refused_port() {
  const int sock = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (sock < 0 || ::bind(sock, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(sock, reinterpret_cast<sockaddr*>(&address), &length) != 0)
    return 0;
  ::close(sock);
  return ntohs(address.sin_port);
}

using billdrop::test::query_text;

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

TEST_F(CliTest, RunSaysWhatARollupMerged) {
  // By hand: the two rows of August 1st differ only in their cost, so with a cap of 2 rows they
  // become one row of 1.00 + 2.50 = 3.50; the month sends 2 rows, 6.50 in all.
  write("vendor.csv", "day,amount,svc\n2026-08-01,1.00,gpu\n2026-08-01,2.50,gpu\n"
                      "2026-08-02,3.00,gpu\n");
  const auto file =
      write("billdrop.toml", "state_dir = \"state\"\n[limits]\nmax_rows_per_month = 2\n"
                             "[connections.v]\nplugin = \"custom\"\n[connections.v.config]\n"
                             "path = \"vendor.csv\"\n[connections.v.config.columns]\n"
                             "\"time/usage_start\" = \"{day}\"\n\"cost/cost\" = \"{amount}\"\n"
                             "\"resource/service\" = \"{svc}\"\n")
          .string();
  const auto refused = run({"run", "--config", file, "--format", "json"});
  EXPECT_EQ(refused.exit_code, 6) << refused.out;
  EXPECT_EQ(refused.out.find("\"rollup\""), std::string::npos) << refused.out;

  const auto json = run({"run", "--config", file, "--allow-rollup", "--format", "json"});
  ASSERT_EQ(json.exit_code, 0) << json.out << json.err;
  EXPECT_NE(json.out.find("{\"month\":\"2026-08\",\"rows\":3,\"cost\":\"6.50\",\"chunks\":1,"
                          "\"attempts\":1,\"synced\":true,\"landed_rows\":2,\"landed_cost\":"
                          "\"6.50\",\"rollup\":{\"rows_before\":3,\"rows_after\":2,"
                          "\"groups_merged\":1}}"),
            std::string::npos)
      << json.out;
  const auto text = run({"run", "--config", file, "--allow-rollup"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("2026-08: over a month cap, rolled up 3 rows into 2 (1 group of rows "
                          "differing only in their amounts merged, sums exact)"),
            std::string::npos)
      << text.out;
}

TEST_F(CliTest, PlanListsAMonthOverACapAndRunNamesTheMonthOnce) {
  // 3 rows against a 2-row cap: 1 row (50.0%) over. September (1 row) is within it.
  write("vendor.csv", "day,amount\n2026-08-01,1.00\n2026-08-02,2.50\n2026-08-03,3.00\n"
                      "2026-09-01,4.00\n");
  const auto file =
      write("billdrop.toml", "state_dir = \"state\"\n[limits]\nmax_rows_per_month = 2\n"
                             "[connections.v]\nplugin = \"custom\"\n[connections.v.config]\n"
                             "path = \"vendor.csv\"\n[connections.v.config.columns]\n"
                             "\"time/usage_start\" = \"{day}\"\n\"cost/cost\" = \"{amount}\"\n")
          .string();
  const auto plan = run({"plan", "--config", file});
  EXPECT_EQ(plan.exit_code, 1) << plan.err;
  EXPECT_EQ(plan.out.find("no months to plan"), std::string::npos) << plan.out;
  const std::regex august(R"(\n2026-08 +3 +[0-9,]+ +1 +1 +0 +0 +150\.0% OVER +[0-9.]+% +6\.50\n)");
  EXPECT_TRUE(std::regex_search(plan.out, august)) << plan.out;
  const std::regex september(R"(\n2026-09 +1 +[0-9,]+ +1 +1 +0 +0 +50\.0% +[0-9.]+% +4\.00\n)");
  EXPECT_TRUE(std::regex_search(plan.out, september)) << plan.out;
  EXPECT_NE(plan.out.find("2026-08: over a month cap, so it would not be sent"), std::string::npos)
      << plan.out;
  EXPECT_NE(plan.err.find("2026-08: 3 rows is 1 (50.0%) over the 2-row month cap"),
            std::string::npos)
      << plan.err;
  const auto json = run({"plan", "--config", file, "--format", "json"});
  EXPECT_NE(json.out.find("\"over_cap\":true"), std::string::npos) << json.out;
  EXPECT_NE(json.out.find("\"over_cap\":false"), std::string::npos) << json.out;

  // Only one month, over its cap: still a table, not "no months to plan".
  const auto only = run({"plan", "--config", file, "--month", "2026-08"});
  EXPECT_EQ(only.exit_code, 1);
  EXPECT_TRUE(std::regex_search(only.out, august)) << only.out;

  const auto sent = run({"run", "--config", file, "--month", "2026-08"});
  EXPECT_EQ(sent.exit_code, 6);
  EXPECT_NE(sent.err.find("2026-08: 3 rows is 1 (50.0%) over the 2-row month cap"),
            std::string::npos)
      << sent.err;
  EXPECT_EQ(sent.err.find("2026-08: 2026-08"), std::string::npos) << sent.err;
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

TEST_F(CliTest, PushRefusesAMonthConvertedWithInvalidRowsAsRunDoes) {
  const std::string config_text = "state_dir = \"state\"\n[connections.v]\nplugin = \"custom\"\n"
                                  "[connections.v.config]\npath = \"vendor.csv\"\n"
                                  "[connections.v.config.columns]\n\"time/usage_start\" = "
                                  "\"{day}\"\n\"cost/cost\" = \"{amount}\"\n";
  const auto config = write("billdrop.toml", config_text).string();
  const std::string snap = (dir_ / "snap").string();
  const fs::path emulator_db = dir_ / "state" / "emulator.db";
  const std::string stored_rows =
      "SELECT row_count FROM drops WHERE connection = 'v' AND month = '2026-08'";

  // A whole month: converted and pushed, 2 rows land.
  write("vendor.csv", "day,amount,svc,team\n2026-08-01,10.50,Compute,ml\n"
                      "2026-08-02,0.25,Compute,ml\n");
  ASSERT_EQ(run({"convert", "--config", config, "--out", snap}).exit_code, 0);
  const auto first = run({"push", "--config", config, "--from", snap, "--format", "json"});
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  EXPECT_EQ(query_text(emulator_db, stored_rows), "2");

  // The source now has a bad row: convert says so, and so does the summary it writes.
  write("vendor.csv", "day,amount,svc,team\n2026-08-01,10.50,Compute,ml\n"
                      "2026-08-02,oops,Compute,ml\n");
  EXPECT_EQ(run({"convert", "--config", config, "--out", snap}).exit_code, 1);
  const std::string summary = read_file(dir_ / "snap" / "2026-08.summary.json");
  // Read whole, but a row is missing: the month is not complete, and the summary never says so.
  EXPECT_NE(summary.find("\"invalid_rows\":1,"), std::string::npos) << summary;
  EXPECT_NE(summary.find("\"complete\":false"), std::string::npos) << summary;
  EXPECT_EQ(summary.find("\"complete\":true"), std::string::npos) << summary;

  // push refuses the month: the emulator keeps the whole copy it had, nothing more was applied.
  const auto refused = run({"push", "--config", config, "--from", snap, "--format", "json"});
  EXPECT_EQ(refused.exit_code, 6) << refused.out << refused.err;
  EXPECT_NE(refused.out.find("\"month\":\"2026-08\",\"rows\":1,\"cost\":\"10.50\",\"chunks\":0,"
                             "\"attempts\":0,\"synced\":false"),
            std::string::npos)
      << refused.out;
  EXPECT_NE(refused.out.find("1 invalid row(s): not sent, the month would be incomplete"),
            std::string::npos)
      << refused.out;
  EXPECT_EQ(query_text(emulator_db, stored_rows), "2");
  EXPECT_EQ(query_text(emulator_db, "SELECT COUNT(*) FROM drop_log"), "1");
  const auto text = run({"push", "--config", config, "--from", snap});
  EXPECT_EQ(text.exit_code, 6);
  EXPECT_NE(text.err.find("2026-08: 1 invalid row(s): not sent"), std::string::npos) << text.err;

  // Asked for explicitly, the valid rows are sent.
  const auto forced =
      run({"push", "--config", config, "--from", snap, "--send-invalid", "--format", "json"});
  EXPECT_EQ(forced.exit_code, 0) << forced.out << forced.err;
  EXPECT_NE(forced.out.find("\"synced\":true,\"landed_rows\":1,\"landed_cost\":\"10.50\""),
            std::string::npos)
      << forced.out;
  EXPECT_EQ(query_text(emulator_db, stored_rows), "1");
}

TEST_F(CliTest, PushRefusesAMonthWhoseReadFailed) {
  const std::string plugin =
      std::string(BILLDROP_TEST_BROKEN_PLUGIN_DIR) + "/billdrop_month_fails.so";
  write("billdrop.toml", "state_dir = \"state\"\n[connections.m]\nplugin = \"" + plugin + "\"\n");
  const auto config = (dir_ / "billdrop.toml").string();
  const std::string snap = (dir_ / "snap").string();
  EXPECT_EQ(run({"convert", "--config", config, "--out", snap}).exit_code, 1);
  const std::string summary = read_file(dir_ / "snap" / "2024-08.summary.json");
  EXPECT_NE(summary.find("\"complete\":false"), std::string::npos) << summary;

  const auto pushed = run({"push", "--config", config, "--from", snap, "--format", "json"});
  EXPECT_EQ(pushed.exit_code, 6) << pushed.out << pushed.err;
  // 1.10 + 2.20 + 3.30 in each good month; the failed month is named and not sent.
  EXPECT_NE(pushed.out.find("\"month\":\"2024-07\",\"rows\":3,\"cost\":\"6.60\",\"chunks\":1,"
                            "\"attempts\":1,\"synced\":true"),
            std::string::npos)
      << pushed.out;
  EXPECT_NE(pushed.out.find("\"month\":\"2024-09\",\"rows\":3,\"cost\":\"6.60\",\"chunks\":1,"
                            "\"attempts\":1,\"synced\":true"),
            std::string::npos)
      << pushed.out;
  EXPECT_NE(pushed.out.find("\"month\":\"2024-08\",\"rows\":0,\"cost\":\"0\",\"chunks\":0,"
                            "\"attempts\":0,\"synced\":false,\"problem\":\"not sent: "
                            "2024-08.summary.json does not say the month was read whole"),
            std::string::npos)
      << pushed.out;
  EXPECT_EQ(query_text(dir_ / "state" / "emulator.db",
                       "SELECT COUNT(*) FROM drops WHERE month = '2024-08'"),
            "0");
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

// A config connection `name` (connection id "<name>-id") of the custom plugin reading
// <name>.csv, whose columns are day and amount.
std::string custom_connection(const std::string& name) {
  return "[connections." + name + "]\nplugin = \"custom\"\nconnection_id = \"" + name +
         "-id\"\n[connections." + name + ".config]\npath = \"" + name + ".csv\"\n[connections." +
         name +
         ".config.columns]\n\"time/usage_start\" = \"{day}\"\n\"cost/cost\" = \"{amount}\"\n";
}

// A month as the JSON report gives it when it landed whole in one chunk at the first attempt.
std::string landed(const std::string& month, int rows, const std::string& cost) {
  return "{\"month\":\"" + month + "\",\"rows\":" + std::to_string(rows) + ",\"cost\":\"" + cost +
         "\",\"chunks\":1,\"attempts\":1,\"synced\":true,\"landed_rows\":" + std::to_string(rows) +
         ",\"landed_cost\":\"" + cost + "\"}";
}

// Three connections in one config, `run` without --connection: all are converted and sent at
// once into the embedded emulator. Totals by hand: a = 1.10 + 2.20 (Aug) and 0.05 (Sep),
// b = 10 + 20 + 30 (Aug), c = -0.50 + 0.75 (Sep).
TEST_F(CliTest, RunSendsEveryConnectionOfTheConfigAtOnce) {
  write("a.csv", "day,amount\n2026-08-01,1.10\n2026-08-02,2.20\n2026-09-03,0.05\n");
  write("b.csv", "day,amount\n2026-08-01,10\n2026-08-01,20\n2026-08-31,30\n");
  write("c.csv", "day,amount\n2026-09-01,-0.50\n2026-09-30,0.75\n");
  std::string config = "state_dir = \"state\"\n[sending]\nparallel_connections = 3\n";
  for (const char* name : {"a", "b", "c"})
    config += custom_connection(name);
  const auto file = write("billdrop.toml", config).string();

  const auto sent = run({"run", "--config", file, "--format", "json"});
  ASSERT_EQ(sent.exit_code, 0) << sent.out << sent.err;
  const std::string expected =
      "{\"connections\":["
      "{\"connection\":\"a\",\"connection_id\":\"a-id\",\"rows_read\":3,\"destination\":\"" +
      std::string("local emulator at ");
  ASSERT_EQ(sent.out.rfind(expected, 0), 0u) << sent.out;
  EXPECT_NE(sent.out.find("\"months\":[" + landed("2026-08", 2, "3.30") + "," +
                          landed("2026-09", 1, "0.05") + "]}"),
            std::string::npos)
      << sent.out;
  EXPECT_NE(sent.out.find("{\"connection\":\"b\",\"connection_id\":\"b-id\",\"rows_read\":3,"),
            std::string::npos)
      << sent.out;
  EXPECT_NE(sent.out.find("\"months\":[" + landed("2026-08", 3, "60") + "]}"), std::string::npos)
      << sent.out;
  EXPECT_NE(sent.out.find("\"months\":[" + landed("2026-09", 2, "0.25") + "]}"), std::string::npos)
      << sent.out;
  // One embedded emulator holds all three, each under its own connection id.
  const fs::path db = dir_ / "state" / "emulator.db";
  EXPECT_EQ(query_text(db, "SELECT group_concat(connection || ' ' || month || ' ' || row_count, "
                           "'; ') FROM (SELECT * FROM drops ORDER BY connection, month)"),
            "a-id 2026-08 2; a-id 2026-09 1; b-id 2026-08 3; c-id 2026-09 2");
  EXPECT_EQ(query_text(dir_ / "state" / "sync.db",
                       "SELECT COUNT(*) FROM month_sync WHERE state = 'synced'"),
            "4");

  // The text form has a table per connection.
  const auto text = run({"run", "--config", file});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  for (const char* header :
       {"sent connection 'a' (3 rows read)", "sent connection 'b' (3 rows read)",
        "sent connection 'c' (2 rows read)"})
    EXPECT_NE(text.out.find(header), std::string::npos) << header << " in\n" << text.out;
}

// `push` without --connection on a config of several: every connection's converted snapshots
// go out at once. Totals by hand: a = 1.10 + 2.20 (Aug), b = 10 + 20 (Aug) and 0.5 (Sep).
TEST_F(CliTest, PushSendsEveryConnectionsSnapshotsAtOnce) {
  write("a.csv", "day,amount\n2026-08-01,1.10\n2026-08-02,2.20\n");
  write("b.csv", "day,amount\n2026-08-01,10\n2026-08-31,20\n2026-09-01,0.5\n");
  std::string config = "state_dir = \"state\"\n";
  for (const char* name : {"a", "b"})
    config += custom_connection(name);
  const auto file = write("billdrop.toml", config).string();

  // Nothing converted yet: refused before anything is sent, naming the first connection.
  const auto early = run({"push", "--config", file});
  EXPECT_EQ(early.exit_code, 2) << early.out << early.err;
  EXPECT_NE(early.err.find("connection 'a': no month snapshots"), std::string::npos) << early.err;
  EXPECT_FALSE(fs::exists(dir_ / "state" / "emulator.db"));

  for (const char* name : {"a", "b"})
    ASSERT_EQ(run({"convert", "--config", file, "--connection", name, "--out",
                   (dir_ / "state" / "snapshots" / (std::string(name) + "-id")).string()})
                  .exit_code,
              0)
        << name;
  const auto pushed = run({"push", "--config", file, "--format", "json"});
  ASSERT_EQ(pushed.exit_code, 0) << pushed.out << pushed.err;
  EXPECT_EQ(pushed.out.rfind("{\"connections\":[{\"connection\":\"a\",\"connection_id\":\"a-id\","
                             "\"from\":\"" +
                                 (dir_ / "state" / "snapshots" / "a-id").string() + "\",",
                             0),
            0u)
      << pushed.out;
  EXPECT_NE(pushed.out.find("\"months\":[" + landed("2026-08", 2, "3.30") + "]}"),
            std::string::npos)
      << pushed.out;
  EXPECT_NE(pushed.out.find("\"months\":[" + landed("2026-08", 2, "30") + "," +
                            landed("2026-09", 1, "0.5") + "]}"),
            std::string::npos)
      << pushed.out;
  EXPECT_EQ(query_text(dir_ / "state" / "emulator.db",
                       "SELECT group_concat(connection || ' ' || month || ' ' || row_count, "
                       "'; ') FROM (SELECT * FROM drops ORDER BY connection, month)"),
            "a-id 2026-08 2; b-id 2026-08 2; b-id 2026-09 1");

  // The text form: a table per connection, under the folder it was pushed from.
  const auto text = run({"push", "--config", file});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  for (const char* id : {"a-id", "b-id"})
    EXPECT_NE(text.out.find("pushed " + (dir_ / "state" / "snapshots" / id).string()),
              std::string::npos)
        << text.out;
}

TEST_F(CliTest, RunRefusesTwoConnectionsWithOneConnectionId) {
  std::string config = "state_dir = \"state\"\n";
  for (const char* name : {"a", "b"})
    config +=
        std::string("[connections.") + name + "]\nplugin = \"custom\"\nconnection_id = \"same\"\n";
  const auto file = write("billdrop.toml", config).string();
  const auto result = run({"run", "--config", file});
  EXPECT_EQ(result.exit_code, 3) << result.err;
  EXPECT_NE(result.err.find("connections 'a' and 'b' both send to connection id 'same'"),
            std::string::npos)
      << result.err;
}

TEST_F(CliTest, EmulatorServesPushesFromAnotherProcess) {
  // `billdrop emulator` in the background on an ephemeral port; its first line names the port.
  // The waits are bounded at 30 s: a loaded CI machine starts and stops processes slowly.
  const fs::path out = dir_ / "emulator.out";
  const std::string start =
      quote(BILLDROP_TEST_BILLDROP_EXE) + " emulator --listen 127.0.0.1:0 --store " +
      quote((dir_ / "emu.db").string()) + " --api-key secret-key >" + quote(out.string()) +
      " 2>&1 & echo $! >" + quote((dir_ / "pid").string());
  ASSERT_EQ(std::system(start.c_str()), 0);
  std::string banner;
  for (int i = 0; i < 1200 && banner.find("listening on") == std::string::npos; ++i) {
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
  for (int i = 0; i < 1200 && tail.find("stopped after") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    tail = read_file(out);
  }
  EXPECT_NE(tail.find("stopped after"), std::string::npos) << tail;
}

// A connection to a port nothing listens on: every attempt is refused, and the chunk is given up
// after the configured time, with the reason, and the month is not synced.
class GiveUpTest : public CliTest {
protected:
  std::string config(int port, const std::string& sending) {
    write("vendor.csv", kVendorCsv);
    write("key.txt", "some-key\n");
    write("billdrop.toml",
          "state_dir = \"state\"\n" + sending +
              "[connections.v]\nplugin = \"custom\"\ndestination = \"anycost\"\n"
              "connection_id = \"conn-1\"\n[connections.v.anycost]\nbase_url = "
              "\"http://127.0.0.1:" +
              std::to_string(port) +
              "\"\napi_key_file = \"key.txt\"\n[connections.v.config]\npath = \"vendor.csv\"\n"
              "[connections.v.config.columns]\n\"time/usage_start\" = \"{day}\"\n"
              "\"cost/cost\" = \"{amount}\"\n");
    return (dir_ / "billdrop.toml").string();
  }

  void expect_gave_up(const CommandResult& result, double seconds, double limit_seconds,
                      const std::string& limit_text) {
    EXPECT_EQ(result.exit_code, 6) << result.out << result.err;
    // At least the limit (it gives up only when the next try would pass it), and not much more.
    EXPECT_GE(seconds, limit_seconds * 0.5) << result.err;
    EXPECT_LT(seconds, limit_seconds + 10) << result.err;
    // With --format json the reason is the month's "problem".
    const std::string& text = result.out;
    EXPECT_NE(text.find("\"problem\":\"gave up on 2026-08 chunk 1 of 1 (replace_drop"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("(the limit is " + limit_text + ")"), std::string::npos) << text;
    EXPECT_NE(text.find("Could not establish connection to http://127.0.0.1:"), std::string::npos)
        << text;
    EXPECT_NE(text.find("2026-08 is not synced"), std::string::npos) << text;
    EXPECT_NE(result.out.find("\"month\":\"2026-08\",\"rows\":3"), std::string::npos) << result.out;
    EXPECT_EQ(result.out.find("\"synced\":true"), std::string::npos) << result.out;
    const fs::path db = dir_ / "state" / "sync.db";
    EXPECT_EQ(query_text(db, "SELECT state FROM month_sync WHERE connection_id = 'conn-1' AND "
                             "month = '2026-08'"),
              "failed");
    EXPECT_NE(query_text(db, "SELECT error FROM month_sync WHERE connection_id = 'conn-1' AND "
                             "month = '2026-08'")
                  .find("gave up"),
              std::string::npos);
    EXPECT_NE(query_text(db, "SELECT COUNT(*) FROM send_attempts WHERE connection_id = 'conn-1' "
                             "AND month = '2026-08'"),
              "0");
  }

  CommandResult timed(const std::vector<std::string>& args, double& seconds) {
    const auto start = std::chrono::steady_clock::now();
    CommandResult result = run(args);
    seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return result;
  }
};

TEST_F(GiveUpTest, RunGivesUpAfterTheConfiguredTime) {
  const int port = refused_port();
  ASSERT_NE(port, 0);
  const std::string file = config(port, "[sending]\ngive_up_seconds = 2\ninitial_backoff_ms = 20\n"
                                        "max_backoff_ms = 200\n");
  double seconds = 0;
  const auto result =
      timed({"run", "--config", file, "--month", "2026-08", "--format", "json"}, seconds);
  expect_gave_up(result, seconds, 2, "2.0s");
}

TEST_F(GiveUpTest, PushTakesGiveUpSecondsFromTheCommandLine) {
  const int port = refused_port();
  ASSERT_NE(port, 0);
  // The config leaves the default (15 minutes); the option overrides it.
  const std::string file =
      config(port, "[sending]\ninitial_backoff_ms = 20\nmax_backoff_ms = 200\n");
  ASSERT_EQ(run({"convert", "--config", file, "--out", (dir_ / "snap").string()}).exit_code, 0);
  double seconds = 0;
  const auto result = timed({"push", "--config", file, "--from", (dir_ / "snap").string(),
                             "--month", "2026-08", "--give-up-seconds", "1", "--format", "json"},
                            seconds);
  expect_gave_up(result, seconds, 1, "1.0s");
}

TEST_F(CliTest, SendingSettingsAreCheckedWithFileAndLine) {
  write("vendor.csv", kVendorCsv);
  const auto file = write("billdrop.toml", "[sending]\ngive_up_seconds = 0\n"
                                           "[connections.v]\nplugin = \"custom\"\n");
  const auto zero = run({"push", "--config", file.string()});
  EXPECT_EQ(zero.exit_code, 3) << zero.err;
  EXPECT_NE(zero.err.find("billdrop.toml:2: sending.give_up_seconds must be a positive integer"),
            std::string::npos)
      << zero.err;
  write("billdrop.toml", "[limits]\nrequests_in_flight_per_connection = 2\n"
                         "[connections.v]\nplugin = \"custom\"\n");
  const auto two = run({"push", "--config", file.string()});
  EXPECT_EQ(two.exit_code, 3) << two.err;
  EXPECT_NE(two.err.find("billdrop.toml:2: limits.requests_in_flight_per_connection must be 1"),
            std::string::npos)
      << two.err;
}

} // namespace
