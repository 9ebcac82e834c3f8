#pragma once
// Small ASCII text helpers shared by the SDK readers, the host and plugins. Locale-free on
// purpose: billing exports are matched byte for byte, never by the user's locale.

#include <string>
#include <string_view>

namespace billdrop {

constexpr bool is_ascii_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

constexpr char to_lower_ascii(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

inline std::string lower_ascii(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    c = to_lower_ascii(c);
  return out;
}

// Equal ignoring ASCII case ("CostInBillingCurrency" == "costinbillingcurrency").
constexpr bool iequals_ascii(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size())
    return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (to_lower_ascii(a[i]) != to_lower_ascii(b[i]))
      return false;
  return true;
}

// Without leading and trailing ASCII white space.
constexpr std::string_view trim_ascii(std::string_view text) noexcept {
  while (!text.empty() && is_ascii_space(text.front()))
    text.remove_prefix(1);
  while (!text.empty() && is_ascii_space(text.back()))
    text.remove_suffix(1);
  return text;
}

// `text` in double quotes for an error message, cut after `shown` bytes ("…") so that one bad
// cell cannot flood a log.
inline std::string quote_for_message(std::string_view text, std::size_t shown = 80) {
  std::string out = "\"";
  out.append(text.substr(0, shown));
  if (text.size() > shown)
    out += "...";
  out += '"';
  return out;
}

} // namespace billdrop
