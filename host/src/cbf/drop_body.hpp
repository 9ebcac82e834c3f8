#pragma once
// Serialises AnyCost Stream request bodies:
//   {"month":"2026-08","operation":"replace_hourly","data":[<row>,<row>,…]}
// from canonical row JSON (snapshot lines), so the bytes measured by the planner are the bytes
// sent. size_with() answers "would one more row still fit?" without copying.

#include <billdrop/timestamp.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace billdrop::cbf {

enum class DropOperation { replace_drop, replace_hourly, sum };

std::string_view to_string(DropOperation operation) noexcept;
std::optional<DropOperation> parse_drop_operation(std::string_view text) noexcept;

class DropBodyWriter {
public:
  DropBodyWriter(Month month, DropOperation operation);

  // Appends one row (a canonical CBF JSON object, as produced by RowValidator).
  void add_row(std::string_view row_json);
  // Body size in bytes if `row_json` were added now, closing brackets included.
  std::size_t size_with(std::string_view row_json) const noexcept;
  // Current size of the finished body.
  std::size_t size() const noexcept { return body_.size() + kClosing.size(); }
  std::size_t rows() const noexcept { return rows_; }

  // Reserves room for a body of `bytes` (e.g. a planned chunk's size), so it grows only once.
  void reserve(std::size_t bytes) { body_.reserve(bytes); }

  // The complete body; the writer can be reused after reset().
  std::string finish() const;
  // The complete body, moved out without a copy; the writer must be reset() before reuse.
  std::string take();
  void reset(Month month, DropOperation operation);

  // Size of an empty body for this month and operation.
  static std::size_t empty_size(Month month, DropOperation operation) noexcept;
  // The smallest body that carries a row, 117 bytes: the longest envelope (replace_hourly)
  // around the smallest canonical row, {"time/usage_start":"2024-08-01T00:00:00Z","cost/cost":"0"}
  // (only the two required columns, a time always written in 20 characters, a one-digit cost).
  // A body limit below it cannot send anything.
  static std::size_t smallest_with_a_row() noexcept;

private:
  static constexpr std::string_view kClosing = "]}";
  std::string body_;
  std::size_t rows_ = 0;
};

} // namespace billdrop::cbf
