// The Parquet reader on a CUR 2.0 export: `generate` writes N rows of a CUR 2.0 Data Export
// (snake_case columns, costs as DOUBLE, dates as TIMESTAMP, resource_tags / product /
// cost_category as map<string,string> and discount as map<string,double>) with the test writer,
// SNAPPY and dictionary pages as AWS writes them, and prints the exact sum of
// line_item_unblended_cost as the CSV would hold it; `read` streams the file the way a plugin
// maps it (every column's text, every cost into a Decimal, every tag visited), prints rows/s and
// the total, which must equal the generator's.
//
//   parquet_cur2_bench generate <file> [rows=1000000]
//   parquet_cur2_bench read <file>
#include <billdrop/decimal.hpp>
#include <billdrop/parquet.hpp>
#include <support/parquet_writer.hpp>

#include <sys/resource.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

using namespace billdrop;
using namespace billdrop::testing;

namespace {

struct Random {
  std::uint64_t state = 0x9E3779B97F4A7C15ull;
  std::uint64_t next() {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  }
  std::uint64_t below(std::uint64_t n) { return next() % n; }
};

const char* const regions[] = {"us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2", "global"};
const char* const services[] = {"AmazonEC2", "AmazonS3",         "AmazonRDS",
                                "AWSLambda", "AmazonCloudWatch", "AmazonDynamoDB"};
const char* const teams[] = {"payments", "search", "platform", "data", "web", "ml"};

int generate(const char* path, long rows) {
  std::vector<PqColumn> columns = {
      {"identity_line_item_id", PqKind::string},
      {"identity_time_interval", PqKind::string},
      {"bill_bill_type", PqKind::string},
      {"bill_billing_entity", PqKind::string},
      {"bill_billing_period_start_date", PqKind::timestamp_us},
      {"bill_billing_period_end_date", PqKind::timestamp_us},
      {"bill_invoice_id", PqKind::string},
      {"bill_payer_account_id", PqKind::string},
      {"line_item_usage_account_id", PqKind::string},
      {"line_item_line_item_type", PqKind::string},
      {"line_item_usage_start_date", PqKind::timestamp_us},
      {"line_item_usage_end_date", PqKind::timestamp_us},
      {"line_item_product_code", PqKind::string},
      {"line_item_usage_type", PqKind::string},
      {"line_item_operation", PqKind::string},
      {"line_item_availability_zone", PqKind::string},
      {"line_item_resource_id", PqKind::string},
      {"line_item_usage_amount", PqKind::float64},
      {"line_item_currency_code", PqKind::string},
      {"line_item_unblended_rate", PqKind::string},
      {"line_item_unblended_cost", PqKind::float64},
      {"line_item_blended_cost", PqKind::float64},
      {"line_item_net_unblended_cost", PqKind::float64},
      {"line_item_line_item_description", PqKind::string},
      {"pricing_public_on_demand_cost", PqKind::float64},
      {"pricing_unit", PqKind::string},
      {"product_region_code", PqKind::string},
      {"product_servicecode", PqKind::string},
      {"product", PqKind::map_string_string},
      {"resource_tags", PqKind::map_string_string},
      {"cost_category", PqKind::map_string_string},
      {"discount", PqKind::map_string_double},
  };
  PqOptions options;
  options.codec = 1;
  options.rows_per_page = 20000;
  options.rows_per_group = 250000;
  ParquetWriter writer(columns, options);
  Random random;
  Decimal total;
  char buf[64];
  for (long i = 0; i < rows; ++i) {
    const char* service = services[random.below(6)];
    const char* region = regions[random.below(5)];
    const int day = 1 + static_cast<int>(random.below(31));
    const int hour = static_cast<int>(random.below(24));
    std::snprintf(buf, sizeof buf, "2024-08-%02dT%02d:00:00Z", day, hour);
    const std::string start = buf;
    std::snprintf(buf, sizeof buf, "2024-08-%02dT%02d:59:59Z", day, hour);
    const std::string end = buf;
    // Costs as a double prints them: shortest round-trip text.
    const double cost = static_cast<double>(random.below(100000000)) / 1e7;
    const double usage = static_cast<double>(random.below(1000000)) / 1e3;
    auto text = [&](double v) {
      char b[32];
      auto r = std::to_chars(b, b + 32, v);
      return std::string(b, r.ptr);
    };
    const std::string cost_text = text(cost);
    total += Decimal::from_string(cost_text);
    PqCell product, tags, categories, discount;
    product.entries = {{"region", region}, {"servicename", service}};
    if (random.below(3) != 0)
      tags.entries = {{"user:team", teams[random.below(6)]},
                      {"user:env", random.below(2) ? "prod" : "dev"}};
    categories.entries = {{"cost_center", std::to_string(random.below(40))}};
    if (random.below(10) == 0)
      discount.entries = {{"bundled_discount", text(-cost / 10)}};
    writer.add_row({"li-" + std::to_string(i),
                    start + "/" + end,
                    "Anniversary",
                    "AWS",
                    "2024-08-01T00:00:00Z",
                    "2024-09-01T00:00:00Z",
                    "",
                    "123456789012",
                    "2109876543" + std::to_string(10 + random.below(90)),
                    "Usage",
                    start,
                    end,
                    service,
                    std::string(region) + "-BoxUsage:t3.micro",
                    "RunInstances",
                    std::string(region) + "a",
                    "i-0abc" + std::to_string(random.below(5000)),
                    text(usage),
                    "USD",
                    "0.0104",
                    cost_text,
                    cost_text,
                    cost_text,
                    "$0.0104 per On Demand Linux t3.micro Instance Hour",
                    cost_text,
                    "Hrs",
                    region,
                    service,
                    product,
                    tags,
                    categories,
                    discount});
  }
  const std::string bytes = writer.finish();
  std::ofstream(path, std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  std::printf("file %s\nbytes %zu\nrows %ld\nunblended_total %s\n", path, bytes.size(), rows,
              total.to_string().c_str());
  return 0;
}

int read(const char* path) {
  const auto begin = std::chrono::steady_clock::now();
  auto opened = ParquetReader::open(std::filesystem::path(path));
  if (!opened.ok()) {
    std::fprintf(stderr, "%s\n", opened.error().message().c_str());
    return 1;
  }
  ParquetReader& reader = **opened;
  const std::size_t cost_column = reader.find("line_item_unblended_cost");
  std::vector<bool> is_cost(reader.columns().size());
  for (std::size_t i = 0; i < is_cost.size(); ++i)
    is_cost[i] = reader.columns()[i].name.find("cost") != std::string::npos &&
                 reader.columns()[i].shape == ParquetShape::value;
  ParquetRow row;
  Decimal total;
  std::uint64_t rows = 0, bytes = 0, tags = 0;
  for (;;) {
    auto more = reader.next(row);
    if (!more.ok()) {
      std::fprintf(stderr, "%s\n", more.error().message().c_str());
      return 1;
    }
    if (!*more)
      break;
    ++rows;
    for (std::size_t c = 0; c < row.size(); ++c) {
      bytes += row[c].size();
      for (const ParquetEntry& e : row.entries(c)) {
        bytes += e.key.size() + e.value.size();
        ++tags;
      }
      if (is_cost[c] && !row.is_null(c)) {
        const Decimal d = Decimal::from_string(row[c]);
        if (c == cost_column)
          total += d;
      }
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  // CPU time too: on a shared machine the wall clock measures the neighbours.
  const double cpu = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                     static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  std::printf("cpu_seconds %.3f\nrows_per_cpu_second %.0f\n", cpu, static_cast<double>(rows) / cpu);
  std::printf("rows %llu\nseconds %.3f\nrows_per_second %.0f\npeak_rss_mb %.1f\ntext_bytes %llu\n"
              "map_entries %llu\nunblended_total %s\n",
              static_cast<unsigned long long>(rows), seconds, static_cast<double>(rows) / seconds,
              static_cast<double>(usage.ru_maxrss) / 1024.0, static_cast<unsigned long long>(bytes),
              static_cast<unsigned long long>(tags), total.to_string().c_str());
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  if (argc >= 3 && std::string(argv[1]) == "generate")
    return generate(argv[2], argc > 3 ? std::atol(argv[3]) : 1000000);
  if (argc >= 3 && std::string(argv[1]) == "read")
    return read(argv[2]);
  std::fprintf(stderr, "usage: %s generate <file> [rows] | read <file>\n", argv[0]);
  return 2;
}
