#include "jobs/check.hpp"

#include "core/log.hpp"

namespace billdrop::jobs {

CheckOutcome check_source(const ResolvedSource& source) {
  CheckOutcome outcome{source.describe(), source.connection};
  log::info("check.start", {{"source", outcome.source}});
  std::unique_ptr<source::SourceSession> session = source.open_session();
  if (Status status = session->check(); !status) {
    outcome.error = "check failed: " + status.error().message();
    outcome.retryable = status.error().retryable();
    outcome.failure = failure_kind(status.error());
    return outcome;
  }
  Result<std::vector<Month>> months = session->months();
  if (!months) {
    outcome.error = "listing months failed: " + months.error().message();
    outcome.failure = failure_kind(months.error());
    return outcome;
  }
  outcome.months = std::move(*months);
  outcome.ok = true;
  return outcome;
}

} // namespace billdrop::jobs
