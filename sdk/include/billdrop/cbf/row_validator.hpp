#pragma once
// Validates one CBF row against the reference rules and writes its canonical JSON.
//
// Rules (shared/reference/anycost-stream.md): time/usage_start and cost/cost required; timestamps
// normalised to UTC ISO; decimals exact and plain; lineitem/type one of the nine values; tag keys
// in the allowed charset; resource/id required when a tag is present; resource/region never
// "global"; every key and value valid UTF-8; no unknown or repeated columns. Deprecated
// action/account and action/region are rewritten to resource/* (a warning, not an error).
//
// The canonical JSON puts time/usage_start first, then the other columns in kColumns order, then
// tags sorted by key; blank values are omitted (the API treats blank as absent).
//
// There is one implementation: the host validates every row a plugin writes with it, and the SDK's
// test harness (billdrop/testing/harness.hpp) checks a plugin's rows with it in the plugin's own
// tests, so that what the host would reject fails there first.

#include <billdrop/cbf/columns.hpp>

#include <billdrop/decimal.hpp>
#include <billdrop/timestamp.hpp>

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace billdrop::cbf {

struct FieldView {
  std::string_view key;
  std::string_view value;
};

enum class Severity { error, warning };

struct RowIssue {
  Severity severity = Severity::error;
  std::string column;  // "" for a rule about the whole row
  std::string rule;    // stable id: required, timestamp, decimal, lineitem_type, tag_key,
                       // resource_id_with_tags, region_global, utf8, unknown_column,
                       // duplicate_column, deprecated_column
  std::string message; // a sentence naming the value and what was expected
};

struct NormalizedRow {
  std::string json;        // canonical JSON object
  std::string usage_start; // normalised time/usage_start
  UtcTime time;
  Month month;
  Decimal cost;
  // lineitem/type, "Usage" when absent (for totals by type): one of kLineItemTypes, whose static
  // text it views.
  std::string_view lineitem_type = kLineItemTypes[0];
};

// The plain_decimal problem of a decimal column written in exponent notation ("5e-06"), or
// nothing. The validator accepts such input and writes plain digits; CBF about to be sent as it
// is (drop bodies, files checked by `validate`) must already hold plain decimals.
std::optional<RowIssue> exponent_decimal_issue(std::string_view column, std::string_view value);

// The iso_timestamp problem of a time column whose value billdrop can read but that is not ISO
// 8601 UTC as the API takes it (YYYY-MM-DDTHH:MM:SS, optional fractions of a second, then Z or
// +00:00): "03/05/2026", a bare date, no zone, another zone. The validator reads such input and
// writes the API's form; CBF about to be sent as it is (files checked by `validate`) must already
// hold it, or the API may read another time. Nothing for a value that is not a time at all (the
// validator's `timestamp` problem) or is blank.
std::optional<RowIssue> iso_timestamp_issue(std::string_view column, std::string_view value);

class RowValidator {
public:
  // Returns true and fills `out` when the row has no error (warnings may still be appended).
  // Otherwise appends one issue per problem found and leaves `out` unspecified. Reuses out's
  // buffers, so passing the same NormalizedRow for every row avoids allocations.
  bool normalize(std::span<const FieldView> fields, NormalizedRow& out,
                 std::vector<RowIssue>& issues) const;
  // normalize() without its speculative first pass (which takes values as plain JSON text until
  // one is not): what the tests hold the speculative pass to.
  bool normalize_exactly(std::span<const FieldView> fields, NormalizedRow& out,
                         std::vector<RowIssue>& issues) const;
};

} // namespace billdrop::cbf
