// ConnectionSender and the scheduler under a stop request: a backoff sleep ends at once, no
// request starts after the stop, the month is reported cancelled (not failed), and the scheduler
// leaves it pending in the journal so that the next send resumes it.
#include "send/connection_sender.hpp"
#include "send/send_scheduler.hpp"
#include "store/sqlite/sqlite_sync_store.hpp"

#include "support/temp_folder.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <thread>

namespace billdrop::send {
namespace {

using std::chrono::milliseconds;
constexpr Month kMonth(2026, 8);

class SenderCancelTest : public test::TempFolderTest {
protected:
  // Three hours of one row each, at one row a body: three chunks.
  plan::DropPlan three_chunks() {
    snapshot::MonthSummary summary;
    summary.month = kMonth;
    summary.file = dir_ / "2026-08.ndjson";
    summary.digest = "cancel-test";
    std::ofstream out(summary.file, std::ios::binary);
    for (int hour = 0; hour < 3; ++hour) {
      const std::string line = "{\"time/usage_start\":\"2026-08-01T0" + std::to_string(hour) +
                               ":00:00Z\",\"cost/cost\":\"1.00\"}";
      out << line << '\n';
      summary.json_bytes += line.size();
      summary.cost += Decimal::from_string("1.00");
    }
    out.close();
    summary.rows = 3;
    plan::PlanLimits limits;
    limits.max_body_bytes = 120;
    Result<plan::DropPlan> planned = plan::plan_month(summary, limits, plan::CapPolicy::fail);
    EXPECT_TRUE(planned.ok()) << planned.error().message();
    EXPECT_EQ(planned->chunks.size(), 3u);
    return std::move(planned).value();
  }
};

// Acknowledges the first request, answers 503 to every later one; counts requests.
class FlakyDestination : public Destination {
public:
  std::string describe() const override { return "flaky"; }
  DropResponse send(const DropRequest&) override {
    DropResponse response;
    if (requests++ == 0) {
      response.outcome = Outcome::acknowledged;
      response.http_status = 200;
    } else {
      response.outcome = Outcome::retryable;
      response.http_status = 503;
    }
    return response;
  }
  std::atomic<int> requests{0};
};

TEST_F(SenderCancelTest, AStopEndsABackoffSleepAtOnceAndStartsNoOtherRequest) {
  const plan::DropPlan plan = three_chunks();
  FlakyDestination destination;
  RetryPolicy policy;
  policy.initial_backoff = milliseconds(60'000); // one backoff would outlast the test's patience
  policy.max_backoff = milliseconds(60'000);
  policy.give_up_after = milliseconds(3'600'000);
  policy.jitter_seed = 7;
  ConnectionSender sender("acme", destination, policy);
  core::CancelToken cancel;
  sender.set_cancel(&cancel);
  std::thread stopper([&] {
    while (destination.requests < 2) // chunk 1 acknowledged, chunk 2 answered 503: now sleeping
      std::this_thread::sleep_for(milliseconds(5));
    std::this_thread::sleep_for(milliseconds(100));
    cancel.cancel();
  });
  const auto start = std::chrono::steady_clock::now();
  const MonthSendResult result = sender.send(plan);
  const auto took = std::chrono::steady_clock::now() - start;
  stopper.join();
  EXPECT_LT(took, milliseconds(10'000));
  EXPECT_TRUE(result.cancelled);
  EXPECT_FALSE(result.synced);
  EXPECT_EQ(result.chunks_acknowledged, 1u);
  EXPECT_EQ(destination.requests, 2); // nothing after the stop
  EXPECT_NE(result.error.find("a stop was requested"), std::string::npos) << result.error;
}

TEST_F(SenderCancelTest, TheSchedulerLeavesAStoppedMonthPendingAndTheNextSendResumesIt) {
  const plan::DropPlan plan = three_chunks();
  Result<std::unique_ptr<store::SqliteSyncStore>> store =
      store::SqliteSyncStore::open(dir_ / "sync.db");
  ASSERT_TRUE(store.ok());
  FlakyDestination destination;
  core::CancelToken cancel;
  SchedulerOptions options;
  options.journal = store->get();
  options.cancel = &cancel;
  options.retry.initial_backoff = milliseconds(60'000);
  options.retry.max_backoff = milliseconds(60'000);
  options.retry.give_up_after = milliseconds(3'600'000);
  std::thread stopper([&] {
    while (destination.requests < 2)
      std::this_thread::sleep_for(milliseconds(5));
    cancel.cancel();
  });
  const std::vector<ConnectionResult> results =
      run_send_jobs({SendJob{"acme", destination, {plan}}}, options);
  stopper.join();
  ASSERT_EQ(results.size(), 1u);
  ASSERT_EQ(results[0].months.size(), 1u);
  EXPECT_TRUE(results[0].months[0].cancelled);

  Result<store::MonthStatus> status = (*store)->month_status("acme", kMonth);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->state, store::MonthSyncState::pending); // not failed: resumable
  EXPECT_EQ(status->chunks_acknowledged, 1u);
  // The next send of the same plan resumes the interrupted one: the same generation.
  Result<SendStart> next = (*store)->begin_send("acme", kMonth, plan.digest);
  ASSERT_TRUE(next.ok());
  EXPECT_TRUE(next->resumed);
}

} // namespace
} // namespace billdrop::send

namespace billdrop::send {
namespace {

// Acknowledges every request; counts them.
class AcknowledgingDestination : public Destination {
public:
  std::string describe() const override { return "acknowledging"; }
  DropResponse send(const DropRequest&) override {
    ++requests;
    DropResponse response;
    response.outcome = Outcome::acknowledged;
    response.http_status = 200;
    return response;
  }
  int requests = 0;
};

// The self-fence: the guard is asked right before each request, and once it refuses (this host
// lost the connection's lease) no further request is sent and the month is neither synced nor
// failed, but stopped (resumable by the lease's new holder).
TEST_F(SenderCancelTest, ARefusedRequestGuardStopsTheSendBeforeItsNextRequest) {
  const plan::DropPlan plan = three_chunks();
  AcknowledgingDestination destination;
  ConnectionSender sender("acme", destination, RetryPolicy{});
  int asked = 0;
  sender.before_request([&]() -> Status {
    if (++asked <= 2)
      return {};
    return source_error("connection 'acme' is fenced: its lease (token 4) was claimed by another "
                        "host");
  });
  const MonthSendResult result = sender.send(plan);
  EXPECT_EQ(asked, 3);
  EXPECT_EQ(destination.requests, 2); // chunks 1 and 2; nothing after the refusal
  EXPECT_TRUE(result.cancelled);
  EXPECT_TRUE(result.fenced);
  EXPECT_FALSE(result.synced);
  EXPECT_EQ(result.chunks_acknowledged, 2u);
  EXPECT_NE(result.error.find("is fenced"), std::string::npos) << result.error;
}

} // namespace
} // namespace billdrop::send
