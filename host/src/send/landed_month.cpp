#include "send/landed_month.hpp"

#include <billdrop/timestamp.hpp>

namespace billdrop::send {

Status LandedMonth::add_row(std::string_view usage_start, std::string_view cost_text) {
  std::string hour;
  if (parse_canonical_timestamp(usage_start)) {
    hour = usage_start.substr(0, 13); // "YYYY-MM-DDTHH:MM:SSZ" starts with its hour's key
  } else {
    Result<UtcTime> time = parse_timestamp(usage_start);
    if (!time)
      return data_error("time/usage_start: " + time.error().message());
    hour = cbf::hour_key(*time);
  }
  Result<Decimal> value = Decimal::parse(cost_text);
  if (!value)
    return data_error("cost/cost: " + value.error().message());

  // Both sums first, so that an overflow leaves the totals as they were.
  const auto found = hours.find(hour);
  Decimal month_cost;
  Decimal hour_cost;
  try {
    month_cost = cost + *value;
    hour_cost = found == hours.end() ? *value : found->second.cost + *value;
  } catch (const DecimalOverflow&) {
    return data_error("the cost/cost total needs more than " + std::to_string(Decimal::max_digits) +
                      " digits; billdrop does not round money");
  }
  cbf::HourTotals& totals = found == hours.end() ? hours[std::move(hour)] : found->second;
  ++totals.rows;
  totals.cost = hour_cost;
  ++rows;
  cost = month_cost;
  return {};
}

} // namespace billdrop::send
