#include "ingest/validating_receiver.hpp"

#include "core/log.hpp"

#include <algorithm>
#include <utility>

namespace billdrop::ingest {

bool ValidatingReceiver::on_rows(std::span<const bd_row> rows) {
  for (const bd_row& row : rows) {
    // Sized once per row, then filled: no capacity check per field.
    if (fields_.size() < row.field_count)
      fields_.resize(row.field_count);
    for (std::size_t i = 0; i < row.field_count; ++i)
      fields_[i] = {std::string_view(row.fields[i].key.data, row.fields[i].key.size),
                    std::string_view(row.fields[i].value.data, row.fields[i].value.size)};
    accept(std::span<const cbf::FieldView>(fields_.data(), row.field_count),
           std::string_view(row.origin.data, row.origin.size));
  }
  if (progress_ != nullptr)
    progress_->update(progress_done_, progress_total_, rows_);
  return true;
}

bool ValidatingReceiver::accept(std::span<const cbf::FieldView> fields, std::string_view origin,
                                const RowContext& context) {
  ++rows_;
  issues_.clear();
  bool valid = validator_.normalize(fields, row_, issues_);
  for (const cbf::RowIssue& issue : context.decode_issues) {
    report_.add(rows_, origin, issue);
    if (issue.severity == cbf::Severity::error)
      valid = false;
  }
  for (const cbf::RowIssue& issue : issues_) {
    const bool reported =
        std::any_of(context.decode_issues.begin(), context.decode_issues.end(),
                    [&](const cbf::RowIssue& earlier) { return earlier.column == issue.column; });
    if (!reported)
      report_.add(rows_, origin, issue);
  }
  if (valid && context.body_month && row_.month != *context.body_month) {
    report_.add(rows_, origin,
                {cbf::Severity::error, "time/usage_start", "month_mismatch",
                 "row is in " + row_.month.to_string() + " but the body's month is " +
                     context.body_month->to_string() +
                     " (all rows of one body must fall in its month)"});
    report_.count_row(false);
    ++months_[row_.month].invalid;
    return false;
  }
  if (valid) {
    MonthRowCounts& counts = months_[row_.month];
    if (!add_to_total(counts, origin)) {
      report_.count_row(false);
      ++counts.invalid;
      return false;
    }
    report_.count_row(true);
    ++counts.valid;
    if (builder_ != nullptr)
      builder_->add(row_);
    return true;
  }
  report_.count_row(false);
  // Route the invalid row to its month when its time is readable, so the month is known to be
  // incomplete.
  for (const cbf::FieldView& field : fields) {
    if (field.key == "time/usage_start") {
      if (Result<UtcTime> time = parse_timestamp(field.value)) {
        ++months_[Month::of(*time)].invalid;
        return false;
      }
    }
  }
  // A row whose time cannot be read counts against the month being read (plugins rarely send
  // one: they reject such records, see on_reject_field).
  if (current_month_)
    ++months_[*current_month_].invalid;
  else if (one_pass_)
    ++one_pass_pending_;
  else
    ++unrouted_;
  return false;
}

void ValidatingReceiver::end_one_pass(const std::vector<Month>& months_read) {
  one_pass_ = false;
  const std::uint64_t pending = std::exchange(one_pass_pending_, 0);
  if (pending == 0)
    return;
  if (months_read.empty()) {
    unrouted_ += pending;
  } else if (months_read.size() == 1) {
    months_[months_read.front()].invalid += pending;
  } else {
    unplaced_ += pending;
    for (const Month& month : months_read)
      months_[month].unplaced += pending;
  }
}

bool ValidatingReceiver::add_to_total(MonthRowCounts& counts, std::string_view origin) {
  try {
    counts.cost += row_.cost;
    return true;
  } catch (const DecimalOverflow&) {
    // Rounding would make the total wrong; a row that cannot be counted makes its month
    // incomplete instead, so it is neither written nor sent as whole.
    report_.add(rows_, origin,
                {cbf::Severity::error, "cost/cost", "total_overflow",
                 "the cost/cost total of " + row_.month.to_string() + " (" +
                     counts.cost.to_string() + ") plus this row's " + row_.cost.to_string() +
                     " needs more than " + std::to_string(Decimal::max_digits) +
                     " significant digits; billdrop does not round money, so the row is not "
                     "counted and the month is incomplete"});
    return false;
  }
}

void ValidatingReceiver::on_reject(std::string_view origin, std::string_view reason) {
  on_reject_field(origin, {}, {}, reason);
}

void ValidatingReceiver::on_reject_field(std::string_view origin, std::string_view column,
                                         std::string_view rule, std::string_view reason) {
  // The record came while reading the current month: that month is incomplete, whatever else it
  // holds, so it must not be sent as if whole.
  std::string key(origin);
  key.append("\n").append(column).append("\n").append(rule).append("\n").append(reason);
  if (count_reject(std::move(key)))
    report_.add_reject(origin, reason, column, rule);
}

bool ValidatingReceiver::count_reject(std::string key) {
  const auto [it, first_time] = rejects_.try_emplace(std::move(key));
  if (one_pass_) {
    if (first_time)
      ++one_pass_pending_;
    return first_time;
  }
  if (!current_month_) {
    if (first_time)
      ++unrouted_;
    return first_time;
  }
  std::vector<Month>& met_in = it->second;
  const Month month = *current_month_;
  if (std::find(met_in.begin(), met_in.end(), month) != met_in.end())
    return first_time; // met again in the same read
  met_in.push_back(month);
  if (met_in.size() == 1) {
    ++months_[month].invalid; // so far, a record of this month
    return first_time;
  }
  if (met_in.size() == 2) {
    // A second month's read met it too: it belongs to no month the plugin could tell.
    --months_[met_in.front()].invalid;
    ++months_[met_in.front()].unplaced;
    ++unplaced_;
  }
  ++months_[month].unplaced;
  return first_time;
}

void ValidatingReceiver::on_progress(std::uint64_t done, std::uint64_t total) {
  progress_done_ = done;
  progress_total_ = total;
  if (progress_ != nullptr)
    progress_->update(done, total, rows_);
}

void ValidatingReceiver::on_log(bd_log_level level, std::string_view message) {
  const log::Level mapped = level == BD_LOG_DEBUG  ? log::Level::debug
                            : level == BD_LOG_INFO ? log::Level::info
                            : level == BD_LOG_WARN ? log::Level::warn
                                                   : log::Level::error;
  log::write(mapped, "plugin.log", {{"message", message}});
}

void ValidatingReceiver::on_note(std::string_view key, std::uint64_t count) {
  const auto it = notes_.find(key);
  if (it != notes_.end())
    it->second += count;
  else
    notes_.emplace(std::string(key), count);
}

} // namespace billdrop::ingest
