#pragma once
// The CBF columns: in the SDK (billdrop/cbf/columns.hpp), so that a plugin's tests check rows
// against the very tables the host uses.

#include <billdrop/cbf/columns.hpp>
