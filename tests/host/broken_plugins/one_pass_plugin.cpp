// A one-pass plugin (ABI 1.4) for the convert tests, its rows fixed so that tests sum them by
// hand. The source is one "file", usage.csv, holding three months with their lines interleaved:
//
//   line 2+i (i = 0..8) is day 1 + i/3 of month 2024-07 + i%3, cost/cost "<i+1>.<i+1>0"
//   (1.10, 2.20, ... 9.90): July 1.10 + 4.40 + 7.70 = 13.20, August 2.20 + 5.50 + 8.80 = 16.50,
//   September 3.30 + 6.60 + 9.90 = 19.80;
//   line 11 has no readable time: it is rejected, in every read (it could be of any month).
//
// read(month) reads the whole file and keeps that month's lines, as a plugin with a single file
// must; read_all() reads it once. Each call is appended as a line to `calls_file` (when set), so a
// test counts how often the file was read. `one_pass = false` makes the instance prefer months()
// + read(); `fail_after = N` (N > 0) makes read_all() send N rows and then fail as a truncated
// file does; `fail_at_start` makes it fail before any row.
#include <billdrop/sdk.hpp>

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

namespace {

using billdrop::ConfigKey;
using billdrop::ConfigType;
using billdrop::Month;

class OnePassPlugin final : public billdrop::SourcePlugin {
public:
  static constexpr ConfigKey config_keys[] = {
      {"calls_file", ConfigType::string, "\"\"", false, "Where each call is recorded"},
      {"one_pass", ConfigType::boolean, "true", false, "Whether the instance prefers read_all"},
      {"fail_after", ConfigType::integer, "0", false, "read_all fails after this many rows"},
      {"fail_at_start", ConfigType::boolean, "false", false, "read_all fails before any row"},
  };

  explicit OnePassPlugin(const billdrop::Config& config)
      : calls_file_(config.get_string("calls_file")), one_pass_(config.get_bool("one_pass")),
        fail_after_(config.get_int("fail_after")),
        fail_at_start_(config.get_bool("fail_at_start")) {}

  billdrop::Status check() override { return {}; }
  billdrop::Result<std::vector<Month>> months() override {
    record("months");
    return std::vector<Month>{Month(2024, 7), Month(2024, 8), Month(2024, 9)};
  }
  billdrop::Status read(Month month, billdrop::RowSink& sink) override {
    record("read " + month.to_string());
    return read_file(sink, &month);
  }

  bool one_pass() const { return one_pass_; }
  billdrop::Status read_all(billdrop::RowSink& sink) {
    record("read_all");
    if (fail_at_start_)
      return billdrop::Error(billdrop::ErrorKind::source, "usage.csv: permission denied");
    return read_file(sink, nullptr);
  }

private:
  static Month line_month(int i) { return Month(2024, 7 + i % 3); }

  billdrop::Status read_file(billdrop::RowSink& sink, const Month* only) {
    for (int i = 0; i < 9; ++i) {
      if (only == nullptr && fail_after_ > 0 && i == fail_after_) {
        // What a reader says of a truncated file; the rows before went to the host.
        if (billdrop::Status flushed = sink.flush(); !flushed)
          return flushed;
        return billdrop::Error(billdrop::ErrorKind::data,
                               "usage.csv: after line " + std::to_string(i + 1) +
                                   ": truncated gzip stream (unexpected end of file)");
      }
      const Month month = line_month(i);
      if (only != nullptr && month != *only)
        continue;
      const std::string digit = std::to_string(i + 1);
      sink.begin_row("usage.csv:" + std::to_string(i + 2));
      sink.field("time/usage_start",
                 month.to_string() + "-0" + std::to_string(1 + i / 3) + "T10:00:00Z");
      sink.field("cost/cost", digit + "." + digit + "0");
      if (billdrop::Status status = sink.end_row(); !status)
        return status;
    }
    sink.reject("usage.csv:11", "time/usage_start", "timestamp",
                "lineItem/UsageStartDate \"soon\" is not a timestamp");
    return {};
  }

  void record(const std::string& call) const {
    if (!calls_file_.empty())
      std::ofstream(calls_file_, std::ios::app) << call << "\n";
  }

  std::string calls_file_;
  bool one_pass_;
  std::int64_t fail_after_;
  bool fail_at_start_;
};

} // namespace

BILLDROP_PLUGIN(OnePassPlugin, "one_pass", "0.0.1",
                "Three interleaved months in one file, read in one pass (ABI 1.4)")
