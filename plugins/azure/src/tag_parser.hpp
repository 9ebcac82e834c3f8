#pragma once
// The Tags cell of an Azure export: a JSON object, which EA exports write without its braces
// (`"k": "v","k2": "v2"`). Both forms are read.

#include <billdrop/tags.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace billdrop::azure {

class TagParser {
public:
  TagParser();
  ~TagParser();
  TagParser(const TagParser&) = delete;
  TagParser& operator=(const TagParser&) = delete;

  // Adds every tag of `cell` to `tags`. String values are unescaped; numbers and booleans are
  // kept as written, objects and arrays as minified JSON; null adds nothing. Returns false (and
  // adds nothing) when the cell is not a JSON object with or without braces.
  bool parse(std::string_view cell, TagColumns& tags);
  // The same, the tags as (key, value) in the cell's order, empty values included.
  bool parse(std::string_view cell, std::vector<std::pair<std::string, std::string>>& tags);

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

} // namespace billdrop::azure
