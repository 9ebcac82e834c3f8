#include "plan/drop_plan.hpp"
#include "report/plan_report.hpp"

#include "cbf/row_validator.hpp"
#include "snapshot/month_snapshot.hpp"
#include "support/temp_folder.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>

namespace billdrop::plan {
namespace {

namespace fs = std::filesystem;
using cbf::DropOperation;

// Envelopes written out by hand from the API's body format, not from DropBodyWriter.
constexpr std::string_view kDropEnvelope =
    R"({"month":"2026-08","operation":"replace_drop","data":[]})";
constexpr std::string_view kHourlyEnvelope =
    R"({"month":"2026-08","operation":"replace_hourly","data":[]})";
constexpr std::string_view kSumEnvelope = R"({"month":"2026-08","operation":"sum","data":[]})";

std::size_t envelope(DropOperation operation) {
  switch (operation) {
  case DropOperation::replace_drop:
    return kDropEnvelope.size();
  case DropOperation::replace_hourly:
    return kHourlyEnvelope.size();
  case DropOperation::sum:
    return kSumEnvelope.size();
  }
  return 0;
}

std::string op_name(DropOperation operation) {
  switch (operation) {
  case DropOperation::replace_drop:
    return "replace_drop";
  case DropOperation::replace_hourly:
    return "replace_hourly";
  case DropOperation::sum:
    return "sum";
  }
  return "";
}

// The body the API expects for these rows, assembled by hand.
std::string expected_body(DropOperation operation, const std::vector<std::string>& lines,
                          std::size_t first, std::size_t count) {
  std::string body =
      "{\"month\":\"2026-08\",\"operation\":\"" + op_name(operation) + "\",\"data\":[";
  for (std::size_t i = first; i < first + count; ++i) {
    if (i != first)
      body += ',';
    body += lines[i];
  }
  return body + "]}";
}

std::vector<std::string> read_lines(const fs::path& file) {
  std::vector<std::string> lines;
  std::ifstream in(file, std::ios::binary);
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  return lines;
}

std::string value_of(const std::string& line, std::string_view key) {
  const std::string pattern = "\"" + std::string(key) + "\":\"";
  const std::size_t at = line.find(pattern);
  if (at == std::string::npos)
    return "";
  const std::size_t begin = at + pattern.size();
  return line.substr(begin, line.find('"', begin) - begin);
}

std::string hour_of(const std::string& line) {
  return value_of(line, "time/usage_start").substr(0, 13);
}

// Writes `lines` as a snapshot and a summary computed here, from the lines themselves.
snapshot::MonthSummary write_snapshot(const fs::path& dir, const std::vector<std::string>& lines) {
  snapshot::MonthSummary summary;
  summary.month = Month(2026, 8);
  summary.file = dir / "2026-08.ndjson";
  summary.digest = "0123456789abcdef";
  std::ofstream out(summary.file, std::ios::binary);
  for (const std::string& line : lines) {
    out << line << '\n';
    summary.json_bytes += line.size();
    summary.cost += Decimal::from_string(value_of(line, "cost/cost"));
  }
  summary.rows = lines.size();
  return summary;
}

// A canonical row of exactly `length` bytes (the description pads it).
std::string row_of_length(std::string_view time, std::string_view cost, std::size_t length,
                          std::string_view id = "") {
  std::string head = "{\"time/usage_start\":\"" + std::string(time) + "\"";
  if (!id.empty())
    head += ",\"lineitem/id\":\"" + std::string(id) + "\"";
  head += ",\"lineitem/description\":\"";
  const std::string tail = "\",\"cost/cost\":\"" + std::string(cost) + "\"}";
  const std::size_t fixed = head.size() + tail.size();
  EXPECT_GE(length, fixed);
  return head + std::string(length - fixed, 'x') + tail;
}

class DropPlanTest : public test::TempFolderTest {
protected:
};

// ---- Property tests on random snapshots ----

struct GeneratedMonth {
  snapshot::MonthSummary summary;
  std::map<std::string, std::string> cost_by_id; // lineitem/id -> the generated cost text
  Decimal cost;                                  // summed here from the generated text
};

std::string random_cost(std::mt19937_64& rng) {
  std::string text = rng() % 5 == 0 ? "-" : "";
  text += std::to_string(rng() % 100000);
  const int decimals = static_cast<int>(rng() % 9);
  if (decimals > 0) {
    text += '.';
    for (int i = 0; i < decimals; ++i)
      text += static_cast<char>('0' + rng() % 10);
  }
  return text;
}

// Random hours and rows through the real validator and snapshot builder, with a few hours
// too large for one body.
GeneratedMonth generate_month(const fs::path& dir, std::uint64_t seed, std::size_t max_body) {
  std::mt19937_64 rng(seed);
  GeneratedMonth month;
  // Every other month with a budget small enough to spill its index more than once.
  snapshot::SnapshotBuilder builder(
      {dir, seed % 2 == 0 ? std::size_t{1} << 20 : std::size_t{2048}});
  const std::size_t hours = 1 + rng() % 40;
  cbf::RowValidator validator;
  cbf::NormalizedRow row;
  std::vector<cbf::RowIssue> issues;
  std::uint64_t next_id = 0;
  for (std::size_t h = 0; h < hours; ++h) {
    const unsigned hour = static_cast<unsigned>(rng() % (31 * 24));
    const bool huge = rng() % 8 == 0;
    const std::size_t rows = huge ? 2 * max_body / 150 + rng() % 50 : 1 + rng() % 25;
    for (std::size_t r = 0; r < rows; ++r) {
      char time[32];
      std::snprintf(time, sizeof time, "2026-08-%02uT%02u:%02u:00Z", hour / 24 + 1, hour % 24,
                    static_cast<unsigned>(rng() % 60));
      const std::string id = "row-" + std::to_string(next_id++);
      const std::string cost = random_cost(rng);
      // Mostly small rows, now and then one close to the body limit.
      std::size_t description = rng() % 20 == 0 ? max_body : rng() % (max_body / 8);
      const std::string amount = std::to_string(rng() % 1000) + "." + std::to_string(rng() % 100);
      for (;;) {
        const std::string text(description, static_cast<char>('a' + rng() % 26));
        const std::vector<cbf::FieldView> fields{
            {"time/usage_start", time}, {"cost/cost", cost},
            {"lineitem/id", id},        {"lineitem/description", text},
            {"usage/amount", amount},   {"resource/id", "vm-" + std::to_string(h)}};
        issues.clear();
        EXPECT_TRUE(validator.normalize(fields, row, issues));
        // Every row must fit a body on its own; shorten the outsized ones until they do.
        if (kHourlyEnvelope.size() + row.json.size() <= max_body)
          break;
        description -=
            std::min(description, row.json.size() + kHourlyEnvelope.size() - max_body + rng() % 40);
      }
      builder.add(row);
      month.cost_by_id[id] = cost;
      month.cost += Decimal::from_string(cost);
    }
  }
  Result<std::vector<snapshot::MonthSummary>> summaries = builder.finish();
  EXPECT_TRUE(summaries.ok());
  EXPECT_EQ(summaries->size(), 1u);
  month.summary = summaries->front();
  return month;
}

struct PropertyStats {
  std::size_t chunks = 0;
  std::size_t split_hours = 0;
  std::size_t sum_parts = 0;
};

// Checks every property of the plan of one random month.
void check_plan(const GeneratedMonth& month, const DropPlan& plan, std::size_t max_body,
                PropertyStats& stats) {
  // The rows file holds the rows as they arrived; snapshot order is by hour, stable.
  std::vector<std::string> lines = read_lines(month.summary.file);
  std::stable_sort(lines.begin(), lines.end(), [](const std::string& a, const std::string& b) {
    return hour_of(a) < hour_of(b);
  });
  ASSERT_EQ(lines.size(), month.summary.rows);
  // Data bytes of each hour's rows, for the "split only when needed" and greedy checks.
  std::map<std::string, std::uint64_t> hour_content;
  for (const std::string& line : lines) {
    auto [it, inserted] = hour_content.try_emplace(hour_of(line), 0);
    it->second += line.size() + (inserted ? 0 : 1);
  }

  ASSERT_FALSE(plan.chunks.empty());
  EXPECT_EQ(plan.rows, lines.size());
  EXPECT_EQ(plan.cost, month.cost);
  std::uint64_t next_row = 0;
  std::uint64_t body_total = 0;
  Decimal chunk_costs;
  for (std::size_t i = 0; i < plan.chunks.size(); ++i) {
    const Chunk& chunk = plan.chunks[i];
    SCOPED_TRACE("chunk " + std::to_string(i));
    EXPECT_EQ(chunk.index, i);
    // Every row in exactly one chunk, in order.
    ASSERT_EQ(chunk.first_row, next_row);
    ASSERT_GT(chunk.row_count, 0u);
    ASSERT_LE(chunk.first_row + chunk.row_count, lines.size());
    next_row += chunk.row_count;

    Result<std::string> body = chunk_body(plan, static_cast<std::uint32_t>(i));
    ASSERT_TRUE(body.ok()) << body.error().message();
    EXPECT_EQ(*body, expected_body(chunk.operation, lines, chunk.first_row, chunk.row_count));
    EXPECT_EQ(chunk.body_bytes, body->size());
    EXPECT_LE(body->size(), max_body);
    body_total += body->size();

    Decimal cost;
    for (std::size_t r = chunk.first_row; r < chunk.first_row + chunk.row_count; ++r)
      cost += Decimal::from_string(month.cost_by_id.at(value_of(lines[r], "lineitem/id")));
    EXPECT_EQ(chunk.cost, cost);
    chunk_costs += chunk.cost;

    EXPECT_EQ(chunk.first_hour, hour_of(lines[chunk.first_row]));
    EXPECT_EQ(chunk.last_hour, hour_of(lines[chunk.first_row + chunk.row_count - 1]));

    // Operations: replace_drop first, replace_hourly after, sum only for later parts of a split.
    if (chunk.split_hour_start) {
      const std::uint32_t start = *chunk.split_hour_start;
      ASSERT_LE(start, i);
      EXPECT_EQ(chunk.first_hour, chunk.last_hour) << "a split part holds one hour";
      EXPECT_EQ(chunk.first_hour, plan.chunks[start].first_hour);
      if (start == i) {
        ++stats.split_hours;
        EXPECT_EQ(chunk.operation,
                  i == 0 ? DropOperation::replace_drop : DropOperation::replace_hourly);
        // Split only because the hour alone is larger than one body.
        EXPECT_GT(envelope(chunk.operation) + hour_content.at(chunk.first_hour), max_body);
        // The hour starts in this chunk: no earlier hour shares it.
        EXPECT_TRUE(chunk.first_row == 0 ||
                    hour_of(lines[chunk.first_row - 1]) != chunk.first_hour);
      } else {
        ++stats.sum_parts;
        EXPECT_EQ(chunk.operation, DropOperation::sum);
        EXPECT_EQ(plan.chunks[i - 1].split_hour_start, chunk.split_hour_start);
      }
    } else {
      EXPECT_EQ(chunk.operation,
                i == 0 ? DropOperation::replace_drop : DropOperation::replace_hourly);
      EXPECT_LE(envelope(chunk.operation) + hour_content.at(chunk.first_hour), max_body);
    }

    if (i > 0) {
      const Chunk& previous = plan.chunks[i - 1];
      const bool same_split =
          chunk.split_hour_start && previous.split_hour_start == chunk.split_hour_start;
      if (same_split) {
        EXPECT_EQ(previous.last_hour, chunk.first_hour);
      } else {
        EXPECT_LT(previous.last_hour, chunk.first_hour) << "hours overlap between chunks";
      }
      // Greedy: a chunk closed only because the next whole hour did not fit.
      if (!previous.split_hour_start && !chunk.split_hour_start) {
        EXPECT_GT(previous.body_bytes + 1 + hour_content.at(chunk.first_hour), max_body);
      }
    }
  }
  EXPECT_EQ(next_row, lines.size());
  EXPECT_EQ(chunk_costs, month.cost);
  EXPECT_EQ(plan.caps.bytes, body_total);
  EXPECT_EQ(plan.caps.rows, lines.size());
  stats.chunks += plan.chunks.size();
}

TEST_F(DropPlanTest, RandomMonthsHoldEveryPlanProperty) {
  PropertyStats stats;
  for (std::uint64_t seed = 1; seed <= 150; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed * 7919);
    const std::size_t max_body = 2000 + rng() % 18001; // 2-20 KB
    const fs::path dir = dir_ / std::to_string(seed);
    const GeneratedMonth month = generate_month(dir, seed, max_body);
    ASSERT_EQ(month.summary.cost, month.cost);
    PlanLimits limits;
    limits.max_body_bytes = max_body;
    Result<DropPlan> plan = plan_month(month.summary, limits, CapPolicy::fail);
    ASSERT_TRUE(plan.ok()) << plan.error().message();
    check_plan(month, *plan, max_body, stats);
    if (HasFatalFailure())
      return;

    // Deterministic: the same snapshot and limits give the same plan and digest.
    Result<DropPlan> again = plan_month(month.summary, limits, CapPolicy::fail);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->digest, plan->digest);
    EXPECT_EQ(again->to_json(), plan->to_json());
    EXPECT_EQ(plan->digest.size(), 64u);
    fs::remove_all(dir);
  }
  // The generator really produced split hours and sum parts.
  EXPECT_GT(stats.split_hours, 10u);
  EXPECT_GT(stats.sum_parts, stats.split_hours);
  EXPECT_GT(stats.chunks, 300u);
}

// ---- Boundaries, worked out by hand ----

TEST_F(DropPlanTest, ABodyMayBeExactlyTheLimitButNotOneByteMore) {
  // Three hours of two 100-byte rows each.
  std::vector<std::string> lines;
  for (int hour = 0; hour < 3; ++hour)
    for (int i = 0; i < 2; ++i)
      lines.push_back(row_of_length("2026-08-01T0" + std::to_string(hour) + ":00:00Z", "1.5", 100));
  const snapshot::MonthSummary snapshot = write_snapshot(dir_, lines);

  // Two hours (4 rows, 3 commas) in a replace_drop body: exactly the limit.
  PlanLimits limits;
  limits.max_body_bytes = kDropEnvelope.size() + 400 + 3;
  Result<DropPlan> plan = plan_month(snapshot, limits, CapPolicy::fail);
  ASSERT_TRUE(plan.ok()) << plan.error().message();
  ASSERT_EQ(plan->chunks.size(), 2u);
  EXPECT_EQ(plan->chunks[0].row_count, 4u);
  EXPECT_EQ(plan->chunks[0].body_bytes, limits.max_body_bytes);
  EXPECT_EQ(plan->chunks[0].first_hour, "2026-08-01T00");
  EXPECT_EQ(plan->chunks[0].last_hour, "2026-08-01T01");
  EXPECT_EQ(plan->chunks[1].operation, DropOperation::replace_hourly);
  EXPECT_EQ(plan->chunks[1].first_row, 4u);
  EXPECT_EQ(plan->chunks[1].body_bytes, kHourlyEnvelope.size() + 201);
  EXPECT_EQ(plan->chunks[1].cost, Decimal::from_string("3"));

  // One byte less: one hour per chunk, nothing split.
  limits.max_body_bytes -= 1;
  plan = plan_month(snapshot, limits, CapPolicy::fail);
  ASSERT_TRUE(plan.ok()) << plan.error().message();
  ASSERT_EQ(plan->chunks.size(), 3u);
  for (const Chunk& chunk : plan->chunks) {
    EXPECT_EQ(chunk.row_count, 2u);
    EXPECT_FALSE(chunk.split_hour_start);
  }
}

TEST_F(DropPlanTest, SplitsOnlyAnHourLargerThanOneBody) {
  // Hour 00: 1 row; hour 01: 5 rows that need two bodies; hour 02: 1 row.
  std::vector<std::string> lines{row_of_length("2026-08-01T00:00:00Z", "1", 100)};
  for (int i = 0; i < 5; ++i)
    lines.push_back(row_of_length("2026-08-01T01:00:00Z", "0.1", 100));
  lines.push_back(row_of_length("2026-08-01T02:00:00Z", "2", 100));
  const snapshot::MonthSummary snapshot = write_snapshot(dir_, lines);

  // A replace_hourly body holds 3 rows (300 + 2 commas); a sum body the same.
  PlanLimits limits;
  limits.max_body_bytes = kHourlyEnvelope.size() + 302;
  Result<DropPlan> plan = plan_month(snapshot, limits, CapPolicy::fail);
  ASSERT_TRUE(plan.ok()) << plan.error().message();
  ASSERT_EQ(plan->chunks.size(), 4u);
  // The split hour does not join hour 00's chunk even though a row would fit there.
  EXPECT_EQ(plan->chunks[0].operation, DropOperation::replace_drop);
  EXPECT_EQ(plan->chunks[0].row_count, 1u);
  EXPECT_EQ(plan->chunks[1].operation, DropOperation::replace_hourly);
  EXPECT_EQ(plan->chunks[1].row_count, 3u);
  EXPECT_EQ(plan->chunks[1].split_hour_start, 1u);
  EXPECT_EQ(plan->chunks[1].cost, Decimal::from_string("0.3"));
  EXPECT_EQ(plan->chunks[2].operation, DropOperation::sum);
  EXPECT_EQ(plan->chunks[2].row_count, 2u);
  EXPECT_EQ(plan->chunks[2].split_hour_start, 1u);
  EXPECT_EQ(plan->chunks[2].body_bytes, kSumEnvelope.size() + 201);
  // The hour after a split starts a new replace_hourly chunk: a sum body never carries it.
  EXPECT_EQ(plan->chunks[3].operation, DropOperation::replace_hourly);
  EXPECT_EQ(plan->chunks[3].row_count, 1u);
  EXPECT_FALSE(plan->chunks[3].split_hour_start);
}

TEST_F(DropPlanTest, AFirstHourTooLargeForOneBodyStartsWithReplaceDrop) {
  std::vector<std::string> lines;
  for (int i = 0; i < 4; ++i)
    lines.push_back(row_of_length("2026-08-01T00:00:00Z", "1", 100));
  const snapshot::MonthSummary snapshot = write_snapshot(dir_, lines);
  PlanLimits limits;
  limits.max_body_bytes = kDropEnvelope.size() + 201; // two rows
  Result<DropPlan> plan = plan_month(snapshot, limits, CapPolicy::fail);
  ASSERT_TRUE(plan.ok()) << plan.error().message();
  ASSERT_EQ(plan->chunks.size(), 2u);
  EXPECT_EQ(plan->chunks[0].operation, DropOperation::replace_drop);
  EXPECT_EQ(plan->chunks[0].split_hour_start, 0u);
  EXPECT_EQ(plan->chunks[1].operation, DropOperation::sum);
  EXPECT_EQ(plan->chunks[1].split_hour_start, 0u);
  EXPECT_EQ(plan->chunks[1].row_count, 2u);
}

TEST_F(DropPlanTest, ARowLargerThanABodyIsAnErrorNamingItsLine) {
  const std::vector<std::string> lines{row_of_length("2026-08-01T00:00:00Z", "1", 100),
                                       row_of_length("2026-08-01T01:00:00Z", "1", 100),
                                       row_of_length("2026-08-01T01:00:00Z", "1", 1500)};
  const snapshot::MonthSummary snapshot = write_snapshot(dir_, lines);
  PlanLimits limits;
  limits.max_body_bytes = 1000;
  Result<DropPlan> plan = plan_month(snapshot, limits, CapPolicy::fail);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.error().kind(), ErrorKind::data);
  const std::string& message = plan.error().message();
  EXPECT_NE(message.find("line 3 of " + snapshot.file.string()), std::string::npos) << message;
  EXPECT_NE(message.find("1,500 bytes"), std::string::npos) << message;
  EXPECT_NE(message.find("1,000"), std::string::npos) << message;
}

TEST_F(DropPlanTest, BodiesLargerThanTheReadBuffersAreExact) {
  // About 1.7 MB over three hours, with one 1.5 MB row: rows and bodies span the planner's and
  // chunk_body's read buffers.
  std::mt19937_64 rng(7);
  std::vector<std::string> lines;
  for (int hour = 0; hour < 3; ++hour)
    for (int i = 0; i < 400; ++i)
      lines.push_back(row_of_length("2026-08-01T0" + std::to_string(hour) + ":00:00Z",
                                    std::to_string(i) + ".01", 100 + rng() % 400));
  lines.insert(lines.begin() + 500, row_of_length("2026-08-01T01:00:00Z", "9", 1'500'000));
  const snapshot::MonthSummary snapshot = write_snapshot(dir_, lines);
  for (std::size_t max_body : {std::size_t{5'000'000}, std::size_t{1'600'000}}) {
    PlanLimits limits;
    limits.max_body_bytes = max_body;
    Result<DropPlan> plan = plan_month(snapshot, limits, CapPolicy::fail);
    ASSERT_TRUE(plan.ok()) << plan.error().message();
    // Under 1.6 MB, hour 01 (the big row plus 400 rows of 100-500 bytes) is split in two.
    EXPECT_EQ(plan->chunks.size(), max_body == 5'000'000 ? 1u : 4u);
    std::uint64_t rows = 0;
    for (const Chunk& chunk : plan->chunks) {
      Result<std::string> body = chunk_body(*plan, chunk.index);
      ASSERT_TRUE(body.ok()) << body.error().message();
      EXPECT_EQ(*body, expected_body(chunk.operation, lines, chunk.first_row, chunk.row_count));
      EXPECT_EQ(body->size(), chunk.body_bytes);
      rows += chunk.row_count;
    }
    EXPECT_EQ(rows, lines.size());
  }
}

TEST_F(DropPlanTest, ASnapshotWithoutAFinalNewlineIsReadToItsEnd) {
  const std::vector<std::string> lines{row_of_length("2026-08-01T00:00:00Z", "1", 100),
                                       row_of_length("2026-08-01T01:00:00Z", "2", 100)};
  snapshot::MonthSummary snapshot = write_snapshot(dir_, lines);
  fs::resize_file(snapshot.file, 201); // drop the last '\n'
  PlanLimits limits;
  limits.max_body_bytes = kHourlyEnvelope.size() + 100;
  Result<DropPlan> plan = plan_month(snapshot, limits, CapPolicy::fail);
  ASSERT_TRUE(plan.ok()) << plan.error().message();
  ASSERT_EQ(plan->chunks.size(), 2u);
  EXPECT_EQ(chunk_body(*plan, 1).value(),
            expected_body(DropOperation::replace_hourly, lines, 1, 1));
}

TEST_F(DropPlanTest, AnEmptyMonthIsOneReplaceDropWithNoRows) {
  const snapshot::MonthSummary snapshot = write_snapshot(dir_, {});
  Result<DropPlan> plan = plan_month(snapshot, PlanLimits{}, CapPolicy::fail);
  ASSERT_TRUE(plan.ok()) << plan.error().message();
  ASSERT_EQ(plan->chunks.size(), 1u);
  EXPECT_EQ(plan->chunks[0].operation, DropOperation::replace_drop);
  EXPECT_EQ(plan->chunks[0].row_count, 0u);
  EXPECT_EQ(plan->chunks[0].body_bytes, kDropEnvelope.size());
  Result<std::string> body = chunk_body(*plan, 0);
  ASSERT_TRUE(body.ok()) << body.error().message();
  EXPECT_EQ(*body, kDropEnvelope);

  // A month whose snapshot does not exist at all plans the same way.
  snapshot::MonthSummary missing = snapshot;
  missing.file = dir_ / "2026-09.ndjson";
  plan = plan_month(missing, PlanLimits{}, CapPolicy::fail);
  ASSERT_TRUE(plan.ok()) << plan.error().message();
  EXPECT_EQ(chunk_body(*plan, 0).value(), kDropEnvelope);
}

TEST_F(DropPlanTest, TheDigestChangesWithTheLimitsAndTheSnapshot) {
  std::vector<std::string> lines;
  for (int hour = 0; hour < 6; ++hour)
    lines.push_back(row_of_length("2026-08-01T0" + std::to_string(hour) + ":00:00Z", "1", 100));
  snapshot::MonthSummary snapshot = write_snapshot(dir_, lines);
  PlanLimits limits;
  limits.max_body_bytes = 400;
  const std::string digest = plan_month(snapshot, limits, CapPolicy::fail)->digest;
  EXPECT_EQ(digest, plan_month(snapshot, limits, CapPolicy::fail)->digest);
  limits.max_rows_per_month = 999;
  EXPECT_NE(digest, plan_month(snapshot, limits, CapPolicy::fail)->digest);
  limits = PlanLimits{};
  limits.max_body_bytes = 400;
  snapshot.digest = "another snapshot";
  EXPECT_NE(digest, plan_month(snapshot, limits, CapPolicy::fail)->digest);
}

TEST_F(DropPlanTest, RejectsSnapshotsThatAreNotSortedOrDoNotMatchTheirSummary) {
  std::vector<std::string> lines{row_of_length("2026-08-01T05:00:00Z", "1", 100),
                                 row_of_length("2026-08-01T04:00:00Z", "1", 100)};
  snapshot::MonthSummary snapshot = write_snapshot(dir_, lines);
  Result<DropPlan> plan = plan_month(snapshot, PlanLimits{}, CapPolicy::fail);
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.error().message().find("line 2 of"), std::string::npos);
  EXPECT_NE(plan.error().message().find("sorted by hour"), std::string::npos);

  lines = {row_of_length("2026-07-31T23:00:00Z", "1", 100)};
  snapshot = write_snapshot(dir_, lines);
  plan = plan_month(snapshot, PlanLimits{}, CapPolicy::fail);
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.error().message().find("outside the snapshot's month 2026-08"), std::string::npos);

  lines = {row_of_length("2026-08-01T00:00:00Z", "1", 100)};
  snapshot = write_snapshot(dir_, lines);
  snapshot.rows = 2;
  plan = plan_month(snapshot, PlanLimits{}, CapPolicy::fail);
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.error().message().find("1 rows in the file, 2 in the summary"), std::string::npos)
      << plan.error().message();
  snapshot.rows = 1;
  snapshot.cost = Decimal::from_string("2");
  plan = plan_month(snapshot, PlanLimits{}, CapPolicy::fail);
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.error().message().find("totals 1 in the file, 2 in the summary"),
            std::string::npos)
      << plan.error().message();
}

TEST_F(DropPlanTest, ChunkBodyNoticesASnapshotChangedAfterPlanning) {
  std::vector<std::string> lines;
  for (int hour = 0; hour < 4; ++hour)
    lines.push_back(row_of_length("2026-08-01T0" + std::to_string(hour) + ":00:00Z", "1", 100));
  const snapshot::MonthSummary snapshot = write_snapshot(dir_, lines);
  PlanLimits limits;
  limits.max_body_bytes = kHourlyEnvelope.size() + 201;
  Result<DropPlan> plan = plan_month(snapshot, limits, CapPolicy::fail);
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(plan->chunks.size(), 2u);
  EXPECT_FALSE(chunk_body(*plan, 2).ok());

  // Same size, one row moved to another hour: the hours no longer match.
  lines[2] = row_of_length("2026-08-01T09:00:00Z", "1", 100);
  write_snapshot(dir_, lines);
  Result<std::string> body = chunk_body(*plan, 1);
  ASSERT_FALSE(body.ok());
  EXPECT_NE(body.error().message().find("plan the month again"), std::string::npos);
  // A row one byte longer: the chunk's last row no longer ends where planned.
  lines[2] = row_of_length("2026-08-01T02:00:00Z", "1", 101);
  write_snapshot(dir_, lines);
  EXPECT_FALSE(chunk_body(*plan, 1).ok());
  EXPECT_TRUE(chunk_body(*plan, 0).ok());
}

// Builds a month through the validator and the real builder (rows file plus index).
snapshot::MonthSummary build_month(const fs::path& dir,
                                   const std::vector<std::pair<std::string, std::string>>& rows) {
  fs::create_directories(dir);
  snapshot::SnapshotBuilder builder({dir, 1 << 20});
  cbf::RowValidator validator;
  cbf::NormalizedRow row;
  std::vector<cbf::RowIssue> issues;
  for (const auto& [id, cost] : rows) {
    const std::vector<cbf::FieldView> fields{
        {"time/usage_start", "2026-08-01T00:00:00Z"}, {"cost/cost", cost}, {"resource/id", id}};
    EXPECT_TRUE(validator.normalize(fields, row, issues));
    builder.add(row);
  }
  Result<std::vector<snapshot::MonthSummary>> summaries = builder.finish();
  EXPECT_TRUE(summaries.ok());
  return summaries->front();
}

TEST_F(DropPlanTest, AnIndexedSnapshotReplacedAfterPlanningIsRefused) {
  // Month A, then the same rows with the two costs swapped: same rows, sizes, hours and total,
  // so only the digest tells them apart.
  const snapshot::MonthSummary a = build_month(dir_ / "a", {{"vm-a", "1"}, {"vm-b", "2"}});
  const snapshot::MonthSummary b = build_month(dir_ / "b", {{"vm-a", "2"}, {"vm-b", "1"}});
  ASSERT_NE(a.digest, b.digest);
  Result<DropPlan> plan = plan_month(a, PlanLimits{}, CapPolicy::fail);
  ASSERT_TRUE(plan.ok()) << plan.error().message();
  ASSERT_TRUE(chunk_body(*plan, 0).ok());

  // B's files where A's were, as a crash between renames or a convert during a send leaves them.
  fs::copy_file(b.file, a.file, fs::copy_options::overwrite_existing);
  fs::copy_file(snapshot::index_path_for(b.file), snapshot::index_path_for(a.file),
                fs::copy_options::overwrite_existing);
  Result<std::string> body = chunk_body(*plan, 0);
  ASSERT_FALSE(body.ok());
  EXPECT_NE(body.error().message().find("plan the month again"), std::string::npos)
      << body.error().message();
  Result<DropPlan> again = plan_month(a, PlanLimits{}, CapPolicy::fail);
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message().find("does not match its summary"), std::string::npos)
      << again.error().message();
}

TEST_F(DropPlanTest, BadLimitsAreAConfigError) {
  const snapshot::MonthSummary snapshot = write_snapshot(dir_, {});
  PlanLimits limits;
  limits.max_body_bytes = kHourlyEnvelope.size();
  Result<DropPlan> plan = plan_month(snapshot, limits, CapPolicy::fail);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.error().kind(), ErrorKind::config);
}

// ---- Month caps ----

TEST_F(DropPlanTest, OverTheRowCapFailsWithTheFigures) {
  std::vector<std::string> lines;
  for (int i = 0; i < 10; ++i)
    lines.push_back(row_of_length("2026-08-01T00:00:00Z", "1", 120, "id-" + std::to_string(i)));
  const snapshot::MonthSummary snapshot = write_snapshot(dir_, lines);
  PlanLimits limits;
  limits.max_rows_per_month = 8;
  Result<DropPlan> plan = plan_month(snapshot, limits, CapPolicy::fail);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.error().kind(), ErrorKind::data);
  // 10 - 8 = 2 rows over; 2 / 8 = 25.0%.
  EXPECT_NE(plan.error().message().find("2026-08: 10 rows is 2 (25.0%) over the 8-row month cap;"),
            std::string::npos)
      << plan.error().message();
  EXPECT_NE(plan.error().message().find("Allow rollup for this connection"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir_ / "2026-08.rollup.ndjson"));

  // Exactly at the cap is fine.
  limits.max_rows_per_month = 10;
  EXPECT_TRUE(plan_month(snapshot, limits, CapPolicy::fail).ok());
}

TEST_F(DropPlanTest, OverTheByteCapFailsWithTheFigures) {
  // One replace_drop body: envelope + 3 rows + 2 commas = 400 bytes.
  const std::size_t row = (400 - kDropEnvelope.size() - 2) / 3;
  ASSERT_EQ(kDropEnvelope.size() + 3 * row + 2, 400u) << "pick another size";
  const std::vector<std::string> lines{row_of_length("2026-08-01T00:00:00Z", "1", row),
                                       row_of_length("2026-08-01T00:00:00Z", "1", row),
                                       row_of_length("2026-08-01T01:00:00Z", "1", row)};
  const snapshot::MonthSummary snapshot = write_snapshot(dir_, lines);
  PlanLimits limits;
  limits.max_bytes_per_month = 320;
  Result<DropPlan> plan = plan_month(snapshot, limits, CapPolicy::fail);
  ASSERT_FALSE(plan.ok());
  // 400 - 320 = 80 over; 80 / 320 = 25.0%.
  EXPECT_NE(plan.error().message().find(
                "2026-08: 400 body bytes is 80 (25.0%) over the 320-byte month cap;"),
            std::string::npos)
      << plan.error().message();

  // Both caps: both figures. 3 - 2 = 1 row over, 1 / 2 = 50.0%.
  limits.max_rows_per_month = 2;
  plan = plan_month(snapshot, limits, CapPolicy::fail);
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.error().message().find("3 rows is 1 (50.0%) over the 2-row month cap and 400 "
                                        "body bytes is 80 (25.0%) over the 320-byte month cap"),
            std::string::npos)
      << plan.error().message();
}

TEST_F(DropPlanTest, RollupBringsAMonthUnderTheCapAndPlansTheRolledUpRows) {
  const std::vector<std::string> lines{
      R"({"time/usage_start":"2026-08-01T00:00:00Z","cost/cost":"1.25","resource/id":"a"})",
      R"({"time/usage_start":"2026-08-01T00:00:00Z","cost/cost":"0.00000001","resource/id":"a"})",
      R"({"time/usage_start":"2026-08-01T00:00:00Z","cost/cost":"7","resource/id":"b"})",
      R"({"time/usage_start":"2026-08-01T01:00:00Z","cost/cost":"-2.5","resource/id":"a"})",
      R"({"time/usage_start":"2026-08-01T01:00:00Z","cost/cost":"0.5","resource/id":"a"})",
  };
  const snapshot::MonthSummary snapshot = write_snapshot(dir_, lines);
  PlanLimits limits;
  limits.max_rows_per_month = 3;
  Result<DropPlan> plan = plan_month(snapshot, limits, CapPolicy::rollup);
  ASSERT_TRUE(plan.ok()) << plan.error().message();
  ASSERT_TRUE(plan->rollup);
  EXPECT_EQ(plan->rollup->rows_before, 5u);
  EXPECT_EQ(plan->rollup->rows_after, 3u);
  EXPECT_EQ(plan->rollup->groups_merged, 2u);
  EXPECT_EQ(plan->snapshot_file, dir_ / "2026-08.rollup.ndjson");
  EXPECT_EQ(plan->rows, 3u);
  EXPECT_EQ(plan->cost, Decimal::from_string("6.25000001")); // 1.25 + 0.00000001 + 7 - 2.5 + 0.5
  const std::vector<std::string> rolled{
      R"({"time/usage_start":"2026-08-01T00:00:00Z","cost/cost":"1.25000001","resource/id":"a"})",
      R"({"time/usage_start":"2026-08-01T00:00:00Z","cost/cost":"7","resource/id":"b"})",
      R"({"time/usage_start":"2026-08-01T01:00:00Z","cost/cost":"-2.0","resource/id":"a"})",
  };
  EXPECT_EQ(read_lines(plan->snapshot_file), rolled);
  ASSERT_EQ(plan->chunks.size(), 1u);
  EXPECT_EQ(chunk_body(*plan, 0).value(), expected_body(DropOperation::replace_drop, rolled, 0, 3));
  // The original snapshot is left as it was.
  EXPECT_EQ(read_lines(snapshot.file), lines);

  // Under the cap, rollup is not applied even when allowed.
  limits.max_rows_per_month = 5;
  plan = plan_month(snapshot, limits, CapPolicy::rollup);
  ASSERT_TRUE(plan.ok());
  EXPECT_FALSE(plan->rollup);
  EXPECT_EQ(plan->snapshot_file, snapshot.file);
}

TEST_F(DropPlanTest, StillOverTheCapAfterRollupIsAnErrorWithTheRollupFigures) {
  const std::vector<std::string> lines{
      R"({"time/usage_start":"2026-08-01T00:00:00Z","cost/cost":"1","resource/id":"a"})",
      R"({"time/usage_start":"2026-08-01T00:00:00Z","cost/cost":"2","resource/id":"a"})",
      R"({"time/usage_start":"2026-08-01T00:00:00Z","cost/cost":"3","resource/id":"b"})",
      R"({"time/usage_start":"2026-08-01T00:00:00Z","cost/cost":"4","resource/id":"c"})",
  };
  const snapshot::MonthSummary snapshot = write_snapshot(dir_, lines);
  PlanLimits limits;
  limits.max_rows_per_month = 2;
  Result<DropPlan> plan = plan_month(snapshot, limits, CapPolicy::rollup);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.error().kind(), ErrorKind::data);
  // Before: 4 rows of 77 bytes in one replace_drop body; after: 3 rows.
  ASSERT_EQ(lines[0].size(), 77u);
  const std::size_t before = kDropEnvelope.size() + 4 * 77 + 3;
  const std::size_t after = kDropEnvelope.size() + 3 * 77 + 2;
  EXPECT_NE(plan.error().message().find(
                "2026-08: still over the month cap after rollup, which merged 1 groups and took "
                "the month from 4 to 3 rows (" +
                std::to_string(before) + " to " + std::to_string(after) +
                " body bytes): 3 rows is 1 (50.0%) over the 2-row month cap"),
            std::string::npos)
      << plan.error().message();
  EXPECT_FALSE(fs::exists(dir_ / "2026-08.rollup.ndjson"));
}

// ---- Report and JSON ----

DropPlan hand_made_plan() {
  DropPlan plan;
  plan.month = Month(2026, 8);
  plan.snapshot_file = "/data/2026-08.ndjson";
  plan.snapshot_digest = "abc";
  plan.digest = "0123456789abcdef0123";
  plan.rows = 1'250;
  plan.cost = Decimal::from_string("12.50");
  plan.caps = {1'250, 10'000, 3'000'000, 400'000'000};
  const auto chunk = [](std::uint32_t index, DropOperation operation, std::string hour,
                        std::uint64_t rows, std::uint64_t bytes, std::string cost,
                        std::optional<std::uint32_t> split) {
    Chunk c;
    c.index = index;
    c.operation = operation;
    c.first_hour = hour;
    c.last_hour = hour;
    c.row_count = rows;
    c.body_bytes = bytes;
    c.cost = Decimal::from_string(cost);
    c.split_hour_start = split;
    return c;
  };
  plan.chunks = {chunk(0, DropOperation::replace_drop, "2026-08-01T00", 500, 1'000'000, "5", {}),
                 chunk(1, DropOperation::replace_hourly, "2026-08-02T00", 500, 1'000'000, "5", 1),
                 chunk(2, DropOperation::sum, "2026-08-02T00", 250, 1'000'000, "2.50", 1)};
  return plan;
}

TEST(DropPlanReport, FormatsCountsAndPercentages) {
  EXPECT_EQ(core::group_thousands(0), "0");
  EXPECT_EQ(core::group_thousands(999), "999");
  EXPECT_EQ(core::group_thousands(1000), "1,000");
  EXPECT_EQ(core::group_thousands(1234567), "1,234,567");
  EXPECT_EQ(core::percent_of(1, 3), "33.3");
  EXPECT_EQ(core::percent_of(2, 3), "66.7");
  EXPECT_EQ(core::percent_of(1, 16), "6.3"); // 6.25 rounds half up
  EXPECT_EQ(core::percent_of(0, 5), "0.0");
  EXPECT_EQ(core::percent_of(5, 4), "125.0");
  EXPECT_EQ(core::percent_of(1, 0), "-");
}

TEST(DropPlanReport, PrintsATableWithTheUseOfEachCap) {
  const std::vector<DropPlan> plans{hand_made_plan()};
  const std::string text =
      report::format_plan_report(plans, {report::PlanReportFormat::text, false});
  // rows cap 1,250 / 10,000 = 12.5%; bytes cap 3,000,000 / 400,000,000 = 0.75% -> 0.8%.
  EXPECT_EQ(text,
            "month     rows  body bytes  chunks  replace_drop  replace_hourly  sum  rows cap  "
            "bytes cap   cost\n"
            "2026-08  1,250   3,000,000       3             1               1    1     "
            "12.5%       0.8%  12.50\n");

  const std::string detailed =
      report::format_plan_report(plans, {report::PlanReportFormat::text, true});
  EXPECT_NE(detailed.find("2026-08 (plan 0123456789ab):"), std::string::npos) << detailed;
  EXPECT_NE(detailed.find("  2  sum             2026-08-02T00  2026-08-02T00   250   1,000,000  "
                          "2.50  part of #1"),
            std::string::npos)
      << detailed;

  std::ostringstream out;
  report::print_plan_report(out, plans, {report::PlanReportFormat::text, false});
  EXPECT_EQ(out.str(), text);
}

TEST(DropPlanReport, PrintsJson) {
  std::vector<DropPlan> plans{hand_made_plan()};
  plans[0].rollup = RollupReport{2'000, 1'250, 600};
  const std::string json =
      report::format_plan_report(plans, {report::PlanReportFormat::json, true});
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  ASSERT_EQ(parser.parse(json).get(root), simdjson::SUCCESS) << json;
  simdjson::dom::element month = root["months"].at(0);
  EXPECT_EQ(std::string_view(month["month"]), "2026-08");
  EXPECT_EQ(std::uint64_t(month["rows"]), 1250u);
  EXPECT_EQ(std::uint64_t(month["body_bytes"]), 3'000'000u);
  EXPECT_EQ(std::uint64_t(month["chunks"]), 3u);
  EXPECT_EQ(std::uint64_t(month["operations"]["replace_drop"]), 1u);
  EXPECT_EQ(std::uint64_t(month["operations"]["replace_hourly"]), 1u);
  EXPECT_EQ(std::uint64_t(month["operations"]["sum"]), 1u);
  EXPECT_EQ(std::uint64_t(month["caps"]["rows"]["limit"]), 10'000u);
  EXPECT_EQ(std::string_view(month["cost"]), "12.50");
  EXPECT_EQ(std::uint64_t(month["rollup"]["groups_merged"]), 600u);
  // The percentage is printed from integers, so compare its text.
  EXPECT_NE(json.find("\"percent\":12.5}"), std::string::npos) << json;
  EXPECT_NE(json.find("\"percent\":0.8}"), std::string::npos) << json;
  simdjson::dom::element chunk = month["plan"]["chunks"].at(2);
  EXPECT_EQ(std::string_view(chunk["operation"]), "sum");
  EXPECT_EQ(std::uint64_t(chunk["split_hour_start"]), 1u);
  EXPECT_EQ(std::string_view(chunk["cost"]), "2.50");
  EXPECT_TRUE(month["plan"]["chunks"].at(0)["split_hour_start"].is_null());
}

} // namespace
} // namespace billdrop::plan
