#pragma once
// CSV text for fixtures, quoted as RFC 4180 wants. Header-only; test binaries only.

#include <string>
#include <string_view>
#include <vector>

namespace billdrop::test {

// A cell, in double quotes (inner quotes doubled) when it holds a comma, a quote or a newline.
inline std::string csv_field(std::string_view text) {
  if (text.find_first_of(",\"\n") == std::string_view::npos)
    return std::string(text);
  std::string out = "\"";
  for (const char c : text) {
    out += c;
    if (c == '"')
      out += '"';
  }
  return out + "\"";
}

// One line: the cells joined by commas, with its '\n'.
inline std::string csv_line(const std::vector<std::string>& cells) {
  std::string line;
  for (std::size_t i = 0; i < cells.size(); ++i) {
    if (i != 0)
      line += ',';
    line += csv_field(cells[i]);
  }
  return line + "\n";
}

} // namespace billdrop::test
