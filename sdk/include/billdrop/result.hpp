#pragma once
// Errors at API boundaries are values: Error carries a kind, a retryable flag and a message that
// a user can act on; Result<T> is either a T or an Error.

#include <cassert>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace billdrop {

enum class ErrorKind {
  config,    // the configuration is unusable
  source,    // the source cannot be reached or read
  data,      // the data is malformed
  internal,  // a bug or an unexpected exception
  cancelled, // the caller asked to stop
};

const char* to_string(ErrorKind kind) noexcept;

class Error {
public:
  Error(ErrorKind kind, std::string message, bool retryable = false)
      : kind_(kind), retryable_(retryable), message_(std::move(message)) {}

  ErrorKind kind() const noexcept { return kind_; }
  bool retryable() const noexcept { return retryable_; }
  const std::string& message() const noexcept { return message_; }

  // Returns a copy whose message is "<context>: <message>".
  Error with_context(std::string_view context) const {
    return Error(kind_, std::string(context) + ": " + message_, retryable_);
  }

private:
  ErrorKind kind_;
  bool retryable_;
  std::string message_;
};

inline Error config_error(std::string message) {
  return Error(ErrorKind::config, std::move(message));
}
inline Error source_error(std::string message, bool retryable = false) {
  return Error(ErrorKind::source, std::move(message), retryable);
}
inline Error data_error(std::string message) {
  return Error(ErrorKind::data, std::move(message));
}
inline Error internal_error(std::string message) {
  return Error(ErrorKind::internal, std::move(message));
}

// Thrown inside a plugin or the host to carry an Error across C++ frames; the SDK layer and the
// host's job boundary turn it back into a value.
class ErrorException : public std::exception {
public:
  explicit ErrorException(Error error) : error_(std::move(error)) {}
  const char* what() const noexcept override { return error_.message().c_str(); }
  const Error& error() const noexcept { return error_; }

private:
  Error error_;
};

template <class T>
class [[nodiscard]] Result {
public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}
  Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}

  bool ok() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(state_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(state_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(state_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const& {
    assert(!ok());
    return std::get<1>(state_);
  }
  Error&& error() && {
    assert(!ok());
    return std::get<1>(std::move(state_));
  }

  // The value, or throws ErrorException carrying the error.
  T& value_or_throw() & {
    if (!ok())
      throw ErrorException(error());
    return value();
  }
  T value_or_throw() && {
    if (!ok())
      throw ErrorException(std::move(*this).error());
    return std::move(*this).value();
  }

private:
  std::variant<T, Error> state_;
};

template <>
class [[nodiscard]] Result<void> {
public:
  Result() = default;
  Result(Error error) : error_(std::move(error)) {}

  bool ok() const noexcept { return !error_.has_value(); }
  explicit operator bool() const noexcept { return ok(); }
  const Error& error() const& {
    assert(!ok());
    return *error_;
  }
  Error&& error() && {
    assert(!ok());
    return std::move(*error_);
  }
  void value_or_throw() const {
    if (error_)
      throw ErrorException(*error_);
  }

private:
  std::optional<Error> error_;
};

using Status = Result<void>;

inline const char* to_string(ErrorKind kind) noexcept {
  switch (kind) {
  case ErrorKind::config:
    return "config";
  case ErrorKind::source:
    return "source";
  case ErrorKind::data:
    return "data";
  case ErrorKind::internal:
    return "internal";
  case ErrorKind::cancelled:
    return "cancelled";
  }
  return "unknown";
}

} // namespace billdrop
