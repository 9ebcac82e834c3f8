#pragma once
// Just enough XML for S3's and Azure's listings: the inner text of flat elements, entities
// decoded. Their answers are machine-written, with no CDATA and no nesting of a tag in itself.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace billdrop::remote {

// The inner text (not decoded) of every <tag>…</tag> (or <tag attr…>…</tag>) in order.
std::vector<std::string_view> xml_elements(std::string_view xml, std::string_view tag);
// The decoded text of the first <tag>, or "" when there is none.
std::string xml_value(std::string_view xml, std::string_view tag);
std::string xml_unescape(std::string_view text);
// A listed size: its leading decimal digits (0 when there are none).
std::uint64_t parse_size(std::string_view text) noexcept;

} // namespace billdrop::remote
