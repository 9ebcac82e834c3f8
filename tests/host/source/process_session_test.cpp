// ProcessSession against real plugins in a real runner (the built billdrop binary): the rows,
// rejects, logs and cursors come through as from the in-process plugin, and each kind of
// misbehaviour (tests/host/broken_plugins/faulty_plugin.cpp) fails its own month with a message
// naming the plugin and the signal or limit, while the next month reads in a fresh runner.
#include "source/process_session.hpp"

#include <gtest/gtest.h>
#include <support/broken_plugins.hpp>

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

namespace billdrop {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

fs::path test_plugin(std::string_view name) {
  return test::broken_plugin_file(name);
}

std::shared_ptr<source::LoadedPlugin> load_or_fail(std::string_view name) {
  return test::load_broken_plugin(name);
}

source::ProcessOptions runner_options() {
  source::ProcessOptions options;
  options.runner = BILLDROP_TEST_BILLDROP_EXE;
  return options;
}

std::unique_ptr<source::ProcessSession>
open_or_fail(std::string_view name, const ConfigValues& config = {},
             source::ProcessOptions options = runner_options()) {
  Result<std::unique_ptr<source::ProcessSession>> session =
      source::ProcessSession::create(load_or_fail(name), config, std::move(options));
  if (!session)
    throw std::runtime_error(session.error().message());
  return std::move(*session);
}

// Everything a read gives, as text, in the order it came.
struct Recorder final : source::RowReceiver {
  std::vector<std::string> events;
  std::size_t rows = 0;
  int stop_after_batches = -1; // >= 0: on_rows returns false after this many batches
  bool throw_on_rows = false;
  int batches = 0;

  bool on_rows(std::span<const bd_row> batch) override {
    if (throw_on_rows)
      throw ErrorException(Error(ErrorKind::source, "the disk is full"));
    for (const bd_row& row : batch) {
      std::string text = "row " + std::string(row.origin.data, row.origin.size) + ":";
      for (std::size_t i = 0; i < row.field_count; ++i)
        text += " " + std::string(row.fields[i].key.data, row.fields[i].key.size) + "=" +
                std::string(row.fields[i].value.data, row.fields[i].value.size);
      events.push_back(std::move(text));
      ++rows;
    }
    ++batches;
    return stop_after_batches < 0 || batches < stop_after_batches;
  }
  void on_reject(std::string_view origin, std::string_view reason) override {
    events.push_back("reject " + std::string(origin) + " " + std::string(reason));
  }
  void on_reject_field(std::string_view origin, std::string_view column, std::string_view rule,
                       std::string_view reason) override {
    events.push_back("reject_field " + std::string(origin) + " " + std::string(column) + " " +
                     std::string(rule) + " " + std::string(reason));
  }
  void on_progress(std::uint64_t done, std::uint64_t total) override {
    events.push_back("progress " + std::to_string(done) + "/" + std::to_string(total));
  }
  void on_log(bd_log_level level, std::string_view message) override {
    events.push_back("log " + std::to_string(level) + " " + std::string(message));
  }
  void on_note(std::string_view key, std::uint64_t count) override {
    events.push_back("note " + std::string(key) + " " + std::to_string(count));
  }
  void on_cursor(std::string_view cursor) override {
    events.push_back("cursor " + std::string(cursor));
  }
};

const ConfigValues kGoodConfig = {{"account", std::string("acme-1")},
                                  {"rows", std::int64_t(2500)},
                                  {"tagged", true},
                                  {"tags", StringMap{{"team", "core"}, {"env", "prod"}}}};

TEST(ProcessSession, GivesWhatTheInProcessPluginGives) {
  auto plugin = load_or_fail("good");
  auto in_process = source::PluginInstance::create(plugin, kGoodConfig);
  ASSERT_TRUE(in_process) << in_process.error().message();
  auto process = open_or_fail("good", kGoodConfig);

  EXPECT_TRUE((*in_process)->check());
  EXPECT_TRUE(process->check());
  const auto months_in = (*in_process)->months();
  const auto months_out = process->months();
  ASSERT_TRUE(months_in && months_out);
  EXPECT_EQ(*months_in, *months_out);
  ASSERT_EQ(months_out->size(), 2u); // 2024-06 and 2024-08, once each

  Recorder in, out;
  ASSERT_TRUE((*in_process)->read(Month(2024, 8), in));
  ASSERT_TRUE(process->read(Month(2024, 8), out));
  EXPECT_EQ(out.rows, 2500u);
  EXPECT_EQ(out.events, in.events);
  // Row 3 by hand: 3 * 1.25 = 3.75, hour 2.
  EXPECT_EQ(out.events[1], "row good:1: time/usage_start=2024-08-01T00:00:00Z cost/cost=1.25 "
                           "resource/id=res-1 resource/account=acme-1 resource/tag:team=core "
                           "resource/tag:env=prod");
  EXPECT_EQ(out.events[3], "row good:3: time/usage_start=2024-08-01T02:00:00Z cost/cost=3.75 "
                           "resource/id=res-3 resource/account=acme-1 resource/tag:team=core "
                           "resource/tag:env=prod");
  EXPECT_EQ(out.events.front(), "log 1 reading 2024-08");
  // The SDK sends the last rows after read() returns, so the reject and the progress come before.
  EXPECT_NE(std::find(out.events.begin(), out.events.end(), "progress 2500/2500"),
            out.events.end());
  EXPECT_EQ(out.events.back().rfind("row good:2500:", 0), 0u);
  // One runner serves every call of the session.
  const int pid = process->runner_pid();
  EXPECT_GT(pid, 0);
  Recorder again;
  ASSERT_TRUE(process->read(Month(2024, 6), again));
  EXPECT_EQ(again.rows, 2500u);
  EXPECT_EQ(process->runner_pid(), pid);
}

TEST(ProcessSession, ConfigErrorsAreTheSameAsInProcess) {
  auto plugin = load_or_fail("good");
  const ConfigValues wrong = {{"acount", std::string("acme-1")}};
  auto in_process = source::PluginInstance::create(plugin, wrong);
  auto process = source::ProcessSession::create(plugin, wrong, runner_options());
  ASSERT_FALSE(in_process);
  ASSERT_FALSE(process);
  EXPECT_EQ(process.error().kind(), ErrorKind::config);
  EXPECT_EQ(process.error().message(), in_process.error().message());
  // A plugin whose constructor refuses the configuration: its message, from the runner.
  auto refused = source::ProcessSession::create(
      plugin, {{"account", std::string("a")}, {"rows", std::int64_t(-1)}}, runner_options());
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind(), ErrorKind::config);
  EXPECT_NE(refused.error().message().find("rows must not be negative"), std::string::npos)
      << refused.error().message();
}

TEST(ProcessSession, PluginErrorsKeepTheirKindAndMessage) {
  auto session = open_or_fail("month_fails", {});
  auto plugin = load_or_fail("month_fails");
  auto in_process = source::PluginInstance::create(plugin, {});
  ASSERT_TRUE(in_process);
  auto months = (*in_process)->months();
  ASSERT_TRUE(months);
  for (const Month& month : *months) {
    Recorder a, b;
    const Status expected = (*in_process)->read(month, a);
    const Status got = session->read(month, b);
    ASSERT_EQ(static_cast<bool>(got), static_cast<bool>(expected)) << month.to_string();
    if (!expected) {
      EXPECT_EQ(got.error().kind(), expected.error().kind());
      EXPECT_EQ(got.error().message(), expected.error().message());
    }
    EXPECT_EQ(b.events, a.events);
  }
}

TEST(ProcessSession, ReadSinceForwardsRowsAndCursorsInOrder) {
  const ConfigValues config = {{"increments", std::int64_t(3)}};
  auto session = open_or_fail("incremental", config);
  ASSERT_TRUE(session->incremental());
  auto in_process = source::PluginInstance::create(load_or_fail("incremental"), config);
  ASSERT_TRUE(in_process);
  Recorder expected, out;
  std::string expected_next, next;
  ASSERT_TRUE((*in_process)->read_since("1", expected, expected_next));
  ASSERT_TRUE(session->read_since("1", out, next));
  EXPECT_EQ(next, "3");
  EXPECT_EQ(next, expected_next);
  EXPECT_EQ(out.events, expected.events);
  // Increments 2 and 3, each a row and then its cursor.
  ASSERT_GE(out.events.size(), 4u);
  EXPECT_EQ(out.events[0].rfind("row inc:2:", 0), 0u) << out.events[0];
  EXPECT_EQ(out.events[1], "cursor 2");
  EXPECT_EQ(out.events[2].rfind("row inc:3:", 0), 0u) << out.events[2];
  EXPECT_EQ(out.events[3], "cursor 3");
  // The plugin's protocol errors are reported as in-process.
  auto broken = open_or_fail("incremental", {{"mode", std::string("no_cursor")}});
  Recorder ignored;
  const Status status = broken->read_since("7", ignored, next);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().message(),
            "plugin 'incremental' returned from read_since() since cursor '7' without giving the "
            "next cursor (bd_sink::cursor)");
  EXPECT_EQ(next, "3"); // unchanged
}

TEST(ProcessSession, AReceiverThatStopsOrThrowsEndsTheReadNotTheRunner) {
  auto session = open_or_fail("good", kGoodConfig);
  const int pid = session->runner_pid();
  Recorder stopper;
  stopper.stop_after_batches = 1;
  const Status stopped = session->read(Month(2024, 8), stopper);
  ASSERT_FALSE(stopped);
  EXPECT_EQ(stopped.error().kind(), ErrorKind::cancelled);
  EXPECT_EQ(stopper.rows, 1024u); // the SDK's batch; nothing after the stop reaches the receiver

  Recorder thrower;
  thrower.throw_on_rows = true;
  const Status thrown = session->read(Month(2024, 8), thrower);
  ASSERT_FALSE(thrown);
  EXPECT_EQ(thrown.error().kind(), ErrorKind::source);
  EXPECT_EQ(thrown.error().message(), "the disk is full");

  Recorder whole;
  ASSERT_TRUE(session->read(Month(2024, 8), whole));
  EXPECT_EQ(whole.rows, 2500u);
  EXPECT_EQ(session->runner_pid(), pid); // the same runner all along
}

// Reads 2026-07 (fine), 2026-08 (the fault) and 2026-09 (fine again, in a new runner); returns
// the error of 2026-08.
Error fault_in_august(std::string_view name, source::ProcessOptions options = runner_options()) {
  auto session = open_or_fail(name, {}, std::move(options));
  Recorder july;
  EXPECT_TRUE(session->read(Month(2026, 7), july));
  EXPECT_EQ(july.rows, 4u);
  const int pid = session->runner_pid();
  Recorder august;
  Status status = session->read(Month(2026, 8), august);
  EXPECT_FALSE(status) << name;
  EXPECT_EQ(session->runner_pid(), -1) << "the runner of a failed call is gone";
  Recorder september;
  const Status next = session->read(Month(2026, 9), september);
  EXPECT_TRUE(next) << (next ? "" : next.error().message());
  EXPECT_EQ(september.rows, 4u);
  EXPECT_NE(session->runner_pid(), pid);
  EXPECT_TRUE(session->check());
  if (status)
    return internal_error("(no error)");
  return status.error();
}

TEST(ProcessSession, ASegfaultFailsItsMonthNamingThePluginAndTheSignal) {
  const Error error = fault_in_august("fault_segfault");
  EXPECT_EQ(error.kind(), ErrorKind::internal);
  EXPECT_EQ(error.message(), "plugin 'fault_segfault' crashed while reading 2026-08: its runner "
                             "process was killed by SIGSEGV (" +
                                 std::string(strsignal(SIGSEGV)) + ")");
}

TEST(ProcessSession, AnAbortFailsItsMonth) {
  const Error error = fault_in_august("fault_abort");
  EXPECT_EQ(error.message(), "plugin 'fault_abort' crashed while reading 2026-08: its runner "
                             "process was killed by SIGABRT (" +
                                 std::string(strsignal(SIGABRT)) + ")");
}

TEST(ProcessSession, AnExitFailsItsMonth) {
  const Error error = fault_in_august("fault_exit");
  EXPECT_EQ(error.message(), "plugin 'fault_exit' crashed while reading 2026-08: its runner "
                             "process exited (status 3) instead of returning");
}

TEST(ProcessSession, AHangIsKilledAfterTheTimeout) {
  source::ProcessOptions options = runner_options();
  options.timeout = std::chrono::seconds(2);
  auto session = open_or_fail("fault_hang", {}, options);
  Recorder august;
  const auto start = Clock::now();
  const Status status = session->read(Month(2026, 8), august);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  ASSERT_FALSE(status);
  EXPECT_GE(seconds, 2.0);
  EXPECT_LT(seconds, 10.0);
  EXPECT_EQ(august.rows, 4u); // what came before the hang
  EXPECT_EQ(status.error().kind(), ErrorKind::source);
  EXPECT_TRUE(status.error().retryable());
  EXPECT_EQ(status.error().message(),
            "plugin 'fault_hang' did not finish reading 2026-08 within read_timeout_seconds = 2: "
            "its runner process was killed (SIGKILL)");
  Recorder september;
  EXPECT_TRUE(session->read(Month(2026, 9), september));
  EXPECT_EQ(september.rows, 4u);
}

TEST(ProcessSession, AMemoryHogHitsTheLimit) {
  source::ProcessOptions options = runner_options();
  options.memory_limit_mb = 256;
  const Error error = fault_in_august("fault_hog", options);
  EXPECT_EQ(error.kind(), ErrorKind::internal);
  EXPECT_EQ(error.message().rfind("plugin 'fault_hog' exceeded its memory limit "
                                  "(memory_limit_mb = 256) while reading 2026-08",
                                  0),
            0u)
      << error.message();
}

TEST(ProcessSession, WritingToStdoutFailsTheMonth) {
  const Error error = fault_in_august("fault_stdout");
  EXPECT_EQ(error.kind(), ErrorKind::internal);
  // What it printed, up to the line's end when it came in several writes.
  EXPECT_EQ(error.message(),
            "plugin 'fault_stdout' wrote to stdout while reading 2026-08 (\"hello from a plugin "
            "that prints\\n\"): stdout belongs to billdrop, a plugin must log through its sink; "
            "its runner process was killed");
}

TEST(ProcessSession, AMissingRunnerIsAClearError) {
  source::ProcessOptions options;
  options.runner = "/nonexistent/billdrop";
  auto session = source::ProcessSession::create(load_or_fail("good"),
                                                {{"account", std::string("a")}}, options);
  ASSERT_FALSE(session);
  EXPECT_NE(session.error().message().find("cannot start the runner of plugin 'good'"),
            std::string::npos)
      << session.error().message();
}

TEST(PluginLoaderName, AFileHoldingAnotherPluginIsRefusedNamingBoth) {
  // billdrop_unloadable.so is good_plugin.cpp built under another file name.
  const fs::path file = test_plugin("unloadable");
  EXPECT_EQ(source::plugin_name_of_file(file), "unloadable");
  EXPECT_EQ(source::plugin_name_of_file("/x/notes.so"), "");
  Result<std::shared_ptr<source::LoadedPlugin>> refused = source::load_plugin(file, "unloadable");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind(), ErrorKind::config);
  EXPECT_EQ(refused.error().message(),
            file.string() +
                " holds plugin 'good', but plugin 'unloadable' was asked for: a plugin file keeps "
                "the name it was built with (billdrop_good.so); rename it back, or ask for 'good'");
  EXPECT_TRUE(source::load_plugin(test_plugin("good"), "good"));
  EXPECT_TRUE(source::load_plugin(file)); // nothing expected: loads (the loader tests use it)
}

} // namespace
} // namespace billdrop
