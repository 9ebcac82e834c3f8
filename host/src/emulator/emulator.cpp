#include "emulator/emulator.hpp"

#include "cbf/drop_body_reader.hpp"
#include "core/http_server.hpp"
#include "core/json_text.hpp"
#include "emulator/emulator_store.hpp"
#include "emulator/fault_plan.hpp"
#include "emulator/http_server.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <optional>
#include <regex>
#include <set>
#include <thread>

#include <sys/socket.h>
#include <unistd.h>

namespace billdrop::emulator {
namespace {

// Route patterns; the connection id is any non-empty text without '/', as in the API's paths.
constexpr const char* kSendOrListRoute = R"(/v2/connections/billing/anycost/([^/]+)/billing_drops)";
constexpr const char* kMonthRoute =
    R"(/v2/connections/billing/anycost/([^/]+)/billing_drops/([^/]+))";
constexpr const char* kValidateRoute = R"(/v2/connections/billing/anycost/validate_billing_drop)";

enum class Endpoint { send_drop, list_drops, month_rows, validate };

const char* scope_of(Endpoint endpoint) noexcept {
  switch (endpoint) {
  case Endpoint::send_drop:
    return "connections:create_billing_anycost_billing_drop";
  case Endpoint::list_drops:
    return "connections:read_billing_anycost_billing_drops";
  case Endpoint::month_rows:
    return "connections:read_billing_anycost_billing_drops_month";
  case Endpoint::validate:
    return "connections:create_billing_anycost_validate_billing_drop";
  }
  return "";
}

constexpr std::size_t kErrorsInMessage = 10;    // problems listed in a 400's message
constexpr std::size_t kErrorsInValidate = 1000; // problems listed by validate_billing_drop
constexpr const char* kJson = "application/json";

// A JSON string literal of text that may hold invalid UTF-8 (a decoded URL path): bad bytes
// become '?', so the response stays valid JSON.
void append_text(std::string& out, std::string_view text) {
  if (core::is_valid_utf8(text)) {
    core::append_json_string(out, text);
    return;
  }
  std::string clean;
  while (!text.empty()) {
    const std::size_t bad = core::first_invalid_utf8(text);
    clean.append(text.substr(0, bad));
    if (bad == text.size())
      break;
    clean += '?';
    text.remove_prefix(bad + 1);
  }
  core::append_json_string(out, clean);
}

// 403, 413, 429 and 5xx bodies.
std::string message_body(std::string_view message) {
  std::string out = "{\"message\":";
  append_text(out, message);
  out += '}';
  return out;
}

// 400 and 404 bodies.
std::string error_body(std::string_view message, std::string_view type) {
  std::string out = "{\"error\":{\"message\":";
  append_text(out, message);
  out += ",\"type\":";
  append_text(out, type);
  out += "}}";
  return out;
}

std::string problems_message(const DropBody& body) {
  std::string message = std::to_string(body.error_count) +
                        (body.error_count == 1 ? " problem" : " problems") + " in the drop body";
  if (body.error_count > kErrorsInMessage)
    message += " (the first " + std::to_string(kErrorsInMessage) + " shown)";
  message += ": ";
  for (std::size_t i = 0; i < body.errors.size() && i < kErrorsInMessage; ++i) {
    if (i > 0)
      message += "; ";
    message += body.errors[i];
  }
  return message;
}

std::string too_large_message(std::size_t bytes, std::size_t limit) {
  return "the request body is " + std::to_string(bytes) + " bytes, over the limit of " +
         std::to_string(limit) + " bytes of uncompressed JSON; split the month into smaller drops";
}

bool starts_with_bearer(std::string_view value) {
  constexpr std::string_view bearer = "bearer ";
  if (value.size() < bearer.size())
    return false;
  for (std::size_t i = 0; i < bearer.size(); ++i) {
    const char c = value[i];
    if ((c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c) != bearer[i])
      return false;
  }
  return true;
}

// Why the request's Content-Length cannot frame its body, if it cannot: every value must be a
// byte count, and several must agree. httplib would read "-1" as 2^64 - 1 and "12abc" as 12.
std::optional<std::string> content_length_problem(const httplib::Request& req) {
  const std::size_t count = req.get_header_value_count("Content-Length");
  std::string first;
  for (std::size_t i = 0; i < count; ++i) {
    const std::string value = req.get_header_value("Content-Length", i);
    const bool digits =
        !value.empty() && value.find_first_not_of("0123456789") == std::string::npos;
    std::uint64_t bytes = 0;
    const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), bytes);
    if (!digits || error != std::errc() || end != value.data() + value.size())
      return "the Content-Length header \"" + value +
             "\" is not a byte count (decimal digits only, less than 2^64)";
    if (i == 0)
      first = value;
    else if (value != first)
      return "the request has two different Content-Length headers (" + first + " and " + value +
             ")";
  }
  return std::nullopt;
}

// The body of a POST, read at most once through httplib's content reader: by the handler, or --
// when the handler answered without it (403, a replayed response) -- drained afterwards, so the
// connection's next request starts where it should instead of in this one's body.
class RequestBody {
public:
  RequestBody(const httplib::Request& req, const httplib::ContentReader& reader)
      : req_(req), reader_(reader) {}

  // Reads the whole body, keeping its first `limit` bytes and counting all of them. False when
  // httplib could not read it (res.status then says why: 413 when it refused the body from its
  // Content-Length without reading it).
  bool read(std::size_t limit, std::string& kept, std::uint64_t& size) {
    consumed_ = true;
    size = 0;
    const auto keep = [&](const char* data, std::size_t length) {
      size += length;
      if (size <= limit)
        kept.append(data, length);
      return true; // read on past the limit, counting, so a 413 can say the real size
    };
    if (req_.is_multipart_form_data()) // httplib parses these itself and hands over the parts
      return reader_([](const httplib::MultipartFormData&) { return true; },
                     [&](const char* data, std::size_t length) { return keep(data, length); });
    return reader_([&](const char* data, std::size_t length) { return keep(data, length); });
  }

  // Reads and drops an unread body; the response stays as the handler wrote it (httplib sets the
  // status when it refuses a body).
  void drain(httplib::Response& res) {
    if (consumed_)
      return;
    const int status = res.status;
    std::string nothing;
    std::uint64_t size = 0;
    (void)read(0, nothing, size);
    res.status = status;
  }

private:
  const httplib::Request& req_;
  const httplib::ContentReader& reader_;
  bool consumed_ = false;
};

} // namespace

class Emulator::Impl {
public:
  explicit Impl(EmulatorOptions options) : options_(std::move(options)) {}
  ~Impl() { stop(); }

  Result<std::uint16_t> start(const std::string& host, std::uint16_t port);
  void stop();
  std::uint16_t port() const noexcept { return port_.load(); }
  std::string base_url() const;
  Result<MonthState> month_state(const std::string& connection_id, Month month) const;
  std::uint64_t requests_served() const noexcept { return served_.load(); }

private:
  // Holds a connection's one slot for requests in flight.
  class BusySlot {
  public:
    BusySlot(Impl& impl, std::string id) : impl_(&impl), id_(std::move(id)) {}
    BusySlot(BusySlot&& other) noexcept
        : impl_(std::exchange(other.impl_, nullptr)), id_(other.id_) {}
    BusySlot& operator=(BusySlot&&) = delete;
    ~BusySlot() {
      if (impl_ == nullptr)
        return;
      const std::lock_guard lock(impl_->busy_mutex_);
      impl_->busy_.erase(id_);
    }

  private:
    Impl* impl_;
    std::string id_;
  };

  void install_routes(httplib::Server& server);
  // The request body, read whatever its Content-Type (the API takes the JSON as it comes: curl's
  // default form type, text/plain, none at all), up to the body limit. A larger body is read to
  // its end and counted, so the 413 can say its real size, chunked or not. On nullopt the
  // response is written (413, 400), or the request is abandoned: a body that did not arrive whole
  // (the connection broke, or the body missed its deadline) makes no request, so it gets no reply
  // and nothing is stored for its key.
  std::optional<std::string> read_body(const httplib::Request& req, httplib::Response& res,
                                       RequestBody& content, const std::optional<ResponseKey>& key);
  void send_drop(const httplib::Request& req, httplib::Response& res, RequestBody& content);
  void list_drops(const httplib::Request& req, httplib::Response& res);
  void month_rows(const httplib::Request& req, httplib::Response& res);
  void validate(const httplib::Request& req, httplib::Response& res, RequestBody& content);
  httplib::Server::HandlerResponse on_error(const httplib::Request& req, httplib::Response& res);

  // Answers 403 and returns false when the request's API key may not call the endpoint.
  bool authorize(const httplib::Request& req, httplib::Response& res, Endpoint endpoint) const;
  static std::string space_of(const httplib::Request& req);
  std::chrono::system_clock::time_point now() const {
    return options_.clock ? options_.clock() : std::chrono::system_clock::now();
  }
  // Expires what is due before a request is answered (EmulatorStore::arrive); false when that
  // failed and the response (500) is written.
  bool arrive(const httplib::Request& req, httplib::Response& res);
  static std::optional<ResponseKey> response_key(const httplib::Request& req);
  // Answers with the response stored for the request's idempotency key; false when none is.
  bool replay(const std::optional<ResponseKey>& key, httplib::Response& res);
  // Answers, and stores the response for replay when the request has an idempotency key.
  void respond(const std::optional<ResponseKey>& key, httplib::Response& res, int status,
               std::string body);
  void internal_failure(httplib::Response& res, const Error& error) const;
  void answer_busy(httplib::Response& res, std::string_view why) const;
  std::optional<BusySlot> try_hold(const std::string& space, const std::string& connection);
  // Sleeps for the injected latency; cut short by stop().
  void delay(std::chrono::milliseconds latency);

  EmulatorOptions options_;
  std::unique_ptr<EmulatorStore> store_; // opened by the first start(), kept after stop()
  std::optional<FaultPlan> faults_;
  std::unique_ptr<HttpServer> server_;
  std::thread listener_;
  std::mutex lifecycle_mutex_; // start() and stop()
  std::string host_;
  std::atomic<std::uint16_t> port_{0};
  std::atomic<std::uint64_t> served_{0};

  std::mutex busy_mutex_;
  std::set<std::string> busy_; // space + '\n' + connection of sends in flight

  std::mutex stop_mutex_;
  std::condition_variable stop_signal_;
  bool stopping_ = false;
};

Result<std::uint16_t> Emulator::Impl::start(const std::string& host, std::uint16_t port) {
  const std::lock_guard lifecycle(lifecycle_mutex_);
  if (server_)
    return config_error("the emulator is already serving on " + base_url());
  Result<FaultPlan> plan = FaultPlan::create(options_.faults);
  if (!plan)
    return std::move(plan).error().with_context("emulator");
  faults_.reset();
  faults_.emplace(std::move(*plan));
  if (options_.test_namespace_ttl.count() <= 0 || options_.idempotency_ttl.count() <= 0)
    return config_error("emulator: the test namespace and idempotency TTLs must be positive");
  {
    const std::lock_guard lock(stop_mutex_);
    stopping_ = false;
  }

  // A thread per connection, so a held request (latency) or a slow or idle client does not
  // starve the others; deadlines, so none holds its thread for long.
  auto server =
      std::make_unique<HttpServer>(ConnectionLimits{.header_timeout = options_.header_timeout,
                                                    .body_timeout = options_.body_timeout,
                                                    .read_timeout = options_.read_timeout,
                                                    .keep_alive = options_.keep_alive,
                                                    .max_connections = options_.max_connections});
  server->set_payload_max_length(options_.max_body_bytes);
  server->set_tcp_nodelay(true);          // no 40 ms delayed-ACK stall between headers and body
  server->set_keep_alive_max_count(1000); // httplib closes after 5 requests by default
  // Only for the Keep-Alive header of replies; HttpServer keeps the time itself.
  server->set_keep_alive_timeout(std::max<std::chrono::seconds::rep>(
      1, std::chrono::ceil<std::chrono::seconds>(options_.keep_alive).count()));
  auto listening_socket = std::make_shared<int>(-1); // the socket bound: its backlog widened
  server->set_socket_options([listening_socket](socket_t sock) {
    core::set_listen_socket_options(sock, listening_socket.get());
  });
  install_routes(*server);

  int bound = 0;
  if (port == 0) {
    bound = server->bind_to_any_port(host);
  } else {
    bound = server->bind_to_port(host, port) ? port : -1;
  }
  if (bound <= 0)
    return source_error("the emulator cannot listen on " + host + ":" + std::to_string(port) +
                        ": " + core::bind_failure_reason(host, port));
  core::widen_backlog(*listening_socket);
  // The store only once the port is ours: a port in use leaves no store file behind.
  if (!store_) {
    Result<std::unique_ptr<EmulatorStore>> store = EmulatorStore::open(
        options_.store, Expiry{options_.test_namespace_ttl, options_.idempotency_ttl});
    if (!store)
      return std::move(store).error();
    store_ = std::move(*store);
  }
  server->widen_backlog(SOMAXCONN);
  host_ = host;
  port_ = static_cast<std::uint16_t>(bound);
  server_ = std::move(server);
  listener_ = std::thread([server = server_.get()] { server->listen_after_bind(); });
  // stop() before the accept loop runs would be lost; the socket already listens, so this only
  // waits for the thread to get there.
  while (!server_->is_running())
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return port_.load();
}

void Emulator::Impl::stop() {
  const std::lock_guard lifecycle(lifecycle_mutex_);
  if (!server_)
    return;
  {
    const std::lock_guard lock(stop_mutex_);
    stopping_ = true;
  }
  stop_signal_.notify_all();
  server_->stop(); // closes the listening socket; the pool finishes the requests it holds
  if (listener_.joinable())
    listener_.join();
  server_.reset();
}

std::string Emulator::Impl::base_url() const {
  std::string host = host_;
  if (host.empty() || host == "0.0.0.0")
    host = "127.0.0.1";
  else if (host == "::")
    host = "::1";
  if (host.find(':') != std::string::npos)
    host = "[" + host + "]";
  return "http://" + host + ":" + std::to_string(port_.load());
}

Result<MonthState> Emulator::Impl::month_state(const std::string& connection_id,
                                               Month month) const {
  if (!store_)
    return config_error("the emulator has no store yet: call start() first");
  return store_->month_state("", connection_id, month);
}

void Emulator::Impl::install_routes(httplib::Server& server) {
  // Handlers with a content reader: httplib leaves the body to them, so it never applies its
  // form-urlencoded size limit (8 KB) or multipart parsing to a JSON body.
  server.Post(kValidateRoute, [this](const httplib::Request& req, httplib::Response& res,
                                     const httplib::ContentReader& reader) {
    RequestBody content(req, reader);
    validate(req, res, content);
    content.drain(res);
  });
  server.Post(kSendOrListRoute, [this](const httplib::Request& req, httplib::Response& res,
                                       const httplib::ContentReader& reader) {
    RequestBody content(req, reader);
    send_drop(req, res, content);
    content.drain(res);
  });
  server.Get(kSendOrListRoute,
             [this](const httplib::Request& req, httplib::Response& res) { list_drops(req, res); });
  server.Get(kMonthRoute,
             [this](const httplib::Request& req, httplib::Response& res) { month_rows(req, res); });
  server.set_error_handler(httplib::Server::HandlerWithResponse(
      [this](const httplib::Request& req, httplib::Response& res) { return on_error(req, res); }));
  server.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr thrown) {
        std::string what = "unknown exception";
        try {
          std::rethrow_exception(thrown);
        } catch (const std::exception& e) {
          what = e.what();
        } catch (...) {
        }
        res.status = 500;
        res.set_content(message_body("the emulator failed: " + what), kJson);
      });
  // A request whose framing cannot be trusted is answered before its body is touched, and its
  // connection closes: what follows its head cannot be told from a next request.
  server.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
    const std::optional<std::string> problem = content_length_problem(req);
    if (!problem)
      return httplib::Server::HandlerResponse::Unhandled;
    HttpServer::close_after_reply();
    res.set_header("Connection", "close");
    res.status = 400;
    res.set_content(error_body(*problem, "invalid_request"), kJson);
    return httplib::Server::HandlerResponse::Handled;
  });
  server.set_post_routing_handler([this](const httplib::Request&, httplib::Response&) {
    if (!HttpServer::request_abandoned())
      served_.fetch_add(1);
  });
}

bool Emulator::Impl::authorize(const httplib::Request& req, httplib::Response& res,
                               Endpoint endpoint) const {
  const std::string key = req.get_header_value("Authorization");
  std::string problem;
  if (key.empty()) {
    problem = "the request has no Authorization header; send the API key as "
              "\"Authorization: <key>\"";
  } else if (starts_with_bearer(key)) {
    problem = "send the raw API key in the Authorization header, without the \"Bearer\" prefix";
  } else if (auto scoped = options_.key_scopes.find(key); scoped != options_.key_scopes.end()) {
    if (scoped->second.count(scope_of(endpoint)) == 0)
      problem = std::string("the API key lacks the scope ") + scope_of(endpoint) +
                " that this endpoint needs";
  } else if (!options_.api_keys.empty() &&
             std::find(options_.api_keys.begin(), options_.api_keys.end(), key) ==
                 options_.api_keys.end()) {
    problem = "the API key in the Authorization header is not valid";
  }
  if (problem.empty())
    return true;
  res.status = 403;
  res.set_content(message_body(problem), kJson);
  return false;
}

std::string Emulator::Impl::space_of(const httplib::Request& req) {
  const std::string test_key = req.get_header_value("cloudzero-test-key");
  return test_key.empty() ? std::string() : "test:" + test_key;
}

std::optional<ResponseKey> Emulator::Impl::response_key(const httplib::Request& req) {
  std::string key = req.get_header_value("cloudzero-idempotency-key");
  if (key.empty())
    return std::nullopt;
  return ResponseKey{space_of(req), req.method, req.path, std::move(key)};
}

bool Emulator::Impl::arrive(const httplib::Request& req, httplib::Response& res) {
  if (Status status = store_->arrive(space_of(req), now()); !status) {
    internal_failure(res, status.error());
    return false;
  }
  return true;
}

bool Emulator::Impl::replay(const std::optional<ResponseKey>& key, httplib::Response& res) {
  if (!key)
    return false;
  Result<std::optional<StoredResponse>> stored = store_->find_response(*key, now());
  if (!stored) {
    internal_failure(res, stored.error());
    return true;
  }
  if (!*stored)
    return false;
  res.status = (*stored)->status;
  res.set_content(std::move((*stored)->body), kJson);
  return true;
}

void Emulator::Impl::respond(const std::optional<ResponseKey>& key, httplib::Response& res,
                             int status, std::string body) {
  if (key) {
    if (Status kept = store_->remember_response(*key, {status, body}, now()); !kept) {
      internal_failure(res, kept.error());
      return;
    }
  }
  res.status = status;
  res.set_content(std::move(body), kJson);
}

void Emulator::Impl::internal_failure(httplib::Response& res, const Error& error) const {
  res.status = 500;
  res.set_content(message_body(error.message()), kJson);
}

void Emulator::Impl::answer_busy(httplib::Response& res, std::string_view why) const {
  res.status = 429;
  res.set_header("Retry-After", std::to_string(options_.busy_retry_after.count()));
  res.set_content(message_body(why), kJson);
}

std::optional<Emulator::Impl::BusySlot> Emulator::Impl::try_hold(const std::string& space,
                                                                 const std::string& connection) {
  std::string id = space + '\n' + connection;
  const std::lock_guard lock(busy_mutex_);
  if (!busy_.insert(id).second)
    return std::nullopt;
  return BusySlot(*this, std::move(id));
}

void Emulator::Impl::delay(std::chrono::milliseconds latency) {
  if (latency.count() <= 0)
    return;
  std::unique_lock lock(stop_mutex_);
  stop_signal_.wait_for(lock, latency, [this] { return stopping_; });
}

std::optional<std::string> Emulator::Impl::read_body(const httplib::Request& req,
                                                     httplib::Response& res, RequestBody& content,
                                                     const std::optional<ResponseKey>& key) {
  const std::size_t limit = options_.max_body_bytes;
  std::string kept;
  std::uint64_t size = 0;
  const bool read = content.read(limit, kept, size);
  if (!read && res.status == 413) {
    // httplib refused the body from its Content-Length and skipped it unread.
    size = req.get_header_value<std::uint64_t>("Content-Length");
  } else if (!read) {
    // The body broke off or missed its deadline: no request arrived, so nothing is answered or
    // stored, and the client, seeing no response, may retry with the same key.
    HttpServer::abandon_request();
    return std::nullopt;
  }
  if (size > limit) {
    respond(key, res, 413, message_body(too_large_message(static_cast<std::size_t>(size), limit)));
    return std::nullopt;
  }
  if (req.is_multipart_form_data()) {
    respond(key, res, 400,
            error_body("the body is multipart/form-data; send the JSON drop itself as the "
                       "request body (Content-Type: application/json)",
                       "invalid_request"));
    return std::nullopt;
  }
  return kept;
}

void Emulator::Impl::send_drop(const httplib::Request& req, httplib::Response& res,
                               RequestBody& content) {
  if (!authorize(req, res, Endpoint::send_drop) || !arrive(req, res))
    return;
  const std::optional<ResponseKey> key = response_key(req);
  if (replay(key, res))
    return;
  // Read and measured before any parsing.
  const std::optional<std::string> request_body = read_body(req, res, content, key);
  if (!request_body)
    return;
  const std::string space = space_of(req);
  const std::string connection = req.matches[1];
  std::optional<BusySlot> slot = try_hold(space, connection);
  if (!slot) {
    answer_busy(res, "another request for connection " + connection +
                         " is in flight; the API takes one at a time per connection");
    return;
  }
  // Again, now that no other send of the connection can be applied: a request with the same key
  // may have been answered while this one's body was arriving, and this one is then a repeat.
  if (replay(key, res))
    return;

  const FaultDecision fault = faults_->next();
  delay(fault.latency);
  switch (fault.kind) {
  case FaultKind::error_500:
    res.status = 500;
    res.set_content(message_body("injected fault: internal server error; nothing was applied"),
                    kJson);
    return;
  case FaultKind::error_429:
    answer_busy(res, "injected fault: too many requests; nothing was applied");
    return;
  case FaultKind::close_before_reply:
    // A status line and part of a chunked body, then the connection closes without the final
    // chunk: the client sees a broken response, never a complete one.
    res.status = 500;
    res.set_chunked_content_provider(kJson, [](std::size_t, httplib::DataSink& sink) {
      constexpr std::string_view partial = R"({"connection":{"drop_id":")";
      sink.write(partial.data(), partial.size());
      return false;
    });
    return;
  case FaultKind::none:
  case FaultKind::apply_then_fail:
    break;
  }

  int status = 200;
  std::string body;
  Result<DropBody> drop = read_drop_body(*request_body, kErrorsInMessage);
  if (!drop) {
    status = 400;
    body = error_body(drop.error().message(), "invalid_request");
  } else if (!drop->valid()) {
    status = 400;
    body = error_body(problems_message(*drop), "invalid_cbf");
  } else {
    Result<ApplyResult> applied =
        store_->apply(space, connection, *drop->month, drop->operation, drop->rows,
                      {options_.max_rows_per_month, options_.max_bytes_per_month});
    if (!applied) {
      internal_failure(res, applied.error());
      return;
    }
    if (!applied->applied) {
      status = 400;
      body = error_body(applied->refusal, "month_limit_exceeded");
    } else {
      body = "{\"connection\":{\"drop_id\":";
      append_text(body, applied->drop.drop_id);
      body += ",\"month\":\"" + drop->month->to_string() +
              "\",\"row_count\":" + std::to_string(drop->rows.size()) + "}}";
    }
  }
  respond(key, res, status, std::move(body));
  if (fault.kind == FaultKind::apply_then_fail && res.status != 500) {
    // The outcome stays stored (and replayable); only this reply is lost.
    res.status = 500;
    res.set_content(
        message_body("injected fault: internal server error after the request was processed"),
        kJson);
  }
}

void Emulator::Impl::list_drops(const httplib::Request& req, httplib::Response& res) {
  if (!authorize(req, res, Endpoint::list_drops) || !arrive(req, res))
    return;
  const std::optional<ResponseKey> key = response_key(req);
  if (replay(key, res))
    return;
  Result<std::vector<DropRecord>> drops = store_->drops(space_of(req), req.matches[1].str());
  if (!drops) {
    internal_failure(res, drops.error());
    return;
  }
  std::string body = "{\"billing_drops\":[";
  for (std::size_t i = 0; i < drops->size(); ++i) {
    const DropRecord& drop = (*drops)[i];
    if (i > 0)
      body += ',';
    body += "{\"drop_id\":";
    append_text(body, drop.drop_id);
    body += ",\"month\":\"" + drop.month.to_string() +
            "\",\"row_count\":" + std::to_string(drop.row_count) + "}";
  }
  body += "]}";
  respond(key, res, 200, std::move(body));
}

void Emulator::Impl::month_rows(const httplib::Request& req, httplib::Response& res) {
  if (!authorize(req, res, Endpoint::month_rows) || !arrive(req, res))
    return;
  const std::optional<ResponseKey> key = response_key(req);
  if (replay(key, res))
    return;
  const std::string connection = req.matches[1];
  const std::string month_text = req.matches[2];
  Result<Month> month = Month::parse(month_text);
  if (!month) {
    respond(key, res, 400,
            error_body("the month in the path: " + month.error().message(), "invalid_request"));
    return;
  }
  Result<std::optional<std::string>> rows = store_->month_rows(space_of(req), connection, *month);
  if (!rows) {
    internal_failure(res, rows.error());
    return;
  }
  if (!*rows) {
    respond(key, res, 404,
            error_body("connection " + connection + " has no billing drop rows for " +
                           month->to_string(),
                       "not_found"));
    return;
  }
  std::string body = "{\"billing_drop\":";
  body += **rows;
  body += '}';
  respond(key, res, 200, std::move(body));
}

void Emulator::Impl::validate(const httplib::Request& req, httplib::Response& res,
                              RequestBody& content) {
  if (!authorize(req, res, Endpoint::validate) || !arrive(req, res))
    return;
  const std::optional<ResponseKey> key = response_key(req);
  if (replay(key, res))
    return;
  const std::optional<std::string> request_body = read_body(req, res, content, key);
  if (!request_body)
    return;
  Result<DropBody> drop = read_drop_body(*request_body, kErrorsInValidate);
  if (!drop) {
    respond(key, res, 400, error_body(drop.error().message(), "invalid_request"));
    return;
  }
  std::string body = "{\"connection\":{\"is_valid\":";
  body += drop->valid() ? "true" : "false";
  body += ",\"errors\":[";
  for (std::size_t i = 0; i < drop->errors.size(); ++i) {
    if (i > 0)
      body += ',';
    append_text(body, drop->errors[i]);
  }
  if (drop->error_count > drop->errors.size()) {
    body += ',';
    append_text(body, "and " + std::to_string(drop->error_count - drop->errors.size()) +
                          " more problems");
  }
  body += "]}}";
  respond(key, res, 200, std::move(body));
}

httplib::Server::HandlerResponse Emulator::Impl::on_error(const httplib::Request& req,
                                                          httplib::Response& res) {
  using httplib::Server;
  // Responses the handlers wrote (bodies or the cut-off stream) stand as they are.
  if (!res.body.empty() || res.content_provider_)
    return Server::HandlerResponse::Unhandled;
  if (res.status == 413) {
    // httplib refused the body from its Content-Length and skipped it unread.
    static const std::regex send_route(kSendOrListRoute);
    static const std::regex validate_route(kValidateRoute);
    const bool is_send = std::regex_match(req.path, send_route);
    if (!is_send && !std::regex_match(req.path, validate_route)) {
      res.status = 404;
      res.set_content(error_body("no endpoint " + req.method + " " + req.path, "not_found"), kJson);
      return Server::HandlerResponse::Handled;
    }
    if (!authorize(req, res, is_send ? Endpoint::send_drop : Endpoint::validate) ||
        !arrive(req, res))
      return Server::HandlerResponse::Handled;
    const std::optional<ResponseKey> key = response_key(req);
    if (replay(key, res))
      return Server::HandlerResponse::Handled;
    const auto bytes = req.get_header_value<std::uint64_t>("Content-Length");
    respond(
        key, res, 413,
        message_body(too_large_message(static_cast<std::size_t>(bytes), options_.max_body_bytes)));
    return Server::HandlerResponse::Handled;
  }
  if (res.status == 404) {
    res.set_content(error_body("no endpoint " + req.method + " " + req.path +
                                   " (the emulator serves /v2/connections/billing/anycost/...)",
                               "not_found"),
                    kJson);
    return Server::HandlerResponse::Handled;
  }
  if (res.status == 400) {
    res.set_content(error_body("the HTTP request is malformed", "invalid_request"), kJson);
    return Server::HandlerResponse::Handled;
  }
  res.set_content(message_body("the request failed with HTTP status " + std::to_string(res.status)),
                  kJson);
  return Server::HandlerResponse::Handled;
}

Emulator::Emulator(EmulatorOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Emulator::~Emulator() = default;

Result<std::uint16_t> Emulator::start(const std::string& host, std::uint16_t port) {
  return impl_->start(host, port);
}
void Emulator::stop() {
  impl_->stop();
}
std::uint16_t Emulator::port() const noexcept {
  return impl_->port();
}
std::string Emulator::base_url() const {
  return impl_->base_url();
}
Result<MonthState> Emulator::month_state(const std::string& connection_id, Month month) const {
  return impl_->month_state(connection_id, month);
}
std::uint64_t Emulator::requests_served() const noexcept {
  return impl_->requests_served();
}

} // namespace billdrop::emulator
