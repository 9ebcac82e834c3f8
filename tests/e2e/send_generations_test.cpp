// Idempotency keys across sends and across processes, over real loopback HTTP against the
// emulator, with the sync state in a real SQLite file. The API (and the emulator) replays the
// first response stored for a key, so a key reused for a different send is a silent no-op: these
// tests fail if a new send ever reuses an old send's keys, or if a send resumed after a crash
// forgets how far its split hour had been restarted.
//
// Expected contents are computed here from the generated rows (integer cents), never by the code
// under test.
#include "cbf/row_validator.hpp"
#include "emulator/emulator.hpp"
#include "plan/drop_plan.hpp"
#include "send/connection_sender.hpp"
#include "send/destination.hpp"
#include "send/send_scheduler.hpp"
#include "snapshot/month_snapshot.hpp"
#include "store/sqlite/sqlite_sync_store.hpp"
#include "support/temp_folder.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <unistd.h>

namespace billdrop {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

constexpr Month kMonth(2026, 8);
constexpr const char* kApiKey = "generations-key";
constexpr std::size_t kBodyLimit = 600; // about four rows a body: the big hour is split

// One generated row: its hour ("2026-08-DDTHH") and its cost in cents.
struct GeneratedRow {
  std::string hour;
  long long cents = 0;
};

std::string cents_text(long long cents) {
  char text[40];
  const long long magnitude = cents < 0 ? -cents : cents;
  std::snprintf(text, sizeof text, "%s%lld.%02lld", cents < 0 ? "-" : "", magnitude / 100,
                magnitude % 100);
  return text;
}

// What the emulator must hold: per hour, rows and exact cost.
struct Expected {
  std::map<std::string, std::pair<std::uint64_t, long long>> hours; // hour -> (rows, cents)
  std::uint64_t rows = 0;
  long long cents = 0;
};

Expected expected_of(const std::vector<GeneratedRow>& rows) {
  Expected expected;
  for (const GeneratedRow& row : rows) {
    auto& [count, cents] = expected.hours[row.hour];
    ++count;
    cents += row.cents;
    ++expected.rows;
    expected.cents += row.cents;
  }
  return expected;
}

class SendGenerationsTest : public test::TempFolderTest {
protected:
  void SetUp() override {
    TempFolderTest::SetUp();
    emulator::EmulatorOptions options;
    options.store = dir_ / "emulator.db";
    options.api_keys = {kApiKey};
    options.max_body_bytes = kBodyLimit;
    emulator_ = std::make_unique<emulator::Emulator>(options);
    Result<std::uint16_t> port = emulator_->start("127.0.0.1", 0);
    ASSERT_TRUE(port.ok()) << port.error().message();
  }
  void TearDown() override {
    emulator_.reset(); // its store is in the folder
    TempFolderTest::TearDown();
  }

  std::unique_ptr<send::Destination> destination() const {
    send::AnycostSettings settings;
    settings.base_url = emulator_->base_url();
    settings.api_key = kApiKey;
    return send::make_anycost_destination(settings);
  }

  // Hours 00 (2 rows), 01 (9 rows: split into parts), 02 (2 rows) of August 1st; `seed` varies
  // the costs and ids, so two seeds are two different plans of the same month.
  std::vector<GeneratedRow> generate(int seed, std::size_t big_hour_rows = 9) const {
    std::vector<GeneratedRow> rows;
    const std::size_t per_hour[3] = {2, big_hour_rows, 2};
    for (int hour = 0; hour < 3; ++hour)
      for (std::size_t i = 0; i < per_hour[hour]; ++i) {
        char text[24];
        std::snprintf(text, sizeof text, "2026-08-01T%02d", hour);
        rows.push_back({text, seed * 1000 + hour * 100 + static_cast<long long>(i) * 7 - 40});
      }
    return rows;
  }

  plan::DropPlan plan_rows(const std::string& name, const std::vector<GeneratedRow>& rows) {
    const fs::path dir = dir_ / name;
    fs::create_directories(dir);
    snapshot::SnapshotBuilder builder({dir, 1024 * 1024});
    cbf::RowValidator validator;
    cbf::NormalizedRow row;
    std::vector<cbf::RowIssue> issues;
    int id = 0;
    for (const GeneratedRow& generated : rows) {
      const std::string time = generated.hour + ":00:00Z";
      const std::string cost = cents_text(generated.cents);
      const std::string line_id = name + "-" + std::to_string(++id);
      const std::vector<cbf::FieldView> fields{{"time/usage_start", time},
                                               {"cost/cost", cost},
                                               {"lineitem/id", line_id},
                                               {"resource/service", "generations-test"}};
      issues.clear();
      EXPECT_TRUE(validator.normalize(fields, row, issues)) << time << " " << cost;
      builder.add(row);
    }
    Result<std::vector<snapshot::MonthSummary>> summaries = builder.finish();
    EXPECT_TRUE(summaries.ok() && summaries->size() == 1u);
    plan::PlanLimits limits;
    limits.max_body_bytes = kBodyLimit;
    Result<plan::DropPlan> plan =
        plan::plan_month(summaries->front(), limits, plan::CapPolicy::fail);
    EXPECT_TRUE(plan.ok()) << plan.error().message();
    return std::move(plan).value();
  }

  void expect_emulator_holds(const std::string& connection, const Expected& expected) {
    Result<emulator::MonthState> state = emulator_->month_state(connection, kMonth);
    ASSERT_TRUE(state.ok()) << state.error().message();
    EXPECT_EQ(state->rows, expected.rows);
    EXPECT_EQ(state->cost, Decimal::from_string(cents_text(expected.cents)))
        << state->cost.to_string();
    ASSERT_EQ(state->hours.size(), expected.hours.size());
    for (const auto& [hour, totals] : expected.hours) {
      const auto found = state->hours.find(hour);
      ASSERT_NE(found, state->hours.end()) << hour;
      EXPECT_EQ(found->second.rows, totals.first) << hour;
      EXPECT_EQ(found->second.cost, Decimal::from_string(cents_text(totals.second)))
          << hour << ": " << found->second.cost.to_string();
    }
  }

  std::unique_ptr<store::SqliteSyncStore> open_store() const {
    Result<std::unique_ptr<store::SqliteSyncStore>> store =
        store::SqliteSyncStore::open(dir_ / "sync.db");
    EXPECT_TRUE(store.ok()) << store.error().message();
    return std::move(store).value();
  }

  static send::RetryPolicy quick_retries() {
    send::RetryPolicy policy;
    policy.initial_backoff = milliseconds(1);
    policy.max_backoff = milliseconds(5);
    policy.give_up_after = milliseconds(30'000);
    policy.jitter_seed = 3;
    return policy;
  }

  std::unique_ptr<emulator::Emulator> emulator_;
};

TEST_F(SendGenerationsTest, PlanAThenBThenAgainALeavesA) {
  const std::vector<GeneratedRow> rows_a = generate(1);
  const std::vector<GeneratedRow> rows_b = generate(2, 6);
  const plan::DropPlan a = plan_rows("a", rows_a);
  const plan::DropPlan b = plan_rows("b", rows_b);
  ASSERT_GE(a.chunks.size(), 4u);
  ASSERT_NE(a.digest, b.digest);
  const auto dest = destination();

  // Three separate runs (as three `billdrop push` would be), one sync store file.
  for (const plan::DropPlan* plan : {&a, &b, &a}) {
    const auto store = open_store();
    send::SchedulerOptions options;
    options.retry = quick_retries();
    options.journal = store.get();
    const std::vector<send::ConnectionResult> results =
        send::run_send_jobs({send::SendJob{"conn-aba", *dest, {*plan}}}, options);
    ASSERT_EQ(results.size(), 1u);
    ASSERT_EQ(results[0].months.size(), 1u);
    EXPECT_TRUE(results[0].months[0].synced) << results[0].months[0].error;
    EXPECT_EQ(results[0].store_error, "");
  }
  expect_emulator_holds("conn-aba", expected_of(rows_a));

  // The store agrees: synced, with plan A, and every send used its own keys.
  const auto store = open_store();
  Result<store::MonthStatus> status = store->month_status("conn-aba", kMonth);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->state, store::MonthSyncState::synced);
  EXPECT_EQ(status->plan_digest, a.digest);
  Result<std::vector<send::Attempt>> attempts = store->attempts("conn-aba", kMonth);
  ASSERT_TRUE(attempts.ok());
  ASSERT_EQ(attempts->size(), 2 * a.chunks.size() + b.chunks.size());
  for (std::size_t i = 0; i < a.chunks.size(); ++i)
    EXPECT_NE((*attempts)[i].idempotency_key,
              (*attempts)[a.chunks.size() + b.chunks.size() + i].idempotency_key)
        << "chunk " << i << " of the second send of A reused the first send's key";
}

// Forwards to the real destination; at one call, forwards and then "dies" (throws something the
// sender does not catch) before the response reaches the sender; at another, forwards and reports
// the response as lost.
class CrashingDestination : public send::Destination {
public:
  struct Crash {};

  CrashingDestination(send::Destination& real, std::size_t lose_at, std::size_t crash_at)
      : real_(real), lose_at_(lose_at), crash_at_(crash_at) {}
  std::string describe() const override { return "crashing " + real_.describe(); }
  send::DropResponse send(const send::DropRequest& request) override {
    const std::size_t call = calls++;
    keys.push_back(request.idempotency_key);
    send::DropResponse response = real_.send(request);
    if (call == crash_at_)
      throw Crash{};
    if (call == lose_at_) {
      response = send::DropResponse{};
      response.outcome = send::Outcome::ambiguous;
      response.message = "no complete response: Read (lost by the test)";
    }
    return response;
  }

  std::size_t calls = 0;
  std::vector<std::string> keys;

private:
  send::Destination& real_;
  std::size_t lose_at_;
  std::size_t crash_at_;
};

TEST_F(SendGenerationsTest, ASendResumedAfterACrashKeepsItsSplitHourRestarts) {
  const std::vector<GeneratedRow> rows = generate(3);
  const plan::DropPlan plan = plan_rows("a", rows);
  // The shape the scenario needs: chunk 0 replace_drop, then the big hour's replace_hourly part
  // and at least two sum parts.
  ASSERT_GE(plan.chunks.size(), 5u);
  ASSERT_EQ(plan.chunks[1].operation, cbf::DropOperation::replace_hourly);
  ASSERT_EQ(plan.chunks[2].operation, cbf::DropOperation::sum);
  ASSERT_EQ(plan.chunks[3].operation, cbf::DropOperation::sum);
  ASSERT_EQ(plan.chunks[2].split_hour_start, std::optional<std::uint32_t>(1));
  const auto real = destination();

  // Process 1: chunk 0, part 1, then part 2 (a sum) is applied but its response is lost, so the
  // hour restarts; the restarted part 1 is applied and the process dies before it hears so.
  std::vector<std::string> first_keys;
  {
    const auto store = open_store();
    Result<send::SendStart> start = store->begin_send("conn-crash", kMonth, plan.digest);
    ASSERT_TRUE(start.ok()) << start.error().message();
    EXPECT_FALSE(start->resumed);
    CrashingDestination crashing(*real, 2, 3);
    send::ConnectionSender sender("conn-crash", crashing, quick_retries());
    sender.on_key_state([&](const send::SendGeneration& generation,
                            const std::map<std::uint32_t, send::ChunkKeyState>& chunks) {
      return store->save_key_state("conn-crash", kMonth, generation, chunks);
    });
    EXPECT_THROW(sender.send(plan, *start), CrashingDestination::Crash);
    ASSERT_EQ(crashing.calls, 4u);
    first_keys = crashing.keys;
    EXPECT_EQ(first_keys[3], first_keys[1] + "-r1"); // the restarted part 1
  }

  // Process 2: another sender, the same sync.db. It resumes the interrupted send and must end
  // with the month exactly once.
  const auto store = open_store();
  Result<send::SendStart> start = store->begin_send("conn-crash", kMonth, plan.digest);
  ASSERT_TRUE(start.ok()) << start.error().message();
  EXPECT_TRUE(start->resumed);
  CrashingDestination recording(*real, SIZE_MAX, SIZE_MAX);
  send::ConnectionSender sender("conn-crash", recording, quick_retries());
  sender.on_key_state([&](const send::SendGeneration& generation,
                          const std::map<std::uint32_t, send::ChunkKeyState>& chunks) {
    return store->save_key_state("conn-crash", kMonth, generation, chunks);
  });
  const send::MonthSendResult result = sender.send(plan, *start);
  ASSERT_TRUE(result.synced) << result.error;
  // The same send: chunk 0's key again (a replay), and the split hour where it had got to.
  ASSERT_GE(recording.keys.size(), 3u);
  EXPECT_EQ(recording.keys[0], first_keys[0]);
  EXPECT_EQ(recording.keys[1], first_keys[3]);
  EXPECT_EQ(recording.keys[2], first_keys[2] + "-r1");
  expect_emulator_holds("conn-crash", expected_of(rows));
}

} // namespace
} // namespace billdrop
