// The AnyCost Stream emulator over real HTTP on loopback: every endpoint, every error code and
// body shape, the three operations, idempotency replay, one request in flight per connection,
// each injected fault, and reproducible fault sequences.
#include "emulator/emulator.hpp"

// PkgConfig::HTTPLIB supplies the feature macros cpp-httplib's shared library was built with.
#include <httplib.h>

#include <gtest/gtest.h>
#include <simdjson.h>
#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace billdrop::emulator {
namespace {

using namespace std::chrono_literals;

constexpr const char* kKey = "test-api-key";
const std::string kBase = "/v2/connections/billing/anycost/";

std::string drops_path(const std::string& connection) {
  return kBase + connection + "/billing_drops";
}

// A CBF row as billdrop writes it (already canonical: RowValidator leaves it unchanged).
std::string row(std::string_view start, std::string_view cost) {
  return std::string(R"({"time/usage_start":")") + std::string(start) + R"(","cost/cost":")" +
         std::string(cost) + R"("})";
}

std::string body(std::string_view month, std::string_view operation,
                 const std::vector<std::string>& rows) {
  std::string out = R"({"month":")" + std::string(month) + R"(","operation":")" +
                    std::string(operation) + R"(","data":[)";
  for (std::size_t i = 0; i < rows.size(); ++i)
    out += (i > 0 ? "," : "") + rows[i];
  return out + "]}";
}

struct Reply {
  bool arrived = false; // false: the transport failed, no response
  httplib::Error error = httplib::Error::Success;
  int status = 0;
  std::string body;
  std::string retry_after;
};

Reply to_reply(const httplib::Result& result) {
  Reply reply;
  reply.error = result.error();
  if (!result)
    return reply;
  reply.arrived = true;
  reply.status = result->status;
  reply.body = result->body;
  reply.retry_after = result->get_header_value("Retry-After");
  return reply;
}

// JSON access for checking response bodies.
class Json {
public:
  explicit Json(const std::string& text) {
    if (parser_.parse(text).get(root_))
      ADD_FAILURE() << "not JSON: " << text;
  }
  std::string str(std::string_view pointer) {
    std::string_view value;
    if (root_.at_pointer(pointer).get(value)) {
      ADD_FAILURE() << "no string at " << pointer;
      return "";
    }
    return std::string(value);
  }
  std::int64_t integer(std::string_view pointer) {
    std::int64_t value = -1;
    if (root_.at_pointer(pointer).get(value))
      ADD_FAILURE() << "no integer at " << pointer;
    return value;
  }
  bool boolean(std::string_view pointer) {
    bool value = false;
    if (root_.at_pointer(pointer).get(value))
      ADD_FAILURE() << "no boolean at " << pointer;
    return value;
  }
  std::size_t size(std::string_view pointer) {
    simdjson::dom::array array;
    if (root_.at_pointer(pointer).get(array)) {
      ADD_FAILURE() << "no array at " << pointer;
      return 0;
    }
    return array.size();
  }
  // The member names of the object at `pointer` ("" for the root), to check a body's shape.
  std::set<std::string> keys(std::string_view pointer = "") {
    simdjson::dom::object object;
    std::set<std::string> out;
    if (root_.at_pointer(pointer).get(object)) {
      ADD_FAILURE() << "no object at '" << pointer << "'";
      return out;
    }
    for (auto field : object)
      out.emplace(field.key);
    return out;
  }
  std::string raw(std::string_view pointer) {
    simdjson::dom::element element;
    if (root_.at_pointer(pointer).get(element)) {
      ADD_FAILURE() << "nothing at " << pointer;
      return "";
    }
    return simdjson::minify(element);
  }

private:
  simdjson::dom::parser parser_;
  simdjson::dom::element root_;
};

// 400 and 404: {"error":{"message","type"}}; returns the message.
std::string expect_error_shape(const Reply& reply, int status, std::string_view type) {
  EXPECT_TRUE(reply.arrived);
  EXPECT_EQ(reply.status, status) << reply.body;
  Json json(reply.body);
  EXPECT_EQ(json.keys(), std::set<std::string>{"error"}) << reply.body;
  EXPECT_EQ(json.keys("/error"), (std::set<std::string>{"message", "type"})) << reply.body;
  EXPECT_EQ(json.str("/error/type"), type);
  return json.str("/error/message");
}

// 403, 413, 429 and 5xx: {"message"}; returns the message.
std::string expect_message_shape(const Reply& reply, int status) {
  EXPECT_TRUE(reply.arrived);
  EXPECT_EQ(reply.status, status) << reply.body;
  Json json(reply.body);
  EXPECT_EQ(json.keys(), std::set<std::string>{"message"}) << reply.body;
  return json.str("/message");
}

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

class EmulatorTest : public ::testing::Test {
protected:
  void start(EmulatorOptions options = {}) {
    emulator_ = std::make_unique<Emulator>(std::move(options));
    Result<std::uint16_t> port = emulator_->start("127.0.0.1", 0);
    ASSERT_TRUE(port.ok()) << port.error().message();
    ASSERT_NE(*port, 0);
    ASSERT_EQ(emulator_->port(), *port);
  }

  httplib::Client client() const {
    httplib::Client client("127.0.0.1", emulator_->port());
    client.set_read_timeout(20, 0);
    return client;
  }

  static httplib::Headers headers(std::string_view idempotency_key = "",
                                  std::string_view test_key = "") {
    httplib::Headers out{{"Authorization", kKey}};
    if (!idempotency_key.empty())
      out.emplace("cloudzero-idempotency-key", std::string(idempotency_key));
    if (!test_key.empty())
      out.emplace("cloudzero-test-key", std::string(test_key));
    return out;
  }

  Reply post(const std::string& path, const std::string& payload,
             const httplib::Headers& with = headers()) const {
    return to_reply(client().Post(path, with, payload, "application/json"));
  }
  Reply send(const std::string& connection, const std::string& payload,
             const httplib::Headers& with = headers()) const {
    return post(drops_path(connection), payload, with);
  }
  Reply get(const std::string& path, const httplib::Headers& with = headers()) const {
    return to_reply(client().Get(path, with));
  }

  MonthState state(const std::string& connection, std::string_view month) const {
    Result<MonthState> state = emulator_->month_state(connection, Month::parse(month).value());
    EXPECT_TRUE(state.ok()) << state.error().message();
    return state.ok() ? *state : MonthState{};
  }

  // Expects exactly these (hour -> rows, cost) in the month, and the totals they add up to.
  void expect_hours(const std::string& connection, std::string_view month,
                    const std::map<std::string, std::pair<std::uint64_t, std::string>>& hours) {
    const MonthState actual = state(connection, month);
    std::uint64_t rows = 0;
    std::map<std::string, std::pair<std::uint64_t, std::string>> got;
    for (const auto& [hour, totals] : actual.hours)
      got[hour] = {totals.rows, totals.cost.normalized().to_string()};
    for (const auto& [hour, totals] : hours)
      rows += totals.first;
    EXPECT_EQ(got, hours);
    EXPECT_EQ(actual.rows, rows);
  }

  std::unique_ptr<Emulator> emulator_;
};

// --- send a drop -------------------------------------------------------------------------------

TEST_F(EmulatorTest, SendDropAnswersDropIdMonthAndRowCountAndStoresTheRows) {
  start();
  const Reply reply = send(
      "conn-1", body("2024-08", "replace_drop",
                     {row("2024-08-01T00:00:00Z", "1.25"), row("2024-08-01T00:30:00Z", "-0.25"),
                      row("2024-08-31T23:00:00Z", "0.000001")}));
  ASSERT_EQ(reply.status, 200) << reply.body;
  Json json(reply.body);
  EXPECT_EQ(json.keys(), std::set<std::string>{"connection"});
  EXPECT_EQ(json.keys("/connection"), (std::set<std::string>{"drop_id", "month", "row_count"}));
  EXPECT_EQ(json.str("/connection/month"), "2024-08");
  EXPECT_EQ(json.integer("/connection/row_count"), 3);
  EXPECT_EQ(json.str("/connection/drop_id").size(), 36u); // UUID-shaped

  // By hand: hour 00 holds 1.25 - 0.25 = 1, hour 31T23 holds 0.000001.
  expect_hours("conn-1", "2024-08",
               {{"2024-08-01T00", {2, "1"}}, {"2024-08-31T23", {1, "0.000001"}}});
  EXPECT_EQ(state("conn-1", "2024-08").cost, Decimal::from_string("1.000001"));
  EXPECT_EQ(state("conn-1", "2024-09").rows, 0u);
  EXPECT_EQ(state("other", "2024-08").rows, 0u);
}

TEST_F(EmulatorTest, SendDropAcceptsTheFullDatetimeMonthAndDefaultsToReplaceDrop) {
  start();
  ASSERT_EQ(send("c", body("2024-02", "sum", {row("2024-02-10T05:00:00Z", "7")})).status, 200);
  // No "operation": replace_drop, so the 7 is gone.
  const std::string payload =
      R"({"month":"2024-02-01T00:00:00Z","data":[)" + row("2024-02-29T23:59:59Z", "2.5") + "]}";
  const Reply reply = send("c", payload);
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(Json(reply.body).str("/connection/month"), "2024-02");
  expect_hours("c", "2024-02", {{"2024-02-29T23", {1, "2.5"}}});
}

TEST_F(EmulatorTest, SendDropRejectsInvalidRowsWith400ListingRowColumnAndRuleAndStoresNothing) {
  start();
  const Reply reply = send(
      "c",
      body(
          "2024-08", "replace_drop",
          {row("2024-08-01T00:00:00Z", "1"), row("2024-08-01T01:00:00Z", "1,5"),
           R"({"time/usage_start":"2024-08-01T02:00:00Z","cost/cost":"1","lineitem/type":"Bogus"})",
           R"({"cost/cost":"1"})"}));
  const std::string message = expect_error_shape(reply, 400, "invalid_cbf");
  EXPECT_TRUE(contains(message, "3 problems")) << message;
  EXPECT_TRUE(contains(message, "data[1]: cost/cost:")) << message;
  EXPECT_TRUE(contains(message, "(rule decimal)")) << message;
  EXPECT_TRUE(contains(message, "data[2]: lineitem/type:")) << message;
  EXPECT_TRUE(contains(message, "(rule lineitem_type)")) << message;
  EXPECT_TRUE(contains(message, "data[3]: time/usage_start:")) << message;
  EXPECT_TRUE(contains(message, "(rule required)")) << message;
  EXPECT_FALSE(contains(message, "data[0]")) << message;
  EXPECT_EQ(state("c", "2024-08").rows, 0u);
  EXPECT_EQ(Json(get(drops_path("c")).body).size("/billing_drops"), 0u);
}

TEST_F(EmulatorTest, SendDropRejectsRowsOutsideTheMonthAndBadBodies) {
  start();
  std::string message = expect_error_shape(
      send("c", body("2024-08", "replace_drop",
                     {row("2024-08-31T23:00:00Z", "1"), row("2024-09-01T00:00:00Z", "1")})),
      400, "invalid_cbf");
  EXPECT_TRUE(contains(message, "data[1]: time/usage_start: the row is in 2024-09")) << message;
  EXPECT_TRUE(contains(message, "month_mismatch")) << message;

  message = expect_error_shape(send("c", body("2024-08", "append", {})), 400, "invalid_cbf");
  EXPECT_TRUE(contains(message, "operation")) << message;
  message = expect_error_shape(send("c", body("2024-8x", "sum", {})), 400, "invalid_cbf");
  EXPECT_TRUE(contains(message, "month")) << message;
  message = expect_error_shape(send("c", R"({"month":"2024-08","data":[)"), 400, "invalid_request");
  EXPECT_TRUE(contains(message, "not valid JSON")) << message;
  message = expect_error_shape(send("c", R"({"month":"2024-08"})"), 400, "invalid_request");
  EXPECT_TRUE(contains(message, "\"data\"")) << message;
  message = expect_error_shape(send("c", R"([1,2])"), 400, "invalid_request");
  message = expect_error_shape(send("c", R"({"month":"2024-08","data":[]} trailing)"), 400,
                               "invalid_request");
  message = expect_error_shape(
      send(
          "c",
          R"({"month":"2024-08","data":[{"time/usage_start":"2024-08-01T00:00:00Z","cost/cost":1.5}]})"),
      400, "invalid_cbf");
  EXPECT_TRUE(contains(message, "data[0]: cost/cost: CBF values are JSON strings, got a number"))
      << message;
  EXPECT_EQ(state("c", "2024-08").rows, 0u);
}

TEST_F(EmulatorTest, SendDropWithoutMonthTakesItFromTheFirstRow) {
  start();
  const Reply reply = send("c", R"({"data":[)" + row("2024-03-05T10:00:00Z", "4") + "]}");
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(Json(reply.body).str("/connection/month"), "2024-03");
  expect_hours("c", "2024-03", {{"2024-03-05T10", {1, "4"}}});
  expect_error_shape(send("c", R"({"data":[]})"), 400, "invalid_cbf");
}

// --- operations --------------------------------------------------------------------------------

TEST_F(EmulatorTest, ReplaceDropReplacesTheWholeMonthAndNoOtherMonth) {
  start();
  ASSERT_EQ(send("c", body("2024-08", "replace_drop",
                           {row("2024-08-01T00:00:00Z", "1"), row("2024-08-01T01:00:00Z", "2"),
                            row("2024-08-02T00:00:00Z", "3")}))
                .status,
            200);
  ASSERT_EQ(send("c", body("2024-07", "replace_drop", {row("2024-07-15T00:00:00Z", "9")})).status,
            200);
  ASSERT_EQ(send("c", body("2024-08", "replace_drop", {row("2024-08-01T01:00:00Z", "0.5")})).status,
            200);
  expect_hours("c", "2024-08", {{"2024-08-01T01", {1, "0.5"}}});
  expect_hours("c", "2024-07", {{"2024-07-15T00", {1, "9"}}});
  // An empty replace_drop empties the month.
  ASSERT_EQ(send("c", body("2024-08", "replace_drop", {})).status, 200);
  EXPECT_EQ(state("c", "2024-08").rows, 0u);
}

TEST_F(EmulatorTest, ReplaceHourlyReplacesOnlyTheHoursItsRowsCover) {
  start();
  ASSERT_EQ(send("c", body("2024-08", "replace_drop",
                           {row("2024-08-01T00:00:00Z", "1"), row("2024-08-01T00:10:00Z", "1"),
                            row("2024-08-01T01:00:00Z", "2"), row("2024-08-01T02:00:00Z", "3")}))
                .status,
            200);
  // Hour 00 (two rows) becomes one row of 10; hour 03 is new; hours 01 and 02 stay.
  const Reply reply =
      send("c", body("2024-08", "replace_hourly",
                     {row("2024-08-01T00:59:59Z", "10"), row("2024-08-01T03:00:00Z", "0.1"),
                      row("2024-08-01T03:30:00Z", "0.2")}));
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(Json(reply.body).integer("/connection/row_count"), 3);
  expect_hours("c", "2024-08",
               {{"2024-08-01T00", {1, "10"}},
                {"2024-08-01T01", {1, "2"}},
                {"2024-08-01T02", {1, "3"}},
                {"2024-08-01T03", {2, "0.3"}}});
  EXPECT_EQ(state("c", "2024-08").cost, Decimal::from_string("15.3"));
  // Repeating the same replace_hourly changes nothing: it is idempotent by construction.
  ASSERT_EQ(send("c", body("2024-08", "replace_hourly",
                           {row("2024-08-01T00:59:59Z", "10"), row("2024-08-01T03:00:00Z", "0.1"),
                            row("2024-08-01T03:30:00Z", "0.2")}))
                .status,
            200);
  EXPECT_EQ(state("c", "2024-08").rows, 5u);
  EXPECT_EQ(state("c", "2024-08").cost, Decimal::from_string("15.3"));
}

TEST_F(EmulatorTest, SumAppendsAndEveryOperationCreatesAMissingMonth) {
  start();
  ASSERT_EQ(send("c", body("2024-08", "sum", {row("2024-08-01T00:00:00Z", "1.1")})).status, 200);
  ASSERT_EQ(send("c", body("2024-08", "sum",
                           {row("2024-08-01T00:00:00Z", "2.2"), row("2024-08-01T05:00:00Z", "-1")}))
                .status,
            200);
  expect_hours("c", "2024-08", {{"2024-08-01T00", {2, "3.3"}}, {"2024-08-01T05", {1, "-1"}}});
  ASSERT_EQ(send("c", body("2024-09", "replace_hourly", {row("2024-09-01T00:00:00Z", "5")})).status,
            200);
  expect_hours("c", "2024-09", {{"2024-09-01T00", {1, "5"}}});
  const Reply list = get(drops_path("c"));
  ASSERT_EQ(list.status, 200);
  Json json(list.body);
  ASSERT_EQ(json.size("/billing_drops"), 2u);
  EXPECT_EQ(json.str("/billing_drops/0/month"), "2024-08");
  EXPECT_EQ(json.integer("/billing_drops/0/row_count"), 3);
  EXPECT_EQ(json.str("/billing_drops/1/month"), "2024-09");
  EXPECT_EQ(json.integer("/billing_drops/1/row_count"), 1);
}

// --- limits ------------------------------------------------------------------------------------

TEST_F(EmulatorTest, BodyOverTheLimitIs413AndNothingIsStored) {
  EmulatorOptions options;
  options.max_body_bytes = 400;
  start(options);
  // Pad a row's description so the body is exactly at the limit, then one byte over.
  auto sized = [](std::size_t bytes) {
    const std::string head =
        R"({"month":"2024-08","operation":"sum","data":[{"time/usage_start":"2024-08-01T00:00:00Z","cost/cost":"1","lineitem/description":")";
    const std::string tail = R"("}]})";
    return head + std::string(bytes - head.size() - tail.size(), 'x') + tail;
  };
  ASSERT_EQ(sized(400).size(), 400u);
  const Reply over = send("c", sized(401));
  const std::string message = expect_message_shape(over, 413);
  EXPECT_TRUE(contains(message, "401 bytes")) << message;
  EXPECT_TRUE(contains(message, "400 bytes")) << message;
  EXPECT_EQ(state("c", "2024-08").rows, 0u);
  EXPECT_EQ(send("c", sized(400)).status, 200);
  EXPECT_EQ(state("c", "2024-08").rows, 1u);

  // A chunked upload has no Content-Length: still 413, still nothing stored.
  const std::string big = sized(401);
  const Reply chunked = to_reply(client().Post(
      drops_path("c"), headers(),
      [&big](std::size_t offset, httplib::DataSink& sink) {
        if (offset < big.size())
          sink.write(big.data() + offset, std::min<std::size_t>(100, big.size() - offset));
        else
          sink.done();
        return true;
      },
      "application/json"));
  expect_message_shape(chunked, 413);
  EXPECT_EQ(state("c", "2024-08").rows, 1u);

  expect_message_shape(post(kBase + "validate_billing_drop", sized(401)), 413);
}

// One HTTP/1.1 exchange over a plain socket, bytes exactly as given: the status code and the
// body of the reply (0 and "" when none came).
std::pair<int, std::string> raw_exchange(std::uint16_t port, const std::string& request) {
  const int sock = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (sock < 0 || ::connect(sock, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ADD_FAILURE() << "cannot connect to the emulator";
    return {0, ""};
  }
  timeval timeout{20, 0};
  ::setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  for (std::size_t sent = 0; sent < request.size();) {
    const ssize_t n = ::send(sock, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0)
      break;
    sent += static_cast<std::size_t>(n);
  }
  std::string reply;
  char buffer[4096];
  for (ssize_t n; (n = ::recv(sock, buffer, sizeof buffer, 0)) > 0;)
    reply.append(buffer, static_cast<std::size_t>(n));
  ::close(sock);
  if (reply.rfind("HTTP/1.1 ", 0) != 0)
    return {0, ""};
  const std::size_t body_at = reply.find("\r\n\r\n");
  return {std::stoi(reply.substr(9, 3)),
          body_at == std::string::npos ? "" : reply.substr(body_at + 4)};
}

// A request with the given extra header lines and body (Content-Length, or chunked in 1,000-byte
// chunks), closing the connection after the reply.
std::string raw_post(const std::string& path, const std::string& extra_headers,
                     const std::string& payload, bool chunked) {
  std::string request = "POST " + path +
                        " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: " + std::string(kKey) +
                        "\r\nConnection: close\r\n" + extra_headers;
  if (!chunked)
    return request + "Content-Length: " + std::to_string(payload.size()) + "\r\n\r\n" + payload;
  request += "Transfer-Encoding: chunked\r\n\r\n";
  for (std::size_t at = 0; at < payload.size(); at += 1000) {
    const std::string piece = payload.substr(at, 1000);
    char size[16];
    std::snprintf(size, sizeof size, "%zx\r\n", piece.size());
    request += size + piece + "\r\n";
  }
  return request + "0\r\n\r\n";
}

TEST_F(EmulatorTest, TheJsonBodyIsReadWhateverItsContentTypeUpToTheLimit) {
  EmulatorOptions options;
  options.max_body_bytes = 50'000;
  start(options);
  // 200 rows, about 12 KB: over cpp-httplib's 8 KB form-urlencoded limit, under the body limit.
  std::vector<std::string> rows;
  for (int i = 0; i < 200; ++i)
    rows.push_back(row("2024-08-01T0" + std::to_string(i % 10) + ":00:00Z", "0.01"));
  const std::string payload = body("2024-08", "replace_drop", rows);
  ASSERT_GT(payload.size(), 8192u);
  ASSERT_LT(payload.size(), 50'000u);
  const std::string path = drops_path("types");
  for (const std::string& content_type :
       {std::string(), std::string("Content-Type: application/x-www-form-urlencoded\r\n"),
        std::string("Content-Type: text/plain\r\n"),
        std::string("Content-Type: application/octet-stream\r\n")}) {
    for (const bool chunked : {false, true}) {
      const auto [status, reply] =
          raw_exchange(emulator_->port(), raw_post(path, content_type, payload, chunked));
      EXPECT_EQ(status, 200) << content_type << (chunked ? " chunked: " : ": ") << reply;
      EXPECT_TRUE(contains(reply, "\"row_count\":200")) << reply;
    }
  }
  EXPECT_EQ(state("types", "2024-08").rows, 200u);
  const auto [valid_status, valid] =
      raw_exchange(emulator_->port(),
                   raw_post(kBase + "validate_billing_drop",
                            "Content-Type: application/x-www-form-urlencoded\r\n", payload, false));
  EXPECT_EQ(valid_status, 200) << valid;
  EXPECT_TRUE(contains(valid, "\"is_valid\":true")) << valid;

  // multipart/form-data is not a JSON body: a clear 400 rather than a parse of its parts.
  const auto [multipart_status, multipart] = raw_exchange(
      emulator_->port(), raw_post(path, "Content-Type: multipart/form-data; boundary=xyz\r\n",
                                  "--xyz\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n" +
                                      payload + "\r\n--xyz--\r\n",
                                  false));
  EXPECT_EQ(multipart_status, 400) << multipart;
  EXPECT_TRUE(contains(multipart, "multipart/form-data")) << multipart;
}

TEST_F(EmulatorTest, ABodyAnsweredWithoutBeingReadDoesNotSpillIntoTheNextRequest) {
  // One keep-alive connection: a replayed send and a refused key are answered before their
  // bodies are needed; the next request on the connection must still be read as a request.
  start();
  httplib::Client keep_alive = client();
  keep_alive.set_keep_alive(true);
  const std::string payload = body("2024-08", "sum", {row("2024-08-01T00:00:00Z", "1")});
  const auto post_on = [&](const httplib::Headers& with) {
    return to_reply(keep_alive.Post(drops_path("k"), with, payload, "application/json"));
  };
  EXPECT_EQ(post_on(headers("same")).status, 200);
  EXPECT_EQ(post_on(headers("same")).status, 200); // a replay
  EXPECT_EQ(post_on({{"Authorization", "Bearer x"}}).status, 403);
  const Reply next = post_on(headers("other"));
  EXPECT_EQ(next.status, 200) << next.body;
  expect_hours("k", "2024-08", {{"2024-08-01T00", {2, "2"}}});
}

TEST_F(EmulatorTest, A413SaysTheBodysRealSizeChunkedOrNot) {
  EmulatorOptions options;
  options.max_body_bytes = 10'000;
  start(options);
  std::vector<std::string> rows;
  for (int i = 0; i < 500; ++i)
    rows.push_back(row("2024-08-01T00:00:00Z", "1"));
  const std::string payload = body("2024-08", "sum", rows);
  ASSERT_GT(payload.size(), 10'000u);
  const std::string size = std::to_string(payload.size()) + " bytes";
  for (const std::string& content_type :
       {std::string("Content-Type: application/json\r\n"),
        std::string("Content-Type: application/x-www-form-urlencoded\r\n"), std::string()}) {
    for (const bool chunked : {false, true}) {
      const auto [status, reply] = raw_exchange(
          emulator_->port(), raw_post(drops_path("big"), content_type, payload, chunked));
      EXPECT_EQ(status, 413) << content_type << reply;
      EXPECT_TRUE(contains(reply, "the request body is " + size + ", over the limit of 10000"))
          << content_type << (chunked ? " chunked: " : ": ") << reply;
    }
  }
  EXPECT_EQ(state("big", "2024-08").rows, 0u);
}

TEST_F(EmulatorTest, ExponentCostsAreRejectedAndValidateNamesRowAndColumn) {
  start();
  const std::string exponent =
      body("2024-08", "replace_drop",
           {row("2024-08-01T00:00:00Z", "2.5"), row("2024-08-01T01:00:00Z", "1e3")});
  const std::string message = expect_error_shape(send("exp", exponent), 400, "invalid_cbf");
  EXPECT_TRUE(contains(message, "data[1]: cost/cost: \"1e3\" is in exponent notation")) << message;
  EXPECT_EQ(state("exp", "2024-08").rows, 0u); // nothing stored, not even the plain row

  const Reply validated = post(kBase + "validate_billing_drop", exponent);
  ASSERT_EQ(validated.status, 200) << validated.body;
  Json json(validated.body);
  EXPECT_FALSE(json.boolean("/connection/is_valid"));
  ASSERT_EQ(json.size("/connection/errors"), 1u);
  EXPECT_TRUE(contains(json.str("/connection/errors/0"), "data[1]: cost/cost: \"1e3\""))
      << validated.body;

  // The same amount written plainly is accepted and stored as written.
  EXPECT_EQ(
      send("exp", body("2024-08", "replace_drop", {row("2024-08-01T01:00:00Z", "1000")})).status,
      200);
  expect_hours("exp", "2024-08", {{"2024-08-01T01", {1, "1000"}}});
}

TEST_F(EmulatorTest, MonthRowCapRejectsTheWholeRequestWith400) {
  EmulatorOptions options;
  options.max_rows_per_month = 4;
  start(options);
  ASSERT_EQ(send("c", body("2024-08", "replace_drop",
                           {row("2024-08-01T00:00:00Z", "1"), row("2024-08-01T00:00:00Z", "1"),
                            row("2024-08-01T01:00:00Z", "1")}))
                .status,
            200);
  // 3 + 2 = 5 > 4.
  const std::string message = expect_error_shape(
      send("c", body("2024-08", "sum",
                     {row("2024-08-01T02:00:00Z", "1"), row("2024-08-01T03:00:00Z", "1")})),
      400, "month_limit_exceeded");
  EXPECT_TRUE(contains(message, "5 rows")) << message;
  EXPECT_EQ(state("c", "2024-08").rows, 3u);
  // replace_hourly of hour 00 (2 rows) with 3 rows: 3 - 2 + 3 = 4, at the cap.
  ASSERT_EQ(send("c", body("2024-08", "replace_hourly",
                           {row("2024-08-01T00:00:00Z", "2"), row("2024-08-01T00:01:00Z", "2"),
                            row("2024-08-01T00:02:00Z", "2")}))
                .status,
            200);
  expect_hours("c", "2024-08", {{"2024-08-01T00", {3, "6"}}, {"2024-08-01T01", {1, "1"}}});
  // Another connection has its own cap.
  EXPECT_EQ(send("d", body("2024-08", "sum", {row("2024-08-01T00:00:00Z", "1")})).status, 200);
}

TEST_F(EmulatorTest, MonthByteCapCountsTheRowsCanonicalJsonBytes) {
  const std::string a = row("2024-08-01T00:00:00Z", "1");
  const std::string b = row("2024-08-01T01:00:00Z", "22");
  EmulatorOptions options;
  options.max_bytes_per_month = a.size() + b.size(); // 59 + 60 bytes, counted by hand
  ASSERT_EQ(a.size(), 59u);
  ASSERT_EQ(b.size(), 60u);
  start(options);
  ASSERT_EQ(send("c", body("2024-08", "sum", {a})).status, 200);
  ASSERT_EQ(send("c", body("2024-08", "sum", {b})).status, 200);
  const std::string message =
      expect_error_shape(send("c", body("2024-08", "sum", {row("2024-08-01T02:00:00Z", "3")})), 400,
                         "month_limit_exceeded");
  EXPECT_TRUE(contains(message, "178 bytes")) << message; // 59 + 60 + 59
  expect_hours("c", "2024-08", {{"2024-08-01T00", {1, "1"}}, {"2024-08-01T01", {1, "22"}}});
}

// --- reads -------------------------------------------------------------------------------------

TEST_F(EmulatorTest, MonthRowsComeBackInHourOrderAnd404WhenNothingIsStored) {
  start();
  const std::string late = row("2024-08-02T00:00:00Z", "3");
  const std::string early_1 = row("2024-08-01T00:00:00Z", "1");
  const std::string early_2 = row("2024-08-01T00:30:00Z", "2");
  ASSERT_EQ(send("c", body("2024-08", "replace_drop", {late, early_1, early_2})).status, 200);
  const Reply reply = get(drops_path("c") + "/2024-08");
  ASSERT_EQ(reply.status, 200) << reply.body;
  Json json(reply.body);
  EXPECT_EQ(json.keys(), std::set<std::string>{"billing_drop"});
  EXPECT_EQ(json.raw("/billing_drop"), "[" + early_1 + "," + early_2 + "," + late + "]");
  // The month may also be named by its first instant.
  EXPECT_EQ(get(drops_path("c") + "/2024-08-01T00:00:00Z").body, reply.body);

  std::string message = expect_error_shape(get(drops_path("c") + "/2024-07"), 404, "not_found");
  EXPECT_TRUE(contains(message, "2024-07")) << message;
  expect_error_shape(get(drops_path("nobody") + "/2024-08"), 404, "not_found");
  message = expect_error_shape(get(drops_path("c") + "/2024-13"), 400, "invalid_request");
  expect_error_shape(get("/v2/connections/billing/anycost/c/nothing"), 404, "not_found");
}

TEST_F(EmulatorTest, ListShowsOneDropPerMonthWithTheLastDropId) {
  start();
  EXPECT_EQ(get(drops_path("c")).body, R"({"billing_drops":[]})");
  const Reply first =
      send("c", body("2024-08", "replace_drop", {row("2024-08-01T00:00:00Z", "1")}));
  const Reply second = send("c", body("2024-08", "sum", {row("2024-08-01T00:00:00Z", "1")}));
  ASSERT_EQ(second.status, 200);
  const std::string first_id = Json(first.body).str("/connection/drop_id");
  const std::string second_id = Json(second.body).str("/connection/drop_id");
  EXPECT_NE(first_id, second_id);
  const Reply list = get(drops_path("c"));
  ASSERT_EQ(list.status, 200);
  Json json(list.body);
  EXPECT_EQ(json.keys(), std::set<std::string>{"billing_drops"});
  ASSERT_EQ(json.size("/billing_drops"), 1u);
  EXPECT_EQ(json.keys("/billing_drops/0"),
            (std::set<std::string>{"drop_id", "month", "row_count"}));
  EXPECT_EQ(json.str("/billing_drops/0/drop_id"), second_id);
  EXPECT_EQ(json.integer("/billing_drops/0/row_count"), 2);
}

// --- validate ----------------------------------------------------------------------------------

TEST_F(EmulatorTest, ValidateReportsIsValidAndErrorsAndStoresNothing) {
  start();
  const std::string path = kBase + "validate_billing_drop";
  Reply reply = post(path, body("2024-08", "replace_drop", {row("2024-08-01T00:00:00Z", "1")}));
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(reply.body, R"({"connection":{"is_valid":true,"errors":[]}})");

  reply = post(path, body("2024-08", "replace_drop",
                          {row("2024-08-01T00:00:00Z", "abc"), row("2024-07-01T00:00:00Z", "1")}));
  ASSERT_EQ(reply.status, 200) << reply.body;
  Json json(reply.body);
  EXPECT_FALSE(json.boolean("/connection/is_valid"));
  ASSERT_EQ(json.size("/connection/errors"), 2u);
  EXPECT_TRUE(contains(json.str("/connection/errors/0"), "data[0]: cost/cost:"));
  EXPECT_TRUE(contains(json.str("/connection/errors/1"), "data[1]: time/usage_start:"));
  EXPECT_TRUE(contains(json.str("/connection/errors/1"), "month_mismatch"));

  expect_error_shape(post(path, "not json"), 400, "invalid_request");
  EXPECT_EQ(state("c", "2024-08").rows, 0u);
  EXPECT_EQ(state("validate_billing_drop", "2024-08").rows, 0u);
}

// --- auth --------------------------------------------------------------------------------------

TEST_F(EmulatorTest, MissingBearerOrUnknownKeysAre403) {
  EmulatorOptions options;
  options.api_keys = {kKey};
  options.key_scopes["reader"] = {"connections:read_billing_anycost_billing_drops"};
  start(options);
  const std::string payload = body("2024-08", "sum", {row("2024-08-01T00:00:00Z", "1")});
  std::string message = expect_message_shape(send("c", payload, {}), 403);
  EXPECT_TRUE(contains(message, "Authorization")) << message;
  message = expect_message_shape(
      send("c", payload, {{"Authorization", std::string("Bearer ") + kKey}}), 403);
  EXPECT_TRUE(contains(message, "Bearer")) << message;
  expect_message_shape(send("c", payload, {{"Authorization", "someone-else"}}), 403);
  message = expect_message_shape(send("c", payload, {{"Authorization", "reader"}}), 403);
  EXPECT_TRUE(contains(message, "connections:create_billing_anycost_billing_drop")) << message;
  expect_message_shape(get(drops_path("c") + "/2024-08", {{"Authorization", "reader"}}), 403);
  expect_message_shape(get(drops_path("c"), {}), 403);
  expect_message_shape(post(kBase + "validate_billing_drop", payload, {}), 403);
  EXPECT_EQ(state("c", "2024-08").rows, 0u);

  EXPECT_EQ(get(drops_path("c"), {{"Authorization", "reader"}}).status, 200);
  EXPECT_EQ(send("c", payload).status, 200);
  // 403 comes before 413: an unknown caller learns nothing about the body.
  EmulatorOptions small;
  small.api_keys = {kKey};
  small.max_body_bytes = 10;
  emulator_.reset();
  start(small);
  expect_message_shape(send("c", payload, {}), 403);
  expect_message_shape(send("c", payload), 413);
}

// --- idempotency -------------------------------------------------------------------------------

// A plain loopback socket to the emulator, for requests that arrive in pieces or never whole.
class RawConnection {
public:
  explicit RawConnection(std::uint16_t port) : sock_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (sock_ < 0 || ::connect(sock_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
      ADD_FAILURE() << "cannot connect to the emulator";
  }
  ~RawConnection() { ::close(sock_); }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool send(std::string_view bytes) {
    for (std::size_t sent = 0; sent < bytes.size();) {
      const ssize_t n = ::send(sock_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0)
        return false;
      sent += static_cast<std::size_t>(n);
    }
    return true;
  }
  void finish_sending() { ::shutdown(sock_, SHUT_WR); }

  // What the server sends until it closes the connection; `closed` says whether it did within
  // `timeout`.
  std::string read_until_closed(std::chrono::milliseconds timeout, bool* closed = nullptr) {
    std::string reply;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (auto now = std::chrono::steady_clock::now(); now < deadline;
         now = std::chrono::steady_clock::now()) {
      pollfd readable{sock_, POLLIN, 0};
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
      if (::poll(&readable, 1, static_cast<int>(left.count()) + 1) <= 0)
        continue;
      char buffer[4096];
      const ssize_t n = ::recv(sock_, buffer, sizeof buffer, 0);
      if (n <= 0) {
        if (closed != nullptr)
          *closed = true;
        return reply;
      }
      reply.append(buffer, static_cast<std::size_t>(n));
    }
    if (closed != nullptr)
      *closed = false;
    return reply;
  }

private:
  int sock_;
};

// The head of a POST of `size` body bytes with the idempotency key `key` (none when empty).
std::string raw_head(const std::string& path, std::size_t size, const std::string& key = "") {
  return "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: " + std::string(kKey) +
         "\r\nConnection: close\r\nContent-Type: application/json\r\n" +
         (key.empty() ? "" : "cloudzero-idempotency-key: " + key + "\r\n") +
         "Content-Length: " + std::to_string(size) + "\r\n\r\n";
}

// The status and body of a raw reply (0 and "" when it is not an HTTP response).
std::pair<int, std::string> parse_reply(const std::string& reply) {
  if (reply.rfind("HTTP/1.1 ", 0) != 0)
    return {0, ""};
  const std::size_t body_at = reply.find("\r\n\r\n");
  return {std::stoi(reply.substr(9, 3)),
          body_at == std::string::npos ? "" : reply.substr(body_at + 4)};
}

TEST_F(EmulatorTest, IdempotencyKeyReplaysTheFirstResponseAndAppliesOnce) {
  start();
  const std::string payload = body("2024-08", "sum", {row("2024-08-01T00:00:00Z", "1.5")});
  const Reply first = send("c", payload, headers("key-1"));
  ASSERT_EQ(first.status, 200) << first.body;
  const Reply again = send("c", payload, headers("key-1"));
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.body, first.body);
  // Even a different body gets the stored response, and is not applied.
  const Reply other_body =
      send("c", body("2024-08", "sum", {row("2024-08-01T05:00:00Z", "100")}), headers("key-1"));
  EXPECT_EQ(other_body.body, first.body);
  expect_hours("c", "2024-08", {{"2024-08-01T00", {1, "1.5"}}});

  // The same key on another path (connection) or without a key is a new request.
  EXPECT_NE(send("d", payload, headers("key-1")).body, first.body);
  ASSERT_EQ(send("c", payload).status, 200);
  expect_hours("c", "2024-08", {{"2024-08-01T00", {2, "3"}}});
  expect_hours("d", "2024-08", {{"2024-08-01T00", {1, "1.5"}}});
}

TEST_F(EmulatorTest, IdempotencyReplaysErrorsToo) {
  EmulatorOptions options;
  options.max_body_bytes = 300;
  start(options);
  const std::string bad = body("2024-08", "sum", {row("2024-08-01T00:00:00Z", "x")});
  const Reply first = send("c", bad, headers("k"));
  expect_error_shape(first, 400, "invalid_cbf");
  const Reply again =
      send("c", body("2024-08", "sum", {row("2024-08-01T00:00:00Z", "1")}), headers("k"));
  EXPECT_EQ(again.status, 400);
  EXPECT_EQ(again.body, first.body);
  EXPECT_EQ(state("c", "2024-08").rows, 0u);

  // A 413 decided from Content-Length alone is stored and replayed as well.
  const std::string big =
      body("2024-08", "sum", std::vector<std::string>(6, row("2024-08-01T00:00:00Z", "1")));
  const Reply too_large = send("c", big, headers("big"));
  expect_message_shape(too_large, 413);
  const Reply small_same_key =
      send("c", body("2024-08", "sum", {row("2024-08-01T00:00:00Z", "1")}), headers("big"));
  EXPECT_EQ(small_same_key.status, 413);
  EXPECT_EQ(small_same_key.body, too_large.body);
  EXPECT_EQ(state("c", "2024-08").rows, 0u);

  // 404 of a month read, with a key, is replayed even after rows arrive.
  const Reply missing = get(drops_path("c") + "/2024-08", headers("read"));
  EXPECT_EQ(missing.status, 404);
  ASSERT_EQ(send("c", body("2024-08", "sum", {row("2024-08-01T00:00:00Z", "1")})).status, 200);
  EXPECT_EQ(get(drops_path("c") + "/2024-08", headers("read")).body, missing.body);
  EXPECT_EQ(get(drops_path("c") + "/2024-08").status, 200);
}

TEST_F(EmulatorTest, TestKeyRunsInItsOwnNamespace) {
  start();
  const std::string payload = body("2024-08", "sum", {row("2024-08-01T00:00:00Z", "2")});
  ASSERT_EQ(send("c", payload, headers("", "t1")).status, 200);
  EXPECT_EQ(state("c", "2024-08").rows, 0u); // the real namespace is untouched
  EXPECT_EQ(get(drops_path("c") + "/2024-08").status, 404);
  EXPECT_EQ(get(drops_path("c") + "/2024-08", headers("", "t2")).status, 404);
  const Reply test_rows = get(drops_path("c") + "/2024-08", headers("", "t1"));
  ASSERT_EQ(test_rows.status, 200);
  EXPECT_EQ(Json(test_rows.body).size("/billing_drop"), 1u);

  // Idempotency keys are namespaced too: the same key applies again in the real namespace.
  ASSERT_EQ(send("c", payload, headers("same", "t1")).status, 200);
  ASSERT_EQ(send("c", payload, headers("same")).status, 200);
  ASSERT_EQ(send("c", payload, headers("same")).status, 200);
  expect_hours("c", "2024-08", {{"2024-08-01T00", {1, "2"}}});
  EXPECT_EQ(Json(get(drops_path("c") + "/2024-08", headers("", "t1")).body).size("/billing_drop"),
            2u);
}

// A clock the test moves by hand, shared with the emulator.
struct FakeClock {
  std::shared_ptr<std::chrono::system_clock::time_point> now =
      std::make_shared<std::chrono::system_clock::time_point>(
          std::chrono::sys_days(std::chrono::year_month_day(
              std::chrono::year(2026), std::chrono::month(8), std::chrono::day(1))));
  std::function<std::chrono::system_clock::time_point()> function() const {
    return [now = now] { return *now; };
  }
  void advance(std::chrono::milliseconds by) const { *now += by; }
};

TEST_F(EmulatorTest, ATestNamespaceIsPurgedItsTtlAfterItsFirstRequest) {
  FakeClock clock;
  EmulatorOptions options;
  options.test_namespace_ttl = 10s; // the API's hour, shortened
  options.clock = clock.function();
  start(options);
  const std::string payload = body("2024-08", "sum", {row("2024-08-01T00:00:00Z", "2")});
  const std::string month = drops_path("c") + "/2024-08";
  ASSERT_EQ(send("c", payload, headers("", "t1")).status, 200);
  ASSERT_EQ(send("c", payload).status, 200); // the real namespace
  clock.advance(6s);
  ASSERT_EQ(send("c", payload, headers("", "t1")).status, 200); // the hour counts from the first
  ASSERT_EQ(send("c", payload, headers("", "t2")).status, 200);
  EXPECT_EQ(Json(get(month, headers("", "t1")).body).size("/billing_drop"), 2u);

  clock.advance(5s); // 11 s after t1's first request, 5 s after t2's
  EXPECT_EQ(get(month, headers("", "t1")).status, 404);
  EXPECT_EQ(Json(get(drops_path("c"), headers("", "t1")).body).size("/billing_drops"), 0u);
  EXPECT_EQ(get(month, headers("", "t2")).status, 200);
  // The real namespace is never purged.
  expect_hours("c", "2024-08", {{"2024-08-01T00", {1, "2"}}});
  // t1 starts a new hour with its next request.
  ASSERT_EQ(send("c", payload, headers("", "t1")).status, 200);
  EXPECT_EQ(Json(get(month, headers("", "t1")).body).size("/billing_drop"), 1u);
  clock.advance(6s);
  EXPECT_EQ(get(month, headers("", "t2")).status, 404);
  EXPECT_EQ(get(month, headers("", "t1")).status, 200);
}

TEST_F(EmulatorTest, StoredResponsesExpireAfterTheirTtlAndLeaveTheFile) {
  FakeClock clock;
  const std::filesystem::path file =
      std::filesystem::temp_directory_path() /
      ("billdrop_emulator_ttl_" + std::to_string(::getpid()) + ".db");
  std::filesystem::remove(file);
  EmulatorOptions options;
  options.store = file;
  options.idempotency_ttl = 60s;
  options.test_namespace_ttl = 30s;
  options.clock = clock.function();
  start(options);
  const std::string payload = body("2024-08", "sum", {row("2024-08-01T00:00:00Z", "2.5")});
  ASSERT_EQ(send("c", payload, headers("k1")).status, 200);
  clock.advance(59s);
  ASSERT_EQ(send("c", payload, headers("k1")).status, 200); // replayed: not applied again
  expect_hours("c", "2024-08", {{"2024-08-01T00", {1, "2.5"}}});
  ASSERT_EQ(send("c", payload, headers("k2", "t1")).status, 200);

  clock.advance(2s); // k1 was stored 61 s ago: a repeat now is a new request
  ASSERT_EQ(send("c", payload, headers("k1")).status, 200);
  expect_hours("c", "2024-08", {{"2024-08-01T00", {2, "5"}}});
  // ... whose response is the one stored from now on.
  clock.advance(30s);
  ASSERT_EQ(send("c", payload, headers("k1")).status, 200);
  expect_hours("c", "2024-08", {{"2024-08-01T00", {2, "5"}}});

  // Expired responses and namespaces leave the file (read with SQLite, not the emulator).
  clock.advance(61s);
  ASSERT_EQ(get(drops_path("c")).status, 200); // any request lets the emulator tidy up
  emulator_->stop();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
  const auto count = [&](const char* sql) {
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr), SQLITE_OK) << sql;
    EXPECT_EQ(sqlite3_step(stmt), SQLITE_ROW) << sql;
    const auto value = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    return value;
  };
  EXPECT_EQ(count("SELECT COUNT(*) FROM idempotency"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM drops WHERE space != ''"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM rows"), 2); // the real namespace's
  sqlite3_close(db);
  emulator_.reset();
  std::filesystem::remove(file);
  std::filesystem::remove(file.string() + "-wal");
  std::filesystem::remove(file.string() + "-shm");
}

TEST_F(EmulatorTest, AStoreOfTheFirstSchemaIsUpgradedAndKeepsItsResponses) {
  const std::filesystem::path file = std::filesystem::temp_directory_path() /
                                     ("billdrop_emulator_v1_" + std::to_string(::getpid()) + ".db");
  std::filesystem::remove(file);
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
    // Version 1's tables, as billdrop created them, with one stored response.
    ASSERT_EQ(sqlite3_exec(db, R"sql(
CREATE TABLE drops (month_id INTEGER PRIMARY KEY, space TEXT NOT NULL, connection TEXT NOT NULL,
  month TEXT NOT NULL, drop_id TEXT NOT NULL, row_count INTEGER NOT NULL,
  json_bytes INTEGER NOT NULL, UNIQUE (space, connection, month));
CREATE TABLE rows (seq INTEGER PRIMARY KEY, month_id INTEGER NOT NULL REFERENCES drops (month_id),
  hour TEXT NOT NULL, cost TEXT NOT NULL, bytes INTEGER NOT NULL, json TEXT NOT NULL);
CREATE INDEX rows_by_hour ON rows (month_id, hour);
CREATE TABLE drop_log (seq INTEGER PRIMARY KEY AUTOINCREMENT, space TEXT NOT NULL,
  connection TEXT NOT NULL, month TEXT NOT NULL, operation TEXT NOT NULL,
  body_rows INTEGER NOT NULL, applied_at TEXT NOT NULL DEFAULT '');
CREATE TABLE idempotency (space TEXT NOT NULL, method TEXT NOT NULL, path TEXT NOT NULL,
  key TEXT NOT NULL, status INTEGER NOT NULL, body TEXT NOT NULL,
  PRIMARY KEY (space, method, path, key));
INSERT INTO idempotency VALUES ('', 'POST', '/v2/connections/billing/anycost/c/billing_drops',
  'old-key', 200, '{"connection":{"drop_id":"old","month":"2024-08","row_count":1}}');
PRAGMA user_version = 1;
)sql",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  EmulatorOptions options;
  options.store = file;
  start(options);
  const Reply replayed =
      send("c", body("2024-08", "sum", {row("2024-08-01T00:00:00Z", "1")}), headers("old-key"));
  EXPECT_EQ(replayed.status, 200);
  EXPECT_TRUE(contains(replayed.body, "\"drop_id\":\"old\"")) << replayed.body;
  EXPECT_EQ(state("c", "2024-08").rows, 0u);
  emulator_.reset();
  std::filesystem::remove(file);
  std::filesystem::remove(file.string() + "-wal");
  std::filesystem::remove(file.string() + "-shm");
}

// --- concurrency -------------------------------------------------------------------------------

TEST_F(EmulatorTest, SecondRequestForABusyConnectionIs429WithRetryAfter) {
  EmulatorOptions options;
  options.busy_retry_after = 7s;
  options.faults.latency_min = options.faults.latency_max = 800ms;
  start(options);
  const std::string payload = body("2024-08", "sum", {row("2024-08-01T00:00:00Z", "1")});
  auto held = std::async(std::launch::async, [&] { return send("c", payload); });
  auto other_connection = std::async(std::launch::async, [&] { return send("d", payload); });
  std::this_thread::sleep_for(250ms); // both are now inside their latency
  const auto before = std::chrono::steady_clock::now();
  const Reply busy = send("c", payload);
  EXPECT_LT(std::chrono::steady_clock::now() - before, 500ms); // refused at once, not queued
  const std::string message = expect_message_shape(busy, 429);
  EXPECT_EQ(busy.retry_after, "7");
  EXPECT_TRUE(contains(message, "in flight")) << message;
  EXPECT_EQ(held.get().status, 200);
  EXPECT_EQ(other_connection.get().status, 200);
  EXPECT_EQ(state("c", "2024-08").rows, 1u);
  EXPECT_EQ(state("d", "2024-08").rows, 1u);
  // Free again once the first finished.
  EXPECT_EQ(send("c", payload).status, 200);
  // Reads are not held to it.
  auto held_again = std::async(std::launch::async, [&] { return send("c", payload); });
  std::this_thread::sleep_for(250ms);
  EXPECT_EQ(get(drops_path("c")).status, 200);
  EXPECT_EQ(held_again.get().status, 200);
}

// --- connections and request framing -----------------------------------------------------------

TEST_F(EmulatorTest, ABodyThatBreaksOffIsNoRequestAndItsKeyStaysFree) {
  // The client sends half the body and is gone (a connection cut mid-upload). The emulator must
  // not answer it, and must store nothing for its key: the client saw no response, retries with
  // the same key, and that retry is the request.
  start();
  const std::string payload = body("2024-08", "sum", {row("2024-08-01T00:00:00Z", "1.25")});
  for (const std::string& path : {drops_path("c"), kBase + "validate_billing_drop"}) {
    RawConnection cut(emulator_->port());
    ASSERT_TRUE(cut.send(raw_head(path, payload.size(), "cut-key") +
                         payload.substr(0, payload.size() / 2)));
    cut.finish_sending();
    bool closed = false;
    EXPECT_EQ(cut.read_until_closed(5s, &closed), "") << path;
    EXPECT_TRUE(closed) << path;
  }
  const Reply retry = send("c", payload, headers("cut-key"));
  ASSERT_EQ(retry.status, 200) << retry.body;
  EXPECT_EQ(Json(retry.body).integer("/connection/row_count"), 1);
  expect_hours("c", "2024-08", {{"2024-08-01T00", {1, "1.25"}}});
  const Reply validated = post(kBase + "validate_billing_drop", payload, headers("cut-key"));
  EXPECT_EQ(validated.status, 200) << validated.body;
  EXPECT_EQ(validated.body, R"({"connection":{"is_valid":true,"errors":[]}})");
}

TEST_F(EmulatorTest, AKeyAnsweredWhileARequestOfItsOwnWasArrivingGetsThatAnswer) {
  // A request whose head came in before its key had an answer, and whose body came in after
  // another request with the key was applied, is a repeat: it gets the stored answer, and its
  // rows are not applied a second time.
  start();
  const std::string payload = body("2024-08", "sum", {row("2024-08-01T00:00:00Z", "2")});
  RawConnection late(emulator_->port());
  ASSERT_TRUE(late.send(raw_head(drops_path("c"), payload.size(), "k") + payload.substr(0, 10)));
  std::this_thread::sleep_for(200ms); // its head is read: "k" had no answer yet
  const Reply first = send("c", payload, headers("k"));
  ASSERT_EQ(first.status, 200) << first.body;
  ASSERT_TRUE(late.send(payload.substr(10)));
  const auto [status, reply] = parse_reply(late.read_until_closed(10s));
  EXPECT_EQ(status, 200) << reply;
  EXPECT_EQ(reply, first.body);
  expect_hours("c", "2024-08", {{"2024-08-01T00", {1, "2"}}});
}

TEST_F(EmulatorTest, IdleHalfSentRequestsDoNotHoldUpOtherRequests) {
  // Forty connections that send part of a request head or body and then say nothing: the
  // emulator's defaults must still answer everyone else at once.
  start();
  std::vector<std::unique_ptr<RawConnection>> idle;
  for (int i = 0; i < 40; ++i) {
    idle.push_back(std::make_unique<RawConnection>(emulator_->port()));
    if (i % 2 == 0)
      ASSERT_TRUE(idle.back()->send("POST " + drops_path("idle") +
                                    " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthoriz"));
    else
      ASSERT_TRUE(
          idle.back()->send(raw_head(drops_path("idle"), 1000, "idle-" + std::to_string(i)) +
                            R"({"month":"2024-08","data":[)"));
  }
  std::this_thread::sleep_for(300ms); // the emulator has taken them all up
  const auto before = std::chrono::steady_clock::now();
  const Reply listed = get(drops_path("c"));
  EXPECT_LT(std::chrono::steady_clock::now() - before, 1s);
  EXPECT_EQ(listed.status, 200) << listed.body;
  const auto before_send = std::chrono::steady_clock::now();
  const Reply sent = send("c", body("2024-08", "sum", {row("2024-08-01T00:00:00Z", "1")}));
  EXPECT_LT(std::chrono::steady_clock::now() - before_send, 1s);
  EXPECT_EQ(sent.status, 200) << sent.body;
  EXPECT_EQ(state("idle", "2024-08").rows, 0u);
}

TEST_F(EmulatorTest, ARequestThatTricklesInIsDroppedAtItsDeadlineWithoutAReply) {
  // A byte every 50 ms is never silent for long, but the head (or the body) is not whole within
  // its deadline: the emulator closes the connection, answers nothing and stores nothing.
  EmulatorOptions options;
  options.header_timeout = 400ms;
  options.body_timeout = 400ms;
  start(options);
  const std::string payload = body("2024-08", "sum", {row("2024-08-01T00:00:00Z", "3")});
  const std::string whole = raw_head(drops_path("c"), payload.size(), "slow") + payload;
  const std::size_t body_at = whole.size() - payload.size();
  for (const bool in_body : {false, true}) {
    SCOPED_TRACE(in_body ? "body" : "head");
    RawConnection slow(emulator_->port());
    std::size_t at = 0;
    if (in_body) {
      ASSERT_TRUE(slow.send(whole.substr(0, body_at))); // the head at once
      at = body_at;
    }
    const auto started = std::chrono::steady_clock::now();
    bool closed = false;
    std::string reply;
    // At most 60 bytes (3 s); the deadline is 400 ms.
    for (int i = 0; i < 60 && at < whole.size() - 1 && !closed; ++i, ++at) {
      if (!slow.send(whole.substr(at, 1)))
        break;
      reply += slow.read_until_closed(50ms, &closed);
    }
    EXPECT_TRUE(closed) << "still open after " << at << " bytes";
    EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
    EXPECT_EQ(reply, "");
  }
  // Nothing was stored for the key: it is free for the request when it comes whole.
  EXPECT_EQ(send("c", payload, headers("slow")).status, 200);
  expect_hours("c", "2024-08", {{"2024-08-01T00", {1, "3"}}});
}

TEST_F(EmulatorTest, AContentLengthThatIsNoByteCountIs400AtOnce) {
  start();
  const std::string path = drops_path("c");
  for (const std::string value : {"-1", "12abc", "+5", "0x10", "99999999999999999999999"}) {
    SCOPED_TRACE("Content-Length: " + value);
    RawConnection connection(emulator_->port());
    ASSERT_TRUE(connection.send("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: " +
                                kKey + "\r\nContent-Length: " + value + "\r\n\r\n{}"));
    const auto before = std::chrono::steady_clock::now();
    bool closed = false;
    const auto [status, reply] = parse_reply(connection.read_until_closed(10s, &closed));
    EXPECT_LT(std::chrono::steady_clock::now() - before, 1s);
    EXPECT_TRUE(closed); // what follows the head cannot be told from a next request
    ASSERT_EQ(status, 400) << reply;
    const Reply parsed{true, httplib::Error::Success, status, reply, ""};
    const std::string message = expect_error_shape(parsed, 400, "invalid_request");
    EXPECT_EQ(message, "the Content-Length header \"" + value +
                           "\" is not a byte count (decimal digits only, less than 2^64)");
  }
  // Two different lengths for one body.
  RawConnection twice(emulator_->port());
  ASSERT_TRUE(twice.send("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: " + kKey +
                         "\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}"));
  const auto [status, reply] = parse_reply(twice.read_until_closed(10s));
  ASSERT_EQ(status, 400) << reply;
  const Reply parsed{true, httplib::Error::Success, status, reply, ""};
  EXPECT_EQ(expect_error_shape(parsed, 400, "invalid_request"),
            "the request has two different Content-Length headers (2 and 3)");
  EXPECT_EQ(state("c", "2024-08").rows, 0u);
}

TEST_F(EmulatorTest, DuplicateKeysInAJsonBodyAre400NamingTheKey) {
  start();
  const std::string good_row = row("2024-08-01T00:00:00Z", "1");
  // The body's own members.
  std::string message = expect_error_shape(
      send("c", R"({"month":"2024-08","month":"2024-09","data":[)" + good_row + "]}"), 400,
      "invalid_request");
  EXPECT_EQ(message, "the body has the key \"month\" more than once; a JSON object names each "
                     "key once");
  message =
      expect_error_shape(send("c", R"({"month":"2024-08","data":[],"data":[)" + good_row + "]}"),
                         400, "invalid_request");
  EXPECT_TRUE(contains(message, "the key \"data\" more than once")) << message;
  // A row's columns, whatever their values (null, another type, the same text).
  for (const std::string& duplicate :
       {std::string(R"("cost/cost":null)"), std::string(R"("cost/cost":1)"),
        std::string(R"("cost/cost":"1")")}) {
    SCOPED_TRACE(duplicate);
    const std::string row_text =
        R"({"time/usage_start":"2024-08-01T00:00:00Z","cost/cost":"1",)" + duplicate + "}";
    message = expect_error_shape(send("c", body("2024-08", "sum", {good_row, row_text})), 400,
                                 "invalid_cbf");
    EXPECT_TRUE(contains(message, "data[1]: cost/cost: the key appears more than once in the row "
                                  "(rule duplicate_key)"))
        << message;
    const Reply validated =
        post(kBase + "validate_billing_drop", body("2024-08", "sum", {good_row, row_text}));
    ASSERT_EQ(validated.status, 200) << validated.body;
    EXPECT_TRUE(contains(validated.body, "data[1]: cost/cost: the key appears more than once"))
        << validated.body;
  }
  expect_error_shape(post(kBase + "validate_billing_drop",
                          R"({"month":"2024-08","operation":"sum","operation":"sum","data":[]})"),
                     400, "invalid_request");
  EXPECT_EQ(state("c", "2024-08").rows, 0u);
  EXPECT_EQ(state("c", "2024-09").rows, 0u);
}

// --- faults ------------------------------------------------------------------------------------

class EmulatorFaultTest : public EmulatorTest {
protected:
  void start_with(FaultOptions faults) {
    EmulatorOptions options;
    options.faults = faults;
    start(options);
  }
  const std::string payload_ = body("2024-08", "sum", {row("2024-08-01T00:00:00Z", "1")});
};

TEST_F(EmulatorFaultTest, Error500AppliesNothing) {
  start_with({.error_500 = 1});
  const std::string message = expect_message_shape(send("c", payload_, headers("k")), 500);
  EXPECT_TRUE(contains(message, "nothing was applied")) << message;
  EXPECT_EQ(state("c", "2024-08").rows, 0u);
  // Not stored for the key: a retry is a new attempt (and fails again here).
  EXPECT_EQ(send("c", payload_, headers("k")).status, 500);
  EXPECT_EQ(state("c", "2024-08").rows, 0u);
  // Only sends are affected.
  EXPECT_EQ(get(drops_path("c")).status, 200);
  EXPECT_EQ(post(kBase + "validate_billing_drop", payload_).status, 200);
}

TEST_F(EmulatorFaultTest, Error429HasRetryAfterAndAppliesNothing) {
  start_with({.error_429 = 1});
  const Reply reply = send("c", payload_);
  expect_message_shape(reply, 429);
  EXPECT_EQ(reply.retry_after, "1");
  EXPECT_EQ(state("c", "2024-08").rows, 0u);
}

TEST_F(EmulatorFaultTest, CloseBeforeReplyGivesTheClientAnErrorNotAResponse) {
  start_with({.close_before_reply = 1});
  const Reply reply = send("c", payload_, headers("k"));
  EXPECT_FALSE(reply.arrived);
  EXPECT_EQ(reply.error, httplib::Error::Read) << httplib::to_string(reply.error);
  EXPECT_EQ(state("c", "2024-08").rows, 0u);
  EXPECT_EQ(emulator_->requests_served(), 1u);
  // The server is still up for the next request.
  EXPECT_EQ(get(drops_path("c")).status, 200);
}

TEST_F(EmulatorFaultTest, ApplyThenFailStoresTheDropAnswers500AndReplaysTheSuccess) {
  start_with({.apply_then_fail = 1});
  const std::string message = expect_message_shape(send("c", payload_, headers("k")), 500);
  EXPECT_TRUE(contains(message, "after the request was processed")) << message;
  expect_hours("c", "2024-08", {{"2024-08-01T00", {1, "1"}}});
  // The retry with the same key replays the stored 200 before any fault is drawn: applied once.
  const Reply retry = send("c", payload_, headers("k"));
  ASSERT_EQ(retry.status, 200) << retry.body;
  EXPECT_EQ(Json(retry.body).integer("/connection/row_count"), 1);
  expect_hours("c", "2024-08", {{"2024-08-01T00", {1, "1"}}});
}

TEST_F(EmulatorFaultTest, LatencyDelaysTheReply) {
  start_with({.latency_min = 300ms, .latency_max = 300ms});
  const auto before = std::chrono::steady_clock::now();
  EXPECT_EQ(send("c", payload_).status, 200);
  EXPECT_GE(std::chrono::steady_clock::now() - before, 300ms);
}

// Runs `count` sends one after another and writes each outcome: the status, or "closed".
std::vector<std::string> fault_sequence(const Emulator& emulator, int count) {
  std::vector<std::string> out;
  httplib::Client client("127.0.0.1", emulator.port());
  for (int i = 0; i < count; ++i) {
    const std::string payload =
        body("2024-08", "sum", {row("2024-08-01T00:00:00Z", std::to_string(i))});
    const httplib::Result result =
        client.Post(drops_path("c"), {{"Authorization", kKey}}, payload, "application/json");
    if (!result)
      out.push_back("closed");
    else if (result->status == 500 && contains(result->body, "after the request"))
      out.push_back("applied-500");
    else
      out.push_back(std::to_string(result->status));
  }
  return out;
}

TEST_F(EmulatorFaultTest, SameSeedGivesTheSameFaultSequence) {
  FaultOptions faults{.seed = 42,
                      .error_500 = 0.2,
                      .error_429 = 0.2,
                      .close_before_reply = 0.2,
                      .apply_then_fail = 0.2};
  start_with(faults);
  const std::vector<std::string> first = fault_sequence(*emulator_, 40);
  const MonthState first_state = state("c", "2024-08");

  emulator_.reset();
  start_with(faults);
  EXPECT_EQ(fault_sequence(*emulator_, 40), first);
  EXPECT_EQ(state("c", "2024-08").rows, first_state.rows);
  EXPECT_EQ(state("c", "2024-08").cost, first_state.cost);

  // Every kind occurs, and only applied requests (200 and applied-500) are stored.
  const std::set<std::string> kinds(first.begin(), first.end());
  EXPECT_EQ(kinds, (std::set<std::string>{"200", "500", "429", "closed", "applied-500"}));
  std::uint64_t applied = 0;
  for (const std::string& outcome : first)
    applied += outcome == "200" || outcome == "applied-500";
  EXPECT_EQ(first_state.rows, applied);

  faults.seed = 43;
  emulator_.reset();
  start_with(faults);
  EXPECT_NE(fault_sequence(*emulator_, 40), first);
}

// --- lifecycle and store -----------------------------------------------------------------------

TEST_F(EmulatorTest, StopFinishesTheRequestInFlightThenRefusesConnections) {
  EmulatorOptions options;
  options.faults.latency_min = options.faults.latency_max = 400ms;
  start(options);
  auto in_flight = std::async(std::launch::async, [&] {
    return send("c", body("2024-08", "sum", {row("2024-08-01T00:00:00Z", "1")}));
  });
  std::this_thread::sleep_for(150ms);
  emulator_->stop();
  EXPECT_EQ(in_flight.get().status, 200);
  EXPECT_EQ(state("c", "2024-08").rows, 1u); // the store outlives the server
  EXPECT_FALSE(get(drops_path("c")).arrived);
}

TEST_F(EmulatorTest, FileStoreUsesWalAndSurvivesARestart) {
  const std::filesystem::path dir = std::filesystem::path(BILLDROP_TEST_BINARY_DIR) /
                                    "emulator_test_store" / std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  EmulatorOptions options;
  options.store = dir / "emulator.sqlite";
  start(options);
  ASSERT_EQ(
      send("c", body("2024-08", "sum",
                     {row("2024-08-01T00:00:00Z", "0.1"), row("2024-08-01T00:00:00Z", "0.2")}))
          .status,
      200);
  EXPECT_TRUE(std::filesystem::exists(dir / "emulator.sqlite-wal"));
  emulator_.reset();
  start(options);
  expect_hours("c", "2024-08", {{"2024-08-01T00", {2, "0.3"}}});
  EXPECT_EQ(Json(get(drops_path("c") + "/2024-08").body).size("/billing_drop"), 2u);
  emulator_.reset();
  std::filesystem::remove_all(dir);
}

TEST_F(EmulatorTest, StartRefusesAFileThatIsNotAnEmulatorStore) {
  const std::filesystem::path dir = std::filesystem::path(BILLDROP_TEST_BINARY_DIR) /
                                    ("emulator_test_foreign_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto make_db = [](const std::filesystem::path& file, const char* sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(file.string().c_str(), &db), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  };
  make_db(dir / "foreign.db", "CREATE TABLE rows (a TEXT)");
  make_db(dir / "future.db", "PRAGMA user_version = 3");
  for (const char* name : {"foreign.db", "future.db"}) {
    EmulatorOptions options;
    options.store = dir / name;
    Emulator emulator(options);
    Result<std::uint16_t> started = emulator.start("127.0.0.1", 0);
    ASSERT_FALSE(started.ok()) << name;
    EXPECT_TRUE(contains(started.error().message(), name)) << started.error().message();
    EXPECT_TRUE(contains(started.error().message(), "move it away")) << started.error().message();
    EXPECT_FALSE(emulator.month_state("c", Month(2024, 8)).ok());
  }
  std::filesystem::remove_all(dir);
}

TEST_F(EmulatorTest, StartRejectsBadFaultOptionsAndAPortInUse) {
  EmulatorOptions options;
  options.faults.error_500 = 0.7;
  options.faults.error_429 = 0.5;
  Emulator bad(options);
  Result<std::uint16_t> refused = bad.start("127.0.0.1", 0);
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(contains(refused.error().message(), "sum to")) << refused.error().message();

  start();
  Emulator second(EmulatorOptions{});
  Result<std::uint16_t> taken = second.start("127.0.0.1", emulator_->port());
  EXPECT_FALSE(taken.ok());
  EXPECT_EQ(emulator_->base_url(), "http://127.0.0.1:" + std::to_string(emulator_->port()));
}

} // namespace
} // namespace billdrop::emulator
