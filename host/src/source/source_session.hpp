#pragma once
// A configured source, however it runs: what convert, validate, check and (later) the daemon's
// verify ask of it. Today's implementation is the in-process plugin (PluginInstance); a plugin run
// in a child process is another, behind the same three calls.

#include <billdrop/result.hpp>
#include <billdrop/timestamp.hpp>

#include <string>
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
};

} // namespace billdrop::source
