#pragma once
// The CSV inside a `.csv.zip` CUR file, as a ByteSource.

#include <billdrop/byte_source.hpp>

#include <filesystem>
#include <memory>

namespace billdrop::aws {

// Opens the archive's CSV entry: its only entry, or else its first entry ending in ".csv".
// Errors name the archive and say what libzip found wrong.
Result<std::unique_ptr<ByteSource>> open_zip_entry(const std::filesystem::path& archive);

} // namespace billdrop::aws
