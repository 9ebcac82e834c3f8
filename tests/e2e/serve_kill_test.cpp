// `kill -9` of `billdrop serve` at 50 random moments of a multi-connection, multi-chunk sync
// against an emulator that injects faults (500, 429, dropped connections, applied-then-500) and
// latency; then one more start runs to the end. Every month must then hold exactly the source at
// the destination: per hour the same row count and exact cost, nothing lost, nothing counted
// twice. The expected totals are summed here from the generated rows, with no billdrop code.
#include "emulator/emulator.hpp"

#include "support/process.hpp"
#include "support/temp_folder.hpp"

#include <gtest/gtest.h>
#include <httplib.h>
#include <sqlite3.h>

#include <map>
#include <random>

namespace billdrop {
namespace {

using std::chrono::milliseconds;

struct Expected {
  std::map<std::string, std::pair<std::uint64_t, Decimal>> hours; // "YYYY-MM-DDTHH"
  std::uint64_t rows = 0;
  Decimal cost;
};

std::string month_text(int back) {
  const auto today = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
  const std::chrono::year_month_day date(today);
  std::chrono::year_month ym = date.year() / date.month();
  ym -= std::chrono::months(back);
  char text[16];
  std::snprintf(text, sizeof text, "%04d-%02u", static_cast<int>(ym.year()),
                static_cast<unsigned>(ym.month()));
  return text;
}

class ServeKillTest : public test::TempFolderTest {};

TEST_F(ServeKillTest, FiftyKillsThenOneFullRunLeaveEveryMonthExact) {
  emulator::EmulatorOptions options;
  options.store = dir_ / "emulator.db";
  options.faults.seed = 20261207;
  options.faults.error_500 = 0.08;
  options.faults.error_429 = 0.05;
  options.faults.close_before_reply = 0.05;
  options.faults.apply_then_fail = 0.05;
  options.faults.latency_min = milliseconds(5);
  options.faults.latency_max = milliseconds(40);
  emulator::Emulator emulator(options);
  ASSERT_TRUE(emulator.start("127.0.0.1", 0).ok());

  // Three connections × three months; each month 10 hours of 2 rows and one hour of 9 rows (more
  // than a body holds at 400 bytes: a split hour sent as replace_hourly + sum parts). Every round
  // writes new costs (a provider restating its months), so every sync has every month to send.
  std::mt19937 rng(7);
  std::map<std::string, std::map<std::string, Expected>> expected; // connection → month
  std::string toml = "state_dir = \"state\"\n[server]\nlisten = \"127.0.0.1:0\"\n"
                     "max_parallel_connections = 3\n[limits]\nmax_body_bytes = 400\n"
                     "[sending]\ninitial_backoff_ms = 5\nmax_backoff_ms = 40\n";
  std::ofstream(dir_ / "key.txt") << "kill-test-key\n";
  const std::vector<std::string> connections = {"c1", "c2", "c3"};
  const auto restate = [&] {
    expected.clear();
    for (const std::string& connection : connections) {
      std::string csv = "ts,id,amount\n";
      int id = 0;
      for (int back = 0; back < 3; ++back) {
        const std::string month = month_text(back);
        Expected& e = expected[connection][month];
        for (int hour = 0; hour < 11; ++hour) {
          const int rows = hour == 5 ? 9 : 2;
          for (int r = 0; r < rows; ++r) {
            const std::string cost =
                std::to_string(rng() % 10000) + "." + std::to_string(10 + rng() % 90);
            char ts[32];
            std::snprintf(ts, sizeof ts, "%s-02T%02d:00:00Z", month.c_str(), hour);
            csv += std::string(ts) + ",r" + std::to_string(++id) + "," + cost + "\n";
            const std::string key = month + "-02T" + (hour < 10 ? "0" : "") + std::to_string(hour);
            e.hours[key].first += 1;
            e.hours[key].second += Decimal::from_string(cost);
            e.rows += 1;
            e.cost += Decimal::from_string(cost);
          }
        }
      }
      std::ofstream(dir_ / (connection + ".csv.tmp")) << csv;
      std::filesystem::rename(dir_ / (connection + ".csv.tmp"), dir_ / (connection + ".csv"));
    }
  };
  for (const std::string& connection : connections)
    toml += "[connections." + connection +
            "]\nplugin = \"custom\"\ndestination = \"anycost\"\n"
            "[connections." +
            connection + ".anycost]\nbase_url = \"" + emulator.base_url() +
            "\"\napi_key_file = \"key.txt\"\n[connections." + connection + ".config]\npath = \"" +
            connection + ".csv\"\n[connections." + connection +
            ".config.columns]\n"
            "\"time/usage_start\" = \"{ts}\"\n\"lineitem/id\" = \"{id}\"\n"
            "\"cost/cost\" = \"{amount}\"\n";
  std::ofstream(dir_ / "billdrop.toml") << toml;
  const std::string config = (dir_ / "billdrop.toml").string();
  // Starts serve and waits for the port it listens on.
  const auto start = [&](const std::string& name, int& port) {
    const pid_t pid = test::spawn_billdrop({"serve", "--config", config}, dir_, name);
    EXPECT_TRUE(test::eventually([&] {
      const std::string out = test::read_text(dir_ / (name + ".out"));
      const std::size_t at = out.find("127.0.0.1:");
      if (at == std::string::npos)
        return false;
      port = std::stoi(out.substr(at + 10));
      return true;
    }));
    return pid;
  };

  // 50 kills at random moments: each round restates the months, starts serve, asks for a
  // verify (every connection's sync at once) and kills it while it sends.
  std::uniform_int_distribution<int> moment(20, 700);
  int kills = 0;
  for (int round = 0; round < 50; ++round) {
    restate();
    int port = 0;
    const pid_t pid = start("kill", port);
    httplib::Client client("127.0.0.1", port);
    client.Post("/api/v1/billing/verify", "", "application/json");
    std::this_thread::sleep_for(milliseconds(moment(rng)));
    ::kill(pid, SIGKILL);
    EXPECT_EQ(test::wait_exit(pid), -SIGKILL);
    ++kills;
  }
  EXPECT_EQ(kills, 50);

  // One start that runs to the end: a verify syncs every connection; then every status is ok.
  int port = 0;
  const pid_t pid = start("final", port);
  std::string job;
  {
    httplib::Client client("127.0.0.1", port);
    auto started = client.Post("/api/v1/billing/verify", "", "application/json");
    ASSERT_TRUE(started);
    const std::size_t at = started->body.find("\"jobId\":\"");
    ASSERT_NE(at, std::string::npos) << started->body;
    job = started->body.substr(at + 9, started->body.find('"', at + 9) - at - 9);
  }
  // The verify job ends only when every connection's sync it started has ended.
  ASSERT_TRUE(test::eventually(
      [&] {
        httplib::Client client("127.0.0.1", port);
        auto response = client.Get("/api/v1/billing/verify/" + job);
        return response && response->body.find("\"status\":\"running\"") == std::string::npos;
      },
      milliseconds(180'000)));
  std::string body;
  const bool all_ok = test::eventually(
      [&] {
        httplib::Client client("127.0.0.1", port);
        auto response = client.Get("/api/v1/billing/sync-status");
        body = response ? response->body : "";
        std::size_t ok = 0;
        for (std::size_t at = body.find("\"status\":\"ok\""); at != std::string::npos;
             at = body.find("\"status\":\"ok\"", at + 1))
          ++ok;
        return ok == 3 && body.find("\"syncing\"") == std::string::npos;
      },
      milliseconds(180'000));
  ::kill(pid, SIGTERM);
  EXPECT_EQ(test::wait_exit(pid, milliseconds(15'000)), 0);
  ASSERT_TRUE(all_ok) << body << test::read_text(dir_ / "final.err");

  // The kills fell during syncs: the restarts found those syncs' jobs running and interrupted
  // them (each start's first sync is a job of every connection).
  sqlite3* db = nullptr;
  ASSERT_EQ(
      sqlite3_open_v2((dir_ / "state" / "sync.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr),
      SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM sync_jobs WHERE state = 'interrupted'", -1,
                               &stmt, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  const int interrupted = sqlite3_column_int(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  EXPECT_GE(interrupted, 20) << "too few kills fell during a sync to test anything";

  for (const auto& [connection, months] : expected)
    for (const auto& [month, e] : months) {
      Result<emulator::MonthState> state = emulator.month_state(connection, *Month::parse(month));
      ASSERT_TRUE(state.ok());
      EXPECT_EQ(state->rows, e.rows) << connection << " " << month;
      EXPECT_EQ(state->cost, e.cost) << connection << " " << month;
      ASSERT_EQ(state->hours.size(), e.hours.size()) << connection << " " << month;
      for (const auto& [hour, totals] : e.hours) {
        const auto found = state->hours.find(hour);
        ASSERT_NE(found, state->hours.end()) << connection << " " << hour;
        EXPECT_EQ(found->second.rows, totals.first) << connection << " " << hour;
        EXPECT_EQ(found->second.cost, totals.second) << connection << " " << hour;
      }
    }
}

} // namespace
} // namespace billdrop
