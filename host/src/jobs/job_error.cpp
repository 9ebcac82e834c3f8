#include "jobs/job_error.hpp"

namespace billdrop::jobs {

FailureKind failure_kind(const Error& error) noexcept {
  switch (error.kind()) {
  case ErrorKind::config:
    return FailureKind::config;
  case ErrorKind::source:
    return FailureKind::source;
  case ErrorKind::data:
    return FailureKind::data;
  case ErrorKind::cancelled:
    return FailureKind::interrupted;
  case ErrorKind::internal:
    return FailureKind::internal;
  }
  return FailureKind::internal;
}

} // namespace billdrop::jobs
