#pragma once
// Where a file's scan stopped before its end (a truncated gzip stream, an unterminated quote, an
// I/O error). Nothing is known about the rows after that point, so they could belong to any
// month: every month's read fails with an error naming the file and the line.

#include <billdrop/result.hpp>
#include <billdrop/timestamp.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace billdrop {

class FileBreak {
public:
  // `line` is the first line that could not be read; `error` is the reader's failure. `source`
  // is how the reader names the file (its path), stripped from the reason with any line number.
  // Shared by the plugins that scan files once to learn their months (gcp, azure, focus).
  FileBreak(std::string name, std::uint64_t line, const Error& error, std::string_view source);

  // "a.csv.gz breaks off at line 60,001 (truncated gzip stream); its rows after that point could
  // belong to 2024-09, so 2024-09 cannot be read completely"
  Error month_error(Month month) const;
  // For a file that broke before any of its records routed: no month can carry the error.
  Error listing_error() const;
  // For a read of every month at once (one pass): the rows after the break could belong to any.
  Error any_month_error() const;

  const std::string& name() const noexcept { return name_; }
  std::uint64_t line() const noexcept { return line_; }
  const std::string& reason() const noexcept { return reason_; }

private:
  std::string where() const;

  std::string name_;
  std::uint64_t line_;
  std::string reason_;
  ErrorKind kind_;
  bool retryable_;
};

} // namespace billdrop
