#pragma once
// A test-side HTTP proxy in front of s3rver (which checks the access key id but not the SigV4
// signature): it recomputes every request's signature from the request as it arrived, with its
// own code (OpenSSL directly, not billdrop's signer), answers 403 to a bad one, and forwards the
// good ones. It records what the tests look at (listings, object GETs and their Range headers),
// can cut an object's answer after some bytes, and can run a hook before an object GET is
// forwarded (to change the object under the reader). Header-only; test binaries only.

#include <httplib.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace billdrop::test {

class S3SigningProxy {
public:
  S3SigningProxy(std::uint16_t upstream_port, std::string secret)
      : upstream_port_(upstream_port), secret_(std::move(secret)) {
    const auto handle = [this](const httplib::Request& request, httplib::Response& response) {
      serve(request, response);
    };
    server_.Get(".*", handle);
    server_.Put(".*", handle);
    server_.Post(".*", handle);
    server_.Delete(".*", handle);
    server_.Options(".*", handle);
    port_ = static_cast<std::uint16_t>(server_.bind_to_any_port("127.0.0.1"));
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running())
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~S3SigningProxy() {
    server_.stop();
    thread_.join();
  }

  std::uint16_t port() const noexcept { return port_; }

  struct Seen {
    std::string method;
    std::string target;
    std::string range;
    bool listing = false;
    bool security_token = false;
  };
  std::vector<Seen> seen() const {
    const std::lock_guard lock(mutex_);
    return seen_;
  }
  std::size_t checked() const { return checked_; }
  std::vector<std::string> bad_signatures() const {
    const std::lock_guard lock(mutex_);
    return bad_;
  }
  std::size_t object_gets() const {
    std::size_t n = 0;
    for (const Seen& s : seen())
      n += s.method == "GET" && !s.listing ? 1 : 0;
    return n;
  }

  // The next `count` object GETs answer only their first `bytes` bytes, then the connection is
  // closed.
  void cut_object_gets(std::size_t count, std::size_t bytes) {
    const std::lock_guard lock(mutex_);
    cuts_left_ = count;
    cut_bytes_ = bytes;
  }
  // Runs once, before the next object GET is forwarded.
  void before_next_object_get(std::function<void()> hook) {
    const std::lock_guard lock(mutex_);
    hook_ = std::move(hook);
  }

private:
  static std::string hex(const unsigned char* data, std::size_t size) {
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < size; ++i) {
      out += digits[data[i] >> 4];
      out += digits[data[i] & 15];
    }
    return out;
  }
  static std::string sha256_hex(const std::string& data) {
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
    return hex(digest, sizeof digest);
  }
  static std::string hmac(const std::string& key, const std::string& data) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
         reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &length);
    return std::string(reinterpret_cast<char*>(out), length);
  }
  static std::string between(const std::string& text, const std::string& from,
                             const std::string& to) {
    const std::size_t at = text.find(from);
    if (at == std::string::npos)
      return "";
    const std::size_t begin = at + from.size();
    return text.substr(begin, text.find(to, begin) - begin);
  }
  // A query part as received, decoded and encoded again the way SigV4 wants (RFC 3986).
  static std::string reencode(const std::string& part) {
    std::string decoded;
    for (std::size_t i = 0; i < part.size(); ++i) {
      if (part[i] == '%' && i + 2 < part.size()) {
        decoded += static_cast<char>(std::stoi(part.substr(i + 1, 2), nullptr, 16));
        i += 2;
      } else {
        decoded += part[i] == '+' ? ' ' : part[i];
      }
    }
    std::string out;
    for (const unsigned char c : decoded) {
      if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
        out += static_cast<char>(c);
      } else {
        char buffer[4];
        std::snprintf(buffer, sizeof buffer, "%%%02X", c);
        out += buffer;
      }
    }
    return out;
  }

  // Empty when the signature holds; otherwise why not.
  std::string verify(const httplib::Request& request) const {
    const std::string authorization = request.get_header_value("Authorization");
    if (!authorization.starts_with("AWS4-HMAC-SHA256 "))
      return "no SigV4 Authorization header";
    const std::string credential = between(authorization, "Credential=", ",");
    const std::string signed_names = between(authorization, "SignedHeaders=", ",");
    const std::string signature = between(authorization, "Signature=", " ");
    std::vector<std::string> scope;
    for (std::size_t at = 0; at <= credential.size();) {
      const std::size_t slash = std::min(credential.find('/', at), credential.size());
      scope.push_back(credential.substr(at, slash - at));
      at = slash + 1;
    }
    if (scope.size() != 5 || scope[4] != "aws4_request")
      return "a malformed credential scope";
    const std::string date = request.get_header_value("x-amz-date");
    if (date.substr(0, 8) != scope[1])
      return "x-amz-date is not the scope's date";
    const std::size_t question = request.target.find('?');
    const std::string path = request.target.substr(0, question);
    std::vector<std::pair<std::string, std::string>> query;
    if (question != std::string::npos) {
      const std::string text = request.target.substr(question + 1);
      for (std::size_t at = 0; at <= text.size();) {
        const std::size_t amp = std::min(text.find('&', at), text.size());
        const std::string part = text.substr(at, amp - at);
        const std::size_t equals = part.find('=');
        if (!part.empty())
          query.emplace_back(reencode(part.substr(0, equals)),
                             equals == std::string::npos ? "" : reencode(part.substr(equals + 1)));
        at = amp + 1;
      }
    }
    std::sort(query.begin(), query.end());
    std::string canonical = request.method + "\n" + path + "\n";
    for (std::size_t i = 0; i < query.size(); ++i)
      canonical += (i ? "&" : "") + query[i].first + "=" + query[i].second;
    canonical += "\n";
    bool has_host = false;
    for (std::size_t at = 0; at <= signed_names.size();) {
      const std::size_t semi = std::min(signed_names.find(';', at), signed_names.size());
      const std::string name = signed_names.substr(at, semi - at);
      has_host = has_host || name == "host";
      if (!request.has_header(name.c_str()))
        return "signed header '" + name + "' was not sent";
      canonical += name + ":" + request.get_header_value(name.c_str()) + "\n";
      at = semi + 1;
    }
    if (!has_host)
      return "host is not signed";
    canonical += "\n" + signed_names + "\n" + request.get_header_value("x-amz-content-sha256");
    const std::string to_sign = "AWS4-HMAC-SHA256\n" + date + "\n" + scope[1] + "/" + scope[2] +
                                "/" + scope[3] + "/aws4_request\n" + sha256_hex(canonical);
    std::string key = hmac("AWS4" + secret_, scope[1]);
    key = hmac(hmac(hmac(key, scope[2]), scope[3]), "aws4_request");
    const std::string expected = hmac(key, to_sign);
    if (hex(reinterpret_cast<const unsigned char*>(expected.data()), expected.size()) != signature)
      return "the signature does not match";
    return "";
  }

  void serve(const httplib::Request& request, httplib::Response& response) {
    const bool listing = request.target.find("list-type=2") != std::string::npos;
    const bool object_get = request.method == "GET" && !listing;
    std::function<void()> hook;
    std::size_t cut = SIZE_MAX;
    {
      const std::lock_guard lock(mutex_);
      seen_.push_back({request.method, request.target, request.get_header_value("Range"), listing,
                       request.has_header("x-amz-security-token")});
      if (object_get) {
        hook.swap(hook_);
        if (cuts_left_ > 0) {
          --cuts_left_;
          cut = cut_bytes_;
        }
      }
    }
    ++checked_;
    if (const std::string problem = verify(request); !problem.empty()) {
      const std::lock_guard lock(mutex_);
      bad_.push_back(request.method + " " + request.target + ": " + problem);
      response.status = 403;
      response.set_content("<Error><Code>SignatureDoesNotMatch</Code><Message>" + problem +
                               "</Message></Error>",
                           "application/xml");
      return;
    }
    if (hook)
      hook();
    httplib::Client upstream("127.0.0.1", upstream_port_);
    httplib::Request forwarded;
    forwarded.method = request.method;
    forwarded.path = request.target;
    // Range is not forwarded: httplib's server applies the request's range to whatever this
    // handler answers, so the handler answers the whole object and httplib cuts the range out.
    for (const auto& [name, value] : request.headers)
      if (name != "Host" && name != "Content-Length" && name != "Range" && name != "REMOTE_ADDR" &&
          name != "REMOTE_PORT" && name != "LOCAL_ADDR" && name != "LOCAL_PORT")
        forwarded.headers.emplace(name, value);
    forwarded.body = request.body;
    httplib::Result answer = upstream.send(forwarded);
    if (!answer) {
      response.status = 502;
      return;
    }
    // 206 makes httplib's server answer the request's range of the whole body (Content-Range too).
    response.status = answer->status == 200 && request.has_header("Range") ? 206 : answer->status;
    for (const auto& [name, value] : answer->headers)
      if (name != "Content-Length" && name != "Transfer-Encoding" && name != "Connection")
        response.headers.emplace(name, value);
    const std::string type = answer->get_header_value("Content-Type");
    if (cut == SIZE_MAX) {
      response.set_content(answer->body, type.empty() ? "application/octet-stream" : type);
      return;
    }
    // `cut` bytes of the answer (of its range, for a ranged GET), then the connection is closed.
    auto body = std::make_shared<std::string>(answer->body);
    auto sent = std::make_shared<std::size_t>(0);
    response.set_content_provider(
        body->size(), type.empty() ? "application/octet-stream" : type,
        [body, cut, sent](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
          if (*sent >= cut)
            return false;
          const std::size_t n = std::min(length, cut - *sent);
          sink.write(body->data() + offset, n);
          *sent += n;
          return true;
        });
  }

  std::uint16_t upstream_port_;
  std::string secret_;
  httplib::Server server_;
  std::uint16_t port_ = 0;
  std::thread thread_;
  mutable std::mutex mutex_;
  std::vector<Seen> seen_;
  std::vector<std::string> bad_;
  std::atomic<std::size_t> checked_{0};
  std::size_t cuts_left_ = 0;
  std::size_t cut_bytes_ = 0;
  std::function<void()> hook_;
};

} // namespace billdrop::test
