// Google Cloud Storage through its JSON API: objects.list with page tokens and ranged media
// downloads pinned to the listed generation (ifGenerationMatch). Authorization as Google's
// libraries do it: a service-account key (GOOGLE_APPLICATION_CREDENTIALS, or the connection's
// gcs_credentials_file) signs a JWT (RS256) exchanged at the key's token_uri for an OAuth access
// token; else GOOGLE_OAUTH_ACCESS_TOKEN (the gcp plugin's variable); else, with
// STORAGE_EMULATOR_HOST set, no authorization (what emulators take).
#include "core/json_writer.hpp"
#include "core/log.hpp"
#include "remote/crypto.hpp"
#include "remote/http.hpp"
#include "remote/object_store.hpp"
#include "remote/sigv4.hpp"
#include "remote/xml_text.hpp"

#include <simdjson.h>

#include <chrono>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>

namespace billdrop::remote {

namespace {

struct ServiceAccountKey {
  std::string client_email;
  std::string private_key;
  std::string private_key_id;
  std::string token_uri = "https://oauth2.googleapis.com/token";
};

std::string json_string(simdjson::dom::element element, const char* key) {
  std::string_view value;
  if (element[key].get(value) != simdjson::SUCCESS)
    return "";
  return std::string(value);
}

ServiceAccountKey read_key(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in)
    throw ErrorException(config_error("the Google credentials file '" + file + "' cannot be read"));
  std::stringstream text;
  text << in.rdbuf();
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(text.str()).get(root) != simdjson::SUCCESS)
    throw ErrorException(config_error("the Google credentials file '" + file + "' is not JSON"));
  ServiceAccountKey key;
  if (json_string(root, "type") != "service_account")
    throw ErrorException(config_error("the Google credentials file '" + file +
                                      "' is not a service-account key (\"type\" must be "
                                      "\"service_account\")"));
  key.client_email = json_string(root, "client_email");
  key.private_key = json_string(root, "private_key");
  key.private_key_id = json_string(root, "private_key_id");
  if (const std::string uri = json_string(root, "token_uri"); !uri.empty())
    key.token_uri = uri;
  if (key.client_email.empty() || key.private_key.empty())
    throw ErrorException(config_error("the Google credentials file '" + file +
                                      "' has no client_email or private_key"));
  return key;
}

std::string json_object(const std::vector<std::pair<std::string, std::string>>& strings,
                        const std::vector<std::pair<std::string, std::int64_t>>& numbers) {
  core::JsonWriter json;
  json.begin_object();
  for (const auto& [name, value] : strings)
    json.key(name).value(value);
  for (const auto& [name, value] : numbers)
    json.key(name).value(value);
  json.end_object();
  return json.str();
}

class GcsStore final : public ObjectStore {
public:
  GcsStore(const RemoteLocation& location, const RemoteSettings& settings,
           const Environment& environment)
      : location_(location), settings_(settings) {
    std::string endpoint = settings.gcs_endpoint;
    const std::optional<std::string> emulator = environment("STORAGE_EMULATOR_HOST");
    if (endpoint.empty() && emulator)
      endpoint = emulator->find("://") == std::string::npos ? "http://" + *emulator : *emulator;
    if (endpoint.empty())
      endpoint = "https://storage.googleapis.com";
    endpoint_ = parse_endpoint(endpoint, "the GCS endpoint");
    std::string key_file = settings.gcs_credentials_file.string();
    if (key_file.empty())
      key_file = environment("GOOGLE_APPLICATION_CREDENTIALS").value_or("");
    std::string credentials;
    if (!key_file.empty()) {
      key_ = read_key(key_file);
      credentials = "service account " + key_->client_email;
    } else if (const std::optional<std::string> token = environment("GOOGLE_OAUTH_ACCESS_TOKEN")) {
      token_ = *token;
      token_expiry_ = std::chrono::steady_clock::time_point::max();
      credentials = "GOOGLE_OAUTH_ACCESS_TOKEN";
    } else if (!emulator) {
      throw ErrorException(config_error(
          location.text + ": no Google credentials: set GOOGLE_APPLICATION_CREDENTIALS to a "
                          "service-account key file (or gcs_credentials_file), or "
                          "GOOGLE_OAUTH_ACCESS_TOKEN; STORAGE_EMULATOR_HOST for an emulator"));
    } else {
      credentials = "none (STORAGE_EMULATOR_HOST)";
    }
    log::info("remote.gcs.open", {{"location", location.text},
                                  {"endpoint", endpoint_.scheme_host_port},
                                  {"credentials", credentials}});
    clients_.emplace(endpoint_, settings);
  }

  std::vector<ObjectInfo> list(std::string_view prefix) override {
    std::vector<ObjectInfo> objects;
    std::string page;
    const std::string what = "listing " + location_.object_url(prefix);
    simdjson::dom::parser parser;
    do {
      std::vector<std::pair<std::string, std::string>> query = {
          {"prefix", std::string(prefix)},
          {"maxResults", std::to_string(settings_.list_page_size)},
          {"fields", "items(name,size,generation),nextPageToken"}};
      if (!page.empty())
        query.emplace_back("pageToken", page);
      const std::string target = endpoint_.base_path + "/storage/v1/b/" +
                                 uri_encode(location_.bucket, false) + "/o?" +
                                 sigv4_query_string(query);
      const HttpAnswer answer =
          http_send(*clients_->acquire(), "GET", target, headers(), "", "", what);
      if (answer.status != 200)
        throw_answer(answer, what);
      simdjson::dom::element root;
      if (parser.parse(answer.body).get(root) != simdjson::SUCCESS)
        throw ErrorException(source_error(what + ": the answer is not JSON", true));
      simdjson::dom::array items;
      if (root["items"].get(items) == simdjson::SUCCESS) {
        for (simdjson::dom::element item : items) {
          ObjectInfo object;
          object.key = json_string(item, "name");
          object.size = parse_size(json_string(item, "size"));
          object.version = json_string(item, "generation");
          objects.push_back(std::move(object));
        }
      }
      page = json_string(root, "nextPageToken");
    } while (!page.empty());
    return objects;
  }

  void read(const ObjectInfo& object, std::uint64_t offset,
            const std::function<bool(const char*, std::size_t)>& sink) override {
    const std::string url = location_.object_url(object.key);
    const std::string what = "reading " + url;
    const std::string target =
        endpoint_.base_path + "/download/storage/v1/b/" + uri_encode(location_.bucket, false) +
        "/o/" + uri_encode(object.key, false) + "?" +
        sigv4_query_string({{"alt", "media"}, {"ifGenerationMatch", object.version}});
    httplib::Headers request_headers = headers();
    if (offset > 0)
      request_headers.emplace("Range", "bytes=" + std::to_string(offset) + "-");
    const HttpAnswer answer = http_get_streamed(
        *clients_->acquire(), target, request_headers,
        [&](const httplib::Response& response) {
          const std::string generation = response.get_header_value("x-goog-generation");
          if (!generation.empty() && generation != object.version)
            throw ObjectChanged(source_error(url +
                                             " changed while it was being read (listed as "
                                             "generation " +
                                             object.version + ", now " + generation + ")"));
        },
        sink, what);
    if (answer.status == 412 || answer.status == 404)
      throw ObjectChanged(source_error(url +
                                       " changed while it was being read (listed as "
                                       "generation " +
                                       object.version + "; the store now answers " +
                                       describe_answer(answer) + ")"));
    if (answer.status < 200 || answer.status >= 300)
      throw_answer(answer, what);
  }

private:
  httplib::Headers headers() {
    httplib::Headers out{{"Host", endpoint_.host}};
    if (key_ || !token_.empty())
      out.emplace("Authorization", "Bearer " + access_token());
    return out;
  }

  // A token for the key, minted again a minute before it expires (one thread mints it while the
  // others wait).
  std::string access_token() {
    const std::lock_guard guard(token_mutex_);
    const auto now = std::chrono::steady_clock::now();
    if (!token_.empty() && now < token_expiry_)
      return token_;
    const std::int64_t issued = std::chrono::duration_cast<std::chrono::seconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count();
    const std::string header =
        json_object({{"alg", "RS256"}, {"typ", "JWT"}, {"kid", key_->private_key_id}}, {});
    const std::string claims =
        json_object({{"iss", key_->client_email},
                     {"scope", "https://www.googleapis.com/auth/devstorage.read_only"},
                     {"aud", key_->token_uri}},
                    {{"iat", issued}, {"exp", issued + 3600}});
    const std::string signing_input = base64url(header) + "." + base64url(claims);
    const std::string what = "getting a Google access token for " + key_->client_email;
    const std::string jwt =
        signing_input + "." + base64url(rs256_sign(key_->private_key, signing_input, what));
    const Endpoint token_endpoint = parse_endpoint(key_->token_uri, "the key's token_uri");
    const std::unique_ptr<httplib::Client> client = make_client(token_endpoint, settings_);
    const std::string path = token_endpoint.base_path.empty() ? "/" : token_endpoint.base_path;
    const HttpAnswer answer =
        http_send(*client, "POST", path, {{"Host", token_endpoint.host}},
                  sigv4_query_string({{"grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"},
                                      {"assertion", jwt}}),
                  "application/x-www-form-urlencoded", what);
    if (answer.status != 200)
      throw_answer(answer, what);
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    std::int64_t expires_in = 0;
    if (parser.parse(answer.body).get(root) != simdjson::SUCCESS ||
        json_string(root, "access_token").empty())
      throw ErrorException(source_error(what + ": the answer holds no access_token"));
    if (root["expires_in"].get(expires_in) != simdjson::SUCCESS)
      expires_in = 3600;
    token_ = json_string(root, "access_token");
    token_expiry_ = now + std::chrono::seconds(std::max<std::int64_t>(expires_in - 60, 0));
    return token_;
  }

  RemoteLocation location_;
  RemoteSettings settings_;
  Endpoint endpoint_;
  std::optional<ServiceAccountKey> key_;
  std::string token_;
  std::chrono::steady_clock::time_point token_expiry_{};
  std::mutex token_mutex_;
  std::optional<ClientPool> clients_; // read() is called from several threads at once
};

} // namespace

std::unique_ptr<ObjectStore> open_gcs_store(const RemoteLocation& location,
                                            const RemoteSettings& settings,
                                            const Environment& environment) {
  return std::make_unique<GcsStore>(location, settings, environment);
}

std::unique_ptr<ObjectStore> open_object_store(const RemoteLocation& location,
                                               const RemoteSettings& settings,
                                               const Environment& environment) {
  switch (location.scheme) {
  case Scheme::s3:
    return open_s3_store(location, settings, environment);
  case Scheme::az:
    return open_azure_store(location, settings, environment);
  case Scheme::gs:
    return open_gcs_store(location, settings, environment);
  }
  return nullptr;
}

Environment process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr || *value == '\0')
      return std::nullopt;
    return std::string(value);
  };
}

} // namespace billdrop::remote
