// Destinations: status classification, Retry-After parsing, the AnyCost destination against a
// small HTTP server in the test (headers, path, body, every status, broken connections), and the
// dir destination's files, month state and legacy bucket layout.
#include "send/destination.hpp"

// cpp-httplib's shared library is built with these (its cpp-httplib.pc Cflags); the header must
// see the same ones or the classes' layouts differ.
#ifndef CPPHTTPLIB_OPENSSL_SUPPORT
#define CPPHTTPLIB_OPENSSL_SUPPORT
#endif
#ifndef CPPHTTPLIB_ZLIB_SUPPORT
#define CPPHTTPLIB_ZLIB_SUPPORT
#endif
#ifndef CPPHTTPLIB_BROTLI_SUPPORT
#define CPPHTTPLIB_BROTLI_SUPPORT
#endif
#include <httplib.h>

#include <billdrop/byte_source.hpp>

#include <gtest/gtest.h>

#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

namespace billdrop::send {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

// ---------------------------------------------------------------------------------------------
// classify_status and parse_retry_after

TEST(ClassifyStatus, FollowsTheReferenceRetryRules) {
  for (const int code : {200, 201, 202, 204})
    EXPECT_EQ(classify_status(code), Outcome::acknowledged) << code;
  for (const int code : {409, 429, 500, 502, 503, 504, 599})
    EXPECT_EQ(classify_status(code), Outcome::retryable) << code;
  for (const int code : {400, 401, 403, 404, 405, 413, 422, 301, 302})
    EXPECT_EQ(classify_status(code), Outcome::rejected) << code;
  EXPECT_EQ(classify_status(0), Outcome::ambiguous);
}

// 2024-08-16T00:00:00Z: 19,951 days after 1970-01-01 (54 years, 13 leap days, 228 days into
// 2024), times 86,400 seconds.
const auto kNow = std::chrono::system_clock::time_point(std::chrono::seconds(1'723'766'400));

TEST(ParseRetryAfter, ReadsDeltaSeconds) {
  EXPECT_EQ(parse_retry_after("120", kNow), milliseconds(120'000));
  EXPECT_EQ(parse_retry_after("0", kNow), milliseconds(0));
  EXPECT_EQ(parse_retry_after(" 5 ", kNow), milliseconds(5'000));
  // Absurd values are clamped to a year rather than overflowing.
  EXPECT_EQ(parse_retry_after("99999999999999999999999", kNow), milliseconds(366LL * 86'400'000));
}

TEST(ParseRetryAfter, ReadsTheThreeHttpDateForms) {
  EXPECT_EQ(parse_retry_after("Fri, 16 Aug 2024 00:00:30 GMT", kNow), milliseconds(30'000));
  EXPECT_EQ(parse_retry_after("Fri, 16 Aug 2024 01:02:03 GMT", kNow), milliseconds(3'723'000));
  EXPECT_EQ(parse_retry_after("Friday, 16-Aug-24 00:01:00 GMT", kNow), milliseconds(60'000));
  EXPECT_EQ(parse_retry_after("Fri Aug 16 00:00:10 2024", kNow), milliseconds(10'000));
  EXPECT_EQ(parse_retry_after("Sat Aug 17 00:00:00 2024", kNow), milliseconds(86'400'000));
  // asctime pads a one-digit day with a space.
  const auto sixth = std::chrono::system_clock::time_point(std::chrono::seconds(1'722'902'400));
  EXPECT_EQ(parse_retry_after("Tue Aug  6 00:00:01 2024", sixth), milliseconds(1'000));
}

TEST(ParseRetryAfter, ADateInThePastMeansNow) {
  EXPECT_EQ(parse_retry_after("Thu, 15 Aug 2024 23:59:00 GMT", kNow), milliseconds(0));
  EXPECT_EQ(parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", kNow), milliseconds(0));
}

TEST(ParseRetryAfter, RejectsAnythingElse) {
  for (const std::string_view value :
       {"", "soon", "-5", "1.5", "5s", "Fri, 32 Aug 2024 00:00:00 GMT",
        "Fri, 16 Aug 2024 25:00:00 GMT", "Fri, 16 Foo 2024 00:00:00 GMT",
        "Fri, 16 Aug 2024 00:00:00 UTC", "2024-08-16T00:00:30Z"})
    EXPECT_EQ(parse_retry_after(value, kNow), std::nullopt) << value;
}

// ---------------------------------------------------------------------------------------------
// The AnyCost destination against a server in the test

struct Seen {
  std::string method;
  std::string path;
  std::string body;
  httplib::Headers headers;
  int remote_port = 0;
};

class TestServer {
public:
  using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;

  TestServer() {
    const auto handle = [this](const httplib::Request& req, httplib::Response& res) {
      Handler handler;
      {
        const std::lock_guard lock(mutex_);
        seen_.push_back({req.method, req.path, req.body, req.headers, req.remote_port});
        handler = handler_;
      }
      if (handler)
        handler(req, res);
    };
    server_.Post(".*", handle);
    server_.Get(".*", handle);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running())
      std::this_thread::sleep_for(milliseconds(1));
  }
  ~TestServer() { stop(); }

  void stop() {
    server_.stop();
    if (thread_.joinable())
      thread_.join();
  }

  void respond(Handler handler) {
    const std::lock_guard lock(mutex_);
    handler_ = std::move(handler);
  }
  void respond(int status, std::string body, httplib::Headers headers = {}) {
    respond([=](const httplib::Request&, httplib::Response& res) {
      res.status = status;
      for (const auto& [name, value] : headers)
        res.set_header(name, value);
      res.set_content(body, "application/json");
    });
  }

  std::vector<Seen> seen() const {
    const std::lock_guard lock(mutex_);
    return seen_;
  }
  int port() const { return port_; }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }

private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  mutable std::mutex mutex_;
  Handler handler_;
  std::vector<Seen> seen_;
};

DropRequest sample_request() {
  DropRequest request;
  request.connection_id = "acme-gpu";
  request.month = Month(2026, 8);
  request.operation = cbf::DropOperation::replace_hourly;
  request.body = R"({"month":"2026-08","operation":"replace_hourly","data":[)"
                 R"({"time/usage_start":"2026-08-01T00:00:00Z","cost/cost":"1.5"}]})";
  request.idempotency_key = "0f1e2d3c";
  request.chunk_index = 1;
  request.chunk_count = 3;
  return request;
}

std::string header(const Seen& seen, const std::string& name) {
  const auto found = seen.headers.find(name);
  return found == seen.headers.end() ? std::string("<absent>") : found->second;
}

TEST(AnycostDestination, PostsTheExactBodyWithTheRawKeyAndTheIdempotencyKey) {
  TestServer server;
  server.respond(200, R"({"connection":{"drop_id":"d-77","month":"2026-08","row_count":1}})");
  AnycostSettings settings;
  settings.base_url = server.base_url();
  settings.api_key = "secret-key-123";
  settings.test_key = "throwaway-1";
  const std::unique_ptr<Destination> destination = make_anycost_destination(settings);

  const DropRequest request = sample_request();
  const DropResponse response = destination->send(request);

  EXPECT_EQ(response.outcome, Outcome::acknowledged) << response.message;
  EXPECT_EQ(response.http_status, 200);
  EXPECT_EQ(response.drop_id, "d-77");
  EXPECT_EQ(response.row_count, 1u);
  const std::vector<Seen> seen = server.seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].method, "POST");
  EXPECT_EQ(seen[0].path, "/v2/connections/billing/anycost/acme-gpu/billing_drops");
  EXPECT_EQ(seen[0].body, request.body);
  EXPECT_EQ(header(seen[0], "Authorization"), "secret-key-123"); // no "Bearer "
  EXPECT_EQ(header(seen[0], "Content-Type"), "application/json");
  EXPECT_EQ(header(seen[0], "cloudzero-idempotency-key"), "0f1e2d3c");
  EXPECT_EQ(header(seen[0], "cloudzero-test-key"), "throwaway-1");
}

TEST(AnycostDestination, SendsNoTestKeyWhenNoneIsSet) {
  TestServer server;
  server.respond(200, R"({"connection":{"drop_id":"d","month":"2026-08","row_count":1}})");
  AnycostSettings settings;
  settings.base_url = server.base_url();
  settings.api_key = "k";
  ASSERT_EQ(make_anycost_destination(settings)->send(sample_request()).outcome,
            Outcome::acknowledged);
  EXPECT_EQ(header(server.seen().at(0), "cloudzero-test-key"), "<absent>");
}

TEST(AnycostDestination, KeepsTheBaseUrlPathAndEncodesTheConnectionId) {
  TestServer server;
  server.respond(200, "{}");
  AnycostSettings settings;
  settings.base_url = server.base_url() + "/proxy/api/";
  settings.api_key = "k";
  DropRequest request = sample_request();
  request.connection_id = "acme gpu";
  const DropResponse response = make_anycost_destination(settings)->send(request);
  // A 2xx whose body lacks the fields is still acknowledged: the status says it is stored.
  EXPECT_EQ(response.outcome, Outcome::acknowledged);
  EXPECT_EQ(response.drop_id, "");
  // The server decodes %20 back to the space.
  EXPECT_EQ(server.seen().at(0).path,
            "/proxy/api/v2/connections/billing/anycost/acme gpu/billing_drops");
}

struct StatusCase {
  int status;
  std::string body;
  httplib::Headers headers;
  Outcome outcome;
  std::string message;
  std::optional<milliseconds> retry_after;
};

TEST(AnycostDestination, MapsEveryStatusToItsOutcomeAndMessage) {
  TestServer server;
  AnycostSettings settings;
  settings.base_url = server.base_url();
  settings.api_key = "k";
  const std::unique_ptr<Destination> destination = make_anycost_destination(settings);
  const std::vector<StatusCase> cases{
      {400,
       R"({"error":{"message":"data[0]: cost/cost: \"abc\" is not a decimal","type":"invalid_cbf"}})",
       {},
       Outcome::rejected,
       "data[0]: cost/cost: \"abc\" is not a decimal",
       std::nullopt},
      {403,
       R"({"message":"the API key is not valid"})",
       {},
       Outcome::rejected,
       "the API key is not valid",
       std::nullopt},
      {413,
       R"({"message":"the request body is 6000000 bytes"})",
       {},
       Outcome::rejected,
       "the request body is 6000000 bytes",
       std::nullopt},
      {404,
       R"({"error":{"message":"no such connection","type":"not_found"}})",
       {},
       Outcome::rejected,
       "no such connection",
       std::nullopt},
      {429,
       R"({"message":"one at a time"})",
       {{"Retry-After", "3"}},
       Outcome::retryable,
       "one at a time",
       milliseconds(3000)},
      {409, R"({"message":"conflict"})", {}, Outcome::retryable, "conflict", std::nullopt},
      {500, R"({"message":"internal"})", {}, Outcome::retryable, "internal", std::nullopt},
      {503,
       "upstream down\n",
       {{"Retry-After", "Fri, 16 Aug 2024 00:00:30 GMT"}},
       Outcome::retryable,
       "upstream down",
       milliseconds(0)}, // a date long past
      {502, "", {}, Outcome::retryable, "HTTP 502 with an empty body", std::nullopt},
  };
  for (const StatusCase& c : cases) {
    server.respond(c.status, c.body, c.headers);
    const DropResponse response = destination->send(sample_request());
    EXPECT_EQ(response.http_status, c.status);
    EXPECT_EQ(response.outcome, c.outcome) << c.status;
    EXPECT_EQ(response.message, c.message) << c.status;
    EXPECT_EQ(response.retry_after, c.retry_after) << c.status;
  }
}

TEST(AnycostDestination, AResponseCutOffMidwayIsAmbiguous) {
  TestServer server;
  server.respond([](const httplib::Request&, httplib::Response& res) {
    res.status = 200;
    res.set_chunked_content_provider("application/json", [](std::size_t, httplib::DataSink& sink) {
      constexpr std::string_view partial = R"({"connection":{"drop_id":")";
      sink.write(partial.data(), partial.size());
      return false; // the connection closes without the final chunk
    });
  });
  AnycostSettings settings;
  settings.base_url = server.base_url();
  settings.api_key = "k";
  const DropResponse response = make_anycost_destination(settings)->send(sample_request());
  EXPECT_EQ(response.outcome, Outcome::ambiguous);
  EXPECT_EQ(response.http_status, 0);
  EXPECT_NE(response.message.find("no complete response"), std::string::npos) << response.message;
}

TEST(AnycostDestination, ATimeoutIsAmbiguous) {
  TestServer server;
  server.respond([](const httplib::Request&, httplib::Response& res) {
    std::this_thread::sleep_for(milliseconds(800));
    res.status = 200;
    res.set_content("{}", "application/json");
  });
  AnycostSettings settings;
  settings.base_url = server.base_url();
  settings.api_key = "k";
  settings.timeout = milliseconds(150);
  const auto started = std::chrono::steady_clock::now();
  const DropResponse response = make_anycost_destination(settings)->send(sample_request());
  EXPECT_EQ(response.outcome, Outcome::ambiguous);
  EXPECT_EQ(response.http_status, 0);
  EXPECT_LT(std::chrono::steady_clock::now() - started, milliseconds(700));
}

TEST(AnycostDestination, ARefusedConnectionIsRetryableAndSaysWhere) {
  // No connection means no request left: nothing can be stored, so it is not ambiguous (which
  // would restart a split hour for nothing).
  std::string base_url;
  {
    TestServer server; // bind a port, then free it: nothing listens there any more
    base_url = server.base_url();
  }
  AnycostSettings settings;
  settings.base_url = base_url;
  settings.api_key = "k";
  const DropResponse response = make_anycost_destination(settings)->send(sample_request());
  EXPECT_EQ(response.outcome, Outcome::retryable);
  EXPECT_EQ(response.http_status, 0);
  EXPECT_NE(response.message.find("Could not establish connection to " + base_url),
            std::string::npos)
      << response.message;
}

TEST(AnycostDestination, ReusesItsConnection) {
  TestServer server;
  server.respond(200, R"({"connection":{"drop_id":"d","month":"2026-08","row_count":1}})");
  AnycostSettings settings;
  settings.base_url = server.base_url();
  settings.api_key = "k";
  const std::unique_ptr<Destination> destination = make_anycost_destination(settings);
  ASSERT_EQ(destination->send(sample_request()).outcome, Outcome::acknowledged);
  ASSERT_EQ(destination->send(sample_request()).outcome, Outcome::acknowledged);
  const std::vector<Seen> seen = server.seen();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].remote_port, seen[1].remote_port); // same client socket: kept alive
}

TEST(AnycostDestination, DescribeNeverShowsTheKey) {
  AnycostSettings settings;
  settings.base_url = "https://api.cloudzero.com";
  settings.api_key = "super-secret-api-key";
  settings.test_key = "secret-test-key";
  const std::string described = make_anycost_destination(settings)->describe();
  EXPECT_NE(described.find("https://api.cloudzero.com"), std::string::npos) << described;
  EXPECT_EQ(described.find("super-secret"), std::string::npos) << described;
  EXPECT_EQ(described.find("secret-test-key"), std::string::npos) << described;
}

TEST(AnycostDestination, AnErrorMessageNeverRepeatsTheKey) {
  TestServer server;
  server.respond(403, R"({"message":"key super-secret-api-key is not valid"})");
  AnycostSettings settings;
  settings.base_url = server.base_url();
  settings.api_key = "super-secret-api-key";
  const DropResponse response = make_anycost_destination(settings)->send(sample_request());
  EXPECT_EQ(response.message, "key <API key> is not valid");
}

TEST(AnycostDestination, AnUnusableBaseUrlRejectsWithoutQuotingIt) {
  for (const std::string url :
       {"ftp://example.com", "example.com", "https://user:hunter2@example.com", "https://"}) {
    AnycostSettings settings;
    settings.base_url = url;
    settings.api_key = "k";
    const std::unique_ptr<Destination> destination = make_anycost_destination(settings);
    const DropResponse response = destination->send(sample_request());
    EXPECT_EQ(response.outcome, Outcome::rejected) << url;
    EXPECT_NE(response.message.find("base URL"), std::string::npos) << response.message;
    EXPECT_EQ(response.message.find("hunter2"), std::string::npos) << response.message;
    EXPECT_EQ(destination->describe().find("hunter2"), std::string::npos);
  }
}

// ---------------------------------------------------------------------------------------------
// The AnyCost destination's read-back (what it sums is checked against the real emulator in
// tests/host/jobs/readback_test.cpp; here the request and the answers a server might give)

std::unique_ptr<Destination> reader_for(const TestServer& server, std::string key = "k") {
  AnycostSettings settings;
  settings.base_url = server.base_url();
  settings.api_key = std::move(key);
  return make_anycost_destination(settings);
}

// The read-back's error, or a failure naming what came back instead.
Error read_back_error(Destination& destination, Month month = Month(2026, 8)) {
  Result<std::optional<LandedMonth>> landed = destination.read_back("acme-gpu", month);
  EXPECT_FALSE(landed.ok()) << "read back " << (landed && *landed ? (*landed)->rows : 0) << " rows";
  return landed ? internal_error("no error") : std::move(landed).error();
}

TEST(AnycostReadBack, GetsTheMonthRouteWithTheSendHeadersButNoIdempotencyKey) {
  TestServer server;
  server.respond(
      200, R"({"billing_drop":[)"
           R"({"time/usage_start":"2026-08-01T00:10:00Z","cost/cost":"0.1"},)"
           R"({"cost/cost":"0.2","lineitem/type":"Tax","time/usage_start":"2026-08-01T00:20:00Z"},)"
           R"({"time/usage_start":"2026-08-02 05:00:00+01:00","cost/cost":"-1.25"}]})");
  AnycostSettings settings;
  settings.base_url = server.base_url() + "/proxy";
  settings.api_key = "secret-key-123";
  settings.test_key = "throwaway-1";
  Result<std::optional<LandedMonth>> landed =
      make_anycost_destination(settings)->read_back("acme gpu/1", Month(2026, 8));

  ASSERT_TRUE(landed.ok()) << landed.error().message();
  ASSERT_TRUE(landed->has_value());
  const LandedMonth& month = **landed;
  EXPECT_EQ(month.rows, 3u);
  EXPECT_EQ(month.cost, Decimal::from_string("-0.95")); // exact: 0.1 + 0.2 - 1.25
  ASSERT_EQ(month.hours.size(), 2u);
  EXPECT_EQ(month.hours.at("2026-08-01T00"), (cbf::HourTotals{2, Decimal::from_string("0.3")}));
  // An offset is converted to UTC before the hour is taken.
  EXPECT_EQ(month.hours.at("2026-08-02T04"), (cbf::HourTotals{1, Decimal::from_string("-1.25")}));

  const std::vector<Seen> seen = server.seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].method, "GET");
  EXPECT_EQ(seen[0].path, "/proxy/v2/connections/billing/anycost/acme gpu/1/billing_drops/2026-08");
  EXPECT_EQ(header(seen[0], "Authorization"), "secret-key-123");
  EXPECT_EQ(header(seen[0], "cloudzero-test-key"), "throwaway-1");
  // A stored answer would be replayed for a repeated key: a read-back must see the month now.
  EXPECT_EQ(header(seen[0], "cloudzero-idempotency-key"), "<absent>");
}

TEST(AnycostReadBack, NotFoundIsAnEmptyMonth) {
  TestServer server;
  server.respond(404, R"({"error":{"message":"no rows for 2026-08","type":"not_found"}})");
  Result<std::optional<LandedMonth>> landed = reader_for(server)->read_back("c", Month(2026, 8));
  ASSERT_TRUE(landed.ok()) << landed.error().message();
  ASSERT_TRUE(landed->has_value());
  EXPECT_EQ(**landed, LandedMonth{});
}

TEST(AnycostReadBack, AnErrorStatusNamesTheStatusAndMessageButNeverTheKey) {
  TestServer server;
  const std::unique_ptr<Destination> destination = reader_for(server, "secret-key-123");
  server.respond(403, R"({"message":"the API key secret-key-123 lacks a scope"})");
  const Error forbidden = read_back_error(*destination);
  EXPECT_EQ(forbidden.message(), "reading back 2026-08 of connection acme-gpu: HTTP 403: the API "
                                 "key <API key> lacks a scope");
  EXPECT_FALSE(forbidden.retryable());

  // A key of a few letters would match ordinary words: it is left alone.
  server.respond(400, R"({"error":{"message":"bad key","type":"invalid"}})");
  EXPECT_EQ(read_back_error(*reader_for(server, "key")).message(),
            "reading back 2026-08 of connection acme-gpu: HTTP 400: bad key");

  server.respond(503, R"({"message":"try later"})");
  const Error unavailable = read_back_error(*destination);
  EXPECT_NE(unavailable.message().find("HTTP 503: try later"), std::string::npos)
      << unavailable.message();
  EXPECT_TRUE(unavailable.retryable());
}

TEST(AnycostReadBack, ABodyItCannotSumIsAnErrorNamingTheRow) {
  TestServer server;
  const std::unique_ptr<Destination> destination = reader_for(server);
  const std::string good = R"({"time/usage_start":"2026-08-01T00:00:00Z","cost/cost":"1"})";
  const std::vector<std::pair<std::string, std::string>> cases{
      {"[]", "the answer is not {\"billing_drop\":[rows]}"},
      {R"({"billing_drop":{}})", "the answer is not {\"billing_drop\":[rows]}"},
      {"not json", "the answer is not {\"billing_drop\":[rows]}"},
      {R"({"billing_drop":[)" + good + R"(,"row"]})", "billing_drop[1]: is not a JSON object"},
      {R"({"billing_drop":[)" + good +
           R"(,{"time/usage_start":"2026-08-01T00:00:00Z","cost/cost":1.5}]})",
       "billing_drop[1]: cost/cost is not a JSON string"},
      {R"({"billing_drop":[{"time/usage_start":"2026-08-01T00:00:00Z"}]})",
       "billing_drop[0]: has no cost/cost"},
      {R"({"billing_drop":[{"cost/cost":"1"}]})", "billing_drop[0]: has no time/usage_start"},
      {R"({"billing_drop":[{"time/usage_start":"2026-08-01T00:00:00Z","cost/cost":"1e400x"}]})",
       "billing_drop[0]: cost/cost: "},
      {R"({"billing_drop":[{"time/usage_start":"yesterday","cost/cost":"1"}]})",
       "billing_drop[0]: time/usage_start: "},
  };
  for (const auto& [body, expected] : cases) {
    server.respond(200, body);
    const Error error = read_back_error(*destination);
    EXPECT_EQ(error.message().rfind("reading back 2026-08 of connection acme-gpu: " + expected, 0),
              0u)
        << body << "\n"
        << error.message();
    EXPECT_EQ(error.kind(), ErrorKind::data) << body;
  }
}

TEST(AnycostReadBack, NoConnectionIsRetryable) {
  std::string base_url;
  {
    TestServer server; // bind a port, then free it
    base_url = server.base_url();
  }
  AnycostSettings settings;
  settings.base_url = base_url;
  settings.api_key = "k";
  const std::unique_ptr<Destination> destination = make_anycost_destination(settings);
  const Error error = read_back_error(*destination);
  EXPECT_NE(error.message().find("Could not establish connection"), std::string::npos)
      << error.message();
  EXPECT_TRUE(error.retryable());
}

TEST(AnycostReadBack, AnUnusableBaseUrlIsAConfigError) {
  AnycostSettings settings;
  settings.base_url = "https://user:hunter2@example.com";
  settings.api_key = "k";
  const std::unique_ptr<Destination> destination = make_anycost_destination(settings);
  const Error error = read_back_error(*destination);
  EXPECT_EQ(error.kind(), ErrorKind::config);
  EXPECT_NE(error.message().find("base URL"), std::string::npos) << error.message();
  EXPECT_EQ(error.message().find("hunter2"), std::string::npos) << error.message();
}

// ---------------------------------------------------------------------------------------------
// The dir destination

std::string read_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string read_gzip(const fs::path& file) {
  Result<std::unique_ptr<ByteSource>> source = open_file(file, Compression::gzip);
  EXPECT_TRUE(source.ok()) << file;
  if (!source)
    return "";
  std::string out;
  char buffer[4096];
  for (;;) {
    Result<std::size_t> got = (*source)->read(buffer, sizeof buffer);
    EXPECT_TRUE(got.ok());
    if (!got || *got == 0)
      break;
    out.append(buffer, *got);
  }
  return out;
}

std::vector<fs::path> listing(const fs::path& dir) {
  std::vector<fs::path> out;
  if (!fs::exists(dir))
    return out;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir))
    out.push_back(entry.path().filename());
  std::sort(out.begin(), out.end());
  return out;
}

// Canonical rows, as RowValidator writes them.
const std::string kRow1 = R"({"time/usage_start":"2026-08-01T00:00:00Z","cost/cost":"1.5"})";
const std::string kRow2 =
    R"({"time/usage_start":"2026-08-01T01:00:00Z","lineitem/type":"Tax","cost/cost":"0.25"})";
const std::string kRow3 =
    R"({"time/usage_start":"2026-08-01T01:00:00Z","lineitem/description":"GPU, \"large\"","cost/cost":"2"})";
const std::string kRow4 =
    R"({"time/usage_start":"2026-08-01T00:00:00Z","cost/cost":"-0.5","resource/id":"vm/1","resource/tag:env":"prod"})";

DropRequest dir_request(cbf::DropOperation operation, const std::vector<std::string>& rows,
                        std::uint32_t index, std::uint32_t count) {
  DropRequest request;
  request.connection_id = "acme";
  request.month = Month(2026, 8);
  request.operation = operation;
  request.body = "{\"month\":\"2026-08\",\"operation\":\"" +
                 std::string(cbf::to_string(operation)) + "\",\"data\":[";
  for (std::size_t i = 0; i < rows.size(); ++i)
    request.body += (i > 0 ? "," : "") + rows[i];
  request.body += "]}";
  request.chunk_index = index;
  request.chunk_count = count;
  return request;
}

class DirDestinationTest : public ::testing::Test {
protected:
  void SetUp() override {
    const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
    // Per test and process (ctest runs tests in parallel, and two checkouts may test at once);
    // not created: the destination makes its own folders.
    root_ = fs::temp_directory_path() / "billdrop_dir_destination" /
            (std::string(test->name()) + "_" + std::to_string(::getpid()));
    fs::remove_all(root_);
  }
  void TearDown() override {
    if (!HasFailure())
      fs::remove_all(root_);
  }

  fs::path range() const { return root_ / "bucket" / "acme" / "20260801-20260901"; }

  fs::path root_;
};

TEST_F(DirDestinationTest, WritesBodiesAppliesOperationsAndTheBucketAfterTheLastChunk) {
  const std::unique_ptr<Destination> destination = make_dir_destination(root_);
  EXPECT_EQ(destination->describe(), "dir " + root_.string());

  const DropRequest first = dir_request(cbf::DropOperation::replace_drop, {kRow1, kRow2}, 0, 2);
  const DropResponse sent_first = destination->send(first);
  ASSERT_EQ(sent_first.outcome, Outcome::acknowledged) << sent_first.message;
  EXPECT_EQ(sent_first.row_count, 2u);
  EXPECT_EQ(sent_first.drop_id, "");
  EXPECT_FALSE(fs::exists(range())) << "no bucket before the month's last chunk";

  // Chunk 2 of 2 replaces hour 01: kRow2 goes, kRow3 comes.
  const DropRequest second = dir_request(cbf::DropOperation::replace_hourly, {kRow3}, 1, 2);
  const DropResponse sent_second = destination->send(second);
  ASSERT_EQ(sent_second.outcome, Outcome::acknowledged) << sent_second.message;
  ASSERT_EQ(sent_second.drop_id.size(), 32u);

  const fs::path bodies = root_ / "bodies" / "acme" / "2026-08";
  EXPECT_EQ(listing(bodies),
            (std::vector<fs::path>{"00000-replace_drop.json", "00001-replace_hourly.json"}));
  EXPECT_EQ(read_file(bodies / "00000-replace_drop.json"), first.body);
  EXPECT_EQ(read_file(bodies / "00001-replace_hourly.json"), second.body);

  EXPECT_EQ(listing(range()), (std::vector<fs::path>{sent_second.drop_id, "manifest.json"}));
  EXPECT_EQ(read_file(range() / "manifest.json"),
            "{\"version\":\"1.3.0\",\"current_drop_id\":\"" + sent_second.drop_id + "\"}\n");
  EXPECT_EQ(listing(range() / sent_second.drop_id), (std::vector<fs::path>{"part-00000.csv.gz"}));
  EXPECT_EQ(read_gzip(range() / sent_second.drop_id / "part-00000.csv.gz"),
            "time/usage_start,lineitem/description,cost/cost\n"
            "2026-08-01T00:00:00Z,,1.5\n"
            "2026-08-01T01:00:00Z,\"GPU, \"\"large\"\"\",2\n");

  // A sum adds to the month; the bucket gets a new drop and the old one goes.
  const DropResponse summed =
      destination->send(dir_request(cbf::DropOperation::sum, {kRow4}, 0, 1));
  ASSERT_EQ(summed.outcome, Outcome::acknowledged) << summed.message;
  EXPECT_NE(summed.drop_id, sent_second.drop_id);
  EXPECT_EQ(listing(range()), (std::vector<fs::path>{summed.drop_id, "manifest.json"}));
  EXPECT_EQ(read_gzip(range() / summed.drop_id / "part-00000.csv.gz"),
            "time/usage_start,lineitem/description,cost/cost,resource/id,resource/tag:env\n"
            "2026-08-01T00:00:00Z,,1.5,,\n"
            "2026-08-01T01:00:00Z,\"GPU, \"\"large\"\"\",2,,\n"
            "2026-08-01T00:00:00Z,,-0.5,vm/1,prod\n");

  // An empty replace_drop empties the month: a header-only file.
  const DropResponse emptied =
      destination->send(dir_request(cbf::DropOperation::replace_drop, {}, 0, 1));
  ASSERT_EQ(emptied.outcome, Outcome::acknowledged) << emptied.message;
  EXPECT_EQ(read_gzip(range() / emptied.drop_id / "part-00000.csv.gz"),
            "time/usage_start,cost/cost\n");
  EXPECT_EQ(read_file(range() / "manifest.json"),
            "{\"version\":\"1.3.0\",\"current_drop_id\":\"" + emptied.drop_id + "\"}\n");
}

TEST_F(DirDestinationTest, ANewPlanRemovesTheBodiesOfTheLastOne) {
  const std::unique_ptr<Destination> destination = make_dir_destination(root_);
  const fs::path bodies = root_ / "bodies" / "acme" / "2026-08";
  // A plan of three chunks...
  for (std::uint32_t i = 0; i < 3; ++i) {
    const DropRequest request =
        dir_request(i == 0 ? cbf::DropOperation::replace_drop : cbf::DropOperation::replace_hourly,
                    {i == 0   ? kRow1
                     : i == 1 ? kRow2
                              : kRow3},
                    i, 3);
    ASSERT_EQ(destination->send(request).outcome, Outcome::acknowledged);
  }
  ASSERT_EQ(listing(bodies),
            (std::vector<fs::path>{"00000-replace_drop.json", "00001-replace_hourly.json",
                                   "00002-replace_hourly.json"}));
  std::ofstream(bodies / "notes.txt") << "the operator's own file\n";

  // ...then a plan of one: only its body is left, and files billdrop did not write stay.
  const DropRequest only = dir_request(cbf::DropOperation::replace_drop, {kRow4}, 0, 1);
  ASSERT_EQ(destination->send(only).outcome, Outcome::acknowledged);
  EXPECT_EQ(listing(bodies), (std::vector<fs::path>{"00000-replace_drop.json", "notes.txt"}));
  EXPECT_EQ(read_file(bodies / "00000-replace_drop.json"), only.body);

  // A rejected first chunk changes nothing.
  DropRequest bad = dir_request(cbf::DropOperation::replace_drop, {kRow4}, 0, 2);
  bad.body = "{\"month\":\"2026-08\",\"data\":[{\"cost/cost\":\"1\"}]}";
  EXPECT_EQ(destination->send(bad).outcome, Outcome::rejected);
  EXPECT_EQ(listing(bodies), (std::vector<fs::path>{"00000-replace_drop.json", "notes.txt"}));
}

TEST_F(DirDestinationTest, TheDropIdComesFromTheRowsAlone) {
  const auto send_month = [](const fs::path& root) {
    const std::unique_ptr<Destination> destination = make_dir_destination(root);
    EXPECT_EQ(
        destination->send(dir_request(cbf::DropOperation::replace_drop, {kRow1}, 0, 2)).outcome,
        Outcome::acknowledged);
    return destination->send(dir_request(cbf::DropOperation::replace_hourly, {kRow3}, 1, 2))
        .drop_id;
  };
  const std::string first = send_month(root_ / "a");
  EXPECT_EQ(first.size(), 32u);
  EXPECT_EQ(send_month(root_ / "b"), first);
  // The same rows reached another way (one replace_drop) are the same drop.
  const std::unique_ptr<Destination> other = make_dir_destination(root_ / "c");
  EXPECT_EQ(
      other->send(dir_request(cbf::DropOperation::replace_drop, {kRow1, kRow3}, 0, 1)).drop_id,
      first);
  EXPECT_NE(other->send(dir_request(cbf::DropOperation::replace_drop, {kRow1}, 0, 1)).drop_id,
            first);
}

TEST_F(DirDestinationTest, SplitsTheCsvAtTheRowLimitPerFile) {
  const std::unique_ptr<Destination> destination = make_dir_destination(root_, 2);
  std::vector<std::string> rows;
  for (int i = 0; i < 5; ++i)
    rows.push_back(R"({"time/usage_start":"2026-08-0)" + std::to_string(i + 1) +
                   R"(T00:00:00Z","cost/cost":")" + std::to_string(i) + "\"}");
  const DropResponse response =
      destination->send(dir_request(cbf::DropOperation::replace_drop, rows, 0, 1));
  ASSERT_EQ(response.outcome, Outcome::acknowledged) << response.message;
  const fs::path drop = range() / response.drop_id;
  EXPECT_EQ(listing(drop),
            (std::vector<fs::path>{"part-00000.csv.gz", "part-00001.csv.gz", "part-00002.csv.gz"}));
  EXPECT_EQ(read_gzip(drop / "part-00000.csv.gz"),
            "time/usage_start,cost/cost\n2026-08-01T00:00:00Z,0\n2026-08-02T00:00:00Z,1\n");
  EXPECT_EQ(read_gzip(drop / "part-00001.csv.gz"),
            "time/usage_start,cost/cost\n2026-08-03T00:00:00Z,2\n2026-08-04T00:00:00Z,3\n");
  EXPECT_EQ(read_gzip(drop / "part-00002.csv.gz"),
            "time/usage_start,cost/cost\n2026-08-05T00:00:00Z,4\n");
}

TEST_F(DirDestinationTest, RejectsWhatTheApiWouldReject) {
  const std::unique_ptr<Destination> destination = make_dir_destination(root_);
  const DropResponse bad_cost = destination->send(
      dir_request(cbf::DropOperation::replace_drop,
                  {R"({"time/usage_start":"2026-08-01T00:00:00Z","cost/cost":"abc"})"}, 0, 1));
  EXPECT_EQ(bad_cost.outcome, Outcome::rejected);
  EXPECT_EQ(bad_cost.http_status, 400);
  EXPECT_NE(bad_cost.message.find("cost/cost"), std::string::npos) << bad_cost.message;

  DropRequest other_month = dir_request(cbf::DropOperation::replace_drop, {kRow1}, 0, 1);
  other_month.month = Month(2026, 9);
  const DropResponse mismatch = destination->send(other_month);
  EXPECT_EQ(mismatch.outcome, Outcome::rejected);
  EXPECT_NE(mismatch.message.find("2026-09"), std::string::npos) << mismatch.message;

  DropRequest escaping = dir_request(cbf::DropOperation::replace_drop, {kRow1}, 0, 1);
  escaping.connection_id = "../elsewhere";
  EXPECT_EQ(destination->send(escaping).outcome, Outcome::rejected);
  EXPECT_FALSE(fs::exists(root_ / "bucket")) << "nothing written for rejected requests";
}

TEST_F(DirDestinationTest, ReadsBackTheMonthsCurrentRows) {
  const std::unique_ptr<Destination> destination = make_dir_destination(root_);
  ASSERT_EQ(
      destination->send(dir_request(cbf::DropOperation::replace_drop, {kRow1, kRow2, kRow3}, 0, 2))
          .outcome,
      Outcome::acknowledged);
  // The second chunk replaces hour 00 (kRow1) with kRow4 and keeps hour 01 (kRow2, kRow3).
  ASSERT_EQ(
      destination->send(dir_request(cbf::DropOperation::replace_hourly, {kRow4}, 1, 2)).outcome,
      Outcome::acknowledged);

  Result<std::optional<LandedMonth>> landed = destination->read_back("acme", Month(2026, 8));
  ASSERT_TRUE(landed.ok()) << landed.error().message();
  ASSERT_TRUE(landed->has_value());
  EXPECT_EQ((*landed)->rows, 3u);
  EXPECT_EQ((*landed)->cost, Decimal::from_string("1.75")); // -0.5 + 0.25 + 2
  ASSERT_EQ((*landed)->hours.size(), 2u);
  EXPECT_EQ((*landed)->hours.at("2026-08-01T00"),
            (cbf::HourTotals{1, Decimal::from_string("-0.5")}));
  EXPECT_EQ((*landed)->hours.at("2026-08-01T01"),
            (cbf::HourTotals{2, Decimal::from_string("2.25")}));

  // A month never sent, and a connection never sent to, hold nothing.
  for (const auto& [connection, month] :
       {std::pair<std::string, Month>{"acme", Month(2026, 9)}, {"other", Month(2026, 8)}}) {
    Result<std::optional<LandedMonth>> empty = destination->read_back(connection, month);
    ASSERT_TRUE(empty.ok()) << empty.error().message();
    ASSERT_TRUE(empty->has_value());
    EXPECT_EQ(**empty, LandedMonth{}) << connection << " " << month.to_string();
  }
  Result<std::optional<LandedMonth>> escaping = destination->read_back("..", Month(2026, 8));
  ASSERT_FALSE(escaping.ok());
  EXPECT_NE(escaping.error().message().find("cannot name a folder"), std::string::npos);
}

} // namespace
} // namespace billdrop::send
