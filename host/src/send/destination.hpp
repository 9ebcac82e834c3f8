#pragma once
// Where drops go. A Destination sends one request and reports what happened; it never retries
// (the ConnectionSender owns retry) and never knows which plugin produced the rows.
//   anycost — HTTPS to the AnyCost Stream API (or any base URL, e.g. the emulator)
//   local   — the AnyCost emulator embedded in-process, over loopback (the default)
//   dir     — request bodies as files plus the legacy bucket layout

#include "cbf/drop_body.hpp"
#include "send/landed_month.hpp"

#include <billdrop/result.hpp>
#include <billdrop/timestamp.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace billdrop::send {

struct DropRequest {
  std::string connection_id;
  Month month;
  cbf::DropOperation operation = cbf::DropOperation::replace_drop;
  std::string body; // the exact JSON body
  std::string idempotency_key;
  std::uint32_t chunk_index = 0;
  std::uint32_t chunk_count = 1;
};

enum class Outcome {
  acknowledged, // 2xx: the chunk is stored
  rejected,     // 400, 403, 413 and other 4xx: retrying cannot help; the message says why
  retryable,    // 429, 409, 5xx, no connection: not stored (or unknown for 5xx); try again later
  ambiguous,    // timeout, connection reset/closed before a response: it may or may not be stored
};

const char* to_string(Outcome outcome) noexcept;

struct DropResponse {
  Outcome outcome = Outcome::ambiguous;
  int http_status = 0; // 0 when no response arrived
  std::string message; // the API's error message, or the transport error
  std::optional<std::chrono::milliseconds> retry_after; // from Retry-After (seconds or HTTP-date)
  std::string drop_id; // on success, when the destination returns one
  std::uint64_t row_count = 0;
};

// Maps an HTTP status to an outcome (the reference's retry rules): 2xx acknowledged; 429, 409 and
// 5xx retryable; every other status rejected; 0 (no response) ambiguous.
Outcome classify_status(int http_status) noexcept;

// Parses a Retry-After value: delta-seconds or an HTTP-date (IMF-fixdate, RFC 850 or asctime),
// relative to `now` and never negative. nullopt when the value is neither.
std::optional<std::chrono::milliseconds>
parse_retry_after(std::string_view value, std::chrono::system_clock::time_point now);

class Destination {
public:
  virtual ~Destination() = default;
  virtual std::string describe() const = 0; // for logs, never containing secrets
  // Blocking and thread-safe: the sender calls it for one request at a time per connection, and
  // several connections may share one destination.
  virtual DropResponse send(const DropRequest& request) = 0;
  // What the destination holds for the connection's month, read back to reconcile it with the
  // snapshot that was sent (jobs/readback.hpp): an empty LandedMonth when the month holds
  // nothing, nullopt when this destination cannot say (the default). Blocking and thread-safe;
  // call it with no send in flight for the connection (the API takes one request at a time per
  // connection). An error says what failed, is retryable when trying again may help, and never
  // holds a secret.
  virtual Result<std::optional<LandedMonth>> read_back(const std::string& connection_id,
                                                       Month month);
};

struct AnycostSettings {
  std::string base_url = "https://api.cloudzero.com"; // http(s)://host[:port][/path prefix]
  std::string api_key;  // sent as `Authorization: <key>` (no Bearer); never logged
  std::string test_key; // optional cloudzero-test-key
  std::chrono::milliseconds timeout{60'000}; // connect, read and write, each
  bool keep_alive = true;                    // reuse connections between requests
};

// HTTP(S) client for the AnyCost Stream API (cpp-httplib with OpenSSL). Keeps a small pool of
// clients so connections sharing the destination send in parallel. A base URL it cannot use makes
// every send rejected with a message saying why. read_back() GETs the month's rows (404: the
// month holds nothing) and sums them exactly, by the hour of time/usage_start.
std::unique_ptr<Destination> make_anycost_destination(AnycostSettings settings);

// Writes each request body to <root>/bodies/<connection>/<YYYY-MM>/<chunk>-<operation>.json (a
// plan's first chunk first removes the month's body files of the plan before, so the folder
// holds one plan's bodies),
// applies the operations (replace_drop, replace_hourly, sum) to the month's current rows kept in
// <root>/state/<connection>/<YYYY-MM>.ndjson, and, once the month's last chunk arrives, writes the
// legacy bucket layout (reference: "The legacy bucket format") for the connection:
//   <root>/bucket/<connection>/<YYYYMMDD-YYYYMMDD>/<drop_id>/part-NNNNN.csv.gz
//   <root>/bucket/<connection>/<YYYYMMDD-YYYYMMDD>/manifest.json
// The bucket is per connection because a legacy bucket holds one connection's drops. The drop id
// is derived from the month's rows, so the same rows always give the same drop. Bodies are checked
// as the API checks them (a bad body is rejected, status 400). read_back() sums the month's
// current rows file (none: the month holds nothing).
std::unique_ptr<Destination> make_dir_destination(std::filesystem::path root,
                                                  std::uint64_t max_rows_per_file = 1'000'000);

} // namespace billdrop::send
