#pragma once
// `check` as a use case: can a source be reached and read, and which months does it hold? Used by
// the `check` command and by the daemon's verify job.

#include "jobs/connections.hpp"
#include "jobs/job_error.hpp"

#include <billdrop/timestamp.hpp>

#include <optional>
#include <string>
#include <vector>

namespace billdrop::jobs {

struct CheckOutcome {
  std::string source;     // "connection 'acme'"
  std::string connection; // "" for a plugin named directly
  bool ok = false;
  std::vector<Month> months; // when ok
  std::string error;         // "check failed: …" or "listing months failed: …"
  bool retryable = false;
  std::optional<FailureKind> failure;
};

// Runs the source's check, then lists its months; never throws for what the source reports (a
// plugin that cannot be created still throws JobError, as everywhere).
CheckOutcome check_source(const ResolvedSource& source);

} // namespace billdrop::jobs
