#include "source/process_session.hpp"

#include "core/log.hpp"
#include "source/row_ring.hpp"
#include "source/runner_protocol.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <functional>
#include <new>
#include <optional>
#include <thread>

extern char** environ;

namespace billdrop::source {
namespace {

using Clock = std::chrono::steady_clock;
using runner::Frame;

std::string signal_text(int number) {
  const char* abbrev = sigabbrev_np(number);
  const char* description = strsignal(number);
  return std::string("SIG") + (abbrev != nullptr ? abbrev : std::to_string(number)) + " (" +
         (description != nullptr ? description : "unknown signal") + ")";
}

bool send_all(int fd, const char* data, std::size_t size) {
  return runner::move_fully(
      data, size, [fd](const char* at, std::size_t n) { return ::send(fd, at, n, MSG_NOSIGNAL); });
}

// A descriptor of ours, at 10 or above, close-on-exec: the runner's file actions move it to its
// place (0-5) without ever overwriting another that is still to be moved, and no other child
// started meanwhile by another thread inherits it.
int high_fd(int fd) {
  if (fd < 0)
    return fd;
  const int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 10);
  ::close(fd);
  return moved;
}

// A pipe; or, for the requests, a socket pair, so that a request to a runner that died meanwhile
// is an error (send() with MSG_NOSIGNAL) rather than a SIGPIPE that ends billdrop.
struct Pipe {
  int read = -1;
  int write = -1;
  bool open(bool socket = false) {
    int fds[2];
    if (socket ? ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0
               : ::pipe2(fds, O_CLOEXEC) != 0)
      return false;
    read = high_fd(fds[0]);
    write = high_fd(fds[1]);
    return read >= 0 && write >= 0;
  }
  void close_both() {
    if (read >= 0)
      ::close(read);
    if (write >= 0)
      ::close(write);
    read = write = -1;
  }
};

std::string frame(Frame type, const std::function<void(runner::Writer&)>& body = {}) {
  std::string out;
  runner::Writer w(out);
  w.begin(type);
  if (body)
    body(w);
  w.end();
  return out;
}

} // namespace

struct ProcessSession::Runner {
  pid_t pid = -1;
  int requests = -1; // we write
  int replies = -1;  // we read
  int out = -1;      // the runner's stdout, which must stay silent
  int alarm = -1;    // one byte when an allocation failed under the memory limit
  // Replies not yet handled: [begin, end) of `buffer`.
  std::vector<char> buffer = std::vector<char>(std::size_t(4) << 20);
  std::size_t begin = 0;
  std::size_t end = 0;
  runner::KeyTable keys; // the column names it sent, by number
  // The shared memory its batches come through; none: every batch comes through the pipe.
  std::optional<runner::RowRing> ring;
  std::uint64_t released = 0;     // the ring's bytes before it are free again...
  std::uint64_t release_sent = 0; // ...and the runner was told up to here
  std::string head;               // a private copy of the head of the batch being read
  std::string printed;            // what it wrote to stdout
  int status = 0;                 // waitpid()'s, once reaped

  ~Runner() {
    for (int fd : {requests, replies, out, alarm})
      if (fd >= 0)
        ::close(fd);
    if (pid > 0) {
      // Without requests the runner destroys the instance and exits; a plugin that lingers in
      // destroy() is killed.
      for (int i = 0; i < 200; ++i) {
        if (::waitpid(pid, &status, WNOHANG) == pid)
          return;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      ::kill(pid, SIGKILL);
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
    }
  }

  void kill_and_reap() {
    if (pid <= 0)
      return;
    ::kill(pid, SIGKILL);
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    pid = -1;
  }
  void reap() {
    if (pid <= 0)
      return;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    pid = -1;
  }
  bool alarm_raised() const {
    char byte = 0;
    return alarm >= 0 && ::read(alarm, &byte, 1) == 1;
  }
  // Whatever the runner printed so far (its stdout is non-blocking on our side).
  void collect_printed() {
    char chunk[4096];
    for (;;) {
      const ssize_t n = ::read(out, chunk, sizeof chunk);
      if (n > 0 && printed.size() < 4096) {
        printed.append(chunk, static_cast<std::size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR)
        continue;
      return;
    }
  }
};

ProcessSession::ProcessSession(std::shared_ptr<const LoadedPlugin> plugin, std::string config_json,
                               ProcessOptions options)
    : plugin_(std::move(plugin)), config_json_(std::move(config_json)),
      options_(std::move(options)),
      host_log_(options_.log ? options_.log : plugin_log(plugin_->name(), options_.connection)) {}

ProcessSession::~ProcessSession() = default;

int ProcessSession::runner_pid() const noexcept {
  return runner_ ? static_cast<int>(runner_->pid) : -1;
}

Result<std::unique_ptr<ProcessSession>>
ProcessSession::create(std::shared_ptr<const LoadedPlugin> plugin, const ConfigValues& config,
                       ProcessOptions options) {
  if (!plugin)
    return internal_error("ProcessSession::create() was given no plugin");
  Result<ConfigValues> values = plugin->schema().validate(plugin->name(), config);
  if (!values)
    return std::move(values).error();
  std::unique_ptr<ProcessSession> session(
      new ProcessSession(std::move(plugin), config_to_json(*values), std::move(options)));
  if (Status started = session->ensure_runner(); !started)
    return std::move(started).error();
  return session;
}

Status ProcessSession::ensure_runner() {
  if (runner_)
    return {};
  auto child = std::make_unique<Runner>();
  Pipe requests, replies, out, alarm;
  if (!requests.open(true) || !replies.open() || !out.open() || !alarm.open()) {
    const int error = errno;
    requests.close_both();
    replies.close_both();
    out.close_both();
    alarm.close_both();
    return internal_error("cannot create the pipes of plugin '" + name() +
                          "''s runner: " + std::strerror(error));
  }
  // The ring, before the runner exists (row_ring.hpp: it is sealed against shrinking). Without
  // one the rows come through the pipe, slower but the same.
  if (options_.ring_bytes > 0) {
    std::string error;
    child->ring = runner::RowRing::create(options_.ring_bytes, error);
    if (!child->ring)
      log::warn("runner.ring_unavailable",
                {{"plugin", name()},
                 {"message", "the plugin runner's rows come through its pipe instead of shared "
                             "memory: " +
                                 error}});
  }
  // Large pipes: a batch of rows goes in a few writes (1 MiB is Linux's default ceiling for an
  // unprivileged process; a smaller pipe only costs more wake-ups).
  ::fcntl(replies.write, F_SETPIPE_SZ, 1 << 20);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out.write, 1);
  posix_spawn_file_actions_adddup2(&actions, requests.read, runner::kRequestFd);
  posix_spawn_file_actions_adddup2(&actions, replies.write, runner::kReplyFd);
  posix_spawn_file_actions_adddup2(&actions, alarm.write, runner::kAlarmFd);
  if (child->ring)
    posix_spawn_file_actions_adddup2(&actions, child->ring->fd(), runner::kRingFd);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t none;
  sigemptyset(&none);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  sigaddset(&defaults, SIGTERM);
  posix_spawnattr_setsigmask(&attributes, &none);
  posix_spawnattr_setsigdefault(&attributes, &defaults);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  const std::string runner_path = options_.runner.string();
  std::string argv0 = "billdrop";
  std::string subcommand = runner::kSubcommand;
  std::string plugin_name = name(); // shown by ps: which plugin a runner runs
  char* argv[] = {argv0.data(), subcommand.data(), plugin_name.data(), nullptr};
  pid_t pid = -1;
  const int spawned =
      ::posix_spawn(&pid, runner_path.c_str(), &actions, &attributes, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  ::close(requests.read);
  ::close(replies.write);
  ::close(out.write);
  ::close(alarm.write);
  if (child->ring)
    child->ring->close_fd(); // the runner has its own; the mapping keeps ours
  child->requests = requests.write;
  child->replies = replies.read;
  child->out = out.read;
  child->alarm = alarm.read;
  if (spawned != 0)
    return internal_error("cannot start the runner of plugin '" + name() + "' (" + runner_path +
                          " " + runner::kSubcommand + "): " + std::strerror(spawned));
  child->pid = pid;
  ::fcntl(child->out, F_SETFL, O_NONBLOCK);
  ::fcntl(child->alarm, F_SETFL, O_NONBLOCK);
  runner_ = std::move(child);

  const std::string request = frame(Frame::open, [&](runner::Writer& w) {
    w.text(plugin_->path().string());
    w.text(plugin_->name());
    w.text(config_json_);
    w.u64(options_.memory_limit_mb);
    w.u64(runner_->ring ? runner_->ring->capacity() : 0);
  });
  Status opened = call(request, nullptr, "starting");
  if (!opened) {
    runner_.reset(); // create()'s own errors say "plugin 'x' failed to initialise" already
    return opened;
  }
  runner::Reader in(result_.data(), result_.size());
  incremental_ = in.u32() != 0;
  identity_columns_.clear();
  const std::uint32_t columns = in.u32();
  for (std::uint32_t i = 0; i < columns && in.ok(); ++i)
    identity_columns_.emplace_back(in.text());
  one_pass_ = in.u32() != 0 && in.ok();
  return {};
}

Status ProcessSession::call(const std::string& request, RowReceiver* receiver,
                            const std::string& doing) {
  Runner& child = *runner_;
  const auto deadline = options_.timeout.count() > 0
                            ? std::optional<Clock::time_point>(Clock::now() + options_.timeout)
                            : std::nullopt;
  // What the receiver said: stop (on_rows false), or it threw; the runner is told once.
  bool stopped = false;
  std::optional<Error> failure;
  bool stop_sent = false;
  std::vector<bd_row> rows;
  std::vector<bd_field> fields;

  // The runner is gone or must go: why, in a sentence naming the plugin; the next call starts a
  // new one.
  const auto fail = [&](Error error) -> Status {
    child.kill_and_reap();
    runner_.reset();
    return error;
  };
  const auto limit_text = [&] {
    return "memory_limit_mb = " + std::to_string(options_.memory_limit_mb);
  };
  const auto died = [&]() -> Status {
    child.reap();
    const int status = child.status;
    std::string message;
    const bool alarm = child.alarm_raised();
    if (alarm)
      message = "plugin '" + name() + "' exceeded its memory limit (" + limit_text() + ") while " +
                doing + ", and its runner process ";
    else
      message = "plugin '" + name() + "' crashed while " + doing + ": its runner process ";
    if (WIFSIGNALED(status))
      message += "was killed by " + signal_text(WTERMSIG(status));
    else
      message += "exited (status " + std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) +
                 ") instead of returning";
    if (!alarm && options_.memory_limit_mb > 0 && WIFSIGNALED(status))
      message += " (its memory is limited to " + limit_text() +
                 "; a plugin that does not check its allocations can crash at the limit)";
    child.collect_printed();
    if (!child.printed.empty())
      message += "; it printed to stdout " + printable_start(child.printed);
    return fail(internal_error(std::move(message)));
  };
  const auto printed = [&]() -> Status {
    // The rest of a line printed in several writes, for the message: a moment, no more.
    pollfd more{child.out, POLLIN, 0};
    if (child.printed.find('\n') == std::string::npos && ::poll(&more, 1, 50) > 0)
      child.collect_printed();
    return fail(internal_error("plugin '" + name() + "' wrote to stdout while " + doing + " (" +
                               printable_start(child.printed) +
                               "): stdout belongs to billdrop, a plugin must log through its sink; "
                               "its runner process was killed"));
  };
  const auto send_stop = [&] {
    if (stop_sent)
      return;
    stop_sent = true;
    const std::string stop = frame(Frame::stop);
    send_all(child.requests, stop.data(), stop.size()); // a dead runner shows as EOF below
  };

  // Gives the runner back the ring's bytes of the batches done with (one frame for several).
  const auto send_release = [&] {
    if (child.released == child.release_sent)
      return;
    child.release_sent = child.released;
    const std::string release =
        frame(Frame::release, [&](runner::Writer& w) { w.u64(child.released); });
    send_all(child.requests, release.data(), release.size()); // a dead runner shows as EOF below
  };
  const auto malformed_batch = [&] {
    return fail(internal_error("plugin '" + name() + "''s runner sent a malformed batch"));
  };
  // A batch: its head (a private copy, for one in the ring) and its values. The rows go to the
  // receiver unless it asked to stop or failed; they are decoded even then, since a batch defines
  // the keys that later batches (of this call or the next) name by number. False: malformed.
  const auto take_batch = [&](const char* head, std::size_t head_size, const char* values,
                              std::size_t values_size) {
    if (!runner::read_rows(head, head_size, values, values_size, child.keys, rows, fields))
      return false;
    if (receiver == nullptr || stopped || failure)
      return true;
    try {
      if (!receiver->on_rows(std::span<const bd_row>(rows.data(), rows.size()))) {
        stopped = true;
        send_stop();
      }
    } catch (...) {
      failure = receiver_exception_error();
      send_stop();
    }
    return true;
  };
  // A batch in the ring: where the frame says, once that is checked to lie inside the ring. Its
  // head is copied out before it is parsed (row_ring.hpp says why).
  const auto take_ring_batch = [&](const char* payload, std::size_t size) -> std::optional<Status> {
    runner::Reader in(payload, size);
    const std::uint64_t position = in.u64();
    const std::uint32_t head_size = in.u32();
    const std::uint32_t batch_size = in.u32();
    if (!in.ok() || in.left() != 0)
      return malformed_batch();
    if (!child.ring)
      return fail(internal_error("plugin '" + name() +
                                 "''s runner sent a batch in shared memory it was not given"));
    const std::optional<std::size_t> offset =
        runner::ring_span(position, batch_size, child.ring->capacity());
    if (!offset || head_size > batch_size)
      return fail(internal_error(
          "plugin '" + name() + "''s runner sent a batch outside its shared memory (" +
          std::to_string(batch_size) + " bytes at position " + std::to_string(position) +
          ", head " + std::to_string(head_size) + " bytes, in a ring of " +
          std::to_string(child.ring->capacity()) + " bytes)"));
    const char* at = child.ring->data() + *offset;
    child.head.assign(at, head_size);
    if (!take_batch(child.head.data(), head_size, at + head_size, batch_size - head_size))
      return malformed_batch();
    ++batch_counts_.ring;
    // Released in steps of an eighth of the ring, and whenever the host is about to wait: the
    // runner parses on while the host validates, and waits only for a full ring.
    child.released = std::max(child.released, position + batch_size);
    if (child.released - child.release_sent >= child.ring->capacity() / 8)
      send_release();
    return std::nullopt;
  };

  if (!send_all(child.requests, request.data(), request.size()))
    return died();

  pollfd fds[2] = {{child.replies, POLLIN, 0}, {child.out, POLLIN, 0}};
  for (;;) {
    // Every whole frame in the buffer.
    while (child.end - child.begin >= sizeof(runner::FrameHeader)) {
      runner::FrameHeader header{};
      std::memcpy(&header, child.buffer.data() + child.begin, sizeof header);
      const std::size_t whole = sizeof header + header.size;
      if (child.end - child.begin < whole) {
        // Make room for the rest of this frame at the start of the buffer.
        if (child.begin > 0) {
          std::memmove(child.buffer.data(), child.buffer.data() + child.begin,
                       child.end - child.begin);
          child.end -= child.begin;
          child.begin = 0;
        }
        if (child.buffer.size() < whole)
          child.buffer.resize(whole);
        break;
      }
      const char* payload = child.buffer.data() + child.begin + sizeof header;
      child.begin += whole;
      const auto type = static_cast<Frame>(header.type);
      if (type == Frame::result) {
        if (child.begin == child.end)
          child.begin = child.end = 0;
        // A plugin that printed and then returned: the bytes are in the pipe by now.
        child.collect_printed();
        if (!child.printed.empty())
          return printed();
        runner::Reader in(payload, header.size);
        const std::uint32_t kind = in.u32();
        const bool retryable = in.u32() != 0;
        const std::string message(in.text());
        result_.assign(in.position(), in.left());
        if (!in.ok())
          return fail(internal_error("plugin '" + name() + "''s runner sent a malformed reply"));
        if (child.alarm_raised()) // the plugin survived the failed allocation; its state may not
          return fail(internal_error("plugin '" + name() + "' exceeded its memory limit (" +
                                     limit_text() + ") while " + doing +
                                     (kind != 0 ? ": " + message : std::string())));
        if (failure)
          return std::move(*failure);
        const bool cancelled_kind = kind == static_cast<std::uint32_t>(ErrorKind::cancelled) + 1;
        if (stopped && (kind == 0 || cancelled_kind))
          return Error(ErrorKind::cancelled,
                       "the call of plugin '" + name() + "' " + doing + " was stopped");
        if (kind == 0)
          return {};
        if (kind > static_cast<std::uint32_t>(ErrorKind::cancelled) + 1)
          return internal_error(message);
        return Error(static_cast<ErrorKind>(kind - 1), message, retryable);
      }
      // A line of the plugin's own log (bd_host): the host's log, whatever the call.
      if (type == Frame::host_log) {
        runner::Reader in(payload, header.size);
        const auto level = static_cast<bd_log_level>(in.u32());
        const std::string_view message = in.text();
        if (in.ok() && host_log_)
          host_log_(level, message);
        continue;
      }
      if (type == Frame::rows) {
        const std::size_t head = runner::rows_head_size(payload, header.size);
        if (head == 0 || !take_batch(payload, head, payload + head, header.size - head))
          return malformed_batch();
        ++batch_counts_.pipe;
        continue;
      }
      if (type == Frame::ring_rows) {
        if (std::optional<Status> failed = take_ring_batch(payload, header.size))
          return std::move(*failed);
        continue;
      }
      // An event of the call: to the receiver, unless it asked to stop or failed.
      if (receiver == nullptr || stopped || failure)
        continue;
      try {
        runner::Reader in(payload, header.size);
        switch (type) {
        case Frame::reject: {
          const std::string_view origin = in.text();
          receiver->on_reject(origin, in.text());
          break;
        }
        case Frame::reject_field: {
          const std::string_view origin = in.text();
          const std::string_view column = in.text();
          const std::string_view rule = in.text();
          receiver->on_reject_field(origin, column, rule, in.text());
          break;
        }
        case Frame::progress: {
          const std::uint64_t done = in.u64();
          receiver->on_progress(done, in.u64());
          break;
        }
        case Frame::log: {
          const auto level = static_cast<bd_log_level>(in.u32());
          receiver->on_log(level, in.text());
          break;
        }
        case Frame::note: {
          const std::string_view key = in.text();
          receiver->on_note(key, in.u64());
          break;
        }
        case Frame::cursor:
          receiver->on_cursor(in.text());
          break;
        default:
          return fail(internal_error("plugin '" + name() + "''s runner sent an unknown message " +
                                     std::to_string(header.type)));
        }
      } catch (...) {
        failure = receiver_exception_error();
        send_stop();
      }
    }
    // Room to read into: what is left of a frame moves to the front.
    if (child.begin > 0) {
      std::memmove(child.buffer.data(), child.buffer.data() + child.begin, child.end - child.begin);
      child.end -= child.begin;
      child.begin = 0;
    }
    if (child.end == child.buffer.size())
      child.buffer.resize(child.buffer.size() * 2);

    send_release(); // before waiting: the runner may be waiting for room in the ring
    int wait_ms = -1;
    if (deadline) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - Clock::now()).count();
      if (left <= 0)
        return fail(Error(ErrorKind::source,
                          "plugin '" + name() + "' did not finish " + doing + " within " +
                              "read_timeout_seconds = " + std::to_string(options_.timeout.count()) +
                              ": its runner process was killed (SIGKILL)",
                          true));
      wait_ms = static_cast<int>(std::min<long long>(left, 1000 * 60));
    }
    const int ready = ::poll(fds, 2, wait_ms);
    if (ready < 0) {
      if (errno == EINTR)
        continue;
      return fail(internal_error(std::string("poll() failed on plugin runner pipes: ") +
                                 std::strerror(errno)));
    }
    if (ready == 0)
      continue; // the deadline is looked at above
    if (fds[1].revents & POLLIN) {
      child.collect_printed();
      if (!child.printed.empty())
        return printed();
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      const ssize_t n =
          ::read(child.replies, child.buffer.data() + child.end, child.buffer.size() - child.end);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return died();
      child.end += static_cast<std::size_t>(n);
    }
  }
}

Status ProcessSession::check() {
  if (Status started = ensure_runner(); !started)
    return started;
  return call(frame(Frame::check), nullptr, "checking its source");
}

Result<std::vector<Month>> ProcessSession::months() {
  if (Status started = ensure_runner(); !started)
    return started.error();
  if (Status listed = call(frame(Frame::months), nullptr, "listing its months"); !listed)
    return listed.error();
  runner::Reader in(result_.data(), result_.size());
  const std::uint32_t count = in.u32();
  std::vector<Month> months;
  for (std::uint32_t i = 0; i < count && in.ok(); ++i) {
    Result<Month> month = Month::parse(in.text());
    if (!month)
      return internal_error("plugin '" + name() + "''s runner sent an invalid month");
    months.push_back(*month);
  }
  return months;
}

Status ProcessSession::read(Month month, RowReceiver& receiver) {
  if (Status started = ensure_runner(); !started)
    return started;
  const std::string text = month.to_string();
  return call(frame(Frame::read, [&](runner::Writer& w) { w.text(text); }), &receiver,
              "reading " + text);
}

Status ProcessSession::read_all(RowReceiver& receiver) {
  if (!one_pass_)
    return config_error("plugin '" + name() +
                        "' does not read every month in one pass (with this configuration)");
  if (Status started = ensure_runner(); !started)
    return started;
  return call(frame(Frame::read_all), &receiver, "reading every month in one pass");
}

Status ProcessSession::read_since(std::string_view cursor, RowReceiver& receiver,
                                  std::string& next_cursor) {
  if (!incremental_)
    return config_error("plugin '" + name() +
                        "' does not read increments (with this configuration)");
  if (Status started = ensure_runner(); !started)
    return started;
  const std::string what =
      cursor.empty() ? std::string("from the start") : "since cursor '" + std::string(cursor) + "'";
  Status status = call(frame(Frame::read_since, [&](runner::Writer& w) { w.text(cursor); }),
                       &receiver, "reading increments " + what);
  if (!status)
    return status;
  runner::Reader in(result_.data(), result_.size());
  next_cursor = std::string(in.text());
  return {};
}

} // namespace billdrop::source
