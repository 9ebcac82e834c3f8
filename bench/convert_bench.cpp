// The custom plugin end to end, as `billdrop convert` runs it: the real billdrop_custom.so loaded
// by the real loader reads a generated vendor CSV (plain and gzip), the host validates every row
// and writes month snapshots. Reports source bytes/s and rows/s.
#include "cbf/validation_report.hpp"
#include "ingest/convert.hpp"
#include "source/plugin_loader.hpp"

#include <billdrop/byte_source.hpp>

#include <benchmark/benchmark.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

namespace fs = std::filesystem;

namespace {

constexpr int kRows = 200'000;

struct Fixture {
  fs::path dir;
  fs::path csv;
  fs::path gzip;
  std::size_t csv_bytes = 0;
};

// Hourly usage for one month across 12 columns, some quoted, with tags.
const Fixture& fixture() {
  static const Fixture f = [] {
    Fixture out;
    out.dir = fs::temp_directory_path() / "billdrop_convert_bench";
    fs::create_directories(out.dir);
    out.csv = out.dir / "usage.csv";
    std::mt19937 rng(42);
    std::string text = "Usage Hour,Account,Project,Service,Region,SKU,Description,Quantity,Unit,"
                       "Cost,tag_team,tag_env\n";
    const char* services[] = {"GPU", "Storage", "Network", "Support"};
    const char* regions[] = {"us-east-1", "eu-west-2", "ap-south-1"};
    char line[512];
    for (int i = 0; i < kRows; ++i) {
      const int hour = i % (30 * 24);
      std::snprintf(line, sizeof line,
                    "2026-09-%02dT%02d:00:00Z,acct-%03u,proj-%04u,%s,%s,SKU-%05u,\"Instance %u, "
                    "on demand\",%u.%03u,Hrs,%u.%08u,team-%u,prod\n",
                    hour / 24 + 1, hour % 24, rng() % 50, rng() % 2000, services[rng() % 4],
                    regions[rng() % 3], rng() % 10000, rng() % 100, rng() % 100, rng() % 1000,
                    rng() % 50, rng() % 100000000, rng() % 20);
      text += line;
    }
    std::ofstream(out.csv, std::ios::binary) << text;
    out.csv_bytes = text.size();
    out.gzip = out.dir / "usage.csv.gz";
    std::ofstream(out.gzip, std::ios::binary) << billdrop::gzip_compress(text);
    return out;
  }();
  return f;
}

void convert(benchmark::State& state, const fs::path& file, bool pipeline) {
  const Fixture& f = fixture();
  auto located = billdrop::source::PluginLocator({BILLDROP_BENCH_PLUGIN_DIR}).find("custom");
  if (!located) {
    state.SkipWithError(located.error().message().c_str());
    return;
  }
  auto plugin = billdrop::source::load_plugin(*located);
  if (!plugin) {
    state.SkipWithError(plugin.error().message().c_str());
    return;
  }
  billdrop::ConfigValues config{
      {"path", file.string()},
      {"tag_prefix", std::string("tag_")},
      {"columns", billdrop::StringMap{{"time/usage_start", "{Usage Hour}"},
                                      {"cost/cost", "{Cost}"},
                                      {"resource/account", "{Account}"},
                                      {"resource/service", "{Service}"},
                                      {"resource/region", "{Region}"},
                                      {"resource/id", "{Project}/{SKU}"},
                                      {"lineitem/description", "{Description}"},
                                      {"usage/amount", "{Quantity}"},
                                      {"usage/units", "{Unit}"}}}};
  auto instance = billdrop::source::PluginInstance::create(*plugin, config);
  if (!instance) {
    state.SkipWithError(instance.error().message().c_str());
    return;
  }
  std::uint64_t rows = 0;
  for (auto _ : state) {
    billdrop::cbf::ValidationReport report;
    billdrop::ingest::ConvertOptions options;
    options.months = {billdrop::Month(2026, 9)};
    options.output_directory = f.dir / "out";
    options.pipeline = pipeline;
    auto result = billdrop::ingest::run_convert(**instance, options, report);
    if (!result || report.errors() != 0) {
      state.SkipWithError("conversion failed");
      return;
    }
    rows += result->rows_read;
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(f.csv_bytes) * state.iterations());
  state.counters["rows/s"] =
      benchmark::Counter(static_cast<double>(rows), benchmark::Counter::kIsRate);
}

// Arg(1): validation and snapshot building on the pipeline's worker thread (the default);
// Arg(0): everything on the plugin's thread.
void BM_CustomPluginConvertCsv(benchmark::State& state) {
  convert(state, fixture().csv, state.range(0) != 0);
}
void BM_CustomPluginConvertCsvGzip(benchmark::State& state) {
  convert(state, fixture().gzip, state.range(0) != 0);
}

BENCHMARK(BM_CustomPluginConvertCsv)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_CustomPluginConvertCsvGzip)
    ->Arg(0)
    ->Arg(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

} // namespace
