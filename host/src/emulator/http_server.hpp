#pragma once
// The emulator's HTTP server: cpp-httplib parses and routes the requests; this class serves the
// connections, because httplib 0.11 gives a request no deadline, serves connections from a fixed
// pool of threads (which idle half-sent requests can all hold), and lets a handler neither drop a
// request without a reply nor close its connection after one. Internal to the emulator: it brings
// in httplib.h, so only the emulator's own sources include it.
//
// - A thread per open connection, started on demand up to max_connections (more wait in line for
//   one to close), so slow or idle clients cannot hold up the others.
// - Deadlines per request: its line and headers within header_timeout of its first byte, its body
//   within body_timeout of the end of its headers, no wait for bytes longer than read_timeout; a
//   connection waits keep_alive for its next request. A request that misses one is dropped: the
//   connection closes without a reply. So does every connection when the server stops.
// - For handlers, on the thread that serves the request: abandon_request() drops it (no reply,
//   the connection closes); close_after_reply() closes the connection once the reply is written.

#include <httplib.h>

#include <chrono>
#include <cstddef>

namespace billdrop::emulator {

struct ConnectionLimits {
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds body_timeout{60'000};
  std::chrono::milliseconds read_timeout{5'000};
  std::chrono::milliseconds write_timeout{5'000};
  std::chrono::milliseconds keep_alive{2'000};
  std::size_t max_connections = 256;
};

class HttpServer final : public httplib::Server {
public:
  explicit HttpServer(ConnectionLimits limits);

  // After binding: lets `backlog` connections wait to be accepted. httplib listens with a backlog
  // of 5, and a burst beyond that waits for the client's SYN to be sent again (1 s, then 3 s).
  bool widen_backlog(int backlog);

  // The request being served on this thread gets no reply, and its connection closes.
  static void abandon_request() noexcept;
  // Whether the request being served on this thread was abandoned.
  static bool request_abandoned() noexcept;
  // The connection of the request being served on this thread closes after the reply.
  static void close_after_reply() noexcept;

private:
  // httplib calls this (a virtual it declares private) for each accepted connection, on a thread
  // of the task queue; it serves the connection's requests and closes it.
  bool process_and_close_socket(socket_t sock) override;

  ConnectionLimits limits_;
};

} // namespace billdrop::emulator
