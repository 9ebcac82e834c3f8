// The BigQuery path against a local fake of the REST API (jobs.query + getQueryResults), which
// serves the month in two pages and checks the bearer token. Expected totals by hand from the
// rows below.
#include <billdrop/decimal.hpp>
#include <billdrop/sdk.hpp>
#include <billdrop/testing/harness.hpp>

#include <httplib.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

extern "C" const bd_plugin_descriptor* billdrop_plugin_entry(void);

namespace billdrop::gcp {
namespace {

using testing::PluginHarness;

constexpr const char* schema = R"({"fields":[
 {"name":"billing_account_id","type":"STRING","mode":"NULLABLE"},
 {"name":"service","type":"RECORD","mode":"NULLABLE","fields":[
   {"name":"id","type":"STRING"},{"name":"description","type":"STRING"}]},
 {"name":"usage_start_time","type":"TIMESTAMP","mode":"NULLABLE"},
 {"name":"project","type":"RECORD","fields":[{"name":"id","type":"STRING"},
   {"name":"labels","type":"RECORD","mode":"REPEATED","fields":[
     {"name":"key","type":"STRING"},{"name":"value","type":"STRING"}]}]},
 {"name":"labels","type":"RECORD","mode":"REPEATED","fields":[
   {"name":"key","type":"STRING"},{"name":"value","type":"STRING"}]},
 {"name":"cost","type":"FLOAT","mode":"NULLABLE"},
 {"name":"credits","type":"RECORD","mode":"REPEATED","fields":[
   {"name":"name","type":"STRING"},{"name":"amount","type":"FLOAT"},
   {"name":"full_name","type":"STRING"},{"name":"id","type":"STRING"},
   {"name":"type","type":"STRING"}]},
 {"name":"invoice","type":"RECORD","fields":[{"name":"month","type":"STRING"}]},
 {"name":"cost_type","type":"STRING"}]})";

// One row: 2024-08-05T10:00:00Z is 1722852000 s.
std::string row(const std::string& micros, const std::string& cost, const std::string& credits,
                const std::string& labels) {
  return R"({"f":[{"v":"01ABCD"},{"v":{"f":[{"v":"6F81"},{"v":"Compute Engine"}]}},{"v":")" +
         micros + R"("},{"v":{"f":[{"v":"shop-prod"},{"v":[]}]}},{"v":)" + labels + R"(},{"v":")" +
         cost + R"("},{"v":)" + credits + R"(},{"v":{"f":[{"v":"202408"}]}},{"v":"regular"}]})";
}

class FakeBigQuery {
public:
  FakeBigQuery() {
    server_.Post("/bigquery/v2/projects/proj/queries", [this](const httplib::Request& request,
                                                              httplib::Response& response) {
      if (!authorized(request, response))
        return;
      queries_.push_back(request.body);
      if (request.body.find("DISTINCT") != std::string::npos) {
        response.set_content(
            R"({"jobComplete":true,"jobReference":{"jobId":"m1"},"schema":{"fields":[{"name":"month","type":"STRING"}]},"rows":[{"f":[{"v":"202407"}]},{"f":[{"v":"202408"}]}]})",
            "application/json");
        return;
      }
      // Page 1: two rows, the second with a credit and a label.
      response.set_content(
          std::string(R"({"kind":"bigquery#queryResponse","jobComplete":true,)") +
              R"("jobReference":{"projectId":"proj","jobId":"job 1","location":"EU"},)" +
              R"("pageToken":"tok/2","totalRows":"3","schema":)" + schema + R"(,"rows":[)" +
              row("1722852000000000", "1.5", "[]", "[]") + "," +
              row("1722855600000000", "10",
                  R"([{"v":{"f":[{"v":"CUD"},{"v":"-2.25"},{"v":null},{"v":"c1"},{"v":"COMMITTED_USAGE_DISCOUNT"}]}}])",
                  R"([{"v":{"f":[{"v":"env"},{"v":"prod"}]}}])") +
              "]}",
          "application/json");
    });
    server_.Get("/bigquery/v2/projects/proj/queries/job 1", [this](const httplib::Request& request,
                                                                   httplib::Response& response) {
      if (!authorized(request, response))
        return;
      page_tokens_.push_back(request.get_param_value("pageToken"));
      location_ = request.get_param_value("location");
      response.set_content(std::string(R"({"jobComplete":true,"jobReference":{"jobId":"job 1"},)") +
                               R"("schema":)" + schema + R"(,"rows":[)" +
                               row("1.7228592E9", "0.25", "[]", "[]") + "]}",
                           "application/json");
    });
    server_.Get("/bigquery/v2/projects/proj/datasets/billing/tables/export",
                [this](const httplib::Request& request, httplib::Response& response) {
                  if (authorized(request, response))
                    response.set_content(R"({"id":"proj:billing.export"})", "application/json");
                });
    port_ = server_.bind_to_any_port("127.0.0.1");
    // Bound already: a client connecting before listen() starts waits in the backlog.
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // stop() before the accept loop runs would be lost, and the destructor would hang.
    while (!server_.is_running())
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FakeBigQuery() {
    server_.stop();
    thread_.join();
  }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

  std::vector<std::string> queries_;
  std::vector<std::string> page_tokens_;
  std::string location_;

private:
  bool authorized(const httplib::Request& request, httplib::Response& response) {
    if (request.get_header_value("Authorization") == "Bearer test-token-123")
      return true;
    response.status = 401;
    response.set_content(R"({"error":{"code":401,"message":"Request had invalid credentials."}})",
                         "application/json");
    return false;
  }

  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

ConfigValues bigquery_config(const FakeBigQuery& fake, const std::string& token_env) {
  return {{"bigquery_project", std::string("proj")},
          {"bigquery_dataset", std::string("billing")},
          {"bigquery_table", std::string("export")},
          {"bigquery_endpoint", fake.endpoint()},
          {"access_token_env", token_env}};
}

TEST(GcpBigQuery, ReadsAMonthAcrossPages) {
  FakeBigQuery fake;
  ::setenv("BILLDROP_GCP_TEST_TOKEN", "test-token-123", 1);
  PluginHarness harness(billdrop_plugin_entry(), bigquery_config(fake, "BILLDROP_GCP_TEST_TOKEN"));
  ASSERT_TRUE(harness.create().ok());
  ASSERT_TRUE(harness.check().ok());
  auto months = harness.months();
  ASSERT_TRUE(months.ok()) << months.error().message();
  EXPECT_EQ(*months, (std::vector<Month>{Month(2024, 7), Month(2024, 8)}));

  auto rows = harness.read(Month(2024, 8));
  ASSERT_TRUE(rows.ok()) << rows.error().message();
  EXPECT_TRUE(harness.rejects().empty());
  ASSERT_EQ(rows->size(), 4u); // three charges and one credit
  Decimal sum;
  for (const auto& r : *rows)
    sum += Decimal::from_string(r.get("cost/cost"));
  EXPECT_EQ(sum, Decimal::from_string("9.50")); // by hand: 1.5 + 10 - 2.25 + 0.25
  EXPECT_EQ(rows->at(0).get("time/usage_start"), "2024-08-05T10:00:00Z");
  EXPECT_EQ(rows->at(0).get("resource/service"), "Compute Engine");
  EXPECT_EQ(rows->at(0).get("resource/account"), "shop-prod");
  EXPECT_EQ(rows->at(2).get("lineitem/type"), "Discount");
  EXPECT_EQ(rows->at(2).get("cost/cost"), "-2.25");
  EXPECT_EQ(rows->at(2).get("resource/tag:env"), "prod");
  EXPECT_EQ(rows->at(3).get("time/usage_start"), "2024-08-05T12:00:00Z"); // float seconds form
  ASSERT_EQ(fake.page_tokens_, std::vector<std::string>{"tok/2"});
  EXPECT_EQ(fake.location_, "EU");
  ASSERT_EQ(fake.queries_.size(), 2u);
  EXPECT_NE(fake.queries_[1].find("usage_start_time >= '2024-08-01T00:00:00Z'"), std::string::npos)
      << fake.queries_[1];
}

TEST(GcpBigQuery, RejectedTokenIsASourceErrorWithoutTheToken) {
  FakeBigQuery fake;
  ::setenv("BILLDROP_GCP_TEST_BAD_TOKEN", "wrong-secret", 1);
  PluginHarness harness(billdrop_plugin_entry(),
                        bigquery_config(fake, "BILLDROP_GCP_TEST_BAD_TOKEN"));
  ASSERT_TRUE(harness.create().ok());
  auto rows = harness.read(Month(2024, 8));
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(rows.error().kind(), ErrorKind::source);
  EXPECT_NE(rows.error().message().find("HTTP 401"), std::string::npos) << rows.error().message();
  EXPECT_EQ(rows.error().message().find("wrong-secret"), std::string::npos);
}

TEST(GcpBigQuery, MissingTokenSaysWhichVariable) {
  FakeBigQuery fake;
  ::unsetenv("BILLDROP_GCP_TEST_NO_TOKEN");
  PluginHarness harness(billdrop_plugin_entry(),
                        bigquery_config(fake, "BILLDROP_GCP_TEST_NO_TOKEN"));
  ASSERT_TRUE(harness.create().ok());
  Status status = harness.check();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message().find("BILLDROP_GCP_TEST_NO_TOKEN"), std::string::npos);
}

// A fake that answers from a script: the query's job is still running for the first two
// responses (jobComplete false, no rows), then serves the month in three pages. Every request's
// page token and timeout is recorded. `fail_at` (1-based request number, POST included) answers
// that one request with `fail_status` instead.
class ScriptedBigQuery {
public:
  ScriptedBigQuery(int fail_at = 0, int fail_status = 0)
      : fail_at_(fail_at), fail_status_(fail_status) {
    server_.Post("/bigquery/v2/projects/proj/queries",
                 [this](const httplib::Request&, httplib::Response& response) {
                   if (fail(response))
                     return;
                   response.set_content(
                       R"({"jobComplete":false,"jobReference":{"jobId":"job-2","location":"US"}})",
                       "application/json");
                 });
    server_.Get("/bigquery/v2/projects/proj/queries/job-2", [this](const httplib::Request& request,
                                                                   httplib::Response& response) {
      gets_.push_back({request.get_param_value("pageToken"), request.get_param_value("timeoutMs"),
                       request.get_param_value("location")});
      if (fail(response))
        return;
      const std::string token = request.get_param_value("pageToken");
      if (token.empty() && ++polls_ < 2) { // still running once more
        response.set_content(
            R"({"jobComplete":false,"jobReference":{"jobId":"job-2","location":"US"}})",
            "application/json");
        return;
      }
      // Page 1 (no token): 2 rows; "p2": 2 rows, one with a credit; "p3": 1 row.
      std::string body = std::string(R"({"jobComplete":true,"jobReference":)") +
                         R"({"jobId":"job-2","location":"US"},"schema":)" + schema;
      if (token.empty())
        body += R"(,"pageToken":"p2","rows":[)" + row("1722470400000000", "0.10", "[]", "[]") +
                "," + row("1722474000000000", "0.20", "[]", "[]") + "]}";
      else if (token == "p2")
        body +=
            R"(,"pageToken":"p3","rows":[)" +
            row("1722556800000000", "3",
                R"([{"v":{"f":[{"v":"SUD"},{"v":"-0.75"},{"v":null},{"v":"s1"},{"v":"SUSTAINED_USAGE_DISCOUNT"}]}}])",
                "[]") +
            "," + row("1722560400000000", "0.05", "[]", "[]") + "]}";
      else
        body += R"(,"rows":[)" + row("1725062400000000", "1.00", "[]", "[]") + "]}";
      response.set_content(body, "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running())
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~ScriptedBigQuery() {
    server_.stop();
    thread_.join();
  }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

  struct Get {
    std::string page_token;
    std::string timeout_ms;
    std::string location;
  };
  std::vector<Get> gets_;

private:
  bool fail(httplib::Response& response) {
    if (++requests_ != fail_at_)
      return false;
    response.status = fail_status_;
    response.set_content(R"({"error":{"code":)" + std::to_string(fail_status_) +
                             R"(,"message":"scripted failure"}})",
                         "application/json");
    return true;
  }

  int fail_at_;
  int fail_status_;
  int requests_ = 0;
  int polls_ = 0;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

ConfigValues scripted_config(const std::string& endpoint) {
  ::setenv("BILLDROP_GCP_TEST_SCRIPTED_TOKEN", "t", 1);
  return {{"bigquery_project", std::string("proj")},
          {"bigquery_dataset", std::string("billing")},
          {"bigquery_table", std::string("export")},
          {"bigquery_endpoint", endpoint},
          {"access_token_env", std::string("BILLDROP_GCP_TEST_SCRIPTED_TOKEN")}};
}

TEST(GcpBigQuery, PollsARunningJobThenReadsThreePages) {
  ScriptedBigQuery fake;
  PluginHarness harness(billdrop_plugin_entry(), scripted_config(fake.endpoint()));
  ASSERT_TRUE(harness.create().ok());
  auto rows = harness.read(Month(2024, 8));
  ASSERT_TRUE(rows.ok()) << rows.error().message();
  EXPECT_TRUE(harness.rejects().empty());
  // Five charges and one credit; by hand: 0.10 + 0.20 + 3 - 0.75 + 0.05 + 1.00.
  ASSERT_EQ(rows->size(), 6u);
  Decimal sum;
  for (const auto& r : *rows)
    sum += Decimal::from_string(r.get("cost/cost"));
  EXPECT_EQ(sum, Decimal::from_string("3.60"));
  EXPECT_EQ(rows->at(0).origin, "bigquery:export:page1:1");
  EXPECT_EQ(rows->at(2).origin, "bigquery:export:page2:1");
  EXPECT_EQ(rows->at(3).get("lineitem/type"), "Discount");
  EXPECT_EQ(rows->at(5).origin, "bigquery:export:page3:1");
  EXPECT_EQ(rows->at(5).get("time/usage_start"), "2024-08-31T00:00:00Z");
  // Two polls of the running job (with a server-side wait), then the pages by their tokens.
  ASSERT_EQ(fake.gets_.size(), 4u);
  EXPECT_EQ(fake.gets_[0].page_token, "");
  EXPECT_EQ(fake.gets_[0].timeout_ms, "60000");
  EXPECT_EQ(fake.gets_[1].page_token, "");
  EXPECT_EQ(fake.gets_[1].timeout_ms, "60000");
  EXPECT_EQ(fake.gets_[2].page_token, "p2");
  EXPECT_EQ(fake.gets_[3].page_token, "p3");
  for (const auto& get : fake.gets_)
    EXPECT_EQ(get.location, "US");
}

struct FailureCase {
  int request; // 1: the query (POST); 2: the poll; 3, 4, 5: pages 1, 2, 3
  int status;
  bool retryable;
};

class GcpBigQueryFailure : public ::testing::TestWithParam<FailureCase> {};

TEST_P(GcpBigQueryFailure, IsASourceErrorRetryableFor429And5xx) {
  ScriptedBigQuery fake(GetParam().request, GetParam().status);
  PluginHarness harness(billdrop_plugin_entry(), scripted_config(fake.endpoint()));
  ASSERT_TRUE(harness.create().ok());
  auto rows = harness.read(Month(2024, 8));
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(rows.error().kind(), ErrorKind::source);
  EXPECT_EQ(rows.error().retryable(), GetParam().retryable) << rows.error().message();
  EXPECT_NE(rows.error().message().find("HTTP " + std::to_string(GetParam().status)),
            std::string::npos)
      << rows.error().message();
  EXPECT_NE(rows.error().message().find("scripted failure"), std::string::npos)
      << rows.error().message();
}

INSTANTIATE_TEST_SUITE_P(Statuses, GcpBigQueryFailure,
                         ::testing::Values(FailureCase{1, 429, true}, FailureCase{2, 503, true},
                                           FailureCase{4, 500, true}, FailureCase{5, 502, true},
                                           FailureCase{1, 400, false}, FailureCase{4, 403, false}));

TEST(GcpBigQuery, AnUnreachableEndpointIsARetryableSourceError) {
  int port = 0;
  {
    ScriptedBigQuery closed; // bound, then stopped: nothing listens on its port any more
    port = std::stoi(closed.endpoint().substr(closed.endpoint().rfind(':') + 1));
  }
  PluginHarness harness(billdrop_plugin_entry(),
                        scripted_config("http://127.0.0.1:" + std::to_string(port)));
  ASSERT_TRUE(harness.create().ok());
  auto rows = harness.read(Month(2024, 8));
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(rows.error().kind(), ErrorKind::source);
  EXPECT_TRUE(rows.error().retryable()) << rows.error().message();
}

} // namespace
} // namespace billdrop::gcp
