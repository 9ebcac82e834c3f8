#include "report/test_plugin_report.hpp"

#include "core/json_writer.hpp"

#include <cstdio>

namespace billdrop::report {
namespace {

const char* outcome_name(jobs::CheckOutcome outcome) {
  switch (outcome) {
  case jobs::CheckOutcome::passed:
    return "passed";
  case jobs::CheckOutcome::failed:
    return "failed";
  case jobs::CheckOutcome::skipped:
    return "skipped";
  }
  return "failed";
}

std::string seconds_text(double seconds) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3f", seconds);
  return text;
}

// Text for an XML attribute or element: the five entities, and control characters other than
// tab and newline (which XML 1.0 cannot hold) written as '?'.
std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
    case '&':
      out += "&amp;";
      break;
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '"':
      out += "&quot;";
      break;
    case '\'':
      out += "&apos;";
      break;
    default:
      out += static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' ? '?' : c;
    }
  }
  return out;
}

std::string suite_name(const jobs::TestPluginResult& result) {
  return "billdrop test-plugin " +
         (result.plugin.empty() ? result.file.filename().string() : result.plugin);
}

} // namespace

std::string test_plugin_text(const jobs::TestPluginResult& result) {
  std::string out = suite_name(result) + " (" + result.file.string() + ")\n";
  for (const jobs::PluginCheck& check : result.checks) {
    const char* mark = check.outcome == jobs::CheckOutcome::passed   ? "ok  "
                       : check.outcome == jobs::CheckOutcome::failed ? "FAIL"
                                                                     : "skip";
    out += std::string("  ") + mark + "  " + check.name;
    if (!check.message.empty())
      out += ": " + check.message;
    out += '\n';
  }
  out += std::to_string(result.count(jobs::CheckOutcome::passed)) + " passed, " +
         std::to_string(result.count(jobs::CheckOutcome::failed)) + " failed, " +
         std::to_string(result.count(jobs::CheckOutcome::skipped)) + " skipped\n";
  return out;
}

std::string test_plugin_json(const jobs::TestPluginResult& result) {
  core::JsonWriter out;
  out.begin_object()
      .key("plugin")
      .value(result.plugin)
      .key("file")
      .value(result.file.string())
      .key("passed")
      .value(result.passed())
      .key("checks")
      .begin_array();
  for (const jobs::PluginCheck& check : result.checks)
    out.begin_object()
        .key("name")
        .value(check.name)
        .key("outcome")
        .value(outcome_name(check.outcome))
        .key("message")
        .value(check.message)
        .key("seconds")
        .number_text(seconds_text(check.seconds))
        .end_object();
  out.end_array().end_object();
  return out.str();
}

std::string test_plugin_junit(const jobs::TestPluginResult& result) {
  double total = 0;
  for (const jobs::PluginCheck& check : result.checks)
    total += check.seconds;
  const std::string suite = xml_escape(suite_name(result));
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  const std::string counts = " tests=\"" + std::to_string(result.checks.size()) + "\" failures=\"" +
                             std::to_string(result.count(jobs::CheckOutcome::failed)) +
                             "\" errors=\"0\" skipped=\"" +
                             std::to_string(result.count(jobs::CheckOutcome::skipped)) +
                             "\" time=\"" + seconds_text(total) + "\"";
  out += "<testsuites name=\"" + suite + "\"" + counts + ">\n";
  out += "  <testsuite name=\"" + suite + "\"" + counts + ">\n";
  for (const jobs::PluginCheck& check : result.checks) {
    out += "    <testcase classname=\"" + suite + "\" name=\"" + xml_escape(check.name) +
           "\" time=\"" + seconds_text(check.seconds) + "\"";
    if (check.outcome == jobs::CheckOutcome::passed) {
      out += "/>\n";
      continue;
    }
    out += ">\n";
    if (check.outcome == jobs::CheckOutcome::failed)
      out += "      <failure message=\"" + xml_escape(check.message) + "\">" +
             xml_escape(check.message) + "</failure>\n";
    else
      out += "      <skipped message=\"" + xml_escape(check.message) + "\"/>\n";
    out += "    </testcase>\n";
  }
  out += "  </testsuite>\n</testsuites>\n";
  return out;
}

} // namespace billdrop::report
