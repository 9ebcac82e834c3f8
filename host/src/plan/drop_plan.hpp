#pragma once
// The drop planner: a pure function from a month snapshot to the requests that send it.
//
// Follows shared/reference/anycost-stream.md, "How a month larger than one body must be sent":
// rows (already sorted by hour in the snapshot) are cut into chunks on whole-hour boundaries, each
// serialised body <= the body limit measured on the exact bytes that will be sent; chunk 1 is
// replace_drop, later chunks replace_hourly; only a single hour larger than one body is split, its
// first part replace_hourly and the rest sum (a "split hour": an ambiguous failure on any part
// restarts the hour from its first part). Month caps (rows, bytes) are checked before anything is
// sent: over a cap the plan fails with a report of how far over it is, or, when the connection
// allows it, rows identical except for their amounts in the same hour are rolled up into one row
// with exact sums until it fits, and the plan says what was merged.

#include "cbf/drop_body.hpp"
#include "plan/rollup.hpp"
#include "snapshot/month_snapshot.hpp"

#include <billdrop/decimal.hpp>
#include <billdrop/result.hpp>
#include <billdrop/timestamp.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace billdrop::plan {

struct PlanLimits {
  std::size_t max_body_bytes = 5'000'000;          // one request body, uncompressed JSON
  std::uint64_t max_rows_per_month = 1'000'000;    // per connection
  std::uint64_t max_bytes_per_month = 400'000'000; // per connection, sum of body bytes
};

enum class CapPolicy { fail, rollup };

struct Chunk {
  std::uint32_t index = 0; // 0-based position in the plan (sent in this order)
  cbf::DropOperation operation = cbf::DropOperation::replace_drop;
  std::string first_hour;      // "YYYY-MM-DDTHH" of its first row
  std::string last_hour;       // of its last row
  std::uint64_t first_row = 0; // 0-based position in the (possibly rolled-up) snapshot's order
  std::uint64_t row_count = 0;
  std::uint64_t body_bytes = 0; // exact size of the serialised body
  Decimal cost;                 // exact sum of cost/cost of its rows
  // For parts of a split hour: index of the hour's first part (its replace_hourly); else nullopt.
  std::optional<std::uint32_t> split_hour_start;
};

struct CapUse {
  std::uint64_t rows = 0;
  std::uint64_t rows_limit = 0;
  std::uint64_t bytes = 0;
  std::uint64_t bytes_limit = 0;
  bool over() const noexcept { return rows > rows_limit || bytes > bytes_limit; }
};

struct DropPlan {
  Month month;
  std::filesystem::path snapshot_file; // the rows the chunks refer to (rolled-up copy if rolled up)
  std::string snapshot_digest;
  // Identifies the plan: SHA-256 hex of month, snapshot digest, limits and every chunk's
  // (first_row, row_count, operation).
  std::string digest;
  std::uint64_t rows = 0;
  Decimal cost;
  CapUse caps;
  std::optional<RollupReport> rollup;
  std::vector<Chunk> chunks;

  std::string to_json() const;
};

// Plans a month. Reads the snapshot once, sequentially, and sizes bodies from line lengths (no body
// is built). On a cap violation with CapPolicy::fail the error is kind data and says, e.g.,
// "2026-08: 1,250,000 rows is 250,000 (25.0%) over the 1,000,000-row month cap; nothing was sent.
// Allow rollup for this connection (…) or send fewer rows". With CapPolicy::rollup, the rolled-up
// snapshot is written beside the original as <YYYY-MM>.rollup.ndjson and planned instead; still
// over the cap after rollup is an error with the rollup's figures.
// A month with no rows plans one replace_drop chunk with an empty data array (it empties the
// month); its snapshot file may then be absent.
// Other errors (kind data unless noted): a row larger than one body (names its line and size); a
// line that is not a snapshot row, outside the month or out of hour order; a file whose row count
// or cost/cost total differs from the summary's; max_body_bytes too small for any row (config).
Result<DropPlan> plan_month(const snapshot::MonthSummary& snapshot, const PlanLimits& limits,
                            CapPolicy policy);

// The exact body of chunk `index`, read from the plan's snapshot (random access through the
// snapshot's index at Chunk::first_row, so a split hour can be restarted from its first part),
// serialised with DropBodyWriter. Its size is Chunk::body_bytes; a snapshot changed since planning
// (rows, hours or sizes differ) is a data error asking to plan the month again.
Result<std::string> chunk_body(const DropPlan& plan, std::uint32_t index);

} // namespace billdrop::plan
