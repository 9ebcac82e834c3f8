#pragma once
// libpq helpers shared by the PostgreSQL stores (store/postgres: sync state and leases;
// billing/postgres: the Billing API's items). Only those two files include this header, and both
// link libpq; nothing else in core needs it.

#include <libpq-fe.h>

#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace billdrop::core::pg {

// One statement's result, cleared with the object.
class Rows {
public:
  explicit Rows(PGresult* result) : result_(result) {}
  ~Rows() { PQclear(result_); }
  Rows(Rows&& other) noexcept : result_(std::exchange(other.result_, nullptr)) {}
  Rows& operator=(Rows&&) = delete;
  Rows(const Rows&) = delete;

  int size() const { return PQntuples(result_); }
  bool is_null(int row, int column) const { return PQgetisnull(result_, row, column) != 0; }
  std::string text(int row, int column) const {
    return std::string(PQgetvalue(result_, row, column),
                       static_cast<std::size_t>(PQgetlength(result_, row, column)));
  }
  std::optional<std::string> optional_text(int row, int column) const {
    if (is_null(row, column))
      return std::nullopt;
    return text(row, column);
  }
  std::int64_t integer(int row, int column) const {
    return std::strtoll(PQgetvalue(result_, row, column), nullptr, 10);
  }
  bool boolean(int row, int column) const { return PQgetvalue(result_, row, column)[0] == 't'; }
  // Rows an INSERT, UPDATE or DELETE changed.
  std::size_t affected() const { return std::strtoull(PQcmdTuples(result_), nullptr, 10); }

private:
  PGresult* result_;
};

// A statement's parameters, sent as text ($n::bigint where a number is meant); nullopt is NULL.
class Params {
public:
  Params& text(std::string_view value) {
    values_.emplace_back(std::string(value));
    return *this;
  }
  Params& optional(const std::optional<std::string>& value) {
    values_.push_back(value);
    return *this;
  }
  Params& integer(std::int64_t value) { return text(std::to_string(value)); }
  Params& optional_integer(const std::optional<std::int64_t>& value) {
    return optional(value ? std::optional<std::string>(std::to_string(*value)) : std::nullopt);
  }
  // The placeholder of the value just added: "$3".
  std::string last() const { return "$" + std::to_string(values_.size()); }
  std::vector<const char*> pointers() const {
    std::vector<const char*> out;
    out.reserve(values_.size());
    for (const std::optional<std::string>& value : values_)
      out.push_back(value ? value->c_str() : nullptr);
    return out;
  }
  int size() const { return static_cast<int>(values_.size()); }

private:
  std::vector<std::optional<std::string>> values_;
};

// A PostgreSQL array literal of text values: {"a","b\"c"}.
inline std::string text_array(const std::vector<std::string>& values) {
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    out += i == 0 ? "\"" : ",\"";
    for (const char c : values[i]) {
      if (c == '"' || c == '\\')
        out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

// A libpq message without its trailing newline and spaces.
inline std::string trimmed(std::string message) {
  while (!message.empty() && (message.back() == '\n' || message.back() == ' '))
    message.pop_back();
  return message;
}

} // namespace billdrop::core::pg
