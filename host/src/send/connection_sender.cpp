#include "send/connection_sender.hpp"

#include "core/numbers.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <optional>
#include <thread>

namespace billdrop::send {
namespace {

using Millis = std::chrono::milliseconds;
using SteadyTime = std::chrono::steady_clock::time_point;

std::string sha256_hex(std::string_view text) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> bytes{};
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), bytes.data(), &length, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    out += kHex[bytes[i] >> 4];
    out += kHex[bytes[i] & 0x0F];
  }
  return out;
}

// "1m05s", "2.5s", "300ms": durations in messages.
std::string describe_duration(Millis duration) {
  const auto ms = duration.count();
  if (ms < 1000)
    return std::to_string(ms) + "ms";
  if (ms < 60'000)
    return std::to_string(ms / 1000) + "." + std::to_string(ms % 1000 / 100) + "s";
  const auto seconds = ms / 1000;
  std::string out = std::to_string(seconds / 60) + "m";
  if (seconds % 60 != 0) {
    if (seconds % 60 < 10)
      out += '0';
    out += std::to_string(seconds % 60);
    out += 's';
  }
  return out;
}

std::string describe_chunk(const plan::DropPlan& plan, std::uint32_t index) {
  const plan::Chunk& chunk = plan.chunks[index];
  std::string out = plan.month.to_string() + " chunk " + std::to_string(index + 1) + " of " +
                    std::to_string(plan.chunks.size()) + " (" +
                    std::string(cbf::to_string(chunk.operation));
  if (!chunk.first_hour.empty()) {
    out += ", " + chunk.first_hour;
    if (chunk.last_hour != chunk.first_hour)
      out += ".." + chunk.last_hour;
  }
  return out + ")";
}

std::string describe_response(const Attempt& attempt) {
  std::string out;
  if (attempt.http_status != 0)
    out = "HTTP " + std::to_string(attempt.http_status);
  else
    out = to_string(attempt.outcome);
  if (!attempt.message.empty())
    out += ": " + attempt.message;
  return out;
}

// A failure on a `sum` part may have been applied, and applying it again would count its rows
// twice: the only safe retry is the whole hour again, from its first (replacing) part.
bool needs_hour_restart(const plan::Chunk& chunk, const DropResponse& response) {
  if (chunk.operation != cbf::DropOperation::sum || !chunk.split_hour_start)
    return false;
  return response.outcome == Outcome::ambiguous ||
         (response.outcome == Outcome::retryable && response.http_status >= 500);
}

// Whether an answer means the request's key may hold a stored response, so the next try needs a
// new key. The API stores the first response for a key, errors included; but a refusal for
// concurrency (429, 409: another request of the connection is in flight) means the request was
// not processed. Keeping the key then matters: the request in flight may be this chunk's own,
// sent by a process killed mid-send, and the same key gets its stored answer once it lands,
// where a new key would apply the rows a second time. If the API ever did store such a refusal,
// the retries replay it until the chunk is given up: the month fails, nothing counts twice.
bool answer_changes_key(const DropResponse& response) {
  if (response.http_status == 0) // no response: keep the key, to get the stored one if any
    return false;
  return response.http_status != 429 && response.http_status != 409;
}

} // namespace

SendStart unrecorded_send_start() {
  SendStart start;
  start.generation = SendGeneration{"unrecorded-" + core::random_hex(8), 1};
  return start;
}

std::string idempotency_key(const SendGeneration& generation, std::string_view connection_id,
                            Month month, std::string_view plan_digest, std::uint32_t chunk_index,
                            const ChunkKeyState& state) {
  // Lengths first, so no two different tuples can run together into the same text.
  const auto field = [](std::string& text, std::string_view value) {
    text.append(std::to_string(value.size())).append(":").append(value).append("\n");
  };
  std::string text = "billdrop-idempotency-v2\n";
  field(text, generation.store_id);
  text.append(std::to_string(generation.number)).append("\n");
  field(text, connection_id);
  text.append(month.to_string()).append("\n");
  field(text, plan_digest);
  text.append(std::to_string(chunk_index));
  std::string key = sha256_hex(text);
  if (state.restarts != 0)
    key.append("-r").append(std::to_string(state.restarts));
  if (state.answered_errors != 0)
    key.append("-e").append(std::to_string(state.answered_errors));
  return key;
}

ConnectionSender::ConnectionSender(std::string connection_id, Destination& destination,
                                   RetryPolicy policy)
    : connection_id_(std::move(connection_id)), destination_(destination), policy_(policy),
      sleeper_([this](Millis wait) {
        if (cancel_ != nullptr)
          cancel_->sleep_for(wait); // wakes at once on a stop request
        else
          std::this_thread::sleep_for(wait);
      }),
      clock_([] { return std::chrono::steady_clock::now(); }) {
  std::uint64_t seed = policy_.jitter_seed;
  if (seed == 0) {
    std::random_device device;
    seed = (static_cast<std::uint64_t>(device()) << 32) ^ device();
  }
  rng_.seed(seed);
}

Millis ConnectionSender::backoff(std::uint32_t attempt) {
  // initial * 2^(attempt-1), capped; doubling stops once past the cap so it cannot overflow.
  Millis ceiling = std::max(policy_.initial_backoff, Millis(0));
  for (std::uint32_t n = 1; n < attempt && ceiling < policy_.max_backoff; ++n)
    ceiling *= 2;
  ceiling = std::min(ceiling, policy_.max_backoff);
  if (ceiling.count() <= 0)
    return Millis(0);
  // Full jitter: uniform in [0, ceiling]. The modulo's bias is at most ceiling / 2^64.
  return Millis(
      static_cast<Millis::rep>(rng_() % (static_cast<std::uint64_t>(ceiling.count()) + 1)));
}

MonthSendResult ConnectionSender::send(const plan::DropPlan& plan) {
  return send(plan, unrecorded_send_start());
}

MonthSendResult ConnectionSender::send(const plan::DropPlan& plan, const SendStart& start) {
  MonthSendResult result;
  result.month = plan.month;
  const auto count = static_cast<std::uint32_t>(plan.chunks.size());
  if (count == 0) {
    result.error = plan.month.to_string() + ": the plan has no chunks (a month with no rows still "
                                            "needs one replace_drop that empties it)";
    return result;
  }

  std::vector<std::optional<SteadyTime>> first_attempt(count);
  std::vector<std::uint32_t> attempts(count, 0);
  // Each chunk's key state. The API stores the first response for a key and replays it, errors
  // included, so after an answered error the next try needs a new key; after no answer
  // (ambiguous) or a 429/409 (not processed) it keeps the key (answer_changes_key).
  std::vector<ChunkKeyState> keys(count);
  for (const auto& [index, state] : start.chunks)
    if (index < count)
      keys[index] = state;
  // Records changed key states before they are used; false (with result.error) stops the send.
  const auto save_keys = [&](const std::map<std::uint32_t, ChunkKeyState>& changed) {
    if (!key_state_saver_)
      return true;
    Status saved = key_state_saver_(start.generation, changed);
    if (saved)
      return true;
    result.error = plan.month.to_string() +
                   ": stopped: the idempotency key state could not be recorded (" +
                   saved.error().message() + "), and sending on could reuse a key after a crash; " +
                   plan.month.to_string() + " is not synced";
    return false;
  };
  std::uint32_t furthest = 0;          // highest chunk index tried so far
  std::optional<std::uint32_t> loaded; // chunk whose body `request` holds
  DropRequest request;
  request.connection_id = connection_id_;
  request.month = plan.month;
  request.chunk_count = count;

  std::uint32_t index = 0;
  while (index < count) {
    if (cancel_ != nullptr && cancel_->cancelled()) {
      // Stopped between requests: nothing is in flight, and the month stays resumable (the
      // caller leaves it pending, so the next send resumes with these keys).
      result.cancelled = true;
      result.error = plan.month.to_string() + ": stopped before " + describe_chunk(plan, index) +
                     " (a stop was requested); " + std::to_string(result.chunks_acknowledged) +
                     " of " + std::to_string(count) + " chunks acknowledged, the next send resumes";
      return result;
    }
    if (request_guard_) {
      if (Status allowed = request_guard_(); !allowed) {
        // This host may no longer send for the connection (its lease was lost): stop before
        // the request, leaving the month to the lease's new holder.
        result.cancelled = true;
        result.fenced = true;
        result.error = plan.month.to_string() + ": stopped before " + describe_chunk(plan, index) +
                       ": " + allowed.error().message();
        return result;
      }
    }
    const plan::Chunk& chunk = plan.chunks[index];
    if (loaded != index) {
      Result<std::string> body = plan::chunk_body(plan, index);
      if (!body) {
        result.error = describe_chunk(plan, index) +
                       " could not be read from the snapshot: " + body.error().message();
        return result;
      }
      request.body = std::move(*body);
      loaded = index;
    }
    request.operation = chunk.operation;
    request.chunk_index = index;
    request.idempotency_key = idempotency_key(start.generation, connection_id_, plan.month,
                                              plan.digest, index, keys[index]);

    if (!first_attempt[index])
      first_attempt[index] = clock_();
    furthest = std::max(furthest, index);
    // While a split hour restarts, its parts share the furthest part's clock: restarts end too.
    const SteadyTime deadline = *first_attempt[furthest] + policy_.give_up_after;

    Attempt attempt;
    attempt.connection_id = connection_id_;
    attempt.month = plan.month;
    attempt.plan_digest = plan.digest;
    attempt.chunk_index = index;
    attempt.attempt = ++attempts[index];
    attempt.operation = chunk.operation;
    attempt.idempotency_key = request.idempotency_key;
    attempt.started = std::chrono::system_clock::now();
    const SteadyTime sent = clock_();
    DropResponse response;
    try {
      response = destination_.send(request);
    } catch (const std::exception& e) {
      // Destinations report failures as values; an exception is a bug, but the request may
      // still have left, so it counts as ambiguous.
      response.outcome = Outcome::ambiguous;
      response.message = std::string("the destination threw: ") + e.what();
    }
    attempt.duration = std::chrono::duration_cast<Millis>(clock_() - sent);
    attempt.outcome = response.outcome;
    attempt.http_status = response.http_status;
    attempt.message = response.message;
    attempt.drop_id = response.drop_id;
    if (observer_)
      observer_(attempt);
    result.attempts.push_back(attempt);

    if (response.outcome == Outcome::acknowledged) {
      result.chunks_acknowledged = index + 1;
      ++index;
      continue;
    }
    if (response.outcome == Outcome::rejected) {
      result.error = describe_chunk(plan, index) + " was rejected (" + describe_response(attempt) +
                     "); it is not retried and " + plan.month.to_string() + " is not synced";
      return result;
    }

    if (answer_changes_key(response)) {
      ++keys[index].answered_errors;
      if (!save_keys({{index, keys[index]}}))
        return result;
    }

    Millis wait = backoff(attempts[index]);
    if (response.retry_after)
      wait = std::max(wait, *response.retry_after);
    const SteadyTime now = clock_();
    if (now + wait > deadline) {
      std::string error = "gave up on " + describe_chunk(plan, index);
      error += " after " + std::to_string(attempts[index]);
      error += attempts[index] == 1 ? " attempt over " : " attempts over ";
      error +=
          describe_duration(std::chrono::duration_cast<Millis>(now - *first_attempt[furthest]));
      error += " (the limit is " + describe_duration(policy_.give_up_after);
      error += "); last response: " + describe_response(attempt);
      if (response.retry_after && *response.retry_after == wait)
        error += " (it asked to wait " + describe_duration(wait) + ")";
      error += "; " + plan.month.to_string() + " is not synced";
      result.error = std::move(error);
      return result;
    }
    sleeper_(wait);

    if (needs_hour_restart(chunk, response)) {
      const std::uint32_t first_part = *chunk.split_hour_start;
      std::map<std::uint32_t, ChunkKeyState> changed;
      for (std::uint32_t part = first_part; part <= index; ++part) {
        ++keys[part].restarts;
        keys[part].answered_errors = 0;
        changed.emplace(part, keys[part]);
      }
      if (!save_keys(changed))
        return result;
      ++result.restarts;
      result.chunks_acknowledged = first_part;
      index = first_part;
    }
  }
  result.synced = true;
  return result;
}

} // namespace billdrop::send
