#pragma once
// Sends drop plans for one connection: one request in flight at a time, retry with exponential
// backoff and full jitter, Retry-After honoured, a deterministic idempotency key per chunk, every
// attempt recorded. A month counts as synced only when every chunk was acknowledged.
//
// Retry rules (shared/reference/anycost-stream.md):
// - acknowledged: next chunk. rejected: stop at once, the month is not synced.
// - retryable or ambiguous: wait min(max_backoff, initial_backoff * 2^(n-1)) scaled by a uniform
//   draw in [0, 1] ("full jitter"), at least Retry-After, then retry; give up once the next try
//   would start more than give_up_after past the chunk's first attempt.
// - replace_drop and replace_hourly chunks are idempotent: the same chunk is retried with the same
//   key. A `sum` part of a split hour is not: after an ambiguous failure or a 5xx (which may have
//   applied) the hour restarts from its first part (Chunk::split_hour_start), and every restarted
//   part gets a fresh key (the restart count appended) so the API does not replay old responses.
//   While a split hour is being restarted, the give-up clock is that of the furthest chunk reached,
//   so restarts cannot go on forever.

#include "plan/drop_plan.hpp"
#include "send/destination.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace billdrop::send {

struct RetryPolicy {
  std::chrono::milliseconds initial_backoff{500};
  std::chrono::milliseconds max_backoff{60'000};
  std::chrono::milliseconds give_up_after{15 * 60'000}; // per chunk, from its first attempt
  std::uint64_t jitter_seed = 0;                        // 0: random; otherwise reproducible (tests)
};

struct Attempt {
  std::string connection_id;
  Month month;
  std::string plan_digest;
  std::uint32_t chunk_index = 0;
  std::uint32_t attempt = 0; // 1-based per chunk (counting across split-hour restarts)
  cbf::DropOperation operation = cbf::DropOperation::replace_drop;
  std::string idempotency_key;
  Outcome outcome = Outcome::ambiguous;
  int http_status = 0;
  std::string message;
  std::string drop_id; // when acknowledged and the destination returned one
  std::chrono::system_clock::time_point started;
  std::chrono::milliseconds duration{0};
};

struct MonthSendResult {
  Month month;
  bool synced = false;
  std::uint32_t chunks_acknowledged = 0; // chunks in a row, from the first, acknowledged at the end
  std::uint32_t restarts = 0;            // split-hour restarts
  std::vector<Attempt> attempts;
  std::string error; // why it is not synced
};

// The key for one chunk: the SHA-256 hex digest of connection, month, plan digest and chunk index.
std::string idempotency_key(std::string_view connection_id, Month month,
                            std::string_view plan_digest, std::uint32_t chunk_index);

class ConnectionSender {
public:
  using AttemptObserver = std::function<void(const Attempt&)>;
  using Sleeper = std::function<void(std::chrono::milliseconds)>;       // replaced in tests
  using Clock = std::function<std::chrono::steady_clock::time_point()>; // replaced in tests

  ConnectionSender(std::string connection_id, Destination& destination, RetryPolicy policy);

  void on_attempt(AttemptObserver observer) { observer_ = std::move(observer); }
  void set_sleeper(Sleeper sleeper) { sleeper_ = std::move(sleeper); }
  void set_clock(Clock clock) { clock_ = std::move(clock); }

  // Sends every chunk of the plan in order. Never throws for a failed send: the result says.
  MonthSendResult send(const plan::DropPlan& plan);

private:
  // The jittered wait after the n-th failed attempt of a chunk (n >= 1).
  std::chrono::milliseconds backoff(std::uint32_t attempt);

  std::string connection_id_;
  Destination& destination_;
  RetryPolicy policy_;
  std::mt19937_64 rng_;
  AttemptObserver observer_;
  Sleeper sleeper_;
  Clock clock_;
};

} // namespace billdrop::send
