// [connections.<name>.remote]: how a remote `path` is reached; and remote paths kept as written
// where file paths are resolved against the config's folder.
#include "config/host_config.hpp"

#include <gtest/gtest.h>

namespace billdrop {
namespace {

Result<config::HostConfig> parse(std::string_view toml) {
  return config::parse_host_config(toml, "billdrop.toml", "/base");
}

TEST(RemoteConfig, ReadsEveryKeyWithFilesUnderTheConfigFolder) {
  Result<config::HostConfig> config =
      parse("[connections.c]\nplugin = \"custom\"\n[connections.c.remote]\n"
            "s3_endpoint = \"http://127.0.0.1:9000\"\ns3_region = \"eu-west-1\"\n"
            "aws_profile = \"billing\"\naws_shared_credentials_file = \"creds\"\n"
            "azure_key_env = \"MY_KEY\"\ngcs_credentials_file = \"/etc/key.json\"\n"
            "cache_max_bytes = 1000\nlist_page_size = 2\nread_while_downloading = false\n");
  ASSERT_TRUE(config) << config.error().message();
  const remote::RemoteSettings& r = config->connections.at(0).remote;
  EXPECT_EQ(r.s3_endpoint, "http://127.0.0.1:9000");
  EXPECT_EQ(r.s3_region, "eu-west-1");
  EXPECT_EQ(r.aws_profile, "billing");
  EXPECT_EQ(r.aws_shared_credentials_file, std::filesystem::path("/base/creds"));
  EXPECT_EQ(r.azure_key_env, "MY_KEY");
  EXPECT_EQ(r.gcs_credentials_file, std::filesystem::path("/etc/key.json"));
  EXPECT_EQ(r.cache_max_bytes, 1000u);
  EXPECT_EQ(r.list_page_size, 2u);
  EXPECT_FALSE(r.read_while_downloading);
  // Unset: a plugin that reads growing files reads while the objects download.
  Result<config::HostConfig> plain = parse("[connections.c]\nplugin = \"custom\"\n");
  ASSERT_TRUE(plain) << plain.error().message();
  EXPECT_TRUE(plain->connections.at(0).remote.read_while_downloading);
}

TEST(RemoteConfig, AnUnknownKeyOrASecretIsAnErrorNamingItsLine) {
  Result<config::HostConfig> unknown =
      parse("[connections.c]\nplugin = \"custom\"\n[connections.c.remote]\ns3_endpiont = \"x\"\n");
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message().find(
                "billdrop.toml:4: unknown key 'connections.c.remote.s3_endpiont'"),
            std::string::npos)
      << unknown.error().message();
  Result<config::HostConfig> secret =
      parse("[connections.c]\nplugin = \"custom\"\n[connections.c.remote]\naws_secret_access_key = "
            "\"abc\"\n");
  ASSERT_FALSE(secret);
  EXPECT_NE(secret.error().message().find("credentials never go in the config file"),
            std::string::npos)
      << secret.error().message();
  EXPECT_EQ(secret.error().message().find("abc"), std::string::npos);
  Result<config::HostConfig> zero =
      parse("[connections.c]\nplugin = \"custom\"\n[connections.c.remote]\ncache_max_bytes = 0\n");
  ASSERT_FALSE(zero);
  Result<config::HostConfig> not_a_flag = parse(
      "[connections.c]\nplugin = \"custom\"\n[connections.c.remote]\nread_while_downloading = 1\n");
  ASSERT_FALSE(not_a_flag);
  EXPECT_NE(
      not_a_flag.error().message().find(
          "billdrop.toml:4: connections.c.remote.read_while_downloading must be true or false"),
      std::string::npos)
      << not_a_flag.error().message();
}

TEST(RemoteConfig, RemotePathsAreKeptAsWritten) {
  ConfigSchema schema({{.key = "path", .type = ConfigType::path, .description = "input"},
                       {.key = "other", .type = ConfigType::path, .description = "input"}});
  const ConfigValues resolved = config::resolve_paths(
      {{"path", std::string("s3://bucket/cur/report")}, {"other", std::string("data.csv")}}, schema,
      "/base");
  EXPECT_EQ(std::get<std::string>(resolved.at("path")), "s3://bucket/cur/report");
  EXPECT_EQ(std::get<std::string>(resolved.at("other")), "/base/data.csv");
}

} // namespace
} // namespace billdrop
