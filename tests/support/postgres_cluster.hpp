#pragma once
// Test support: the tests' PostgreSQL cluster (tests/support/postgres-cluster.sh), a fresh
// database per test. Under ctest the `postgres` fixture starts the cluster before the tests and
// stops it after; test binaries run by hand start it on first use, and the last of them still
// using it stops it at exit (each holds a shared lock on DIR.users while it runs: two binaries
// run at once by hand must not stop the cluster under each other's tests).
// Header-only; needs libpq.

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

namespace billdrop::test {

class PostgresCluster {
public:
  // The cluster of this build tree (a unix socket under /tmp: the server runs as `nobody`, which
  // may not reach the build tree).
  static PostgresCluster& shared() {
    static PostgresCluster cluster;
    return cluster;
  }

  // A libpq connection string for `database`.
  std::string url(const std::string& database) const {
    return "host=" + dir_.string() + " port=5432 user=billdrop dbname=" + database;
  }

  // A new empty database named after the running test; its connection string.
  std::string create_database() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = "t" + std::to_string(::getpid()) + "_" + std::to_string(++counter_);
    if (info != nullptr)
      name += "_" + std::to_string(std::hash<std::string>()(std::string(info->test_suite_name()) +
                                                            info->name()) %
                                   100000);
    PGconn* conn = PQconnectdb(url("postgres").c_str());
    EXPECT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
    PGresult* result = PQexec(conn, ("CREATE DATABASE " + name).c_str());
    EXPECT_EQ(PQresultStatus(result), PGRES_COMMAND_OK) << PQerrorMessage(conn);
    PQclear(result);
    PQfinish(conn);
    return url(name);
  }

  // Runs one SQL statement on `url`; the first column of the first row ("" when none).
  static std::string query(const std::string& url, const std::string& sql) {
    PGconn* conn = PQconnectdb(url.c_str());
    EXPECT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
    PGresult* result = PQexec(conn, sql.c_str());
    const ExecStatusType status = PQresultStatus(result);
    EXPECT_TRUE(status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK)
        << sql << ": " << PQerrorMessage(conn);
    std::string value = status == PGRES_TUPLES_OK && PQntuples(result) > 0 && PQnfields(result) > 0
                            ? PQgetvalue(result, 0, 0)
                            : "";
    PQclear(result);
    PQfinish(conn);
    return value;
  }

  const std::filesystem::path& dir() const { return dir_; }

private:
  PostgresCluster() {
    dir_ = BILLDROP_TEST_POSTGRES_DIR;
    // A user of the cluster from before it is started: a binary stopping it as its last user
    // holds the lock exclusively, so this one waits and then starts it again.
    users_ = ::open(users_file().c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (users_ >= 0)
      (void)::flock(users_, LOCK_SH);
    // Exit 0: started here; 3: it was running (the ctest fixture's, or another test binary's).
    const int status = std::system((script() + " start " + dir_.string()).c_str());
    const int rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (rc != 0 && rc != 3)
      ADD_FAILURE() << "could not start the test PostgreSQL cluster in " << dir_
                    << " (see its server.log)";
    // Started by a test binary (not the ctest fixture, which stops it itself): its last user
    // stops it.
    if (rc == 0 && std::getenv("BILLDROP_TEST_KEEP_POSTGRES") == nullptr)
      std::ofstream(dir_ / kStopWhenUnused) << ::getpid() << "\n";
  }
  ~PostgresCluster() {
    if (users_ < 0)
      return;
    ::close(users_); // this binary's shared lock
    const int last = ::open(users_file().c_str(), O_RDWR | O_CLOEXEC);
    if (last < 0)
      return;
    // Nobody else holds the lock: this binary is the last user.
    if (::flock(last, LOCK_EX | LOCK_NB) == 0 && std::filesystem::exists(dir_ / kStopWhenUnused))
      (void)std::system((script() + " stop " + dir_.string()).c_str());
    ::close(last);
  }
  std::string users_file() const { return dir_.string() + ".users"; }
  static std::string script() {
    return std::string(BILLDROP_TEST_SOURCE_DIR) + "/tests/support/postgres-cluster.sh";
  }

  static constexpr const char* kStopWhenUnused = "stop-when-unused";

  std::filesystem::path dir_;
  int users_ = -1;
  std::atomic<int> counter_{0};
};

} // namespace billdrop::test
