// `billdrop store migrate` against a real PostgreSQL (the tests' cluster, a fresh database per
// test): a fresh database is brought to the current schema version, a second run changes nothing,
// a database at a newer version is refused with a message that says so, and the connection string
// (its password) appears in no output or log line, errors included. The cluster trusts local
// connections, so the password in the strings is never checked: it is there to be looked for.
#include "billing/postgres/postgres_billing_store.hpp"
#include "store/postgres/postgres_store.hpp"

#include "support/cli_run.hpp"
#include "support/postgres_cluster.hpp"
#include "support/temp_folder.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

namespace billdrop {
namespace {

using test::PostgresCluster;

constexpr const char* kPassword = "pw-S3cret-4711";

class StoreMigrateTest : public test::TempFolderTest {
protected:
  void SetUp() override {
    TempFolderTest::SetUp();
    url_ = PostgresCluster::shared().create_database();
  }

  // A config whose store's connection string is read from `url_file` (relative to the config).
  std::string config(const std::string& store_lines) {
    const std::filesystem::path file = dir_ / "billdrop.toml";
    std::ofstream(file) << "state_dir = \"state\"\n[store]\nkind = \"postgres\"\n" << store_lines;
    return file.string();
  }

  test::CliRun migrate(const std::string& config_file, bool json = false) {
    std::vector<std::string> args = {"store", "migrate", "--config", config_file};
    if (json)
      args.push_back("--json");
    test::CliRun run = test::run_billdrop(args, dir_);
    outputs_ += run.out + run.err;
    return run;
  }

  std::string sql(const std::string& statement) { return PostgresCluster::query(url_, statement); }

  // Every output so far is free of the password.
  void expect_no_password() {
    EXPECT_EQ(outputs_.find(kPassword), std::string::npos) << outputs_;
    EXPECT_EQ(outputs_.find("pw-S3cret"), std::string::npos) << outputs_;
  }

  std::string url_;
  std::string outputs_;
};

TEST_F(StoreMigrateTest, AFreshDatabaseIsMigratedOnceAndANewerOneIsRefused) {
  std::ofstream(dir_ / "pg.url") << url_ << " password=" << kPassword << "\n";
  const std::string file = config("url_file = \"pg.url\"\n");

  // Fresh: from version 0 to the current one; every table there.
  test::CliRun fresh = migrate(file);
  ASSERT_EQ(fresh.exit_code, 0) << fresh.err;
  const std::string billing = std::to_string(billing::kPostgresBillingSchemaVersion);
  EXPECT_EQ(fresh.out, "migrated the postgres store from schema version 0 to " +
                           std::to_string(store::PostgresStore::kSchemaVersion) +
                           "\nmigrated the billing tables from schema version 0 to " + billing +
                           "\n");
  EXPECT_EQ(sql("SELECT version FROM billdrop_schema"),
            std::to_string(store::PostgresStore::kSchemaVersion));
  EXPECT_EQ(sql("SELECT COUNT(*) FROM billdrop_schema"), "1");
  for (const char* table : {"leases", "hosts", "sync_jobs", "month_sync", "run_requests",
                            "billing_items", "billdrop_billing_schema"})
    EXPECT_EQ(sql(std::string("SELECT to_regclass('") + table + "') IS NOT NULL"), "t") << table;
  // A migration is not a host: no host row, no lease.
  EXPECT_EQ(sql("SELECT COUNT(*) FROM hosts"), "0");

  // Already migrated: nothing to do, said so; the same in JSON.
  test::CliRun again = migrate(file);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out, "the postgres store is at schema version " +
                           std::to_string(store::PostgresStore::kSchemaVersion) +
                           " already\nthe billing tables are at schema version " + billing +
                           " already\n");
  test::CliRun json = migrate(file, true);
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const std::string version = std::to_string(store::PostgresStore::kSchemaVersion);
  EXPECT_EQ(json.out, "{\"store\":\"postgres\",\"fromVersion\":" + version +
                          ",\"toVersion\":" + version + ",\"billing\":{\"fromVersion\":" + billing +
                          ",\"toVersion\":" + billing + "}}\n");
  EXPECT_EQ(sql("SELECT COUNT(*) FROM billdrop_schema"), "1");

  // Written by a newer billdrop: refused as a config error, the database left as it is.
  sql("UPDATE billdrop_schema SET version = 99");
  test::CliRun newer = migrate(file);
  EXPECT_EQ(newer.exit_code, 3) << newer.out << newer.err;
  EXPECT_EQ(newer.out, "");
  EXPECT_NE(newer.err.find("schema version 99, written by a newer billdrop; this one reads up to "
                           "version " +
                           version + ": upgrade billdrop"),
            std::string::npos)
      << newer.err;
  EXPECT_EQ(sql("SELECT version FROM billdrop_schema"), "99");
  expect_no_password();
}

TEST_F(StoreMigrateTest, TheConnectionStringIsInNoOutputEvenInErrors) {
  // From an environment variable, in URI form with user:password (the server is reached through
  // the socket folder given as the host parameter).
  const std::string database = url_.substr(url_.rfind("dbname=") + 7);
  const std::string uri = "postgresql://billdrop:" + std::string(kPassword) + "@/" + database +
                          "?host=" + PostgresCluster::shared().dir().string();
  ::setenv("BILLDROP_TEST_STORE_URL", uri.c_str(), 1);
  test::CliRun ok = migrate(config("url_env = \"BILLDROP_TEST_STORE_URL\"\n"));
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(sql("SELECT version FROM billdrop_schema"),
            std::to_string(store::PostgresStore::kSchemaVersion));

  // Unreachable (no server at that socket): libpq's error, without the password.
  ::setenv("BILLDROP_TEST_STORE_URL",
           ("postgresql://billdrop:" + std::string(kPassword) + "@/x?host=/nonexistent-billdrop")
               .c_str(),
           1);
  test::CliRun unreachable = migrate(config("url_env = \"BILLDROP_TEST_STORE_URL\"\n"));
  EXPECT_EQ(unreachable.exit_code, 3) << unreachable.err;
  EXPECT_NE(unreachable.err.find("cannot connect to the PostgreSQL store"), std::string::npos)
      << unreachable.err;
  EXPECT_NE(unreachable.err.find("/nonexistent-billdrop"), std::string::npos) << unreachable.err;

  // Malformed URIs, which libpq quotes whole in its messages.
  for (const std::string& bad :
       {"postgresql://billdrop:" + std::string(kPassword) + "@[::1/x",
        "postgresql://billdrop:" + std::string(kPassword) + "@host:port/x",
        "postgresql://billdrop@/x?password=" + std::string(kPassword) + "&bogus=1"}) {
    ::setenv("BILLDROP_TEST_STORE_URL", bad.c_str(), 1);
    test::CliRun malformed = migrate(config("url_env = \"BILLDROP_TEST_STORE_URL\"\n"));
    EXPECT_EQ(malformed.exit_code, 3) << malformed.err;
    EXPECT_NE(malformed.err.find("cannot connect to the PostgreSQL store"), std::string::npos)
        << malformed.err;
  }

  // Keyword form from a file, a database that does not exist: the server's error.
  std::ofstream(dir_ / "bad.url") << PostgresCluster::shared().url("no_such_database")
                                  << " password='" << kPassword << "'\n";
  test::CliRun missing = migrate(config("url_file = \"bad.url\"\n"));
  EXPECT_EQ(missing.exit_code, 3) << missing.err;
  EXPECT_NE(missing.err.find("no_such_database"), std::string::npos) << missing.err;

  // A variable that is not set names the variable.
  ::unsetenv("BILLDROP_TEST_STORE_URL");
  test::CliRun unset = migrate(config("url_env = \"BILLDROP_TEST_STORE_URL\"\n"));
  EXPECT_EQ(unset.exit_code, 3);
  EXPECT_NE(unset.err.find("BILLDROP_TEST_STORE_URL, which is not set"), std::string::npos)
      << unset.err;
  expect_no_password();
}

} // namespace
} // namespace billdrop
