#include "tag_parser.hpp"

#include <billdrop/text.hpp>

#include <simdjson.h>

#include <string>

namespace billdrop::azure {

struct TagParser::Impl {
  simdjson::dom::parser parser;
  std::string buffer; // the cell, braced when needed, with simdjson's padding
  std::vector<std::pair<std::string, std::string>> parsed;
};

TagParser::TagParser() : impl_(std::make_unique<Impl>()) {}
TagParser::~TagParser() = default;

bool TagParser::parse(std::string_view cell, TagColumns& tags) {
  std::vector<std::pair<std::string, std::string>>& parsed = impl_->parsed;
  parsed.clear();
  if (!parse(cell, parsed))
    return false;
  for (const auto& [key, value] : parsed)
    tags.add(key, value);
  return true;
}

bool TagParser::parse(std::string_view cell,
                      std::vector<std::pair<std::string, std::string>>& tags) {
  cell = trim_ascii(cell);
  if (cell.empty() || cell == "{}")
    return true;
  std::string& buffer = impl_->buffer;
  buffer.clear();
  const bool braced = cell.front() == '{';
  if (!braced)
    buffer += '{';
  buffer.append(cell);
  if (!braced)
    buffer += '}';
  const std::size_t size = buffer.size();
  buffer.resize(size + simdjson::SIMDJSON_PADDING);
  simdjson::dom::object object;
  if (impl_->parser.parse(buffer.data(), size, false).get_object().get(object) != simdjson::SUCCESS)
    return false;
  for (const auto field : object) {
    const simdjson::dom::element value = field.value;
    switch (value.type()) {
    case simdjson::dom::element_type::STRING:
      tags.emplace_back(field.key, value.get_string().value_unsafe());
      break;
    case simdjson::dom::element_type::NULL_VALUE:
      break;
    default:
      tags.emplace_back(field.key, simdjson::minify(value));
      break;
    }
  }
  return true;
}

} // namespace billdrop::azure
