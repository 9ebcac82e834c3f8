#pragma once
// Test support for end-to-end tests that run the real host executable: a fresh per-test temp
// folder, and `billdrop convert` with its JSON summary parsed. Used by the plugins' e2e tests so
// that each one says only what it checks. Header-only; test binaries only.
//
//   ConvertFolderTest (a fixture): dir_ is tests' own folder, removed when the test passes.
//   ConvertRun run = run_convert("gcp", "path = \"x.ndjson\"\n", dir_);
//   run.months.at("2024-08").cost, run.months.at("2024-09").error, run.err (row problems)

#include "support/temp_folder.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <string_view>

#include <sys/wait.h>
#include <unistd.h>

namespace billdrop::test {

inline std::string read_text(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

inline void write_text(const std::filesystem::path& file, std::string_view bytes) {
  std::filesystem::create_directories(file.parent_path());
  std::ofstream(file, std::ios::binary) << bytes;
}

// Single quotes for /bin/sh.
inline std::string shell_quote(std::string_view arg) {
  std::string quoted = "'";
  for (const char c : arg)
    quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

// A TOML basic string.
inline std::string toml_string(std::string_view text) {
  std::string out = "\"";
  for (const char c : text)
    out += c == '"' || c == '\\' ? std::string("\\") + c : std::string(1, c);
  return out + "\"";
}

struct ConvertedMonth {
  std::uint64_t rows = 0;
  std::uint64_t invalid_rows = 0;
  std::uint64_t unplaced_records = 0; // records of no month met while reading this one
  std::string cost;
  std::string error; // empty unless reading the month failed
};

struct ConvertRun {
  int exit_code = -1;
  std::string out; // the JSON summary
  std::string err; // logs and row problems
  std::map<std::string, ConvertedMonth> months;
  std::map<std::string, std::uint64_t> notes;
};

// Runs `billdrop convert --plugin <plugin>` with `plugin_toml` as the plugin's configuration,
// snapshots into <dir>/out, and parses the summary. A summary that is not JSON leaves months
// empty (the test's own assertions then show out and err).
// `global_args` go before the command (e.g. "--log-level info", whose log lines land in err),
// `command_args` after it (e.g. "--isolation process").
inline ConvertRun run_convert(const std::string& plugin, const std::string& plugin_toml,
                              const std::filesystem::path& dir, const std::string& global_args = "",
                              const std::string& command_args = "") {
  const std::filesystem::path config = dir / (plugin + ".toml");
  write_text(config, plugin_toml);
  const std::string command =
      shell_quote(BILLDROP_TEST_BILLDROP_EXE) + " --no-progress --plugin-dir " +
      shell_quote(BILLDROP_TEST_PLUGIN_DIR) + " " + global_args + " convert --plugin " +
      shell_quote(plugin) + " --plugin-config " + shell_quote(config.string()) + " --out " +
      shell_quote((dir / "out").string()) + " --format json " + command_args + " >" +
      shell_quote((dir / "stdout.txt").string()) + " 2>" +
      shell_quote((dir / "stderr.txt").string()) + " </dev/null";
  ConvertRun run;
  const int status = std::system(command.c_str());
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  run.out = read_text(dir / "stdout.txt");
  run.err = read_text(dir / "stderr.txt");

  simdjson::dom::parser parser;
  simdjson::dom::element document;
  if (parser.parse(run.out).get(document) != simdjson::SUCCESS)
    return run;
  // {"connections":[{…}]}: one connection here (--plugin).
  simdjson::dom::element root;
  if (document["connections"].at(0).get(root) != simdjson::SUCCESS)
    return run;
  simdjson::dom::array months;
  if (root["months"].get_array().get(months) == simdjson::SUCCESS) {
    for (simdjson::dom::element month : months) {
      ConvertedMonth m;
      std::string_view name, text;
      if (month["month"].get_string().get(name) != simdjson::SUCCESS ||
          month["rows"].get_uint64().get(m.rows) != simdjson::SUCCESS ||
          month["invalid_rows"].get_uint64().get(m.invalid_rows) != simdjson::SUCCESS ||
          month["cost"].get_string().get(text) != simdjson::SUCCESS)
        continue;
      m.cost = std::string(text);
      if (month["unplaced_records"].get_uint64().get(m.unplaced_records) != simdjson::SUCCESS)
        m.unplaced_records = 0; // a billdrop that does not count them
      if (month["error"].get_string().get(text) == simdjson::SUCCESS)
        m.error = std::string(text);
      run.months[std::string(name)] = std::move(m);
    }
  }
  simdjson::dom::object notes;
  if (root["notes"].get_object().get(notes) == simdjson::SUCCESS)
    for (auto [key, value] : notes) {
      std::uint64_t count = 0;
      if (value.get_uint64().get(count) == simdjson::SUCCESS)
        run.notes[std::string(key)] = count;
    }
  return run;
}

} // namespace billdrop::test
