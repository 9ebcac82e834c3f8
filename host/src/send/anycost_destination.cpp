// The AnyCost Stream API destination: one POST per request through cpp-httplib, and a GET of the
// month's rows to read it back.

#include "send/destination.hpp"

#include <httplib.h>
#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <mutex>
#include <vector>

namespace billdrop::send {
namespace {

constexpr std::string_view kDropsPathPrefix = "/v2/connections/billing/anycost/";
constexpr std::size_t kMaxQuotedBody = 300; // of a non-JSON error body, in a message
constexpr std::size_t kMaxIdleClients = 64;
// A read-back body is reserved up front from its Content-Length, but never more than this (the
// API's month cap is 400 MB of rows); a longer body still arrives, growing as it comes.
constexpr std::size_t kMaxReservedBody = std::size_t{1} << 30;

// A base URL split into what httplib::Client takes and the path prefix it does not.
struct BaseUrl {
  std::string scheme_host_port; // "https://api.cloudzero.com:443"
  std::string path_prefix;      // "" or "/some/prefix" (no trailing '/')
};

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

Result<BaseUrl> parse_base_url(std::string_view url) {
  // The message never quotes the URL: a user might have put credentials in it.
  const auto bad = [](std::string_view why) {
    return config_error("the AnyCost base URL " + std::string(why) +
                        "; expected http(s)://host[:port][/path], e.g. https://api.cloudzero.com");
  };
  const std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos)
    return bad("has no scheme");
  std::string scheme;
  for (const char c : url.substr(0, scheme_end))
    scheme += lower(c);
  if (scheme != "http" && scheme != "https")
    return bad("has the scheme \"" + scheme + "\", which is neither http nor https");
  std::string_view rest = url.substr(scheme_end + 3);
  const std::size_t path_start = rest.find('/');
  std::string_view authority = rest.substr(0, path_start);
  std::string_view path = path_start == std::string_view::npos ? "" : rest.substr(path_start);
  if (authority.empty())
    return bad("has no host");
  if (authority.find('@') != std::string_view::npos)
    return bad("holds user credentials (the API key goes in its own setting)");
  if (rest.find_first_of("?#") != std::string_view::npos)
    return bad("has a query or fragment");
  while (path.ends_with('/'))
    path.remove_suffix(1);
  return BaseUrl{scheme + "://" + std::string(authority), std::string(path)};
}

// Path segments are percent-encoded so any connection id reaches the API intact.
std::string encode_segment(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte >= 'A' && byte <= 'Z') || (byte >= 'a' && byte <= 'z') ||
        (byte >= '0' && byte <= '9') || c == '-' || c == '_' || c == '.' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 0x0F];
    }
  }
  return out;
}

// The message of an error body: error.message (400, 404) or message (403, 413); else the body.
std::string error_message(const std::string& body, int status) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (!parser.parse(body).get(root)) {
    std::string_view message;
    if (!root.at_pointer("/error/message").get(message) ||
        !root.at_pointer("/message").get(message))
      return std::string(message);
  }
  std::string_view text = body;
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  if (text.empty())
    return "HTTP " + std::to_string(status) + " with an empty body";
  if (text.size() > kMaxQuotedBody)
    return std::string(text.substr(0, kMaxQuotedBody)) + "...";
  return std::string(text);
}

void read_success(const std::string& body, DropResponse& response) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(body).get(root))
    return; // acknowledged all the same: the status says it is stored
  std::string_view drop_id;
  if (!root.at_pointer("/connection/drop_id").get(drop_id))
    response.drop_id = std::string(drop_id);
  std::uint64_t rows = 0;
  if (!root.at_pointer("/connection/row_count").get(rows))
    response.row_count = rows;
}

// The rows of a GET month answer, {"billing_drop":[row,...]}, counted and summed. `body` gets the
// padding simdjson reads past the end (usually already reserved).
Result<LandedMonth> sum_month_rows(std::string& body) {
  body.reserve(body.size() + simdjson::SIMDJSON_PADDING);
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document document;
  simdjson::ondemand::object root;
  simdjson::ondemand::array rows;
  if (parser.iterate(body).get(document) || document.get_object().get(root) ||
      root.find_field_unordered("billing_drop").get_array().get(rows))
    return data_error("the answer is not {\"billing_drop\":[rows]}");
  LandedMonth landed;
  std::uint64_t index = 0;
  for (auto element : rows) {
    const auto bad_row = [&index](std::string_view why) {
      return data_error("billing_drop[" + std::to_string(index) + "]: " + std::string(why));
    };
    simdjson::ondemand::object row;
    if (const auto error = element.get_object().get(row))
      return bad_row(std::string("is not a JSON object (") + simdjson::error_message(error) + ")");
    std::optional<std::string_view> usage_start;
    std::optional<std::string_view> cost;
    for (auto field : row) {
      std::string_view key;
      if (const auto error = field.unescaped_key().get(key))
        return bad_row(simdjson::error_message(error));
      std::optional<std::string_view>* wanted = key == "time/usage_start" ? &usage_start
                                                : key == "cost/cost"      ? &cost
                                                                          : nullptr;
      if (wanted == nullptr)
        continue;
      std::string_view text;
      if (field.value().get_string().get(text))
        return bad_row(std::string(key) + " is not a JSON string");
      *wanted = text;
    }
    if (!usage_start || !cost)
      return bad_row(std::string("has no ") + (usage_start ? "cost/cost" : "time/usage_start"));
    if (Status counted = landed.add_row(*usage_start, *cost); !counted)
      return bad_row(counted.error().message());
    ++index;
  }
  return landed;
}

DropResponse transport_failure(httplib::Error error, std::chrono::milliseconds timeout,
                               const std::string& server) {
  DropResponse response;
  response.outcome = Outcome::ambiguous;
  std::string what = httplib::to_string(error);
  switch (error) {
  case httplib::Error::Connection:
    // No connection, so no request left: nothing can have been stored.
    response.outcome = Outcome::retryable;
    response.message = "Could not establish connection to " + server +
                       " (refused, unreachable or no answer within " +
                       std::to_string(timeout.count()) + " ms): is the base URL right?";
    return response;
  case httplib::Error::SSLServerVerification:
  case httplib::Error::SSLLoadingCerts:
    // Trying again gets the same certificate: only a configuration change helps.
    response.outcome = Outcome::rejected;
    what += ": the server's TLS certificate could not be verified against the system's CA store";
    break;
  case httplib::Error::Read:
  case httplib::Error::Write:
  case httplib::Error::ConnectionTimeout:
    what += " (the connection broke or went silent for " + std::to_string(timeout.count()) +
            " ms before a complete response)";
    break;
  default:
    break;
  }
  response.message = "no complete response: " + what;
  return response;
}

class AnycostDestination final : public Destination {
public:
  explicit AnycostDestination(AnycostSettings settings) : settings_(std::move(settings)) {
    Result<BaseUrl> url = parse_base_url(settings_.base_url);
    if (url)
      url_ = std::move(*url);
    else
      url_error_ = url.error().message();
  }

  std::string describe() const override {
    std::string out = "anycost ";
    out += url_error_.empty() ? url_.scheme_host_port + url_.path_prefix : "(unusable base URL)";
    if (!settings_.test_key.empty())
      out += " (test namespace)";
    return out;
  }

  DropResponse send(const DropRequest& request) override {
    if (!url_error_.empty()) {
      DropResponse response;
      response.outcome = Outcome::rejected;
      response.message = url_error_;
      return response;
    }
    httplib::Headers headers = common_headers();
    if (!request.idempotency_key.empty())
      headers.emplace("cloudzero-idempotency-key", request.idempotency_key);

    std::unique_ptr<httplib::Client> client = acquire();
    httplib::Result result =
        client->Post(drops_path(request.connection_id), headers, request.body, "application/json");
    if (!result)
      // The client is dropped with its connection.
      return transport_failure(result.error(), settings_.timeout, url_.scheme_host_port);

    DropResponse response;
    response.http_status = result->status;
    response.outcome = classify_status(result->status);
    if (result->has_header("Retry-After"))
      response.retry_after = parse_retry_after(result->get_header_value("Retry-After"),
                                               std::chrono::system_clock::now());
    if (response.outcome == Outcome::acknowledged)
      read_success(result->body, response);
    else
      response.message = redact(error_message(result->body, result->status));
    release(std::move(client));
    return response;
  }

  Result<std::optional<LandedMonth>> read_back(const std::string& connection_id,
                                               Month month) override {
    const std::string context =
        "reading back " + month.to_string() + " of connection " + connection_id;
    if (!url_error_.empty())
      return config_error(url_error_).with_context(context);
    // No idempotency key: the API would replay the first answer stored for it, and a read-back
    // must see what the month holds now.
    std::string body;
    std::unique_ptr<httplib::Client> client = acquire();
    httplib::Result result = client->Get(
        drops_path(connection_id) + "/" + month.to_string(), common_headers(),
        [&body](const httplib::Response& response) {
          const std::string length = response.get_header_value("Content-Length");
          std::size_t bytes = 0;
          std::from_chars(length.data(), length.data() + length.size(), bytes);
          body.reserve(std::min(bytes, kMaxReservedBody) + simdjson::SIMDJSON_PADDING);
          return true;
        },
        [&body](const char* data, std::size_t length) {
          body.append(data, length);
          return true;
        });
    if (!result) {
      // A read changes nothing, so whatever broke it, trying again is safe.
      const DropResponse failure =
          transport_failure(result.error(), settings_.timeout, url_.scheme_host_port);
      return source_error(context + ": " + failure.message, failure.outcome != Outcome::rejected);
    }
    release(std::move(client));
    const int status = result->status;
    if (status == 404) // the reference: the month holds no rows (also after it was emptied)
      return std::optional<LandedMonth>(LandedMonth{});
    if (const Outcome outcome = classify_status(status); outcome != Outcome::acknowledged)
      return source_error(context + ": HTTP " + std::to_string(status) + ": " +
                              redact(error_message(body, status)),
                          outcome == Outcome::retryable);
    Result<LandedMonth> landed = sum_month_rows(body);
    if (!landed)
      return std::move(landed).error().with_context(context);
    return std::optional<LandedMonth>(std::move(landed).value());
  }

private:
  // A message from the server with the API key cut out, should the server (or a proxy) echo it.
  // A key of a few characters would match ordinary words; real keys are far longer.
  std::string redact(std::string message) const {
    constexpr std::size_t kShortestRedactedKey = 8;
    if (settings_.api_key.size() < kShortestRedactedKey)
      return message;
    constexpr std::string_view kRedacted = "<API key>";
    for (std::size_t at = message.find(settings_.api_key); at != std::string::npos;
         at = message.find(settings_.api_key, at + kRedacted.size()))
      message.replace(at, settings_.api_key.size(), kRedacted);
    return message;
  }

  // /v2/connections/billing/anycost/<connection>/billing_drops, under the base URL's prefix.
  std::string drops_path(const std::string& connection_id) const {
    return url_.path_prefix + std::string(kDropsPathPrefix) + encode_segment(connection_id) +
           "/billing_drops";
  }

  // Every request's headers: the raw key (no Bearer), and the test namespace when one is set.
  httplib::Headers common_headers() const {
    httplib::Headers headers{{"Authorization", settings_.api_key},
                             {"Accept", "application/json"},
                             {"User-Agent", "billdrop/" BILLDROP_VERSION}};
    if (!settings_.test_key.empty())
      headers.emplace("cloudzero-test-key", settings_.test_key);
    return headers;
  }

  std::unique_ptr<httplib::Client> acquire() {
    {
      const std::lock_guard lock(mutex_);
      if (!idle_.empty()) {
        std::unique_ptr<httplib::Client> client = std::move(idle_.back());
        idle_.pop_back();
        return client;
      }
    }
    auto client = std::make_unique<httplib::Client>(url_.scheme_host_port);
    client->set_connection_timeout(settings_.timeout);
    client->set_read_timeout(settings_.timeout);
    client->set_write_timeout(settings_.timeout);
    client->set_keep_alive(settings_.keep_alive);
    // Headers and body leave in separate writes: without this, Nagle's algorithm and the peer's
    // delayed ACK add ~40 ms to every request.
    client->set_tcp_nodelay(true);
    client->set_follow_location(false); // a redirect is a misconfigured base URL, not success
    return client;
  }

  void release(std::unique_ptr<httplib::Client> client) {
    if (!settings_.keep_alive)
      return;
    const std::lock_guard lock(mutex_);
    if (idle_.size() < kMaxIdleClients)
      idle_.push_back(std::move(client));
  }

  AnycostSettings settings_;
  BaseUrl url_;
  std::string url_error_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<httplib::Client>> idle_; // clients with a connection to reuse
};

} // namespace

std::unique_ptr<Destination> make_anycost_destination(AnycostSettings settings) {
  return std::make_unique<AnycostDestination>(std::move(settings));
}

} // namespace billdrop::send
