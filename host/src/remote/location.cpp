#include "remote/location.hpp"

#include <cctype>

namespace billdrop::remote {

std::string RemoteLocation::object_url(std::string_view key) const {
  switch (scheme) {
  case Scheme::s3:
    return "s3://" + bucket + "/" + std::string(key);
  case Scheme::az:
    return "az://" + account + "/" + bucket + "/" + std::string(key);
  case Scheme::gs:
    return "gs://" + bucket + "/" + std::string(key);
  }
  return std::string(key);
}

bool is_remote_location(std::string_view text) noexcept {
  return text.starts_with("s3://") || text.starts_with("az://") || text.starts_with("gs://");
}

bool looks_like_url(std::string_view text) noexcept {
  const std::size_t colon = text.find("://");
  if (colon == std::string_view::npos || colon < 2)
    return false;
  for (std::size_t i = 0; i < colon; ++i)
    if (!std::isalnum(static_cast<unsigned char>(text[i])) && text[i] != '+')
      return false;
  return true;
}

Result<RemoteLocation> parse_remote_location(std::string_view text) {
  RemoteLocation location;
  location.text = std::string(text);
  const auto bad = [&](const std::string& why) {
    std::string message(1, '\'');
    message += text;
    message += "' is not a remote location: ";
    message += why;
    return config_error(message);
  };
  if (!is_remote_location(text))
    return bad("it must start with s3://, az:// or gs://");
  location.scheme = text.starts_with("s3")   ? Scheme::s3
                    : text.starts_with("az") ? Scheme::az
                                             : Scheme::gs;
  std::string_view rest = text.substr(5);
  const auto next = [&rest]() {
    const std::size_t slash = rest.find('/');
    std::string part(rest.substr(0, slash));
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    return part;
  };
  if (location.scheme == Scheme::az) {
    location.account = next();
    if (location.account.empty())
      return bad("az://account/container/prefix names the storage account first");
  }
  location.bucket = next();
  if (location.bucket.empty())
    return bad(location.scheme == Scheme::az ? "no container after the account" : "no bucket name");
  location.prefix = std::string(rest);
  return location;
}

} // namespace billdrop::remote
