#pragma once
// Test support: the real billdrop binary in the background (a daemon, a push to kill), its
// output in <dir>/<name>.out and .err, and waiting for it with a bound. Header-only.

#include "support/convert_run.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace billdrop::test {

// Starts `argv[0]` (a path) with stdin from /dev/null and its output in <dir>/<name>.out / .err.
inline pid_t spawn_program(std::vector<std::string> all, const std::filesystem::path& dir,
                           const std::string& name) {
  std::vector<char*> argv;
  for (std::string& arg : all)
    argv.push_back(arg.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  const std::string out = (dir / (name + ".out")).string();
  const std::string err = (dir / (name + ".err")).string();
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  pid_t pid = -1;
  const int spawned = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  EXPECT_EQ(spawned, 0) << all[0];
  return spawned == 0 ? pid : -1;
}

// Starts billdrop with the built plugins' folder in its plugin path and progress off.
inline pid_t spawn_billdrop(const std::vector<std::string>& args, const std::filesystem::path& dir,
                            const std::string& name) {
  std::vector<std::string> all = {BILLDROP_TEST_BILLDROP_EXE, "--no-progress", "--plugin-dir",
                                  BILLDROP_TEST_PLUGIN_DIR};
  all.insert(all.end(), args.begin(), args.end());
  return spawn_program(std::move(all), dir, name);
}

// The exit code, or -signal when it was killed; past `limit` it is killed and the test fails.
inline int wait_exit(pid_t pid,
                     std::chrono::milliseconds limit = std::chrono::milliseconds(60'000)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      ADD_FAILURE() << "billdrop did not end in time";
      return -1000;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

// Waits up to `limit` for `ready()`; false when it never became true.
template <class Predicate>
bool eventually(Predicate ready,
                std::chrono::milliseconds limit = std::chrono::milliseconds(30'000)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!ready()) {
    if (std::chrono::steady_clock::now() > deadline)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

} // namespace billdrop::test
