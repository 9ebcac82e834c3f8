// The [store] table: SQLite by default; PostgreSQL with the connection string's place (an
// environment variable or a file, never the string itself), the lease TTL; every mistake named
// with file, line and key. And jobs::store_options reading the string from where it says.
#include "config/host_config.hpp"
#include "jobs/store_options.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <unistd.h>

namespace billdrop {
namespace {

Result<config::HostConfig> parse(std::string_view toml) {
  return config::parse_host_config(toml, "billdrop.toml", "/base");
}

std::string error_of(std::string_view toml) {
  Result<config::HostConfig> config = parse(toml);
  EXPECT_FALSE(config.ok());
  return config.ok() ? std::string() : config.error().message();
}

TEST(StoreConfig, DefaultsToSqliteWithASixtySecondLease) {
  Result<config::HostConfig> config = parse("");
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_EQ(config->store.kind, config::StoreKind::sqlite);
  EXPECT_EQ(config->store.lease_ttl_seconds, 60);
  Result<store::StoreOptions> options = jobs::store_options(*config, true);
  ASSERT_TRUE(options.ok());
  EXPECT_EQ(options->kind, store::StoreOptions::Kind::sqlite);
}

TEST(StoreConfig, ReadsPostgresWithAUrlFileRelativeToTheConfig) {
  Result<config::HostConfig> config =
      parse("[store]\nkind = \"postgres\"\nurl_file = \"secrets/pg.url\"\nlease_ttl_seconds = 3\n");
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_EQ(config->store.kind, config::StoreKind::postgres);
  EXPECT_EQ(config->store.url_file, std::filesystem::path("/base/secrets/pg.url"));
  EXPECT_EQ(config->store.lease_ttl_seconds, 3);
}

TEST(StoreConfig, MistakesNameFileLineAndKey) {
  EXPECT_EQ(error_of("[store]\nkind = \"mysql\"\n"),
            "billdrop.toml:2: store.kind is \"mysql\"; it must be \"sqlite\" or \"postgres\"");
  EXPECT_EQ(error_of("[store]\nkind = \"postgres\"\n"),
            "billdrop.toml:1: store.kind = \"postgres\" needs url_env or url_file (where the "
            "libpq connection string is)");
  EXPECT_EQ(error_of("[store]\n\nlease_ttl_seconds = 0\n"),
            "billdrop.toml:3: store.lease_ttl_seconds must be a positive integer");
  EXPECT_EQ(error_of("[store]\nttl = 5\n"),
            "billdrop.toml:2: unknown key 'store.ttl' (known keys: kind, url_env, url_file, "
            "lease_ttl_seconds)");
  const std::string secret = error_of("[store]\nurl = \"postgresql://u:hunter2@db/x\"\n");
  EXPECT_NE(secret.find("never goes in the config"), std::string::npos) << secret;
  EXPECT_EQ(secret.find("hunter2"), std::string::npos) << secret;
  EXPECT_NE(error_of("[store]\nkind = \"postgres\"\nurl_env = \"A\"\nurl_file = \"b\"\n")
                .find("not both"),
            std::string::npos);
}

TEST(StoreConfig, TheConnectionStringIsReadFromTheEnvironmentOrTheFile) {
  Result<config::HostConfig> config =
      parse("[store]\nkind = \"postgres\"\nurl_env = \"BILLDROP_TEST_STORE_URL\"\n");
  ASSERT_TRUE(config.ok());
  ::unsetenv("BILLDROP_TEST_STORE_URL");
  Result<store::StoreOptions> unset = jobs::store_options(*config, true);
  ASSERT_FALSE(unset.ok());
  EXPECT_EQ(unset.error().message(),
            "store.url_env names BILLDROP_TEST_STORE_URL, which is not set");
  ::setenv("BILLDROP_TEST_STORE_URL", "host=/tmp dbname=x\n", 1);
  Result<store::StoreOptions> set = jobs::store_options(*config, true);
  ASSERT_TRUE(set.ok());
  EXPECT_EQ(set->kind, store::StoreOptions::Kind::postgres);
  EXPECT_EQ(set->url, "host=/tmp dbname=x");
  EXPECT_TRUE(set->leased);
  EXPECT_EQ(set->lease_ttl, std::chrono::seconds(60));
  ::unsetenv("BILLDROP_TEST_STORE_URL");

  const std::filesystem::path file =
      std::filesystem::temp_directory_path() / ("billdrop_store_url_" + std::to_string(::getpid()));
  config->store.url_env.clear();
  config->store.url_file = file;
  EXPECT_NE(jobs::store_options(*config, false).error().message().find(file.string()),
            std::string::npos);
  std::ofstream(file) << "host=/run/pg dbname=billdrop\n";
  Result<store::StoreOptions> from_file = jobs::store_options(*config, false);
  ASSERT_TRUE(from_file.ok());
  EXPECT_EQ(from_file->url, "host=/run/pg dbname=billdrop");
  std::filesystem::remove(file);
}

} // namespace
} // namespace billdrop
