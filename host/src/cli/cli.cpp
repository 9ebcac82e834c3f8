#include "cli/cli.hpp"

#include "cli/common.hpp"
#include "core/log.hpp"
#include "report/sync_report.hpp"
#include "source/process_session.hpp"

#include <billdrop/version.hpp>

#include <CLI/CLI.hpp>

#include <iostream>
#include <string_view>

namespace billdrop::cli {

namespace {

// Prints a failure: on stderr, and in JSON mode also as {"error":{"kind","message"}} on stdout so
// that a caller reading stdout always gets one JSON document.
int fail(const Invocation& run, const char* kind, const std::string& message, int code) {
  std::cerr << "billdrop: " << message << '\n';
  if (run.json)
    std::cout << report::error_json(kind, message) << '\n';
  return code;
}

} // namespace

int run(int argc, char** argv) {
  // Hidden: billdrop started again as the runner of one plugin (isolation = "process"). Nothing
  // of the CLI runs in it; it speaks only to the billdrop that started it, over its pipes.
  if (argc >= 2 && std::string_view(argv[1]) == "__plugin-runner")
    return source::run_plugin_runner();
  CLI::App app{"billdrop — moves custom cost data into cost platforms as Common Bill Format"};
  app.set_version_flag("--version", std::string("billdrop ") + BILLDROP_VERSION + " (plugin ABI " +
                                        std::to_string(BILLDROP_ABI_MAJOR) + "." +
                                        std::to_string(BILLDROP_ABI_MINOR) + ")");
  app.require_subcommand(1);
  Invocation invocation;
  GlobalOptions& global = invocation.global;
  app.add_option("--plugin-dir", global.plugin_dirs, "extra plugin directory (repeatable)");
  app.add_option("--state-dir", global.state_dir,
                 "state directory: snapshots, sync.db, locks, the local emulator's store "
                 "(default: the config's state_dir, else .billdrop)");
  app.add_option("--log-level", global.log_level, "debug, info, warn, error or off")
      ->capture_default_str();
  app.add_option("--log-format", global.log_format, "text (logfmt) or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  app.add_flag("--no-progress", global.no_progress, "never draw progress on the terminal");

  add_plugins_command(app, invocation);
  add_check_command(app, invocation);
  add_convert_command(app, invocation);
  add_validate_command(app, invocation);
  add_plan_command(app, invocation);
  add_sync_commands(app, invocation);
  add_status_command(app, invocation);
  add_serve_command(app, invocation);
  add_store_command(app, invocation);
  add_emulator_command(app, invocation);
  add_new_plugin_command(app, invocation);
  add_test_plugin_command(app, invocation);

  // The first word that is not a global option or its value names the command; `billdrop help
  // [COMMAND]` is the same as `billdrop [COMMAND] --help`.
  const std::vector<std::string> args(argv + 1, argv + argc);
  const auto known = [&](const std::string& name) {
    for (const CLI::App* sub : app.get_subcommands({}))
      if (sub->get_name() == name)
        return true;
    return false;
  };
  const auto unknown = [](const std::string& name) {
    std::cerr << "billdrop: unknown command '" << name
              << "' (see `billdrop help` for the commands)\n";
    return kExitUsage;
  };
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--plugin-dir" || arg == "--state-dir" || arg == "--log-level" ||
        arg == "--log-format") {
      ++i;
      continue;
    }
    if (arg.starts_with("-"))
      continue;
    if (arg == "help") {
      if (i + 1 >= args.size()) {
        std::cout << app.help();
        return kExitOk;
      }
      if (!known(args[i + 1]))
        return unknown(args[i + 1]);
      std::cout << app.get_subcommand(args[i + 1])->help();
      return kExitOk;
    }
    if (!known(arg))
      return unknown(arg);
    break;
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }

  log::Level level = log::Level::warn;
  if (!log::parse_level(global.log_level, level)) {
    std::cerr << "billdrop: --log-level must be debug, info, warn, error or off\n";
    return kExitUsage;
  }
  log::configure(level, global.log_format == "json" ? log::Format::json : log::Format::text);
  if (!invocation.action)
    return kExitUsage;

  try {
    return invocation.action();
  } catch (const CommandError& e) {
    return fail(invocation, "usage", e.what(), e.code());
  } catch (const jobs::JobError& e) {
    return fail(invocation, failure_name(e.kind()), e.what(), exit_code(e.kind()));
  } catch (const ErrorException& e) {
    const jobs::FailureKind kind = jobs::failure_kind(e.error());
    return fail(invocation, failure_name(kind), e.error().message(), exit_code(kind));
  } catch (const std::exception& e) {
    return fail(invocation, "internal", std::string("internal error: ") + e.what(), kExitInternal);
  }
}

} // namespace billdrop::cli
