#pragma once
// Azure Storage Shared Key authorization (Blob service, version 2015-02-21 and later): the
// string to sign and the Authorization header, pure functions so that they can be tested alone.

#include <string>
#include <utility>
#include <vector>

namespace billdrop::remote {

struct AzureRequest {
  std::string method;
  std::string path; // as sent, percent-encoded: "/devstoreaccount1/container" for path-style
  std::vector<std::pair<std::string, std::string>> query;   // raw names and values
  std::vector<std::pair<std::string, std::string>> headers; // every header sent
};

std::string azure_string_to_sign(const AzureRequest& request, const std::string& account);
// "SharedKey <account>:<base64 HMAC-SHA256>"; `key` is the account key as given (base64).
std::string azure_authorization(const AzureRequest& request, const std::string& account,
                                const std::string& key);

// The connection string's parts (AZURE_STORAGE_CONNECTION_STRING), "UseDevelopmentStorage=true"
// expanded to azurite's documented account, key and endpoint.
struct AzureConnectionString {
  std::string account;
  std::string key;
  std::string sas;
  std::string blob_endpoint;
};
// Throws ErrorException (config) on text that is not Key=Value;... — without echoing the text.
AzureConnectionString parse_azure_connection_string(const std::string& text);

} // namespace billdrop::remote
