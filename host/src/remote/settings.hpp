#pragma once
// How a connection reaches its remote path: what the config's [connections.<name>.remote] table
// may set. Each key is optional; an unset key falls back to the cloud's own environment
// (AWS_*, AZURE_STORAGE_*, GOOGLE_APPLICATION_CREDENTIALS, STORAGE_EMULATOR_HOST), so existing
// credentials just work. Secrets are never written here: only where to find them.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

namespace billdrop::remote {

struct RemoteSettings {
  // S3 (and S3-compatible stores: a custom endpoint is addressed path-style).
  std::string s3_endpoint; // AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL
  std::string s3_region;   // AWS_REGION, AWS_DEFAULT_REGION; default us-east-1
  std::string aws_profile; // AWS_PROFILE; default "default"
  std::filesystem::path aws_shared_credentials_file; // AWS_SHARED_CREDENTIALS_FILE
  std::string sts_endpoint; // AWS_ENDPOINT_URL_STS; default https://sts.<region>.amazonaws.com
  // Azure Blob.
  std::string azure_endpoint;              // default https://<account>.blob.core.windows.net
  std::string azure_connection_string_env; // default AZURE_STORAGE_CONNECTION_STRING
  std::string azure_key_env;               // default AZURE_STORAGE_KEY
  std::string azure_sas_env;               // default AZURE_STORAGE_SAS_TOKEN
  // Google Cloud Storage.
  std::filesystem::path gcs_credentials_file; // GOOGLE_APPLICATION_CREDENTIALS
  std::string gcs_endpoint; // STORAGE_EMULATOR_HOST; default https://storage.googleapis.com
  // The local mirror: the most bytes the state directory's remote cache keeps.
  std::uint64_t cache_max_bytes = 10ULL << 30;
  // Objects a listing asks for at once (S3 max-keys, Azure maxresults, GCS maxResults).
  std::uint64_t list_page_size = 1000;
  std::int64_t timeout_seconds = 60;
  // Start a plugin that reads growing files while the objects download (MirrorMode::follow);
  // false: every object is whole before the plugin starts.
  bool read_while_downloading = true;
};

// Reads an environment variable; std::nullopt when unset or empty. Tests pass their own.
using Environment = std::function<std::optional<std::string>(const std::string& name)>;
Environment process_environment();

} // namespace billdrop::remote
