#pragma once
// Files the host is still writing: the objects of a remote path (s3://, az://, gs://) that the
// host's mirror is downloading while the plugin already reads them (docs/abi.md, "Growing
// files"). open_file() and ParquetReader::open() follow such a file: a read waits for the bytes
// still to come and ends only once the file is whole; when the download fails, or the object
// changed while it was being read, the read fails with the host's message, never ending early.
//
// The protocol lives in the file system, so a plugin in another process (isolation = "process")
// sees it too. A file below a folder named `objects` is growing while its *status*,
// `<that folder's parent>/growing/<the file's path below objects>`, exists. The writer
//   - creates the status (holding an exclusive flock on it) before the file appears,
//   - keeps the lock while it writes, and removes the status only once every byte is in the file;
//   - when it fails, replaces the status with one that says why, kept until readers are done.
// A reader that finds the status saying "writing" but unlocked knows the writer went away.
//
// Only a plugin that declares it (`reads_growing_files` in its descriptor, ABI 1.5) is started
// before the download ends: its every file read must go through open_file(), ParquetReader, or
// wait_until_whole() first.

#include <billdrop/result.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace billdrop {

struct GrowingStatus {
  bool failed = false;
  bool retryable = false; // failed: may a later run succeed (a broken transfer), or not
  std::uint64_t size = 0; // the size the file will have when whole
  std::string detail;     // writing: what is being downloaded; failed: the writer's message
};

// The status of `file` while it grows (or after its writer failed); nullopt when `file` is not
// growing (a whole file, or one outside any mirror).
std::optional<GrowingStatus> growing_status(const std::filesystem::path& file);

// Waits until `file` is whole; returns at once for a file that is not growing. Fails with the
// writer's message when its download failed, or when the writer stopped without finishing. For
// a plugin that reads a file other than through open_file() or ParquetReader (std::ifstream, a
// library that opens the path itself).
Status wait_until_whole(const std::filesystem::path& file);

// The writer's side (the host's remote mirror). Not copyable; movable.
class GrowingFileWriter {
public:
  // Announces `file`, below the folder `objects` (named so), as growing to `size` bytes before
  // it is created (or replaced); `what` names it in the status (an object's URL). The status
  // goes to `objects`' parent even when the file's own path below it holds another `objects`.
  static Result<GrowingFileWriter> announce(const std::filesystem::path& objects,
                                            const std::filesystem::path& file, std::uint64_t size,
                                            std::string_view what);

  GrowingFileWriter(GrowingFileWriter&& other) noexcept;
  GrowingFileWriter& operator=(GrowingFileWriter&& other) noexcept;
  GrowingFileWriter(const GrowingFileWriter&) = delete;
  GrowingFileWriter& operator=(const GrowingFileWriter&) = delete;
  // Neither finished nor failed: fails with "the download of <what> stopped before its end".
  ~GrowingFileWriter();

  // Every byte is in the file: readers read to its end.
  void finish();
  // Readers fail with `message` (which names the object and what went wrong).
  void fail(const Error& error);

  // Where the status is (removed by the writer's owner once readers are done with a failure).
  const std::filesystem::path& status_path() const noexcept { return status_; }

private:
  GrowingFileWriter() = default;
  void release() noexcept;

  std::filesystem::path status_;
  std::string what_;
  std::uint64_t size_ = 0;
  int lock_fd_ = -1;
};

namespace detail {

// A reader's view of one growing file (used by open_file() and the Parquet reader).
class GrowingFollower {
public:
  // nullopt when `file` is not growing; `status` is its first status.
  static std::optional<GrowingFollower> open(const std::filesystem::path& file);
  GrowingFollower(GrowingFollower&& other) noexcept;
  GrowingFollower& operator=(GrowingFollower&& other) noexcept;
  GrowingFollower(const GrowingFollower&) = delete;
  GrowingFollower& operator=(const GrowingFollower&) = delete;
  ~GrowingFollower();

  std::uint64_t size() const noexcept { return size_; }

  // Called when a read of the file open as `fd` at `position` found no bytes: waits until more
  // can be read (true) or the file is whole and `position` is its end (false). Errors name the
  // file: the writer's failure, a writer gone, a whole file of another size than announced.
  Result<bool> wait(int fd, std::uint64_t position);

private:
  GrowingFollower(std::filesystem::path file, std::filesystem::path status, std::uint64_t size);
  void watch() noexcept; // the file and its status, from the first wait on
  void block() noexcept; // until the file or its status changes, or a short timeout

  std::filesystem::path file_;
  std::filesystem::path status_;
  std::uint64_t size_ = 0;
  int notify_fd_ = -1; // inotify, made on the first wait; -1 also when unavailable
  bool watching_ = false;
};

} // namespace detail

} // namespace billdrop
