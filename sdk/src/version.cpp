#include <billdrop/version.hpp>

namespace billdrop {
const char* sdk_version() noexcept {
  return "0.1.0";
}
} // namespace billdrop
