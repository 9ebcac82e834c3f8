#pragma once
// Runs a RowReceiver on a worker thread, so that the host's validation and snapshot building
// overlap with the plugin's parsing. A plugin's read() calls the sink on its own thread. The rows
// of write() live only until it returns, so such a batch is copied (one memcpy into an arena) and
// queued; a batch of write_retained() (ABI 1.5, the SDK's RowSink) stays where the plugin wrote
// it and is queued as it is, and on_retained_rows() returns once the batch
// BILLDROP_RETAINED_BATCHES before it has been handled, which is when the plugin may reuse that
// one's buffers. One worker hands batches, rejects, logs
// and notes to the inner receiver in exactly the order the plugin produced them, so results are
// the same as without the pipeline.
//
// The queue is bounded (a few batches), so memory stays bounded and a fast plugin waits for the
// validator. Nothing of the inner receiver may be touched from outside while a read is in flight:
// call drain() after every read(), before looking at the inner receiver or its snapshot builder.

#include "source/plugin_loader.hpp"

#include <billdrop/result.hpp>

#include <memory>
#include <optional>

namespace billdrop::ingest {

class PipelinedReceiver final : public source::RowReceiver {
public:
  explicit PipelinedReceiver(source::RowReceiver& inner, std::size_t max_queued_batches = 4);
  ~PipelinedReceiver() override;
  PipelinedReceiver(const PipelinedReceiver&) = delete;
  PipelinedReceiver& operator=(const PipelinedReceiver&) = delete;

  bool on_rows(std::span<const bd_row> rows) override;
  bool on_retained_rows(std::span<const bd_row> rows) override;
  void release_rows() override;
  void on_reject(std::string_view origin, std::string_view reason) override;
  void on_reject_field(std::string_view origin, std::string_view column, std::string_view rule,
                       std::string_view reason) override;
  void on_progress(std::uint64_t done, std::uint64_t total) override;
  void on_log(bd_log_level level, std::string_view message) override;
  void on_note(std::string_view key, std::uint64_t count) override;
  void on_cursor(std::string_view cursor) override; // in order with the rows, like the rest

  // Waits until the worker has handled everything queued. Returns the first exception the inner
  // receiver threw (as an Error) since the last drain(); after one, on_rows() asks the plugin to
  // stop and later events are dropped until drain() reports it.
  Status drain();

private:
  struct State;
  std::unique_ptr<State> state_;
};

} // namespace billdrop::ingest
