// deliver_all: several connections' months planned and sent in one scheduler run, one request in
// flight per connection and up to parallel_connections connections at once; results come back
// per connection, in order.
#include "jobs/delivery.hpp"

#include "cbf/row_validator.hpp"
#include "store/sync_store.hpp"
#include "support/temp_folder.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>

namespace billdrop {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

// Holds each request until `wanted` are in flight (or a while has passed), so the test sees how
// many the scheduler lets overlap.
class GatheringDestination : public send::Destination {
public:
  explicit GatheringDestination(int wanted) : wanted_(wanted) {}
  std::string describe() const override { return "gathering"; }

  send::DropResponse send(const send::DropRequest& request) override {
    std::unique_lock lock(mutex_);
    const int mine = ++per_connection_[request.connection_id];
    ++seen_[request.connection_id];
    ++in_flight_;
    max_in_flight_ = std::max(max_in_flight_, in_flight_);
    max_per_connection_ = std::max(max_per_connection_, mine);
    changed_.notify_all();
    changed_.wait_for(lock, milliseconds(300), [&] { return in_flight_ >= wanted_; });
    --in_flight_;
    --per_connection_[request.connection_id];
    send::DropResponse response;
    response.outcome = send::Outcome::acknowledged;
    response.http_status = 200;
    return response;
  }

  int max_in_flight() {
    const std::lock_guard lock(mutex_);
    return max_in_flight_;
  }
  // Requests seen for a connection id (their in-flight count is back to zero after each).
  int requests_for(const std::string& connection) {
    const std::lock_guard lock(mutex_);
    const auto it = seen_.find(connection);
    return it == seen_.end() ? 0 : it->second;
  }
  int max_per_connection() {
    const std::lock_guard lock(mutex_);
    return max_per_connection_;
  }

private:
  const int wanted_;
  std::mutex mutex_;
  std::condition_variable changed_;
  int in_flight_ = 0;
  int max_in_flight_ = 0;
  int max_per_connection_ = 0;
  std::map<std::string, int> per_connection_;
  std::map<std::string, int> seen_;
};

class DeliveryTest : public test::TempFolderTest {
protected:
  // `hours` hours of one row each in August 2026, in their own folder.
  jobs::MonthToDeliver month(const std::string& name, int hours) {
    const fs::path dir = dir_ / name;
    fs::create_directories(dir);
    snapshot::SnapshotBuilder builder({dir, 1 << 20});
    cbf::RowValidator validator;
    cbf::NormalizedRow row;
    std::vector<cbf::RowIssue> issues;
    for (int hour = 0; hour < hours; ++hour) {
      const std::string time = "2026-08-01T0" + std::to_string(hour) + ":00:00Z";
      const std::vector<cbf::FieldView> fields{{"time/usage_start", time}, {"cost/cost", "1.25"}};
      EXPECT_TRUE(validator.normalize(fields, row, issues));
      builder.add(row);
    }
    Result<std::vector<snapshot::MonthSummary>> summaries = builder.finish();
    EXPECT_TRUE(summaries.ok() && summaries->size() == 1u);
    return jobs::MonthToDeliver{summaries->front(), 0, ""};
  }

  // Three connections of two chunks each (one hour per body), sharing one destination.
  std::vector<std::vector<jobs::MonthDelivery>> send_three(GatheringDestination*& destination,
                                                           std::size_t parallel) {
    auto fake = std::make_unique<GatheringDestination>(static_cast<int>(parallel));
    destination = fake.get();
    open_.destination = std::move(fake);
    std::vector<jobs::ConnectionToDeliver> connections;
    for (const char* id : {"c1", "c2", "c3"})
      connections.push_back({id, {month(id, 2)}, &open_, false});
    jobs::DeliveryOptions options;
    options.limits.max_body_bytes = 150; // one row a body
    options.parallel_connections = parallel;
    return jobs::deliver_all(connections, options, journal().get());
  }

  // The state directory's sync store, opened once per test.
  std::unique_ptr<store::SyncStore>& journal() {
    if (!store_)
      store_ = std::move(store::open_sync_store(dir_)).value();
    return store_;
  }

  jobs::OpenDestination open_;
  std::unique_ptr<store::SyncStore> store_;
};

TEST_F(DeliveryTest, SendsSeveralConnectionsAtOnceOneRequestEach) {
  GatheringDestination* destination = nullptr;
  const auto results = send_three(destination, 3);
  ASSERT_EQ(results.size(), 3u);
  for (const auto& months : results) {
    ASSERT_EQ(months.size(), 1u);
    EXPECT_TRUE(months[0].synced) << months[0].problem;
    ASSERT_TRUE(months[0].plan.has_value());
    EXPECT_EQ(months[0].plan->chunks.size(), 2u);
    EXPECT_EQ(months[0].attempts, 2u);
    EXPECT_EQ(months[0].rows, 2u);
    EXPECT_EQ(months[0].cost, Decimal::from_string("2.50"));
  }
  EXPECT_EQ(destination->max_in_flight(), 3);
  EXPECT_EQ(destination->max_per_connection(), 1);
}

TEST_F(DeliveryTest, ParallelConnectionsBoundsHowManySendAtOnce) {
  GatheringDestination* destination = nullptr;
  const auto results = send_three(destination, 1);
  for (const auto& months : results)
    EXPECT_TRUE(months[0].synced) << months[0].problem;
  EXPECT_EQ(destination->max_in_flight(), 1);
}

TEST_F(DeliveryTest, AMonthNotSentDoesNotStopTheOtherConnections) {
  GatheringDestination* destination = nullptr;
  auto fake = std::make_unique<GatheringDestination>(1);
  destination = fake.get();
  open_.destination = std::move(fake);
  jobs::MonthToDeliver bad = month("bad", 2);
  bad.invalid_rows = 3;
  std::vector<jobs::ConnectionToDeliver> connections{{"good", {month("good", 2)}, &open_, false},
                                                     {"bad", {bad}, &open_, false}};
  jobs::DeliveryOptions options;
  const auto results = jobs::deliver_all(connections, options, journal().get());
  ASSERT_EQ(results.size(), 2u);
  EXPECT_TRUE(results[0][0].synced);
  EXPECT_FALSE(results[1][0].synced);
  EXPECT_EQ(results[1][0].problem.rfind("3 invalid row(s): not sent", 0), 0u)
      << results[1][0].problem;
  EXPECT_GT(destination->requests_for("good"), 0);
  EXPECT_EQ(destination->requests_for("bad"), 0); // nothing of the refused month went out
}

} // namespace
} // namespace billdrop
