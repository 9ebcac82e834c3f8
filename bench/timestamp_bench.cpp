// Timestamp normalisation on the row path: a mix of the forms billing exports write, parsed and
// written back in the CBF form. Reports source bytes/s and rows/s.
#include <billdrop/timestamp.hpp>

#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

namespace {

constexpr int kRows = 100'000;

const std::vector<std::string>& timestamp_cells() {
  static const std::vector<std::string> cells = [] {
    const char* shapes[] = {"2023-11-05T04:00:00Z",
                            "2023-11-05T04:00:00.000Z",
                            "2018-06-20 01:00:00",
                            "2020-11-09 23:00:00+00:00",
                            "2025-09-16 00:00:00.000000 UTC",
                            "9/2/2023",
                            "08/16/2024 5:00:00 PM",
                            "20180801T000000.000Z",
                            "2024-01-31T23:30:00-05:00",
                            "2024-08-16"};
    std::mt19937 rng(11);
    std::vector<std::string> out;
    out.reserve(kRows);
    for (int i = 0; i < kRows; ++i)
      out.emplace_back(shapes[rng() % std::size(shapes)]);
    return out;
  }();
  return cells;
}

std::int64_t total_bytes(const std::vector<std::string>& cells) {
  std::int64_t bytes = 0;
  for (const auto& cell : cells)
    bytes += static_cast<std::int64_t>(cell.size());
  return bytes;
}

void BM_TimestampNormalize(benchmark::State& state) {
  const auto& cells = timestamp_cells();
  std::string out;
  for (auto _ : state) {
    out.clear();
    for (const auto& cell : cells) {
      billdrop::append_iso(out, billdrop::parse_timestamp(cell).value());
      out.push_back(',');
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * total_bytes(cells));
  state.counters["rows/s"] = benchmark::Counter(static_cast<double>(state.iterations()) * kRows,
                                                benchmark::Counter::kIsRate);
}
BENCHMARK(BM_TimestampNormalize);

void BM_TimestampParseHour(benchmark::State& state) {
  const auto& cells = timestamp_cells();
  for (auto _ : state) {
    std::int64_t hours = 0;
    for (const auto& cell : cells)
      hours += billdrop::parse_timestamp(cell).value().hour_start();
    benchmark::DoNotOptimize(hours);
  }
  state.SetBytesProcessed(state.iterations() * total_bytes(cells));
  state.counters["rows/s"] = benchmark::Counter(static_cast<double>(state.iterations()) * kRows,
                                                benchmark::Counter::kIsRate);
}
BENCHMARK(BM_TimestampParseHour);

void BM_TimestampParseWithFormat(benchmark::State& state) {
  std::vector<std::string> cells;
  cells.reserve(kRows);
  for (int i = 0; i < kRows; ++i)
    cells.push_back("Aug " + std::to_string(1 + i % 28) + " 2024 " + std::to_string(1 + i % 12) +
                    ":30:00 " + (i % 2 ? "PM" : "AM"));
  for (auto _ : state) {
    std::int64_t seconds = 0;
    for (const auto& cell : cells)
      seconds += billdrop::parse_timestamp(cell, "%b %d %Y %I:%M:%S %p").value().seconds;
    benchmark::DoNotOptimize(seconds);
  }
  state.SetBytesProcessed(state.iterations() * total_bytes(cells));
  state.counters["rows/s"] = benchmark::Counter(static_cast<double>(state.iterations()) * kRows,
                                                benchmark::Counter::kIsRate);
}
BENCHMARK(BM_TimestampParseWithFormat);

} // namespace
