#pragma once
// JSON text for CBF rows and drop bodies. The functions live in the SDK (billdrop/json_text.hpp),
// because the SDK's test harness validates rows with the same rules as the host.

#include <billdrop/json_text.hpp>

namespace billdrop::core {

using billdrop::append_json_string;
using billdrop::first_invalid_utf8;
using billdrop::is_plain_json_text;
using billdrop::is_valid_utf8;

} // namespace billdrop::core
