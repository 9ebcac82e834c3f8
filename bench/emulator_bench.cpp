// The AnyCost emulator over loopback: replace_drop bodies of 1,000 canonical CBF rows (~300 KB),
// sent by 1, 2 or 4 client threads, each on its own connection (the API takes one request at a
// time per connection), into an in-memory or a WAL file store. Reports requests/s and body bytes/s.
#include "cbf/drop_body_reader.hpp"
#include "emulator/emulator.hpp"
#include "emulator/emulator_store.hpp"

// PkgConfig::HTTPLIB supplies the feature macros cpp-httplib's shared library was built with.
#include <httplib.h>

#include <benchmark/benchmark.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <random>
#include <string>

#include <unistd.h>

namespace {

constexpr int kRowsPerBody = 1000;

// One month's worth of hourly rows for a GPU vendor, in billdrop's canonical column order.
std::string drop_body(int seed) {
  std::mt19937 rng(static_cast<unsigned>(seed));
  const char* services[] = {"GPU", "Storage", "Network"};
  const char* regions[] = {"us-east-1", "eu-west-2", "ap-south-1"};
  std::string body = R"({"month":"2024-08","operation":"replace_drop","data":[)";
  char row[512];
  for (int i = 0; i < kRowsPerBody; ++i) {
    const int hour = i % (31 * 24);
    std::snprintf(row, sizeof row,
                  R"(%s{"time/usage_start":"2024-08-%02dT%02d:00:00Z","lineitem/type":"Usage",)"
                  R"("cost/cost":"%u.%06u","cost/discounted_cost":"%u.%06u","usage/amount":"%u",)"
                  R"("usage/units":"gpu-hours","resource/id":"gpu/node-%04u","resource/account":)"
                  R"("acct-%02u","resource/service":"%s","resource/region":"%s",)"
                  R"("resource/tag:team":"ml-%u"})",
                  i > 0 ? "," : "", 1 + hour / 24, hour % 24, static_cast<unsigned>(rng() % 50),
                  static_cast<unsigned>(rng() % 1000000), static_cast<unsigned>(rng() % 50),
                  static_cast<unsigned>(rng() % 1000000), static_cast<unsigned>(rng() % 64),
                  static_cast<unsigned>(rng() % 10000), static_cast<unsigned>(rng() % 20),
                  services[rng() % 3], regions[rng() % 3], static_cast<unsigned>(rng() % 8));
    body += row;
  }
  body += "]}";
  return body;
}

std::unique_ptr<billdrop::emulator::Emulator> g_emulator;
std::filesystem::path g_store_dir;

void start_emulator(const benchmark::State& state) {
  billdrop::emulator::EmulatorOptions options;
  if (state.range(0) == 1) {
    g_store_dir = std::filesystem::temp_directory_path() /
                  ("billdrop_emulator_bench_" + std::to_string(::getpid()));
    std::filesystem::create_directories(g_store_dir);
    options.store = g_store_dir / "emulator.sqlite";
  }
  g_emulator = std::make_unique<billdrop::emulator::Emulator>(options);
  if (!g_emulator->start("127.0.0.1", 0).ok())
    g_emulator.reset();
}

void stop_emulator(const benchmark::State&) {
  g_emulator.reset();
  if (!g_store_dir.empty())
    std::filesystem::remove_all(g_store_dir);
  g_store_dir.clear();
}

// range(0): 0 = in-memory store, 1 = WAL file store.
void BM_EmulatorSendDrop(benchmark::State& state) {
  if (!g_emulator) {
    state.SkipWithError("the emulator did not start");
    return;
  }
  const std::string body = drop_body(state.thread_index());
  const std::string path = "/v2/connections/billing/anycost/bench-" +
                           std::to_string(state.thread_index()) + "/billing_drops";
  httplib::Client client("127.0.0.1", g_emulator->port());
  client.set_keep_alive(true);
  client.set_read_timeout(60, 0);
  const httplib::Headers headers{{"Authorization", "bench-key"}};
  for (auto _ : state) {
    const httplib::Result result = client.Post(path, headers, body, "application/json");
    if (!result || result->status != 200) {
      state.SkipWithError(result ? ("status " + std::to_string(result->status)).c_str()
                                 : "transport error");
      break;
    }
  }
  state.counters["requests/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["bytes/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * static_cast<double>(body.size()),
                         benchmark::Counter::kIsRate, benchmark::Counter::kIs1024);
  state.counters["rows/s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * kRowsPerBody, benchmark::Counter::kIsRate);
}

BENCHMARK(BM_EmulatorSendDrop)
    ->ArgName("file_store")
    ->Arg(0)
    ->Arg(1)
    ->Threads(1)
    ->Threads(2)
    ->Threads(4)
    ->Setup(start_emulator)
    ->Teardown(stop_emulator)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// The two halves of a send without HTTP: reading and validating the body, then storing it.
void BM_EmulatorReadDropBody(benchmark::State& state) {
  const std::string body = drop_body(0);
  for (auto _ : state) {
    auto drop = billdrop::emulator::read_drop_body(body, 10);
    if (!drop.ok() || !drop->valid()) {
      state.SkipWithError("the body is not valid");
      break;
    }
    benchmark::DoNotOptimize(drop->rows.data());
  }
  state.counters["rows/s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * kRowsPerBody, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_EmulatorReadDropBody)->Unit(benchmark::kMillisecond);

void BM_EmulatorStoreReplaceDrop(benchmark::State& state) {
  auto drop = billdrop::emulator::read_drop_body(drop_body(0), 10);
  auto store = billdrop::emulator::EmulatorStore::open(":memory:");
  if (!drop.ok() || !store.ok()) {
    state.SkipWithError("setup failed");
    return;
  }
  for (auto _ : state) {
    auto applied = (*store)->apply("", "bench", *drop->month, drop->operation, drop->rows,
                                   {1'000'000, 400'000'000});
    if (!applied.ok() || !applied->applied) {
      state.SkipWithError("apply failed");
      break;
    }
  }
  state.counters["rows/s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * kRowsPerBody, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_EmulatorStoreReplaceDrop)->Unit(benchmark::kMillisecond);

} // namespace
