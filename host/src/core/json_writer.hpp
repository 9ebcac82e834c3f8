#pragma once
// One JSON writer for everything the host prints or serves as JSON (CLI reports, and the HTTP API
// to come): commas and quoting handled in one place, numbers as JSON numbers, money as decimal
// strings (the caller passes Decimal::to_string(): never a double).
//
//   core::JsonWriter json;
//   json.begin_object().key("month").value("2026-08").key("rows").value(rows).end_object();

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace billdrop::core {

class JsonWriter {
public:
  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(std::string_view name);

  JsonWriter& value(std::string_view text);
  JsonWriter& value(const char* text) { return value(std::string_view(text)); }
  JsonWriter& value(const std::string& text) { return value(std::string_view(text)); }
  JsonWriter& value(bool flag);
  template <class Int,
            class = std::enable_if_t<std::is_integral_v<Int> && !std::is_same_v<Int, bool>>>
  JsonWriter& value(Int number) {
    if constexpr (std::is_signed_v<Int>)
      return number_text(std::to_string(static_cast<std::int64_t>(number)));
    else
      return number_text(std::to_string(static_cast<std::uint64_t>(number)));
  }
  // A number already formatted as JSON (e.g. "1.250" seconds with fixed decimals).
  JsonWriter& number_text(std::string_view number);
  JsonWriter& null();
  // A value that is already JSON text (a nested document rendered elsewhere).
  JsonWriter& raw(std::string_view json);

  const std::string& str() const noexcept { return out_; }
  std::string take() { return std::move(out_); }

private:
  void before_value();
  std::string out_;
  std::vector<bool> has_items_; // per open object/array: whether it has an item yet
  bool after_key_ = false;
};

} // namespace billdrop::core
