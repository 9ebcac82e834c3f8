#include "app/validating_receiver.hpp"

#include "util/log.hpp"

namespace billdrop {

bool ValidatingReceiver::on_rows(std::span<const bd_row> rows) {
  for (const bd_row& row : rows) {
    fields_.clear();
    for (std::size_t i = 0; i < row.field_count; ++i)
      fields_.push_back({std::string_view(row.fields[i].key.data, row.fields[i].key.size),
                         std::string_view(row.fields[i].value.data, row.fields[i].value.size)});
    accept(fields_, std::string_view(row.origin.data, row.origin.size));
  }
  if (progress_ != nullptr)
    progress_->update(progress_done_, progress_total_, rows_);
  return true;
}

bool ValidatingReceiver::accept(std::span<const cbf::FieldView> fields, std::string_view origin) {
  ++rows_;
  issues_.clear();
  const bool valid = validator_.normalize(fields, row_, issues_);
  for (const cbf::RowIssue& issue : issues_)
    report_.add(rows_, origin, issue);
  report_.count_row(valid);
  if (valid) {
    MonthRowCounts& counts = months_[row_.month];
    ++counts.valid;
    counts.cost += row_.cost;
    if (builder_ != nullptr)
      builder_->add(row_);
    return true;
  }
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
  count_unplaced();
  return false;
}

void ValidatingReceiver::on_reject(std::string_view origin, std::string_view reason) {
  // The record came while reading the current month: that month is incomplete, whatever else it
  // holds, so it must not be sent as if whole. Counted for every month whose read rejects it.
  count_unplaced();
  std::string key(origin);
  key.append("\n").append(reason);
  if (!seen_rejects_.insert(std::move(key)).second)
    return;
  report_.add_reject(origin, reason);
}

void ValidatingReceiver::count_unplaced() {
  if (current_month_)
    ++months_[*current_month_].invalid;
  else
    ++unrouted_;
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

} // namespace billdrop
