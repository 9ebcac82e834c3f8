// Delivery throughput: 20 connections pushing a month at once through the send scheduler and the
// AnyCost destination into the in-process emulator over loopback HTTP (no injected faults).
// Reports requests/s and rows/s end to end: body reads from the snapshot, HTTP, the emulator's
// validation and SQLite store. Arguments: rows per month, body limit in bytes, keep-alive (0/1).
#include "cbf/row_validator.hpp"
#include "emulator/emulator.hpp"
#include "plan/drop_plan.hpp"
#include "send/destination.hpp"
#include "send/send_scheduler.hpp"
#include "snapshot/month_snapshot.hpp"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace billdrop;

namespace {

constexpr int kConnections = 20;
constexpr const char* kApiKey = "bench-key";

// One month of realistic rows, snapshotted once per size (generating is not what is measured).
class BenchMonth {
public:
  explicit BenchMonth(std::uint64_t rows) {
    dir_ = fs::temp_directory_path() /
           ("billdrop_send_bench_" + std::to_string(::getpid()) + "_" + std::to_string(rows));
    fs::create_directories(dir_);
    snapshot::SnapshotBuilder builder({dir_, 64 * 1024 * 1024});
    cbf::RowValidator validator;
    cbf::NormalizedRow row;
    std::vector<cbf::RowIssue> issues;
    std::mt19937_64 rng(7);
    const char* services[] = {"GPU", "Storage", "Network", "Support"};
    for (std::uint64_t i = 0; i < rows; ++i) {
      const std::uint64_t hour = i * (30 * 24) / rows;
      char time[32];
      std::snprintf(time, sizeof time, "2026-08-%02uT%02u:00:00Z",
                    static_cast<unsigned>(hour / 24 + 1), static_cast<unsigned>(hour % 24));
      char cost[32];
      std::snprintf(cost, sizeof cost, "%u.%06u", static_cast<unsigned>(rng() % 1000),
                    static_cast<unsigned>(rng() % 1'000'000));
      const std::string id = "instance/i-" + std::to_string(rng());
      const std::string team = "team-" + std::to_string(rng() % 30);
      const std::vector<cbf::FieldView> fields{
          {"time/usage_start", time},       {"cost/cost", cost},
          {"lineitem/type", "Usage"},       {"resource/service", services[i % 4]},
          {"resource/region", "us-east-1"}, {"resource/id", id},
          {"resource/tag:team", team},      {"usage/amount", "1"},
          {"usage/units", "hours"}};
      issues.clear();
      if (!validator.normalize(fields, row, issues))
        throw ErrorException(internal_error("bench row invalid: " + issues.front().message));
      builder.add(row);
    }
    std::vector<snapshot::MonthSummary> summaries = builder.finish().value_or_throw();
    summary_ = summaries.at(0);
  }
  ~BenchMonth() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  plan::DropPlan plan(std::size_t body_limit) const {
    plan::PlanLimits limits;
    limits.max_body_bytes = body_limit;
    return plan::plan_month(summary_, limits, plan::CapPolicy::fail).value_or_throw();
  }
  std::uint64_t rows() const { return summary_.rows; }

private:
  fs::path dir_;
  snapshot::MonthSummary summary_;
};

const BenchMonth& bench_month(std::uint64_t rows) {
  static std::map<std::uint64_t, std::unique_ptr<BenchMonth>> months;
  auto& slot = months[rows];
  if (!slot)
    slot = std::make_unique<BenchMonth>(rows);
  return *slot;
}

void BM_TwentyConnectionsPushAMonth(benchmark::State& state) {
  const auto rows = static_cast<std::uint64_t>(state.range(0));
  const auto body_limit = static_cast<std::size_t>(state.range(1));
  const plan::DropPlan plan = bench_month(rows).plan(body_limit);

  emulator::EmulatorOptions options;
  options.api_keys = {kApiKey};
  options.max_body_bytes = body_limit;
  emulator::Emulator emulator(options);
  if (!emulator.start("127.0.0.1", 0)) {
    state.SkipWithError("the emulator did not start");
    return;
  }
  send::AnycostSettings settings;
  settings.base_url = emulator.base_url();
  settings.api_key = kApiKey;
  settings.keep_alive = state.range(2) != 0;
  const std::unique_ptr<send::Destination> destination = send::make_anycost_destination(settings);
  send::SchedulerOptions scheduler;
  scheduler.parallel_connections = kConnections;

  std::uint64_t round = 0;
  std::uint64_t requests = 0;
  std::uint64_t rows_sent = 0;
  for (auto _ : state) {
    // New connection ids every round: the same keys would only be replayed.
    std::vector<send::SendJob> jobs;
    for (int c = 0; c < kConnections; ++c)
      jobs.push_back(
          {"bench-" + std::to_string(round) + "-" + std::to_string(c), *destination, {plan}});
    ++round;
    const std::uint64_t served_before = emulator.requests_served();
    const std::vector<send::ConnectionResult> results = send::run_send_jobs(jobs, scheduler);
    for (const send::ConnectionResult& result : results)
      if (!result.all_synced()) {
        state.SkipWithError(("not synced: " + result.months.at(0).error).c_str());
        return;
      }
    requests += emulator.requests_served() - served_before;
    rows_sent += rows * kConnections;
  }
  state.counters["requests/s"] =
      benchmark::Counter(static_cast<double>(requests), benchmark::Counter::kIsRate);
  state.counters["rows/s"] =
      benchmark::Counter(static_cast<double>(rows_sent), benchmark::Counter::kIsRate);
  state.counters["chunks"] = static_cast<double>(plan.chunks.size());
}

// Many small requests (request rate), with and without keep-alive, then fewer large ones (row
// rate).
BENCHMARK(BM_TwentyConnectionsPushAMonth)
    ->Args({2'000, 8'000, 1})
    ->Args({2'000, 8'000, 0})
    ->Args({20'000, 500'000, 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(2.0);

} // namespace
