#include "emulator/http_server.hpp"

#include "core/elastic_threads.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace billdrop::emulator {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Waits for a socket look at the server's state at least this often, so stop() is prompt.
constexpr milliseconds kPollSlice{100};

// A thread per connection (core::ElasticThreads), up to `max`; connections beyond it wait in line.
class ConnectionThreads final : public httplib::TaskQueue {
public:
  explicit ConnectionThreads(std::size_t max) : threads_(max) {}
  void enqueue(std::function<void()> job) override { threads_.enqueue(std::move(job)); }
  void shutdown() override { threads_.shutdown(); }

private:
  core::ElasticThreads threads_;
};

void address_of(socket_t sock, bool peer, std::string& ip, int& port) {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  auto* generic = reinterpret_cast<sockaddr*>(&address);
  if ((peer ? ::getpeername(sock, generic, &length) : ::getsockname(sock, generic, &length)) != 0)
    return;
  char text[INET6_ADDRSTRLEN] = {};
  if (address.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&address);
    ::inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
    port = ntohs(v4->sin_port);
  } else if (address.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&address);
    ::inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
    port = ntohs(v6->sin6_port);
  }
  ip = text;
}

// One connection's socket as httplib reads and writes it, with the deadlines of the request being
// read: the head's from begin_request(), the body's from the end of the head (the first blank
// line), and read_timeout for every wait.
class ConnectionStream final : public httplib::Stream {
public:
  ConnectionStream(socket_t sock, const ConnectionLimits& limits,
                   const std::atomic<socket_t>& listener)
      : sock_(sock), limits_(limits), listener_(listener) {}

  // Waits up to keep_alive for the next request to begin; false when none does or the server
  // stops. True also when the peer closed: reading then ends the connection.
  bool wait_for_request() {
    if (begin_ != end_)
      return true;
    return wait(POLLIN, Clock::now() + limits_.keep_alive);
  }

  void begin_request() {
    in_head_ = true;
    head_end_seen_ = 0;
    deadline_ = Clock::now() + limits_.header_timeout;
  }

  void abandon() noexcept { abandoned_ = true; }
  bool abandoned() const noexcept { return abandoned_; }
  void close_after_reply() noexcept { closing_ = true; }
  bool ends_connection() const noexcept { return abandoned_ || closing_; }

  bool is_readable() const override { return begin_ != end_ || wait_readable(); }

  bool is_writable() const override {
    return !abandoned_ && wait(POLLOUT, Clock::now() + limits_.write_timeout);
  }

  ssize_t read(char* ptr, size_t size) override {
    if (abandoned_)
      return -1;
    if (begin_ == end_) {
      if (!wait_readable())
        return -1;
      const ssize_t got = ::recv(sock_, buffer_.data(), buffer_.size(), 0);
      if (got <= 0)
        return got < 0 ? -1 : 0;
      begin_ = 0;
      end_ = static_cast<std::size_t>(got);
    }
    const std::size_t count = std::min(size, end_ - begin_);
    watch_for_head_end(buffer_.data() + begin_, count);
    std::memcpy(ptr, buffer_.data() + begin_, count);
    begin_ += count;
    return static_cast<ssize_t>(count);
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (!is_writable())
      return -1;
    const ssize_t sent = ::send(sock_, ptr, size, MSG_NOSIGNAL);
    return sent < 0 ? -1 : sent;
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    address_of(sock_, true, ip, port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    address_of(sock_, false, ip, port);
  }
  socket_t socket() const override { return sock_; }

private:
  // Waits for `events` until `until`, in slices. Waiting to read gives up when the server stops
  // (a request still arriving is dropped); a reply is still written.
  bool wait(short events, Clock::time_point until) const {
    for (;;) {
      if ((events & POLLIN) != 0 && listener_.load() == INVALID_SOCKET)
        return false;
      const Clock::time_point now = Clock::now();
      if (now >= until)
        return false;
      const auto slice = std::min(std::chrono::ceil<milliseconds>(until - now), kPollSlice);
      pollfd ready{sock_, events, 0};
      const int polled = ::poll(&ready, 1, static_cast<int>(slice.count()));
      if (polled > 0)
        return true; // ready, or closed or failed: the read or write says which
      if (polled < 0 && errno != EINTR)
        return false;
    }
  }

  bool wait_readable() const {
    return wait(POLLIN, std::min(deadline_, Clock::now() + limits_.read_timeout));
  }

  // The head ends with its first blank line ("\r\n\r\n"); the body's deadline starts there.
  void watch_for_head_end(const char* data, std::size_t size) {
    static constexpr std::string_view kEnd = "\r\n\r\n";
    for (std::size_t i = 0; i < size && in_head_; ++i) {
      if (data[i] == kEnd[head_end_seen_])
        ++head_end_seen_;
      else
        head_end_seen_ = data[i] == '\r' ? 1 : 0;
      if (head_end_seen_ == kEnd.size()) {
        in_head_ = false;
        deadline_ = Clock::now() + limits_.body_timeout;
      }
    }
  }

  socket_t sock_;
  const ConnectionLimits& limits_;
  const std::atomic<socket_t>& listener_; // INVALID_SOCKET once the server stops
  std::array<char, 16384> buffer_{};      // received, not yet read by httplib: [begin_, end_)
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
  Clock::time_point deadline_ = Clock::time_point::max();
  bool in_head_ = true;
  std::size_t head_end_seen_ = 0; // bytes of "\r\n\r\n" just read
  bool abandoned_ = false;
  bool closing_ = false;
};

// The stream of the request this thread serves (handlers run on the connection's thread).
thread_local ConnectionStream* t_serving = nullptr;

} // namespace

HttpServer::HttpServer(ConnectionLimits limits) : limits_(limits) {
  new_task_queue = [this] { return new ConnectionThreads(limits_.max_connections); };
}

bool HttpServer::widen_backlog(int backlog) {
  // listen() again on a listening socket only changes its backlog.
  return ::listen(svr_sock_.load(), backlog) == 0;
}

void HttpServer::abandon_request() noexcept {
  if (t_serving != nullptr)
    t_serving->abandon();
}

bool HttpServer::request_abandoned() noexcept {
  return t_serving != nullptr && t_serving->abandoned();
}

void HttpServer::close_after_reply() noexcept {
  if (t_serving != nullptr)
    t_serving->close_after_reply();
}

bool HttpServer::process_and_close_socket(socket_t sock) {
  int yes = 1; // replies leave in one piece each, without Nagle's delay
  ::setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
  ConnectionStream stream(sock, limits_, svr_sock_);
  bool served = true;
  for (std::size_t left = std::max<std::size_t>(keep_alive_max_count_, 1); left > 0; --left) {
    if (!stream.wait_for_request())
      break;
    stream.begin_request();
    bool peer_closes = false;
    t_serving = &stream;
    served = process_request(stream, left == 1, peer_closes, nullptr);
    t_serving = nullptr;
    if (!served || peer_closes || stream.ends_connection())
      break;
  }
  ::shutdown(sock, SHUT_RDWR);
  ::close(sock);
  return served;
}

} // namespace billdrop::emulator
