#include "remote/xml_text.hpp"

#include <cstdint>
#include <cstdlib>

namespace billdrop::remote {

std::vector<std::string_view> xml_elements(std::string_view xml, std::string_view tag) {
  std::vector<std::string_view> out;
  std::string open(1, '<');
  open += tag;
  std::string close("</");
  close += tag;
  close += '>';
  std::size_t at = 0;
  while ((at = xml.find(open, at)) != std::string_view::npos) {
    const std::size_t after = at + open.size();
    if (after >= xml.size())
      break;
    const char next = xml[after];
    if (next != '>' && next != ' ' && next != '/') {
      at = after; // a longer tag name (<Blobs> when looking for <Blob>)
      continue;
    }
    const std::size_t head_end = xml.find('>', after);
    if (head_end == std::string_view::npos)
      break;
    if (xml[head_end - 1] == '/') { // <tag/>
      out.emplace_back();
      at = head_end + 1;
      continue;
    }
    const std::size_t end = xml.find(close, head_end + 1);
    if (end == std::string_view::npos)
      break;
    out.push_back(xml.substr(head_end + 1, end - head_end - 1));
    at = end + close.size();
  }
  return out;
}

std::uint64_t parse_size(std::string_view text) noexcept {
  std::uint64_t size = 0;
  for (const char c : text) {
    if (c < '0' || c > '9')
      break;
    size = size * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return size;
}

std::string xml_value(std::string_view xml, std::string_view tag) {
  const std::vector<std::string_view> found = xml_elements(xml, tag);
  return found.empty() ? std::string() : xml_unescape(found.front());
}

namespace {

void append_utf8(std::string& out, std::uint32_t code) {
  if (code < 0x80) {
    out += static_cast<char>(code);
  } else if (code < 0x800) {
    out += static_cast<char>(0xC0 | (code >> 6));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else if (code < 0x10000) {
    out += static_cast<char>(0xE0 | (code >> 12));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (code >> 18));
    out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  }
}

} // namespace

std::string xml_unescape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const std::size_t semi = text[i] == '&' ? text.find(';', i) : std::string_view::npos;
    if (semi == std::string_view::npos || semi - i > 10) {
      out += text[i];
      continue;
    }
    const std::string_view name = text.substr(i + 1, semi - i - 1);
    if (name == "amp")
      out += '&';
    else if (name == "lt")
      out += '<';
    else if (name == "gt")
      out += '>';
    else if (name == "quot")
      out += '"';
    else if (name == "apos")
      out += '\'';
    else if (name.size() > 1 && name[0] == '#') {
      const bool hex = name[1] == 'x' || name[1] == 'X';
      const std::string digits(name.substr(hex ? 2 : 1));
      append_utf8(out,
                  static_cast<std::uint32_t>(std::strtoul(digits.c_str(), nullptr, hex ? 16 : 10)));
    } else {
      out += text.substr(i, semi - i + 1);
    }
    i = semi;
  }
  return out;
}

} // namespace billdrop::remote
