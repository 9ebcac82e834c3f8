// The send scheduler: connections in parallel, one request in flight per connection, months in
// order, results per connection, and everything recorded in the sync store.
#include "send/send_scheduler.hpp"

#include "store/sqlite/sqlite_sync_store.hpp"
#include "support/temp_folder.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

namespace billdrop::send {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

// Counts requests in flight, overall and per connection, and remembers each connection's order.
class CountingDestination : public Destination {
public:
  std::string describe() const override { return "counting"; }

  DropResponse send(const DropRequest& request) override {
    const int overall = ++in_flight_;
    int mine = 0;
    {
      const std::lock_guard lock(mutex_);
      mine = ++per_connection_[request.connection_id];
      max_per_connection_ = std::max(max_per_connection_, mine);
      max_overall_ = std::max(max_overall_, overall);
      order_[request.connection_id].push_back(request.month.to_string() + "#" +
                                              std::to_string(request.chunk_index));
    }
    std::this_thread::sleep_for(milliseconds(3)); // long enough for others to overlap
    DropResponse response;
    response.outcome = Outcome::acknowledged;
    response.http_status = 200;
    if (reject_connection == request.connection_id && request.month == reject_month) {
      response.outcome = Outcome::rejected;
      response.http_status = 400;
      response.message = "bad rows";
    }
    {
      const std::lock_guard lock(mutex_);
      --per_connection_[request.connection_id];
    }
    --in_flight_;
    return response;
  }

  int max_overall() const { return max_overall_; }
  int max_per_connection() const { return max_per_connection_; }
  std::vector<std::string> order(const std::string& connection) {
    const std::lock_guard lock(mutex_);
    return order_[connection];
  }

  std::string reject_connection;
  Month reject_month;

private:
  std::atomic<int> in_flight_{0};
  std::mutex mutex_;
  std::map<std::string, int> per_connection_;
  std::map<std::string, std::vector<std::string>> order_;
  int max_per_connection_ = 0;
  int max_overall_ = 0;
};

class SendSchedulerTest : public test::TempFolderTest {
protected:
  // A month of two hours at one hour per body: two chunks.
  plan::DropPlan month_plan(Month month) {
    const std::string prefix = month.to_string();
    const std::vector<std::string> lines{
        R"({"time/usage_start":")" + prefix + R"(-01T00:00:00Z","cost/cost":"1.25"})",
        R"({"time/usage_start":")" + prefix + R"(-01T01:00:00Z","cost/cost":"2.50"})"};
    snapshot::MonthSummary summary;
    summary.month = month;
    summary.file = dir_ / (prefix + ".ndjson");
    summary.digest = "sha-" + prefix;
    std::ofstream out(summary.file, std::ios::binary);
    for (const std::string& line : lines) {
      out << line << '\n';
      summary.json_bytes += line.size();
    }
    out.close();
    summary.rows = 2;
    summary.cost = Decimal::from_string("3.75");
    plan::PlanLimits limits;
    limits.max_body_bytes =
        cbf::DropBodyWriter::empty_size(month, cbf::DropOperation::replace_hourly) +
        lines[0].size();
    Result<plan::DropPlan> plan = plan::plan_month(summary, limits, plan::CapPolicy::fail);
    EXPECT_TRUE(plan.ok()) << plan.error().message();
    EXPECT_EQ(plan->chunks.size(), 2u);
    return std::move(plan).value();
  }
};

TEST_F(SendSchedulerTest, RunsConnectionsInParallelWithOneRequestInFlightEach) {
  const std::vector<plan::DropPlan> plans{month_plan(Month(2026, 6)), month_plan(Month(2026, 7)),
                                          month_plan(Month(2026, 8))};
  CountingDestination destination;
  std::vector<SendJob> jobs;
  for (int i = 0; i < 8; ++i)
    jobs.push_back({"conn-" + std::to_string(i), destination, plans});
  SchedulerOptions options;
  options.parallel_connections = 4;
  std::atomic<int> observed{0};
  options.observer = [&observed](const Attempt&) { ++observed; };

  const std::vector<ConnectionResult> results = run_send_jobs(jobs, options);

  ASSERT_EQ(results.size(), 8u);
  for (int i = 0; i < 8; ++i) {
    const ConnectionResult& result = results[static_cast<std::size_t>(i)];
    EXPECT_EQ(result.connection_id, "conn-" + std::to_string(i));
    ASSERT_EQ(result.months.size(), 3u);
    EXPECT_TRUE(result.all_synced());
    EXPECT_EQ(result.months[0].month, Month(2026, 6));
    EXPECT_EQ(result.months[2].month, Month(2026, 8));
    EXPECT_EQ(destination.order(result.connection_id),
              (std::vector<std::string>{"2026-06#0", "2026-06#1", "2026-07#0", "2026-07#1",
                                        "2026-08#0", "2026-08#1"}));
  }
  EXPECT_EQ(observed.load(), 8 * 3 * 2);
  EXPECT_EQ(destination.max_per_connection(), 1);
  EXPECT_LE(destination.max_overall(), 4);
  EXPECT_GE(destination.max_overall(), 2) << "connections should overlap";
}

TEST_F(SendSchedulerTest, JobsOfOneConnectionShareItsStrand) {
  CountingDestination destination;
  const plan::DropPlan june = month_plan(Month(2026, 6));
  const plan::DropPlan july = month_plan(Month(2026, 7));
  std::vector<SendJob> jobs;
  for (int i = 0; i < 6; ++i)
    jobs.push_back({"same", destination, {i % 2 == 0 ? june : july}});
  SchedulerOptions options;
  options.parallel_connections = 6;
  const std::vector<ConnectionResult> results = run_send_jobs(jobs, options);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].months.size(), 6u);
  EXPECT_TRUE(results[0].all_synced());
  EXPECT_EQ(destination.max_per_connection(), 1);
  EXPECT_EQ(destination.order("same").size(), 12u);
}

TEST_F(SendSchedulerTest, RecordsEverythingAndAFailedMonthIsNotSynced) {
  Result<std::unique_ptr<store::SqliteSyncStore>> store =
      store::SqliteSyncStore::open(dir_ / "state.db");
  ASSERT_TRUE(store.ok()) << store.error().message();
  const std::vector<plan::DropPlan> plans{month_plan(Month(2026, 6)), month_plan(Month(2026, 7)),
                                          month_plan(Month(2026, 8))};
  CountingDestination destination;
  destination.reject_connection = "b";
  destination.reject_month = Month(2026, 7);
  std::vector<SendJob> jobs{{"a", destination, plans}, {"b", destination, plans}};
  SchedulerOptions options;
  options.parallel_connections = 2;
  options.journal = store->get();

  const std::vector<ConnectionResult> results = run_send_jobs(jobs, options);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_TRUE(results[0].all_synced());
  EXPECT_EQ(results[0].store_error, "");
  EXPECT_FALSE(results[1].all_synced());
  EXPECT_EQ(results[1].store_error, "");
  ASSERT_EQ(results[1].months.size(), 3u);
  EXPECT_TRUE(results[1].months[0].synced);
  EXPECT_FALSE(results[1].months[1].synced);
  EXPECT_NE(results[1].months[1].error.find("HTTP 400: bad rows"), std::string::npos);
  EXPECT_TRUE(results[1].months[2].synced) << "a failed month does not stop the next one";

  store::SqliteSyncStore& db = **store;
  for (const Month month : {Month(2026, 6), Month(2026, 7), Month(2026, 8)}) {
    Result<store::MonthStatus> status = db.month_status("a", month);
    ASSERT_TRUE(status.ok());
    EXPECT_EQ(status->state, store::MonthSyncState::synced) << month.to_string();
    EXPECT_EQ(status->rows, 2u);
    EXPECT_EQ(status->cost, Decimal::from_string("3.75"));
    EXPECT_EQ(db.attempts("a", month)->size(), 2u);
  }
  Result<store::MonthStatus> failed = db.month_status("b", Month(2026, 7));
  EXPECT_EQ(failed->state, store::MonthSyncState::failed);
  EXPECT_NE(failed->error.find("bad rows"), std::string::npos) << failed->error;
  EXPECT_EQ(failed->chunks_acknowledged, 0u);
  Result<std::vector<Attempt>> attempts = db.attempts("b", Month(2026, 7));
  ASSERT_EQ(attempts->size(), 1u);
  EXPECT_EQ(attempts->at(0).outcome, Outcome::rejected);
  EXPECT_EQ(attempts->at(0).http_status, 400);
  EXPECT_EQ(db.month_status("b", Month(2026, 8))->state, store::MonthSyncState::synced);
}

TEST_F(SendSchedulerTest, NoJobsIsNoResults) {
  EXPECT_TRUE(run_send_jobs({}, SchedulerOptions{}).empty());
}

} // namespace
} // namespace billdrop::send
