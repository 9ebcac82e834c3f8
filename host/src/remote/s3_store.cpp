// S3 and S3-compatible stores: ListObjectsV2 with continuation and ranged GETs, every request
// signed with SigV4 (sigv4.cpp). AWS itself is addressed virtual-hosted
// (https://<bucket>.s3.<region>.amazonaws.com); an endpoint override (MinIO, s3rver, R2, ...)
// path-style (<endpoint>/<bucket>/<key>), as the AWS SDKs do with AWS_ENDPOINT_URL_S3.
#include "core/log.hpp"
#include "remote/aws_credentials.hpp"
#include "remote/crypto.hpp"
#include "remote/http.hpp"
#include "remote/object_store.hpp"
#include "remote/sigv4.hpp"
#include "remote/xml_text.hpp"

#include <optional>

namespace billdrop::remote {

namespace {

// SHA-256 of an empty body: every request here is a GET.
constexpr const char* kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

std::string unquoted(std::string_view etag) {
  if (etag.starts_with("W/"))
    etag.remove_prefix(2);
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"')
    etag = etag.substr(1, etag.size() - 2);
  return std::string(etag);
}

class S3Store final : public ObjectStore {
public:
  S3Store(const RemoteLocation& location, const RemoteSettings& settings,
          const Environment& environment)
      : location_(location), settings_(settings), region_(aws_region(settings, environment)) {
    std::string endpoint = settings.s3_endpoint;
    if (endpoint.empty())
      endpoint = environment("AWS_ENDPOINT_URL_S3").value_or("");
    if (endpoint.empty())
      endpoint = environment("AWS_ENDPOINT_URL").value_or("");
    path_style_ = !endpoint.empty() || location.bucket.find('.') != std::string::npos;
    if (endpoint.empty())
      endpoint = path_style_ ? "https://s3." + region_ + ".amazonaws.com"
                             : "https://" + location.bucket + ".s3." + region_ + ".amazonaws.com";
    endpoint_ = parse_endpoint(endpoint, "the S3 endpoint");
    const ResolvedAwsCredentials found = find_aws_credentials(settings, environment);
    credentials_ = found.credentials;
    log::info("remote.s3.open", {{"location", location.text},
                                 {"endpoint", endpoint_.scheme_host_port},
                                 {"region", region_},
                                 {"credentials", found.source}});
    clients_.emplace(endpoint_, settings);
  }

  std::vector<ObjectInfo> list(std::string_view prefix) override {
    std::vector<ObjectInfo> objects;
    std::string token;
    const std::string what = std::string("listing ").append(location_.object_url(prefix));
    do {
      std::vector<std::pair<std::string, std::string>> query = {
          {"list-type", "2"},
          {"prefix", std::string(prefix)},
          {"max-keys", std::to_string(settings_.list_page_size)}};
      if (!token.empty())
        query.emplace_back("continuation-token", token);
      const HttpAnswer answer = send("GET", bucket_path(), query, {}, what);
      if (answer.status != 200)
        throw_answer(answer, what);
      for (const std::string_view contents : xml_elements(answer.body, "Contents")) {
        ObjectInfo object;
        object.key = xml_value(contents, "Key");
        object.size = parse_size(xml_value(contents, "Size"));
        object.version = xml_value(contents, "ETag");
        objects.push_back(std::move(object));
      }
      token = xml_value(answer.body, "IsTruncated") == "true"
                  ? xml_value(answer.body, "NextContinuationToken")
                  : std::string();
    } while (!token.empty());
    return objects;
  }

  void read(const ObjectInfo& object, std::uint64_t offset,
            const std::function<bool(const char*, std::size_t)>& sink) override {
    const std::string url = location_.object_url(object.key);
    const std::string what = "reading " + url;
    const std::string path = bucket_path() + "/" + uri_encode(object.key, true);
    httplib::Headers headers = signed_headers("GET", path, {});
    // If-Match makes S3 refuse another version (412); the ETag of the answer is checked too, for
    // stores that ignore If-Match on a GET (s3rver does).
    headers.emplace("If-Match", object.version);
    if (offset > 0)
      headers.emplace("Range", "bytes=" + std::to_string(offset) + "-");
    const HttpAnswer answer = http_get_streamed(
        *clients_->acquire(), path, headers,
        [&](const httplib::Response& response) {
          const std::string etag = response.get_header_value("ETag");
          if (!etag.empty() && unquoted(etag) != unquoted(object.version))
            throw ObjectChanged(source_error(url + " changed while it was being read (listed as " +
                                             object.version + ", now " + etag + ")"));
          if (offset > 0 && response.status != 206)
            throw ErrorException(source_error(what + ": the store ignored the byte range"));
        },
        sink, what);
    if (answer.status == 412 || answer.status == 404)
      throw ObjectChanged(source_error(url + " changed while it was being read (listed as " +
                                       object.version + "; the store now answers " +
                                       describe_answer(answer) + ")"));
    if (answer.status < 200 || answer.status >= 300)
      throw_answer(answer, what);
  }

private:
  std::string bucket_path() const {
    std::string path = endpoint_.base_path;
    if (path_style_)
      path.append(1, '/').append(uri_encode(location_.bucket, false));
    return path;
  }

  httplib::Headers signed_headers(const std::string& method, const std::string& path,
                                  const std::vector<std::pair<std::string, std::string>>& query) {
    const std::string date = amz_date(std::chrono::system_clock::now());
    SigV4Request request{method,
                         endpoint_.host,
                         path.empty() ? "/" : path,
                         query,
                         {{"x-amz-date", date}, {"x-amz-content-sha256", kEmptySha256}},
                         kEmptySha256};
    if (!credentials_.session_token.empty())
      request.headers.emplace_back("x-amz-security-token", credentials_.session_token);
    httplib::Headers headers;
    for (const auto& [name, value] : request.headers)
      headers.emplace(name, value);
    headers.emplace("Host", endpoint_.host);
    headers.emplace("Authorization",
                    sigv4_authorization(request, credentials_, date, region_, "s3"));
    return headers;
  }

  HttpAnswer send(const std::string& method, const std::string& path,
                  const std::vector<std::pair<std::string, std::string>>& query,
                  const std::string& body, const std::string& what) {
    std::string target = path.empty() ? std::string(1, '/') : path;
    if (!query.empty())
      target.append(1, '?').append(sigv4_query_string(query));
    return http_send(*clients_->acquire(), method, target, signed_headers(method, path, query),
                     body, "", what);
  }

  RemoteLocation location_;
  RemoteSettings settings_;
  std::string region_;
  Endpoint endpoint_;
  bool path_style_ = false;
  AwsCredentials credentials_;
  std::optional<ClientPool> clients_; // read() is called from several threads at once
};

} // namespace

std::unique_ptr<ObjectStore> open_s3_store(const RemoteLocation& location,
                                           const RemoteSettings& settings,
                                           const Environment& environment) {
  return std::make_unique<S3Store>(location, settings, environment);
}

} // namespace billdrop::remote
