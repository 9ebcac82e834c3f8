#pragma once
// Test support: the npm test servers (s3rver, azurite) that `npm ci --prefix tests` installs into
// tests/node_modules (tests/package.json, with its lock file), each started on 127.0.0.1 port 0
// by the test and stopped when the object dies. Header-only; test binaries only.
//
// Missing servers fail the test in CI (CI set), and whenever BILLDROP_REQUIRE_TEST_SERVERS=1;
// elsewhere the test is skipped with a message saying how to install them.

#include "support/convert_run.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace billdrop::test {

inline std::filesystem::path test_node_modules() {
  return std::filesystem::path(BILLDROP_TEST_SOURCE_DIR) / "tests" / "node_modules";
}

// Empty when the server's script is installed; otherwise what to do about it.
inline std::string node_server_missing(const std::string& package) {
  const std::filesystem::path script = test_node_modules() / package / "package.json";
  if (std::filesystem::exists(script) && std::system("node --version >/dev/null 2>&1") == 0)
    return "";
  return "the npm test server '" + package + "' is not installed (" + script.string() +
         "): run `npm ci --prefix tests` (install-deps.sh does)";
}

inline bool node_servers_required() {
  const char* ci = std::getenv("CI");
  const char* required = std::getenv("BILLDROP_REQUIRE_TEST_SERVERS");
  return (ci != nullptr && *ci != '\0') || (required != nullptr && std::string(required) == "1");
}

// In a test body: fails (CI) or skips (elsewhere) when `package` is not installed.
#define BILLDROP_NEED_NODE_SERVER(package)                                                         \
  do {                                                                                             \
    const std::string missing_ = ::billdrop::test::node_server_missing(package);                   \
    if (!missing_.empty()) {                                                                       \
      if (::billdrop::test::node_servers_required())                                               \
        FAIL() << missing_;                                                                        \
      GTEST_SKIP() << missing_;                                                                    \
    }                                                                                              \
  } while (0)

// A node program run in the background; its port read from its output.
class NodeServer {
public:
  // `args` after `node`; `port_pattern` has one group, the port, matched against its output.
  NodeServer(const std::vector<std::string>& args, const std::filesystem::path& dir,
             const std::string& port_pattern) {
    std::vector<std::string> all = {"node"};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& arg : all)
      argv.push_back(arg.data());
    argv.push_back(nullptr);
    output_ = dir / "server.out";
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    const std::string out = output_.string();
    posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    const int spawned = posix_spawnp(&pid_, "node", &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0)
      throw std::runtime_error("cannot start node");
    const std::regex pattern(port_pattern);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      std::smatch match;
      const std::string text = read_text(output_);
      if (std::regex_search(text, match, pattern)) {
        port_ = static_cast<std::uint16_t>(std::stoi(match[1].str()));
        return;
      }
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("the test server ended at start: " + text);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    stop();
    throw std::runtime_error("the test server never said its port: " + read_text(output_));
  }
  ~NodeServer() { stop(); }
  NodeServer(const NodeServer&) = delete;
  NodeServer& operator=(const NodeServer&) = delete;

  std::uint16_t port() const noexcept { return port_; }
  std::string output() const { return read_text(output_); }

  void stop() {
    if (pid_ <= 0)
      return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    for (int i = 0; i < 100 && ::waitpid(pid_, &status, WNOHANG) == 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (::waitpid(pid_, &status, WNOHANG) == 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
    }
    pid_ = -1;
  }

private:
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  std::filesystem::path output_;
};

// s3rver 3.7.1 on 127.0.0.1 with `buckets` created; access key and secret "S3RVER".
// --openssl-legacy-provider: its paged ListObjectsV2 answers 500 on Node 20 without it.
inline std::unique_ptr<NodeServer> start_s3rver(const std::filesystem::path& dir,
                                                const std::vector<std::string>& buckets) {
  std::filesystem::create_directories(dir / "s3rver-data");
  std::vector<std::string> args = {"--openssl-legacy-provider",
                                   (test_node_modules() / "s3rver" / "bin" / "s3rver.js").string(),
                                   "-d",
                                   (dir / "s3rver-data").string(),
                                   "-a",
                                   "127.0.0.1",
                                   "-p",
                                   "0",
                                   "--silent"};
  for (const std::string& bucket : buckets) {
    args.push_back("--configure-bucket");
    args.push_back(bucket);
  }
  return std::make_unique<NodeServer>(args, dir, R"(S3rver listening on 127\.0\.0\.1:(\d+))");
}

// azurite 3.35.0's Blob service on 127.0.0.1 (account devstoreaccount1), telemetry off.
inline std::unique_ptr<NodeServer> start_azurite(const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir / "azurite-data");
  return std::make_unique<NodeServer>(
      std::vector<std::string>{
          (test_node_modules() / "azurite" / "dist" / "src" / "blob" / "main.js").string(),
          "--blobHost", "127.0.0.1", "--blobPort", "0", "--location",
          (dir / "azurite-data").string(), "--disableTelemetry", "--silent"},
      dir, R"(listens on http://127\.0\.0\.1:(\d+))");
}

} // namespace billdrop::test
