#include "remote/sigv4.hpp"

#include "remote/crypto.hpp"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <map>

namespace billdrop::remote {

namespace {

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

// A header value as signed: leading and trailing spaces dropped, inner runs of spaces one space.
std::string trimmed(const std::string& value) {
  std::string out;
  bool space = false;
  for (const char c : value) {
    if (c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space)
      out += ' ';
    space = false;
    out += c;
  }
  return out;
}

// Sorted lower-case names with their values; host first among equals is irrelevant: sorted.
std::map<std::string, std::string> signed_headers(const SigV4Request& request) {
  std::map<std::string, std::string> headers;
  headers["host"] = request.host;
  for (const auto& [name, value] : request.headers) {
    std::string& slot = headers[lower(name)];
    slot = slot.empty() ? trimmed(value) : slot + "," + trimmed(value);
  }
  return headers;
}

std::string signed_header_names(const std::map<std::string, std::string>& headers) {
  std::string names;
  for (const auto& [name, value] : headers)
    names += (names.empty() ? "" : ";") + name;
  return names;
}

std::string scope(const std::string& date, const std::string& region, const std::string& service) {
  return date.substr(0, 8) + "/" + region + "/" + service + "/aws4_request";
}

} // namespace

std::string amz_date(std::chrono::system_clock::time_point at) {
  const std::time_t t = std::chrono::system_clock::to_time_t(at);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[17];
  std::strftime(text, sizeof text, "%Y%m%dT%H%M%SZ", &tm);
  return text;
}

std::string sigv4_query_string(std::vector<std::pair<std::string, std::string>> query) {
  for (auto& [name, value] : query) {
    name = uri_encode(name, false);
    value = uri_encode(value, false);
  }
  std::sort(query.begin(), query.end());
  std::string out;
  for (const auto& [name, value] : query) {
    if (!out.empty())
      out += '&';
    out.append(name).append(1, '=').append(value);
  }
  return out;
}

std::string sigv4_canonical_request(const SigV4Request& request) {
  const std::map<std::string, std::string> headers = signed_headers(request);
  std::string out = request.method + "\n" + (request.path.empty() ? "/" : request.path) + "\n" +
                    sigv4_query_string(request.query) + "\n";
  for (const auto& [name, value] : headers)
    out += name + ":" + value + "\n";
  out.append(1, '\n').append(signed_header_names(headers)).append(1, '\n');
  out += request.payload_sha256;
  return out;
}

std::string sigv4_string_to_sign(const SigV4Request& request, const std::string& amz_date,
                                 const std::string& region, const std::string& service) {
  return "AWS4-HMAC-SHA256\n" + amz_date + "\n" + scope(amz_date, region, service) + "\n" +
         hex(sha256(sigv4_canonical_request(request)));
}

std::string sigv4_signature(const SigV4Request& request, const AwsCredentials& credentials,
                            const std::string& amz_date, const std::string& region,
                            const std::string& service) {
  std::string key = hmac_sha256("AWS4" + credentials.secret_access_key, amz_date.substr(0, 8));
  key = hmac_sha256(key, region);
  key = hmac_sha256(key, service);
  key = hmac_sha256(key, "aws4_request");
  return hex(hmac_sha256(key, sigv4_string_to_sign(request, amz_date, region, service)));
}

std::string sigv4_authorization(const SigV4Request& request, const AwsCredentials& credentials,
                                const std::string& amz_date, const std::string& region,
                                const std::string& service) {
  return "AWS4-HMAC-SHA256 Credential=" + credentials.access_key_id + "/" +
         scope(amz_date, region, service) +
         ", SignedHeaders=" + signed_header_names(signed_headers(request)) +
         ", Signature=" + sigv4_signature(request, credentials, amz_date, region, service);
}

} // namespace billdrop::remote
