#include "core/log.hpp"

#include "core/json_text.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace billdrop::log {
namespace {

Level g_level = Level::warn;
Format g_format = Format::text;
std::mutex g_mutex;

const char* level_name(Level level) {
  switch (level) {
  case Level::debug:
    return "debug";
  case Level::info:
    return "info";
  case Level::warn:
    return "warn";
  case Level::error:
    return "error";
  case Level::off:
    return "off";
  }
  return "info";
}

std::string timestamp_now() {
  using namespace std::chrono;
  const auto now = system_clock::now();
  const std::time_t seconds = system_clock::to_time_t(now);
  const auto millis = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[64]; // room for any int the compiler cannot rule out (-Wformat-truncation)
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<int>(millis));
  return buffer;
}

void append_logfmt_value(std::string& out, std::string_view value) {
  const bool plain =
      !value.empty() && value.find_first_of(" \"=\t\n\r\\") == std::string_view::npos;
  if (plain)
    out.append(value);
  else
    core::append_json_string(out, value);
}

} // namespace

void configure(Level level, Format format) {
  std::lock_guard lock(g_mutex);
  g_level = level;
  g_format = format;
}

Level level() noexcept {
  return g_level;
}

bool parse_level(std::string_view text, Level& out) noexcept {
  for (Level candidate : {Level::debug, Level::info, Level::warn, Level::error, Level::off}) {
    if (text == level_name(candidate)) {
      out = candidate;
      return true;
    }
  }
  return false;
}

void write(Level level, std::string_view event, std::initializer_list<Field> fields) {
  if (level < g_level || g_level == Level::off)
    return;
  std::string line;
  line.reserve(128);
  if (g_format == Format::json) {
    line +=
        "{\"ts\":\"" + timestamp_now() + "\",\"level\":\"" + level_name(level) + "\",\"event\":";
    core::append_json_string(line, event);
    for (const Field& field : fields) {
      line += ',';
      core::append_json_string(line, field.key);
      line += ':';
      if (field.literal)
        line.append(field.value);
      else
        core::append_json_string(line, field.value);
    }
    line += "}\n";
  } else {
    line += "ts=" + timestamp_now() + " level=" + level_name(level) + " event=";
    append_logfmt_value(line, event);
    for (const Field& field : fields) {
      line += ' ';
      line.append(field.key);
      line += '=';
      append_logfmt_value(line, field.value);
    }
    line += '\n';
  }
  std::lock_guard lock(g_mutex);
  std::fwrite(line.data(), 1, line.size(), stderr);
}

} // namespace billdrop::log
