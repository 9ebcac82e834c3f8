#include "cbf/drop_body.hpp"

namespace billdrop::cbf {

std::string_view to_string(DropOperation operation) noexcept {
  switch (operation) {
  case DropOperation::replace_drop:
    return "replace_drop";
  case DropOperation::replace_hourly:
    return "replace_hourly";
  case DropOperation::sum:
    return "sum";
  }
  return "replace_drop";
}

std::optional<DropOperation> parse_drop_operation(std::string_view text) noexcept {
  for (DropOperation op :
       {DropOperation::replace_drop, DropOperation::replace_hourly, DropOperation::sum})
    if (text == to_string(op))
      return op;
  return std::nullopt;
}

DropBodyWriter::DropBodyWriter(Month month, DropOperation operation) {
  reset(month, operation);
}

void DropBodyWriter::reset(Month month, DropOperation operation) {
  body_.clear();
  body_ += "{\"month\":\"";
  body_ += month.to_string();
  body_ += "\",\"operation\":\"";
  body_ += to_string(operation);
  body_ += "\",\"data\":[";
  rows_ = 0;
}

void DropBodyWriter::add_row(std::string_view row_json) {
  if (rows_ > 0)
    body_ += ',';
  body_ += row_json;
  ++rows_;
}

std::size_t DropBodyWriter::size_with(std::string_view row_json) const noexcept {
  return size() + (rows_ > 0 ? 1 : 0) + row_json.size();
}

std::string DropBodyWriter::finish() const {
  std::string body;
  body.reserve(size());
  body += body_;
  body += kClosing;
  return body;
}

std::string DropBodyWriter::take() {
  body_ += kClosing;
  rows_ = 0;
  return std::move(body_);
}

std::size_t DropBodyWriter::empty_size(Month month, DropOperation operation) noexcept {
  // {"month":"YYYY-MM","operation":"<op>","data":[]}
  (void)month;
  return std::string_view("{\"month\":\"\",\"operation\":\"\",\"data\":[]}").size() + 7 +
         to_string(operation).size();
}

std::size_t DropBodyWriter::smallest_with_a_row() noexcept {
  constexpr std::string_view smallest_row =
      R"({"time/usage_start":"2024-08-01T00:00:00Z","cost/cost":"0"})";
  return empty_size(Month(), DropOperation::replace_hourly) + smallest_row.size();
}

} // namespace billdrop::cbf
