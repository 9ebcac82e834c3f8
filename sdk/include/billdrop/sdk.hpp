#pragma once
// billdrop SDK umbrella header: everything a plugin author needs.

#include <billdrop/byte_source.hpp>
#include <billdrop/config.hpp>
#include <billdrop/csv.hpp>
#include <billdrop/decimal.hpp>
#include <billdrop/file_break.hpp>
#include <billdrop/json_flatten.hpp>
#include <billdrop/json_records.hpp>
#include <billdrop/plugin.h>
#include <billdrop/result.hpp>
#include <billdrop/source_files.hpp>
#include <billdrop/source_plugin.hpp>
#include <billdrop/tags.hpp>
#include <billdrop/text.hpp>
#include <billdrop/timestamp.hpp>
#include <billdrop/version.hpp>
