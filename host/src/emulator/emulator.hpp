#pragma once
// An AnyCost Stream API emulator: the four endpoints with the real paths, bodies and error shapes,
// served over HTTP on loopback, with its state in a SQLite file. It enforces the body limit (413),
// one request in flight per connection (429 + Retry-After), the month caps, CBF validation (400),
// the API key (403), the three operations' semantics and idempotency-key replay, and injects
// faults (500, 429, latency, connection closed before the reply, "apply then fail") from a seed,
// reproducibly. Any adaptor, in any language, can be tested against it.
//
// Choices where the reference is silent (shared/reference/anycost-stream.md):
// - Order of checks for a send: request framing (400) -> API key (403) -> idempotency replay ->
//   body size (413, checked before any parsing) -> one in flight per connection (429) ->
//   idempotency replay again (a request with the key may have been answered while this one's
//   body arrived: this one is then a repeat, not applied again) -> fault draw -> body and rows
//   (400) -> month caps (400) -> apply.
// - A request whose body never arrives whole -- the connection breaks off, or the body misses its
//   deadline -- is no request: it gets no reply (the connection closes) and nothing is stored for
//   its idempotency key, so the client, which saw no response, can retry with the same key.
// - Connections: a thread each, up to max_connections; a request's head must arrive within
//   header_timeout of its first byte, its body within body_timeout of the head, with no silence
//   longer than read_timeout (else it is dropped as above), so idle or half-sent requests hold no
//   one else up. An idle connection closes after keep_alive; stop() drops requests still arriving.
// - Framing: a Content-Length that is not a byte count ("-1", "12abc") or two different ones are
//   answered 400 invalid_request before the body is read, not stored, and the connection closes
//   (what follows the head cannot be told from a next request).
// - A JSON object naming a key twice is refused, as the API cannot know which value counts: in
//   the body's own members a 400 invalid_request naming the key; in a row a problem of the row
//   (rule duplicate_key), so 400 invalid_cbf, or an error in validate_billing_drop's list.
// - The body is the JSON whatever the Content-Type says (none, curl's default form type,
//   text/plain, ...), up to the body limit; a 413 gives the body's real size, also for a chunked
//   upload (which is read to its end and counted, not kept). multipart/form-data is answered 400:
//   it is not a JSON body.
// - Stored for idempotency replay, keyed by (test key, method, path, key): every response the API
//   itself produced (200, 400, 404, 413). Not stored: 403 (no account to scope it to), the busy
//   429, the framing 400, requests that never arrived whole, and injected 500/429/closed
//   connections, which stand for failures in front of the API. "Apply then fail" stores the 200
//   it applied and answers 500, so a retry replays the 200.
// - The month caps count stored rows and the bytes of their canonical CBF JSON (RowValidator's
//   output, no separators) -- the same measure as MonthSummary::json_bytes.
// - The send response's row_count is the body's rows; the list shows one drop per month: the drop
//   id of the last applied request and the rows stored for the month. GET of a month with no rows
//   stored is 404, even after a replace_drop emptied it.
// - Faults draw only for sends that reach the draw (not replays, not busy 429s), two numbers per
//   send from std::mt19937_64(seed), so the same seed and request order give the same faults;
//   each start() begins the sequence again.
// - A test namespace's hour counts from its first request; after it, the next request into it
//   finds it empty (and starts a new hour). Stored responses expire idempotency_ttl after they
//   were stored; a repeat after that is a new request. Expired data also leaves the file.
// - "Closed before the reply" sends a 500 status line and a chunked body cut off mid-way: an HTTP
//   client reports a read error; one that ignores it still does not see a success.
// - Only sends are held to one in flight per connection; the GETs read a consistent snapshot.
// - An "Authorization: Bearer ..." value is always refused: the API wants the raw key.

#include "snapshot/month_snapshot.hpp"

#include <billdrop/decimal.hpp>
#include <billdrop/result.hpp>
#include <billdrop/timestamp.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace billdrop::emulator {

struct FaultOptions {
  std::uint64_t seed = 1;
  double error_500 = 0;          // probability a send_drop answers 500 without applying
  double error_429 = 0;          // probability it answers 429 (with Retry-After) without applying
  double close_before_reply = 0; // probability it applies nothing and drops the connection
  double apply_then_fail = 0;    // probability it applies the drop, then answers 500
  std::chrono::milliseconds latency_min{0};
  std::chrono::milliseconds latency_max{0};
};

struct EmulatorOptions {
  std::filesystem::path store = ":memory:"; // SQLite file
  std::vector<std::string> api_keys;        // accepted keys; empty: any non-empty key
  // Keys limited to some scopes (connections:create_billing_anycost_billing_drop, ...); such a key
  // is accepted for the endpoints whose scope it holds and refused (403) for the others.
  std::map<std::string, std::set<std::string>> key_scopes;
  std::size_t max_body_bytes = 5'000'000;
  std::uint64_t max_rows_per_month = 1'000'000;
  std::uint64_t max_bytes_per_month = 400'000'000;
  std::chrono::seconds busy_retry_after{1}; // Retry-After of a concurrent or injected 429
  // How long a request may take to arrive: its line and headers from its first byte, its body
  // from the end of its headers, and the longest silence within either. A request that misses
  // one is dropped: no reply, nothing stored. An idle connection closes after keep_alive.
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds body_timeout{60'000};
  std::chrono::milliseconds read_timeout{5'000};
  std::chrono::milliseconds keep_alive{2'000};
  // Connections served at once, a thread each; more wait for one of them to close.
  std::size_t max_connections = 256;
  // A cloudzero-test-key namespace is purged this long after its first request (the API: an
  // hour); a stored response is replayed for this long after it was stored.
  std::chrono::milliseconds test_namespace_ttl{std::chrono::hours(1)};
  std::chrono::milliseconds idempotency_ttl{std::chrono::hours(24)};
  // The time those are measured in; empty: the system clock (tests move their own).
  std::function<std::chrono::system_clock::time_point()> clock;
  FaultOptions faults;
};

// What is stored for one (connection, month), for tests and `billdrop push` summaries.
struct MonthState {
  std::uint64_t rows = 0;
  Decimal cost;
  std::map<std::string, snapshot::HourTotals> hours; // "YYYY-MM-DDTHH"
};

class Emulator {
public:
  explicit Emulator(EmulatorOptions options);
  ~Emulator(); // stops the server
  Emulator(const Emulator&) = delete;
  Emulator& operator=(const Emulator&) = delete;

  // Starts serving on host:port in background threads (port 0: an ephemeral port); returns the
  // bound port.
  Result<std::uint16_t> start(const std::string& host, std::uint16_t port);
  // Closes intake, lets in-flight requests finish, stops.
  void stop();
  std::uint16_t port() const noexcept;
  std::string base_url() const; // "http://127.0.0.1:<port>"

  Result<MonthState> month_state(const std::string& connection_id, Month month) const;
  // Requests answered so far (every response started, injected faults included).
  std::uint64_t requests_served() const noexcept;

private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

} // namespace billdrop::emulator
