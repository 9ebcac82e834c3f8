#pragma once
// An exclusive lock held through a file (flock), across processes and threads alike: one sync of
// a connection at a time, whoever runs it (`run`, `push`, `plan`, a daemon). The holder's pid is
// written into the file so that a refused caller can say who holds it. The kernel releases the
// lock when its holder dies, `kill -9` included: a stale lock file is never a problem.

#include <billdrop/result.hpp>

#include <chrono>
#include <filesystem>
#include <string>

namespace billdrop::core {

class FileLock {
public:
  FileLock() = default;
  FileLock(FileLock&& other) noexcept;
  FileLock& operator=(FileLock&& other) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();

  // Takes the lock, waiting up to `wait` (zero: not at all) while another holder has it. The
  // error (ErrorKind::source, retryable) names `what` and the holder's pid.
  static Result<FileLock> acquire(const std::filesystem::path& file, const std::string& what,
                                  std::chrono::milliseconds wait = std::chrono::milliseconds(0));

  bool held() const noexcept { return fd_ >= 0; }

private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

} // namespace billdrop::core
