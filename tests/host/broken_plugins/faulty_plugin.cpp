// A plugin that misbehaves in one month, for the isolation tests (isolation = "process"): built
// once per fault (tests/host/broken_plugins/CMakeLists.txt sets BILLDROP_FAULT and the name).
//
//   months: 2026-07, 2026-08, 2026-09. Every month gets `rows` rows: row i (1-based) has origin
//   "<name>:<i>", time/usage_start <month>-01T<(i-1) % 24>:00:00Z, cost/cost i (whole units),
//   resource/id "r-<i>", resource/account "faulty". In `fault_month` (default 2026-08), after
//   those rows are sent, the plugin does its fault:
//     segfault  writes through a null pointer (SIGSEGV)
//     abort     calls std::abort() (SIGABRT)
//     exit      calls std::exit(3)
//     hang      sleeps for ever
//     hog       allocates 16 MiB blocks and touches them until an allocation fails (at most
//               8 GiB: never run it without memory_limit_mb), and returns the failure
//     stdout    prints a line to stdout, then returns normally
#include <billdrop/sdk.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#ifndef BILLDROP_FAULT
#error "BILLDROP_FAULT must name the fault"
#endif

namespace {

using billdrop::ConfigKey;
using billdrop::ConfigType;

volatile int* volatile nowhere = nullptr;
int fault_value = 42;

void do_fault(std::string_view fault) {
  if (fault == "segfault") {
    // A write through a null pointer the compiler cannot see (it may not assume the address),
    // and, should that write somehow not fault, the signal it would have raised.
    std::memcpy(const_cast<int*>(nowhere), &fault_value, sizeof fault_value);
    std::raise(SIGSEGV);
  } else if (fault == "abort") {
    std::abort();
  } else if (fault == "exit") {
    std::exit(3);
  } else if (fault == "hang") {
    for (;;)
      std::this_thread::sleep_for(std::chrono::hours(1));
  } else if (fault == "hog") {
    std::vector<std::unique_ptr<char[]>> blocks;
    constexpr std::size_t kBlock = std::size_t(16) << 20;
    for (int i = 0; i < 512; ++i) {
      blocks.emplace_back(new char[kBlock]); // throws std::bad_alloc at the limit
      std::memset(blocks.back().get(), i, kBlock);
    }
    throw billdrop::PluginError("the hog allocated 8 GiB without reaching a limit",
                                billdrop::ErrorKind::internal);
  } else if (fault == "stdout") {
    std::printf("hello from a plugin that prints\n");
  }
}

class FaultyPlugin final : public billdrop::SourcePlugin {
public:
  static constexpr ConfigKey config_keys[] = {
      {"fault_month", ConfigType::string, "\"2026-08\"", false, "The month that misbehaves"},
      {"rows", ConfigType::integer, "4", false, "Rows per month"},
  };

  explicit FaultyPlugin(const billdrop::Config& config)
      : fault_month_(config.get_string("fault_month")), rows_(config.get_int("rows")) {}

  billdrop::Status check() override { return {}; }

  billdrop::Result<std::vector<billdrop::Month>> months() override {
    return std::vector<billdrop::Month>{billdrop::Month(2026, 7), billdrop::Month(2026, 8),
                                        billdrop::Month(2026, 9)};
  }

  billdrop::Status read(billdrop::Month month, billdrop::RowSink& sink) override {
    for (std::int64_t i = 1; i <= rows_; ++i) {
      char start[32];
      std::snprintf(start, sizeof start, "%s-01T%02d:00:00Z", month.to_string().c_str(),
                    static_cast<int>((i - 1) % 24));
      sink.begin_row(std::string(BILLDROP_FAULT_NAME) + ":" + std::to_string(i));
      sink.field("time/usage_start", start);
      sink.field("cost/cost", std::to_string(i));
      sink.field("resource/id", "r-" + std::to_string(i));
      sink.field("resource/account", "faulty");
      if (billdrop::Status status = sink.end_row(); !status)
        return status;
    }
    if (billdrop::Status status = sink.flush(); !status)
      return status;
    if (month.to_string() == fault_month_)
      do_fault(BILLDROP_FAULT);
    return {};
  }

private:
  std::string fault_month_;
  std::int64_t rows_;
};

} // namespace

BILLDROP_PLUGIN(FaultyPlugin, BILLDROP_FAULT_NAME, "0.0.1",
                "Misbehaves in one month (" BILLDROP_FAULT ") for the isolation tests")
