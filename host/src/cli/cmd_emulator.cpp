// billdrop emulator: the AnyCost Stream API emulator, for offline tests of any adaptor.
#include "cli/common.hpp"
#include "core/log.hpp"
#include "emulator/emulator.hpp"

#include <CLI/CLI.hpp>

#include <csignal>
#include <iostream>
#include <pthread.h>

namespace billdrop::cli {

namespace {

struct Options {
  std::string listen = "127.0.0.1:8080";
  std::string store = "billdrop-emulator.db";
  emulator::EmulatorOptions emulator;
  long long latency_min = 0;
  long long latency_max = 0;
  long long test_key_ttl = 3600;
  long long idempotency_ttl = 24 * 3600;
};

int serve_emulator(Options& options) {
  const std::size_t colon = options.listen.rfind(':');
  if (colon == std::string::npos)
    throw CommandError(kExitUsage, "--listen must be HOST:PORT, e.g. 127.0.0.1:8080");
  const std::string host = options.listen.substr(0, colon);
  int port = 0;
  try {
    port = std::stoi(options.listen.substr(colon + 1));
  } catch (const std::exception&) {
    port = -1;
  }
  if (port < 0 || port > 65535)
    throw CommandError(kExitUsage, "--listen port must be 0..65535");
  emulator::EmulatorOptions& emulator_options = options.emulator;
  emulator_options.store = options.store;
  emulator_options.test_namespace_ttl = std::chrono::seconds(options.test_key_ttl);
  emulator_options.idempotency_ttl = std::chrono::seconds(options.idempotency_ttl);
  emulator_options.faults.latency_min = std::chrono::milliseconds(options.latency_min);
  emulator_options.faults.latency_max =
      std::chrono::milliseconds(std::max(options.latency_min, options.latency_max));
  // Block the signals before any thread starts so that only sigwait below sees them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  emulator::Emulator server(emulator_options);
  const std::uint16_t bound =
      jobs::take(server.start(host, static_cast<std::uint16_t>(port)), jobs::FailureKind::source);
  std::cout << "AnyCost emulator listening on http://" << host << ":" << bound << " (store "
            << emulator_options.store.string() << ")" << std::endl;
  log::info("emulator.listening", {{"host", host}, {"port", bound}});
  int received = 0;
  sigwait(&signals, &received);
  log::info("emulator.stopping", {{"signal", received}});
  server.stop();
  std::cout << "stopped after " << server.requests_served() << " requests" << std::endl;
  return kExitOk;
}

} // namespace

void add_emulator_command(CLI::App& app, Invocation& run) {
  auto options = std::make_shared<Options>();
  emulator::EmulatorOptions& emulator = options->emulator;
  auto* command = app.add_subcommand(
      "emulator", "serve the AnyCost Stream API emulator (for offline tests of any adaptor)");
  command->add_option("--listen", options->listen, "HOST:PORT (port 0: any free port)")
      ->capture_default_str();
  command->add_option("--store", options->store, "SQLite file for the emulator's state")
      ->capture_default_str();
  command->add_option("--api-key", emulator.api_keys,
                      "accepted API key (repeatable; default: any)");
  command->add_option("--max-body-bytes", emulator.max_body_bytes)->capture_default_str();
  command->add_option("--max-rows-per-month", emulator.max_rows_per_month)->capture_default_str();
  command->add_option("--max-bytes-per-month", emulator.max_bytes_per_month)->capture_default_str();
  command->add_option("--fault-seed", emulator.faults.seed, "seed of the fault sequence")
      ->capture_default_str();
  command->add_option("--fault-500", emulator.faults.error_500, "probability of a 500")
      ->check(CLI::Range(0.0, 1.0));
  command->add_option("--fault-429", emulator.faults.error_429, "probability of a 429")
      ->check(CLI::Range(0.0, 1.0));
  command
      ->add_option("--fault-close", emulator.faults.close_before_reply,
                   "probability of closing the connection before replying")
      ->check(CLI::Range(0.0, 1.0));
  command
      ->add_option("--fault-apply-then-fail", emulator.faults.apply_then_fail,
                   "probability of storing the drop and answering 500")
      ->check(CLI::Range(0.0, 1.0));
  command
      ->add_option("--test-key-ttl-seconds", options->test_key_ttl,
                   "a cloudzero-test-key namespace is purged this long after its first request")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  command
      ->add_option("--idempotency-ttl-seconds", options->idempotency_ttl,
                   "how long a response is replayed for its cloudzero-idempotency-key")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  command->add_option("--latency-min-ms", options->latency_min, "added latency, lower bound");
  command->add_option("--latency-max-ms", options->latency_max, "added latency, upper bound");
  command->callback(
      [&run, options] { run.action = [options] { return serve_emulator(*options); }; });
}

} // namespace billdrop::cli
