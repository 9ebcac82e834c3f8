#include "jobs/test_plugin.hpp"

#include "config/host_config.hpp"
#include "jobs/job_error.hpp"
#include "source/plugin_loader.hpp"

#include <billdrop/decimal.hpp>
#include <billdrop/testing/harness.hpp>
#include <billdrop/text.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>

#include <csignal>
#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

namespace billdrop::jobs {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// ---- Each check in a child process: its verdict comes back over a pipe, its stdout over another.

struct Verdict {
  CheckOutcome outcome = CheckOutcome::passed;
  std::string message;
};

Verdict pass(std::string message = {}) {
  return {CheckOutcome::passed, std::move(message)};
}
Verdict fail(std::string message) {
  return {CheckOutcome::failed, std::move(message)};
}
Verdict skip(std::string message) {
  return {CheckOutcome::skipped, std::move(message)};
}

struct ChildRun {
  Verdict verdict;
  std::string out;       // what the check wrote to stdout
  bool abnormal = false; // the child crashed, hung or exited instead of giving a verdict
};

std::string signal_text(int number) {
  const char* abbrev = sigabbrev_np(number);
  const char* description = strsignal(number);
  return std::string("SIG") + (abbrev != nullptr ? abbrev : std::to_string(number)) + " (" +
         (description != nullptr ? description : "unknown signal") + ")";
}

void write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return;
    text.remove_prefix(static_cast<std::size_t>(n));
  }
}

// Runs `check` in a forked child. A child that is killed by a signal, exits on its own or outlives
// `timeout` fails the check, saying which.
ChildRun run_in_child(std::chrono::seconds timeout, const std::function<Verdict()>& check) {
  int verdict_pipe[2];
  int out_pipe[2];
  if (::pipe2(verdict_pipe, O_CLOEXEC) != 0 || ::pipe2(out_pipe, O_CLOEXEC) != 0)
    return {fail(std::string("cannot create a pipe: ") + std::strerror(errno)), {}};
  std::cout.flush();
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0)
    return {fail(std::string("cannot fork: ") + std::strerror(errno)), {}};
  if (pid == 0) {
    ::close(verdict_pipe[0]);
    ::close(out_pipe[0]);
    ::dup2(out_pipe[1], STDOUT_FILENO);
    Verdict verdict;
    try {
      verdict = check();
    } catch (const std::exception& e) {
      verdict = fail(std::string("the check threw: ") + e.what());
    }
    std::cout.flush();
    std::fflush(nullptr);
    const char code = verdict.outcome == CheckOutcome::passed   ? 'P'
                      : verdict.outcome == CheckOutcome::failed ? 'F'
                                                                : 'S';
    write_all(verdict_pipe[1], std::string(1, code) + verdict.message);
    ::_exit(0);
  }
  ::close(verdict_pipe[1]);
  ::close(out_pipe[1]);

  std::string verdict_text;
  std::string out;
  const auto deadline = Clock::now() + timeout;
  bool timed_out = false;
  pollfd fds[2] = {{verdict_pipe[0], POLLIN, 0}, {out_pipe[0], POLLIN, 0}};
  int open_fds = 2;
  while (open_fds > 0) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    const int ready = ::poll(fds, 2, static_cast<int>(std::min<long long>(left, 1000)));
    if (ready < 0 && errno != EINTR)
      break;
    for (pollfd& fd : fds) {
      if (fd.fd < 0 || (fd.revents & (POLLIN | POLLHUP | POLLERR)) == 0)
        continue;
      char buffer[4096];
      const ssize_t n = ::read(fd.fd, buffer, sizeof buffer);
      if (n > 0) {
        (fd.fd == verdict_pipe[0] ? verdict_text : out).append(buffer, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        ::close(fd.fd);
        fd.fd = -1;
        --open_fds;
      }
    }
  }
  if (timed_out)
    ::kill(pid, SIGKILL);
  for (const pollfd& fd : fds)
    if (fd.fd >= 0)
      ::close(fd.fd);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }

  ChildRun run;
  run.out = std::move(out);
  run.abnormal = timed_out || WIFSIGNALED(status) || verdict_text.empty();
  if (timed_out) {
    run.verdict = fail("did not finish within " + std::to_string(timeout.count()) +
                       " s: killed (a plugin must not hang; raise --timeout-seconds for a slow "
                       "source)");
  } else if (WIFSIGNALED(status)) {
    run.verdict = fail("the plugin crashed: killed by " + signal_text(WTERMSIG(status)));
  } else if (verdict_text.empty()) {
    run.verdict = fail("the plugin ended the process (exit status " +
                       std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) +
                       ") instead of returning");
  } else {
    run.verdict.outcome = verdict_text[0] == 'P'   ? CheckOutcome::passed
                          : verdict_text[0] == 'F' ? CheckOutcome::failed
                                                   : CheckOutcome::skipped;
    run.verdict.message = verdict_text.substr(1);
  }
  return run;
}

// ---- What the checks share.

struct Subject {
  std::shared_ptr<source::LoadedPlugin> plugin;
  ConfigValues config; // from the config file, paths resolved against its folder
};

bool contains(std::string_view text, std::string_view part) {
  return !part.empty() && text.find(part) != std::string_view::npos;
}

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty())
      out += separator;
    out += item;
  }
  return out;
}

// A created harness, or the verdict that says why it could not be.
Verdict create(testing::PluginHarness& harness) {
  if (Status status = harness.create(); !status)
    return fail("create failed with the given configuration: " + status.error().message());
  return pass();
}

// What a month's rows add up to, in an order-free form: the same rows in any order give the same.
struct RowsSeen {
  std::size_t rows = 0;
  Decimal cost;
  std::uint64_t digest = 0;
  std::string describe() const {
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(digest));
    return std::to_string(rows) + " rows, cost " + cost.to_string() + ", digest " + hex;
  }
  bool operator==(const RowsSeen& other) const {
    return rows == other.rows && cost == other.cost && digest == other.digest;
  }
};

std::uint64_t fnv1a(std::string_view text, std::uint64_t hash = 1469598103934665603ULL) {
  for (const char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ULL;
  }
  return hash;
}

RowsSeen summarise(const std::vector<testing::CapturedRow>& rows) {
  RowsSeen seen;
  seen.rows = rows.size();
  std::vector<std::string> texts;
  texts.reserve(rows.size());
  for (const testing::CapturedRow& row : rows) {
    std::string text;
    for (const auto& [key, value] : row.fields)
      text.append(key).append(1, '\x1f').append(value).append(1, '\x1e');
    texts.push_back(std::move(text));
    if (Result<Decimal> cost = Decimal::parse(trim_ascii(row.get("cost/cost"))))
      seen.cost += *cost;
  }
  std::sort(texts.begin(), texts.end());
  std::uint64_t hash = 1469598103934665603ULL;
  for (const std::string& text : texts)
    hash = fnv1a(text, fnv1a("\n", hash));
  seen.digest = hash;
  return seen;
}

// ---- The checks.

Verdict check_descriptor(const fs::path& file) {
  Result<std::shared_ptr<source::LoadedPlugin>> loaded = source::load_plugin(file);
  if (!loaded)
    return fail(loaded.error().message());
  const source::LoadedPlugin& plugin = **loaded;
  std::vector<std::string> problems;
  if (file.filename() != source::plugin_file_name(plugin.name()))
    problems.push_back("the file is " + file.filename().string() + " but the descriptor names '" +
                       plugin.name() + "': the host finds a plugin by its file name, so name it " +
                       source::plugin_file_name(plugin.name()));
  if (trim_ascii(plugin.version()).empty())
    problems.push_back("the descriptor has no version");
  if (trim_ascii(plugin.description()).empty())
    problems.push_back("the descriptor has no description");
  if (!problems.empty())
    return fail(join(problems, "; "));
  const bd_plugin_descriptor& d = plugin.descriptor();
  return pass(plugin.name() + " " + plugin.version() + ", ABI " + std::to_string(d.abi_major) +
              "." + std::to_string(d.abi_minor));
}

Verdict check_schema(const ConfigSchema& schema) {
  std::vector<std::string> problems;
  std::vector<std::string> seen;
  for (const ConfigKeySpec& key : schema.keys()) {
    const bool well_named =
        !key.key.empty() && std::all_of(key.key.begin(), key.key.end(), [](char c) {
          return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
        });
    if (!well_named)
      problems.push_back("key '" + key.key + "' is not named with [a-z0-9_]");
    if (std::find(seen.begin(), seen.end(), key.key) != seen.end())
      problems.push_back("key '" + key.key + "' is declared twice");
    seen.push_back(key.key);
    if (trim_ascii(key.description).empty())
      problems.push_back("key '" + key.key + "' has no description (`plugins describe` shows it)");
    if (key.required && key.default_value)
      problems.push_back("key '" + key.key + "' is required and has a default: one or the other");
  }
  if (!problems.empty())
    return fail(join(problems, "; "));
  return pass(std::to_string(schema.keys().size()) + " key(s)");
}

Verdict check_config_errors(const Subject& subject, const fs::path& nowhere) {
  const bd_plugin_descriptor* descriptor = &subject.plugin->descriptor();
  std::vector<std::string> problems;
  std::vector<std::string> seen;

  const std::string unknown = "billdrop_conformance_unknown_key";
  ConfigValues with_unknown = subject.config;
  with_unknown[unknown] = std::string("x");
  testing::PluginHarness unknown_harness(descriptor, with_unknown);
  if (Status status = unknown_harness.create(); status)
    problems.push_back("an unknown key '" + unknown + "' was accepted");
  else if (!contains(status.error().message(), unknown))
    problems.push_back("the error for an unknown key does not name it: " +
                       status.error().message());
  else
    seen.push_back("unknown key");

  for (const ConfigKeySpec& key : subject.plugin->schema().keys()) {
    if (key.required) {
      ConfigValues without = subject.config;
      without.erase(key.key);
      testing::PluginHarness harness(descriptor, without);
      if (Status status = harness.create(); status)
        problems.push_back("the required key '" + key.key + "' was not asked for");
      else if (!contains(status.error().message(), key.key))
        problems.push_back("the error for a missing '" + key.key +
                           "' does not name it: " + status.error().message());
      else
        seen.push_back("missing " + key.key);
    }
    if (key.type == ConfigType::path && subject.config.count(key.key) != 0) {
      // A path that leads nowhere must fail create or check, and say which key or which path.
      ConfigValues elsewhere = subject.config;
      const std::string missing = (nowhere / key.key).string();
      elsewhere[key.key] = missing;
      testing::PluginHarness harness(descriptor, elsewhere);
      Status status = harness.create();
      if (status)
        status = harness.check();
      if (status)
        problems.push_back(key.key + " = \"" + missing +
                           "\" (nothing there) passed create and check");
      else if (!contains(status.error().message(), key.key) &&
               !contains(status.error().message(), missing))
        problems.push_back("the error for " + key.key + " = \"" + missing +
                           "\" names neither the key nor the path: " + status.error().message());
      else
        seen.push_back(key.key + " leading nowhere");
    }
  }
  if (!problems.empty())
    return fail(join(problems, "; "));
  return pass("errors name the key: " + join(seen, ", "));
}

Verdict check_check(const Subject& subject) {
  testing::PluginHarness harness(&subject.plugin->descriptor(), subject.config);
  if (Verdict v = create(harness); v.outcome != CheckOutcome::passed)
    return v;
  if (Status status = harness.check(); !status)
    return fail("check failed: " + status.error().message());
  return pass();
}

// Passes with the months, space-separated, as its message: the read checks need them.
Verdict check_months(const Subject& subject) {
  testing::PluginHarness harness(&subject.plugin->descriptor(), subject.config);
  if (Verdict v = create(harness); v.outcome != CheckOutcome::passed)
    return v;
  Result<std::vector<Month>> months = harness.months();
  if (!months)
    return fail("months failed: " + months.error().message());
  for (std::size_t i = 1; i < months->size(); ++i) {
    if ((*months)[i] == (*months)[i - 1])
      return fail((*months)[i].to_string() + " is listed twice: months must come without "
                                             "duplicates");
    if ((*months)[i] < (*months)[i - 1])
      return fail((*months)[i].to_string() + " comes after " + (*months)[i - 1].to_string() +
                  ": months must come sorted, earliest first");
  }
  std::vector<std::string> texts;
  for (const Month& month : *months)
    texts.push_back(month.to_string());
  return pass(join(texts, " "));
}

Verdict check_read(const Subject& subject, Month month, bool allow_late_rows) {
  testing::PluginHarness harness(&subject.plugin->descriptor(), subject.config);
  if (Verdict v = create(harness); v.outcome != CheckOutcome::passed)
    return v;
  harness.accept_invalid_rows();
  Result<std::vector<testing::CapturedRow>> first = harness.read(month);
  if (!first)
    return fail("read failed: " + first.error().message());
  std::vector<std::string> problems;
  const std::vector<testing::RowProblem> invalid = harness.row_problems();
  for (std::size_t i = 0; i < invalid.size() && i < 5; ++i) {
    const testing::RowProblem& p = invalid[i];
    problems.push_back("row " + std::to_string(p.row) + " (" + p.origin + ") is not valid CBF: " +
                       (p.column.empty() ? std::string() : p.column + ": ") + p.message + " [" +
                       p.rule + "]");
  }
  if (invalid.size() > 5)
    problems.push_back(std::to_string(invalid.size() - 5) + " more invalid row problem(s)");

  std::size_t late = 0;
  std::size_t outside = 0;
  std::string first_outside;
  for (const testing::CapturedRow& row : *first) {
    Result<UtcTime> time = parse_timestamp(trim_ascii(row.get("time/usage_start")));
    if (!time)
      continue; // an invalid row, reported above
    const Month of = Month::of(*time);
    if (of == month)
      continue;
    if (allow_late_rows && of < month) {
      ++late;
      continue;
    }
    if (outside++ == 0)
      first_outside = row.origin + " starts in " + of.to_string();
  }
  if (outside != 0)
    problems.push_back(std::to_string(outside) + " row(s) outside " + month.to_string() + " (" +
                       first_outside + ")" +
                       (allow_late_rows ? "; only earlier months are late corrections"
                                        : "; pass --allow-late-rows if the plugin routes late "
                                          "corrections to earlier months"));

  const RowsSeen once = summarise(*first);
  Result<std::vector<testing::CapturedRow>> second = harness.read(month);
  if (!second)
    problems.push_back("the second read failed: " + second.error().message());
  else if (const RowsSeen twice = summarise(*second); !(twice == once))
    problems.push_back("read twice, the month differs: " + once.describe() + ", then " +
                       twice.describe());
  if (!problems.empty())
    return fail(join(problems, "; "));
  return pass(once.describe() + (late != 0 ? " (" + std::to_string(late) + " late)" : ""));
}

// ABI 1.4: a plugin with read_all must give in one pass exactly the rows of every month's read.
Verdict check_one_pass(const Subject& subject) {
  const bd_plugin_descriptor& descriptor = subject.plugin->descriptor();
  if (descriptor.abi_minor < 4 || descriptor.read_all == nullptr)
    return skip("the plugin has no read_all (ABI 1.4 one pass)");
  testing::PluginHarness harness(&descriptor, subject.config);
  if (Verdict v = create(harness); v.outcome != CheckOutcome::passed)
    return v;
  Result<bool> one_pass = harness.one_pass();
  if (!one_pass)
    return fail("one_pass failed: " + one_pass.error().message());
  harness.accept_invalid_rows();
  Result<testing::PluginHarness::OnePassComparison> compared = harness.compare_one_pass();
  if (!compared)
    return fail(compared.error().message());
  const std::string counts = std::to_string(compared->rows_in_one_pass) + " row(s) in one pass, " +
                             std::to_string(compared->rows_by_month) + " by month";
  if (!compared->equal())
    return fail("read_all's rows are not those of months() + read(month): " + counts + "; " +
                compared->first_difference);
  return pass(counts + ", the same rows (digest " + std::to_string(compared->digest_in_one_pass) +
              ")" + (*one_pass ? "" : "; this instance prefers month by month"));
}

// Every path key of the configuration pointed at an empty file (or folder) under `root`.
ConfigValues emptied(const Subject& subject, const fs::path& root) {
  ConfigValues config = subject.config;
  for (const ConfigKeySpec& key : subject.plugin->schema().keys()) {
    auto it = config.find(key.key);
    if (key.type != ConfigType::path || it == config.end())
      continue;
    const auto* text = std::get_if<std::string>(&it->second);
    if (text == nullptr)
      continue;
    const fs::path original(*text);
    const fs::path folder = root / key.key;
    fs::create_directories(folder);
    std::error_code ec;
    if (fs::is_directory(original, ec)) {
      it->second = folder.string();
    } else {
      const fs::path file = folder / (original.has_filename() ? original.filename() : "empty");
      std::ofstream{file};
      it->second = file.string();
    }
  }
  return config;
}

Verdict check_empty_source(const Subject& subject, const fs::path& root, Month some_month) {
  const ConfigValues config = emptied(subject, root);
  if (config == subject.config)
    return skip("the configuration has no path key to point at an empty source");
  testing::PluginHarness harness(&subject.plugin->descriptor(), config);
  if (Status status = harness.create(); !status)
    return pass("create refused it: " + status.error().message());
  if (Status status = harness.check(); !status)
    return pass("check refused it: " + status.error().message());
  Result<std::vector<Month>> months = harness.months();
  if (!months)
    return pass("months refused it: " + months.error().message());
  if (!months->empty())
    return fail("an empty source lists " + std::to_string(months->size()) + " month(s), from " +
                months->front().to_string());
  Result<std::vector<testing::CapturedRow>> rows = harness.read(some_month);
  if (rows && !rows->empty())
    return fail("an empty source gave " + std::to_string(rows->size()) + " row(s) for " +
                some_month.to_string());
  return pass("no months, no rows");
}

Verdict check_cancellation(const Subject& subject, Month month) {
  testing::PluginHarness harness(&subject.plugin->descriptor(), subject.config);
  if (Verdict v = create(harness); v.outcome != CheckOutcome::passed)
    return v;
  harness.accept_invalid_rows();
  harness.stop_after_batches(1);
  Result<std::vector<testing::CapturedRow>> rows = harness.read(month);
  if (harness.batches() == 0)
    return skip(month.to_string() + " has no rows to stop");
  if (harness.batches_after_stop() != 0)
    return fail("told to stop after its first batch, the plugin wrote " +
                std::to_string(harness.batches_after_stop()) +
                " more: stop when RowSink::end_row() returns an error");
  if (rows)
    return fail("told to stop after its first batch, the read still returned success");
  if (rows.error().kind() != ErrorKind::cancelled)
    return fail(std::string("told to stop, the read ended with a ") +
                to_string(rows.error().kind()) +
                " error instead of cancelled: " + rows.error().message());
  return pass("stopped after batch 1 of " + month.to_string());
}

struct Runner {
  const TestPluginRequest& request;
  TestPluginResult& result;
  std::vector<std::string> printed; // checks that wrote to stdout
  bool last_abnormal = false;       // the last check's child crashed, hung or exited

  CheckOutcome run(std::string name, const std::function<Verdict()>& check, bool isolated = true) {
    const auto start = Clock::now();
    ChildRun run = isolated ? run_in_child(request.timeout, check) : ChildRun{check(), {}};
    PluginCheck entry;
    entry.name = std::move(name);
    entry.outcome = run.verdict.outcome;
    entry.message = std::move(run.verdict.message);
    entry.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    last_abnormal = run.abnormal;
    if (!run.out.empty())
      printed.push_back(entry.name + " wrote " + std::to_string(run.out.size()) +
                        " byte(s): " + source::printable_start(run.out));
    result.checks.push_back(entry);
    return entry.outcome;
  }
  void skip_rest(const std::vector<std::string>& names, const std::string& why) {
    for (const std::string& name : names)
      result.checks.push_back({name, CheckOutcome::skipped, why, 0});
  }
};

} // namespace

std::size_t TestPluginResult::count(CheckOutcome outcome) const {
  return static_cast<std::size_t>(std::count_if(
      checks.begin(), checks.end(), [&](const PluginCheck& c) { return c.outcome == outcome; }));
}

TestPluginResult test_plugin(const TestPluginRequest& request) {
  Result<config::PluginConfigInput> input = config::load_plugin_config(request.plugin_config);
  if (!input)
    throw JobError(FailureKind::config, input.error().message());

  TestPluginResult result;
  result.file = request.plugin_file;
  Runner runner{request, result, {}};
  const fs::path file = request.plugin_file;
  const std::vector<std::string> later = {"config_schema", "config_errors", "check",
                                          "months",        "read",          "empty_source",
                                          "cancellation",  "no_stdout"};
  // The plugin's code first runs in a child: a plugin that crashes or hangs while it loads fails
  // here, and is never loaded into this process.
  const CheckOutcome described = runner.run("descriptor", [&] { return check_descriptor(file); });
  if (described != CheckOutcome::passed && runner.last_abnormal) {
    runner.skip_rest(later, "the plugin did not load");
    return result;
  }
  Result<std::shared_ptr<source::LoadedPlugin>> loaded = source::load_plugin(file);
  if (!loaded) {
    runner.skip_rest(later, "the plugin did not load");
    return result;
  }
  Subject subject{*loaded, config::resolve_paths(input->values, (*loaded)->schema(),
                                                 request.plugin_config.parent_path())};
  result.plugin = subject.plugin->name();

  const fs::path scratch =
      fs::temp_directory_path() / ("billdrop-test-plugin-" + std::to_string(::getpid()));
  fs::remove_all(scratch);
  fs::create_directories(scratch);

  runner.run(
      "config_schema", [&] { return check_schema(subject.plugin->schema()); }, false);
  runner.run("config_errors", [&] { return check_config_errors(subject, scratch / "nowhere"); });
  if (runner.run("check", [&] { return check_check(subject); }) != CheckOutcome::passed) {
    runner.skip_rest({"months", "read", "empty_source", "cancellation"},
                     "check did not pass with the given configuration");
  } else {
    std::vector<Month> months;
    const CheckOutcome listed = runner.run("months", [&] { return check_months(subject); });
    if (listed == CheckOutcome::passed) {
      std::istringstream words(result.checks.back().message);
      for (std::string word; words >> word;)
        months.push_back(Month::parse(word).value_or_throw());
      result.checks.back().message =
          months.empty() ? "no months"
                         : std::to_string(months.size()) + " month(s), " +
                               months.front().to_string() + " to " + months.back().to_string();
    }
    if (!request.months.empty())
      months = request.months;
    if (months.empty()) {
      runner.skip_rest({"read"}, "no months to read");
    }
    for (const Month& month : months)
      runner.run("read " + month.to_string(),
                 [&] { return check_read(subject, month, request.allow_late_rows); });
    // Only a plugin with read_all (ABI 1.4) has this check: the others' reports are unchanged.
    const bd_plugin_descriptor& descriptor = subject.plugin->descriptor();
    if (descriptor.abi_minor >= 4 && descriptor.read_all != nullptr)
      runner.run("one_pass", [&] { return check_one_pass(subject); });
    const Month some_month = months.empty() ? Month(2026, 1) : months.front();
    runner.run("empty_source",
               [&] { return check_empty_source(subject, scratch / "empty", some_month); });
    if (months.empty())
      runner.skip_rest({"cancellation"}, "no months to read");
    else
      runner.run("cancellation", [&] { return check_cancellation(subject, months.front()); });
  }
  std::error_code ec;
  fs::remove_all(scratch, ec);

  const std::vector<std::string> printed = runner.printed;
  runner.run(
      "no_stdout",
      [&] {
        return printed.empty() ? pass()
                               : fail("the plugin printed to stdout, which belongs to the host "
                                      "(log through RowSink::log instead): " +
                                      join(printed, "; "));
      },
      false);
  return result;
}

} // namespace billdrop::jobs
