#pragma once
// Structured logs on stderr: one line per event, logfmt by default (`ts=… level=info
// event=convert.month month=2026-08 rows=5120`) or JSON lines with --log-format json. Values of
// keys a plugin declares secret are never passed here; log_redacted() exists for the rest.

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace billdrop::log {

enum class Level { debug, info, warn, error, off };
enum class Format { text, json };

// A field's value as text; numbers and booleans are marked so that JSON lines carry them as
// JSON numbers and booleans ({"rows":5120,"ok":true}), not strings.
struct Field {
  std::string_view key;
  std::string value;
  bool literal = false; // a number or boolean: written without quotes in JSON
  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const char* v) : key(k), value(v) {}
  Field(std::string_view k, const std::string& v) : key(k), value(v) {}
  Field(std::string_view k, bool v) : key(k), value(v ? "true" : "false"), literal(true) {}
  template <class Int,
            class = std::enable_if_t<std::is_integral_v<Int> && !std::is_same_v<Int, bool>>>
  Field(std::string_view k, Int v) : key(k), value(std::to_string(v)), literal(true) {}
};

void configure(Level level, Format format);
Level level() noexcept;
bool parse_level(std::string_view text, Level& out) noexcept;

void write(Level level, std::string_view event, std::initializer_list<Field> fields = {});
inline void debug(std::string_view event, std::initializer_list<Field> fields = {}) {
  write(Level::debug, event, fields);
}
inline void info(std::string_view event, std::initializer_list<Field> fields = {}) {
  write(Level::info, event, fields);
}
inline void warn(std::string_view event, std::initializer_list<Field> fields = {}) {
  write(Level::warn, event, fields);
}
inline void error(std::string_view event, std::initializer_list<Field> fields = {}) {
  write(Level::error, event, fields);
}

} // namespace billdrop::log
