#include "remote/http.hpp"

#include "remote/xml_text.hpp"

namespace billdrop::remote {

Endpoint parse_endpoint(std::string_view url, std::string_view what) {
  const auto bad = [&] {
    return ErrorException(config_error(std::string(what) + " '" + std::string(url) +
                                       "' is not an http:// or https:// URL"));
  };
  const bool https = url.starts_with("https://");
  if (!https && !url.starts_with("http://"))
    throw bad();
  const std::string_view rest = url.substr(https ? 8 : 7);
  const std::size_t slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  if (authority.empty())
    throw bad();
  Endpoint endpoint;
  endpoint.scheme_host_port = std::string(https ? "https://" : "http://") + std::string(authority);
  std::string_view host = authority;
  if (host.ends_with(https ? ":443" : ":80"))
    host.remove_suffix(https ? 4 : 3);
  endpoint.host = std::string(host);
  if (slash != std::string_view::npos) {
    std::string_view path = rest.substr(slash);
    while (path.ends_with('/'))
      path.remove_suffix(1);
    endpoint.base_path = std::string(path);
  }
  return endpoint;
}

std::unique_ptr<httplib::Client> make_client(const Endpoint& endpoint,
                                             const RemoteSettings& settings) {
  auto client = std::make_unique<httplib::Client>(endpoint.scheme_host_port);
  client->set_connection_timeout(std::chrono::seconds(settings.timeout_seconds));
  client->set_read_timeout(std::chrono::seconds(settings.timeout_seconds));
  client->set_keep_alive(true);
  return client;
}

ClientPool::Lease ClientPool::acquire() {
  {
    const std::lock_guard guard(mutex_);
    if (!idle_.empty()) {
      std::unique_ptr<httplib::Client> client = std::move(idle_.back());
      idle_.pop_back();
      return Lease(*this, std::move(client));
    }
  }
  return Lease(*this, make_client(endpoint_, settings_));
}

void ClientPool::give_back(std::unique_ptr<httplib::Client> client) {
  const std::lock_guard guard(mutex_);
  idle_.push_back(std::move(client));
}

std::string HttpAnswer::header(const std::string& name) const {
  const auto found = headers.find(name);
  return found == headers.end() ? std::string() : found->second;
}

namespace {

ErrorException transport_failure(httplib::Error error, std::string_view what) {
  std::string reason;
  switch (error) {
  case httplib::Error::Connection:
    reason = "cannot connect";
    break;
  case httplib::Error::Read:
    reason = "the connection broke while receiving the answer";
    break;
  case httplib::Error::Write:
    reason = "the connection broke while sending the request";
    break;
  case httplib::Error::ConnectionTimeout:
    reason = "the connection timed out";
    break;
  default:
    break;
  }
  const std::string name = httplib::to_string(error);
  return ErrorException(source_error(
      std::string(what) + ": " + (reason.empty() ? name : reason + " (" + name + ")"), true));
}

} // namespace

HttpAnswer http_send(httplib::Client& client, const std::string& method, const std::string& path,
                     const httplib::Headers& headers, const std::string& body,
                     const std::string& content_type, std::string_view what) {
  httplib::Request request;
  request.method = method;
  request.path = path;
  request.headers = headers;
  if (!body.empty() || method == "POST" || method == "PUT") {
    request.body = body;
    if (!content_type.empty())
      request.set_header("Content-Type", content_type);
  }
  httplib::Result result = client.send(request);
  if (!result)
    throw transport_failure(result.error(), what);
  return HttpAnswer{result->status, result->headers, result->body};
}

HttpAnswer http_get_streamed(httplib::Client& client, const std::string& path,
                             const httplib::Headers& headers,
                             const std::function<void(const httplib::Response&)>& check_head,
                             const std::function<bool(const char*, std::size_t)>& sink,
                             std::string_view what) {
  HttpAnswer answer;
  std::exception_ptr refused; // thrown by check_head: rethrown once httplib has returned
  bool stopped = false;
  std::uint64_t expected = UINT64_MAX;
  std::uint64_t received = 0;
  httplib::Result result = client.Get(
      path, headers,
      [&](const httplib::Response& response) {
        answer.status = response.status;
        answer.headers = response.headers;
        if (response.status < 200 || response.status >= 300)
          return true;
        try {
          check_head(response);
        } catch (...) {
          refused = std::current_exception();
          return false;
        }
        if (response.has_header("Content-Length"))
          expected = std::stoull(response.get_header_value("Content-Length"));
        return true;
      },
      [&](const char* data, std::size_t size) {
        if (answer.status < 200 || answer.status >= 300) {
          if (answer.body.size() < 64 * 1024)
            answer.body.append(data, size);
          return true;
        }
        received += size;
        if (!sink(data, size)) {
          stopped = true;
          return false;
        }
        return true;
      });
  if (refused)
    std::rethrow_exception(refused);
  if (stopped)
    return answer;
  if (!result)
    throw transport_failure(result.error(), what);
  if (answer.status >= 200 && answer.status < 300 && expected != UINT64_MAX && received != expected)
    throw ErrorException(source_error(std::string(what) + ": the connection ended after " +
                                          std::to_string(received) + " of " +
                                          std::to_string(expected) + " bytes",
                                      true));
  return answer;
}

std::string describe_answer(const HttpAnswer& answer) {
  std::string text = "HTTP " + std::to_string(answer.status);
  // S3 and Azure answer XML with a Code and a Message; GCS JSON with "message".
  const std::string code = xml_value(answer.body, "Code");
  const std::string message = xml_value(answer.body, "Message");
  if (!code.empty())
    text += ": " + code;
  if (!message.empty())
    text += " (" + message.substr(0, 300) + ")";
  if (code.empty() && message.empty() && !answer.body.empty() && answer.body.size() < 300 &&
      answer.body.find('<') == std::string::npos)
    text += ": " + answer.body;
  return text;
}

bool retryable_status(int status) noexcept {
  return status >= 500 || status == 429 || status == 408;
}

void throw_answer(const HttpAnswer& answer, std::string_view what) {
  throw ErrorException(source_error(std::string(what) + ": " + describe_answer(answer),
                                    retryable_status(answer.status)));
}

} // namespace billdrop::remote
