#pragma once
// The conformance kit's result (jobs::test_plugin) as text for a terminal, JSON, and JUnit XML
// for CI systems (one <testsuite> named for the plugin, one <testcase> per check).

#include "jobs/test_plugin.hpp"

#include <string>

namespace billdrop::report {

std::string test_plugin_text(const jobs::TestPluginResult& result);
std::string test_plugin_json(const jobs::TestPluginResult& result);
std::string test_plugin_junit(const jobs::TestPluginResult& result);

} // namespace billdrop::report
