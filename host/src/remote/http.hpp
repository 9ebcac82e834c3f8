#pragma once
// Private to remote/ (includes httplib.h): an endpoint URL split the way httplib takes it, a
// client for it, and the one streamed GET and buffered request every store uses.

#include "remote/object_store.hpp"
#include "remote/settings.hpp"

#include <httplib.h>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace billdrop::remote {

struct Endpoint {
  std::string scheme_host_port; // "https://host:port", what httplib::Client takes
  std::string host;             // the Host header: host, or host:port when the port is not default
  std::string base_path;        // "" or "/devstoreaccount1": prefixed to every request path
};

// Throws ErrorException (config) naming `what` when `url` is not http(s)://host[:port][/path].
Endpoint parse_endpoint(std::string_view url, std::string_view what);

std::unique_ptr<httplib::Client> make_client(const Endpoint& endpoint,
                                             const RemoteSettings& settings);

// An httplib::Client is one connection serving one request at a time. A store that several
// threads read at once (the mirror downloads objects concurrently) takes a client from its pool
// for each request; the client goes back, with its kept-alive connection, when the lease ends.
class ClientPool {
public:
  ClientPool(Endpoint endpoint, RemoteSettings settings)
      : endpoint_(std::move(endpoint)), settings_(std::move(settings)) {}

  class Lease {
  public:
    Lease(ClientPool& pool, std::unique_ptr<httplib::Client> client)
        : pool_(pool), client_(std::move(client)) {}
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() { pool_.give_back(std::move(client_)); }
    httplib::Client& operator*() const noexcept { return *client_; }

  private:
    ClientPool& pool_;
    std::unique_ptr<httplib::Client> client_;
  };

  // An idle client, or a new one when every client is busy.
  Lease acquire();

private:
  void give_back(std::unique_ptr<httplib::Client> client);

  Endpoint endpoint_;
  RemoteSettings settings_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<httplib::Client>> idle_;
};

// A response whose body was read whole (listings, tokens, error answers).
struct HttpAnswer {
  int status = 0;
  httplib::Headers headers;
  std::string body;
  std::string header(const std::string& name) const;
};

// Sends one request; a transport failure (refused, reset, timeout) is thrown as a retryable
// source error naming `what`.
HttpAnswer http_send(httplib::Client& client, const std::string& method, const std::string& path,
                     const httplib::Headers& headers, const std::string& body,
                     const std::string& content_type, std::string_view what);

// A GET whose 2xx body streams into `sink`; `check_head` sees the status and headers first and
// throws to refuse the answer (a changed object). A non-2xx answer is returned with its body
// read whole and `sink` never called. A transport failure, or a body cut short, is thrown as a
// retryable source error.
HttpAnswer http_get_streamed(httplib::Client& client, const std::string& path,
                             const httplib::Headers& headers,
                             const std::function<void(const httplib::Response&)>& check_head,
                             const std::function<bool(const char*, std::size_t)>& sink,
                             std::string_view what);

// "403 Forbidden: AccessDenied (Access Denied)" from an answer, for messages; no header echoed.
std::string describe_answer(const HttpAnswer& answer);

// A transport or server failure worth retrying (5xx, 429, 408) versus a refusal.
bool retryable_status(int status) noexcept;

// Thrown for an answer that is not what was asked: retryable for 5xx/429, otherwise fatal.
[[noreturn]] void throw_answer(const HttpAnswer& answer, std::string_view what);

} // namespace billdrop::remote
