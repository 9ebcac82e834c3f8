// Decimal on the row path: parse and sum a month of cost cells, and write totals back as text.
// Reports source bytes/s and rows/s.
#include <billdrop/decimal.hpp>

#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

namespace {

constexpr int kRows = 100'000;

// A realistic mix of cost cells: tiny usage costs with trailing zeros, credits, exponent forms from
// Python-style exports, and ordinary amounts.
const std::vector<std::string>& cost_cells() {
  static const std::vector<std::string> cells = [] {
    const char* shapes[] = {"0.0000123400",  "-12.5",  "5e-06", "1234.56", "0.0416666667",
                            "-0.0000010000", "1.2E+3", "0",     "17.3",    "0.000182"};
    std::mt19937 rng(7);
    std::vector<std::string> out;
    out.reserve(kRows);
    for (int i = 0; i < kRows; ++i) {
      // Vary the digits so the branch predictor cannot learn one string.
      std::string cell = shapes[rng() % std::size(shapes)];
      for (char& c : cell) {
        if (c >= '1' && c <= '9')
          c = static_cast<char>('1' + rng() % 9);
      }
      out.push_back(std::move(cell));
    }
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

void BM_DecimalParseSum(benchmark::State& state) {
  const auto& cells = cost_cells();
  for (auto _ : state) {
    billdrop::Decimal sum;
    for (const auto& cell : cells)
      sum += billdrop::Decimal::parse(cell).value();
    benchmark::DoNotOptimize(sum);
  }
  state.SetBytesProcessed(state.iterations() * total_bytes(cells));
  state.counters["rows/s"] = benchmark::Counter(static_cast<double>(state.iterations()) * kRows,
                                                benchmark::Counter::kIsRate);
}
BENCHMARK(BM_DecimalParseSum);

void BM_DecimalParse(benchmark::State& state) {
  const auto& cells = cost_cells();
  for (auto _ : state) {
    for (const auto& cell : cells) {
      auto parsed = billdrop::Decimal::parse(cell);
      benchmark::DoNotOptimize(parsed);
    }
  }
  state.SetBytesProcessed(state.iterations() * total_bytes(cells));
  state.counters["rows/s"] = benchmark::Counter(static_cast<double>(state.iterations()) * kRows,
                                                benchmark::Counter::kIsRate);
}
BENCHMARK(BM_DecimalParse);

void BM_DecimalAppendTo(benchmark::State& state) {
  std::vector<billdrop::Decimal> values;
  for (const auto& cell : cost_cells())
    values.push_back(billdrop::Decimal::from_string(cell));
  // A few wide totals exercise the 128-bit digit path.
  for (int i = 0; i < kRows / 100; ++i)
    values[static_cast<std::size_t>(i) * 100] =
        billdrop::Decimal::from_string("123456789012345678901234.56789");
  std::string out;
  std::int64_t bytes = 0;
  for (auto _ : state) {
    out.clear();
    for (const auto& value : values) {
      value.append_to(out);
      out.push_back(',');
    }
    bytes += static_cast<std::int64_t>(out.size());
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(bytes);
  state.counters["rows/s"] = benchmark::Counter(static_cast<double>(state.iterations()) * kRows,
                                                benchmark::Counter::kIsRate);
}
BENCHMARK(BM_DecimalAppendTo);

} // namespace
