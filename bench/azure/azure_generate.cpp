// Writes a synthetic Azure EA cost export (the `Cost` + BOM header variant) for benchmarks:
//   billdrop_azure_generate <out.csv> <rows> [actual|amortized] [months]
// Rows cycle through subscriptions, meters, locations, tags, and a reservation purchase every
// 1000 rows; the amortized kind writes the same rows with covered usage priced and purchases at
// 0, so the two files join row for row. Money is written as fixed decimal text.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

constexpr const char* header =
    "\xEF\xBB\xBF"
    "SubscriptionId,SubscriptionName,Date,MeterCategory,MeterSubCategory,MeterId,MeterName,"
    "Quantity,EffectivePrice,Cost,BillingCurrency,ResourceLocation,ResourceId,Tags,UnitOfMeasure,"
    "ChargeType,PricingModel,ReservationId,benefitId,ProductName\n";

constexpr const char* categories[][2] = {{"Virtual Machines", "Dv3 Series"},
                                         {"Storage", "Tiered Block Blob"},
                                         {"Bandwidth", "Rtn Preference: MGN"},
                                         {"SQL Database", "General Purpose"}};
constexpr const char* locations[] = {"EastUS", "westeurope", "US East 2", "CanadaCentral",
                                     "global"};

} // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s <out.csv> <rows> [actual|amortized] [months]\n", argv[0]);
    return 2;
  }
  const long rows = std::atol(argv[2]);
  const bool amortized = argc > 3 && std::string_view(argv[3]) == "amortized";
  const int months = argc > 4 ? std::atoi(argv[4]) : 1;
  std::FILE* out = std::fopen(argv[1], "wb");
  if (out == nullptr) {
    std::perror(argv[1]);
    return 1;
  }
  static char buffer[1 << 20];
  std::setvbuf(out, buffer, _IOFBF, sizeof buffer);
  std::fputs(header, out);
  for (long i = 0; i < rows; ++i) {
    const int month = 1 + static_cast<int>(i % months);
    const int day = 1 + static_cast<int>((i / 7) % 28);
    const long sub = i % 17;
    const auto& category = categories[i % 4];
    const char* location = locations[i % 5];
    const long resource = i % 5003;
    const bool purchase = i % 1000 == 999;
    const bool covered = !purchase && i % 10 == 3;
    // Cost in hundred-thousandths, written as fixed text.
    const long units = purchase ? 10000000 : 1 + (i * 7919) % 500000;
    const long cost = purchase ? (amortized ? 0 : units) : (covered && !amortized ? 0 : units);
    std::fprintf(
        out,
        "sub-%02ld,Subscription %ld,%02d/%02d/2024,%s,%s,meter-%ld,Meter %ld,%ld.%03ld,0.1,"
        "%ld.%05ld,USD,%s,/subscriptions/sub-%02ld/resourceGroups/rg-%ld/providers/"
        "Microsoft.Compute/virtualMachines/vm-%ld,",
        sub, sub, month, day, category[0], category[1], i % 211, i % 211, 1 + i % 24, i % 1000,
        cost / 100000, cost % 100000, location, sub, resource % 31, resource);
    if (i % 3 == 0)
      std::fprintf(out, "\"\"\"env\"\": \"\"prod\"\",\"\"team\"\": \"\"t%ld\"\"\",", i % 13);
    else if (i % 3 == 1)
      std::fprintf(out, "\"{\"\"cost center\"\":\"\"cc-%ld\"\"}\",", i % 7);
    else
      std::fputs(",", out);
    if (purchase)
      std::fputs(",Purchase,Reservation,res-1,/providers/Microsoft.Capacity/reservationOrders/o/"
                 "reservations/res-1,Reserved VM Instance\n",
                 out);
    else if (covered)
      std::fputs("1 Hour,Usage,Reservation,res-1,/providers/Microsoft.Capacity/reservationOrders/o/"
                 "reservations/res-1,Virtual Machines Dv3\n",
                 out);
    else
      std::fputs("1 Hour,Usage,OnDemand,,,Virtual Machines Dv3\n", out);
  }
  return std::fclose(out) == 0 ? 0 : 1;
}
