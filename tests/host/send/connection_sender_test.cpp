// ConnectionSender against a scripted destination and a fake clock: order, backoff with full
// jitter, Retry-After, giving up, rejections, idempotency keys and the split-hour restart rule.
#include "send/connection_sender.hpp"
#include "support/temp_folder.hpp"

#include <gtest/gtest.h>

#include <array>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <set>

namespace billdrop::send {
namespace {

namespace fs = std::filesystem;
using cbf::DropOperation;
using std::chrono::milliseconds;

constexpr Month kMonth(2026, 8);
const SendGeneration kGeneration{"store-1", 1};
const SendStart kStart{kGeneration, {}, false};

// A canonical row of fixed length: hour "DD-HH", a 3-digit id and a cost of the form "9.99".
std::string row(std::string_view day_hour, int id, std::string_view cost) {
  char text[160];
  std::snprintf(
      text, sizeof text,
      R"({"time/usage_start":"2026-08-%.2sT%.2s:00:00Z","lineitem/id":"r%03d","cost/cost":"%s"})",
      day_hour.data(), day_hour.data() + 3, id, std::string(cost).c_str());
  return text;
}

std::size_t envelope(DropOperation operation) {
  return cbf::DropBodyWriter::empty_size(kMonth, operation);
}

class SenderTest : public test::TempFolderTest {
protected:
  // Plans `lines` (sorted by hour) with a body limit that fits `rows_per_body` rows.
  plan::DropPlan make_plan(const std::vector<std::string>& lines, std::size_t rows_per_body) {
    snapshot::MonthSummary summary;
    summary.month = kMonth;
    summary.file = dir_ / "2026-08.ndjson";
    summary.digest = "test-snapshot-" + std::to_string(lines.size());
    std::ofstream out(summary.file, std::ios::binary);
    for (const std::string& line : lines) {
      out << line << '\n';
      summary.json_bytes += line.size();
      const std::size_t cost_at = line.find("\"cost/cost\":\"") + 13;
      summary.cost += Decimal::from_string(line.substr(cost_at, line.find('"', cost_at) - cost_at));
    }
    out.close();
    summary.rows = lines.size();
    plan::PlanLimits limits;
    // Every test row has the same length; n rows take n lengths plus n - 1 commas.
    limits.max_body_bytes =
        envelope(DropOperation::replace_hourly) + rows_per_body * (lines.front().size() + 1) - 1;
    Result<plan::DropPlan> planned = plan::plan_month(summary, limits, plan::CapPolicy::fail);
    EXPECT_TRUE(planned.ok()) << planned.error().message();
    return std::move(planned).value();
  }

  // Hours 01-00 (2 rows), 01-01 (7 rows: split into 3 + 3 + 1), 01-02 (2 rows), at 3 rows a body.
  plan::DropPlan split_hour_plan() {
    std::vector<std::string> lines;
    int id = 0;
    for (int i = 0; i < 2; ++i)
      lines.push_back(row("01-00", ++id, "1.00"));
    for (int i = 0; i < 7; ++i)
      lines.push_back(row("01-01", ++id, "2.50"));
    for (int i = 0; i < 2; ++i)
      lines.push_back(row("01-02", ++id, "0.25"));
    plan::DropPlan plan = make_plan(lines, 3);
    // The shape the restart rule is tested against; if the planner cut differently, say so here.
    std::vector<DropOperation> operations;
    std::vector<std::optional<std::uint32_t>> starts;
    for (const plan::Chunk& chunk : plan.chunks) {
      operations.push_back(chunk.operation);
      starts.push_back(chunk.split_hour_start);
    }
    EXPECT_EQ(operations,
              (std::vector<DropOperation>{DropOperation::replace_drop,
                                          DropOperation::replace_hourly, DropOperation::sum,
                                          DropOperation::sum, DropOperation::replace_hourly}));
    EXPECT_EQ(starts,
              (std::vector<std::optional<std::uint32_t>>{std::nullopt, 1u, 1u, 1u, std::nullopt}));
    return plan;
  }

  // Three whole hours, one chunk each.
  plan::DropPlan three_chunk_plan() {
    return make_plan({row("02-00", 1, "1.00"), row("02-00", 2, "1.00"), row("02-01", 3, "3.00"),
                      row("02-01", 4, "3.00"), row("02-02", 5, "5.00")},
                     2);
  }
};

DropResponse ack() {
  DropResponse response;
  response.outcome = Outcome::acknowledged;
  response.http_status = 200;
  response.drop_id = "drop-1";
  return response;
}

DropResponse status(int code, std::string message = "",
                    std::optional<milliseconds> retry_after = std::nullopt) {
  DropResponse response;
  response.outcome = classify_status(code);
  response.http_status = code;
  response.message = std::move(message);
  response.retry_after = retry_after;
  return response;
}

DropResponse lost() {
  DropResponse response;
  response.outcome = Outcome::ambiguous;
  response.message = "no complete response: Read";
  return response;
}

// Answers from a script keyed by call number (0-based); calls past the script are acknowledged.
class FakeDestination : public Destination {
public:
  using Responder = std::function<DropResponse(const DropRequest&, std::size_t call)>;

  explicit FakeDestination(Responder responder = {}) : responder_(std::move(responder)) {}

  std::string describe() const override { return "fake"; }
  DropResponse send(const DropRequest& request) override {
    const std::size_t call = requests.size();
    requests.push_back(request);
    if (on_send)
      on_send();
    return responder_ ? responder_(request, call) : ack();
  }

  std::vector<DropRequest> requests;
  std::function<void()> on_send; // e.g. advances the fake clock: the request takes time

private:
  Responder responder_;
};

// A steady clock that moves only when the sender sleeps (or a test moves it).
struct FakeTime {
  std::chrono::steady_clock::time_point now{};
  std::vector<milliseconds> waits;

  void attach(ConnectionSender& sender) {
    sender.set_clock([this] { return now; });
    sender.set_sleeper([this](milliseconds wait) {
      waits.push_back(wait);
      now += wait;
    });
  }
};

std::vector<std::uint32_t> chunk_order(const FakeDestination& destination) {
  std::vector<std::uint32_t> order;
  for (const DropRequest& request : destination.requests)
    order.push_back(request.chunk_index);
  return order;
}

RetryPolicy quick_policy(std::uint64_t seed = 7) {
  RetryPolicy policy;
  policy.initial_backoff = milliseconds(100);
  policy.max_backoff = milliseconds(1000);
  policy.give_up_after = milliseconds(3'600'000);
  policy.jitter_seed = seed;
  return policy;
}

TEST_F(SenderTest, SendsEveryChunkInOrderWithItsExactBodyAndIsSynced) {
  const plan::DropPlan plan = three_chunk_plan();
  ASSERT_EQ(plan.chunks.size(), 3u);
  FakeDestination destination;
  ConnectionSender sender("conn-a", destination, quick_policy());
  FakeTime time;
  time.attach(sender);
  std::vector<Attempt> observed;
  sender.on_attempt([&](const Attempt& attempt) { observed.push_back(attempt); });

  const MonthSendResult result = sender.send(plan);

  EXPECT_TRUE(result.synced) << result.error;
  EXPECT_EQ(result.error, "");
  EXPECT_EQ(result.chunks_acknowledged, 3u);
  EXPECT_EQ(chunk_order(destination), (std::vector<std::uint32_t>{0, 1, 2}));
  EXPECT_TRUE(time.waits.empty());
  const std::vector<DropOperation> expected_operations{
      DropOperation::replace_drop, DropOperation::replace_hourly, DropOperation::replace_hourly};
  ASSERT_EQ(destination.requests.size(), 3u);
  for (std::uint32_t i = 0; i < 3; ++i) {
    const DropRequest& request = destination.requests[i];
    EXPECT_EQ(request.connection_id, "conn-a");
    EXPECT_EQ(request.month, kMonth);
    EXPECT_EQ(request.operation, expected_operations[i]);
    EXPECT_EQ(request.chunk_count, 3u);
    EXPECT_EQ(request.body, plan::chunk_body(plan, i).value());
  }
  // Chunk 1 holds hour 02-01: assembled by hand from the API's body format.
  EXPECT_EQ(destination.requests[1].body,
            R"({"month":"2026-08","operation":"replace_hourly","data":[)" +
                row("02-01", 3, "3.00") + "," + row("02-01", 4, "3.00") + "]}");
  ASSERT_EQ(observed.size(), 3u);
  ASSERT_EQ(result.attempts.size(), 3u);
  for (std::uint32_t i = 0; i < 3; ++i) {
    EXPECT_EQ(observed[i].chunk_index, i);
    EXPECT_EQ(observed[i].attempt, 1u);
    EXPECT_EQ(observed[i].outcome, Outcome::acknowledged);
    EXPECT_EQ(observed[i].http_status, 200);
    EXPECT_EQ(observed[i].drop_id, "drop-1");
    EXPECT_EQ(observed[i].plan_digest, plan.digest);
    EXPECT_EQ(observed[i].idempotency_key, destination.requests[i].idempotency_key);
    EXPECT_EQ(result.attempts[i].idempotency_key, observed[i].idempotency_key);
  }
}

TEST_F(SenderTest, BackoffDoublesUpToTheCapWithFullJitter) {
  const plan::DropPlan plan = three_chunk_plan();
  // Chunk 0 fails 8 times with 503, then everything is acknowledged.
  FakeDestination destination(
      [](const DropRequest&, std::size_t call) { return call < 8 ? status(503, "busy") : ack(); });
  ConnectionSender sender("conn-a", destination, quick_policy(42));
  FakeTime time;
  time.attach(sender);

  const MonthSendResult result = sender.send(plan);
  ASSERT_TRUE(result.synced) << result.error;
  ASSERT_EQ(time.waits.size(), 8u);
  // Ceilings by hand: 100 * 2^(n-1) capped at 1000.
  const std::vector<milliseconds::rep> ceilings{100, 200, 400, 800, 1000, 1000, 1000, 1000};
  bool below_ceiling = false;
  for (std::size_t n = 0; n < 8; ++n) {
    EXPECT_GE(time.waits[n].count(), 0) << "after attempt " << n + 1;
    EXPECT_LE(time.waits[n].count(), ceilings[n]) << "after attempt " << n + 1;
    below_ceiling = below_ceiling || time.waits[n].count() < ceilings[n];
  }
  EXPECT_TRUE(below_ceiling) << "full jitter draws below the ceiling";

  // The same seed gives the same waits; another seed other waits.
  FakeDestination again(
      [](const DropRequest&, std::size_t call) { return call < 8 ? status(503, "busy") : ack(); });
  ConnectionSender same("conn-a", again, quick_policy(42));
  FakeTime same_time;
  same_time.attach(same);
  ASSERT_TRUE(same.send(plan).synced);
  EXPECT_EQ(same_time.waits, time.waits);

  FakeDestination other(
      [](const DropRequest&, std::size_t call) { return call < 8 ? status(503, "busy") : ack(); });
  ConnectionSender reseeded("conn-a", other, quick_policy(43));
  FakeTime other_time;
  other_time.attach(reseeded);
  ASSERT_TRUE(reseeded.send(plan).synced);
  EXPECT_NE(other_time.waits, time.waits);
}

TEST_F(SenderTest, JitterIsSpreadUniformlyOverZeroToTheCeiling) {
  const plan::DropPlan plan = three_chunk_plan();
  constexpr std::size_t kFailures = 2000;
  FakeDestination destination(
      [](const DropRequest&, std::size_t call) { return call < kFailures ? lost() : ack(); });
  ConnectionSender sender("conn-a", destination, quick_policy(99));
  FakeTime time;
  time.attach(sender);
  ASSERT_TRUE(sender.send(plan).synced);
  ASSERT_EQ(time.waits.size(), kFailures);
  // From the 5th failure on the ceiling is 1000 ms: uniform on [0, 1000] has mean 500 and puts
  // about a tenth of the draws in each tenth of the range.
  std::int64_t sum = 0;
  std::array<int, 10> deciles{};
  for (std::size_t n = 4; n < kFailures; ++n) {
    const auto wait = time.waits[n].count();
    ASSERT_LE(wait, 1000);
    sum += wait;
    ++deciles[static_cast<std::size_t>(std::min<std::int64_t>(wait / 100, 9))];
  }
  const double mean = static_cast<double>(sum) / static_cast<double>(kFailures - 4);
  EXPECT_NEAR(mean, 500.0, 30.0);
  for (const int count : deciles) {
    EXPECT_GT(count, 130);
    EXPECT_LT(count, 270);
  }
}

TEST_F(SenderTest, RetryAfterIsTheLeastWait) {
  const plan::DropPlan plan = three_chunk_plan();
  FakeDestination destination([](const DropRequest&, std::size_t call) {
    if (call == 0)
      return status(429, "slow down", milliseconds(7000));
    if (call == 1)
      return status(503, "later", milliseconds(0));
    return ack();
  });
  ConnectionSender sender("conn-a", destination, quick_policy());
  FakeTime time;
  time.attach(sender);

  const MonthSendResult result = sender.send(plan);
  ASSERT_TRUE(result.synced) << result.error;
  ASSERT_EQ(time.waits.size(), 2u);
  // Retry-After 7 s is far above the 100 ms backoff: it wins.
  EXPECT_EQ(time.waits[0], milliseconds(7000));
  // Retry-After 0 does not shorten the backoff below its jittered value (at most 200 ms here).
  EXPECT_LE(time.waits[1].count(), 200);
  // The same chunk (idempotent replace_drop) was retried. The 429 was not processed, so the next
  // try keeps its key; the 503 may be stored for its key (the API replays a key's first
  // response, errors included), so the next try gets a new one.
  EXPECT_EQ(chunk_order(destination), (std::vector<std::uint32_t>{0, 0, 0, 1, 2}));
  EXPECT_EQ(destination.requests[1].idempotency_key, destination.requests[0].idempotency_key);
  EXPECT_EQ(destination.requests[2].idempotency_key,
            destination.requests[0].idempotency_key + "-e1");
  EXPECT_EQ(result.attempts[2].attempt, 3u);
}

TEST_F(SenderTest, GivesUpWhenTheNextTryWouldPassTheLimit) {
  const plan::DropPlan plan = three_chunk_plan();
  FakeDestination destination([](const DropRequest& request, std::size_t) {
    return request.chunk_index == 1 ? status(503, "upstream unavailable", milliseconds(3000))
                                    : ack();
  });
  RetryPolicy policy = quick_policy();
  policy.initial_backoff = milliseconds(1);
  policy.max_backoff = milliseconds(1);
  policy.give_up_after = milliseconds(10'000);
  ConnectionSender sender("conn-a", destination, policy);
  FakeTime time;
  time.attach(sender);

  const MonthSendResult result = sender.send(plan);
  // Tries of chunk 1 at t = 0, 3, 6, 9 s; the next would be at 12 s, past the 10 s limit.
  EXPECT_FALSE(result.synced);
  EXPECT_EQ(result.chunks_acknowledged, 1u);
  EXPECT_EQ(time.waits, (std::vector<milliseconds>(3, milliseconds(3000))));
  EXPECT_EQ(chunk_order(destination), (std::vector<std::uint32_t>{0, 1, 1, 1, 1}));
  EXPECT_NE(result.error.find("2026-08 chunk 2 of 3"), std::string::npos) << result.error;
  EXPECT_NE(result.error.find("4 attempts"), std::string::npos) << result.error;
  EXPECT_NE(result.error.find("HTTP 503: upstream unavailable (it asked to wait 3.0s)"),
            std::string::npos)
      << result.error;
  EXPECT_NE(result.error.find("over 9.0s (the limit is 10.0s)"), std::string::npos) << result.error;
  EXPECT_NE(result.error.find("not synced"), std::string::npos) << result.error;
}

TEST_F(SenderTest, TimeSpentWaitingForResponsesCountsTowardsGivingUp) {
  const plan::DropPlan plan = three_chunk_plan();
  FakeDestination destination([](const DropRequest&, std::size_t) { return lost(); });
  RetryPolicy policy = quick_policy();
  policy.initial_backoff = milliseconds(1);
  policy.max_backoff = milliseconds(1);
  policy.give_up_after = milliseconds(10'000);
  ConnectionSender sender("conn-a", destination, policy);
  FakeTime time;
  time.attach(sender);
  destination.on_send = [&time] { time.now += milliseconds(4000); }; // each request times out

  const MonthSendResult result = sender.send(plan);
  // Attempts start at 0, ~4 and ~8 s; after the third it is ~12 s, past the limit.
  EXPECT_FALSE(result.synced);
  EXPECT_EQ(destination.requests.size(), 3u);
  EXPECT_NE(result.error.find("3 attempts"), std::string::npos) << result.error;
  EXPECT_NE(result.error.find("ambiguous: no complete response"), std::string::npos)
      << result.error;
  ASSERT_EQ(result.attempts.size(), 3u);
  EXPECT_EQ(result.attempts[0].duration, milliseconds(4000));
}

class RejectionTest : public SenderTest, public ::testing::WithParamInterface<int> {};

TEST_P(RejectionTest, IsNotRetriedAndItsMessageReachesTheUser) {
  const int code = GetParam();
  const plan::DropPlan plan = three_chunk_plan();
  const std::string message = "the API says no (" + std::to_string(code) + ")";
  FakeDestination destination([&](const DropRequest& request, std::size_t) {
    return request.chunk_index == 1 ? status(code, message) : ack();
  });
  ConnectionSender sender("conn-a", destination, quick_policy());
  FakeTime time;
  time.attach(sender);

  const MonthSendResult result = sender.send(plan);
  EXPECT_FALSE(result.synced);
  EXPECT_EQ(result.chunks_acknowledged, 1u);
  EXPECT_EQ(chunk_order(destination), (std::vector<std::uint32_t>{0, 1}));
  EXPECT_TRUE(time.waits.empty());
  EXPECT_NE(result.error.find("HTTP " + std::to_string(code) + ": " + message), std::string::npos)
      << result.error;
  EXPECT_NE(result.error.find("2026-08"), std::string::npos) << result.error;
  EXPECT_NE(result.error.find("rejected"), std::string::npos) << result.error;
  ASSERT_EQ(result.attempts.size(), 2u);
  EXPECT_EQ(result.attempts[1].outcome, Outcome::rejected);
}

INSTANTIATE_TEST_SUITE_P(ClientErrors, RejectionTest, ::testing::Values(400, 403, 404, 413));

TEST_F(SenderTest, IdempotencyKeysAreDeterministicAndDistinctPerChunk) {
  const plan::DropPlan plan = three_chunk_plan();
  FakeDestination first;
  ConnectionSender sender("conn-a", first, quick_policy());
  ASSERT_TRUE(sender.send(plan, kStart).synced);
  FakeDestination second;
  ConnectionSender again("conn-a", second, quick_policy(1234));
  ASSERT_TRUE(again.send(plan, kStart).synced);

  std::set<std::string> keys;
  for (std::uint32_t i = 0; i < 3; ++i) {
    const std::string& key = first.requests[i].idempotency_key;
    EXPECT_EQ(key.size(), 64u);
    EXPECT_EQ(key.find_first_not_of("0123456789abcdef"), std::string::npos) << key;
    EXPECT_EQ(key, second.requests[i].idempotency_key);
    EXPECT_EQ(key, idempotency_key(kGeneration, "conn-a", kMonth, plan.digest, i));
    keys.insert(key);
  }
  EXPECT_EQ(keys.size(), 3u);
  // Every input changes the key.
  const std::string base = idempotency_key(kGeneration, "conn-a", kMonth, plan.digest, 0);
  EXPECT_NE(base, idempotency_key(kGeneration, "conn-b", kMonth, plan.digest, 0));
  EXPECT_NE(base, idempotency_key(kGeneration, "conn-a", Month(2026, 9), plan.digest, 0));
  EXPECT_NE(base, idempotency_key(kGeneration, "conn-a", kMonth, plan.digest + "0", 0));
  EXPECT_NE(base, idempotency_key(kGeneration, "conn-a", kMonth, plan.digest, 1));
  EXPECT_NE(base, idempotency_key({"store-1", 2}, "conn-a", kMonth, plan.digest, 0));
  EXPECT_NE(base, idempotency_key({"store-2", 1}, "conn-a", kMonth, plan.digest, 0));
  EXPECT_EQ(idempotency_key(kGeneration, "conn-a", kMonth, plan.digest, 0, {2, 3}),
            base + "-r2-e3");
  // Fields cannot run together: ("ab", "c") and ("a", "bc") differ.
  EXPECT_NE(idempotency_key(kGeneration, "ab", kMonth, "c", 0),
            idempotency_key(kGeneration, "a", kMonth, "bc", 0));
  EXPECT_NE(idempotency_key({"s1", 1}, "a", kMonth, "c", 0),
            idempotency_key({"s", 11}, "a", kMonth, "c", 0));
}

TEST_F(SenderTest, SendsRecordedNowhereNeverShareKeys) {
  // Without a sync store every send is a new one: sending the same plan again must not replay
  // the first send's responses.
  const plan::DropPlan plan = three_chunk_plan();
  FakeDestination destination;
  ConnectionSender sender("conn-a", destination, quick_policy());
  ASSERT_TRUE(sender.send(plan).synced);
  ASSERT_TRUE(sender.send(plan).synced);
  ASSERT_EQ(destination.requests.size(), 6u);
  std::set<std::string> keys;
  for (const DropRequest& request : destination.requests)
    keys.insert(request.idempotency_key);
  EXPECT_EQ(keys.size(), 6u);
}

TEST_F(SenderTest, AResumedSendContinuesWithTheSavedKeyStateAndSavesEveryChange) {
  const plan::DropPlan plan = split_hour_plan();
  // Resuming: chunk 0 had two answered errors, and the split hour (chunks 1-3) was restarted once
  // from chunk 2, before chunk 3 was ever sent.
  SendStart resumed = kStart;
  resumed.chunks = {{0, {0, 2}}, {1, {1, 0}}, {2, {1, 0}}};
  resumed.resumed = true;
  // Chunk 2 (a sum part) gets a 503: one answered error, then a restart of the hour.
  FakeDestination destination([](const DropRequest& request, std::size_t call) {
    return request.chunk_index == 2 && call == 2 ? status(503, "unavailable") : ack();
  });
  ConnectionSender sender("conn-a", destination, quick_policy());
  FakeTime time;
  time.attach(sender);
  std::vector<std::map<std::uint32_t, ChunkKeyState>> saved;
  sender.on_key_state([&](const SendGeneration& generation,
                          const std::map<std::uint32_t, ChunkKeyState>& chunks) -> Status {
    EXPECT_EQ(generation.number, kGeneration.number);
    EXPECT_EQ(generation.store_id, kGeneration.store_id);
    saved.push_back(chunks);
    return {};
  });

  const MonthSendResult result = sender.send(plan, resumed);
  ASSERT_TRUE(result.synced) << result.error;
  const auto key = [&](std::uint32_t chunk, ChunkKeyState state) {
    return idempotency_key(kGeneration, "conn-a", kMonth, plan.digest, chunk, state);
  };
  std::vector<std::string> sent_keys;
  for (const DropRequest& request : destination.requests)
    sent_keys.push_back(request.idempotency_key);
  EXPECT_EQ(sent_keys,
            (std::vector<std::string>{key(0, {0, 2}), key(1, {1, 0}), key(2, {1, 0}),
                                      key(1, {2, 0}), key(2, {2, 0}), key(3, {}), key(4, {})}));
  // Saved before use: the answered 503, then the restart of parts 1 and 2.
  ASSERT_EQ(saved.size(), 2u);
  EXPECT_EQ(saved[0], (std::map<std::uint32_t, ChunkKeyState>{{2, {1, 1}}}));
  EXPECT_EQ(saved[1], (std::map<std::uint32_t, ChunkKeyState>{{1, {2, 0}}, {2, {2, 0}}}));
}

TEST_F(SenderTest, AKeyStateThatCannotBeSavedStopsTheSend) {
  const plan::DropPlan plan = three_chunk_plan();
  FakeDestination destination([](const DropRequest&, std::size_t call) {
    return call == 0 ? status(503, "unavailable") : ack();
  });
  ConnectionSender sender("conn-a", destination, quick_policy());
  FakeTime time;
  time.attach(sender);
  sender.on_key_state([](const SendGeneration&, const std::map<std::uint32_t, ChunkKeyState>&) {
    return Status(internal_error("disk full"));
  });
  const MonthSendResult result = sender.send(plan, kStart);
  EXPECT_FALSE(result.synced);
  EXPECT_EQ(destination.requests.size(), 1u); // the retry would have used an unrecorded key
  EXPECT_NE(result.error.find("disk full"), std::string::npos) << result.error;
  EXPECT_NE(result.error.find("2026-08 is not synced"), std::string::npos) << result.error;
}

TEST_F(SenderTest, AmbiguousSumPartRestartsTheHourFromItsFirstPartWithFreshKeys) {
  const plan::DropPlan plan = split_hour_plan();
  // The last part of the split hour (chunk 3, a sum) loses its response once.
  FakeDestination destination([](const DropRequest& request, std::size_t call) {
    return request.chunk_index == 3 && call == 3 ? lost() : ack();
  });
  ConnectionSender sender("conn-a", destination, quick_policy());
  FakeTime time;
  time.attach(sender);

  const MonthSendResult result = sender.send(plan, kStart);
  ASSERT_TRUE(result.synced) << result.error;
  EXPECT_EQ(result.restarts, 1u);
  EXPECT_EQ(result.chunks_acknowledged, 5u);
  // The hour again from its replace_hourly part, then its sum parts, then on.
  EXPECT_EQ(chunk_order(destination), (std::vector<std::uint32_t>{0, 1, 2, 3, 1, 2, 3, 4}));
  const auto key = [&](std::uint32_t chunk) {
    return idempotency_key(kGeneration, "conn-a", kMonth, plan.digest, chunk);
  };
  const std::vector<std::string> expected_keys{
      key(0), key(1), key(2), key(3), key(1) + "-r1", key(2) + "-r1", key(3) + "-r1", key(4)};
  std::vector<std::string> sent_keys;
  for (const DropRequest& request : destination.requests)
    sent_keys.push_back(request.idempotency_key);
  EXPECT_EQ(sent_keys, expected_keys);
  EXPECT_EQ(destination.requests[4].operation, DropOperation::replace_hourly);
  EXPECT_EQ(destination.requests[4].body, destination.requests[1].body);
  EXPECT_EQ(destination.requests[6].body, destination.requests[3].body);
  // Attempt numbers count across the restart.
  std::vector<std::uint32_t> attempt_numbers;
  for (const Attempt& attempt : result.attempts)
    attempt_numbers.push_back(attempt.attempt);
  EXPECT_EQ(attempt_numbers, (std::vector<std::uint32_t>{1, 1, 1, 1, 2, 2, 2, 1}));
}

TEST_F(SenderTest, ServerErrorOnASumPartRestartsButTooManyRequestsRetriesThePart) {
  const plan::DropPlan plan = split_hour_plan();
  // call 2 = chunk 2 (sum): 429, nothing applied -> retry chunk 2 with the same key (nothing
  //          was processed, so nothing is stored for it).
  // call 4 = chunk 3 (sum): 500, maybe applied -> restart from chunk 1.
  // call 6 = chunk 2 (sum, restarted): 500 again -> restart again, keys -r2.
  FakeDestination destination([](const DropRequest&, std::size_t call) {
    if (call == 2)
      return status(429, "busy", milliseconds(1000));
    if (call == 4 || call == 6)
      return status(500, "oops");
    return ack();
  });
  ConnectionSender sender("conn-a", destination, quick_policy());
  FakeTime time;
  time.attach(sender);

  const MonthSendResult result = sender.send(plan, kStart);
  ASSERT_TRUE(result.synced) << result.error;
  EXPECT_EQ(result.restarts, 2u);
  EXPECT_EQ(chunk_order(destination),
            (std::vector<std::uint32_t>{0, 1, 2, 2, 3, 1, 2, 1, 2, 3, 4}));
  const auto key = [&](std::uint32_t chunk) {
    return idempotency_key(kGeneration, "conn-a", kMonth, plan.digest, chunk);
  };
  const std::vector<std::string> expected_keys{
      key(0),         key(1),         key(2),         key(2),         key(3), key(1) + "-r1",
      key(2) + "-r1", key(1) + "-r2", key(2) + "-r2", key(3) + "-r1", key(4)};
  std::vector<std::string> sent_keys;
  for (const DropRequest& request : destination.requests)
    sent_keys.push_back(request.idempotency_key);
  EXPECT_EQ(sent_keys, expected_keys);
  EXPECT_EQ(time.waits.front(), milliseconds(1000)); // the 429's Retry-After
}

TEST_F(SenderTest, AnAnsweredErrorGetsANewKeyButNoAnswerKeepsIt) {
  const plan::DropPlan plan = three_chunk_plan();
  // Chunk 0: 503, then no answer, then 500, then acknowledged.
  FakeDestination destination([](const DropRequest&, std::size_t call) {
    if (call == 0)
      return status(503, "unavailable");
    if (call == 1)
      return lost();
    if (call == 2)
      return status(500, "oops");
    return ack();
  });
  ConnectionSender sender("conn-a", destination, quick_policy());
  FakeTime time;
  time.attach(sender);

  const MonthSendResult result = sender.send(plan, kStart);
  ASSERT_TRUE(result.synced) << result.error;
  const std::string key = idempotency_key(kGeneration, "conn-a", kMonth, plan.digest, 0);
  ASSERT_GE(destination.requests.size(), 4u);
  EXPECT_EQ(destination.requests[0].idempotency_key, key);
  EXPECT_EQ(destination.requests[1].idempotency_key, key + "-e1"); // after the answered 503
  EXPECT_EQ(destination.requests[2].idempotency_key, key + "-e1"); // no answer: same key
  EXPECT_EQ(destination.requests[3].idempotency_key, key + "-e2"); // after the answered 500
  EXPECT_EQ(destination.requests[4].idempotency_key,
            idempotency_key(kGeneration, "conn-a", kMonth, plan.digest, 1));
}

// The API as far as these tests need it: it stores the first response for a key and replays it,
// and it applies a request only when no other request of the connection is in flight. One
// request is in flight when the test begins: the one a killed process had sent.
class ApiWithARequestInFlight : public Destination {
public:
  ApiWithARequestInFlight(DropRequest in_flight, int busy_status)
      : in_flight_(std::move(in_flight)), busy_status_(busy_status) {}

  std::string describe() const override { return "api"; }
  DropResponse send(const DropRequest& request) override {
    requests.push_back(request);
    if (const auto stored = stored_.find(request.idempotency_key); stored != stored_.end())
      return stored->second;
    if (in_flight_) {
      // Refused without being processed; the request in flight then lands.
      DropResponse busy = status(busy_status_, "another request is in flight");
      apply(*in_flight_);
      in_flight_.reset();
      return busy;
    }
    return apply(request);
  }

  DropResponse apply(const DropRequest& request) {
    ++applied[request.chunk_index];
    return stored_[request.idempotency_key] = ack();
  }

  std::vector<DropRequest> requests;
  std::map<std::uint32_t, int> applied; // chunk index -> times its rows were applied

private:
  std::optional<DropRequest> in_flight_;
  int busy_status_;
  std::map<std::string, DropResponse> stored_;
};

TEST_F(SenderTest, ABusyAnswerKeepsTheKeySoTheRequestStillInFlightIsNotAppliedTwice) {
  // `push` was killed while chunk 2 (a sum part of the split hour) was in flight, and runs again
  // at once: the resumed send has the same keys. Its chunk 2 meets the old request still being
  // applied and is refused (429 or 409: not processed); the retry must carry the same key, to get
  // the old request's stored answer, not apply the part's rows a second time under a new key.
  const plan::DropPlan plan = split_hour_plan();
  for (const int busy_status : {429, 409}) {
    SCOPED_TRACE(busy_status);
    const auto key = [&](std::uint32_t chunk) {
      return idempotency_key(kGeneration, "conn-a", kMonth, plan.digest, chunk);
    };
    DropRequest old_request;
    old_request.chunk_index = 2;
    old_request.idempotency_key = key(2);
    ApiWithARequestInFlight api(old_request, busy_status);
    // What the killed process had applied before it sent chunk 2.
    for (const std::uint32_t chunk : {0u, 1u}) {
      DropRequest applied;
      applied.chunk_index = chunk;
      applied.idempotency_key = key(chunk);
      api.apply(applied);
    }
    ConnectionSender sender("conn-a", api, quick_policy());
    FakeTime time;
    time.attach(sender);
    std::vector<std::map<std::uint32_t, ChunkKeyState>> saved;
    sender.on_key_state(
        [&](const SendGeneration&, const std::map<std::uint32_t, ChunkKeyState>& chunks) -> Status {
          saved.push_back(chunks);
          return {};
        });
    SendStart resumed = kStart;
    resumed.resumed = true;

    const MonthSendResult result = sender.send(plan, resumed);
    ASSERT_TRUE(result.synced) << result.error;
    EXPECT_EQ(result.restarts, 0u); // nothing was processed: no reason to restart the hour
    std::vector<std::string> sent_keys;
    for (const DropRequest& request : api.requests)
      sent_keys.push_back(request.idempotency_key);
    EXPECT_EQ(sent_keys,
              (std::vector<std::string>{key(0), key(1), key(2), key(2), key(3), key(4)}));
    // Every chunk's rows applied exactly once.
    EXPECT_EQ(api.applied, (std::map<std::uint32_t, int>{{0, 1}, {1, 1}, {2, 1}, {3, 1}, {4, 1}}));
    EXPECT_TRUE(saved.empty()); // no key moved on
    ASSERT_EQ(time.waits.size(), 1u);
  }
}

TEST_F(SenderTest, AmbiguousFirstPartOfASplitHourRetriesThatPartOnly) {
  const plan::DropPlan plan = split_hour_plan();
  FakeDestination destination(
      [](const DropRequest&, std::size_t call) { return call == 1 ? lost() : ack(); });
  ConnectionSender sender("conn-a", destination, quick_policy());
  FakeTime time;
  time.attach(sender);

  const MonthSendResult result = sender.send(plan);
  ASSERT_TRUE(result.synced) << result.error;
  EXPECT_EQ(result.restarts, 0u);
  EXPECT_EQ(chunk_order(destination), (std::vector<std::uint32_t>{0, 1, 1, 2, 3, 4}));
  EXPECT_EQ(destination.requests[1].idempotency_key, destination.requests[2].idempotency_key);
}

TEST_F(SenderTest, EndlessRestartsStillGiveUp) {
  const plan::DropPlan plan = split_hour_plan();
  FakeDestination destination([](const DropRequest& request, std::size_t) {
    return request.chunk_index == 3 ? lost() : ack();
  });
  RetryPolicy policy = quick_policy();
  policy.give_up_after = milliseconds(10'000);
  ConnectionSender sender("conn-a", destination, policy);
  FakeTime time;
  time.attach(sender);
  destination.on_send = [&time] { time.now += milliseconds(500); };

  const MonthSendResult result = sender.send(plan);
  EXPECT_FALSE(result.synced);
  EXPECT_GT(result.restarts, 2u);
  EXPECT_NE(result.error.find("chunk 4 of 5"), std::string::npos) << result.error;
  // Never more than the limit past chunk 3's first attempt (at 1.5 s, after three requests).
  EXPECT_LE(time.now - std::chrono::steady_clock::time_point{}, milliseconds(11'500 + 500));
}

TEST_F(SenderTest, AThrowingDestinationCountsAsAmbiguous) {
  const plan::DropPlan plan = three_chunk_plan();
  FakeDestination destination([](const DropRequest&, std::size_t call) -> DropResponse {
    if (call == 0)
      throw std::runtime_error("socket exploded");
    return ack();
  });
  ConnectionSender sender("conn-a", destination, quick_policy());
  FakeTime time;
  time.attach(sender);
  const MonthSendResult result = sender.send(plan);
  ASSERT_TRUE(result.synced) << result.error;
  EXPECT_EQ(result.attempts[0].outcome, Outcome::ambiguous);
  EXPECT_NE(result.attempts[0].message.find("socket exploded"), std::string::npos);
  EXPECT_EQ(chunk_order(destination), (std::vector<std::uint32_t>{0, 0, 1, 2}));
}

TEST_F(SenderTest, APlanWithoutChunksIsNotSynced) {
  plan::DropPlan plan = three_chunk_plan();
  plan.chunks.clear();
  FakeDestination destination;
  ConnectionSender sender("conn-a", destination, quick_policy());
  const MonthSendResult result = sender.send(plan);
  EXPECT_FALSE(result.synced);
  EXPECT_TRUE(destination.requests.empty());
  EXPECT_NE(result.error.find("no chunks"), std::string::npos) << result.error;
}

} // namespace
} // namespace billdrop::send
