#include "core/file_lock.hpp"

#include <cerrno>
#include <cstring>
#include <string>
#include <thread>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace billdrop::core {

FileLock::FileLock(FileLock&& other) noexcept : fd_(other.fd_) {
  other.fd_ = -1;
}

FileLock& FileLock::operator=(FileLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

FileLock::~FileLock() {
  if (fd_ >= 0)
    ::close(fd_); // releases the flock
}

namespace {

std::string holder_pid(int fd) {
  char text[32] = {};
  const ssize_t n = ::pread(fd, text, sizeof text - 1, 0);
  if (n <= 0)
    return "";
  std::string pid(text, static_cast<std::size_t>(n));
  while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' '))
    pid.pop_back();
  return pid;
}

} // namespace

Result<FileLock> FileLock::acquire(const std::filesystem::path& file, const std::string& what,
                                   std::chrono::milliseconds wait) {
  std::error_code ec;
  std::filesystem::create_directories(file.parent_path(), ec);
  if (ec)
    return source_error("cannot create " + file.parent_path().string() + ": " + ec.message());
  const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    return source_error("cannot open the lock file " + file.string() + ": " + std::strerror(errno));
  const auto deadline = std::chrono::steady_clock::now() + wait;
  while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EINTR)
      continue;
    if (errno != EWOULDBLOCK) {
      const std::string reason = std::strerror(errno);
      ::close(fd);
      return source_error("cannot lock " + file.string() + ": " + reason);
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      const std::string pid = holder_pid(fd);
      ::close(fd);
      return Error(ErrorKind::source,
                   what + " is in use by another billdrop process" +
                       (pid.empty() ? std::string() : " (pid " + pid + ")") +
                       ": one sync of a connection runs at a time; wait for it to finish (lock " +
                       file.string() + ")",
                   /*retryable=*/true);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    // The lock holds without the pid; only the message of a refused caller is poorer.
  }
  return FileLock(fd);
}

} // namespace billdrop::core
