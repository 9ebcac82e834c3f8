#include "emulator/fault_plan.hpp"

#include <string>

namespace billdrop::emulator {

const char* to_string(FaultKind kind) noexcept {
  switch (kind) {
  case FaultKind::none:
    return "none";
  case FaultKind::error_500:
    return "error_500";
  case FaultKind::error_429:
    return "error_429";
  case FaultKind::close_before_reply:
    return "close_before_reply";
  case FaultKind::apply_then_fail:
    return "apply_then_fail";
  }
  return "unknown";
}

Result<FaultPlan> FaultPlan::create(const FaultOptions& options) {
  const std::pair<const char*, double> probabilities[] = {
      {"error_500", options.error_500},
      {"error_429", options.error_429},
      {"close_before_reply", options.close_before_reply},
      {"apply_then_fail", options.apply_then_fail}};
  double total = 0;
  for (const auto& [name, p] : probabilities) {
    if (!(p >= 0 && p <= 1))
      return config_error(std::string("fault probability ") + name + " is " + std::to_string(p) +
                          "; expected a number from 0 to 1");
    total += p;
  }
  if (total > 1 + 1e-9)
    return config_error("fault probabilities sum to " + std::to_string(total) +
                        "; expected at most 1 (each request gets one fault at most)");
  if (options.latency_min.count() < 0 || options.latency_max < options.latency_min)
    return config_error("fault latency range is " + std::to_string(options.latency_min.count()) +
                        ".." + std::to_string(options.latency_max.count()) +
                        " ms; expected 0 <= latency_min <= latency_max");
  return FaultPlan(options);
}

FaultPlan::FaultPlan(const FaultOptions& options) : options_(options), rng_(options.seed) {}

FaultPlan::FaultPlan(FaultPlan&& other) noexcept : options_(other.options_), rng_(other.rng_) {}

FaultDecision FaultPlan::next() {
  std::uint64_t kind_draw = 0;
  std::uint64_t latency_draw = 0;
  {
    const std::lock_guard lock(mutex_);
    kind_draw = rng_();
    latency_draw = rng_();
  }
  FaultDecision decision;
  // The top 53 bits as a uniform number in [0, 1): exact in a double, no std distribution.
  const double u = static_cast<double>(kind_draw >> 11) * 0x1.0p-53;
  double edge = options_.error_500;
  if (u < edge) {
    decision.kind = FaultKind::error_500;
  } else if (u < (edge += options_.error_429)) {
    decision.kind = FaultKind::error_429;
  } else if (u < (edge += options_.close_before_reply)) {
    decision.kind = FaultKind::close_before_reply;
  } else if (u < (edge += options_.apply_then_fail)) {
    decision.kind = FaultKind::apply_then_fail;
  }
  const auto span =
      static_cast<std::uint64_t>((options_.latency_max - options_.latency_min).count());
  decision.latency =
      options_.latency_min +
      std::chrono::milliseconds(static_cast<std::int64_t>(latency_draw % (span + 1)));
  return decision;
}

} // namespace billdrop::emulator
