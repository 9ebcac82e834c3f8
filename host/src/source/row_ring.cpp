#include "source/row_ring.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace billdrop::source::runner {

RowRing::~RowRing() {
  if (data_ != nullptr)
    ::munmap(data_, capacity_);
  close_fd();
}

RowRing::RowRing(RowRing&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), data_(std::exchange(other.data_, nullptr)),
      capacity_(std::exchange(other.capacity_, 0)) {}

RowRing& RowRing::operator=(RowRing&& other) noexcept {
  if (this != &other) {
    RowRing old(std::move(*this));
    fd_ = std::exchange(other.fd_, -1);
    data_ = std::exchange(other.data_, nullptr);
    capacity_ = std::exchange(other.capacity_, 0);
  }
  return *this;
}

void RowRing::close_fd() {
  if (fd_ >= 0)
    ::close(fd_);
  fd_ = -1;
}

std::optional<RowRing> RowRing::create(std::size_t capacity, std::string& error) {
  const auto failed = [&error](const char* what) -> std::optional<RowRing> {
    error = std::string(what) + ": " + std::strerror(errno);
    return std::nullopt;
  };
  RowRing ring;
  const int fd = ::memfd_create("billdrop-row-ring", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0)
    return failed("memfd_create");
  // At 10 or above, as the runner's other descriptors (process_session.cpp, high_fd()): the
  // spawn's dup2 to kRingFd must not overwrite one still to be moved.
  ring.fd_ = ::fcntl(fd, F_DUPFD_CLOEXEC, 10);
  ::close(fd);
  if (ring.fd_ < 0)
    return failed("fcntl(F_DUPFD_CLOEXEC)");
  if (::ftruncate(ring.fd_, static_cast<off_t>(capacity)) != 0)
    return failed("ftruncate");
  if (::fcntl(ring.fd_, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0)
    return failed("fcntl(F_ADD_SEALS)");
  void* data = ::mmap(nullptr, capacity, PROT_READ, MAP_SHARED, ring.fd_, 0);
  if (data == MAP_FAILED)
    return failed("mmap");
  ring.data_ = static_cast<char*>(data);
  ring.capacity_ = capacity;
  return ring;
}

std::optional<RowRing> RowRing::map_writable(int fd, std::size_t capacity, std::string& error) {
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    error = std::string("fstat: ") + std::strerror(errno);
    return std::nullopt;
  }
  if (capacity == 0 || static_cast<std::size_t>(info.st_size) != capacity) {
    error = "the ring holds " + std::to_string(info.st_size) + " bytes, not " +
            std::to_string(capacity);
    return std::nullopt;
  }
  void* data = ::mmap(nullptr, capacity, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (data == MAP_FAILED) {
    error = std::string("mmap: ") + std::strerror(errno);
    return std::nullopt;
  }
  RowRing ring;
  ring.fd_ = fd;
  ring.data_ = static_cast<char*>(data);
  ring.capacity_ = capacity;
  return ring;
}

} // namespace billdrop::source::runner
