#include "cbf/hour_totals.hpp"

namespace billdrop::cbf {

std::string hour_key(UtcTime time) {
  constexpr std::size_t kHourKeyLength = 13; // "YYYY-MM-DDTHH" of "YYYY-MM-DDTHH:MM:SSZ"
  return format_iso(UtcTime{time.hour_start()}).substr(0, kHourKeyLength);
}

} // namespace billdrop::cbf
