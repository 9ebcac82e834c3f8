#pragma once
// A remote location written where a path goes: s3://bucket/prefix, az://account/container/prefix,
// gs://bucket/prefix. The prefix names one object, or the folder of objects under "prefix/".

#include <billdrop/result.hpp>

#include <string>
#include <string_view>

namespace billdrop::remote {

enum class Scheme { s3, az, gs };

struct RemoteLocation {
  Scheme scheme = Scheme::s3;
  std::string account; // az only
  std::string bucket;  // the S3 or GCS bucket, the Azure container
  std::string prefix;  // "" for the whole bucket; no leading '/'
  std::string text;    // as written, for messages

  // "s3://bucket/key" of an object in this location's bucket.
  std::string object_url(std::string_view key) const;
};

// Does `text` start with a scheme this module reads (s3://, az://, gs://)?
bool is_remote_location(std::string_view text) noexcept;
// Any "<letters>://" start: a URL, never a relative file path.
bool looks_like_url(std::string_view text) noexcept;

Result<RemoteLocation> parse_remote_location(std::string_view text);

} // namespace billdrop::remote
