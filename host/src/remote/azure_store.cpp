// Azure Blob storage: List Blobs with markers and ranged Get Blob, authorized by Shared Key
// (an account key) or a SAS token. Credentials as the Azure CLI and SDKs take them:
// AZURE_STORAGE_CONNECTION_STRING (azurite's "UseDevelopmentStorage=true" included), else
// AZURE_STORAGE_KEY, else AZURE_STORAGE_SAS_TOKEN; a connection may name other variables.
#include "core/log.hpp"
#include "remote/azure_shared_key.hpp"
#include "remote/crypto.hpp"
#include "remote/http.hpp"
#include "remote/object_store.hpp"
#include "remote/sigv4.hpp"
#include "remote/xml_text.hpp"

#include <ctime>
#include <optional>

namespace billdrop::remote {

namespace {

constexpr const char* kApiVersion = "2021-08-06";

std::string rfc1123_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[40];
  std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return text;
}

std::string unquoted(std::string_view etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"')
    etag = etag.substr(1, etag.size() - 2);
  return std::string(etag);
}

class AzureStore final : public ObjectStore {
public:
  AzureStore(const RemoteLocation& location, const RemoteSettings& settings,
             const Environment& environment)
      : location_(location), account_(location.account) {
    const std::string conn_env = settings.azure_connection_string_env.empty()
                                     ? "AZURE_STORAGE_CONNECTION_STRING"
                                     : settings.azure_connection_string_env;
    const std::string key_env =
        settings.azure_key_env.empty() ? "AZURE_STORAGE_KEY" : settings.azure_key_env;
    const std::string sas_env =
        settings.azure_sas_env.empty() ? "AZURE_STORAGE_SAS_TOKEN" : settings.azure_sas_env;
    std::string endpoint = settings.azure_endpoint;
    std::string credentials;
    if (const std::optional<std::string> text = environment(conn_env)) {
      const AzureConnectionString parsed = parse_azure_connection_string(*text);
      if (!parsed.account.empty() && parsed.account != account_)
        throw ErrorException(config_error(location.text + ": " + conn_env +
                                          " is for storage account '" + parsed.account +
                                          "', the path names account '" + account_ + "'"));
      key_ = parsed.key;
      sas_ = parsed.sas;
      if (endpoint.empty())
        endpoint = parsed.blob_endpoint;
      credentials = conn_env;
    } else if (const std::optional<std::string> key = environment(key_env)) {
      key_ = *key;
      credentials = key_env;
    } else if (const std::optional<std::string> sas = environment(sas_env)) {
      sas_ = *sas;
      credentials = sas_env;
    } else {
      throw ErrorException(config_error(location.text + ": no Azure storage credentials: set " +
                                        conn_env + ", or " + key_env + " (the account key), or " +
                                        sas_env + " (a SAS token)"));
    }
    if (!sas_.empty() && sas_.front() == '?')
      sas_.erase(0, 1);
    if (!key_.empty())
      (void)base64_decode(key_); // a key that is not base64 fails now, not at the first request
    if (endpoint.empty())
      endpoint = "https://" + account_ + ".blob.core.windows.net";
    endpoint_ = parse_endpoint(endpoint, "the Azure Blob endpoint");
    log::info("remote.azure.open", {{"location", location.text},
                                    {"endpoint", endpoint_.scheme_host_port},
                                    {"credentials", credentials},
                                    {"auth", key_.empty() ? "sas" : "shared_key"}});
    clients_.emplace(endpoint_, settings);
    page_size_ = settings.list_page_size;
  }

  std::vector<ObjectInfo> list(std::string_view prefix) override {
    std::vector<ObjectInfo> objects;
    std::string marker;
    const std::string what = "listing " + location_.object_url(prefix);
    do {
      std::vector<std::pair<std::string, std::string>> query = {
          {"restype", "container"},
          {"comp", "list"},
          {"prefix", std::string(prefix)},
          {"maxresults", std::to_string(page_size_)}};
      if (!marker.empty())
        query.emplace_back("marker", marker);
      const HttpAnswer answer = send(container_path(), query, {}, what, nullptr, nullptr);
      if (answer.status != 200)
        throw_answer(answer, what);
      for (const std::string_view blob : xml_elements(answer.body, "Blob")) {
        ObjectInfo object;
        object.key = xml_value(blob, "Name");
        object.size = parse_size(xml_value(blob, "Content-Length"));
        object.version = unquoted(xml_value(blob, "Etag"));
        objects.push_back(std::move(object));
      }
      marker = xml_value(answer.body, "NextMarker");
    } while (!marker.empty());
    return objects;
  }

  void read(const ObjectInfo& object, std::uint64_t offset,
            const std::function<bool(const char*, std::size_t)>& sink) override {
    const std::string url = location_.object_url(object.key);
    const std::string what = "reading " + url;
    std::vector<std::pair<std::string, std::string>> extra = {
        {"If-Match", "\"" + object.version + "\""}};
    if (offset > 0)
      extra.emplace_back("x-ms-range", "bytes=" + std::to_string(offset) + "-");
    const HttpAnswer answer = send(
        container_path() + "/" + uri_encode(object.key, true), {}, extra, what,
        [&](const httplib::Response& response) {
          const std::string etag = unquoted(response.get_header_value("ETag"));
          if (!etag.empty() && etag != object.version)
            throw ObjectChanged(source_error(url + " changed while it was being read (listed as " +
                                             object.version + ", now " + etag + ")"));
        },
        &sink);
    if (answer.status == 412 || answer.status == 404)
      throw ObjectChanged(source_error(url + " changed while it was being read (listed as " +
                                       object.version + "; the store now answers " +
                                       describe_answer(answer) + ")"));
    if (answer.status < 200 || answer.status >= 300)
      throw_answer(answer, what);
  }

private:
  std::string container_path() const {
    return endpoint_.base_path + "/" + uri_encode(location_.bucket, false);
  }

  // One request, signed with the key or carrying the SAS; streamed when `sink` is given.
  HttpAnswer send(const std::string& path, std::vector<std::pair<std::string, std::string>> query,
                  const std::vector<std::pair<std::string, std::string>>& extra,
                  const std::string& what,
                  const std::function<void(const httplib::Response&)>& check_head,
                  const std::function<bool(const char*, std::size_t)>* sink) {
    AzureRequest request{
        "GET", path, query, {{"x-ms-date", rfc1123_now()}, {"x-ms-version", kApiVersion}}};
    request.headers.insert(request.headers.end(), extra.begin(), extra.end());
    httplib::Headers headers;
    for (const auto& [name, value] : request.headers)
      headers.emplace(name, value);
    headers.emplace("Host", endpoint_.host);
    std::string target = path;
    std::string query_text = sigv4_query_string(query);
    if (key_.empty())
      query_text += (query_text.empty() ? "" : "&") + sas_;
    else
      headers.emplace("Authorization", azure_authorization(request, account_, key_));
    if (!query_text.empty())
      target += "?" + query_text;
    if (sink != nullptr)
      return http_get_streamed(*clients_->acquire(), target, headers, check_head, *sink, what);
    return http_send(*clients_->acquire(), "GET", target, headers, "", "", what);
  }

  RemoteLocation location_;
  std::string account_;
  std::string key_;
  std::string sas_;
  Endpoint endpoint_;
  std::uint64_t page_size_ = 1000;
  std::optional<ClientPool> clients_; // read() is called from several threads at once
};

} // namespace

std::unique_ptr<ObjectStore> open_azure_store(const RemoteLocation& location,
                                              const RemoteSettings& settings,
                                              const Environment& environment) {
  return std::make_unique<AzureStore>(location, settings, environment);
}

} // namespace billdrop::remote
