#include <billdrop/growing_file.hpp>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <random>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <utility>
#include <vector>

namespace billdrop {

namespace fs = std::filesystem;

namespace {

// How long a reader sleeps between looks when no change wakes it (inotify missing or a missed
// event): the longest a failure can take to reach a reader.
constexpr int kLookMs = 50;

// The status of `file` for each ancestor folder named `objects` (deepest first): usually one.
std::vector<fs::path> status_candidates(const fs::path& file) {
  std::vector<fs::path> out;
  std::error_code ec; // no current directory: the path as given
  fs::path absolute = file.is_absolute() ? file : fs::absolute(file, ec);
  if (ec)
    absolute = file;
  fs::path below; // the file's path below the ancestor being looked at
  fs::path at = absolute.lexically_normal();
  while (at.has_relative_path()) {
    below = below.empty() ? at.filename() : at.filename() / below;
    at = at.parent_path();
    if (at.filename() == "objects")
      out.push_back(at.parent_path() / "growing" / below);
  }
  return out;
}

// Reads a status file; nullopt when it does not exist (or cannot be read as one, which only a
// writer between its steps could leave: treated as gone only when it stays so, see callers).
std::optional<GrowingStatus> read_status_fd(int fd) {
  std::string text;
  char block[512];
  for (;;) {
    const ssize_t n = ::pread(fd, block, sizeof block, static_cast<off_t>(text.size()));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    text.append(block, static_cast<std::size_t>(n));
    if (text.size() > (64u << 10))
      break;
  }
  const std::size_t newline = text.find('\n');
  if (newline == std::string::npos)
    return std::nullopt;
  GrowingStatus status;
  const std::string head = text.substr(0, newline);
  unsigned long long size = 0;
  int retryable = 0;
  if (std::sscanf(head.c_str(), "writing %llu", &size) == 1) {
    status.failed = false;
  } else if (std::sscanf(head.c_str(), "failed %llu %d", &size, &retryable) == 2) {
    status.failed = true;
    status.retryable = retryable != 0;
  } else {
    return std::nullopt;
  }
  status.size = size;
  status.detail = text.substr(newline + 1);
  while (!status.detail.empty() && status.detail.back() == '\n')
    status.detail.pop_back();
  return status;
}

int open_status(const fs::path& status) {
  int fd;
  do {
    fd = ::open(status.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

std::optional<GrowingStatus> read_status(const fs::path& status) {
  const int fd = open_status(status);
  if (fd < 0)
    return std::nullopt;
  std::optional<GrowingStatus> out = read_status_fd(fd);
  ::close(fd);
  return out;
}

// Is the writer of the status open as `fd` still there (holding its lock)?
bool writer_alive(int fd) {
  if (::flock(fd, LOCK_SH | LOCK_NB) == 0) {
    ::flock(fd, LOCK_UN);
    return false;
  }
  return errno == EWOULDBLOCK;
}

// Writes `text` into a new file beside `target`; returns its descriptor (open, for a lock) and
// path, or -1.
int write_beside(const fs::path& target, const std::string& text, fs::path& written) {
  static thread_local std::mt19937_64 random{std::random_device{}()};
  written = target;
  written += ".tmp-" + std::to_string(random());
  const int fd = ::open(written.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return -1;
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      ::close(fd);
      ::unlink(written.c_str());
      return -1;
    }
    done += static_cast<std::size_t>(n);
  }
  return fd;
}

std::string one_line(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (c == '\n' || c == '\r')
      c = ' ';
  return out;
}

} // namespace

std::optional<GrowingStatus> growing_status(const fs::path& file) {
  for (const fs::path& candidate : status_candidates(file))
    if (std::optional<GrowingStatus> status = read_status(candidate))
      return status;
  return std::nullopt;
}

Status wait_until_whole(const fs::path& file) {
  std::optional<detail::GrowingFollower> follower = detail::GrowingFollower::open(file);
  if (!follower)
    return {};
  int fd;
  do {
    fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0)
    return source_error(file.string() + ": cannot open: " + std::strerror(errno));
  for (;;) {
    Result<bool> more = follower->wait(fd, follower->size());
    if (!more) {
      ::close(fd);
      return std::move(more).error();
    }
    if (!*more)
      break;
  }
  ::close(fd);
  return {};
}

// ---- the writer ----

Result<GrowingFileWriter> GrowingFileWriter::announce(const fs::path& objects, const fs::path& file,
                                                      std::uint64_t size, std::string_view what) {
  const fs::path below = file.lexically_normal().lexically_relative(objects.lexically_normal());
  if (objects.filename() != "objects" || below.empty() || *below.begin() == "..")
    return internal_error(file.string() + ": a growing file must lie below a folder 'objects' (" +
                          objects.string() + ")");
  GrowingFileWriter writer;
  writer.status_ = objects.parent_path() / "growing" / below;
  writer.what_ = one_line(what);
  writer.size_ = size;
  std::error_code ec;
  fs::create_directories(writer.status_.parent_path(), ec);
  if (ec)
    return source_error("cannot create " + writer.status_.parent_path().string() + ": " +
                        ec.message());
  // Locked before it gets its name: no reader ever sees a "writing" status without its writer.
  fs::path written;
  const int fd = write_beside(
      writer.status_, "writing " + std::to_string(size) + "\n" + writer.what_ + "\n", written);
  if (fd < 0)
    return source_error("cannot write " + written.string() + ": " + std::strerror(errno));
  if (::flock(fd, LOCK_EX) != 0 || ::rename(written.c_str(), writer.status_.c_str()) != 0) {
    const int error = errno;
    ::close(fd);
    ::unlink(written.c_str());
    return source_error("cannot write " + writer.status_.string() + ": " + std::strerror(error));
  }
  writer.lock_fd_ = fd;
  return writer;
}

GrowingFileWriter::GrowingFileWriter(GrowingFileWriter&& other) noexcept
    : status_(std::move(other.status_)), what_(std::move(other.what_)), size_(other.size_),
      lock_fd_(std::exchange(other.lock_fd_, -1)) {}

GrowingFileWriter& GrowingFileWriter::operator=(GrowingFileWriter&& other) noexcept {
  if (this != &other) {
    if (lock_fd_ >= 0)
      fail(source_error(what_ + ": the download stopped before its end", true));
    status_ = std::move(other.status_);
    what_ = std::move(other.what_);
    size_ = other.size_;
    lock_fd_ = std::exchange(other.lock_fd_, -1);
  }
  return *this;
}

GrowingFileWriter::~GrowingFileWriter() {
  if (lock_fd_ >= 0)
    fail(source_error(what_ + ": the download stopped before its end", true));
}

void GrowingFileWriter::release() noexcept {
  if (lock_fd_ >= 0)
    ::close(lock_fd_);
  lock_fd_ = -1;
}

void GrowingFileWriter::finish() {
  if (lock_fd_ < 0)
    return;
  // The bytes are all in the file before this: a reader that finds no status reads to the end.
  ::unlink(status_.c_str());
  release();
}

void GrowingFileWriter::fail(const Error& error) {
  if (lock_fd_ < 0)
    return;
  fs::path written;
  const int fd =
      write_beside(status_,
                   "failed " + std::to_string(size_) + " " + (error.retryable() ? "1" : "0") +
                       "\n" + one_line(error.message()) + "\n",
                   written);
  if (fd >= 0) {
    ::close(fd);
    if (::rename(written.c_str(), status_.c_str()) != 0)
      ::unlink(written.c_str());
  }
  // Could the failure not be written, the "writing" status stays with its lock released: readers
  // fail with "the writer went away", never read a short file as whole.
  release();
}

// ---- the reader ----

namespace detail {

GrowingFollower::GrowingFollower(fs::path file, fs::path status, std::uint64_t size)
    : file_(std::move(file)), status_(std::move(status)), size_(size) {}

GrowingFollower::GrowingFollower(GrowingFollower&& other) noexcept
    : file_(std::move(other.file_)), status_(std::move(other.status_)), size_(other.size_),
      notify_fd_(std::exchange(other.notify_fd_, -1)),
      watching_(std::exchange(other.watching_, false)) {}

GrowingFollower& GrowingFollower::operator=(GrowingFollower&& other) noexcept {
  if (this != &other) {
    if (notify_fd_ >= 0)
      ::close(notify_fd_);
    file_ = std::move(other.file_);
    status_ = std::move(other.status_);
    size_ = other.size_;
    notify_fd_ = std::exchange(other.notify_fd_, -1);
    watching_ = std::exchange(other.watching_, false);
  }
  return *this;
}

GrowingFollower::~GrowingFollower() {
  if (notify_fd_ >= 0)
    ::close(notify_fd_);
}

std::optional<GrowingFollower> GrowingFollower::open(const fs::path& file) {
  for (const fs::path& candidate : status_candidates(file))
    if (std::optional<GrowingStatus> status = read_status(candidate))
      return GrowingFollower(file, candidate, status->size);
  return std::nullopt;
}

void GrowingFollower::watch() noexcept {
  if (watching_)
    return;
  watching_ = true;
  notify_fd_ = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (notify_fd_ < 0)
    return;
  // The file's bytes (written through any of its names), and its status being replaced or
  // removed.
  ::inotify_add_watch(notify_fd_, file_.c_str(), IN_MODIFY | IN_CLOSE_WRITE);
  ::inotify_add_watch(notify_fd_, status_.parent_path().c_str(),
                      IN_MOVED_TO | IN_DELETE | IN_CREATE);
}

void GrowingFollower::block() noexcept {
  if (notify_fd_ < 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    return;
  }
  pollfd waiting{notify_fd_, POLLIN, 0};
  if (::poll(&waiting, 1, kLookMs) > 0) {
    char events[4096];
    while (::read(notify_fd_, events, sizeof events) > 0) {
    }
  }
}

Result<bool> GrowingFollower::wait(int fd, std::uint64_t position) {
  const std::string name = file_.string();
  // Watched before the first look: a change after it wakes block(), none is missed.
  watch();
  for (;;) {
    struct stat info {};
    if (::fstat(fd, &info) != 0)
      return source_error(name + ": cannot read its size: " + std::strerror(errno));
    const auto now = static_cast<std::uint64_t>(info.st_size);
    if (now > size_)
      return source_error(name + ": holds " + std::to_string(now) + " bytes, more than the " +
                          std::to_string(size_) + " its download announced");
    if (now > position)
      return true;
    const int status_fd = open_status(status_);
    if (status_fd < 0) {
      // No status: the writer finished, so every byte is there (it removes the status last).
      if (::fstat(fd, &info) == 0 && static_cast<std::uint64_t>(info.st_size) > position)
        return true;
      if (position == size_)
        return false;
      return source_error(name + ": ends after " + std::to_string(position) + " of the " +
                          std::to_string(size_) + " bytes its download announced");
    }
    std::optional<GrowingStatus> status = read_status_fd(status_fd);
    if (!status) {
      ::close(status_fd);
      return source_error(name + ": its download status " + status_.string() + " cannot be read");
    }
    const bool alive = status && !status->failed && writer_alive(status_fd);
    ::close(status_fd);
    if (status && status->failed)
      return source_error(name + ": " + status->detail, status->retryable);
    if (!alive) {
      // The writer let go: it may have just finished or failed (a new status); look once more.
      std::optional<GrowingStatus> again = read_status(status_);
      if (!again)
        continue;
      if (again->failed)
        return source_error(name + ": " + again->detail, again->retryable);
      return source_error(name + ": its download (" + status->detail +
                              ") stopped before its end: the process writing it is gone",
                          true);
    }
    block();
  }
}

} // namespace detail

} // namespace billdrop
