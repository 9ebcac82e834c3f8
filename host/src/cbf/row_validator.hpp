#pragma once
// The row validator: in the SDK (billdrop/cbf/row_validator.hpp), so that the test harness
// (billdrop/testing/harness.hpp) rejects in a plugin's own tests exactly what the host rejects.

#include <billdrop/cbf/row_validator.hpp>
