#pragma once
// The few cryptographic and encoding steps the object stores sign requests with (OpenSSL):
// SHA-256, HMAC-SHA256, base64 (standard and URL-safe) and RS256 signatures for Google's JWTs.

#include <string>
#include <string_view>

namespace billdrop::remote {

std::string sha256(std::string_view data);                            // 32 raw bytes
std::string hmac_sha256(std::string_view key, std::string_view data); // 32 raw bytes
std::string hex(std::string_view bytes);                              // lower case
std::string base64(std::string_view bytes);
std::string base64url(std::string_view bytes); // no padding (RFC 7515)
// Throws ErrorException (config) when `text` is not base64.
std::string base64_decode(std::string_view text);
// The RSASSA-PKCS1-v1_5 SHA-256 signature of `data` with a PEM private key; throws ErrorException
// (config) naming `what` when the key cannot be read.
std::string rs256_sign(std::string_view pem_private_key, std::string_view data,
                       std::string_view what);

// RFC 3986 percent-encoding: every byte but A-Z a-z 0-9 - _ . ~ is encoded (upper-case hex);
// '/' too unless `keep_slash`.
std::string uri_encode(std::string_view text, bool keep_slash);

} // namespace billdrop::remote
