#pragma once
// A TCP proxy on 127.0.0.1 for tests: it forwards every connection to a port on 127.0.0.1, counts
// the HTTP requests it has passed on whole, and can cut one request off in the middle of its body
// (both sides closed at once), as a network that breaks during an upload would. It frames
// requests by Content-Length only (what billdrop's client sends). Header-only; test binaries only.
//
//   LoopbackProxy proxy(emulator.port());
//   proxy.cut_request(1, 100); // the first request: its head and 100 bytes of its body, then cut
//   ... point the client at proxy.port() ...

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace billdrop::test {

class LoopbackProxy {
public:
  explicit LoopbackProxy(std::uint16_t upstream_port) : upstream_port_(upstream_port) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address = loopback(0);
    socklen_t length = sizeof address;
    if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
        ::listen(listener_, 64) != 0 ||
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length) != 0)
      throw std::runtime_error("the test proxy cannot listen on 127.0.0.1");
    port_ = ntohs(address.sin_port);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~LoopbackProxy() { stop(); }
  LoopbackProxy(const LoopbackProxy&) = delete;
  LoopbackProxy& operator=(const LoopbackProxy&) = delete;

  std::uint16_t port() const noexcept { return port_; }

  // The n-th request (1-based, counted over all connections in arrival order) is forwarded with
  // its head and only the first `body_bytes` bytes of its body; then both of its connections
  // are closed.
  void cut_request(std::size_t n, std::size_t body_bytes) {
    const std::lock_guard lock(mutex_);
    cut_request_ = n;
    cut_after_ = body_bytes;
  }

  // Requests whose head and whole body were passed on.
  std::size_t requests_forwarded() const {
    const std::lock_guard lock(mutex_);
    return forwarded_;
  }
  // Of those, the POST requests (billdrop's sends; its read-backs are GETs).
  std::size_t posts_forwarded() const {
    const std::lock_guard lock(mutex_);
    return post_paths_.size();
  }
  // Their paths, in the order they were passed on whole.
  std::vector<std::string> post_paths() const {
    const std::lock_guard lock(mutex_);
    return post_paths_;
  }
  std::size_t requests_cut() const {
    const std::lock_guard lock(mutex_);
    return cut_;
  }

  // Waits until `count` requests were passed on whole; false after `timeout`.
  bool wait_for_requests(std::size_t count, std::chrono::milliseconds timeout) const {
    std::unique_lock lock(mutex_);
    return progress_.wait_for(lock, timeout, [&] { return forwarded_ >= count; });
  }

  // Stops accepting and closes every connection; waits for its threads. Idempotent.
  void stop() {
    if (stopping_.exchange(true))
      return;
    if (acceptor_.joinable())
      acceptor_.join();
    ::close(listener_);
    std::vector<std::thread> relays;
    {
      const std::lock_guard lock(mutex_);
      relays.swap(relays_);
    }
    for (std::thread& relay : relays)
      relay.join();
  }

private:
  static constexpr int kPollMs = 20; // every loop looks at stopping_ at least this often

  static sockaddr_in loopback(std::uint16_t port) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return address;
  }

  static bool send_all(int sock, const char* data, std::size_t size) {
    while (size > 0) {
      const ssize_t n = ::send(sock, data, size, MSG_NOSIGNAL);
      if (n <= 0)
        return false;
      data += n;
      size -= static_cast<std::size_t>(n);
    }
    return true;
  }

  void accept_loop() {
    while (!stopping_) {
      pollfd waiting{listener_, POLLIN, 0};
      if (::poll(&waiting, 1, kPollMs) <= 0)
        continue;
      const int client = ::accept(listener_, nullptr, nullptr);
      if (client < 0)
        continue;
      const std::lock_guard lock(mutex_);
      relays_.emplace_back([this, client] { relay(client); });
    }
  }

  // Where the client's bytes are in the current request.
  struct Framing {
    std::string head; // the head so far, until its blank line
    std::uint64_t body_left = 0;
    bool in_body = false;
    bool post = false;                   // the request is a POST
    std::string path;                    // its request target
    std::size_t number = 0;              // 1-based request number, once the head is whole
    std::uint64_t cut_left = UINT64_MAX; // body bytes still to pass when cutting
  };

  static std::uint64_t content_length(const std::string& head) {
    std::string lower(head);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    const std::size_t at = lower.find("\r\ncontent-length:");
    if (at == std::string::npos)
      return 0;
    return std::stoull(lower.substr(at + 17, lower.find("\r\n", at + 17) - at - 17));
  }

  // Passes the client's bytes on, request by request; false when the connection is to be cut.
  bool forward_request_bytes(Framing& framing, int upstream, std::string_view data) {
    while (!data.empty()) {
      if (!framing.in_body) {
        // The head goes on as it comes; its end starts the body.
        const std::size_t before = framing.head.size();
        framing.head.append(data);
        const std::size_t end = framing.head.find("\r\n\r\n");
        const std::size_t take = end == std::string::npos ? data.size() : end + 4 - before;
        if (!send_all(upstream, data.data(), take))
          return false;
        data.remove_prefix(take);
        if (end == std::string::npos)
          continue;
        framing.head.resize(end + 4);
        framing.body_left = content_length(framing.head);
        framing.post = framing.head.starts_with("POST ");
        const std::size_t target = framing.head.find(' ') + 1;
        framing.path = framing.head.substr(target, framing.head.find(' ', target) - target);
        framing.head.clear();
        framing.in_body = true;
        const std::lock_guard lock(mutex_);
        framing.number = ++started_;
        framing.cut_left = framing.number == cut_request_ ? cut_after_ : UINT64_MAX;
      }
      const auto take = static_cast<std::size_t>(std::min<std::uint64_t>(
          {framing.body_left, framing.cut_left, static_cast<std::uint64_t>(data.size())}));
      if (!send_all(upstream, data.data(), take))
        return false;
      data.remove_prefix(take);
      framing.body_left -= take;
      if (framing.cut_left != UINT64_MAX) {
        framing.cut_left -= take;
        if (framing.cut_left == 0 && framing.body_left > 0) {
          const std::lock_guard lock(mutex_);
          ++cut_;
          return false;
        }
      }
      if (framing.body_left == 0) {
        framing.in_body = false;
        {
          const std::lock_guard lock(mutex_);
          ++forwarded_;
          if (framing.post)
            post_paths_.push_back(framing.path);
        }
        progress_.notify_all();
      }
    }
    return true;
  }

  void relay(int client) {
    const int upstream = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address = loopback(upstream_port_);
    if (upstream < 0 ||
        ::connect(upstream, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      ::close(client);
      if (upstream >= 0)
        ::close(upstream);
      return;
    }
    Framing framing;
    bool client_open = true;   // the client may still send
    bool upstream_open = true; // the server may still send
    char buffer[16384];
    while (!stopping_ && (client_open || upstream_open)) {
      pollfd fds[2] = {{client, static_cast<short>(client_open ? POLLIN : 0), 0},
                       {upstream, static_cast<short>(upstream_open ? POLLIN : 0), 0}};
      if (::poll(fds, 2, kPollMs) <= 0)
        continue;
      if (client_open && (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
        const ssize_t n = ::recv(client, buffer, sizeof buffer, 0);
        if (n <= 0) {
          client_open = false;
          ::shutdown(upstream, SHUT_WR); // as the client's own close would reach the server
        } else if (!forward_request_bytes(framing, upstream,
                                          std::string_view(buffer, static_cast<std::size_t>(n)))) {
          break;
        }
      }
      if (upstream_open && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
        const ssize_t n = ::recv(upstream, buffer, sizeof buffer, 0);
        if (n <= 0) {
          upstream_open = false;
          ::shutdown(client, SHUT_WR);
        } else if (!send_all(client, buffer, static_cast<std::size_t>(n))) {
          break;
        }
      }
    }
    ::close(client);
    ::close(upstream);
  }

  std::uint16_t upstream_port_;
  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;

  mutable std::mutex mutex_;
  mutable std::condition_variable progress_;
  std::vector<std::thread> relays_;
  std::size_t started_ = 0;             // requests whose head was whole
  std::size_t forwarded_ = 0;           // requests passed on whole
  std::vector<std::string> post_paths_; // of the POSTs passed on whole
  std::size_t cut_ = 0;
  std::size_t cut_request_ = 0; // 0: none
  std::uint64_t cut_after_ = 0;
};

} // namespace billdrop::test
