// The command line as a new user meets it: unknown commands named, `help COMMAND`, a missing
// --plugin-dir warned about, JSON mode printing one document even on failure, JSON logs with
// numbers as numbers, every connection of a config taken by check/convert, and the emulator on a
// port in use saying why without leaving a store file.
#include "support/cli_run.hpp"
#include "support/temp_folder.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace billdrop {
namespace {

namespace fs = std::filesystem;

class InterfaceTest : public test::TempFolderTest {
protected:
  test::CliRun run(const std::vector<std::string>& args) { return test::run_billdrop(args, dir_); }
  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name, std::ios::binary) << text;
  }
  // Two connections over two files; by hand: a has 2 rows (1.50 + 2.25 = 3.75) in 2026-08,
  // b has 1 row (0.10) in 2026-09.
  std::string two_connections() {
    write("a.csv", "ts,amount\n2026-08-01T00:00:00Z,1.50\n2026-08-02T00:00:00Z,2.25\n");
    write("b.csv", "ts,amount\n2026-09-05T00:00:00Z,0.10\n");
    std::string toml = "state_dir = \"state\"\n";
    for (const char* name : {"a", "b"})
      toml += std::string("[connections.") + name + "]\nplugin = \"custom\"\n[connections." + name +
              ".config]\npath = \"" + name + ".csv\"\n[connections." + name +
              ".config.columns]\n\"time/usage_start\" = \"{ts}\"\n\"cost/cost\" = \"{amount}\"\n";
    write("billdrop.toml", toml);
    return (dir_ / "billdrop.toml").string();
  }
};

TEST_F(InterfaceTest, AnUnknownCommandIsNamed) {
  const test::CliRun result = run({"frobnicate"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("unknown command 'frobnicate'"), std::string::npos) << result.err;
}

TEST_F(InterfaceTest, HelpNamesACommandsOptions) {
  const test::CliRun help = run({"help", "push"});
  EXPECT_EQ(help.exit_code, 0) << help.err;
  EXPECT_NE(help.out.find("--from"), std::string::npos) << help.out;
  EXPECT_NE(help.out.find("--allow-empty-month"), std::string::npos) << help.out;
  const test::CliRun unknown = run({"help", "frobnicate"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("unknown command 'frobnicate'"), std::string::npos) << unknown.err;
}

TEST_F(InterfaceTest, APluginDirThatDoesNotExistIsAWarning) {
  const test::CliRun result = run({"--plugin-dir", (dir_ / "nowhere").string(), "plugins", "list"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.err.find("plugin_dir.missing"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("nowhere"), std::string::npos) << result.err;
}

TEST_F(InterfaceTest, JsonModePrintsAnErrorObjectOnFailure) {
  const test::CliRun result =
      run({"check", "--config", (dir_ / "missing.toml").string(), "--format", "json"});
  EXPECT_EQ(result.exit_code, 3);
  EXPECT_EQ(result.out.rfind("{\"error\":{\"kind\":\"config\",\"message\":\"", 0), 0u)
      << result.out;
  EXPECT_NE(result.out.find("missing.toml"), std::string::npos) << result.out;
}

TEST_F(InterfaceTest, JsonLogsCarryNumbersAndBooleansAsJsonValues) {
  const std::string config = two_connections();
  const test::CliRun result =
      run({"--log-level", "info", "--log-format", "json", "convert", "--config", config,
           "--connection", "a", "--out", (dir_ / "out").string()});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  // convert.read_done carries rows_so_far (a number) and ok (a boolean).
  EXPECT_NE(result.err.find("\"rows_so_far\":2,\"ok\":true"), std::string::npos) << result.err;
}

TEST_F(InterfaceTest, CheckAndConvertTakeEveryConnectionOfAConfig) {
  const std::string config = two_connections();
  const test::CliRun check = run({"check", "--config", config, "--format", "json"});
  ASSERT_EQ(check.exit_code, 0) << check.err;
  EXPECT_NE(check.out.find("\"connection\":\"a\",\"ok\":true,\"months\":[\"2026-08\"]"),
            std::string::npos)
      << check.out;
  EXPECT_NE(check.out.find("\"connection\":\"b\",\"ok\":true,\"months\":[\"2026-09\"]"),
            std::string::npos)
      << check.out;
  const test::CliRun convert =
      run({"convert", "--config", config, "--out", (dir_ / "out").string(), "--format", "json"});
  ASSERT_EQ(convert.exit_code, 0) << convert.err;
  EXPECT_NE(
      convert.out.find("\"month\":\"2026-08\",\"rows\":2,\"invalid_rows\":0,\"cost\":\"3.75\""),
      std::string::npos)
      << convert.out;
  EXPECT_NE(
      convert.out.find("\"month\":\"2026-09\",\"rows\":1,\"invalid_rows\":0,\"cost\":\"0.10\""),
      std::string::npos)
      << convert.out;
  // One folder per connection id.
  EXPECT_TRUE(fs::exists(dir_ / "out" / "a" / "2026-08.summary.json"));
  EXPECT_TRUE(fs::exists(dir_ / "out" / "b" / "2026-09.summary.json"));
}

TEST_F(InterfaceTest, StatusShowsWhatTheStoreRecordsWithoutSending) {
  const std::string config = two_connections();
  const test::CliRun never = run({"status", "--config", config});
  EXPECT_EQ(never.exit_code, 0) << never.err;
  EXPECT_NE(never.out.find("never sent"), std::string::npos) << never.out;
  EXPECT_FALSE(fs::exists(dir_ / "state" / "sync.db")); // status creates nothing
  ASSERT_EQ(run({"run", "--config", config}).exit_code, 0);
  const test::CliRun json = run({"status", "--config", config, "--format", "json"});
  EXPECT_EQ(json.exit_code, 0) << json.err;
  EXPECT_NE(
      json.out.find("{\"month\":\"2026-08\",\"state\":\"synced\",\"rows\":2,\"cost\":\"3.75\""),
      std::string::npos)
      << json.out;
  EXPECT_NE(
      json.out.find("{\"month\":\"2026-09\",\"state\":\"synced\",\"rows\":1,\"cost\":\"0.10\""),
      std::string::npos)
      << json.out;
}

TEST_F(InterfaceTest, TheEmulatorOnAPortInUseSaysWhyAndLeavesNoStore) {
  const int sock = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  ASSERT_EQ(::bind(sock, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::listen(sock, 1), 0);
  ASSERT_EQ(::getsockname(sock, reinterpret_cast<sockaddr*>(&address), &length), 0);
  const std::string port = std::to_string(ntohs(address.sin_port));
  const test::CliRun result =
      run({"emulator", "--listen", "127.0.0.1:" + port, "--store", (dir_ / "emu.db").string()});
  ::close(sock);
  EXPECT_EQ(result.exit_code, 5);
  EXPECT_NE(result.err.find("cannot listen on 127.0.0.1:" + port + ": Address already in use"),
            std::string::npos)
      << result.err;
  EXPECT_FALSE(fs::exists(dir_ / "emu.db"));
}

} // namespace
} // namespace billdrop
