#pragma once
// The host side of a plugin read: validates and normalises every row the plugin sends, records
// every problem (rejects included) in a ValidationReport, and hands valid rows to a
// SnapshotBuilder (or only counts them, for `validate`).

#include "cbf/row_validator.hpp"
#include "cbf/validation_report.hpp"
#include "core/progress.hpp"
#include "snapshot/month_snapshot.hpp"
#include "source/plugin_loader.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace billdrop::ingest {

// What a reader found about a row before validation. Its errors make the row invalid; the
// validator's problems on a column it already reported are not repeated (a cost/cost that is a
// JSON number is one json_type problem, not also a missing required column).
struct RowContext {
  std::span<const cbf::RowIssue> decode_issues;
  std::optional<Month> body_month; // a drop body's month: the row must fall in it
};

struct MonthRowCounts {
  std::uint64_t valid = 0;
  std::uint64_t invalid =
      0; // rows of this month that failed, and records rejected in its read only
  // Records that could not be placed in a month (rejected in this month's read and in others'):
  // any of them may belong here, so the month is incomplete; each is counted once elsewhere.
  std::uint64_t unplaced = 0;
  Decimal cost; // exact sum of valid rows' cost/cost
};

class ValidatingReceiver final : public source::RowReceiver {
public:
  // `builder` may be null (validate only); `progress` may be null.
  ValidatingReceiver(cbf::ValidationReport& report, snapshot::SnapshotBuilder* builder,
                     core::Progress* progress)
      : report_(report), builder_(builder), progress_(progress) {}

  bool on_rows(std::span<const bd_row> rows) override;
  void on_reject(std::string_view origin, std::string_view reason) override;
  void on_reject_field(std::string_view origin, std::string_view column, std::string_view rule,
                       std::string_view reason) override;
  void on_progress(std::uint64_t done, std::uint64_t total) override;
  void on_log(bd_log_level level, std::string_view message) override;
  void on_note(std::string_view key, std::uint64_t count) override;

  // The month whose read is in progress: a rejected record, or an invalid row whose time cannot
  // be read, then counts against that month (it may well belong to it), so that the month is not
  // sent as if it were whole. A rejected record met in one month's read only is an invalid row of
  // that month; met again in another month's read, it could not be placed in a month and becomes
  // an unplaced record of each month that met it, counted once in unplaced(). Without a current
  // month they count as unrouted().
  void begin_month(std::optional<Month> month) {
    current_month_ = month;
    one_pass_ = false;
  }
  // A read of every month at once (SourceSession::read_all): a rejected record, or an invalid row
  // whose time cannot be read, may belong to any month of the read, which are known only at its
  // end. They are held until end_one_pass() names the months read: with one month, they are its
  // invalid rows; with several, unplaced records of each (as if each month's read had met them);
  // with none, unrouted.
  void begin_one_pass() {
    current_month_.reset();
    one_pass_ = true;
    one_pass_pending_ = 0;
  }
  void end_one_pass(const std::vector<Month>& months_read);

  // Validates one row given as fields; used by on_rows and by `validate` on CBF files. Returns
  // whether it was valid (counted in valid_rows, its cost in its month's total); last_row() then
  // holds its normalised form.
  bool accept(std::span<const cbf::FieldView> fields, std::string_view origin,
              const RowContext& context = {});
  const cbf::NormalizedRow& last_row() const noexcept { return row_; }

  std::uint64_t rows() const noexcept { return rows_; }
  // Valid/invalid counts per month of the row's usage_start (invalid rows whose time could not be
  // read are counted under no month: see unrouted()).
  const std::map<Month, MonthRowCounts>& months() const noexcept { return months_; }
  std::uint64_t unrouted() const noexcept { return unrouted_; }
  // Distinct records met in the reads of several months (see begin_month).
  std::uint64_t unplaced() const noexcept { return unplaced_; }
  // The plugin's tallies (RowSink::note), summed per key over every read.
  const std::map<std::string, std::uint64_t, std::less<>>& notes() const noexcept { return notes_; }

private:
  cbf::ValidationReport& report_;
  snapshot::SnapshotBuilder* builder_;
  core::Progress* progress_;
  cbf::RowValidator validator_;
  cbf::NormalizedRow row_;
  std::vector<cbf::RowIssue> issues_;
  std::vector<cbf::FieldView> fields_;
  // Counts a rejected record against the month being read, once per month (`key` tells the same
  // record met in another read); true the first time the record is met.
  bool count_reject(std::string key);
  // Adds the last row's cost to its month's total; false (and a total_overflow problem) when the
  // exact total would not fit a Decimal.
  bool add_to_total(MonthRowCounts& counts, std::string_view origin);
  std::map<Month, MonthRowCounts> months_;
  std::map<std::string, std::uint64_t, std::less<>> notes_;
  // A plugin reading one month at a time rejects an unroutable record in every read: reported
  // once, counted once. Per record, the months whose reads met it.
  std::map<std::string, std::vector<Month>, std::less<>> rejects_;
  std::uint64_t rows_ = 0;
  std::uint64_t unrouted_ = 0;
  std::uint64_t unplaced_ = 0;
  std::optional<Month> current_month_;
  bool one_pass_ = false;
  std::uint64_t one_pass_pending_ = 0; // records held for end_one_pass()
  std::uint64_t progress_done_ = 0;
  std::uint64_t progress_total_ = 0;
};

} // namespace billdrop::ingest
