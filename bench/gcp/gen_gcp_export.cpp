// Writes a synthetic Google Cloud billing export extract for the benchmark: NDJSON (as BigQuery
// extracts it) or flattened CSV with Python-style lists, `rows` records spread over July and
// August 2024, every fifth with a credit, every third with labels. Prints each month's exact Σ
// cost/cost (cost plus credits, summed in micro-units), for the benchmark to check the totals.
//
//   billdrop_gcp_bench_gen ndjson 1000000 /tmp/gcp_bench/export.ndjson
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s ndjson|csv ROWS OUTPUT\n", argv[0]);
    return 2;
  }
  const std::string_view format = argv[1];
  const long rows = std::atol(argv[2]);
  std::FILE* out = std::fopen(argv[3], "wb");
  if (out == nullptr || rows <= 0 || (format != "ndjson" && format != "csv")) {
    std::fprintf(stderr, "cannot write %s, or bad arguments\n", argv[3]);
    return 2;
  }
  static const char* const services[] = {"Compute Engine", "Cloud Storage", "BigQuery",
                                         "Cloud SQL"};
  static const char* const regions[] = {"us-central1", "europe-west1", "asia-east1", "global"};
  if (format == "csv")
    std::fputs("billing_account_id,service.id,service.description,sku.id,sku.description,"
               "usage_start_time,usage_end_time,project.id,project.name,project.labels,labels,"
               "system_labels,location.location,location.region,cost,currency,usage.amount,"
               "usage.unit,credits,invoice.month,cost_type,resource.name,resource.global_name\n",
               out);
  long long micros[2] = {0, 0}; // July, August
  for (long i = 0; i < rows; ++i) {
    const int month = i < rows / 2 ? 7 : 8;
    const long hour = (i * 7) % (31 * 24);
    const int day = static_cast<int>(hour / 24) + 1;
    const int h = static_cast<int>(hour % 24);
    const char* service = services[i % 4];
    const char* region = regions[(i / 4) % 4];
    const long cents = 1 + (i * 37) % 100000;
    char cost[32];
    std::snprintf(cost, sizeof cost, "%ld.%06ld", cents / 1000, (cents % 1000) * 1000 + i % 1000);
    const bool credit = i % 5 == 0;
    const bool labeled = i % 3 == 0;
    micros[month - 7] += (cents / 1000) * 1000000LL + (cents % 1000) * 1000 + i % 1000 -
                         (credit ? 12345 : 0); // the credit's -0.012345
    if (format == "ndjson") {
      std::fprintf(
          out,
          "{\"billing_account_id\":\"01ABCD-234567-89EF01\",\"service\":{\"id\":\"S-%ld\","
          "\"description\":\"%s\"},\"sku\":{\"id\":\"SKU-%ld\",\"description\":\"SKU number "
          "%ld\"},\"usage_start_time\":\"2024-%02d-%02d %02d:00:00 UTC\",\"usage_end_time\":"
          "\"2024-%02d-%02d %02d:59:59 UTC\",\"project\":{\"id\":\"project-%ld\",\"name\":"
          "\"Project %ld\",\"labels\":[{\"key\":\"team\",\"value\":\"t%ld\"}]},\"labels\":[%s],"
          "\"system_labels\":[],\"location\":{\"location\":\"%s\",\"region\":\"%s\"},\"cost\":%s,"
          "\"currency\":\"USD\",\"usage\":{\"amount\":%ld,\"unit\":\"seconds\"},\"credits\":[%s],"
          "\"invoice\":{\"month\":\"2024%02d\"},\"cost_type\":\"regular\",\"resource\":{\"name\":"
          "\"vm-%ld\",\"global_name\":\"//compute.googleapis.com/projects/p/instances/vm-%ld\"}}\n",
          i % 4, service, i % 500, i % 500, month, day, h, month, day, h, i % 50, i % 50, i % 7,
          labeled ? "{\"key\":\"env\",\"value\":\"prod\"},{\"key\":\"app\",\"value\":\"shop\"}"
                  : "",
          region, region, cost, 3600 - i % 60,
          credit ? "{\"name\":\"SUD\",\"amount\":-0.012345,\"full_name\":null,\"id\":\"sud\","
                   "\"type\":\"SUSTAINED_USAGE_DISCOUNT\"}"
                 : "",
          month, i % 10000, i % 10000);
    } else {
      std::fprintf(
          out,
          "01ABCD-234567-89EF01,S-%ld,%s,SKU-%ld,SKU number %ld,2024-%02d-%02d "
          "%02d:00:00+00:00,2024-%02d-%02d %02d:59:59+00:00,project-%ld,Project %ld,"
          "\"[{'key': 'team', 'value': 't%ld'}]\",\"[%s]\",[],%s,%s,%s,USD,%ld,seconds,"
          "\"[%s]\",2024%02d,regular,vm-%ld,//compute.googleapis.com/projects/p/"
          "instances/vm-%ld\n",
          i % 4, service, i % 500, i % 500, month, day, h, month, day, h, i % 50, i % 50, i % 7,
          labeled ? "{'key': 'env', 'value': 'prod'}, {'key': 'app', 'value': 'shop'}" : "", region,
          region, cost, 3600 - i % 60,
          credit ? "{'name': 'SUD', 'amount': -0.012345, 'full_name': None, 'id': "
                   "'sud', 'type': 'SUSTAINED_USAGE_DISCOUNT'}"
                 : "",
          month, i % 10000, i % 10000);
    }
  }
  for (int m = 0; m < 2; ++m) {
    const long long value = micros[m];
    const long long whole = value / 1000000;
    const long long fraction = (value < 0 ? -value : value) % 1000000;
    std::printf("cost 2024-%02d %s%lld.%06lld\n", m + 7, value < 0 && whole == 0 ? "-" : "", whole,
                fraction);
  }
  return std::fclose(out) == 0 ? 0 : 1;
}
