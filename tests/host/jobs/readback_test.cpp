// Read-back reconciliation: reconcile_month's verdicts and messages, then the whole loop with real
// components -- a month built as a snapshot, planned, sent by ConnectionSender through the AnyCost
// destination to the emulator (over loopback) and through the dir destination, read back, and
// compared with totals summed by hand from the fixture; a month never sent reads back empty; a
// month changed behind billdrop's back is a difference naming both totals.
#include "jobs/readback.hpp"

#include "cbf/row_validator.hpp"
#include "emulator/emulator.hpp"
#include "plan/drop_plan.hpp"
#include "send/connection_sender.hpp"
#include "send/destination.hpp"
#include "support/temp_folder.hpp"

#include <gtest/gtest.h>

#include <memory>

namespace billdrop {
namespace {

namespace fs = std::filesystem;
using send::LandedMonth;
using std::chrono::milliseconds;

Decimal dec(std::string_view text) {
  return Decimal::from_string(text);
}

snapshot::MonthSummary summary_of(Month month, std::map<std::string, cbf::HourTotals> hours) {
  snapshot::MonthSummary summary;
  summary.month = month;
  for (const auto& [hour, totals] : hours) {
    summary.rows += totals.rows;
    summary.cost += totals.cost;
  }
  summary.hours = std::move(hours);
  return summary;
}

LandedMonth landed_of(std::map<std::string, cbf::HourTotals> hours) {
  LandedMonth landed;
  for (const auto& [hour, totals] : hours) {
    landed.rows += totals.rows;
    landed.cost += totals.cost;
  }
  landed.hours = std::move(hours);
  return landed;
}

// ---------------------------------------------------------------------------------------------
// reconcile_month

TEST(ReconcileMonth, TheSameRowsAndCostsInEveryHourMatch) {
  const snapshot::MonthSummary snapshot = summary_of(
      Month(2026, 8), {{"2026-08-01T00", {2, dec("1.50")}}, {"2026-08-02T13", {1, dec("-0.25")}}});
  // Costs compare by value: 1.5 is 1.50.
  const LandedMonth landed =
      landed_of({{"2026-08-01T00", {2, dec("1.5")}}, {"2026-08-02T13", {1, dec("-0.250")}}});
  EXPECT_EQ(jobs::reconcile_month(snapshot, landed), std::nullopt);
  EXPECT_EQ(jobs::reconcile_month(summary_of(Month(2026, 8), {}), LandedMonth{}), std::nullopt);
}

TEST(ReconcileMonth, NamesTheMonthBothTotalsAndTheFirstDifferingHour) {
  snapshot::MonthSummary snapshot =
      summary_of(Month(2026, 8), {{"2026-08-01T00", {4'586, dec("14031.03")}},
                                  {"2026-08-03T07", {13, dec("2.00")}}});
  LandedMonth landed = landed_of(
      {{"2026-08-01T00", {4'586, dec("14031.03")}}, {"2026-08-03T07", {12, dec("1.00")}}});
  EXPECT_EQ(jobs::reconcile_month(snapshot, landed),
            "2026-08: read back 4,598 rows, cost 14032.03 at the destination; the snapshot has "
            "4,599 rows, cost 14033.03 (first difference: hour 2026-08-03T07: 12 rows 1.00 vs 13 "
            "rows 2.00)");
}

TEST(ReconcileMonth, AnHourOnOneSideOnlyIsZeroOnTheOther) {
  const snapshot::MonthSummary snapshot =
      summary_of(Month(2026, 8), {{"2026-08-01T00", {1, dec("5")}}});
  const LandedMonth landed =
      landed_of({{"2026-08-01T00", {1, dec("5")}}, {"2026-08-09T10", {1, dec("0.5")}}});
  EXPECT_EQ(jobs::reconcile_month(snapshot, landed),
            "2026-08: read back 2 rows, cost 5.5 at the destination; the snapshot has 1 row, cost "
            "5 (first difference: hour 2026-08-09T10: 1 row 0.5 vs 0 rows 0)");
  EXPECT_EQ(jobs::reconcile_month(snapshot, LandedMonth{}),
            "2026-08: read back 0 rows, cost 0 at the destination; the snapshot has 1 row, cost 5 "
            "(first difference: hour 2026-08-01T00: 0 rows 0 vs 1 row 5)");
}

TEST(ReconcileMonth, EqualTotalsWithRowsInOtherHoursDiffer) {
  // A row moved to the next hour: the month's totals agree, the hours do not.
  const snapshot::MonthSummary snapshot = summary_of(
      Month(2026, 8), {{"2026-08-01T00", {2, dec("3")}}, {"2026-08-01T01", {1, dec("1")}}});
  const LandedMonth landed =
      landed_of({{"2026-08-01T00", {1, dec("2")}}, {"2026-08-01T01", {2, dec("2")}}});
  EXPECT_EQ(jobs::reconcile_month(snapshot, landed),
            "2026-08: read back 3 rows, cost 4 at the destination; the snapshot has 3 rows, cost 4 "
            "(first differences: hour 2026-08-01T00: 1 row 2 vs 2 rows 3; hour 2026-08-01T01: 2 "
            "rows 2 vs 1 row 1)");
}

TEST(ReconcileMonth, NamesTheFirstThreeHoursAndCountsTheRest) {
  std::map<std::string, cbf::HourTotals> expected;
  std::map<std::string, cbf::HourTotals> got;
  for (int day = 1; day <= 9; ++day) {
    const std::string hour = "2026-08-0" + std::to_string(day) + "T00";
    expected[hour] = {1, dec("1")};
    got[hour] = {1, day >= 4 ? dec("2") : dec("1")}; // days 4..9 differ
  }
  const std::optional<std::string> message =
      jobs::reconcile_month(summary_of(Month(2026, 8), expected), landed_of(got));
  ASSERT_TRUE(message);
  EXPECT_NE(message->find("(first differences: hour 2026-08-04T00: 1 row 2 vs 1 row 1; hour "
                          "2026-08-05T00: 1 row 2 vs 1 row 1; hour 2026-08-06T00: 1 row 2 vs 1 "
                          "row 1; 3 more hours differ)"),
            std::string::npos)
      << *message;
}

TEST(ReconcileMonth, TotalsThatDifferWithEqualHoursStillDiffer) {
  // Only a summary that does not add up can do this, but a difference is never hidden.
  snapshot::MonthSummary snapshot = summary_of(Month(2026, 8), {{"2026-08-01T00", {1, dec("1")}}});
  snapshot.rows = 2;
  EXPECT_EQ(jobs::reconcile_month(snapshot, landed_of({{"2026-08-01T00", {1, dec("1")}}})),
            "2026-08: read back 1 row, cost 1 at the destination; the snapshot has 2 rows, cost 1");
}

// ---------------------------------------------------------------------------------------------
// The loop, with real components

constexpr const char* kApiKey = "readback-test-key";
constexpr const char* kConnection = "acme-gpu";

// August 2026, with credits, sub-cent costs and 0.1 + 0.2 (which binary floating point gets
// wrong). By hand:
//   2026-08-01T00  2 rows  1.25 + 0.000005          = 1.250005
//   2026-08-01T01  1 row   -0.5
//   2026-08-03T07  3 rows  12.15 + 0.1 + 0.2        = 12.45
//   2026-08-31T23  1 row   1000000.000001
//   month          7 rows                             1000013.200006
const std::vector<std::pair<std::string, std::string>> kFixture{
    {"2026-08-03T07:30:00Z", "12.15"},
    {"2026-08-01T00:05:00Z", "1.25"},
    {"2026-08-31T23:59:59Z", "1000000.000001"},
    {"2026-08-01T01:00:00Z", "-0.5"},
    {"2026-08-03T07:45:00Z", "0.1"},
    {"2026-08-01T00:59:59Z", "0.000005"},
    {"2026-08-03T07:59:00Z", "0.2"},
};

void expect_hand_sums(const LandedMonth& landed) {
  EXPECT_EQ(landed.rows, 7u);
  EXPECT_EQ(landed.cost, dec("1000013.200006")) << landed.cost.to_string();
  const std::map<std::string, cbf::HourTotals> hours{
      {"2026-08-01T00", {2, dec("1.250005")}},
      {"2026-08-01T01", {1, dec("-0.5")}},
      {"2026-08-03T07", {3, dec("12.45")}},
      {"2026-08-31T23", {1, dec("1000000.000001")}},
  };
  EXPECT_EQ(landed.hours, hours);
  for (const auto& [hour, totals] : landed.hours)
    EXPECT_EQ(totals, hours.count(hour) ? hours.at(hour) : cbf::HourTotals{})
        << hour << ": " << totals.rows << " rows " << totals.cost.to_string();
}

// A request that changes the month behind billdrop's back: hour 2026-08-03T07 becomes one row of 5.
send::DropRequest tampering_request() {
  send::DropRequest request;
  request.connection_id = kConnection;
  request.month = Month(2026, 8);
  request.operation = cbf::DropOperation::replace_hourly;
  request.body = R"({"month":"2026-08","operation":"replace_hourly","data":[)"
                 R"({"time/usage_start":"2026-08-03T07:10:00Z","cost/cost":"5"}]})";
  return request;
}

constexpr std::string_view kTamperedMessage =
    "2026-08: read back 5 rows, cost 1000005.750006 at the destination; the snapshot has 7 rows, "
    "cost 1000013.200006 (first difference: hour 2026-08-03T07: 1 row 5 vs 3 rows 12.45)";

class ReadBackTest : public test::TempFolderTest {
protected:
  void SetUp() override {
    TempFolderTest::SetUp();
    snapshot::SnapshotBuilder builder({dir_ / "snapshots", 1 << 20});
    cbf::RowValidator validator;
    cbf::NormalizedRow row;
    std::vector<cbf::RowIssue> issues;
    for (const auto& [time, cost] : kFixture) {
      const std::vector<cbf::FieldView> fields{
          {"time/usage_start", time}, {"cost/cost", cost}, {"resource/service", "gpu"}};
      issues.clear();
      ASSERT_TRUE(validator.normalize(fields, row, issues)) << issues.front().message;
      builder.add(row);
    }
    Result<std::vector<snapshot::MonthSummary>> summaries = builder.finish();
    ASSERT_TRUE(summaries.ok()) << summaries.error().message();
    ASSERT_EQ(summaries->size(), 1u);
    snapshot_ = summaries->front();
    // Small bodies, so the month goes as a replace_drop and replace_hourly chunks.
    plan::PlanLimits limits;
    limits.max_body_bytes = 300;
    Result<plan::DropPlan> plan = plan::plan_month(snapshot_, limits, plan::CapPolicy::fail);
    ASSERT_TRUE(plan.ok()) << plan.error().message();
    plan_ = std::move(plan).value();
    ASSERT_GT(plan_.chunks.size(), 1u);
  }

  void send_plan(send::Destination& destination) {
    send::RetryPolicy policy;
    policy.initial_backoff = milliseconds(1);
    send::ConnectionSender sender(kConnection, destination, policy);
    const send::MonthSendResult result = sender.send(plan_);
    ASSERT_TRUE(result.synced) << result.error;
  }

  // The whole loop on one destination: send, read back, reconcile; a month never sent; tampering.
  void check_loop(send::Destination& destination) {
    send_plan(destination);
    Result<std::optional<LandedMonth>> landed = destination.read_back(kConnection, Month(2026, 8));
    ASSERT_TRUE(landed.ok()) << landed.error().message();
    ASSERT_TRUE(landed->has_value()) << destination.describe() << " cannot read back";
    expect_hand_sums(**landed);
    EXPECT_EQ(jobs::reconcile_month(snapshot_, **landed), std::nullopt);

    for (const auto& [connection, month] :
         {std::pair<std::string, Month>{kConnection, Month(2026, 9)},
          {"never-sent", Month(2026, 8)}}) {
      Result<std::optional<LandedMonth>> empty = destination.read_back(connection, month);
      ASSERT_TRUE(empty.ok()) << empty.error().message();
      ASSERT_TRUE(empty->has_value());
      EXPECT_EQ(**empty, LandedMonth{}) << connection << " " << month.to_string();
    }

    const send::DropResponse tampered = destination.send(tampering_request());
    ASSERT_EQ(tampered.outcome, send::Outcome::acknowledged) << tampered.message;
    landed = destination.read_back(kConnection, Month(2026, 8));
    ASSERT_TRUE(landed.ok()) << landed.error().message();
    ASSERT_TRUE(landed->has_value());
    EXPECT_EQ(jobs::reconcile_month(snapshot_, **landed), kTamperedMessage);
  }

  snapshot::MonthSummary snapshot_;
  plan::DropPlan plan_;
};

TEST_F(ReadBackTest, TheAnycostDestinationReadsBackWhatTheEmulatorHolds) {
  emulator::EmulatorOptions options;
  options.api_keys = {kApiKey};
  emulator::Emulator emulator(options);
  Result<std::uint16_t> port = emulator.start("127.0.0.1", 0);
  ASSERT_TRUE(port.ok()) << port.error().message();
  send::AnycostSettings settings;
  settings.base_url = emulator.base_url();
  settings.api_key = kApiKey;
  const std::unique_ptr<send::Destination> destination = send::make_anycost_destination(settings);

  check_loop(*destination);

  // A replace_drop with no rows empties the month: the API then answers 404, read back as empty.
  send::DropRequest emptying = tampering_request();
  emptying.operation = cbf::DropOperation::replace_drop;
  emptying.body = R"({"month":"2026-08","operation":"replace_drop","data":[]})";
  ASSERT_EQ(destination->send(emptying).outcome, send::Outcome::acknowledged);
  Result<std::optional<LandedMonth>> emptied = destination->read_back(kConnection, Month(2026, 8));
  ASSERT_TRUE(emptied.ok()) << emptied.error().message();
  ASSERT_TRUE(emptied->has_value());
  EXPECT_EQ(**emptied, LandedMonth{});
  EXPECT_EQ(jobs::reconcile_month(snapshot_, **emptied),
            "2026-08: read back 0 rows, cost 0 at the destination; the snapshot has 7 rows, cost "
            "1000013.200006 (first differences: hour 2026-08-01T00: 0 rows 0 vs 2 rows 1.250005; "
            "hour 2026-08-01T01: 0 rows 0 vs 1 row -0.5; hour 2026-08-03T07: 0 rows 0 vs 3 rows "
            "12.45; 1 more hour differs)");

  // A key the emulator refuses: the status and the API's message, never the key.
  settings.api_key = "not-the-right-key";
  Result<std::optional<LandedMonth>> refused =
      send::make_anycost_destination(settings)->read_back(kConnection, Month(2026, 8));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().message(),
            "reading back 2026-08 of connection acme-gpu: HTTP 403: the API key in the "
            "Authorization header is not valid");
  EXPECT_FALSE(refused.error().retryable());
}

TEST_F(ReadBackTest, TheDirDestinationReadsBackItsRowsFile) {
  const std::unique_ptr<send::Destination> destination = send::make_dir_destination(dir_ / "out");
  check_loop(*destination);
}

} // namespace
} // namespace billdrop
