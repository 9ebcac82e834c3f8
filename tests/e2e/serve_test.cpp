// `billdrop serve` as an operator runs it: the real binary in the background, its HTTP API over
// loopback, two connections (one broken), the embedded emulator as destination. Checked: the
// first sync backfills (monthsBackfilled), sync-status answers with seed 000's fields, verify
// starts one job and reports per connection, a restated month is re-sent while the others are
// recorded unchanged, a schedule fires by itself, a missed schedule fires once after downtime,
// SIGTERM ends it within 10 s, and beyond loopback a bearer token is required. Totals are summed
// by hand from the fixtures below.
#include "support/cli_run.hpp"
#include "support/process.hpp"
#include "support/sqlite_query.hpp"
#include "support/temp_folder.hpp"

#include <gtest/gtest.h>
#include <httplib.h>
#include <simdjson.h>
#include <sqlite3.h>

#include <regex>

namespace billdrop {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

// The current month and the two before it, as YYYY-MM: fixtures must fall in the backfill window.
std::string month_text(int back) {
  const auto today = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
  std::chrono::year_month ym =
      std::chrono::year_month_day(today).year() / std::chrono::year_month_day(today).month();
  ym -= std::chrono::months(back);
  char text[16];
  std::snprintf(text, sizeof text, "%04d-%02u", static_cast<int>(ym.year()),
                static_cast<unsigned>(ym.month()));
  return text;
}

class ServeTest : public test::TempFolderTest {
protected:
  void TearDown() override {
    stop_serve();
    test::TempFolderTest::TearDown();
  }

  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name, std::ios::binary) << text;
  }

  // acme: three months, by hand 1.00 + 2.00 | 4.00 | 8.00 + 0.50; broken: a file that is not there.
  std::string config(const std::string& schedule, const std::string& server = "") {
    m0_ = month_text(0);
    m1_ = month_text(1);
    m2_ = month_text(2);
    write("acme.csv", "ts,amount\n" + m2_ + "-01T00:00:00Z,1.00\n" + m2_ + "-02T00:00:00Z,2.00\n" +
                          m1_ + "-03T00:00:00Z,4.00\n" + m0_ + "-01T00:00:00Z,8.00\n" + m0_ +
                          "-01T01:00:00Z,0.50\n");
    std::string toml = "state_dir = \"state\"\n[server]\nlisten = \"127.0.0.1:0\"\n" + server +
                       "[connections.acme]\nplugin = \"custom\"\naccount_id = \"ca_acme\"\n"
                       "schedule = \"" +
                       schedule +
                       "\"\n[connections.acme.config]\n"
                       "path = \"acme.csv\"\n[connections.acme.config.columns]\n"
                       "\"time/usage_start\" = \"{ts}\"\n\"cost/cost\" = \"{amount}\"\n"
                       "[connections.broken]\nplugin = \"custom\"\nschedule = \"" +
                       schedule +
                       "\"\n[connections.broken.config]\npath = \"missing.csv\"\n"
                       "[connections.broken.config.columns]\n\"time/usage_start\" = \"{ts}\"\n"
                       "\"cost/cost\" = \"{amount}\"\n";
    write("billdrop.toml", toml + bundled_example(schedule));
    return (dir_ / "billdrop.toml").string();
  }

  // The bundled example connection (plugins/custom/examples/acme-gpu), as shipped, reading its
  // data where it is; its months are from 2026, so its backfill window is wide.
  static std::string bundled_example(const std::string& schedule) {
    const fs::path example =
        fs::path(BILLDROP_TEST_SOURCE_DIR) / "plugins/custom/examples/acme-gpu";
    std::string toml = test::read_text(example / "billdrop.toml");
    toml = std::regex_replace(toml, std::regex(R"(\[connections\.acme-gpu\]\n)"),
                              "[connections.acme-gpu]\nbackfill_months = 120\nschedule = \"" +
                                  schedule + "\"\n");
    return std::regex_replace(toml, std::regex(R"(path = "acme_usage\.csv")"),
                              "path = \"" + (example / "acme_usage.csv").string() + "\"");
  }

  void start_serve(const std::string& config_file, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"--log-level", "info", "serve", "--config", config_file};
    args.insert(args.end(), extra.begin(), extra.end());
    pid_ = test::spawn_billdrop(args, dir_, "serve" + std::to_string(++starts_));
    const std::regex listening(R"(listening on http://[^ ]+:([0-9]+) )");
    std::smatch match;
    ASSERT_TRUE(test::eventually([&] {
      const std::string out = test::read_text(dir_ / ("serve" + std::to_string(starts_) + ".out"));
      if (!std::regex_search(out, match, listening))
        return false;
      port_ = std::stoi(match[1]);
      return true;
    })) << test::read_text(dir_ / ("serve" + std::to_string(starts_) + ".err"));
  }

  int stop_serve(int signal = SIGTERM) {
    if (pid_ <= 0)
      return 0;
    ::kill(pid_, signal);
    const int code = test::wait_exit(pid_, milliseconds(10'000));
    pid_ = -1;
    return code;
  }

  httplib::Result get(const std::string& path) {
    httplib::Client client("127.0.0.1", port_);
    return client.Get(path);
  }
  httplib::Result post(const std::string& path) {
    httplib::Client client("127.0.0.1", port_);
    return client.Post(path, "", "application/json");
  }

  // The sync-status entry of `account`, parsed.
  struct Entry {
    std::string status, message, last_synced;
    std::uint64_t backfilled = 0;
  };
  Entry status_of(const std::string& account) {
    Entry entry;
    auto response = get("/api/v1/billing/sync-status");
    if (!response || response->status != 200)
      return entry;
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    if (parser.parse(response->body).get(root) != simdjson::SUCCESS)
      return entry;
    for (simdjson::dom::element e : root["data"].get_array()) {
      std::string_view id;
      if (e["cloudAccountID"].get_string().get(id) != simdjson::SUCCESS || id != account)
        continue;
      std::string_view text;
      if (e["status"].get_string().get(text) == simdjson::SUCCESS)
        entry.status = text;
      if (e["message"].get_string().get(text) == simdjson::SUCCESS)
        entry.message = text;
      if (e["lastSyncedAt"].get_string().get(text) == simdjson::SUCCESS)
        entry.last_synced = text;
      if (e["monthsBackfilled"].get_uint64().get(entry.backfilled) != simdjson::SUCCESS)
        entry.backfilled = 0;
    }
    return entry;
  }

  std::uint64_t metric(const std::string& name, const std::string& connection) {
    auto response = get("/metrics");
    if (!response)
      return 0;
    const std::string key = name + "{connection=\"" + connection + "\"} ";
    const std::size_t at = response->body.find(key);
    return at == std::string::npos ? 0 : std::stoull(response->body.substr(at + key.size()));
  }

  std::string query(const std::string& sql) {
    return test::query_text(dir_ / "state" / "sync.db", sql);
  }

  pid_t pid_ = -1;
  int port_ = 0;
  int starts_ = 0;
  std::string m0_, m1_, m2_;
};

TEST_F(ServeTest, BackfillsReportsStatusVerifiesAndResendsOnlyARestatedMonth) {
  start_serve(config("0 5 * * *"));
  // The first sync backfills the three months at once.
  ASSERT_TRUE(test::eventually([&] { return status_of("ca_acme").status == "ok"; }))
      << test::read_text(dir_ / "serve1.err");
  const Entry acme = status_of("ca_acme");
  EXPECT_EQ(acme.backfilled, 3u);
  EXPECT_FALSE(acme.last_synced.empty());
  EXPECT_EQ(metric("billdrop_months_sent_total", "acme"), 3u);
  EXPECT_EQ(metric("billdrop_rows_sent_total", "acme"), 5u);
  // The month totals in the store, by hand: 3.00, 4.00, 8.50.
  EXPECT_EQ(query("SELECT cost FROM month_sync WHERE connection_id='acme' AND month='" + m2_ + "'"),
            "3.00");
  EXPECT_EQ(query("SELECT cost FROM month_sync WHERE connection_id='acme' AND month='" + m1_ + "'"),
            "4.00");
  EXPECT_EQ(query("SELECT cost FROM month_sync WHERE connection_id='acme' AND month='" + m0_ + "'"),
            "8.50");
  // The bundled example lands whole: its months' exact totals are the generator's
  // (expected_totals.json, written by the example's generator, not by billdrop).
  ASSERT_TRUE(test::eventually([&] { return status_of("acme-gpu").status == "ok"; }));
  EXPECT_EQ(status_of("acme-gpu").backfilled, 3u);
  simdjson::dom::parser parser;
  simdjson::dom::element expected;
  ASSERT_EQ(parser
                .load((fs::path(BILLDROP_TEST_SOURCE_DIR) /
                       "plugins/custom/examples/acme-gpu/expected_totals.json")
                          .string())
                .get(expected),
            simdjson::SUCCESS);
  for (auto [month, totals] : expected["months"].get_object()) {
    std::string_view cost;
    ASSERT_EQ(totals["cost"].get_string().get(cost), simdjson::SUCCESS);
    EXPECT_EQ(query("SELECT cost FROM month_sync WHERE connection_id='acme-gpu' AND month='" +
                    std::string(month) + "'"),
              std::string(cost))
        << month;
  }
  // The broken connection is an error naming its file; the other goes on.
  ASSERT_TRUE(test::eventually([&] { return status_of("broken").status == "error"; }));
  EXPECT_NE(status_of("broken").message.find("missing.csv"), std::string::npos)
      << status_of("broken").message;

  // The provider restates the middle month; verify runs every connection's sync now.
  write("acme.csv", "ts,amount\n" + m2_ + "-01T00:00:00Z,1.00\n" + m2_ + "-02T00:00:00Z,2.00\n" +
                        m1_ + "-03T00:00:00Z,4.25\n" + m0_ + "-01T00:00:00Z,8.00\n" + m0_ +
                        "-01T01:00:00Z,0.50\n");
  auto started = post("/api/v1/billing/verify");
  ASSERT_TRUE(started);
  EXPECT_EQ(started->status, 202) << started->body;
  const std::regex job_pattern(R"re("jobId":"([A-Za-z0-9_]+)","status":"running")re");
  std::smatch match;
  ASSERT_TRUE(std::regex_search(started->body, match, job_pattern)) << started->body;
  const std::string job = match[1];
  auto again = post("/api/v1/billing/verify"); // while it runs: the same job
  ASSERT_TRUE(again);
  EXPECT_NE(again->body.find(job), std::string::npos) << again->body;
  std::string body;
  ASSERT_TRUE(test::eventually([&] {
    auto response = get("/api/v1/billing/verify/" + job);
    body = response ? response->body : "";
    return body.find("\"status\":\"running\"") == std::string::npos && !body.empty();
  })) << body;
  EXPECT_NE(body.find("\"status\":\"failed\""), std::string::npos) << body; // broken fails
  EXPECT_NE(body.find("{\"cloudAccountID\":\"ca_acme\",\"connection\":\"acme\",\"reachable\":true,"
                      "\"schemaMatches\":true,\"sampleValid\":true,\"monthsBackfilled\":3,"
                      "\"error\":null"),
            std::string::npos)
      << body;
  EXPECT_NE(
      body.find("{\"cloudAccountID\":\"broken\",\"connection\":\"broken\",\"reachable\":false,"
                "\"schemaMatches\":false,\"sampleValid\":false"),
      std::string::npos)
      << body;
  // Only the restated month was sent again; the other two were recorded unchanged.
  EXPECT_EQ(metric("billdrop_months_sent_total", "acme"), 4u);
  EXPECT_EQ(metric("billdrop_months_unchanged_total", "acme"), 2u);
  EXPECT_EQ(query("SELECT cost FROM month_sync WHERE connection_id='acme' AND month='" + m1_ + "'"),
            "4.25");
  auto missing = get("/api/v1/billing/verify/job_nope");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_NE(missing->body.find("\"code\":\"NOT_FOUND\""), std::string::npos);
  auto health = get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);

  // SIGTERM: stopped within 10 s (stop_serve bounds it), exit 0.
  EXPECT_EQ(stop_serve(SIGTERM), 0);
}

TEST_F(ServeTest, AScheduleFiresByItselfAndAMissedOneFiresOnceAfterDowntime) {
  const std::string file = config("* * * * *");
  start_serve(file);
  ASSERT_TRUE(test::eventually([&] { return metric("billdrop_sync_runs_total", "acme") >= 1; }));
  // Every minute: a second run comes without any request, and finds nothing changed.
  ASSERT_TRUE(test::eventually([&] { return metric("billdrop_sync_runs_total", "acme") >= 2; },
                               milliseconds(75'000)));
  EXPECT_EQ(metric("billdrop_months_sent_total", "acme"), 3u);
  EXPECT_EQ(metric("billdrop_months_unchanged_total", "acme"), 3u);
  EXPECT_EQ(stop_serve(), 0);

  // Down for two days (its last run moved back): a daily schedule fires once at start, not once
  // per missed day.
  config("0 5 * * *");
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "state" / "sync.db").c_str(), &db), SQLITE_OK);
  const auto two_days_ago =
      std::chrono::duration_cast<milliseconds>(
          (std::chrono::system_clock::now() - std::chrono::hours(48)).time_since_epoch())
          .count();
  ASSERT_EQ(sqlite3_exec(db,
                         ("UPDATE connection_state SET last_run_ms = " +
                          std::to_string(two_days_ago) + " WHERE connection = 'acme'")
                             .c_str(),
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  start_serve(file);
  ASSERT_TRUE(test::eventually([&] { return metric("billdrop_sync_runs_total", "acme") >= 1; }));
  std::this_thread::sleep_for(milliseconds(2500));
  EXPECT_EQ(metric("billdrop_sync_runs_total", "acme"), 1u);
  EXPECT_EQ(metric("billdrop_months_unchanged_total", "acme"), 3u);
}

TEST_F(ServeTest, BeyondLoopbackABearerTokenIsRequired) {
  const std::string file = config("0 5 * * *");
  // No token configured: refused before listening.
  const test::CliRun refused =
      test::run_billdrop({"serve", "--config", file, "--listen", "0.0.0.0:0"}, dir_);
  EXPECT_EQ(refused.exit_code, 3) << refused.err;
  EXPECT_NE(refused.err.find("set [server] token_env or token_file"), std::string::npos)
      << refused.err;
  // With a token file: every request but /healthz needs it; the token is never printed.
  write("token.txt", "s3cret-token\n");
  config("0 5 * * *", "token_file = \"token.txt\"\n");
  start_serve(file, {"--listen", "0.0.0.0:0"});
  httplib::Client client("127.0.0.1", port_);
  auto anonymous = client.Get("/api/v1/billing/sync-status");
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 401);
  EXPECT_NE(anonymous->body.find("\"code\":\"UNAUTHORIZED\""), std::string::npos);
  auto wrong = client.Get("/api/v1/billing/sync-status", {{"Authorization", "Bearer nope"}});
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  auto right =
      client.Get("/api/v1/billing/sync-status", {{"Authorization", "Bearer s3cret-token"}});
  ASSERT_TRUE(right);
  EXPECT_EQ(right->status, 200);
  auto health = client.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  stop_serve();
  EXPECT_EQ(test::read_text(dir_ / "serve1.out").find("s3cret"), std::string::npos);
  EXPECT_EQ(test::read_text(dir_ / "serve1.err").find("s3cret"), std::string::npos);
}

} // namespace
} // namespace billdrop

namespace billdrop {
namespace {

// A destination that acknowledges every drop but, read back, holds one row of 1.00 per month: the
// daemon's read-back must notice and say so in sync-status, naming the month and both totals.
TEST_F(ServeTest, AMonthThatReadsBackDifferentlyIsAnErrorNamingBothTotals) {
  httplib::Server lossy;
  lossy.Post(R"(/v2/connections/billing/anycost/([^/]+)/billing_drops)",
             [](const httplib::Request&, httplib::Response& res) {
               res.set_content(R"({"connection":{"drop_id":"d1","month":"x","row_count":1}})",
                               "application/json");
             });
  lossy.Get(R"(/v2/connections/billing/anycost/([^/]+)/billing_drops/([0-9-]+))",
            [](const httplib::Request& req, httplib::Response& res) {
              const std::string month = req.matches[2];
              res.set_content(R"({"billing_drop":[{"time/usage_start":")" + month +
                                  R"(-01T00:00:00Z","cost/cost":"1.00"}]})",
                              "application/json");
            });
  const int lossy_port = lossy.bind_to_any_port("127.0.0.1");
  std::thread serving([&] { lossy.listen_after_bind(); });
  m0_ = month_text(0);
  write("key.txt", "test-key-123456\n");
  // By hand: the month has 2 rows, 8.00 + 0.50 = 8.50.
  write("acme.csv", "ts,amount\n" + m0_ + "-01T00:00:00Z,8.00\n" + m0_ + "-01T01:00:00Z,0.50\n");
  write("billdrop.toml",
        "state_dir = \"state\"\n[server]\nlisten = \"127.0.0.1:0\"\n[connections.acme]\n"
        "plugin = \"custom\"\ndestination = \"anycost\"\n[connections.acme.anycost]\n"
        "base_url = \"http://127.0.0.1:" +
            std::to_string(lossy_port) +
            "\"\napi_key_file = \"key.txt\"\n[connections.acme.config]\npath = \"acme.csv\"\n"
            "[connections.acme.config.columns]\n\"time/usage_start\" = \"{ts}\"\n"
            "\"cost/cost\" = \"{amount}\"\n");
  start_serve((dir_ / "billdrop.toml").string());
  const bool failed = test::eventually([&] { return status_of("acme").status == "error"; });
  const Entry entry = status_of("acme");
  stop_serve();
  lossy.stop();
  serving.join();
  ASSERT_TRUE(failed) << entry.status << " " << entry.message;
  EXPECT_NE(entry.message.find(m0_ + ": read back 1 row"), std::string::npos) << entry.message;
  EXPECT_NE(entry.message.find("cost 1.00 at the destination; the snapshot has 2 rows, cost 8.50"),
            std::string::npos)
      << entry.message;
}

} // namespace
} // namespace billdrop

namespace billdrop {
namespace {

// An incremental source under serve: three increments, the third restating a record of the
// first; every drop carries the whole month, so the emulator ends with the union, the restated
// record replaced. By hand: r1 1.00 → 1.75, r2 2.00, r3 4.00: 3 rows, 7.75.
TEST_F(ServeTest, AnIncrementalSourceSendsTheWholeMonthWithRestatedRowsReplaced) {
  m0_ = month_text(0);
  std::filesystem::create_directories(dir_ / "drops");
  write("drops/001.csv",
        "ts,id,cost\n" + m0_ + "-01T00:00:00Z,r1,1.00\n" + m0_ + "-01T01:00:00Z,r2,2.00\n");
  write("billdrop.toml",
        "state_dir = \"state\"\n[server]\nlisten = \"127.0.0.1:0\"\n[connections.daily]\n"
        "plugin = \"custom\"\n[connections.daily.config]\npath = \"drops\"\nincremental = true\n"
        "file_pattern = \"*.csv\"\nidentity_columns = [\"lineitem/id\"]\n"
        "[connections.daily.config.columns]\n\"time/usage_start\" = \"{ts}\"\n"
        "\"lineitem/id\" = \"{id}\"\n\"cost/cost\" = \"{cost}\"\n");
  start_serve((dir_ / "billdrop.toml").string());
  ASSERT_TRUE(test::eventually([&] { return status_of("daily").status == "ok"; }))
      << test::read_text(dir_ / "serve1.err");
  EXPECT_EQ(
      query("SELECT cost FROM month_sync WHERE connection_id='daily' AND month='" + m0_ + "'"),
      "3.00");
  // Two more increments: a new record, then r1 restated.
  write("drops/002.csv", "ts,id,cost\n" + m0_ + "-02T00:00:00Z,r3,4.00\n");
  write("drops/003.csv", "ts,id,cost\n" + m0_ + "-01T00:00:00Z,r1,1.75\n");
  auto started = post("/api/v1/billing/verify");
  ASSERT_TRUE(started);
  ASSERT_TRUE(test::eventually([&] {
    return query("SELECT cost FROM month_sync WHERE connection_id='daily' AND month='" + m0_ +
                 "' AND state='synced'") == "7.75";
  })) << test::read_text(dir_ / "serve1.err");
  EXPECT_EQ(
      query("SELECT rows FROM month_sync WHERE connection_id='daily' AND month='" + m0_ + "'"),
      "3");
  EXPECT_EQ(query("SELECT cursor FROM connection_state WHERE connection='daily'"), "003.csv");
  // What landed, read from the embedded emulator's store: the month's rows as sent.
  ASSERT_TRUE(test::eventually([&] { return status_of("daily").status == "ok"; }));
  EXPECT_EQ(stop_serve(), 0);
  const std::string landed =
      test::query_text(dir_ / "state" / "emulator.db",
                       "SELECT group_concat(json, '|') FROM (SELECT json FROM rows ORDER BY json)");
  EXPECT_NE(landed.find("\"cost/cost\":\"1.75\""), std::string::npos) << landed;
  EXPECT_EQ(landed.find("\"cost/cost\":\"1.00\""), std::string::npos) << landed;
  EXPECT_NE(landed.find("\"cost/cost\":\"4.00\""), std::string::npos) << landed;
}

} // namespace
} // namespace billdrop
