#pragma once
// Reads an AnyCost Stream request body ({"month","operation","data":[rows]}) the way the emulator's
// send and validate endpoints both need it: every row through cbf::RowValidator (exactly as
// billdrop validates), rows checked against the body's month, and the accepted rows ready to store.

#include "cbf/drop_body.hpp"

#include <billdrop/result.hpp>
#include <billdrop/timestamp.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace billdrop::emulator {

struct StoredRow {
  std::string hour; // "YYYY-MM-DDTHH" of time/usage_start
  std::string cost; // cost/cost, plain decimal text
  std::string json; // canonical CBF JSON (RowValidator's output)
};

struct DropBody {
  std::optional<Month> month; // from "month", else the first valid row's month
  cbf::DropOperation operation = cbf::DropOperation::replace_drop;
  std::vector<StoredRow> rows; // the valid rows, in body order
  // Problems with the month, the operation or the rows, each a sentence starting with where it
  // is ("data[3]: cost/cost: ..."); at most max_errors of them, error_count counts them all.
  std::vector<std::string> errors;
  std::size_t error_count = 0;

  bool valid() const noexcept { return error_count == 0; }
};

// An error only when the body is not a JSON object with a "data" array (the API answers 400);
// every other problem goes to DropBody::errors.
Result<DropBody> read_drop_body(std::string_view body, std::size_t max_errors);

} // namespace billdrop::emulator
