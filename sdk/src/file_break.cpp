#include <billdrop/file_break.hpp>

#include <billdrop/text.hpp>

namespace billdrop {
namespace {

// The reader's message without the "<file>:", "<file>:<line>:" or "<file>:<line>:<column>:" it
// starts with: the break's own line says where.
std::string reason_of(std::string_view message, std::string_view source, std::string_view name) {
  for (const std::string_view prefix : {source, name}) {
    if (prefix.empty() || !message.starts_with(prefix) || message.size() <= prefix.size() ||
        message[prefix.size()] != ':')
      continue;
    message.remove_prefix(prefix.size() + 1);
    for (int group = 0; group < 2; ++group) {
      std::size_t digits = 0;
      while (digits < message.size() && message[digits] >= '0' && message[digits] <= '9')
        ++digits;
      if (digits == 0 || digits == message.size() || message[digits] != ':')
        break;
      message.remove_prefix(digits + 1);
    }
    break;
  }
  return std::string(trim_ascii(message));
}

// 60001 -> "60,001".
std::string group_digits(std::uint64_t value) {
  std::string digits = std::to_string(value);
  for (std::size_t at = digits.size(); at > 3; at -= 3)
    digits.insert(at - 3, 1, ',');
  return digits;
}

} // namespace

FileBreak::FileBreak(std::string name, std::uint64_t line, const Error& error,
                     std::string_view source)
    : name_(std::move(name)), line_(line), reason_(reason_of(error.message(), source, name_)),
      kind_(error.kind()), retryable_(error.retryable()) {}

std::string FileBreak::where() const {
  return name_ + " breaks off at line " + group_digits(line_) + " (" + reason_ + ")";
}

Error FileBreak::month_error(Month month) const {
  const std::string text = month.to_string();
  return Error(kind_,
               where() + "; its rows after that point could belong to " + text + ", so " + text +
                   " cannot be read completely",
               retryable_);
}

Error FileBreak::any_month_error() const {
  return Error(kind_,
               where() + "; its rows after that point could belong to any month, so no month "
                         "it holds can be read completely",
               retryable_);
}

Error FileBreak::listing_error() const {
  return Error(kind_,
               where() + " before any of its records could be read; they could belong to any "
                         "month, so no month can be read completely",
               retryable_);
}

} // namespace billdrop
