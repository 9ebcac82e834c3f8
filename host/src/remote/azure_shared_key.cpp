#include "remote/azure_shared_key.hpp"

#include "remote/crypto.hpp"

#include <billdrop/result.hpp>

#include <algorithm>
#include <cctype>
#include <map>

namespace billdrop::remote {

namespace {

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

// Azurite's well-known development account (documented by Microsoft; not a secret).
constexpr const char* kDevAccount = "devstoreaccount1";
constexpr const char* kDevKey =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

} // namespace

std::string azure_string_to_sign(const AzureRequest& request, const std::string& account) {
  std::map<std::string, std::string> headers;
  for (const auto& [name, value] : request.headers)
    headers[lower(name)] = value;
  const auto header = [&](const char* name) {
    const auto found = headers.find(name);
    if (found == headers.end())
      return std::string();
    // Content-Length 0 is signed as empty (version 2015-02-21 and later).
    if (std::string_view(name) == "content-length" && found->second == "0")
      return std::string();
    return found->second;
  };
  std::string out = request.method + "\n";
  for (const char* name :
       {"content-encoding", "content-language", "content-length", "content-md5", "content-type",
        "date", "if-modified-since", "if-match", "if-none-match", "if-unmodified-since", "range"})
    out += header(name) + "\n";
  for (const auto& [name, value] : headers)
    if (name.starts_with("x-ms-"))
      out += name + ":" + value + "\n";
  out += "/" + account + request.path;
  std::map<std::string, std::vector<std::string>> query;
  for (const auto& [name, value] : request.query)
    query[lower(name)].push_back(value);
  for (auto& [name, values] : query) {
    std::sort(values.begin(), values.end());
    out += "\n" + name + ":";
    for (std::size_t i = 0; i < values.size(); ++i)
      out += (i ? "," : "") + values[i];
  }
  return out;
}

std::string azure_authorization(const AzureRequest& request, const std::string& account,
                                const std::string& key) {
  return "SharedKey " + account + ":" +
         base64(hmac_sha256(base64_decode(key), azure_string_to_sign(request, account)));
}

AzureConnectionString parse_azure_connection_string(const std::string& text) {
  std::map<std::string, std::string> parts;
  std::size_t at = 0;
  while (at < text.size()) {
    std::size_t end = text.find(';', at);
    if (end == std::string::npos)
      end = text.size();
    const std::string part = text.substr(at, end - at);
    at = end + 1;
    if (part.find_first_not_of(" \t\r\n") == std::string::npos)
      continue;
    const std::size_t equals = part.find('=');
    if (equals == std::string::npos)
      throw ErrorException(config_error(
          "the Azure storage connection string is not Key=Value;Key=Value (a part has no '=')"));
    parts[part.substr(0, equals)] = part.substr(equals + 1);
  }
  AzureConnectionString out;
  if (parts["UseDevelopmentStorage"] == "true") {
    out.account = kDevAccount;
    out.key = kDevKey;
    const std::string proxy = parts["DevelopmentStorageProxyUri"];
    out.blob_endpoint =
        (proxy.empty() ? std::string("http://127.0.0.1") : proxy) + ":10000/" + kDevAccount;
    return out;
  }
  out.account = parts["AccountName"];
  out.key = parts["AccountKey"];
  out.sas = parts["SharedAccessSignature"];
  out.blob_endpoint = parts["BlobEndpoint"];
  if (out.blob_endpoint.empty() && !out.account.empty()) {
    const std::string protocol =
        parts["DefaultEndpointsProtocol"].empty() ? "https" : parts["DefaultEndpointsProtocol"];
    const std::string suffix =
        parts["EndpointSuffix"].empty() ? "core.windows.net" : parts["EndpointSuffix"];
    out.blob_endpoint = protocol + "://" + out.account + ".blob." + suffix;
  }
  if (out.key.empty() && out.sas.empty())
    throw ErrorException(config_error("the Azure storage connection string has neither "
                                      "AccountKey nor SharedAccessSignature"));
  return out;
}

} // namespace billdrop::remote
