#include "snapshot/snapshot_index.hpp"

// xxHash compiled into this file (header-only mode): the hash functions inline where they are
// used and nothing needs to be linked.
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <cerrno>
#include <cstring>

namespace billdrop::snapshot {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kIndexBufferBytes = 1024 * 1024;

void put_u64(char* at, std::uint64_t value) noexcept {
  std::memcpy(at, &value, 8);
}

} // namespace

Error file_error(std::string_view action, const fs::path& file, int error_number) {
  return source_error("cannot " + std::string(action) + " " + file.string() + ": " +
                      std::strerror(error_number));
}

namespace detail {
#if defined(__x86_64__) && !defined(__AVX2__)
std::uint64_t row_hash_avx2(const char* data, std::size_t size) noexcept; // row_hash_avx2.cpp
#endif
} // namespace detail

// Every row is hashed once as it is added (about a tenth of a rows's validation): with AVX2 the
// kernel takes 32 bytes a step instead of 16.
std::uint64_t row_hash(std::string_view row) noexcept {
#if defined(__x86_64__) && !defined(__AVX2__)
  static const bool avx2 = __builtin_cpu_supports("avx2");
  if (avx2)
    return detail::row_hash_avx2(row.data(), row.size());
#endif
  return XXH3_64bits(row.data(), row.size());
}

Hash128 hash128(std::string_view bytes) noexcept {
  const XXH128_hash_t hash = XXH3_128bits(bytes.data(), bytes.size());
  return Hash128{hash.low64, hash.high64};
}

fs::path index_path_for(const fs::path& rows_file) {
  fs::path index = rows_file;
  index.replace_extension(".index");
  return index;
}

// Records are gathered and hashed a block at a time: fewer calls, and the same result as hashing
// them one by one.
struct SnapshotDigest::State {
  XXH3_state_t xxh;
  std::array<char, 12 * 256> block;
  std::size_t used = 0;

  void flush() noexcept {
    XXH3_128bits_update(&xxh, block.data(), used);
    used = 0;
  }
};

SnapshotDigest::SnapshotDigest() : state_(std::make_unique<State>()) {
  XXH3_128bits_reset(&state_->xxh);
}
SnapshotDigest::~SnapshotDigest() = default;
SnapshotDigest::SnapshotDigest(SnapshotDigest&&) noexcept = default;
SnapshotDigest& SnapshotDigest::operator=(SnapshotDigest&&) noexcept = default;

void SnapshotDigest::add(std::uint64_t hash, std::uint32_t length) noexcept {
  State& s = *state_;
  if (s.used == s.block.size())
    s.flush();
  std::memcpy(s.block.data() + s.used, &hash, 8);
  std::memcpy(s.block.data() + s.used + 8, &length, 4);
  s.used += 12;
}

std::string SnapshotDigest::hex(std::array<unsigned char, 16>* bytes) const {
  state_->flush();
  XXH128_canonical_t canonical;
  XXH128_canonicalFromHash(&canonical, XXH3_128bits_digest(&state_->xxh));
  static constexpr char kHex[] = "0123456789abcdef";
  std::string text;
  text.reserve(32);
  for (unsigned char byte : canonical.digest) {
    text += kHex[byte >> 4];
    text += kHex[byte & 0xF];
  }
  if (bytes != nullptr)
    std::memcpy(bytes->data(), canonical.digest, 16);
  return text;
}

// ---- IndexWriter ----

IndexWriter::~IndexWriter() {
  if (file_ != nullptr)
    std::fclose(file_);
}

Status IndexWriter::open(const fs::path& path) {
  path_ = path;
  file_ = std::fopen(path.c_str(), "wb");
  if (file_ == nullptr)
    return file_error("create", path, errno);
  buffer_.reserve(kIndexBufferBytes);
  buffer_.assign(kIndexHeaderBytes, '\0'); // the header is written last, in place
  return {};
}

void IndexWriter::add(const IndexEntry& entry) {
  digest_.add(entry.hash, entry.length);
  ++rows_;
  buffer_.append(reinterpret_cast<const char*>(&entry), sizeof entry);
  if (buffer_.size() >= kIndexBufferBytes)
    flush();
}

void IndexWriter::flush() {
  if (!buffer_.empty() && std::fwrite(buffer_.data(), 1, buffer_.size(), file_) != buffer_.size())
    throw ErrorException(file_error("write", path_, errno != 0 ? errno : EIO));
  buffer_.clear();
}

Result<std::string> IndexWriter::finish(std::uint64_t rows_file_bytes) {
  try {
    flush();
  } catch (const ErrorException& e) {
    return e.error();
  }
  std::array<unsigned char, 16> digest{};
  std::string hex = digest_.hex(&digest);
  char header[kIndexHeaderBytes] = {};
  std::memcpy(header, kIndexMagic.data(), kIndexMagic.size());
  put_u64(header + 8, rows_);
  put_u64(header + 16, rows_file_bytes);
  std::memcpy(header + 24, digest.data(), digest.size());
  const bool written = std::fseek(file_, 0, SEEK_SET) == 0 &&
                       std::fwrite(header, 1, sizeof header, file_) == sizeof header;
  const int write_errno = errno;
  const int closed = std::fclose(file_);
  file_ = nullptr;
  if (!written || closed != 0)
    return file_error("write", path_, !written ? write_errno : errno);
  return hex;
}

} // namespace billdrop::snapshot
