// The SDK's CSV reader on a generated ~20 MB, 30-column vendor export held in memory: plain, gzip
// (decode and parse), and gzip decode alone for comparison. Reports CSV bytes/s and rows/s.
#include <billdrop/byte_source.hpp>
#include <billdrop/csv.hpp>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <string_view>

namespace {

constexpr std::size_t kTargetBytes = 20 * 1000 * 1000;

struct CsvFixture {
  std::string text;
  std::string gzip;
  std::int64_t rows = 0; // data rows plus the header
};

// 30 columns in the spirit of a cloud bill: ids, timestamps, names, amounts; the description
// and tags columns are quoted (with embedded commas and doubled quotes), the rest plain.
const CsvFixture& fixture() {
  static const CsvFixture f = [] {
    CsvFixture out;
    out.text = "line_item_id,usage_start,usage_end,account_id,account_name,project,service,"
               "service_family,region,zone,sku,description,usage_type,operation,usage_quantity,"
               "usage_unit,pricing_quantity,pricing_unit,list_cost,cost,currency,discount,"
               "credits,invoice_id,billing_period,resource_id,tags,charge_type,publisher,"
               "reservation_id\n";
    const char* services[] = {"Compute", "Storage", "Network", "Database", "Support"};
    const char* regions[] = {"us-east-1", "eu-west-2", "ap-south-1", "sa-east-1"};
    std::mt19937 engine(42);
    auto rng = [&engine] { return static_cast<unsigned>(engine()); };
    char line[1024];
    while (out.text.size() < kTargetBytes) {
      const unsigned day = rng() % 30 + 1;
      const unsigned hour = rng() % 24;
      const char* service = services[rng() % 5];
      const char* region = regions[rng() % 4];
      const int n = std::snprintf(
          line, sizeof line,
          "li-%010u,2026-09-%02uT%02u:00:00Z,2026-09-%02uT%02u:59:59Z,%012u,acct %u,proj-%04u,"
          "%s,%s Family,%s,%sa,SKU-%05u,\"%s usage, on demand \"\"standard\"\"\",Usage:%s,"
          "Run%u,%u.%06u,Hrs,%u.%03u,Hrs,%u.%010u,%u.%010u,USD,-%u.%04u,0,INV-%07u,2026-09,"
          "arn:res:%s:%08x,\"{\"\"team\"\":\"\"t%u\"\",\"\"env\"\":\"\"prod\"\"}\",Usage,"
          "Vendor,\n",
          rng(), day, hour, day, hour, rng() % 1000000000u, rng() % 100, rng() % 5000, service,
          service, region, region, rng() % 100000, service, service, rng() % 100, rng() % 1000,
          rng() % 1000000, rng() % 1000, rng() % 1000, rng() % 100, rng() % 1000000000u,
          rng() % 100, rng() % 1000000000u, rng() % 10, rng() % 10000, rng() % 10000000, region,
          rng(), rng() % 40);
      out.text.append(line, static_cast<std::size_t>(n));
      ++out.rows;
    }
    ++out.rows; // the header
    out.gzip = billdrop::gzip_compress(out.text);
    return out;
  }();
  return f;
}

// Reads a string the benchmark owns, without copying it per iteration as memory_source would.
class ViewSource final : public billdrop::ByteSource {
public:
  explicit ViewSource(std::string_view data) : data_(data) {}
  billdrop::Result<std::size_t> read(char* buffer, std::size_t capacity) override {
    const std::size_t n = std::min(capacity, data_.size() - offset_);
    std::memcpy(buffer, data_.data() + offset_, n);
    offset_ += n;
    return n;
  }
  const std::string& name() const override { return name_; }
  std::uint64_t position() const override { return offset_; }
  std::uint64_t total() const override { return data_.size(); }

private:
  std::string_view data_;
  std::string name_ = "bench.csv";
  std::size_t offset_ = 0;
};

void parse_all(benchmark::State& state, std::unique_ptr<billdrop::ByteSource> source,
               std::int64_t expected_rows) {
  billdrop::CsvReader reader(std::move(source));
  billdrop::CsvRecord record;
  std::size_t field_bytes = 0;
  for (;;) {
    auto more = reader.next(record);
    if (!more) {
      state.SkipWithError(more.error().message().c_str());
      return;
    }
    if (!*more)
      break;
    if (record.size() != 30) {
      state.SkipWithError("a record without 30 fields");
      return;
    }
    field_bytes += record[11].size() + record[26].size();
  }
  benchmark::DoNotOptimize(field_bytes);
  if (static_cast<std::int64_t>(reader.records()) != expected_rows)
    state.SkipWithError("wrong record count");
}

void report(benchmark::State& state, const CsvFixture& f) {
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(f.text.size()));
  state.counters["rows/s"] = benchmark::Counter(static_cast<double>(state.iterations() * f.rows),
                                                benchmark::Counter::kIsRate);
  state.counters["MB"] = static_cast<double>(f.text.size()) / 1e6;
}

void BM_CsvParsePlain(benchmark::State& state) {
  const CsvFixture& f = fixture();
  for (auto _ : state)
    parse_all(state, std::make_unique<ViewSource>(f.text), f.rows);
  report(state, f);
}
BENCHMARK(BM_CsvParsePlain)->Unit(benchmark::kMillisecond);

void BM_CsvParseGzip(benchmark::State& state) {
  const CsvFixture& f = fixture();
  for (auto _ : state)
    parse_all(state, billdrop::gzip_source(std::make_unique<ViewSource>(f.gzip)), f.rows);
  report(state, f);
}
BENCHMARK(BM_CsvParseGzip)->Unit(benchmark::kMillisecond);

// Decoding alone (counting line ends), to show how much of the gzip case is zlib.
void BM_GzipInflateOnly(benchmark::State& state) {
  const CsvFixture& f = fixture();
  std::string block(1 << 20, '\0');
  for (auto _ : state) {
    auto source = billdrop::gzip_source(std::make_unique<ViewSource>(f.gzip));
    std::int64_t lines = 0;
    for (;;) {
      auto n = source->read(block.data(), block.size());
      if (!n) {
        state.SkipWithError(n.error().message().c_str());
        break;
      }
      if (*n == 0)
        break;
      lines += std::count(block.data(), block.data() + *n, '\n');
    }
    if (lines != f.rows)
      state.SkipWithError("wrong line count");
  }
  report(state, f);
}
BENCHMARK(BM_GzipInflateOnly)->Unit(benchmark::kMillisecond);

} // namespace
