#pragma once
// Seeded fault decisions for the emulator's send endpoint. Every decision draws exactly two numbers
// from std::mt19937_64 (fully specified by the standard, unlike the std distributions), so the
// same seed gives the same sequence of faults for the same order of requests, on any platform.

#include "emulator/emulator.hpp"

#include <billdrop/result.hpp>

#include <chrono>
#include <mutex>
#include <random>

namespace billdrop::emulator {

enum class FaultKind {
  none,
  error_500,          // answer 500, apply nothing
  error_429,          // answer 429 with Retry-After, apply nothing
  close_before_reply, // apply nothing, break the connection before a complete reply
  apply_then_fail,    // apply, then answer 500
};

const char* to_string(FaultKind kind) noexcept;

struct FaultDecision {
  FaultKind kind = FaultKind::none;
  std::chrono::milliseconds latency{0}; // added before the request is processed
};

class FaultPlan {
public:
  // Checks the options: probabilities in [0, 1] summing to at most 1, latency_min <= latency_max.
  static Result<FaultPlan> create(const FaultOptions& options);

  FaultPlan(FaultPlan&& other) noexcept;
  FaultPlan& operator=(FaultPlan&&) = delete;

  // The next request's decision. Thread-safe; decisions follow the order of the calls.
  FaultDecision next();

private:
  explicit FaultPlan(const FaultOptions& options);

  FaultOptions options_;
  std::mutex mutex_;
  std::mt19937_64 rng_;
};

} // namespace billdrop::emulator
