#include "billing/model.hpp"

#include <algorithm>

namespace billdrop::billing {

ApiError validation_error(std::string field, const std::string& problem) {
  return ApiError{400, "VALIDATION_ERROR", field + ": " + problem, field};
}
ApiError not_found(const std::string& message) {
  return ApiError{404, "NOT_FOUND", message, ""};
}
ApiError conflict(std::string field, const std::string& message) {
  return ApiError{409, "CONFLICT", message, std::move(field)};
}

void sort_groups(std::vector<GroupTotal>& groups, GroupBy by) {
  const bool by_time = by == GroupBy::day || by == GroupBy::week || by == GroupBy::month;
  std::sort(groups.begin(), groups.end(), [by_time](const GroupTotal& a, const GroupTotal& b) {
    if (by_time && a.key != b.key)
      return a.key < b.key;
    if (a.currency != b.currency)
      return a.currency < b.currency;
    if (a.amount != b.amount)
      return a.amount > b.amount;
    return a.key < b.key;
  });
}

} // namespace billdrop::billing
