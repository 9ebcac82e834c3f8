#include "core/http_server.hpp"

#include "core/elastic_threads.hpp"

#include <httplib.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

namespace billdrop::core {

namespace {

// A thread per open connection (core::ElasticThreads), so that idle keep-alive clients never
// hold up another client's request; connections beyond the bound wait in line.
class ConnectionThreads final : public httplib::TaskQueue {
public:
  explicit ConnectionThreads(std::size_t max) : threads_(max) {}
  void enqueue(std::function<void()> job) override { threads_.enqueue(std::move(job)); }
  void shutdown() override { threads_.shutdown(); }

private:
  ElasticThreads threads_;
};

} // namespace

void set_listen_socket_options(int socket, int* remembered) noexcept {
  int yes = 1;
  setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, reinterpret_cast<const void*>(&yes), sizeof yes);
  *remembered = socket;
}

void widen_backlog(int listening_socket) noexcept {
  if (listening_socket >= 0)
    ::listen(listening_socket, SOMAXCONN);
}

std::string bind_failure_reason(const std::string& host, std::uint16_t port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (const int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found);
      rc != 0)
    return std::string("cannot resolve the host: ") + ::gai_strerror(rc);
  std::string reason = "unknown error";
  for (addrinfo* address = found; address != nullptr; address = address->ai_next) {
    const int sock = ::socket(address->ai_family, address->ai_socktype, address->ai_protocol);
    if (sock < 0) {
      reason = std::strerror(errno);
      continue;
    }
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    const bool ok = ::bind(sock, address->ai_addr, address->ai_addrlen) == 0;
    reason = ok ? "the address could be bound a moment later: try again" : std::strerror(errno);
    ::close(sock);
    if (!ok)
      break;
  }
  ::freeaddrinfo(found);
  return reason;
}

namespace {

std::string lower(std::string text) {
  for (char& c : text)
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
  return text;
}

} // namespace

bool constant_time_equal(const std::string& a, const std::string& b) noexcept {
  unsigned char difference = a.size() == b.size() ? 0 : 1;
  const std::size_t n = std::max(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    difference |= static_cast<unsigned char>(x ^ y);
  }
  return difference == 0;
}

bool is_loopback_host(const std::string& host) noexcept {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.starts_with("127.");
}

struct HttpServer::Impl {
  explicit Impl(HttpServerOptions opts) : options(std::move(opts)) {}

  HttpResponse error(int status, const std::string& code, const std::string& message) const {
    if (options.error_response)
      return options.error_response(status, code, message);
    HttpResponse response;
    response.status = status;
    response.content_type = "text/plain";
    response.body = message + "\n";
    return response;
  }

  static void write(const HttpResponse& from, httplib::Response& to) {
    to.status = from.status;
    for (const auto& [name, value] : from.headers)
      to.set_header(name, value);
    to.set_content(from.body, from.content_type);
  }

  bool authorized(const httplib::Request& req) const {
    if (options.bearer_token.empty())
      return true;
    for (const std::string& open : options.open_paths)
      if (req.path == open)
        return true;
    const std::string header = req.get_header_value("Authorization");
    constexpr std::string_view prefix = "Bearer ";
    if (header.size() <= prefix.size() || header.compare(0, prefix.size(), prefix) != 0)
      return false;
    return constant_time_equal(header.substr(prefix.size()), options.bearer_token);
  }

  void add(const std::string& method, const std::string& pattern, Handler handler) {
    auto serve = [this, handler = std::move(handler)](const httplib::Request& req,
                                                      httplib::Response& res) {
      if (!authorized(req)) {
        write(error(401, "UNAUTHORIZED", "a bearer token is required (Authorization: Bearer …)"),
              res);
        return;
      }
      HttpRequest request;
      request.method = req.method;
      request.path = req.path;
      request.body = req.body;
      for (std::size_t i = 1; i < req.matches.size(); ++i)
        request.captures.push_back(req.matches[i].str());
      for (const auto& [name, value] : req.params)
        request.query.emplace(name, value);
      for (const auto& [name, value] : req.headers)
        request.headers.emplace(lower(name), value);
      HttpResponse response;
      try {
        response = handler(request);
      } catch (const std::exception& e) {
        response = error(500, "INTERNAL", std::string("internal error: ") + e.what());
      }
      write(response, res);
    };
    if (method == "GET")
      server.Get(pattern, serve);
    else if (method == "POST")
      server.Post(pattern, serve);
    else if (method == "PUT")
      server.Put(pattern, serve);
    else if (method == "DELETE")
      server.Delete(pattern, serve);
    else if (method == "PATCH")
      server.Patch(pattern, serve);
  }

  HttpServerOptions options;
  int listening_socket = -1; // the last socket httplib made to bind
  httplib::Server server;
  std::thread listener;
};

HttpServer::HttpServer(HttpServerOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {
  httplib::Server& server = impl_->server;
  const HttpServerOptions& opts = impl_->options;
  server.set_payload_max_length(opts.max_body_bytes);
  server.set_read_timeout(opts.read_timeout);
  server.set_write_timeout(opts.write_timeout);
  server.set_keep_alive_timeout(5);
  server.set_keep_alive_max_count(1000); // httplib's default closes after 5 requests
  // Replies go out in two writes (headers, body): without TCP_NODELAY a keep-alive client's
  // delayed ACK holds the second one for 40 ms.
  server.set_tcp_nodelay(true);
  const std::size_t max_connections = std::max<std::size_t>(2, opts.max_connections);
  server.new_task_queue = [max_connections] { return new ConnectionThreads(max_connections); };
  // The socket is remembered: listen() widens its backlog once bound.
  server.set_socket_options([impl = impl_.get()](socket_t sock) {
    set_listen_socket_options(sock, &impl->listening_socket);
  });
  Impl* impl = impl_.get();
  server.set_error_handler([impl](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty())
      return;
    if (res.status == 413)
      Impl::write(impl->error(413, "PAYLOAD_TOO_LARGE",
                              "the request body is larger than " +
                                  std::to_string(impl->options.max_body_bytes) + " bytes"),
                  res);
    else if (res.status == 404)
      Impl::write(impl->error(404, "NOT_FOUND", "no such route"), res);
    else if (res.status >= 500)
      Impl::write(
          impl->error(res.status, "INTERNAL",
                      "the request could not be served (HTTP " + std::to_string(res.status) + ")"),
          res);
    else if (res.status >= 400)
      Impl::write(impl->error(res.status, "VALIDATION_ERROR",
                              "the request could not be read (HTTP " + std::to_string(res.status) +
                                  "; a POST needs a Content-Length, 0 when it has no body)"),
                  res);
  });
}

HttpServer::~HttpServer() {
  stop();
}

void HttpServer::route(const std::string& method, const std::string& pattern, Handler handler) {
  impl_->add(method, pattern, std::move(handler));
}

Result<std::uint16_t> HttpServer::listen(const std::string& host, std::uint16_t port) {
  httplib::Server& server = impl_->server;
  int bound = 0;
  if (port == 0)
    bound = server.bind_to_any_port(host);
  else
    bound = server.bind_to_port(host, port) ? port : -1;
  if (bound <= 0)
    return source_error("cannot listen on " + host + ":" + std::to_string(port) + ": " +
                        bind_failure_reason(host, port));
  widen_backlog(impl_->listening_socket);
  impl_->listener = std::thread([&server] { server.listen_after_bind(); });
  while (!server.is_running())
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return static_cast<std::uint16_t>(bound);
}

void HttpServer::stop() {
  impl_->server.stop();
  if (impl_->listener.joinable())
    impl_->listener.join();
}

} // namespace billdrop::core
