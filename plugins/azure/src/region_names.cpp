#include "region_names.hpp"

#include <billdrop/text.hpp>

#include <algorithm>
#include <cstring>

namespace billdrop::azure {
namespace {

std::string lookup(std::string_view location) {
  std::string key = lower_ascii(trim_ascii(location));
  const detail::RegionAlias* begin = detail::region_aliases;
  const detail::RegionAlias* end = begin + detail::region_alias_count;
  const auto* found =
      std::lower_bound(begin, end, key, [](const detail::RegionAlias& alias, const std::string& k) {
        return std::strcmp(alias.spelling, k.c_str()) < 0;
      });
  std::string region;
  if (found != end && key == found->spelling) {
    region = found->region;
  } else {
    std::erase(key, ' ');
    region = std::move(key);
  }
  // CBF forbids "global" as a region: such charges have none.
  if (region == "global" || region == "unassigned")
    region.clear();
  return region;
}

} // namespace

std::string_view RegionNames::region_of(std::string_view location) {
  location = trim_ascii(location);
  if (location.empty())
    return {};
  auto it = cache_.find(location);
  if (it == cache_.end())
    it = cache_.emplace(std::string(location), lookup(location)).first;
  return it->second;
}

} // namespace billdrop::azure
