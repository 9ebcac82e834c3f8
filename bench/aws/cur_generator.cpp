// Writes a synthetic legacy CUR month for the aws plugin's benchmark: a report tree
// <out>/<report>/20240801-20240901/<assembly>/<report>-1.csv.gz with its manifests, N lines of
// about 130 columns in the usual mix (lineItem/*, product/*, pricing/*, reservation/*,
// savingsPlan/*, resourceTags/user:*). Prints the exact sum of lineItem/UnblendedCost so the run
// can be checked against the converted month.
//
//   aws_cur_generator <out dir> [rows=1000000]
#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

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

// A cost in units of 1e-10, written as a plain decimal.
void append_amount(std::string& out, std::int64_t units) {
  if (units < 0) {
    out += '-';
    units = -units;
  }
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%lld.%010lld", static_cast<long long>(units / 10000000000),
                static_cast<long long>(units % 10000000000));
  out += buffer;
}

const char* const regions[] = {"us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2", "global"};
const char* const services[] = {"AmazonEC2", "AmazonS3",         "AmazonRDS",
                                "AWSLambda", "AmazonCloudWatch", "AmazonDynamoDB"};
const char* const teams[] = {"payments", "search", "platform", "data", "web", "ml"};

} // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s <out dir> [rows]\n", argv[0]);
    return 2;
  }
  const std::filesystem::path out = argv[1];
  const long rows = argc > 2 ? std::atol(argv[2]) : 1000000;
  const std::string report = "bench-report";
  const std::string assembly = "6f1e2d3c-0000-4000-8000-benchmark0001";
  const std::filesystem::path month_dir = out / report / "20240801-20240901";
  std::filesystem::create_directories(month_dir / assembly);
  const std::string key =
      "prefix/" + report + "/20240801-20240901/" + assembly + "/" + report + "-1.csv.gz";
  const std::string manifest = "{\"assemblyId\":\"" + assembly + "\",\"reportName\":\"" + report +
                               "\",\"compression\":\"GZIP\",\"contentType\":\"text/csv\","
                               "\"billingPeriod\":{\"start\":\"20240801T000000.000Z\",\"end\":"
                               "\"20240901T000000.000Z\"},\"reportKeys\":[\"" +
                               key + "\"]}\n";
  std::ofstream(month_dir / (report + "-Manifest.json")) << manifest;
  std::ofstream(month_dir / assembly / (report + "-Manifest.json")) << manifest;

  std::vector<std::string> header = {"identity/LineItemId",
                                     "identity/TimeInterval",
                                     "bill/InvoiceId",
                                     "bill/BillingEntity",
                                     "bill/BillType",
                                     "bill/PayerAccountId",
                                     "bill/BillingPeriodStartDate",
                                     "bill/BillingPeriodEndDate",
                                     "lineItem/UsageAccountId",
                                     "lineItem/LineItemType",
                                     "lineItem/UsageStartDate",
                                     "lineItem/UsageEndDate",
                                     "lineItem/ProductCode",
                                     "lineItem/UsageType",
                                     "lineItem/Operation",
                                     "lineItem/AvailabilityZone",
                                     "lineItem/ResourceId",
                                     "lineItem/UsageAmount",
                                     "lineItem/NormalizationFactor",
                                     "lineItem/NormalizedUsageAmount",
                                     "lineItem/CurrencyCode",
                                     "lineItem/UnblendedRate",
                                     "lineItem/UnblendedCost",
                                     "lineItem/BlendedRate",
                                     "lineItem/BlendedCost",
                                     "lineItem/LineItemDescription",
                                     "lineItem/TaxType",
                                     "lineItem/LegalEntity"};
  const int product_columns = 62;
  for (int i = 0; i < product_columns; ++i)
    header.push_back("product/attribute" + std::to_string(i));
  for (const char* name :
       {"product/ProductName", "product/productFamily", "product/region", "product/regionCode",
        "product/servicecode", "product/sku", "product/usagetype", "product/operation"})
    header.emplace_back(name);
  for (const char* name :
       {"pricing/RateCode", "pricing/RateId", "pricing/currency", "pricing/publicOnDemandCost",
        "pricing/publicOnDemandRate", "pricing/term", "pricing/unit"})
    header.emplace_back(name);
  for (const char* name :
       {"reservation/AmortizedUpfrontCostForUsage",
        "reservation/AmortizedUpfrontFeeForBillingPeriod", "reservation/EffectiveCost",
        "reservation/EndTime", "reservation/ModificationStatus",
        "reservation/NormalizedUnitsPerReservation", "reservation/NumberOfReservations",
        "reservation/RecurringFeeForUsage", "reservation/ReservationARN", "reservation/StartTime",
        "reservation/SubscriptionId", "reservation/TotalReservedNormalizedUnits",
        "reservation/TotalReservedUnits", "reservation/UnitsPerReservation",
        "reservation/UnusedAmortizedUpfrontFeeForBillingPeriod",
        "reservation/UnusedNormalizedUnitQuantity", "reservation/UnusedQuantity",
        "reservation/UnusedRecurringFee", "reservation/UpfrontValue"})
    header.emplace_back(name);
  for (const char* name : {"savingsPlan/TotalCommitmentToDate", "savingsPlan/SavingsPlanARN",
                           "savingsPlan/SavingsPlanRate", "savingsPlan/UsedCommitment",
                           "savingsPlan/SavingsPlanEffectiveCost",
                           "savingsPlan/AmortizedUpfrontCommitmentForBillingPeriod",
                           "savingsPlan/RecurringCommitmentForBillingPeriod"})
    header.emplace_back(name);
  for (const char* name : {"resourceTags/user:Team", "resourceTags/user:Environment",
                           "resourceTags/user:Cost Center", "resourceTags/aws:createdBy"})
    header.emplace_back(name);

  const std::filesystem::path data = month_dir / assembly / (report + "-1.csv.gz");
  gzFile gz = gzopen(data.c_str(), "wb6");
  if (gz == nullptr) {
    std::fprintf(stderr, "cannot write %s\n", data.c_str());
    return 1;
  }
  std::string line;
  for (std::size_t i = 0; i < header.size(); ++i)
    line += (i ? "," : "") + header[i];
  line += '\n';
  gzwrite(gz, line.data(), static_cast<unsigned>(line.size()));

  Random random;
  __extension__ __int128 total = 0;
  std::string buffer;
  char text[256];
  for (long row = 0; row < rows; ++row) {
    line.clear();
    const std::uint64_t r = random.below(100);
    const char* type = r < 80   ? "Usage"
                       : r < 85 ? "DiscountedUsage"
                       : r < 90 ? "SavingsPlanCoveredUsage"
                       : r < 92 ? "SavingsPlanNegation"
                       : r < 93 ? "SavingsPlanRecurringFee"
                       : r < 94 ? "RIFee"
                       : r < 96 ? "Tax"
                       : r < 97 ? "Credit"
                       : r < 98 ? "Fee"
                       : r < 99 ? "EdpDiscount"
                                : "Refund";
    const bool negative = r >= 90 && r < 92 || r == 96 || r == 98 || r == 99;
    const int hour = static_cast<int>(row % (31 * 24));
    const int day = hour / 24 + 1;
    const int hh = hour % 24;
    const char* service = services[random.below(6)];
    const char* region = regions[random.below(5)];
    const std::int64_t cost =
        static_cast<std::int64_t>(random.below(500000) * 10000) * (negative ? -1 : 1);
    total += cost;
    const std::uint64_t account = 100000000000ull + random.below(20);
    std::snprintf(text, sizeof text,
                  "%012llx,2024-08-%02dT%02d:00:00Z/2024-08-%02dT%02d:59:59Z,%llu,AWS,"
                  "Anniversary,123456789012,2024-08-01T00:00:00Z,2024-09-01T00:00:00Z,%llu,%s,",
                  static_cast<unsigned long long>(random.next() & 0xffffffffffffull), day, hh, day,
                  hh, static_cast<unsigned long long>(900000 + random.below(9)),
                  static_cast<unsigned long long>(account), type);
    line += text;
    std::snprintf(text, sizeof text,
                  "2024-08-%02dT%02d:00:00Z,2024-08-%02dT%02d:59:59Z,%s,USE1-BoxUsage:m5.large,"
                  "RunInstances,%sa,arn:aws:ec2:%s:%llu:instance/i-%012llx,",
                  day, hh, day, hh, service, region, region,
                  static_cast<unsigned long long>(account),
                  static_cast<unsigned long long>(random.below(20000)));
    line += text;
    append_amount(line, static_cast<std::int64_t>(random.below(1000) * 10000000));
    line += ",1,";
    append_amount(line, static_cast<std::int64_t>(random.below(1000) * 10000000));
    line += ",USD,0.0960000000,";
    append_amount(line, cost);
    line += ",0.0960000000,";
    append_amount(line, cost);
    line += ",\"$0.096 per On Demand Linux m5.large Instance Hour\",,\"Amazon Web Services, "
            "Inc.\",";
    for (int i = 0; i < product_columns; ++i) {
      // Most product attributes are blank on a given line, as in real reports.
      if (random.below(16) == 0) {
        std::snprintf(text, sizeof text, "value-%d-%llu", i,
                      static_cast<unsigned long long>(random.below(16)));
        line += text;
      }
      line += ',';
    }
    std::snprintf(text, sizeof text,
                  "Amazon Elastic Compute Cloud,Compute Instance,%s,%s,%s,SKU%06llu,"
                  "USE1-BoxUsage:m5.large,RunInstances,",
                  region, region, service, static_cast<unsigned long long>(random.below(5000)));
    line += text;
    line += "RC123.456.789,123456789,USD,";
    append_amount(line, cost < 0 ? -cost : cost);
    line += ",0.0960000000,OnDemand,Hrs,";
    // reservation/*: filled for DiscountedUsage and RIFee lines.
    const bool ri = r >= 80 && r < 85 || r == 93;
    for (int i = 0; i < 19; ++i) {
      if (ri && (i == 2 || i == 14 || i == 17)) {
        append_amount(line, static_cast<std::int64_t>(random.below(10000000000ull)));
      } else if (ri && i == 8) {
        line += "arn:aws:ec2:us-east-1:123456789012:reserved-instances/abc";
      }
      line += ',';
    }
    // savingsPlan/*: filled for SavingsPlan lines.
    const bool sp = r >= 85 && r < 93;
    for (int i = 0; i < 7; ++i) {
      if (sp && (i == 0 || i == 3 || i == 4))
        append_amount(line, static_cast<std::int64_t>(random.below(10000000000ull)));
      else if (sp && i == 1)
        line += "arn:aws:savingsplans::123456789012:savingsplan/sp-1";
      line += ',';
    }
    line += teams[random.below(6)];
    line += random.below(2) ? ",production," : ",staging,";
    if (random.below(3) == 0) {
      std::snprintf(text, sizeof text, "CC-%03llu",
                    static_cast<unsigned long long>(random.below(100)));
      line += text;
    }
    line += ",";
    if (random.below(2))
      line += "IAMUser:AIDAEXAMPLE:ci";
    line += '\n';
    gzwrite(gz, line.data(), static_cast<unsigned>(line.size()));
  }
  gzclose(gz);

  // The total in units of 1e-10, printed as a decimal.
  std::string total_text;
  __extension__ unsigned __int128 magnitude = total < 0 ? -total : total;
  std::string digits;
  do {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(magnitude % 10)));
    magnitude /= 10;
  } while (magnitude != 0);
  while (digits.size() < 11)
    digits.insert(digits.begin(), '0');
  total_text = (total < 0 ? "-" : "") + digits.substr(0, digits.size() - 10) + "." +
               digits.substr(digits.size() - 10);
  std::printf("file %s\ncolumns %zu\nrows %ld\nunblended_total %s\n", data.c_str(), header.size(),
              rows, total_text.c_str());
  return 0;
}
