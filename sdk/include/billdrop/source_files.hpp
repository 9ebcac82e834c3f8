#pragma once
// Small helpers every file-reading plugin needs: a record's origin ("usage.csv:42") built in
// place, and the bytes of a set of files for progress totals. (They were copied in the aws,
// custom, focus, gcp and azure plugins.)

#include <charconv>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

namespace billdrop {

// "usage.csv:42" into `out`, reusing its storage: no allocation per record once it has grown.
inline void make_origin(std::string& out, std::string_view name, std::uint64_t line) {
  out.assign(name);
  out += ':';
  char digits[24];
  out.append(digits, std::to_chars(digits, digits + sizeof digits, line).ptr);
}

// The bytes of a file, 0 when its size cannot be read (progress only: the read itself reports).
inline std::uint64_t file_bytes(const std::filesystem::path& file) {
  std::error_code ec;
  const std::uintmax_t size = std::filesystem::file_size(file, ec);
  return ec ? 0 : static_cast<std::uint64_t>(size);
}

// The bytes of `files` together, for RowSink::progress totals.
inline std::uint64_t total_bytes(std::span<const std::filesystem::path> files) {
  std::uint64_t total = 0;
  for (const std::filesystem::path& file : files)
    total += file_bytes(file);
  return total;
}

} // namespace billdrop
