// A connection's isolation keys (isolation, read_timeout_seconds, memory_limit_mb): defaults,
// values read from TOML, and each mistake reported with the file, line and key.
#include "config/host_config.hpp"

#include <gtest/gtest.h>

namespace billdrop {
namespace {
using namespace billdrop::config;

Result<HostConfig> parse(std::string_view toml) {
  return parse_host_config(toml, "billdrop.toml", "/base");
}

TEST(IsolationConfig, DefaultsLeaveTheChoiceToTheCommand) {
  Result<HostConfig> config = parse("[connections.a]\nplugin = \"custom\"\n");
  ASSERT_TRUE(config) << config.error().message();
  const IsolationConfig& isolation = config->connections.at(0).isolation;
  EXPECT_EQ(isolation.mode, IsolationMode::unset);
  EXPECT_EQ(isolation.read_timeout_seconds, 3600);
  EXPECT_EQ(isolation.memory_limit_mb, 0);
}

TEST(IsolationConfig, ReadsEachKey) {
  Result<HostConfig> config =
      parse("[connections.a]\nplugin = \"custom\"\nisolation = \"process\"\n"
            "read_timeout_seconds = 90\nmemory_limit_mb = 512\n"
            "[connections.b]\nplugin = \"custom\"\nisolation = \"in-process\"\n"
            "read_timeout_seconds = 0\n");
  ASSERT_TRUE(config) << config.error().message();
  const IsolationConfig& a = config->connections.at(0).isolation;
  EXPECT_EQ(a.mode, IsolationMode::process);
  EXPECT_EQ(a.read_timeout_seconds, 90);
  EXPECT_EQ(a.memory_limit_mb, 512);
  const IsolationConfig& b = config->connections.at(1).isolation;
  EXPECT_EQ(b.mode, IsolationMode::in_process);
  EXPECT_EQ(b.read_timeout_seconds, 0);
}

TEST(IsolationConfig, MistakesNameTheFileLineAndKey) {
  const std::pair<const char*, const char*> cases[] = {
      {"isolation = \"container\"",
       "billdrop.toml:3: connections.a.isolation must be \"process\" or \"in-process\", not "
       "'container'"},
      {"isolation = true", "billdrop.toml:3: connections.a.isolation must be a string"},
      {"read_timeout_seconds = -1",
       "billdrop.toml:3: connections.a.read_timeout_seconds must be a whole number, 0 or more "
       "(0: no limit)"},
      {"memory_limit_mb = \"1G\"",
       "billdrop.toml:3: connections.a.memory_limit_mb must be a whole number, 0 or more (0: no "
       "limit)"},
  };
  for (const auto& [line, message] : cases) {
    Result<HostConfig> config =
        parse(std::string("[connections.a]\nplugin = \"custom\"\n") + line + "\n");
    ASSERT_FALSE(config) << line;
    EXPECT_EQ(config.error().message(), message);
  }
}

} // namespace
} // namespace billdrop
