// `billdrop push` killed with SIGKILL while a chunk is at the API, then run again at once: the
// real binary, the real emulator over loopback (each request held there for a while, as a busy
// API holds it) and a proxy that says when a request has reached it. The second push resumes the
// send with the keys of the first; whatever chunk the first was killed at -- a sum part of the
// split hour included, still being applied when the second push sends it again -- the month must
// end holding the source's rows exactly once.
#include "emulator/emulator.hpp"
#include "support/cli_run.hpp"
#include "support/loopback_proxy.hpp"
#include "support/split_hour_month.hpp"
#include "support/temp_folder.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <regex>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

namespace billdrop {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
namespace split_hour = test::split_hour;

// How long the emulator holds each send before it applies it: long enough to kill the client
// while its request is in flight.
constexpr auto kLatency = 500ms;

// Starts billdrop with `args` (stdout and stderr into files in `dir`); returns its pid.
pid_t spawn_billdrop(const std::vector<std::string>& args, const fs::path& dir) {
  std::vector<std::string> all{BILLDROP_TEST_BILLDROP_EXE, "--no-progress", "--plugin-dir",
                               BILLDROP_TEST_PLUGIN_DIR};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& arg : all)
    argv.push_back(arg.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  const std::string out = (dir / "killed.stdout").string();
  const std::string err = (dir / "killed.stderr").string();
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = -1;
  const int spawned = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  return spawned == 0 ? pid : -1;
}

class KillPushTest : public test::TempFolderTest {
protected:
  void SetUp() override {
    TempFolderTest::SetUp();
    emulator::EmulatorOptions options;
    options.store = dir_ / "emulator.db";
    options.api_keys = {split_hour::kApiKey};
    options.max_body_bytes = split_hour::kBodyLimit;
    options.faults.latency_min = options.faults.latency_max = kLatency;
    emulator_ = std::make_unique<emulator::Emulator>(options);
    Result<std::uint16_t> port = emulator_->start("127.0.0.1", 0);
    ASSERT_TRUE(port.ok()) << port.error().message();
  }
  void TearDown() override {
    emulator_.reset();
    TempFolderTest::TearDown();
  }

  // The month as the emulator holds it is the source, row by row, and its totals are the
  // hand-summed ones.
  void expect_month_is_the_source(const std::string& connection_id) {
    EXPECT_EQ(split_hour::landed_rows(emulator_->port(), connection_id),
              split_hour::expected_rows());
    Result<emulator::MonthState> state =
        emulator_->month_state(connection_id, Month::parse(split_hour::kMonth).value());
    ASSERT_TRUE(state.ok()) << state.error().message();
    EXPECT_EQ(state->rows, split_hour::kRows);
    EXPECT_EQ(state->cost.normalized().to_string(), split_hour::normalized(split_hour::kCost));
    std::map<std::string, std::pair<std::uint64_t, std::string>> hours;
    for (const auto& [hour, totals] : state->hours)
      hours[hour] = {totals.rows, totals.cost.normalized().to_string()};
    std::map<std::string, std::pair<std::uint64_t, std::string>> expected;
    for (const auto& [hour, totals] : split_hour::kHours)
      expected[hour] = {totals.first, split_hour::normalized(totals.second)};
    EXPECT_EQ(hours, expected);
  }

  std::unique_ptr<emulator::Emulator> emulator_;
};

TEST_F(KillPushTest, PushKilledAtAnyChunkAndRunAgainLandsEveryRowOnce) {
  // The plan: how many chunks, and the split hour's sum parts among them.
  const fs::path plan_dir = dir_ / "plan";
  const fs::path plan_config =
      split_hour::write_connection(plan_dir, "kill-plan", emulator_->base_url());
  const test::CliRun planned =
      test::run_billdrop({"plan", "--config", plan_config.string(), "--format", "json"}, plan_dir);
  ASSERT_EQ(planned.exit_code, 0) << planned.err;
  std::smatch shape;
  ASSERT_TRUE(std::regex_search(
      planned.out, shape,
      std::regex(
          R"re("chunks":([0-9]+),"operations":\{"replace_drop":1,"replace_hourly":[0-9]+,"sum":([0-9]+)\})re")))
      << planned.out;
  const int chunks = std::stoi(shape[1]);
  ASSERT_GE(std::stoi(shape[2]), 2) << "the split hour should have sum parts: " << planned.out;

  for (int killed_at = 0; killed_at < chunks; ++killed_at) {
    SCOPED_TRACE("killed while chunk " + std::to_string(killed_at + 1) + " of " +
                 std::to_string(chunks) + " was at the emulator");
    const std::string connection_id = "kill-" + std::to_string(killed_at);
    const fs::path dir = dir_ / connection_id;
    test::LoopbackProxy proxy(emulator_->port());
    const fs::path config = split_hour::write_connection(
        dir, connection_id, "http://127.0.0.1:" + std::to_string(proxy.port()));
    const std::string snapshots = (dir / "snapshots").string();
    ASSERT_EQ(test::run_billdrop({"convert", "--config", config.string(), "--out", snapshots}, dir)
                  .exit_code,
              0);

    // Killed once the emulator has the whole of chunk `killed_at` (it then holds it kLatency).
    const pid_t first =
        spawn_billdrop({"push", "--config", config.string(), "--from", snapshots}, dir);
    ASSERT_GT(first, 0);
    const std::size_t requests = static_cast<std::size_t>(killed_at) + 1;
    int status = 0;
    bool ended = false; // by itself, before it was killed: the test would prove nothing
    for (const auto deadline = std::chrono::steady_clock::now() + 60s;
         !proxy.wait_for_requests(requests, 10ms) && std::chrono::steady_clock::now() < deadline;)
      if (::waitpid(first, &status, WNOHANG) == first) {
        ended = true;
        break;
      }
    if (!ended) {
      ::kill(first, SIGKILL);
      ASSERT_EQ(::waitpid(first, &status, 0), first);
    }
    ASSERT_EQ(proxy.requests_forwarded(), requests)
        << "exit status " << status << ": " << test::read_text(dir / "killed.stderr");
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;

    const test::CliRun again = test::run_billdrop(
        {"push", "--config", config.string(), "--from", snapshots, "--format", "json"}, dir);
    EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
    EXPECT_NE(again.out.find("\"synced\":true"), std::string::npos) << again.out;
    expect_month_is_the_source(connection_id);
  }
}

} // namespace
} // namespace billdrop
