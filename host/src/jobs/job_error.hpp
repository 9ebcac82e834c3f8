#pragma once
// How a job fails, by the kind of cause a caller acts on: the CLI maps each kind to its exit code
// (docs/cli.md), the daemon to a connection's status message. Jobs throw JobError for what stops
// them; a month that fails while others go on is a value in their result instead.

#include <billdrop/result.hpp>

#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

namespace billdrop::jobs {

enum class FailureKind {
  usage,       // the request itself is wrong (a month range that ends before it starts)
  config,      // the configuration is unusable
  plugin,      // the plugin cannot be found or loaded
  source,      // the source cannot be reached or read
  data,        // the data is malformed: invalid or rejected rows
  delivery,    // a month could not be sent
  busy,        // another process is syncing the connection
  interrupted, // a stop was requested
  internal,    // a bug
};

FailureKind failure_kind(const Error& error) noexcept;

class JobError : public std::runtime_error {
public:
  JobError(FailureKind kind, const std::string& message)
      : std::runtime_error(message), kind_(kind) {}
  FailureKind kind() const noexcept { return kind_; }

private:
  FailureKind kind_;
};

// The value, or a JobError of `kind` with the error's message.
template <class T>
T take(Result<T> result, FailureKind kind) {
  if (!result)
    throw JobError(kind, result.error().message());
  if constexpr (!std::is_void_v<T>)
    return std::move(result).value();
}

// The value, or a JobError of the error's own kind (failure_kind()).
template <class T>
T take(Result<T> result) {
  if (!result)
    throw JobError(failure_kind(result.error()), result.error().message());
  if constexpr (!std::is_void_v<T>)
    return std::move(result).value();
}

} // namespace billdrop::jobs
