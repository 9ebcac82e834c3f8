#include "billing/model.hpp"

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

} // namespace billdrop::billing
