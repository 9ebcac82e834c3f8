// The host context handed to create (ABI 1.4, issue 15): a plugin logs from its constructor,
// check() and months() through SourcePlugin::log(), and the lines reach the host's log, in
// process and from a plugin runner (tests/host/broken_plugins/host_log_plugin.cpp); a plugin of
// ABI 1.3 has no create_with_host and is created as before.
#include "source/process_session.hpp"

#include <gtest/gtest.h>
#include <support/broken_plugins.hpp>

#include <stdexcept>
#include <string>
#include <vector>

namespace billdrop {
namespace {

namespace fs = std::filesystem;

std::shared_ptr<source::LoadedPlugin> load_or_fail(std::string_view name) {
  return test::load_broken_plugin(name);
}

struct Captured {
  std::vector<std::string> lines;
  source::PluginLog sink() {
    return [this](bd_log_level level, std::string_view message) {
      lines.push_back(std::to_string(static_cast<int>(level)) + " " + std::string(message));
    };
  }
};

const std::vector<std::string> kExpected = {"0 created for acme", "1 checking acme",
                                            "2 listing the months of acme by hand"};

TEST(HostContext, APluginLogsFromItsConstructorCheckAndMonthsInProcess) {
  Captured captured;
  auto instance = source::PluginInstance::create_from_json(
      load_or_fail("host_log"), R"({"account":"acme"})", captured.sink());
  ASSERT_TRUE(instance) << instance.error().message();
  ASSERT_TRUE((*instance)->check());
  ASSERT_TRUE((*instance)->months());
  EXPECT_EQ(captured.lines, kExpected);
}

TEST(HostContext, TheRunnerForwardsThePluginsLogLines) {
  Captured captured;
  source::ProcessOptions options;
  options.runner = BILLDROP_TEST_BILLDROP_EXE;
  options.connection = "acme-aws";
  options.log = captured.sink();
  auto session = source::ProcessSession::create(
      load_or_fail("host_log"), {{"account", std::string("acme")}}, std::move(options));
  ASSERT_TRUE(session) << session.error().message();
  ASSERT_TRUE((*session)->check());
  ASSERT_TRUE((*session)->months());
  EXPECT_EQ(captured.lines, kExpected);
}

TEST(HostContext, APluginOfAbi13IsCreatedWithoutIt) {
  const std::shared_ptr<source::LoadedPlugin> plugin = load_or_fail("abi_1_3");
  EXPECT_EQ(plugin->descriptor().abi_minor, 3);
  Captured captured;
  auto instance = source::PluginInstance::create_from_json(plugin, "{}", captured.sink());
  ASSERT_TRUE(instance) << instance.error().message();
  ASSERT_TRUE((*instance)->check());
  EXPECT_TRUE(captured.lines.empty());
}

} // namespace
} // namespace billdrop
