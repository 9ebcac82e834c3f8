// A plugin that breaks one rule of good conduct at a time, chosen by its `mode`, for the
// conformance kit (billdrop test-plugin) and plugin isolation tests. With mode "none" it is a
// well-behaved fee reader: `path` holds lines "YYYY-MM-DD,amount" and each line is one Fee row of
// its month (`repeat` times, for reads of many batches).
//
// modes: none, segfault_read, abort_read, hang_read, stdout_read, exit_check, unsorted_months,
// invalid_row, other_month, nondeterministic, ignore_cancel, crash_on_empty, vague_errors
#include <billdrop/sdk.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace {

using billdrop::ConfigKey;
using billdrop::ConfigType;

struct Line {
  billdrop::UtcTime start;
  std::string amount;
  std::string origin;
};

class MisbehavingPlugin final : public billdrop::SourcePlugin {
public:
  static constexpr ConfigKey config_keys[] = {
      {"path", ConfigType::path, nullptr, true, "Lines YYYY-MM-DD,amount"},
      {"mode", ConfigType::string, "\"none\"", false, "Which rule to break"},
      {"repeat", ConfigType::integer, "1", false, "Rows per line"},
  };

  explicit MisbehavingPlugin(const billdrop::Config& config)
      : path_(config.get_string("path")), mode_(config.get_string("mode")),
        repeat_(config.get_int("repeat")) {}

  billdrop::Status check() override {
    if (mode_ == "exit_check")
      std::exit(3);
    auto lines = read_lines();
    if (!lines)
      return lines.error();
    return {};
  }

  billdrop::Result<std::vector<billdrop::Month>> months() override {
    auto lines = read_lines();
    if (!lines)
      return lines.error();
    if (lines->empty() && mode_ == "crash_on_empty")
      std::raise(SIGSEGV);
    std::set<billdrop::Month> months;
    for (const Line& line : *lines)
      months.insert(billdrop::Month::of(line.start));
    std::vector<billdrop::Month> list(months.begin(), months.end());
    if (mode_ == "unsorted_months" && !list.empty()) {
      std::reverse(list.begin(), list.end());
      list.push_back(list.front());
    }
    return list;
  }

  billdrop::Status read(billdrop::Month month, billdrop::RowSink& sink) override {
    if (mode_ == "segfault_read")
      std::raise(SIGSEGV);
    if (mode_ == "abort_read")
      std::abort();
    if (mode_ == "hang_read")
      for (;;)
        std::this_thread::sleep_for(std::chrono::seconds(1));
    if (mode_ == "stdout_read") {
      std::printf("reading %s\n", month.to_string().c_str());
      std::fflush(stdout);
    }
    static int reads = 0;
    ++reads;
    auto lines = read_lines();
    if (!lines)
      return lines.error();
    for (const Line& line : *lines) {
      if (!month.contains(line.start))
        continue;
      for (std::int64_t i = 0; i < repeat_; ++i) {
        sink.begin_row(line.origin);
        sink.field("time/usage_start", billdrop::format_iso(line.start));
        sink.field("cost/cost", mode_ == "nondeterministic" && reads > 1 ? "0.01" : line.amount);
        sink.field("lineitem/type", mode_ == "invalid_row" ? "Feee" : "Fee");
        billdrop::Status status = sink.end_row();
        if (!status && mode_ != "ignore_cancel")
          return status;
      }
    }
    if (mode_ == "other_month") {
      sink.begin_row("extra:1");
      sink.field("time/usage_start", billdrop::format_iso(month.next().first_instant()));
      sink.field("cost/cost", "1");
      if (billdrop::Status status = sink.end_row(); !status)
        return status;
    }
    return {};
  }

private:
  billdrop::Result<std::vector<Line>> read_lines() const {
    std::ifstream in(path_);
    if (!in)
      return billdrop::source_error(mode_ == "vague_errors" ? std::string("cannot open the file")
                                                            : "cannot open " + path_);
    std::vector<Line> lines;
    std::string text;
    for (int number = 1; std::getline(in, text); ++number) {
      const auto comma = text.find(',');
      if (comma == std::string::npos)
        continue;
      auto start = billdrop::parse_timestamp(text.substr(0, comma));
      if (!start)
        return start.error();
      lines.push_back({*start, text.substr(comma + 1), "fees:" + std::to_string(number)});
    }
    return lines;
  }

  std::string path_;
  std::string mode_;
  std::int64_t repeat_;
};

} // namespace

BILLDROP_PLUGIN(MisbehavingPlugin, "misbehaving", "0.1.0",
                "A plugin that breaks one rule at a time, for the conformance kit's tests")
