// billdrop check: can each source be reached, and which months does it hold?
#include "cli/common.hpp"
#include "core/json_writer.hpp"
#include "jobs/check.hpp"

#include <CLI/CLI.hpp>

#include <iostream>

namespace billdrop::cli {

namespace {

int check(const GlobalOptions& global, const SourceOptions& options, bool json) {
  std::vector<jobs::CheckOutcome> outcomes;
  for (const jobs::ResolvedSource& source :
       jobs::resolve_sources(source_request(global, options), "check"))
    outcomes.push_back(jobs::check_source(source));
  int code = kExitOk;
  for (const jobs::CheckOutcome& o : outcomes)
    if (code == kExitOk && o.failure)
      code = exit_code(*o.failure);
  if (json) {
    core::JsonWriter out;
    out.begin_object().key("connections").begin_array();
    for (const jobs::CheckOutcome& o : outcomes) {
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
  for (const jobs::CheckOutcome& o : outcomes) {
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
