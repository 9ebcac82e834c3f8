// The safety rules of `run` and `push` against a real emulator over loopback, with the real
// billdrop binary in separate processes:
// - a month the source does not hold is never sent unless --allow-empty-month says so;
// - two pushes of one connection at once: the second is refused naming the first's pid, or waits
//   for it with --wait-seconds; the emulator ends holding exactly the source;
// - SIGINT stops a push between two requests, exits 130 and leaves the month resumable; the next
//   push sends that partly replaced month first and ends exact.
// Expected totals are summed by hand from the fixture below.
#include "emulator/emulator.hpp"

#include "support/cli_run.hpp"
#include "support/process.hpp"
#include "support/sqlite_query.hpp"
#include "support/temp_folder.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <csignal>
#include <thread>

namespace billdrop {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

// One row per hour: each hour is its own chunk at max_body_bytes = 200. By hand:
// 2026-08: 6 rows, 1.25 + 2.50 + 0.75 + 10.00 + 0.01 + 3.49 = 18.00
// 2026-09: 4 rows, 4.00 + 0.50 + 0.50 + 1.00 = 6.00
constexpr const char* kCsv = "ts,amount\n"
                             "2026-08-01T00:00:00Z,1.25\n"
                             "2026-08-01T01:00:00Z,2.50\n"
                             "2026-08-01T02:00:00Z,0.75\n"
                             "2026-08-02T00:00:00Z,10.00\n"
                             "2026-08-02T05:00:00Z,0.01\n"
                             "2026-08-31T23:00:00Z,3.49\n"
                             "2026-09-01T00:00:00Z,4.00\n"
                             "2026-09-01T01:00:00Z,0.50\n"
                             "2026-09-02T00:00:00Z,0.50\n"
                             "2026-09-03T00:00:00Z,1.00\n";
const std::map<std::string, std::string> kHourCosts = {
    {"2026-08-01T00", "1.25"},  {"2026-08-01T01", "2.50"}, {"2026-08-01T02", "0.75"},
    {"2026-08-02T00", "10.00"}, {"2026-08-02T05", "0.01"}, {"2026-08-31T23", "3.49"},
    {"2026-09-01T00", "4.00"},  {"2026-09-01T01", "0.50"}, {"2026-09-02T00", "0.50"},
    {"2026-09-03T00", "1.00"}};

class SyncSafetyTest : public test::TempFolderTest {
protected:
  void start_emulator(milliseconds latency) {
    emulator::EmulatorOptions options;
    options.store = dir_ / "emulator.db";
    options.faults.latency_min = latency;
    options.faults.latency_max = latency;
    emulator_ = std::make_unique<emulator::Emulator>(options);
    ASSERT_TRUE(emulator_->start("127.0.0.1", 0).ok());
    write("vendor.csv", kCsv);
    write("key.txt", "test-key\n");
    write("billdrop.toml",
          "state_dir = \"state\"\n[limits]\nmax_body_bytes = 200\n"
          "[sending]\ninitial_backoff_ms = 20\nmax_backoff_ms = 100\n"
          "[connections.v]\nplugin = \"custom\"\ndestination = \"anycost\"\n"
          "connection_id = \"conn-1\"\n[connections.v.anycost]\nbase_url = \"" +
              emulator_->base_url() +
              "\"\napi_key_file = \"key.txt\"\n[connections.v.config]\npath = \"vendor.csv\"\n"
              "[connections.v.config.columns]\n\"time/usage_start\" = \"{ts}\"\n"
              "\"cost/cost\" = \"{amount}\"\n");
    config_ = (dir_ / "billdrop.toml").string();
  }

  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name, std::ios::binary) << text;
  }

  test::CliRun run(const std::vector<std::string>& args) { return test::run_billdrop(args, dir_); }

  pid_t spawn(const std::vector<std::string>& args, const std::string& name) {
    return test::spawn_billdrop(args, dir_, name);
  }
  int wait_for(pid_t pid) { return test::wait_exit(pid); }

  void wait_for_requests(std::uint64_t count) {
    const auto deadline = std::chrono::steady_clock::now() + milliseconds(30'000);
    while (emulator_->requests_served() < count && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(milliseconds(5));
    ASSERT_GE(emulator_->requests_served(), count);
  }

  std::string text(const std::string& name) { return test::read_text(dir_ / name); }

  // The emulator holds exactly the fixture's month: every hour's row count and exact cost.
  void expect_month_exact(const std::string& month, std::uint64_t rows, const std::string& cost) {
    Result<emulator::MonthState> state = emulator_->month_state("conn-1", *Month::parse(month));
    ASSERT_TRUE(state.ok());
    EXPECT_EQ(state->rows, rows) << month;
    EXPECT_EQ(state->cost.to_string(), cost) << month;
    std::size_t hours = 0;
    for (const auto& [hour, expected] : kHourCosts) {
      if (!hour.starts_with(month))
        continue;
      ++hours;
      const auto found = state->hours.find(hour);
      ASSERT_NE(found, state->hours.end()) << hour;
      EXPECT_EQ(found->second.rows, 1u) << hour;
      EXPECT_EQ(found->second.cost.to_string(), expected) << hour;
    }
    EXPECT_EQ(state->hours.size(), hours) << month;
  }

  std::string query(const std::string& sql) {
    return test::query_text(dir_ / "state" / "sync.db", sql);
  }

  std::unique_ptr<emulator::Emulator> emulator_;
  std::string config_;
};

TEST_F(SyncSafetyTest, AMonthTheSourceDoesNotHoldIsNeverSentUnlessAsked) {
  start_emulator(milliseconds(0));
  const test::CliRun typo = run({"run", "--config", config_, "--month", "2026-01"});
  EXPECT_EQ(typo.exit_code, 6) << typo.out << typo.err;
  EXPECT_NE(typo.err.find("2026-01 has no rows: sending it would replace the month at the "
                          "destination with nothing"),
            std::string::npos)
      << typo.err;
  EXPECT_NE(typo.err.find("2026-01 is not among the months the source holds (2026-08 to 2026-09)"),
            std::string::npos)
      << typo.err;
  EXPECT_EQ(emulator_->requests_served(), 0u); // nothing reached the destination

  const test::CliRun asked =
      run({"run", "--config", config_, "--month", "2026-01", "--allow-empty-month"});
  EXPECT_EQ(asked.exit_code, 0) << asked.out << asked.err;
  EXPECT_EQ(emulator_->requests_served(), 1u); // one replace_drop that empties the month
}

TEST_F(SyncSafetyTest, TwoPushesOfOneConnectionNeverRunAtOnce) {
  start_emulator(milliseconds(150));
  ASSERT_EQ(run({"convert", "--config", config_, "--out", (dir_ / "snap").string()}).exit_code, 0);
  const std::string snap = (dir_ / "snap").string();
  const pid_t first = spawn({"push", "--config", config_, "--from", snap}, "first");
  wait_for_requests(1);
  // A second push at once is refused, naming the first's pid.
  const test::CliRun refused = run({"push", "--config", config_, "--from", snap});
  EXPECT_EQ(refused.exit_code, 75) << refused.err;
  EXPECT_NE(refused.err.find("connection 'v' is in use by another billdrop process (pid " +
                             std::to_string(first) + ")"),
            std::string::npos)
      << refused.err;
  // One that waits runs once the first is done; both end with the months synced.
  const pid_t waiter =
      spawn({"push", "--config", config_, "--from", snap, "--wait-seconds", "120"}, "waiter");
  EXPECT_EQ(wait_for(first), 0) << text("first.err");
  EXPECT_EQ(wait_for(waiter), 0) << text("waiter.err");
  expect_month_exact("2026-08", 6, "18.00");
  expect_month_exact("2026-09", 4, "6.00");
  // 10 chunks each; the refused push sent nothing.
  EXPECT_EQ(emulator_->requests_served(), 20u);
}

TEST_F(SyncSafetyTest, SigintStopsAPushResumablyAndTheNextSendsThatMonthFirst) {
  start_emulator(milliseconds(200));
  ASSERT_EQ(run({"convert", "--config", config_, "--out", (dir_ / "snap").string()}).exit_code, 0);
  const std::string snap = (dir_ / "snap").string();
  const pid_t push =
      spawn({"push", "--config", config_, "--from", snap, "--format", "json"}, "push");
  // 2026-08 is 6 chunks, sent first; stop once 2026-09's first chunk has been answered.
  wait_for_requests(7);
  ::kill(push, SIGINT);
  const auto stopped_at = std::chrono::steady_clock::now();
  EXPECT_EQ(wait_for(push), 130) << text("push.err");
  EXPECT_LT(std::chrono::steady_clock::now() - stopped_at, milliseconds(3000));
  EXPECT_NE(text("push.err").find("interrupted: stopping after the request in flight"),
            std::string::npos)
      << text("push.err");
  EXPECT_NE(text("push.out").find("\"interrupted\":true"), std::string::npos) << text("push.out");
  EXPECT_EQ(query("SELECT state FROM month_sync WHERE connection_id='conn-1' AND month='2026-08'"),
            "synced");
  EXPECT_EQ(query("SELECT state FROM month_sync WHERE connection_id='conn-1' AND month='2026-09'"),
            "pending");
  const std::string attempts_before = query("SELECT MAX(rowid) FROM send_attempts");

  const test::CliRun again = run({"push", "--config", config_, "--from", snap});
  EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
  // The partly replaced month went first.
  EXPECT_EQ(query("SELECT month FROM send_attempts WHERE rowid > " + attempts_before +
                  " ORDER BY rowid LIMIT 1"),
            "2026-09");
  expect_month_exact("2026-08", 6, "18.00");
  expect_month_exact("2026-09", 4, "6.00");
}

} // namespace
} // namespace billdrop
