#pragma once
// A configured source, however it runs: what convert, validate, check and the daemon ask of it.
// The in-process plugin (PluginInstance, plugin_loader.hpp) and a plugin run in a child process
// (ProcessSession, process_session.hpp) are behind the same calls.

#include <billdrop/result.hpp>
#include <billdrop/timestamp.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace billdrop::source {

class RowReceiver;

class SourceSession {
public:
  virtual ~SourceSession() = default;
  // The plugin's name, for messages ("plugin 'aws' failed reading 2026-08").
  virtual const std::string& name() const noexcept = 0;
  // Can the source be reached and read (credentials, paths, schema)?
  virtual Status check() = 0;
  // The months the source holds: sorted, without duplicates.
  virtual Result<std::vector<Month>> months() = 0;
  // The rows of `month` (and possibly late rows of other months) into `receiver`; a receiver that
  // returns false from on_rows() stops the read with ErrorKind::cancelled.
  virtual Status read(Month month, RowReceiver& receiver) = 0;
  // Whether the source produces its next rows by itself while the receiver works on the last
  // ones (a plugin in another process, writing ahead into a shared-memory ring): then a pipeline
  // on the host's side (ingest::PipelinedReceiver) adds only a copy of every batch.
  virtual bool reads_ahead() const noexcept { return false; }

  // ---- One pass (ABI 1.4, docs/abi.md). A source that learns its months only by reading its
  // data (one file holding several months) reads them all at once instead of being read once to
  // list its months and again per month.

  // Whether read_all() may be called (and is what the source prefers when every month is
  // wanted). A plugin of ABI 1.0-1.3 never is.
  virtual bool one_pass() const noexcept { return false; }
  // Every row of every month into `receiver`, which routes them by their own usage_start. When it
  // fails, no month it was reading is complete.
  virtual Status read_all(RowReceiver& receiver) {
    (void)receiver;
    return config_error("source '" + name() + "' does not read every month in one pass");
  }

  // ---- Incremental sources (ABI 1.3, docs/abi.md). A source that is not incremental keeps the
  // defaults; ingest::convert_incremental() merges what read_since() gives into the snapshots.

  // Whether read_since() may be called. A plugin of ABI 1.0-1.2 never is.
  virtual bool incremental() const noexcept { return false; }
  // The CBF columns the source says identify a record (docs/abi.md, "Incremental sources");
  // empty: the host's default identity (cbf::RowIdentity).
  virtual const std::vector<std::string>& identity_columns() const noexcept {
    static const std::vector<std::string> none;
    return none;
  }
  // The rows of the records new or changed since `cursor` ("" = from the start), of any month,
  // into `receiver`; the receiver's on_cursor() marks the end of each part. On success
  // `next_cursor` is the cursor to store for the next call; on failure it is left as it was.
  virtual Status read_since(std::string_view cursor, RowReceiver& receiver,
                            std::string& next_cursor) {
    (void)cursor;
    (void)receiver;
    (void)next_cursor;
    return config_error("source '" + name() + "' does not read increments");
  }
};

} // namespace billdrop::source
