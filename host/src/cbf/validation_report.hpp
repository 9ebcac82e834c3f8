#pragma once
// Collects row issues across a run: every error is counted, the first `max_kept` are kept with
// row number, origin, column and rule; prints as text or JSON.

#include "cbf/row_validator.hpp"

#include <cstdint>
#include <map>
#include <ostream>
#include <string>
#include <vector>

namespace billdrop::cbf {

struct RowProblem {
  std::uint64_t row = 0; // 1-based position in the input stream
  std::string origin;    // e.g. "usage.csv:118" (from the plugin) or "rows.ndjson:7"
  RowIssue issue;
};

class ValidationReport {
public:
  explicit ValidationReport(std::size_t max_kept = 1000) : max_kept_(max_kept) {}

  void add(std::uint64_t row, std::string_view origin, const RowIssue& issue);
  // A record a plugin could not turn into a row counts as an error, under the column and rule the
  // plugin named (ABI 1.2) or else as rule "rejected".
  void add_reject(std::string_view origin, std::string_view reason, std::string_view column = {},
                  std::string_view rule = {});
  void count_row(bool valid) { valid ? ++valid_rows_ : ++invalid_rows_; }

  std::uint64_t errors() const noexcept { return errors_; }
  std::uint64_t warnings() const noexcept { return warnings_; }
  std::uint64_t valid_rows() const noexcept { return valid_rows_; }
  std::uint64_t invalid_rows() const noexcept { return invalid_rows_; }
  std::uint64_t rejects() const noexcept { return rejects_; }
  const std::vector<RowProblem>& kept() const noexcept { return kept_; }
  // Error counts by rule id.
  const std::map<std::string, std::uint64_t>& by_rule() const noexcept { return by_rule_; }

  // "rows.ndjson:7: row 7: cost/cost: [decimal] expected a decimal number, got "12,50"" per line.
  void write_text(std::ostream& out) const;
  // {"valid_rows":..,"invalid_rows":..,"errors":..,"warnings":..,"by_rule":{..},"problems":[..]}
  void write_json(std::ostream& out) const;

private:
  std::size_t max_kept_;
  std::uint64_t errors_ = 0;
  std::uint64_t warnings_ = 0;
  std::uint64_t valid_rows_ = 0;
  std::uint64_t invalid_rows_ = 0;
  std::uint64_t rejects_ = 0;
  std::vector<RowProblem> kept_;
  std::map<std::string, std::uint64_t> by_rule_;
};

} // namespace billdrop::cbf
