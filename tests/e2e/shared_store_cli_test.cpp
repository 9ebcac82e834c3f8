// One-off commands (`run`, `status`) on a shared PostgreSQL store (the tests' cluster): they use
// the configured store, not the state directory's SQLite file. `run` takes its connections'
// leases with fencing tokens as a `serve` host does and gives them back; while a `serve` host
// holds a connection's lease it is refused (exit 75) with a message naming the holder and until
// when, and `--wait-seconds` waits for it. The months landed at the emulator are checked against
// totals summed here from the written rows.
#include "emulator/emulator.hpp"

#include "support/cli_run.hpp"
#include "support/postgres_cluster.hpp"
#include "support/process.hpp"
#include "support/temp_folder.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <fstream>

namespace billdrop {
namespace {

using std::chrono::milliseconds;
using test::PostgresCluster;

class SharedStoreCliTest : public test::TempFolderTest {
protected:
  void SetUp() override {
    TempFolderTest::SetUp();
    url_ = PostgresCluster::shared().create_database();
    std::ofstream(dir_ / "pg.url") << url_ << "\n";
    std::ofstream(dir_ / "key.txt") << "shared-store-key\n";
    // Two rows in 2026-03, 10.25 + 4.50; one in 2026-04, 7.125.
    std::ofstream(dir_ / "acme.csv") << "ts,id,amount\n2026-03-02T01:00:00Z,r1,10.25\n"
                                        "2026-03-02T02:00:00Z,r2,4.50\n"
                                        "2026-04-05T00:00:00Z,r3,7.125\n";
  }

  std::string write_config(const std::string& name, const std::string& base_url) {
    const std::string toml =
        "state_dir = \"" + name +
        "-state\"\n[server]\nlisten = \"127.0.0.1:0\"\n[store]\nkind = \"postgres\"\n"
        "url_file = \"pg.url\"\nlease_ttl_seconds = 30\n"
        "[connections.acme]\nplugin = \"custom\"\ndestination = \"anycost\"\n"
        "schedule = \"0 3 1 1 *\"\n"
        "[connections.acme.anycost]\nbase_url = \"" +
        base_url +
        "\"\napi_key_file = \"key.txt\"\n[connections.acme.config]\npath = \"acme.csv\"\n"
        "[connections.acme.config.columns]\n\"time/usage_start\" = \"{ts}\"\n"
        "\"lineitem/id\" = \"{id}\"\n\"cost/cost\" = \"{amount}\"\n";
    const std::filesystem::path file = dir_ / (name + ".toml");
    std::ofstream(file) << toml;
    return file.string();
  }

  std::string sql(const std::string& statement) { return PostgresCluster::query(url_, statement); }

  std::string url_;
};

TEST_F(SharedStoreCliTest, RunTakesTheLeaseRecordsInPostgresAndIsRefusedWhileAHostHoldsIt) {
  emulator::EmulatorOptions options;
  options.store = dir_ / "emulator.db";
  emulator::Emulator emulator(options);
  ASSERT_TRUE(emulator.start("127.0.0.1", 0).ok());
  const std::string config = write_config("cli", emulator.base_url());

  // No daemon: the one-off run takes the lease (token 1), sends, records in PostgreSQL, gives
  // the lease back.
  test::CliRun run = test::run_billdrop({"run", "--config", config}, dir_);
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "cli-state" / "sync.db"))
      << "the one-off run used the SQLite store";
  EXPECT_EQ(sql("SELECT token FROM leases WHERE name = 'acme'"), "1");
  EXPECT_EQ(sql("SELECT owner LIKE 'cli_%' FROM leases WHERE name = 'acme'"), "t");
  EXPECT_EQ(sql("SELECT expires_at < now() FROM leases WHERE name = 'acme'"), "t")
      << "the lease was not given back";
  EXPECT_EQ(sql("SELECT COUNT(*) FROM hosts"), "0") << "a one-off command counted as a host";
  EXPECT_EQ(sql("SELECT string_agg(month || ' ' || state || ' ' || rows || ' ' || cost, ', ' "
                "ORDER BY month) FROM month_sync WHERE connection_id = 'acme'"),
            "2026-03 synced 2 14.75, 2026-04 synced 1 7.125");
  Result<emulator::MonthState> march = emulator.month_state("acme", Month(2026, 3));
  ASSERT_TRUE(march.ok()) << march.error().message();
  EXPECT_EQ(march->rows, 2u);
  EXPECT_EQ(march->cost, Decimal::from_string("14.75"));
  EXPECT_EQ(sql("SELECT COUNT(DISTINCT host) FROM send_attempts"), "1");

  // `status` reads the shared store.
  test::CliRun status =
      test::run_billdrop({"status", "--config", config, "--format", "json"}, dir_);
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_NE(status.out.find("\"2026-03\""), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("\"synced\""), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("\"14.75\""), std::string::npos) << status.out;

  // A `serve` host holds the lease: the one-off run is refused at once, naming it.
  const std::string serve_config = write_config("host", emulator.base_url());
  const pid_t host = test::spawn_billdrop({"serve", "--config", serve_config}, dir_, "host");
  ASSERT_TRUE(test::eventually(
      [&] {
        return sql("SELECT COUNT(*) FROM leases WHERE owner LIKE 'host_%' AND expires_at > "
                   "now()") == "1";
      },
      milliseconds(20'000)))
      << test::read_text(dir_ / "host.err");
  const std::string holder = sql("SELECT owner FROM leases WHERE name = 'acme'");
  EXPECT_EQ(sql("SELECT token FROM leases WHERE name = 'acme'"), "2");
  test::CliRun refused = test::run_billdrop({"run", "--config", config}, dir_);
  EXPECT_EQ(refused.exit_code, 75) << refused.out << refused.err;
  EXPECT_NE(refused.err.find("connection 'acme' is leased to the billdrop serve host " + holder +
                             " (pid " + std::to_string(host)),
            std::string::npos)
      << refused.err;
  EXPECT_NE(refused.err.find(" until 20"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("--wait-seconds"), std::string::npos) << refused.err;
  EXPECT_EQ(sql("SELECT token FROM leases WHERE name = 'acme'"), "2") << "the lease was taken";

  // Waiting: the host stops meanwhile (giving its leases back) and the run goes ahead.
  const pid_t waiting =
      test::spawn_billdrop({"run", "--config", config, "--wait-seconds", "60"}, dir_, "waiting");
  std::this_thread::sleep_for(milliseconds(1500));
  ::kill(host, SIGTERM);
  EXPECT_EQ(test::wait_exit(host, milliseconds(20'000)), 0);
  EXPECT_EQ(test::wait_exit(waiting, milliseconds(60'000)), 0)
      << test::read_text(dir_ / "waiting.err");
  EXPECT_EQ(sql("SELECT token FROM leases WHERE name = 'acme'"), "3");
  EXPECT_EQ(sql("SELECT owner LIKE 'cli_%' FROM leases WHERE name = 'acme'"), "t");
}

} // namespace
} // namespace billdrop
