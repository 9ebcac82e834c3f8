#pragma once
// The index of a month snapshot and the snapshot's digest.
//
// A snapshot's rows file (<M>.ndjson) holds the rows in the order they arrived; its index
// (<M>.index) lists them in hour order, so the rows are written once and only 24 bytes a row are
// ever sorted. Index file, all integers little-endian:
//
//   bytes  0-7   magic "BDSNAPX1"
//   bytes  8-15  u64 number of rows
//   bytes 16-23  u64 size of the rows file in bytes
//   bytes 24-39  the snapshot digest (XXH3-128, canonical big-endian bytes)
//   bytes 40-63  zero
//   then per row, in snapshot order (hour, then arrival):
//                u64 byte offset of the row in the rows file, u32 length without its '\n',
//                u32 hour of the month (0 = the 1st, 00:00 UTC), u64 XXH3-64 of the row's bytes
//
// The digest identifies the rows and their order: XXH3-128 over, for each row in snapshot order,
// its XXH3-64 (u64) and length (u32), little-endian. It feeds the plan digest and so the
// idempotency keys. XXH3 (xxHash 0.8, stable output) rather than SHA-256: hashing a 700 MB month
// with SHA-256 took as long as validating it, and nothing here needs resistance to an attacker
// who controls the billing data. The per-row hashes also let a reader check every row it returns.

#include <billdrop/result.hpp>

#include <array>
#include <bit>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace billdrop::snapshot {

static_assert(std::endian::native == std::endian::little,
              "snapshot indexes are written in the host's byte order, which must be little-endian");

struct IndexEntry {
  std::uint64_t offset = 0;
  std::uint32_t length = 0;
  std::uint32_t hour = 0;
  std::uint64_t hash = 0;
};
static_assert(sizeof(IndexEntry) == 24);

inline constexpr std::string_view kIndexMagic = "BDSNAPX1";
inline constexpr std::size_t kIndexHeaderBytes = 64;

// "cannot <action> <file>: <what the system says>", the source error of every snapshot file.
Error file_error(std::string_view action, const std::filesystem::path& file, int error_number);

// XXH3-64 of a row's bytes (without its '\n').
std::uint64_t row_hash(std::string_view row) noexcept;

// XXH3-128 of `bytes`: a key for a set too large to hold the bytes themselves (the identities of
// an increment's rows), where a 64-bit hash would collide too often to rely on.
struct Hash128 {
  std::uint64_t low = 0;
  std::uint64_t high = 0;
  bool operator==(const Hash128&) const = default;
};
Hash128 hash128(std::string_view bytes) noexcept;

// The index beside a rows file: "2024-08.ndjson" -> "2024-08.index".
std::filesystem::path index_path_for(const std::filesystem::path& rows_file);

class SnapshotDigest {
public:
  SnapshotDigest();
  ~SnapshotDigest();
  SnapshotDigest(SnapshotDigest&&) noexcept;
  SnapshotDigest& operator=(SnapshotDigest&&) noexcept;

  void add(std::uint64_t hash, std::uint32_t length) noexcept;
  void add_row(std::string_view row) noexcept {
    add(row_hash(row), static_cast<std::uint32_t>(row.size()));
  }
  // 32 lowercase hex digits (the canonical big-endian bytes); `bytes` gets those bytes.
  std::string hex(std::array<unsigned char, 16>* bytes = nullptr) const;

private:
  struct State;
  std::unique_ptr<State> state_;
};

// Writes an index file: entries in snapshot order, then the header (rows, rows file size, digest).
class IndexWriter {
public:
  IndexWriter() = default;
  ~IndexWriter();
  IndexWriter(const IndexWriter&) = delete;
  IndexWriter& operator=(const IndexWriter&) = delete;

  Status open(const std::filesystem::path& path);
  void add(const IndexEntry& entry); // throws ErrorException on a write error
  // Writes the header and closes the file; returns the digest in hex.
  Result<std::string> finish(std::uint64_t rows_file_bytes);

private:
  void flush();

  std::filesystem::path path_;
  std::FILE* file_ = nullptr;
  std::string buffer_;
  std::uint64_t rows_ = 0;
  SnapshotDigest digest_;
};

} // namespace billdrop::snapshot
