#pragma once

namespace billdrop {
// The SDK's version, "MAJOR.MINOR.PATCH".
const char* sdk_version() noexcept;
} // namespace billdrop
