#include "snapshot/snapshot_reader.hpp"

#include "core/numbers.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace billdrop::snapshot {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kUsageStartPrefix = "{\"time/usage_start\":\"";
constexpr std::size_t kHourKeyLength = 13; // "YYYY-MM-DDTHH"
// Bytes of rows returned between two releases of the mapping's pages.
constexpr std::size_t kReleaseEveryBytes = 64 * 1024 * 1024;

// Maps a whole file read-only; {nullptr, 0} for an empty file.
Result<std::pair<void*, std::size_t>> map_file(const fs::path& file, std::string_view what) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return file_error("open " + std::string(what), file, errno);
  struct stat status {};
  if (::fstat(fd, &status) != 0) {
    const int error = errno;
    ::close(fd);
    return file_error("read " + std::string(what), file, error);
  }
  const auto size = static_cast<std::size_t>(status.st_size);
  void* map = nullptr;
  if (size > 0) {
    map = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) {
      const int error = errno;
      ::close(fd);
      return file_error("map " + std::string(what), file, error);
    }
  }
  ::close(fd);
  return std::pair<void*, std::size_t>{map, size};
}

} // namespace

Result<SnapshotReader> SnapshotReader::open(const fs::path& rows_file) {
  SnapshotReader reader;
  reader.file_ = rows_file;
  Result<std::pair<void*, std::size_t>> rows = map_file(rows_file, "the snapshot");
  if (!rows)
    return rows.error();
  reader.data_ = static_cast<const char*>(rows->first);
  reader.data_bytes_ = rows->second;

  const fs::path index_file = index_path_for(rows_file);
  std::error_code ec;
  if (fs::exists(index_file, ec)) {
    Result<std::pair<void*, std::size_t>> index = map_file(index_file, "the snapshot index");
    if (!index)
      return index.error();
    reader.index_map_ = index->first;
    reader.index_map_bytes_ = index->second;
    const auto* bytes = static_cast<const char*>(index->first);
    const auto bad = [&](std::string_view what) {
      return data_error("the snapshot index " + index_file.string() + " " + std::string(what) +
                        "; convert the month again");
    };
    if (index->second < kIndexHeaderBytes ||
        std::string_view(bytes, kIndexMagic.size()) != kIndexMagic)
      return bad("is not a billdrop snapshot index");
    std::uint64_t rows_count = 0;
    std::uint64_t rows_bytes = 0;
    std::memcpy(&rows_count, bytes + 8, 8);
    std::memcpy(&rows_bytes, bytes + 16, 8);
    if (rows_bytes != reader.data_bytes_)
      return bad("describes a rows file of " + core::group_thousands(rows_bytes) + " bytes, but " +
                 rows_file.string() + " has " + core::group_thousands(reader.data_bytes_));
    if ((index->second - kIndexHeaderBytes) / sizeof(IndexEntry) != rows_count ||
        (index->second - kIndexHeaderBytes) % sizeof(IndexEntry) != 0)
      return bad("is truncated");
    reader.index_ = reinterpret_cast<const IndexEntry*>(bytes + kIndexHeaderBytes);
    reader.rows_ = rows_count;
    static constexpr char kHex[] = "0123456789abcdef";
    for (std::size_t i = 24; i < 40; ++i) {
      const auto byte = static_cast<unsigned char>(bytes[i]);
      reader.digest_ += kHex[byte >> 4];
      reader.digest_ += kHex[byte & 0xF];
    }
    return reader;
  }

  // No index: every line, in file order.
  std::uint64_t begin = 0;
  while (begin < reader.data_bytes_) {
    const void* newline = std::memchr(reader.data_ + begin, '\n',
                                      reader.data_bytes_ - static_cast<std::size_t>(begin));
    const std::uint64_t end =
        newline == nullptr
            ? reader.data_bytes_
            : static_cast<std::uint64_t>(static_cast<const char*>(newline) - reader.data_);
    reader.lines_.push_back({begin, end - begin});
    begin = end + 1;
  }
  reader.rows_ = reader.lines_.size();
  return reader;
}

SnapshotReader::SnapshotReader(SnapshotReader&& other) noexcept {
  *this = std::move(other);
}

SnapshotReader& SnapshotReader::operator=(SnapshotReader&& other) noexcept {
  if (this == &other)
    return *this;
  unmap();
  file_ = std::move(other.file_);
  data_ = std::exchange(other.data_, nullptr);
  data_bytes_ = std::exchange(other.data_bytes_, 0);
  index_ = std::exchange(other.index_, nullptr);
  index_map_ = std::exchange(other.index_map_, nullptr);
  index_map_bytes_ = std::exchange(other.index_map_bytes_, 0);
  lines_ = std::move(other.lines_);
  digest_ = std::move(other.digest_);
  rows_ = other.rows_;
  next_ = other.next_;
  current_ = other.current_;
  current_offset_ = other.current_offset_;
  touched_ = other.touched_;
  return *this;
}

SnapshotReader::~SnapshotReader() {
  unmap();
}

void SnapshotReader::unmap() noexcept {
  if (data_ != nullptr)
    ::munmap(const_cast<char*>(data_), data_bytes_);
  if (index_map_ != nullptr)
    ::munmap(index_map_, index_map_bytes_);
  data_ = nullptr;
  index_map_ = nullptr;
}

Status SnapshotReader::seek(std::uint64_t position) {
  if (position > rows_)
    return internal_error("cannot seek to row " + std::to_string(position) + " of " +
                          file_.string() + ", which has " + std::to_string(rows_) + " rows");
  next_ = position;
  return {};
}

Result<bool> SnapshotReader::next(std::string_view& json) {
  if (next_ >= rows_)
    return false;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
  if (index_ != nullptr) {
    IndexEntry entry;
    std::memcpy(&entry, index_ + next_, sizeof entry);
    offset = entry.offset;
    length = entry.length;
    const auto mismatch = [&](std::string_view what) {
      return data_error("the snapshot " + file_.string() + " does not match its index at row " +
                        core::group_thousands(next_ + 1) + " (" + std::string(what) +
                        "); it changed after it was built: convert the month again");
    };
    if (offset > data_bytes_ || length >= data_bytes_ - offset)
      return mismatch("the row lies past the end of the file");
    if (data_[offset + length] != '\n')
      return mismatch("the row does not end where the index says");
    if (row_hash(std::string_view(data_ + offset, length)) != entry.hash)
      return mismatch("the row's bytes differ");
  } else {
    offset = lines_[next_].offset;
    length = lines_[next_].length;
  }
  current_ = std::string_view(data_ + offset, length);
  current_offset_ = offset;
  json = current_;
  ++next_;
  touched_ += length;
  if (touched_ >= kReleaseEveryBytes)
    release_pages();
  return true;
}

void SnapshotReader::release_pages() noexcept {
  // The pages stay in the page cache; they only leave this process's resident set, and fault back
  // in (from memory) if a row returned earlier is read again.
  if (data_ != nullptr)
    ::madvise(const_cast<char*>(data_), data_bytes_, MADV_DONTNEED);
  touched_ = 0;
}

std::string_view SnapshotReader::hour() const noexcept {
  if (current_.starts_with(kUsageStartPrefix) &&
      current_.size() >= kUsageStartPrefix.size() + kHourKeyLength)
    return current_.substr(kUsageStartPrefix.size(), kHourKeyLength);
  return {};
}

std::string SnapshotReader::where() const {
  if (index_ != nullptr)
    return "the row at byte " + core::group_thousands(current_offset_) + " of " + file_.string();
  return "line " + core::group_thousands(next_) + " of " + file_.string();
}

} // namespace billdrop::snapshot
