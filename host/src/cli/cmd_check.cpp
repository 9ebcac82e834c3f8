// billdrop check: can each source be reached, and which months does it hold?
#include "cli/common.hpp"
#include "core/json_writer.hpp"
#include "core/log.hpp"

#include <CLI/CLI.hpp>

#include <iostream>

namespace billdrop::cli {

namespace {

struct CheckOutcome {
  std::string source;
  std::string connection;
  bool ok = false;
  std::vector<Month> months;
  std::string error;
  bool retryable = false;
  std::optional<jobs::FailureKind> failure;
};

CheckOutcome check_one(const jobs::ResolvedSource& source) {
  CheckOutcome outcome{source.describe(), source.connection};
  log::info("check.start", {{"source", outcome.source}});
  std::unique_ptr<source::SourceSession> session = source.open_session();
  if (Status status = session->check(); !status) {
    outcome.error = "check failed: " + status.error().message();
    outcome.retryable = status.error().retryable();
    outcome.failure = jobs::failure_kind(status.error());
    return outcome;
  }
  Result<std::vector<Month>> months = session->months();
  if (!months) {
    outcome.error = "listing months failed: " + months.error().message();
    outcome.failure = jobs::failure_kind(months.error());
    return outcome;
  }
  outcome.months = std::move(*months);
  outcome.ok = true;
  return outcome;
}

int check(const GlobalOptions& global, const SourceOptions& options, bool json) {
  std::vector<CheckOutcome> outcomes;
  for (const jobs::ResolvedSource& source :
       jobs::resolve_sources(source_request(global, options), "check"))
    outcomes.push_back(check_one(source));
  int code = kExitOk;
  for (const CheckOutcome& o : outcomes)
    if (code == kExitOk && o.failure)
      code = exit_code(*o.failure);
  if (json) {
    core::JsonWriter out;
    out.begin_object().key("connections").begin_array();
    for (const CheckOutcome& o : outcomes) {
      out.begin_object()
          .key("source")
          .value(o.source)
          .key("connection")
          .value(o.connection)
          .key("ok")
          .value(o.ok)
          .key("months")
          .begin_array();
      for (const Month& m : o.months)
        out.value(m.to_string());
      out.end_array();
      if (!o.ok)
        out.key("error").value(o.error).key("retryable").value(o.retryable);
      out.end_object();
    }
    out.end_array().end_object();
    std::cout << out.str() << '\n';
    return code;
  }
  for (const CheckOutcome& o : outcomes) {
    if (!o.ok) {
      std::cerr << o.source << ": " << o.error << (o.retryable ? " (temporary; retry later)" : "")
                << '\n';
      continue;
    }
    std::cout << o.source << ": ok";
    if (!o.months.empty())
      std::cout << " — " << o.months.size() << " month(s), " << o.months.front().to_string()
                << " to " << o.months.back().to_string();
    std::cout << '\n';
  }
  return code;
}

} // namespace

void add_check_command(CLI::App& app, Invocation& run) {
  struct Options {
    SourceOptions source;
    std::string format = "text";
  };
  auto options = std::make_shared<Options>();
  auto* command = app.add_subcommand(
      "check", "check that each source can be reached and read, and list its months");
  add_source_options(*command, options->source);
  add_format_option(*command, options->format);
  command->callback([&run, options] {
    run.json = options->format == "json";
    run.action = [&run, options] { return check(run.global, options->source, run.json); };
  });
}

} // namespace billdrop::cli
