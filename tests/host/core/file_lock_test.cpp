// core::FileLock: one holder at a time (flock), the refusal names the holder's pid, a released
// lock is free again, and waiting ends when the holder lets go.
#include "core/file_lock.hpp"

#include "support/temp_folder.hpp"

#include <gtest/gtest.h>

#include <thread>

#include <sys/wait.h>
#include <unistd.h>

namespace billdrop::core {
namespace {

using std::chrono::milliseconds;

class FileLockTest : public test::TempFolderTest {};

TEST_F(FileLockTest, ASecondHolderIsRefusedWithThePidOfTheFirst) {
  const auto file = dir_ / "locks" / "acme.lock";
  Result<FileLock> first = FileLock::acquire(file, "connection 'acme'");
  ASSERT_TRUE(first.ok()) << first.error().message();
  Result<FileLock> second = FileLock::acquire(file, "connection 'acme'");
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(second.error().retryable());
  EXPECT_NE(second.error().message().find("connection 'acme' is in use by another billdrop "
                                          "process (pid " +
                                          std::to_string(::getpid()) + ")"),
            std::string::npos)
      << second.error().message();
}

TEST_F(FileLockTest, AReleasedLockCanBeTakenAgain) {
  const auto file = dir_ / "a.lock";
  {
    Result<FileLock> first = FileLock::acquire(file, "x");
    ASSERT_TRUE(first.ok());
  }
  EXPECT_TRUE(FileLock::acquire(file, "x").ok());
}

TEST_F(FileLockTest, AWaiterGetsTheLockWhenTheHolderLetsGo) {
  const auto file = dir_ / "a.lock";
  auto first = std::make_unique<Result<FileLock>>(FileLock::acquire(file, "x"));
  ASSERT_TRUE(first->ok());
  std::thread release([&] {
    std::this_thread::sleep_for(milliseconds(300));
    first.reset();
  });
  const auto start = std::chrono::steady_clock::now();
  Result<FileLock> waited = FileLock::acquire(file, "x", milliseconds(5000));
  const auto took = std::chrono::steady_clock::now() - start;
  release.join();
  ASSERT_TRUE(waited.ok()) << waited.error().message();
  EXPECT_GE(took, milliseconds(250));
  EXPECT_LT(took, milliseconds(4000));
}

TEST_F(FileLockTest, TheLockOfAProcessKilledWithSigkillIsFree) {
  const auto file = dir_ / "a.lock";
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    Result<FileLock> held = FileLock::acquire(file, "x");
    ::pause(); // holds the lock until killed
    ::_exit(held.ok() ? 0 : 1);
  }
  // Wait until the child holds it.
  bool held_by_child = false;
  for (int i = 0; i < 100 && !held_by_child; ++i) {
    std::this_thread::sleep_for(milliseconds(20));
    Result<FileLock> probe = FileLock::acquire(file, "x");
    held_by_child = !probe.ok();
  }
  ASSERT_TRUE(held_by_child);
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  EXPECT_TRUE(FileLock::acquire(file, "x").ok());
}

} // namespace
} // namespace billdrop::core
