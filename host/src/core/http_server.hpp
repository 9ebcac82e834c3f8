#pragma once
// A small HTTP server for billdrop's own APIs (the daemon's /api/v1/billing, /healthz, /metrics):
// routes by method and path pattern, handlers that take and return plain structs, a body limit,
// read timeouts, and an optional bearer token compared in constant time. cpp-httplib does the
// work behind it; its header stays in http_server.cpp.

#include <billdrop/result.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace billdrop::core {

struct HttpRequest {
  std::string method;
  std::string path;
  std::string body;
  std::vector<std::string> captures;          // the pattern's groups, in order
  std::map<std::string, std::string> query;   // decoded
  std::map<std::string, std::string> headers; // names in lower case
};

struct HttpResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::map<std::string, std::string> headers;
};

struct HttpServerOptions {
  std::size_t max_body_bytes = 1 << 20;  // larger bodies: 413
  std::chrono::seconds read_timeout{10}; // per read of a request
  std::chrono::seconds write_timeout{10};
  // Connections served at once, each on its own thread (started on demand and kept); more wait
  // for one to close.
  std::size_t max_connections = 256;
  // When not empty, every request but those of `open_paths` must carry
  // `Authorization: Bearer <token>`; others get 401.
  std::string bearer_token;
  std::vector<std::string> open_paths; // e.g. "/healthz"
  // The body of a 401 / 413 / 404 / 500 this server writes itself (the API's envelope).
  std::function<HttpResponse(int status, const std::string& code, const std::string& message)>
      error_response;
};

class HttpServer {
public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;

  explicit HttpServer(HttpServerOptions options);
  ~HttpServer(); // stops
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // `pattern` is a regular expression over the whole path ("/api/v1/billing/verify/([^/]+)").
  void route(const std::string& method, const std::string& pattern, Handler handler);
  // Binds host:port (0: any free port) and serves on background threads; the bound port, or the
  // operating system's reason ("Address already in use").
  Result<std::uint16_t> listen(const std::string& host, std::uint16_t port);
  // Stops accepting, lets requests in progress finish.
  void stop();

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The options of billdrop's listening sockets: SO_REUSEADDR only (httplib's default adds
// SO_REUSEPORT, which would let a second process bind a port this one holds and split its
// requests). Sets `*remembered` to the socket, for widen_backlog once it is bound.
void set_listen_socket_options(int socket, int* remembered) noexcept;

// httplib listens with a backlog of 5, so connects beyond five at once wait for a SYN
// retransmission (1 s). Raises the bound socket's accept queue to SOMAXCONN (listen() again on a
// listening socket only changes its backlog).
void widen_backlog(int listening_socket) noexcept;

// True when `a` equals `b`, in time that depends only on their lengths.
bool constant_time_equal(const std::string& a, const std::string& b) noexcept;

// Why host:port cannot be bound, in the operating system's words ("Address already in use"):
// cpp-httplib only says that binding failed, so the same bind is tried once more to read errno.
std::string bind_failure_reason(const std::string& host, std::uint16_t port);

// True for 127.0.0.0/8, ::1 and "localhost".
bool is_loopback_host(const std::string& host) noexcept;

} // namespace billdrop::core
