// The host's CBF core on realistic rows: RowValidator::normalize (validation plus canonical JSON)
// and SnapshotBuilder (partition, rows written once, hour index sorted and spilled, XXH3 digest)
// for 200k rows. Reports
// bytes/s of JSON produced and rows/s.
#include "cbf/row_validator.hpp"
#include "snapshot/month_snapshot.hpp"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using billdrop::cbf::FieldView;
using billdrop::cbf::NormalizedRow;

namespace {

constexpr int kFieldsPerRow = 15;
constexpr int kSnapshotRows = 200'000;

// Hourly GPU usage over one month: 15 fields, tags unsorted, a mix of timestamp and decimal forms
// as vendor exports write them.
struct RowSet {
  std::vector<std::string> text; // kFieldsPerRow values per row
  std::vector<std::vector<FieldView>> rows;
};

const RowSet& row_set(int count) {
  static std::vector<std::unique_ptr<RowSet>> cache;
  for (const auto& set : cache)
    if (static_cast<int>(set->rows.size()) == count)
      return *set;
  auto set = std::make_unique<RowSet>();
  static constexpr const char* keys[kFieldsPerRow] = {
      "time/usage_start",  "cost/cost",        "cost/discounted_cost",    "usage/amount",
      "usage/units",       "lineitem/type",    "lineitem/description",    "resource/id",
      "resource/account",  "resource/service", "resource/region",         "resource/usage_family",
      "resource/tag:team", "resource/tag:env", "resource/tag:cost-center"};
  const char* services[] = {"GPU", "Storage", "Network", "Support"};
  const char* regions[] = {"us-east-1", "eu-west-2", "ap-south-1"};
  const char* types[] = {"Usage", "Usage", "Usage", "Tax", "Credit"};
  std::mt19937 rng(42);
  char buffer[128];
  set->text.reserve(static_cast<std::size_t>(count) * kFieldsPerRow);
  for (int i = 0; i < count; ++i) {
    const int hour = static_cast<int>(rng() % (30 * 24));
    if (i % 3 == 0)
      std::snprintf(buffer, sizeof buffer, "2026-09-%02d %02d:00:00", hour / 24 + 1, hour % 24);
    else
      std::snprintf(buffer, sizeof buffer, "2026-09-%02dT%02d:00:00Z", hour / 24 + 1, hour % 24);
    set->text.emplace_back(buffer);
    std::snprintf(buffer, sizeof buffer, "%u.%08u", static_cast<unsigned>(rng() % 1000),
                  static_cast<unsigned>(rng() % 100000000));
    set->text.emplace_back(buffer);
    set->text.emplace_back(i % 7 == 0 ? "" : buffer);
    std::snprintf(buffer, sizeof buffer, "%ue-3", static_cast<unsigned>(rng() % 100000));
    set->text.emplace_back(buffer);
    set->text.emplace_back("Hrs");
    set->text.emplace_back(types[rng() % 5]);
    std::snprintf(buffer, sizeof buffer, "Instance %u, on demand \"a100\"",
                  static_cast<unsigned>(rng() % 10000));
    set->text.emplace_back(buffer);
    std::snprintf(buffer, sizeof buffer, "proj-%04u/SKU-%05u", static_cast<unsigned>(rng() % 2000),
                  static_cast<unsigned>(rng() % 10000));
    set->text.emplace_back(buffer);
    std::snprintf(buffer, sizeof buffer, "acct-%03u", static_cast<unsigned>(rng() % 50));
    set->text.emplace_back(buffer);
    set->text.emplace_back(services[rng() % 4]);
    set->text.emplace_back(regions[rng() % 3]);
    set->text.emplace_back("Compute");
    std::snprintf(buffer, sizeof buffer, "team-%u", static_cast<unsigned>(rng() % 20));
    set->text.emplace_back(buffer);
    set->text.emplace_back("prod");
    std::snprintf(buffer, sizeof buffer, "cc-%u", static_cast<unsigned>(rng() % 100));
    set->text.emplace_back(buffer);
  }
  for (int i = 0; i < count; ++i) {
    std::vector<FieldView> fields;
    for (int f = 0; f < kFieldsPerRow; ++f)
      fields.push_back({keys[f], set->text[static_cast<std::size_t>(i * kFieldsPerRow + f)]});
    set->rows.push_back(std::move(fields));
  }
  cache.push_back(std::move(set));
  return *cache.back();
}

void BM_NormalizeRow(benchmark::State& state) {
  const RowSet& set = row_set(10'000);
  const billdrop::cbf::RowValidator validator;
  NormalizedRow row;
  std::vector<billdrop::cbf::RowIssue> issues;
  std::uint64_t rows = 0;
  std::uint64_t json_bytes = 0;
  for (auto _ : state) {
    for (const auto& fields : set.rows) {
      issues.clear();
      if (!validator.normalize(fields, row, issues)) {
        state.SkipWithError(issues.front().message.c_str());
        return;
      }
      json_bytes += row.json.size();
      benchmark::DoNotOptimize(row.json.data());
    }
    rows += set.rows.size();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(json_bytes));
  state.counters["rows/s"] =
      benchmark::Counter(static_cast<double>(rows), benchmark::Counter::kIsRate);
}

// 200k normalised rows (about 90 MB of JSON) into month snapshots; the argument is the memory
// budget in MiB (the index holds 24 bytes a row, so 1 MiB makes it spill several times).
void BM_SnapshotBuild(benchmark::State& state) {
  static const std::vector<NormalizedRow> rows = [] {
    const RowSet& set = row_set(kSnapshotRows);
    billdrop::cbf::RowValidator validator;
    std::vector<NormalizedRow> out(set.rows.size());
    std::vector<billdrop::cbf::RowIssue> issues;
    for (std::size_t i = 0; i < set.rows.size(); ++i)
      (void)validator.normalize(set.rows[i], out[i], issues);
    return out;
  }();
  std::uint64_t json_bytes = 0;
  for (const NormalizedRow& row : rows)
    json_bytes += row.json.size();
  const fs::path dir = fs::temp_directory_path() / "billdrop_serialize_bench";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::size_t budget = static_cast<std::size_t>(state.range(0)) * 1024 * 1024;
  std::uint64_t runs = 0;
  for (auto _ : state) {
    billdrop::snapshot::SnapshotBuilder builder({dir, budget});
    for (const NormalizedRow& row : rows)
      builder.add(row);
    runs = builder.spilled_runs();
    auto summaries = builder.finish();
    if (!summaries) {
      state.SkipWithError(summaries.error().message().c_str());
      return;
    }
    benchmark::DoNotOptimize(summaries->data());
  }
  fs::remove_all(dir);
  state.SetBytesProcessed(static_cast<std::int64_t>(json_bytes) * state.iterations());
  state.counters["rows/s"] =
      benchmark::Counter(static_cast<double>(rows.size()) * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate);
  state.counters["spilled_runs"] = static_cast<double>(runs);
}

BENCHMARK(BM_NormalizeRow)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SnapshotBuild)->Arg(256)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();

} // namespace
