#pragma once
// AWS Signature Version 4 (header form), as S3 and STS take it: the canonical request, the
// string to sign and the Authorization header. Pure functions of their inputs, so that AWS's
// published example signatures are unit tests (tests/host/remote/sigv4_test.cpp).

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace billdrop::remote {

struct AwsCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token; // temporary credentials only; sent as x-amz-security-token
};

struct SigV4Request {
  std::string method; // GET, POST, ...
  std::string host;   // the Host header's value (host, or host:port)
  std::string path;   // as sent on the wire: already percent-encoded, '/' kept
  std::vector<std::pair<std::string, std::string>> query;   // raw (not encoded) names and values
  std::vector<std::pair<std::string, std::string>> headers; // signed besides host, any case
  std::string payload_sha256;                               // hex; or "UNSIGNED-PAYLOAD"
};

// "20130524T000000Z"
std::string amz_date(std::chrono::system_clock::time_point at);

std::string sigv4_canonical_request(const SigV4Request& request);
std::string sigv4_string_to_sign(const SigV4Request& request, const std::string& amz_date,
                                 const std::string& region, const std::string& service);
// The hex signature, and the Authorization header built around it.
std::string sigv4_signature(const SigV4Request& request, const AwsCredentials& credentials,
                            const std::string& amz_date, const std::string& region,
                            const std::string& service);
std::string sigv4_authorization(const SigV4Request& request, const AwsCredentials& credentials,
                                const std::string& amz_date, const std::string& region,
                                const std::string& service);

// The query string as sent and as signed: names and values percent-encoded, sorted by name.
std::string sigv4_query_string(std::vector<std::pair<std::string, std::string>> query);

} // namespace billdrop::remote
