// The host configuration's delivery settings: every limit and retry setting with the reference's
// default, read from TOML, and each mistake reported with the file, line and key.
#include "config/host_config.hpp"
#include "jobs/delivery.hpp"

#include <gtest/gtest.h>

namespace billdrop {
namespace {
using namespace billdrop::config;

Result<config::HostConfig> parse(std::string_view toml) {
  return config::parse_host_config(toml, "billdrop.toml", "/base");
}

TEST(HostConfig, DeliverySettingsDefaultToTheReference) {
  Result<config::HostConfig> config = parse("[connections.v]\nplugin = \"custom\"\n");
  ASSERT_TRUE(config.ok()) << config.error().message();
  // shared/reference/anycost-stream.md, "Limits".
  EXPECT_EQ(config->limits.max_body_bytes, 5'000'000);
  EXPECT_EQ(config->limits.max_rows_per_month, 1'000'000);
  EXPECT_EQ(config->limits.max_bytes_per_month, 400'000'000);
  EXPECT_EQ(config->limits.requests_in_flight_per_connection, 1);
  EXPECT_EQ(config->sending.give_up_seconds, 900);
  EXPECT_EQ(config->sending.initial_backoff_ms, 500);
  EXPECT_EQ(config->sending.max_backoff_ms, 60'000);
  EXPECT_EQ(config->sending.parallel_connections, 8);
}

TEST(HostConfig, ReadsTheSendingAndLimitsTables) {
  Result<config::HostConfig> config =
      parse("[limits]\nmax_body_bytes = 1000\nmax_rows_per_month = 20\n"
            "max_bytes_per_month = 300\n"
            "requests_in_flight_per_connection = 1\n"
            "[sending]\ngive_up_seconds = 42\ninitial_backoff_ms = 0\n"
            "max_backoff_ms = 7\nparallel_connections = 3\n");
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_EQ(config->limits.max_body_bytes, 1000);
  EXPECT_EQ(config->limits.max_rows_per_month, 20);
  EXPECT_EQ(config->limits.max_bytes_per_month, 300);
  EXPECT_EQ(config->sending.give_up_seconds, 42);
  EXPECT_EQ(config->sending.initial_backoff_ms, 0);
  EXPECT_EQ(config->sending.max_backoff_ms, 7);
  EXPECT_EQ(config->sending.parallel_connections, 3);
  const send::RetryPolicy policy = jobs::retry_policy(config->sending);
  EXPECT_EQ(policy.give_up_after, std::chrono::seconds(42));
  EXPECT_EQ(policy.initial_backoff, std::chrono::milliseconds(0));
  EXPECT_EQ(policy.max_backoff, std::chrono::milliseconds(7));
}

TEST(HostConfig, SendingMistakesNameFileLineAndKey) {
  const auto error_of = [](std::string_view toml) {
    Result<config::HostConfig> config = parse(toml);
    EXPECT_FALSE(config.ok());
    return config.ok() ? std::string() : config.error().message();
  };
  EXPECT_EQ(error_of("[sending]\ngive_up = 5\n"),
            "billdrop.toml:2: unknown key 'sending.give_up' (known keys: give_up_seconds, "
            "initial_backoff_ms, max_backoff_ms, parallel_connections)");
  EXPECT_EQ(error_of("[sending]\n\nparallel_connections = 0\n"),
            "billdrop.toml:3: sending.parallel_connections must be a positive integer");
  EXPECT_EQ(error_of("[sending]\ninitial_backoff_ms = -1\n"),
            "billdrop.toml:2: sending.initial_backoff_ms must be an integer, 0 or more");
  EXPECT_EQ(error_of("[sending]\ngive_up_seconds = \"10\"\n"),
            "billdrop.toml:2: sending.give_up_seconds must be a positive integer");
  EXPECT_EQ(error_of("[sending]\ninitial_backoff_ms = 500\nmax_backoff_ms = 100\n"),
            "billdrop.toml:1: sending.max_backoff_ms (100) is less than "
            "sending.initial_backoff_ms (500)");
  const std::string in_flight = error_of("[limits]\nrequests_in_flight_per_connection = 4\n");
  EXPECT_EQ(in_flight.rfind("billdrop.toml:2: limits.requests_in_flight_per_connection must be "
                            "1: the AnyCost Stream API takes one request at a time",
                            0),
            0u)
      << in_flight;
  EXPECT_EQ(error_of("[limits]\nmax_body = 5\n"),
            "billdrop.toml:2: unknown key 'limits.max_body' (known keys: max_body_bytes, "
            "max_rows_per_month, max_bytes_per_month, requests_in_flight_per_connection)");
}

// A limit the API would not honour is a configuration mistake found when the file is read, not a
// send that fails later: above the reference's limits (shared/reference/anycost-stream.md,
// "Limits": the API answers 413 or rejects the month), not positive, or a body too small to hold
// a single row.
TEST(HostConfig, LimitsOutsideWhatTheApiTakesNameFileLineAndKey) {
  const auto error_of = [](std::string_view toml) {
    Result<HostConfig> config = parse(toml);
    EXPECT_FALSE(config.ok()) << toml;
    return config.ok() ? std::string() : config.error().message();
  };
  EXPECT_EQ(error_of("[limits]\nmax_body_bytes = 5000001\n"),
            "billdrop.toml:2: limits.max_body_bytes is 5,000,001, above the API's limit of "
            "5,000,000 bytes for one request body (it answers 413 to a larger one)");
  EXPECT_EQ(error_of("[limits]\nmax_rows_per_month = 1000001\n"),
            "billdrop.toml:2: limits.max_rows_per_month is 1,000,001, above the API's limit of "
            "1,000,000 rows per month and connection (it rejects the month)");
  EXPECT_EQ(error_of("[limits]\n\nmax_bytes_per_month = 400000001\n"),
            "billdrop.toml:3: limits.max_bytes_per_month is 400,000,001, above the API's limit "
            "of 400,000,000 bytes per month and connection (it rejects the month)");
  EXPECT_EQ(error_of("[limits]\nmax_body_bytes = 0\n"),
            "billdrop.toml:2: limits.max_body_bytes must be a positive integer");
  EXPECT_EQ(error_of("[limits]\nmax_rows_per_month = -3\n"),
            "billdrop.toml:2: limits.max_rows_per_month must be a positive integer");

  // The smallest body that carries a row, written out by hand: the replace_hourly envelope (the
  // longest operation name) around a row with only the two required columns, 117 bytes.
  const std::string smallest = R"({"month":"2026-08","operation":"replace_hourly","data":[)"
                               R"({"time/usage_start":"2026-08-01T00:00:00Z","cost/cost":"0"}]})";
  ASSERT_EQ(smallest.size(), 117u);
  EXPECT_EQ(error_of("[limits]\nmax_body_bytes = 116\n"),
            "billdrop.toml:2: limits.max_body_bytes is 116, too small for a request body with "
            "one row: the smallest takes 117 bytes (the value is in bytes, not megabytes)");
  const std::string megabytes = error_of("[limits]\nmax_body_bytes = 5\n");
  EXPECT_EQ(megabytes.rfind("billdrop.toml:2: limits.max_body_bytes is 5, too small", 0), 0u)
      << megabytes;

  // The edges themselves are fine.
  for (std::string_view edge :
       {"[limits]\nmax_body_bytes = 117\n", "[limits]\nmax_body_bytes = 5000000\n",
        "[limits]\nmax_rows_per_month = 1000000\nmax_bytes_per_month = 400000000\n"}) {
    Result<HostConfig> config = parse(edge);
    EXPECT_TRUE(config.ok()) << edge << (config.ok() ? "" : config.error().message());
  }
}

TEST(HostConfig, ScheduleSettingsAreReadAndABadScheduleNamesFileLineAndField) {
  Result<HostConfig> config = parse_host_config(
      "[server]\nlisten = \"127.0.0.1:9000\"\njitter_seconds = 30\n"
      "max_parallel_connections = 2\ntoken_env = \"TOKEN\"\n"
      "[connections.a]\nplugin = \"custom\"\nschedule = \"*/15 * * * *\"\n"
      "backfill_months = 6\nreprocess_months = 2\nreadback = false\nenabled = false\n"
      "account_id = \"ca_1\"\n",
      "billdrop.toml", ".");
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_EQ(config->server.listen, "127.0.0.1:9000");
  EXPECT_EQ(config->server.jitter_seconds, 30);
  EXPECT_EQ(config->server.max_parallel_connections, 2);
  EXPECT_EQ(config->server.token_env, "TOKEN");
  const ScheduleConfig& schedule = config->connections.front().schedule;
  EXPECT_EQ(schedule.schedule, "*/15 * * * *");
  EXPECT_EQ(schedule.backfill_months, 6);
  EXPECT_EQ(schedule.reprocess_months, 2);
  EXPECT_FALSE(schedule.readback);
  EXPECT_FALSE(schedule.enabled);
  EXPECT_EQ(schedule.account_id, "ca_1");
  // The defaults: daily at 05:00 UTC, 13 months of backfill, 3 to reprocess.
  Result<HostConfig> defaults =
      parse_host_config("[connections.a]\nplugin = \"custom\"\n", "billdrop.toml", ".");
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->connections.front().schedule.schedule, "0 5 * * *");
  EXPECT_EQ(defaults->connections.front().schedule.backfill_months, 13);
  EXPECT_EQ(defaults->connections.front().schedule.reprocess_months, 3);
  EXPECT_EQ(defaults->server.listen, "127.0.0.1:7420");

  Result<HostConfig> bad = parse_host_config(
      "[connections.a]\nplugin = \"custom\"\nschedule = \"0 25 * * *\"\n", "billdrop.toml", ".");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("billdrop.toml:3: connections.a.schedule: schedule "
                                       "\"0 25 * * *\": hour 25 is out of range 0-23"),
            std::string::npos)
      << bad.error().message();
  Result<HostConfig> token = parse_host_config("[server]\ntoken = \"x\"\n", "billdrop.toml", ".");
  ASSERT_FALSE(token.ok());
  EXPECT_NE(token.error().message().find("tokens never go in the config file"), std::string::npos);
}

} // namespace
} // namespace billdrop
