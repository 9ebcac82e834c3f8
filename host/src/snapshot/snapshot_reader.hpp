#pragma once
// Reads a month snapshot's rows in snapshot order (by hour, arrival order within an hour).
//
// With an index beside the rows file (snapshot_index.hpp), rows come in index order and each one
// is checked against the index (offset, length, hash): a rows file that changed since it was
// indexed is an error, never a wrong row. Without an index, the rows file is read in file order
// (a hand-written snapshot must be sorted by hour itself; the planner checks).
//
// The rows file is memory-mapped, so a row is a view into the page cache with no copy; the
// mapping's pages are released from this process every few tens of megabytes, so reading a large
// snapshot does not grow the resident set with it. billdrop replaces snapshot files by renaming
// new ones over them, which leaves an open reader on the old file; a rows file truncated in place
// by another program while a reader has it open ends the process with SIGBUS, as with any
// memory-mapped file.

#include "snapshot/snapshot_index.hpp"

#include <billdrop/result.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace billdrop::snapshot {

class SnapshotReader {
public:
  static Result<SnapshotReader> open(const std::filesystem::path& rows_file);

  SnapshotReader(SnapshotReader&& other) noexcept;
  SnapshotReader& operator=(SnapshotReader&& other) noexcept;
  SnapshotReader(const SnapshotReader&) = delete;
  SnapshotReader& operator=(const SnapshotReader&) = delete;
  ~SnapshotReader();

  std::uint64_t rows() const noexcept { return rows_; }
  bool indexed() const noexcept { return index_ != nullptr; }
  // The snapshot digest recorded in the index (hex), or "" without an index. Compared with the
  // summary's and the plan's, it tells a rows file and index replaced since they were planned.
  const std::string& digest() const noexcept { return digest_; }
  const std::filesystem::path& file() const noexcept { return file_; }

  // Makes row `position` (0-based, in snapshot order) the next one returned.
  Status seek(std::uint64_t position);
  // The next row's JSON without its '\n' (valid while the reader lives), or false at the end.
  Result<bool> next(std::string_view& json);
  // Position of the row last returned.
  std::uint64_t position() const noexcept { return next_ - 1; }
  // "YYYY-MM-DDTHH" of the row last returned, from its text (snapshot rows start with
  // {"time/usage_start":"…); empty when the row does not.
  std::string_view hour() const noexcept;
  // Where the row last returned is, for messages: "line 12 of F" without an index, "the row at
  // byte 1,234 of F" with one.
  std::string where() const;

private:
  struct Line {
    std::uint64_t offset;
    std::uint64_t length;
  };

  SnapshotReader() = default;
  void release_pages() noexcept;
  void unmap() noexcept;

  std::filesystem::path file_;
  const char* data_ = nullptr; // the mapped rows file
  std::size_t data_bytes_ = 0;
  const IndexEntry* index_ = nullptr; // into the mapped index, or null
  void* index_map_ = nullptr;
  std::size_t index_map_bytes_ = 0;
  std::vector<Line> lines_; // without an index: every line of the rows file
  std::string digest_;
  std::uint64_t rows_ = 0;
  std::uint64_t next_ = 0;
  std::string_view current_;
  std::uint64_t current_offset_ = 0;
  std::size_t touched_ = 0; // bytes returned since the pages were last released
};

} // namespace billdrop::snapshot
