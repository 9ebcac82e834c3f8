// Writes a FOCUS 1.2 CSV file of N rows (default 1,000,000) for the focus plugin's benchmark:
// hourly usage in September 2024 over a few thousand resources, with NULLs written as `NULL`,
// timestamps without T/Z as in real exports, JSON tags on most rows, and a few tax, credit and
// purchase rows. Prints the BilledCost total (exact: costs are whole micro-dollars) on stdout.
//
//   billdrop_focus_bench_generate /tmp/focus_1m.csv [rows]
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

constexpr const char* header =
    "AvailabilityZone,BilledCost,BillingAccountId,BillingAccountName,BillingAccountType,"
    "BillingCurrency,BillingPeriodEnd,BillingPeriodStart,CapacityReservationId,"
    "CapacityReservationStatus,ChargeCategory,ChargeClass,ChargeDescription,ChargeFrequency,"
    "ChargePeriodEnd,ChargePeriodStart,CommitmentDiscountCategory,CommitmentDiscountId,"
    "CommitmentDiscountName,CommitmentDiscountQuantity,CommitmentDiscountStatus,"
    "CommitmentDiscountType,CommitmentDiscountUnit,ConsumedQuantity,ConsumedUnit,ContractedCost,"
    "ContractedUnitPrice,EffectiveCost,InvoiceId,InvoiceIssuerName,ListCost,ListUnitPrice,"
    "PricingCategory,PricingCurrency,PricingCurrencyContractedUnitPrice,"
    "PricingCurrencyEffectiveCost,PricingCurrencyListUnitPrice,PricingQuantity,PricingUnit,"
    "ProviderName,PublisherName,RegionId,RegionName,ResourceId,ResourceName,ResourceType,"
    "ServiceCategory,ServiceName,ServiceSubcategory,SkuId,SkuMeter,SkuPriceDetails,SkuPriceId,"
    "SubAccountId,SubAccountName,SubAccountType,Tags,x_Discounts\n";

const char* const regions[] = {"us-east-1", "us-west-2", "eu-central-1", "ap-south-1", "global"};
const char* const services[] = {"Amazon Elastic Compute Cloud", "Amazon Simple Storage Service",
                                "Amazon Relational Database Service", "AWS Lambda"};
const char* const categories[] = {"Compute", "Storage", "Databases", "Compute"};
const char* const teams[] = {"web", "data", "platform", "ml", "search"};

// Micro-dollars as a decimal string with six places ("-1.000250").
void append_micros(std::string& out, std::int64_t micros) {
  char text[32];
  const std::int64_t magnitude = micros < 0 ? -micros : micros;
  std::snprintf(text, sizeof text, "%s%" PRId64 ".%06" PRId64, micros < 0 ? "-" : "",
                magnitude / 1000000, magnitude % 1000000);
  out += text;
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s <out.csv> [rows]\n", argv[0]);
    return 2;
  }
  const std::int64_t rows = argc > 2 ? std::strtoll(argv[2], nullptr, 10) : 1000000;
  std::FILE* out = std::fopen(argv[1], "wb");
  if (out == nullptr) {
    std::perror(argv[1]);
    return 1;
  }
  std::fputs(header, out);
  std::string line;
  std::int64_t total = 0;
  std::uint64_t state = 42;
  const auto next = [&state] {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return state >> 33;
  };
  for (std::int64_t i = 0; i < rows; ++i) {
    line.clear();
    const std::uint64_t r = next();
    const int hour = static_cast<int>(i * 720 / (rows == 0 ? 1 : rows)); // 30 days of hours
    const int day = hour / 24 + 1, hh = hour % 24;
    const int service = static_cast<int>(r % 4);
    const int resource = static_cast<int>(r % 5000);
    const char* category = "Usage";
    std::int64_t micros = static_cast<std::int64_t>(r % 2000000); // up to $2
    bool commitment = false;
    if (i % 10007 == 0)
      category = "Tax";
    else if (i % 10009 == 0) {
      category = "Credit";
      micros = -micros;
    } else if (i % 100003 == 0) {
      category = "Purchase";
      commitment = true;
    }
    total += micros;
    char start[32], end[32];
    std::snprintf(start, sizeof start, "2024-09-%02d %02d:00:00", day, hh);
    if (hh != 23)
      std::snprintf(end, sizeof end, "2024-09-%02d %02d:00:00", day, hh + 1);
    else if (day != 30)
      std::snprintf(end, sizeof end, "2024-09-%02d 00:00:00", day + 1);
    else
      std::snprintf(end, sizeof end, "2024-10-01 00:00:00");

    line += "NULL,";
    append_micros(line, micros);
    line += ",\"123456789012\",\"Payer\",NULL,\"USD\",\"2024-10-01 00:00:00\",\"2024-09-01 "
            "00:00:00\",NULL,NULL,\"";
    line += category;
    line += "\",NULL,\"$0.0116 per On Demand Linux t3.micro Instance Hour\",\"Usage-Based\",\"";
    line += end;
    line += "\",\"";
    line += start;
    line += "\",";
    line += commitment ? "\"Spend\",\"arn:aws:savingsplans::123456789012:savingsplan/sp-1\","
                         "\"sp-1\",NULL,NULL,\"Savings Plan\",NULL,"
                       : "NULL,NULL,NULL,NULL,NULL,NULL,NULL,";
    line += std::to_string(r % 100) + ".5,\"Hrs\",";
    append_micros(line, micros);
    line += ",0.0116,";
    append_micros(line, micros);
    line += ",\"INV-2024-09\",\"Amazon Web Services, Inc.\",";
    append_micros(line, micros);
    line += ",0.0116,\"Standard\",NULL,NULL,NULL,NULL,";
    line += std::to_string(r % 100) + ".5,\"Hours\",\"AWS\",\"Amazon Web Services, Inc.\",\"";
    line += regions[r % 5];
    line += "\",NULL,";
    if (r % 7 == 0)
      line += "NULL"; // no resource: tagged ones get a synthetic id
    else
      line += "\"arn:aws:ec2:us-east-1:123456789012:instance/i-" + std::to_string(resource) + "\"";
    line += ",NULL,NULL,\"";
    line += categories[service];
    line += "\",\"";
    line += services[service];
    line += "\",NULL,\"SKU";
    line += std::to_string(service);
    line += "\",NULL,NULL,NULL,\"";
    line += std::to_string(100000000000ULL + r % 20);
    line += "\",NULL,NULL,";
    if (r % 5 == 0)
      line += "NULL";
    else {
      line += "\"{\"\"team\"\": \"\"";
      line += teams[r % 5];
      line += "\"\", \"\"env\"\": \"\"prod\"\", \"\"Cost Center\"\": \"\"";
      line += std::to_string(r % 50);
      line += "\"\"}\"";
    }
    line += ",NULL\n";
    std::fwrite(line.data(), 1, line.size(), out);
  }
  if (std::fclose(out) != 0) {
    std::perror(argv[1]);
    return 1;
  }
  std::string text;
  append_micros(text, total);
  std::printf("%" PRId64 " rows, BilledCost total %s\n", rows, text.c_str());
  return 0;
}
