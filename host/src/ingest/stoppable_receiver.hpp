#pragma once
// A RowReceiver that forwards everything to another and asks the plugin to stop (on_rows false:
// the read ends with ErrorKind::cancelled) once a stop was requested. Shared by run_convert and
// convert_incremental.

#include "core/cancel.hpp"
#include "source/plugin_loader.hpp"

namespace billdrop::ingest {

class StoppableReceiver final : public source::RowReceiver {
public:
  StoppableReceiver(source::RowReceiver& target, const core::CancelToken* cancel)
      : target_(target), cancel_(cancel) {}
  bool on_rows(std::span<const bd_row> rows) override {
    if (cancel_ != nullptr && cancel_->cancelled())
      return false;
    return target_.on_rows(rows);
  }
  bool on_retained_rows(std::span<const bd_row> rows) override {
    if (cancel_ != nullptr && cancel_->cancelled())
      return false;
    return target_.on_retained_rows(rows);
  }
  void release_rows() override { target_.release_rows(); }
  void on_reject(std::string_view origin, std::string_view reason) override {
    target_.on_reject(origin, reason);
  }
  void on_reject_field(std::string_view origin, std::string_view column, std::string_view rule,
                       std::string_view reason) override {
    target_.on_reject_field(origin, column, rule, reason);
  }
  void on_progress(std::uint64_t done, std::uint64_t total) override {
    target_.on_progress(done, total);
  }
  void on_log(bd_log_level level, std::string_view message) override {
    target_.on_log(level, message);
  }
  void on_note(std::string_view key, std::uint64_t count) override { target_.on_note(key, count); }
  void on_cursor(std::string_view cursor) override { target_.on_cursor(cursor); }

private:
  source::RowReceiver& target_;
  const core::CancelToken* cancel_;
};

} // namespace billdrop::ingest
