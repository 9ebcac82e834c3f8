// The drop planner on a full month: plan_month over a 1,000,000-row snapshot (about 360 MB, every
// hour of August) and chunk_body for every chunk, as a sender would. Reports rows/s and bytes/s
// of snapshot planned and serialised.
#include "plan/drop_plan.hpp"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace billdrop;

namespace {

constexpr std::uint64_t kRows = 1'000'000;

// A realistic canonical snapshot written once per process (generating is not what is measured).
class BenchSnapshot {
public:
  BenchSnapshot() {
    dir_ = fs::temp_directory_path() / ("billdrop_plan_bench_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    summary_.month = Month(2026, 8);
    summary_.file = dir_ / "2026-08.ndjson";
    summary_.digest = "bench";
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> out(std::fopen(summary_.file.c_str(), "wb"),
                                                        &std::fclose);
    std::mt19937_64 rng(42);
    const char* services[] = {"GPU", "Storage", "Network", "Support"};
    const char* regions[] = {"us-east-1", "eu-west-2", "ap-south-1"};
    constexpr std::uint64_t hours = 31 * 24;
    char line[512];
    for (std::uint64_t i = 0; i < kRows; ++i) {
      const std::uint64_t hour = i * hours / kRows; // sorted by hour, ~1,344 rows each
      char cost[32];
      std::snprintf(cost, sizeof cost, "%u.%08u", static_cast<unsigned>(rng() % 1000),
                    static_cast<unsigned>(rng() % 100000000));
      const int length = std::snprintf(
          line, sizeof line,
          "{\"time/usage_start\":\"2026-08-%02uT%02u:00:00Z\",\"lineitem/type\":\"Usage\","
          "\"lineitem/description\":\"%s usage in %s\",\"cost/cost\":\"%s\","
          "\"usage/amount\":\"%u.%03u\",\"usage/units\":\"hours\","
          "\"resource/id\":\"instance/i-%016llx\",\"resource/account\":\"acct-%u\","
          "\"resource/service\":\"%s\",\"resource/region\":\"%s\","
          "\"resource/tag:env\":\"prod\","
          "\"resource/tag:team\":\"team-%u\"}\n",
          static_cast<unsigned>(hour / 24 + 1), static_cast<unsigned>(hour % 24), services[i % 4],
          regions[i % 3], cost, static_cast<unsigned>(rng() % 100),
          static_cast<unsigned>(rng() % 1000), static_cast<unsigned long long>(rng()),
          static_cast<unsigned>(rng() % 50), services[i % 4], regions[i % 3],
          static_cast<unsigned>(rng() % 30));
      std::fwrite(line, 1, static_cast<std::size_t>(length), out.get());
      summary_.json_bytes += static_cast<std::uint64_t>(length) - 1;
      summary_.cost += Decimal::from_string(cost);
    }
    summary_.rows = kRows;
  }
  ~BenchSnapshot() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  const snapshot::MonthSummary& summary() const { return summary_; }

private:
  fs::path dir_;
  snapshot::MonthSummary summary_;
};

const BenchSnapshot& snapshot() {
  static const BenchSnapshot instance;
  return instance;
}

void BM_PlanAndSerializeMonth(benchmark::State& state) {
  const snapshot::MonthSummary& summary = snapshot().summary();
  std::uint64_t bytes = 0;
  std::size_t chunks = 0;
  for (auto _ : state) {
    Result<plan::DropPlan> plan =
        plan::plan_month(summary, plan::PlanLimits{}, plan::CapPolicy::fail);
    if (!plan) {
      state.SkipWithError(plan.error().message().c_str());
      return;
    }
    for (std::uint32_t i = 0; i < plan->chunks.size(); ++i) {
      Result<std::string> body = plan::chunk_body(*plan, i);
      if (!body) {
        state.SkipWithError(body.error().message().c_str());
        return;
      }
      bytes += body->size();
      benchmark::DoNotOptimize(body->data());
    }
    chunks = plan->chunks.size();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
  state.counters["rows/s"] =
      benchmark::Counter(static_cast<double>(kRows) * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate);
  state.counters["chunks"] = static_cast<double>(chunks);
}
BENCHMARK(BM_PlanAndSerializeMonth)->Unit(benchmark::kMillisecond)->UseRealTime();

// Planning alone: one sequential read, sizes from line lengths, no bodies built.
void BM_PlanMonth(benchmark::State& state) {
  const snapshot::MonthSummary& summary = snapshot().summary();
  for (auto _ : state) {
    Result<plan::DropPlan> plan =
        plan::plan_month(summary, plan::PlanLimits{}, plan::CapPolicy::fail);
    if (!plan) {
      state.SkipWithError(plan.error().message().c_str());
      return;
    }
    benchmark::DoNotOptimize(plan->digest.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(summary.json_bytes + summary.rows) *
                          state.iterations());
  state.counters["rows/s"] =
      benchmark::Counter(static_cast<double>(kRows) * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate);
}
BENCHMARK(BM_PlanMonth)->Unit(benchmark::kMillisecond)->UseRealTime();

// Serialising alone: every chunk body read back through its byte offset, as a sender does.
void BM_SerializeChunks(benchmark::State& state) {
  Result<plan::DropPlan> plan =
      plan::plan_month(snapshot().summary(), plan::PlanLimits{}, plan::CapPolicy::fail);
  if (!plan) {
    state.SkipWithError(plan.error().message().c_str());
    return;
  }
  std::uint64_t bytes = 0;
  for (auto _ : state) {
    for (std::uint32_t i = 0; i < plan->chunks.size(); ++i) {
      Result<std::string> body = plan::chunk_body(*plan, i);
      if (!body) {
        state.SkipWithError(body.error().message().c_str());
        return;
      }
      bytes += body->size();
      benchmark::DoNotOptimize(body->data());
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
  state.counters["rows/s"] =
      benchmark::Counter(static_cast<double>(kRows) * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SerializeChunks)->Unit(benchmark::kMillisecond)->UseRealTime();

} // namespace
