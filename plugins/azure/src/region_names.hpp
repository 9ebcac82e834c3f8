#pragma once
// Azure locations as CBF regions. Exports spell one region many ways ("EastUS", "eastus",
// "US East", "East US"); the FinOps toolkit's region table maps each spelling to the region id
// ("eastus"). A spelling the table does not know is lowercased with spaces removed. "global",
// "unassigned" and an empty location give no region (CBF then uses "no-region").

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace billdrop::azure {

namespace detail {
struct RegionAlias {
  const char* spelling; // lowercase
  const char* region;
};
extern const RegionAlias region_aliases[];
extern const std::size_t region_alias_count;
} // namespace detail

class RegionNames {
public:
  // The region id for `location`, or "" for none. The view stays valid while this object lives.
  std::string_view region_of(std::string_view location);

private:
  // Exports repeat a handful of locations millions of times: remember each answer.
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const noexcept {
      return std::hash<std::string_view>{}(text);
    }
  };
  std::unordered_map<std::string, std::string, Hash, std::equal_to<>> cache_;
};

} // namespace billdrop::azure
