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
// - replace_drop and replace_hourly chunks are idempotent: the same chunk is retried, with a new
//   key after an error response the API may have stored for the old one, with the same key after
//   no response or a 429/409 (not processed: another request of the connection was in flight).
//   A `sum` part of a split hour is not idempotent: after an ambiguous failure or a 5xx (which may
//   have applied) the hour restarts from its first part (Chunk::split_hour_start), and every
//   restarted part gets a fresh key (the restart count appended) so the API does not replay old
//   responses.
//   While a split hour is being restarted, the give-up clock is that of the furthest chunk reached,
//   so restarts cannot go on forever.
//
// Idempotency keys (docs/architecture.md, "Idempotency keys"): the API replays the first response
// stored for a key, so a key must never be reused for a different send. Each send of a month has a
// generation (SendGeneration, kept in the sync store: a new send moves it on, resuming an
// interrupted send keeps it), and the parts of a chunk's key that change while it is retried
// (ChunkKeyState: split-hour restarts, answered errors) are handed to a KeyStateSaver before the
// next attempt, so a resumed send continues with exactly the keys the interrupted one would have.

#include "core/cancel.hpp"
#include "plan/drop_plan.hpp"
#include "send/destination.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
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

// Which send of a (connection, month) this is.
struct SendGeneration {
  std::string store_id;     // the sync store's random id: keys of two stores never meet
  std::uint64_t number = 0; // 1, 2, ... per (connection, month) within that store
};

// The parts of a chunk's idempotency key that change while the chunk is retried.
struct ChunkKeyState {
  std::uint32_t restarts = 0;        // split-hour restarts the chunk was sent again in: "-rN"
  std::uint32_t answered_errors = 0; // error responses (not 429/409) received since: "-eN"
  bool operator==(const ChunkKeyState&) const = default;
};

// How a send begins: its generation and, when it resumes an interrupted send, the key state its
// chunks had reached (chunks absent from the map start at zero).
struct SendStart {
  SendGeneration generation;
  std::map<std::uint32_t, ChunkKeyState> chunks;
  bool resumed = false;
};

// A send that belongs to no store: a random store id, generation 1. Never equal to another.
SendStart unrecorded_send_start();

struct MonthSendResult {
  Month month;
  bool synced = false;
  std::uint32_t chunks_acknowledged = 0; // chunks in a row, from the first, acknowledged at the end
  std::uint32_t restarts = 0;            // split-hour restarts
  std::vector<Attempt> attempts;
  std::string error;      // why it is not synced
  bool cancelled = false; // stopped by a stop request between two requests: resumable
  bool fenced = false;    // (cancelled too) stopped because this host lost the connection's lease
};

// The key for one attempt at a chunk: the SHA-256 hex digest of the store id, the generation,
// connection, month, plan digest and chunk index, then "-r<restarts>" and "-e<answered errors>"
// when they are not zero.
std::string idempotency_key(const SendGeneration& generation, std::string_view connection_id,
                            Month month, std::string_view plan_digest, std::uint32_t chunk_index,
                            const ChunkKeyState& state = {});

class ConnectionSender {
public:
  using AttemptObserver = std::function<void(const Attempt&)>;
  using Sleeper = std::function<void(std::chrono::milliseconds)>;       // replaced in tests
  using Clock = std::function<std::chrono::steady_clock::time_point()>; // replaced in tests
  // Persists the key state of the chunks given (the ones that changed) before the next attempt;
  // an error stops the send, since a key that was not recorded could be reused after a crash.
  using KeyStateSaver =
      std::function<Status(SendGeneration, const std::map<std::uint32_t, ChunkKeyState>&)>;

  ConnectionSender(std::string connection_id, Destination& destination, RetryPolicy policy);

  void on_attempt(AttemptObserver observer) { observer_ = std::move(observer); }
  void set_sleeper(Sleeper sleeper) { sleeper_ = std::move(sleeper); }
  void set_clock(Clock clock) { clock_ = std::move(clock); }
  void on_key_state(KeyStateSaver saver) { key_state_saver_ = std::move(saver); }
  // A stop request: checked before every request; the default sleeper wakes on it. May be null.
  void set_cancel(const core::CancelToken* cancel) { cancel_ = cancel; }
  // Checked right before every request (after the stop request): an error stops the send there,
  // as a stop does (resumable, neither synced nor failed). A shared store's lease check.
  using RequestGuard = std::function<Status()>;
  void before_request(RequestGuard guard) { request_guard_ = std::move(guard); }

  // Sends every chunk of the plan in order, with the keys of `start` (see SyncStore::begin_send).
  // Never throws for a failed send: the result says.
  MonthSendResult send(const plan::DropPlan& plan, const SendStart& start);
  // A send recorded nowhere: unrecorded_send_start().
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
  KeyStateSaver key_state_saver_;
  const core::CancelToken* cancel_ = nullptr;
  RequestGuard request_guard_;
};

} // namespace billdrop::send
