// Delivery under faults, over real loopback HTTP: months built as snapshots, planned with a small
// body limit (so some hours are split into replace_hourly + sum parts), sent by ConnectionSender
// through the AnyCost destination to the emulator, which injects one kind of fault at a time and
// then a seeded mix. Every month must end synced with the emulator holding exactly the snapshot:
// the same rows and cost in every hour -- nothing lost, nothing counted twice.
#include "cbf/row_validator.hpp"
#include "emulator/emulator.hpp"
#include "plan/drop_plan.hpp"
#include "send/connection_sender.hpp"
#include "send/destination.hpp"
#include "send/send_scheduler.hpp"
#include "snapshot/month_snapshot.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <unistd.h>

namespace billdrop {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

constexpr std::size_t kBodyLimit = 2'500;
constexpr const char* kApiKey = "e2e-api-key";

// Rows for three months: a dozen hours of 1-6 rows each and two hours too big for one body.
std::vector<snapshot::MonthSummary> build_snapshots(const fs::path& dir) {
  snapshot::SnapshotBuilder builder({dir, 1024 * 1024});
  cbf::RowValidator validator;
  cbf::NormalizedRow row;
  std::vector<cbf::RowIssue> issues;
  std::mt19937_64 rng(20260801);
  int id = 0;
  for (const int month : {6, 7, 8}) {
    for (int hour_number = 0; hour_number < 14; ++hour_number) {
      const int day = 1 + hour_number * 2;
      const int hour = (hour_number * 5) % 24;
      const bool big = hour_number == 3 || hour_number == 9;
      const int rows = big ? 45 : 1 + static_cast<int>(rng() % 6);
      for (int r = 0; r < rows; ++r) {
        char time[32];
        std::snprintf(time, sizeof time, "2026-%02d-%02dT%02d:%02d:00Z", month, day, hour,
                      static_cast<int>(rng() % 60));
        // Exact decimals with up to 6 places, some negative (credits).
        const auto units = static_cast<long long>(rng() % 100'000'000) - 10'000'000;
        char cost[40];
        std::snprintf(cost, sizeof cost, "%s%lld.%06lld", units < 0 ? "-" : "",
                      std::llabs(units) / 1'000'000, std::llabs(units) % 1'000'000);
        const std::string line_id = "li-" + std::to_string(++id);
        const std::string description =
            "GPU hours for project " + std::to_string(rng() % 1000) + " in the e2e test";
        const std::vector<cbf::FieldView> fields{{"time/usage_start", time},
                                                 {"cost/cost", cost},
                                                 {"lineitem/id", line_id},
                                                 {"lineitem/description", description},
                                                 {"resource/service", "gpu"}};
        issues.clear();
        if (!validator.normalize(fields, row, issues)) {
          ADD_FAILURE() << "generated row " << time << " " << cost
                        << " is invalid: " << issues.front().message;
          return {};
        }
        builder.add(row);
      }
    }
  }
  Result<std::vector<snapshot::MonthSummary>> summaries = builder.finish();
  EXPECT_TRUE(summaries.ok()) << summaries.error().message();
  return summaries.ok() ? std::move(summaries).value() : std::vector<snapshot::MonthSummary>{};
}

struct FaultCase {
  std::string name;
  emulator::FaultOptions faults;
  std::chrono::milliseconds timeout{5'000};
  bool restarts_expected = false; // the fault can leave a sum part's fate unknown
};

// gtest names the failing case by this.
void PrintTo(const FaultCase& fault, std::ostream* out) {
  *out << fault.name;
}

std::vector<FaultCase> fault_cases() {
  std::vector<FaultCase> cases;
  FaultCase error_500{"error_500"};
  error_500.faults.seed = 11;
  error_500.faults.error_500 = 0.3;
  error_500.restarts_expected = true; // a 5xx on a sum part may have applied
  cases.push_back(error_500);

  FaultCase error_429{"error_429"};
  error_429.faults.seed = 12;
  error_429.faults.error_429 = 0.3;
  cases.push_back(error_429);

  FaultCase latency{"latency"};
  latency.faults.seed = 13;
  latency.faults.latency_min = milliseconds(0);
  latency.faults.latency_max = milliseconds(150);
  latency.timeout = milliseconds(120); // about one request in five times out, then still applies
  latency.restarts_expected = true;
  cases.push_back(latency);

  FaultCase closed{"close_before_reply"};
  closed.faults.seed = 14;
  closed.faults.close_before_reply = 0.3;
  closed.restarts_expected = true;
  cases.push_back(closed);

  FaultCase applied{"apply_then_fail"};
  applied.faults.seed = 15;
  applied.faults.apply_then_fail = 0.3;
  applied.restarts_expected = true;
  cases.push_back(applied);

  FaultCase mixed{"mixed"};
  mixed.faults.seed = 16;
  mixed.faults.error_500 = 0.08;
  mixed.faults.error_429 = 0.08;
  mixed.faults.close_before_reply = 0.08;
  mixed.faults.apply_then_fail = 0.08;
  mixed.faults.latency_min = milliseconds(0);
  mixed.faults.latency_max = milliseconds(150);
  mixed.timeout = milliseconds(120);
  mixed.restarts_expected = true;
  cases.push_back(mixed);
  return cases;
}

class DeliveryTest : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    // Per process: ctest runs each test case as its own process, several at once.
    dir_ = new fs::path(fs::temp_directory_path() /
                        ("billdrop_delivery_faults_" + std::to_string(::getpid())));
    fs::remove_all(*dir_);
    fs::create_directories(*dir_);
    snapshots_ = new std::vector<snapshot::MonthSummary>(build_snapshots(*dir_));
    plans_ = new std::vector<plan::DropPlan>();
    plan::PlanLimits limits;
    limits.max_body_bytes = kBodyLimit;
    for (const snapshot::MonthSummary& snapshot : *snapshots_) {
      Result<plan::DropPlan> plan = plan::plan_month(snapshot, limits, plan::CapPolicy::fail);
      if (!plan) {
        ADD_FAILURE() << plan.error().message();
        continue;
      }
      plans_->push_back(std::move(plan).value());
    }
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(*dir_, ec);
    delete plans_;
    delete snapshots_;
    delete dir_;
  }

  static std::unique_ptr<emulator::Emulator> start_emulator(const emulator::FaultOptions& faults) {
    emulator::EmulatorOptions options;
    options.api_keys = {kApiKey};
    options.max_body_bytes = kBodyLimit;
    options.busy_retry_after = std::chrono::seconds(0);
    options.faults = faults;
    auto emulator = std::make_unique<emulator::Emulator>(options);
    Result<std::uint16_t> port = emulator->start("127.0.0.1", 0);
    EXPECT_TRUE(port.ok()) << port.error().message();
    return emulator;
  }

  static send::RetryPolicy quick_retries() {
    send::RetryPolicy policy;
    policy.initial_backoff = milliseconds(2);
    policy.max_backoff = milliseconds(50);
    policy.give_up_after = milliseconds(120'000);
    policy.jitter_seed = 5;
    return policy;
  }

  // The emulator holds exactly the snapshot: per hour, the same row count and exact cost.
  static void expect_month_matches(const emulator::Emulator& emulator,
                                   const std::string& connection,
                                   const snapshot::MonthSummary& snapshot) {
    Result<emulator::MonthState> state = emulator.month_state(connection, snapshot.month);
    ASSERT_TRUE(state.ok()) << state.error().message();
    const std::string where = connection + " " + snapshot.month.to_string();
    EXPECT_EQ(state->rows, snapshot.rows) << where;
    EXPECT_EQ(state->cost, snapshot.cost) << where;
    ASSERT_EQ(state->hours.size(), snapshot.hours.size()) << where;
    for (const auto& [hour, expected] : snapshot.hours) {
      const auto found = state->hours.find(hour);
      ASSERT_NE(found, state->hours.end()) << where << " hour " << hour << " is missing";
      EXPECT_EQ(found->second.rows, expected.rows) << where << " hour " << hour;
      EXPECT_EQ(found->second.cost, expected.cost)
          << where << " hour " << hour << ": " << found->second.cost.to_string() << " vs "
          << expected.cost.to_string();
    }
  }

  static fs::path* dir_;
  static std::vector<snapshot::MonthSummary>* snapshots_;
  static std::vector<plan::DropPlan>* plans_;
};

fs::path* DeliveryTest::dir_ = nullptr;
std::vector<snapshot::MonthSummary>* DeliveryTest::snapshots_ = nullptr;
std::vector<plan::DropPlan>* DeliveryTest::plans_ = nullptr;

class DeliveryFaultsTest : public DeliveryTest, public ::testing::WithParamInterface<FaultCase> {};

TEST_P(DeliveryFaultsTest, EveryMonthArrivesExactlyOnce) {
  const FaultCase& fault = GetParam();
  ASSERT_EQ(plans_->size(), 3u);
  // The plans really exercise split hours: sum parts exist in every month.
  for (const plan::DropPlan& plan : *plans_) {
    const auto sums = std::count_if(plan.chunks.begin(), plan.chunks.end(), [](const auto& c) {
      return c.operation == cbf::DropOperation::sum;
    });
    EXPECT_GE(sums, 4) << plan.month.to_string();
  }

  const std::unique_ptr<emulator::Emulator> emulator = start_emulator(fault.faults);
  send::AnycostSettings settings;
  settings.base_url = emulator->base_url();
  settings.api_key = kApiKey;
  settings.timeout = fault.timeout;
  const std::unique_ptr<send::Destination> destination = send::make_anycost_destination(settings);
  send::ConnectionSender sender("e2e-" + fault.name, *destination, quick_retries());

  std::size_t failed_attempts = 0;
  std::uint32_t restarts = 0;
  for (std::size_t i = 0; i < plans_->size(); ++i) {
    const send::MonthSendResult result = sender.send((*plans_)[i]);
    EXPECT_TRUE(result.synced) << result.error;
    EXPECT_EQ(result.chunks_acknowledged, (*plans_)[i].chunks.size());
    restarts += result.restarts;
    for (const send::Attempt& attempt : result.attempts)
      failed_attempts += attempt.outcome == send::Outcome::acknowledged ? 0 : 1;
    expect_month_matches(*emulator, "e2e-" + fault.name, (*snapshots_)[i]);
  }
  EXPECT_GT(failed_attempts, 0u) << "the fault never fired: the test would prove nothing";
  if (fault.restarts_expected)
    EXPECT_GT(restarts, 0u) << "no split hour was restarted";
  else
    EXPECT_EQ(restarts, 0u) << "a 429 applies nothing: no reason to restart an hour";
}

INSTANTIATE_TEST_SUITE_P(Faults, DeliveryFaultsTest, ::testing::ValuesIn(fault_cases()),
                         [](const auto& test) { return test.param.name; });

TEST_F(DeliveryTest, TwentyConnectionsAtOnceThroughTheScheduler) {
  emulator::FaultOptions faults;
  faults.seed = 21;
  faults.error_500 = 0.05;
  faults.error_429 = 0.05;
  faults.close_before_reply = 0.05;
  faults.apply_then_fail = 0.05;
  faults.latency_max = milliseconds(5);
  ASSERT_EQ(plans_->size(), 3u);
  const std::unique_ptr<emulator::Emulator> emulator = start_emulator(faults);
  send::AnycostSettings settings;
  settings.base_url = emulator->base_url();
  settings.api_key = kApiKey;
  const std::unique_ptr<send::Destination> destination = send::make_anycost_destination(settings);

  std::vector<send::SendJob> jobs;
  for (int i = 0; i < 20; ++i)
    jobs.push_back({"tenant-" + std::to_string(i), *destination, *plans_});
  send::SchedulerOptions options;
  options.parallel_connections = 20;
  options.retry = quick_retries();
  const std::vector<send::ConnectionResult> results = send::run_send_jobs(jobs, options);

  ASSERT_EQ(results.size(), 20u);
  for (const send::ConnectionResult& result : results) {
    ASSERT_EQ(result.months.size(), 3u);
    for (std::size_t i = 0; i < 3; ++i) {
      EXPECT_TRUE(result.months[i].synced)
          << result.connection_id << ": " << result.months[i].error;
      expect_month_matches(*emulator, result.connection_id, (*snapshots_)[i]);
    }
  }
}

} // namespace
} // namespace billdrop
