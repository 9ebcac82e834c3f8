// The Billing API (issue 13, seed 002) as a client meets it: the real `billdrop serve` in the
// background, every request over loopback HTTP. The seed's examples are replayed as written;
// every endpoint and filter is checked against totals summed by hand from the fixture below
// (never by the code under test); bad input gets a 4xx naming the field and writes nothing.
#include "support/cli_run.hpp"
#include "support/postgres_cluster.hpp"
#include "support/process.hpp"
#include "support/temp_folder.hpp"

#include <gtest/gtest.h>
#include <httplib.h>
#include <simdjson.h>

#include <map>
#include <regex>
#include <set>

namespace billdrop {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
namespace dom = simdjson::dom;

// A reply, parsed.
struct Reply {
  int status = 0;
  std::string body;
  std::unique_ptr<dom::parser> parser = std::make_unique<dom::parser>();
  dom::element root;

  dom::element data() const { return root["data"].value(); }
  std::string error_code() const { return str(root["error"]["code"]); }
  std::string error_field() const { return str(root["error"]["field"]); }
  std::string error_message() const { return str(root["error"]["message"]); }

  static std::string str(simdjson::simdjson_result<dom::element> e) {
    std::string_view text;
    return e.get_string().get(text) == simdjson::SUCCESS ? std::string(text) : std::string();
  }
};

std::string str(dom::element e, const char* key) {
  return Reply::str(e[key]);
}
std::int64_t num(dom::element e, const char* key) {
  std::int64_t value = -1;
  if (e[key].get_int64().get(value) != simdjson::SUCCESS)
    ADD_FAILURE() << key << " is not an integer in " << simdjson::to_string(e);
  return value;
}
bool is_null(dom::element e, const char* key) {
  dom::element value;
  return e[key].get(value) == simdjson::SUCCESS && value.is_null();
}
std::vector<dom::element> array(dom::element e) {
  std::vector<dom::element> out;
  dom::array list;
  if (e.get_array().get(list) != simdjson::SUCCESS) {
    ADD_FAILURE() << "not an array: " << simdjson::to_string(e);
    return out;
  }
  for (dom::element x : list)
    out.push_back(x);
  return out;
}
// The items' names, in the order given.
std::vector<std::string> names(dom::element list) {
  std::vector<std::string> out;
  for (dom::element e : array(list))
    out.push_back(str(e, "name"));
  return out;
}
std::set<std::string> name_set(dom::element list) {
  const std::vector<std::string> all = names(list);
  return {all.begin(), all.end()};
}

const std::regex kMillisUtc(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)");

class BillingApiTest : public test::TempFolderTest {
protected:
  void SetUp() override {
    test::TempFolderTest::SetUp();
    write_config(false);
    start();
  }

  // One connection, acme (the custom plugin over acme.csv, with a service column); disabled
  // unless `enabled`, so that no sync item mixes with the manual fixture.
  void write_config(bool enabled) {
    if (!fs::exists(dir_ / "acme.csv"))
      std::ofstream(dir_ / "acme.csv") << "ts,service,amount\n2026-03-01T00:00:00Z,x,1.00\n";
    std::ofstream(dir_ / "billdrop.toml")
        << "state_dir = \"state\"\n[server]\nlisten = \"127.0.0.1:0\"\n"
           "[connections.acme]\nplugin = \"custom\"\naccount_id = \"ca_acme\"\n"
           "schedule = \"0 0 1 1 *\"\nbackfill_months = 120\nenabled = "
        << (enabled ? "true" : "false")
        << "\n[connections.acme.config]\npath = \"acme.csv\"\n"
           "[connections.acme.config.columns]\n\"time/usage_start\" = \"{ts}\"\n"
           "\"cost/cost\" = \"{amount}\"\n\"resource/service\" = \"{service}\"\n";
    if (!store_url_.empty()) {
      std::ofstream(dir_ / "pg.url") << store_url_ << "\n";
      std::ofstream(dir_ / "billdrop.toml", std::ios::app)
          << "[store]\nkind = \"postgres\"\nurl_file = \"pg.url\"\n";
    }
  }
  void TearDown() override {
    stop();
    test::TempFolderTest::TearDown();
  }

  void start() {
    pid_ = test::spawn_billdrop({"serve", "--config", (dir_ / "billdrop.toml").string()}, dir_,
                                "serve" + std::to_string(++starts_));
    const std::regex listening(R"(listening on http://[^ ]+:([0-9]+) )");
    std::smatch match;
    ASSERT_TRUE(test::eventually([&] {
      const std::string out = test::read_text(dir_ / ("serve" + std::to_string(starts_) + ".out"));
      if (!std::regex_search(out, match, listening))
        return false;
      port_ = std::stoi(match[1]);
      return true;
    })) << test::read_text(dir_ / ("serve" + std::to_string(starts_) + ".err"));
  }
  void stop() {
    if (pid_ <= 0)
      return;
    ::kill(pid_, SIGTERM);
    EXPECT_EQ(test::wait_exit(pid_, milliseconds(10'000)), 0);
    pid_ = -1;
  }

  Reply call(const std::string& method, const std::string& path, const std::string& body = "") {
    httplib::Client client("127.0.0.1", port_);
    client.set_read_timeout(std::chrono::seconds(60));
    httplib::Result result = [&] {
      if (method == "POST")
        return client.Post(path, body, "application/json");
      if (method == "PUT")
        return client.Put(path, body, "application/json");
      if (method == "DELETE")
        return client.Delete(path);
      return client.Get(path);
    }();
    Reply reply;
    if (!result) {
      ADD_FAILURE() << method << " " << path << ": no answer";
      return reply;
    }
    reply.status = result->status;
    reply.body = result->body;
    if (reply.parser->parse(reply.body).get(reply.root) != simdjson::SUCCESS)
      ADD_FAILURE() << method << " " << path << " answered what is not JSON: " << reply.body;
    return reply;
  }
  Reply get(const std::string& path) { return call("GET", path); }
  Reply post(const std::string& path, const std::string& body) { return call("POST", path, body); }

  // Creates and returns the id, failing the test on anything but 201.
  std::string create(const std::string& path, const std::string& body) {
    Reply reply = post(path, body);
    EXPECT_EQ(reply.status, 201) << body << " → " << reply.body;
    return reply.status == 201 ? str(reply.data(), "id") : std::string();
  }

  // The fixture, summed by hand in the tests. USD unless said; Support is under Infrastructure.
  //  #  name                     amount  provider      date        category  tags service  other 1
  //  GCP Compute Engine        1050   gcp           2026-03-05  Infra     compute,production
  //  compute  monthly, prod, alice 2  GCP Cloud Storage         2300   gcp           2026-03-10
  //  Infra     storage             storage  bob 3  OpenAI API               17500   openai
  //  2026-03-31  AI        ai,production       api      prod, alice 4  Datadog 4999   datadog
  //  2026-02-28  -         monitoring          apm      monthly, staging 5  GCP Compute Engine Feb
  //  900   gcp           2026-02-01  Infra     compute             compute 6  Support contract
  //  12000   acme-support  2026-01-15  Support   -                   -        yearly, bob 7  Tokyo
  //  hosting         5000 JPY   sakura        2026-03-15  -         compute             compute 8
  //  April compute              333   gcp           2026-04-01  -         compute compute
  void load_fixture() {
    infra_ = create("/api/v1/billing/categories", R"({"name":"Infrastructure"})");
    ai_ = create("/api/v1/billing/categories", R"({"name":"AI","color":"#FF0000"})");
    support_ = create("/api/v1/billing/categories",
                      R"({"name":"Support","parentId":")" + infra_ + R"("})");
    const std::string items = "/api/v1/billing/items";
    create(items, R"({"name":"GCP Compute Engine","amount":1050,"currency":"USD","provider":"gcp",
      "tags":["compute","production"],"category":"Infrastructure","service":"compute",
      "date":"2026-03-05T12:00:00.000Z","recurring":true,"period":"monthly","stageApp":"prod",
      "author":"alice"})");
    create(items, R"({"name":"GCP Cloud Storage","amount":2300,"provider":"gcp","tags":["storage"],
      "category":")" + infra_ +
                      R"(","service":"storage","date":"2026-03-10","author":"bob"})");
    create(items, R"({"name":"OpenAI API","amount":17500,"provider":"openai",
      "tags":["ai","production"],"category":")" +
                      ai_ + R"(","service":"api",
      "date":"2026-03-31T23:59:59.999Z","stageApp":"prod","author":"alice"})");
    create(items, R"({"name":"Datadog","amount":4999,"provider":"datadog","tags":["monitoring"],
      "service":"apm","date":"2026-02-28","recurring":true,"period":"monthly",
      "stageApp":"staging"})");
    create(items, R"({"name":"GCP Compute Engine Feb","amount":900,"provider":"gcp",
      "tags":["compute"],"category":")" +
                      infra_ + R"(","service":"compute","date":"2026-02-01"})");
    create(items, R"({"name":"Support contract","amount":12000,"provider":"acme-support",
      "category":"support","date":"2026-01-15","recurring":true,"period":"yearly",
      "author":"bob"})");
    create(items, R"({"name":"Tokyo hosting","amount":5000,"currency":"JPY","provider":"sakura",
      "tags":["compute"],"service":"compute","date":"2026-03-15"})");
    create(items, R"({"name":"April compute","amount":333,"provider":"gcp","tags":["compute"],
      "service":"compute","date":"2026-04-01T00:00:00Z"})");
  }

  std::int64_t item_count() { return num(get("/api/v1/billing/status").data(), "totalItems"); }

  pid_t pid_ = -1;
  int starts_ = 0;
  int port_ = 0;
  std::string infra_, ai_, support_;
  std::string store_url_; // [store] kind = "postgres" on this database; "" for SQLite
};

// The API's tests once on each store: the state directory's billing.db, and a PostgreSQL
// database (the tests' cluster) as `[store] kind = "postgres"` configures it.
enum class Backend { sqlite, postgres };

class BillingApiStoresTest : public BillingApiTest, public ::testing::WithParamInterface<Backend> {
protected:
  void SetUp() override {
    if (GetParam() == Backend::postgres)
      store_url_ = test::PostgresCluster::shared().create_database();
    BillingApiTest::SetUp();
  }
  std::string storage_type() const {
    return GetParam() == Backend::postgres ? "postgres" : "sqlite";
  }
};

INSTANTIATE_TEST_SUITE_P(Stores, BillingApiStoresTest,
                         ::testing::Values(Backend::sqlite, Backend::postgres),
                         [](const ::testing::TestParamInfo<Backend>& info) {
                           return info.param == Backend::sqlite ? "sqlite" : "postgres";
                         });

// --- the seed's examples, as written

TEST_P(BillingApiStoresTest, SeedCreateItemExample) {
  Reply reply = post("/api/v1/billing/items", R"({
"name": "GCP Compute Engine",
"amount": 1050,
"currency": "USD",
"provider": "gcp",
"providerRef": "gcp-inv-2026-03",
"tags": ["compute", "production"],
"description": "March compute costs",
"recurring": true,
"period": "monthly"
})");
  ASSERT_EQ(reply.status, 201) << reply.body;
  bool success = false;
  ASSERT_EQ(reply.root["success"].get_bool().get(success), simdjson::SUCCESS);
  EXPECT_TRUE(success);
  const dom::element item = reply.data();
  EXPECT_TRUE(std::regex_match(str(item, "id"), std::regex("[a-z0-9]{12}"))) << reply.body;
  EXPECT_EQ(str(item, "name"), "GCP Compute Engine");
  EXPECT_EQ(num(item, "amount"), 1050);
  EXPECT_EQ(str(item, "currency"), "USD");
  EXPECT_EQ(str(item, "provider"), "gcp");
  EXPECT_EQ(str(item, "providerRef"), "gcp-inv-2026-03");
  EXPECT_EQ(names(item["tags"].value()).size(), 2u);
  EXPECT_EQ(Reply::str(item["tags"].at(0)), "compute");
  EXPECT_EQ(Reply::str(item["tags"].at(1)), "production");
  EXPECT_EQ(str(item, "description"), "March compute costs");
  EXPECT_EQ(str(item, "period"), "monthly");
  EXPECT_EQ(str(item, "source"), "manual");
  for (const char* key : {"date", "createdAt", "updatedAt"})
    EXPECT_TRUE(std::regex_match(str(item, key), kMillisUtc)) << key << ": " << reply.body;
  EXPECT_EQ(str(item, "createdAt"), str(item, "updatedAt"));
  // And it reads back the same, by id and by provider reference.
  Reply again = get("/api/v1/billing/items/" + str(item, "id"));
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.body, reply.body);
  Reply by_ref =
      get("/api/v1/billing/items/by-provider-ref?provider=gcp&providerRef=gcp-inv-2026-03");
  EXPECT_EQ(by_ref.status, 200);
  EXPECT_EQ(by_ref.body, reply.body);
}

TEST_P(BillingApiStoresTest, SeedListSummaryBreakdownTrendSearchExamples) {
  load_fixture();
  // curl ".../items?provider=gcp&from=2026-03-01&to=2026-03-31&limit=20": items 1 and 2.
  Reply list = get("/api/v1/billing/items?provider=gcp&from=2026-03-01&to=2026-03-31&limit=20");
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(names(list.data()),
            (std::vector<std::string>{"GCP Cloud Storage", "GCP Compute Engine"})); // newest first
  EXPECT_TRUE(is_null(list.root["meta"].value(), "nextCursor"));

  // Seed category example.
  Reply category = post("/api/v1/billing/categories", R"({
"name": "Infrastructure2",
"description": "Cloud infrastructure costs",
"color": "#4A90D9"
})");
  ASSERT_EQ(category.status, 201) << category.body;
  EXPECT_EQ(str(category.data(), "color"), "#4A90D9");

  // Summary over March: USD 1050 + 2300 + 17500 = 20850 (3 items) and JPY 5000 (1 item).
  Reply summary = get("/api/v1/billing/reports/summary?from=2026-03-01&to=2026-03-31");
  ASSERT_EQ(summary.status, 200) << summary.body;
  EXPECT_TRUE(is_null(summary.data(), "totalAmount")); // two currencies are never added
  EXPECT_EQ(num(summary.data(), "itemCount"), 4);
  EXPECT_EQ(str(summary.data(), "from"), "2026-03-01");
  EXPECT_EQ(str(summary.data(), "to"), "2026-03-31");
  const auto by_currency = array(summary.data()["byCurrency"].value());
  ASSERT_EQ(by_currency.size(), 2u);
  EXPECT_EQ(str(by_currency[0], "currency"), "JPY");
  EXPECT_EQ(num(by_currency[0], "totalAmount"), 5000);
  EXPECT_EQ(str(by_currency[1], "currency"), "USD");
  EXPECT_EQ(num(by_currency[1], "totalAmount"), 20850);
  EXPECT_EQ(num(by_currency[1], "itemCount"), 3);
  // One currency: the seed's shape.
  Reply usd = get("/api/v1/billing/reports/summary?from=2026-03-01&to=2026-03-31&currency=USD");
  EXPECT_EQ(num(usd.data(), "totalAmount"), 20850);
  EXPECT_EQ(num(usd.data(), "itemCount"), 3);
  EXPECT_EQ(str(usd.data(), "currency"), "USD");

  // Breakdown by provider (USD): openai 17500, acme-support 12000, datadog 4999,
  // gcp 1050 + 2300 + 900 + 333 = 4583; of 39082: 44.78 / 30.70 / 12.79 / 11.73 %, rounded by
  // largest remainder to 44.8 / 30.7 / 12.8 / 11.7 (= 100.0).
  Reply breakdown = get("/api/v1/billing/reports/breakdown?by=provider");
  ASSERT_EQ(breakdown.status, 200) << breakdown.body;
  std::vector<dom::element> groups = array(breakdown.data());
  ASSERT_EQ(groups.size(), 5u); // JPY sakura first (currencies in order), then USD
  EXPECT_EQ(str(groups[0], "key"), "sakura");
  EXPECT_EQ(str(groups[0], "currency"), "JPY");
  const std::vector<std::tuple<std::string, std::int64_t, std::int64_t, std::string>> expected = {
      {"openai", 17500, 1, "44.8"},
      {"acme-support", 12000, 1, "30.7"},
      {"datadog", 4999, 1, "12.8"},
      {"gcp", 4583, 4, "11.7"}};
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const auto& [key, amount, count, percentage] = expected[i];
    EXPECT_EQ(str(groups[i + 1], "key"), key);
    EXPECT_EQ(num(groups[i + 1], "amount"), amount);
    EXPECT_EQ(num(groups[i + 1], "count"), count);
    EXPECT_NE(breakdown.body.find("\"key\":\"" + key + "\",\"amount\":" + std::to_string(amount) +
                                  ",\"count\":" + std::to_string(count) +
                                  ",\"percentage\":" + percentage),
              std::string::npos)
        << breakdown.body;
  }

  // Trend by month from 2026-01-01 (USD): Jan 12000 (1), Feb 4999 + 900 = 5899 (2),
  // Mar 20850 (3), Apr 333 (1).
  Reply trend = get("/api/v1/billing/reports/trend?interval=month&from=2026-01-01&currency=USD");
  ASSERT_EQ(trend.status, 200) << trend.body;
  EXPECT_NE(trend.body.find(R"([{"date":"2026-01","amount":12000,"count":1,"currency":"USD"},)"
                            R"({"date":"2026-02","amount":5899,"count":2,"currency":"USD"},)"
                            R"({"date":"2026-03","amount":20850,"count":3,"currency":"USD"},)"
                            R"({"date":"2026-04","amount":333,"count":1,"currency":"USD"}])"),
            std::string::npos)
      << trend.body;

  // Search "compute": items 1, 5, 7 and 8 (name, tags or service); not storage nor support.
  Reply search = get("/api/v1/billing/search?q=compute&limit=10");
  ASSERT_EQ(search.status, 200) << search.body;
  EXPECT_EQ(name_set(search.data()),
            (std::set<std::string>{"GCP Compute Engine", "GCP Compute Engine Feb", "Tokyo hosting",
                                   "April compute"}));

  // Status: 8 items, 4 categories, totals per currency.
  Reply status = get("/api/v1/billing/status");
  ASSERT_EQ(status.status, 200) << status.body;
  bool initialized = false;
  EXPECT_EQ(status.data()["initialized"].get_bool().get(initialized), simdjson::SUCCESS);
  EXPECT_TRUE(initialized);
  EXPECT_EQ(num(status.data(), "totalItems"), 8);
  EXPECT_EQ(num(status.data(), "totalCategories"), 4);
  EXPECT_EQ(num(status.data()["config"].value(), "version"), 1);
  EXPECT_EQ(str(status.data()["config"].value(), "currency"), "USD");
  EXPECT_EQ(str(status.data(), "storageType"), storage_type());
  EXPECT_GT(num(status.data()["storage"].value(), "bytes"), 0);
}

// --- every item filter, against the fixture's table

TEST_P(BillingApiStoresTest, EveryItemFilter) {
  load_fixture();
  auto listed = [&](const std::string& query) {
    Reply reply = get("/api/v1/billing/items?" + query);
    EXPECT_EQ(reply.status, 200) << query << " → " << reply.body;
    return reply.status == 200 ? name_set(reply.data()) : std::set<std::string>{};
  };
  using Names = std::set<std::string>;
  EXPECT_EQ(listed("provider=gcp").size(), 4u);
  EXPECT_EQ(listed("category=Infrastructure"), // with its subcategory Support
            (Names{"GCP Compute Engine", "GCP Cloud Storage", "GCP Compute Engine Feb",
                   "Support contract"}));
  EXPECT_EQ(listed("category=" + support_), (Names{"Support contract"}));
  EXPECT_EQ(listed("category=ai"), (Names{"OpenAI API"}));
  EXPECT_EQ(listed("service=compute"), (Names{"GCP Compute Engine", "GCP Compute Engine Feb",
                                              "Tokyo hosting", "April compute"}));
  // Whole days, both included: 2026-03-31T23:59:59.999Z is in; 2026-04-01T00:00Z is not.
  EXPECT_EQ(listed("from=2026-03-31&to=2026-03-31"), (Names{"OpenAI API"}));
  EXPECT_EQ(listed("from=2026-04-01"), (Names{"April compute"}));
  EXPECT_EQ(listed("to=2026-01-31"), (Names{"Support contract"}));
  EXPECT_EQ(listed("recurring=true"), (Names{"GCP Compute Engine", "Datadog", "Support contract"}));
  EXPECT_EQ(listed("recurring=false").size(), 5u);
  EXPECT_EQ(listed("tags=ai,storage"), (Names{"OpenAI API", "GCP Cloud Storage"}));
  EXPECT_EQ(listed("tags=production"), (Names{"GCP Compute Engine", "OpenAI API"}));
  EXPECT_EQ(listed("stageApp=prod"), (Names{"GCP Compute Engine", "OpenAI API"}));
  EXPECT_EQ(listed("author=bob"), (Names{"GCP Cloud Storage", "Support contract"}));
  EXPECT_EQ(listed("currency=JPY"), (Names{"Tokyo hosting"}));
  EXPECT_EQ(listed("source=sync"), (Names{}));
  EXPECT_EQ(listed("provider=gcp&service=compute&tags=compute&from=2026-03-01"),
            (Names{"GCP Compute Engine", "April compute"}));
  EXPECT_EQ(listed("provider=nobody"), (Names{}));
}

TEST_P(BillingApiStoresTest, CursorPagingVisitsEveryItemOnce) {
  load_fixture();
  std::vector<std::string> seen;
  std::string cursor;
  int pages = 0;
  for (;; ++pages) {
    Reply page = get("/api/v1/billing/items?limit=3" + (cursor.empty() ? "" : "&cursor=" + cursor));
    ASSERT_EQ(page.status, 200) << page.body;
    for (const std::string& name : names(page.data()))
      seen.push_back(name);
    if (is_null(page.root["meta"].value(), "nextCursor"))
      break;
    cursor = str(page.root["meta"].value(), "nextCursor");
    ASSERT_LT(pages, 10);
  }
  EXPECT_EQ(pages + 1, 3); // 3 + 3 + 2
  // Newest first, by date.
  EXPECT_EQ(seen, (std::vector<std::string>{"April compute", "OpenAI API", "Tokyo hosting",
                                            "GCP Cloud Storage", "GCP Compute Engine", "Datadog",
                                            "GCP Compute Engine Feb", "Support contract"}));
  Reply bad = get("/api/v1/billing/items?cursor=garbage");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.error_field(), "cursor");
}

// --- reports with their filters

TEST_P(BillingApiStoresTest, ReportsWithFilters) {
  load_fixture();
  auto summary = [&](const std::string& query) {
    Reply reply = get("/api/v1/billing/reports/summary?" + query);
    EXPECT_EQ(reply.status, 200) << reply.body;
    return std::make_pair(num(reply.data(), "totalAmount"), num(reply.data(), "itemCount"));
  };
  // All USD: 1050 + 2300 + 17500 + 4999 + 900 + 12000 + 333 = 39082 over 7 items.
  EXPECT_EQ(summary("currency=USD"), std::make_pair(std::int64_t{39082}, std::int64_t{7}));
  // Infrastructure with Support: 1050 + 2300 + 900 + 12000 = 16250.
  EXPECT_EQ(summary("category=Infrastructure"),
            std::make_pair(std::int64_t{16250}, std::int64_t{4}));
  EXPECT_EQ(summary("provider=gcp&from=2026-02-01&to=2026-03-31"),
            std::make_pair(std::int64_t{1050 + 2300 + 900}, std::int64_t{3}));
  EXPECT_EQ(summary("service=compute&currency=USD"),
            std::make_pair(std::int64_t{1050 + 900 + 333}, std::int64_t{3}));
  EXPECT_EQ(summary("provider=nobody"), std::make_pair(std::int64_t{0}, std::int64_t{0}));

  // Breakdown by category (USD): AI 17500, Support 12000, none 4999 + 333 = 5332,
  // Infrastructure 1050 + 2300 + 900 = 4250.
  Reply by_category = get("/api/v1/billing/reports/breakdown?by=category&currency=USD");
  ASSERT_EQ(by_category.status, 200) << by_category.body;
  auto groups = array(by_category.data());
  ASSERT_EQ(groups.size(), 4u);
  EXPECT_EQ(str(groups[0], "key"), ai_);
  EXPECT_EQ(str(groups[0], "name"), "AI");
  EXPECT_EQ(num(groups[0], "amount"), 17500);
  EXPECT_EQ(str(groups[1], "name"), "Support");
  EXPECT_EQ(num(groups[1], "amount"), 12000);
  EXPECT_TRUE(is_null(groups[2], "key"));
  EXPECT_EQ(num(groups[2], "amount"), 5332);
  EXPECT_EQ(str(groups[3], "key"), infra_);
  EXPECT_EQ(num(groups[3], "amount"), 4250);

  // By recurring (USD): true 1050 + 4999 + 12000 = 18049 (3), false 2300 + 17500 + 900 + 333 =
  // 21033 (4).
  Reply by_recurring = get("/api/v1/billing/reports/breakdown?by=recurring&currency=USD");
  groups = array(by_recurring.data());
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(str(groups[0], "key"), "false");
  EXPECT_EQ(num(groups[0], "amount"), 21033);
  EXPECT_EQ(str(groups[1], "key"), "true");
  EXPECT_EQ(num(groups[1], "amount"), 18049);

  // By tag (USD): an item counts under each of its tags; the untagged under null.
  // production 1050 + 17500 = 18550, ai 17500, untagged 12000, monitoring 4999, storage 2300,
  // compute 1050 + 900 + 333 = 2283.
  for (const std::string by : {"tag", "service", "provider", "category", "recurring"}) {
    Reply reply = get("/api/v1/billing/reports/breakdown?by=" + by);
    ASSERT_EQ(reply.status, 200) << reply.body;
    std::map<std::string, std::int64_t> tenths; // per currency: percentages add up to 100.0
    for (dom::element g : array(reply.data())) {
      double percentage = 0;
      ASSERT_EQ(g["percentage"].get_double().get(percentage), simdjson::SUCCESS);
      tenths[str(g, "currency")] += std::llround(percentage * 10);
    }
    EXPECT_EQ(tenths["USD"], 1000) << by << ": " << reply.body;
    EXPECT_EQ(tenths["JPY"], 1000) << by << ": " << reply.body;
  }
  Reply by_tag = get("/api/v1/billing/reports/breakdown?by=tag&currency=USD");
  std::map<std::string, std::int64_t> tag_amounts;
  for (dom::element g : array(by_tag.data()))
    tag_amounts[is_null(g, "key") ? "(none)" : str(g, "key")] = num(g, "amount");
  EXPECT_EQ(tag_amounts, (std::map<std::string, std::int64_t>{{"production", 18550},
                                                              {"ai", 17500},
                                                              {"(none)", 12000},
                                                              {"monitoring", 4999},
                                                              {"storage", 2300},
                                                              {"compute", 2283}}));

  // Trend by week (USD), weeks from Monday: 2026-01-12 12000, 2026-01-26 900, 2026-02-23 4999,
  // 2026-03-02 1050, 2026-03-09 2300, 2026-03-30 17500 + 333 = 17833 (2).
  Reply weeks = get("/api/v1/billing/reports/trend?interval=week&currency=USD");
  ASSERT_EQ(weeks.status, 200) << weeks.body;
  std::vector<std::tuple<std::string, std::int64_t, std::int64_t>> week_rows;
  for (dom::element w : array(weeks.data()))
    week_rows.emplace_back(str(w, "date"), num(w, "amount"), num(w, "count"));
  EXPECT_EQ(week_rows, (std::vector<std::tuple<std::string, std::int64_t, std::int64_t>>{
                           {"2026-01-12", 12000, 1},
                           {"2026-01-26", 900, 1},
                           {"2026-02-23", 4999, 1},
                           {"2026-03-02", 1050, 1},
                           {"2026-03-09", 2300, 1},
                           {"2026-03-30", 17833, 2}}));
  // By day over March, provider gcp: 03-05 1050, 03-10 2300.
  Reply days = get("/api/v1/billing/reports/trend?interval=day&provider=gcp&from=2026-03-01&to="
                   "2026-03-31");
  EXPECT_NE(days.body.find(R"([{"date":"2026-03-05","amount":1050,"count":1,"currency":"USD"},)"
                           R"({"date":"2026-03-10","amount":2300,"count":1,"currency":"USD"}])"),
            std::string::npos)
      << days.body;
  // A write is seen by the next report (the cache is dropped).
  create("/api/v1/billing/items",
         R"({"name":"late","amount":1,"provider":"gcp","date":"2026-03-05"})");
  Reply after = get("/api/v1/billing/reports/trend?interval=day&provider=gcp&from=2026-03-01&to="
                    "2026-03-31");
  EXPECT_NE(after.body.find(R"({"date":"2026-03-05","amount":1051,"count":2,)"), std::string::npos)
      << after.body;
}

// --- writes: PUT, conflicts, deletes, categories

TEST_P(BillingApiStoresTest, PutReplacesTheFieldsItNamesAndKeepsCreatedAt) {
  Reply created = post("/api/v1/billing/items",
                       R"({"name":"Old","amount":100,"provider":"gcp","tags":["a"],
                           "description":"kept","recurring":true,"period":"monthly"})");
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = str(created.data(), "id");
  std::this_thread::sleep_for(milliseconds(5));
  Reply updated = call("PUT", "/api/v1/billing/items/" + id,
                       R"({"name":"New","amount":250,"tags":["b","c"],"recurring":false})");
  ASSERT_EQ(updated.status, 200) << updated.body;
  const dom::element item = updated.data();
  EXPECT_EQ(str(item, "name"), "New");
  EXPECT_EQ(num(item, "amount"), 250);
  EXPECT_EQ(str(item, "description"), "kept");
  EXPECT_EQ(str(item, "provider"), "gcp");
  EXPECT_TRUE(is_null(item, "period")); // not recurring any more: no period
  EXPECT_EQ(str(item, "createdAt"), str(created.data(), "createdAt"));
  EXPECT_GT(str(item, "updatedAt"), str(created.data(), "updatedAt"));
  EXPECT_EQ(get("/api/v1/billing/items/" + id).body, updated.body);
  // null clears an optional field.
  Reply cleared = call("PUT", "/api/v1/billing/items/" + id, R"({"description":null})");
  EXPECT_TRUE(is_null(cleared.data(), "description"));
  EXPECT_EQ(call("PUT", "/api/v1/billing/items/nosuchitem", R"({"amount":1})").status, 404);
}

// A search answers with each item as it is now: the JSON it keeps of items it found before is
// dropped by every write (an update, a delete, an item created).
TEST_P(BillingApiStoresTest, SearchAnswersWithItemsAsTheyAreAfterEveryWrite) {
  const std::string a = create("/api/v1/billing/items", R"({"name":"zephyr alpha","amount":100})");
  const std::string b = create("/api/v1/billing/items", R"({"name":"zephyr beta","amount":200})");
  auto amounts = [&](const std::string& query) {
    std::map<std::string, std::int64_t> found;
    Reply reply = get("/api/v1/billing/search?q=" + query);
    EXPECT_EQ(reply.status, 200) << reply.body;
    for (dom::element item : reply.data().get_array())
      found[str(item, "id")] = num(item, "amount");
    return found;
  };
  EXPECT_EQ(amounts("zephyr"), (std::map<std::string, std::int64_t>{{a, 100}, {b, 200}}));
  ASSERT_EQ(call("PUT", "/api/v1/billing/items/" + a, R"({"amount":150})").status, 200);
  EXPECT_EQ(amounts("zephyr"), (std::map<std::string, std::int64_t>{{a, 150}, {b, 200}}));
  EXPECT_EQ(amounts("zeph&limit=5"), (std::map<std::string, std::int64_t>{{a, 150}, {b, 200}}));
  ASSERT_EQ(call("DELETE", "/api/v1/billing/items/" + b).status, 200);
  EXPECT_EQ(amounts("zephyr"), (std::map<std::string, std::int64_t>{{a, 150}}));
  const std::string c = create("/api/v1/billing/items", R"({"name":"zephyr gamma","amount":7})");
  ASSERT_EQ(call("PUT", "/api/v1/billing/items/" + a, R"({"name":"renamed","amount":1})").status,
            200);
  EXPECT_EQ(amounts("zephyr"), (std::map<std::string, std::int64_t>{{c, 7}}));
  EXPECT_EQ(amounts("renamed"), (std::map<std::string, std::int64_t>{{a, 1}}));
}

TEST_P(BillingApiStoresTest, DuplicateProviderRefIsAConflict) {
  create("/api/v1/billing/items", R"({"name":"a","amount":1,"provider":"gcp","providerRef":"r1"})");
  const std::string other = create(
      "/api/v1/billing/items", R"({"name":"b","amount":2,"provider":"gcp","providerRef":"r2"})");
  Reply again = post("/api/v1/billing/items",
                     R"({"name":"c","amount":3,"provider":"gcp","providerRef":"r1"})");
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(again.error_code(), "CONFLICT");
  EXPECT_EQ(again.error_field(), "providerRef");
  Reply moved = call("PUT", "/api/v1/billing/items/" + other, R"({"providerRef":"r1"})");
  EXPECT_EQ(moved.status, 409);
  EXPECT_EQ(str(get("/api/v1/billing/items/" + other).data(), "providerRef"), "r2");
  // Another provider may use it.
  create("/api/v1/billing/items", R"({"name":"d","amount":4,"provider":"aws","providerRef":"r1"})");
  EXPECT_EQ(item_count(), 3);
}

TEST_P(BillingApiStoresTest, DeleteAndNotFound) {
  const std::string id = create("/api/v1/billing/items", R"({"name":"a","amount":1})");
  Reply deleted = call("DELETE", "/api/v1/billing/items/" + id);
  EXPECT_EQ(deleted.status, 200);
  Reply gone = get("/api/v1/billing/items/" + id);
  EXPECT_EQ(gone.status, 404);
  EXPECT_EQ(gone.error_code(), "NOT_FOUND");
  EXPECT_EQ(gone.error_message(), "Item not found: " + id); // the seed's wording
  EXPECT_EQ(call("DELETE", "/api/v1/billing/items/" + id).status, 404);
  EXPECT_EQ(get("/api/v1/billing/items/by-provider-ref?provider=x&providerRef=y").status, 404);
  EXPECT_EQ(get("/api/v1/billing/sync/jobs/nosuchjob").status, 404);
  EXPECT_EQ(get("/api/v1/billing/nosuchroute").status, 404);
}

TEST_P(BillingApiStoresTest, Categories) {
  const std::string parent =
      create("/api/v1/billing/categories", R"({"name":"Infrastructure","description":"cloud"})");
  const std::string child =
      create("/api/v1/billing/categories", R"({"name":"Compute","parentId":")" + parent + R"("})");
  // By id or by name, any case.
  EXPECT_EQ(str(get("/api/v1/billing/categories/" + parent).data(), "name"), "Infrastructure");
  EXPECT_EQ(str(get("/api/v1/billing/categories/infrastructure").data(), "id"), parent);
  EXPECT_EQ(names(get("/api/v1/billing/categories").data()),
            (std::vector<std::string>{"Compute", "Infrastructure"}));
  // Names are unique; a parent must exist and cannot be a descendant.
  EXPECT_EQ(post("/api/v1/billing/categories", R"({"name":"COMPUTE"})").status, 409);
  Reply loop =
      call("PUT", "/api/v1/billing/categories/" + parent, R"({"parentId":")" + child + R"("})");
  EXPECT_EQ(loop.status, 400);
  EXPECT_EQ(loop.error_field(), "parentId");
  EXPECT_EQ(post("/api/v1/billing/categories", R"({"name":"x","parentId":"nope"})").status, 400);
  Reply renamed = call("PUT", "/api/v1/billing/categories/" + child, R"({"name":"Servers"})");
  EXPECT_EQ(renamed.status, 200);
  EXPECT_EQ(str(renamed.data(), "parentId"), parent);
  // In use: a delete is refused until nothing refers to it.
  const std::string item =
      create("/api/v1/billing/items", R"({"name":"vm","amount":5,"category":")" + child + R"("})");
  Reply refused = call("DELETE", "/api/v1/billing/categories/" + child);
  EXPECT_EQ(refused.status, 409);
  EXPECT_EQ(call("DELETE", "/api/v1/billing/categories/" + parent).status, 409); // has a child
  EXPECT_EQ(call("DELETE", "/api/v1/billing/items/" + item).status, 200);
  EXPECT_EQ(call("DELETE", "/api/v1/billing/categories/" + child).status, 200);
  EXPECT_EQ(call("DELETE", "/api/v1/billing/categories/" + parent).status, 200);
  EXPECT_EQ(get("/api/v1/billing/categories/" + parent).status, 404);
}

// --- bad input: a 4xx naming the field, never a crash, never a partial write

TEST_P(BillingApiStoresTest, BadInputIsAValidationErrorThatNamesTheField) {
  load_fixture();
  const std::int64_t before = item_count();
  const std::vector<std::pair<std::string, std::string>> bad_items = {
      {"", "body"},
      {"{", "body"},
      {"[1,2]", "body"},
      {R"({"name":"a","amount":1,"colour":"red"})", "colour"},
      {R"({"name":"a","amount":"10"})", "amount"},
      {R"({"name":"a","amount":-1})", "amount"},
      {R"({"name":"a","amount":10.5})", "amount"},
      {R"({"name":"a","amount":1e3})", "amount"},
      {R"({"name":"a","amount":18446744073709551615})", "amount"},
      {R"({"name":"a","amount":9007199254740992})", "amount"},
      {R"({"name":"a","amount":1,"currency":"ZZZ"})", "currency"},
      {R"({"name":"a","amount":1,"currency":"usd"})", "currency"},
      {R"({"name":"a","amount":1,"date":"2026-02-30"})", "date"},
      {R"({"name":"a","amount":1,"date":"yesterday"})", "date"},
      {R"({"name":"a","amount":1,"tags":"compute"})", "tags"},
      {R"({"name":"a","amount":1,"tags":["ok",7]})", "tags[1]"},
      {R"({"name":"a","amount":1,"recurring":"yes"})", "recurring"},
      {R"({"name":"a","amount":1,"recurring":true})", "period"},
      {R"({"name":"a","amount":1,"period":"monthly"})", "period"},
      {R"({"name":"a","amount":1,"recurring":true,"period":"hourly"})", "period"},
      {R"({"name":"a","amount":1,"category":"nope"})", "category"},
      {R"({"name":"","amount":1})", "name"},
      {R"({"amount":1})", "name"},
      {R"({"name":"a"})", "amount"},
      {R"({"name":"a","amount":1,"id":"x"})", "id"},
      {R"({"name":"a","amount":1,"source":"sync"})", "source"},
      {R"({"name":"a","amount":1,"amount":2})", "amount"},
      {R"({"name":["a"],"amount":1})", "name"},
  };
  for (const auto& [body, field] : bad_items) {
    Reply reply = post("/api/v1/billing/items", body);
    EXPECT_EQ(reply.status, 400) << body << " → " << reply.body;
    EXPECT_EQ(reply.error_code(), "VALIDATION_ERROR") << body;
    EXPECT_EQ(reply.error_field(), field) << body << " → " << reply.body;
    EXPECT_EQ(reply.error_message().rfind(field + ": ", 0), 0u) << reply.body;
  }
  // The same through PUT: nothing of the item changes.
  const std::string id = str(get("/api/v1/billing/items?provider=openai").data().at(0), "id");
  const std::string stored = get("/api/v1/billing/items/" + id).body;
  for (const std::string body :
       {R"({"amount":-5})", R"({"name":"x","amount":1.5})",
        R"({"name":"changed","currency":"XYZ"})", R"({"name":"changed","tags":["a",""]})",
        R"({"name":"changed","category":"nope"})"}) {
    Reply reply = call("PUT", "/api/v1/billing/items/" + id, body);
    EXPECT_EQ(reply.status, 400) << body << " → " << reply.body;
  }
  EXPECT_EQ(get("/api/v1/billing/items/" + id).body, stored);
  // Query parameters.
  const std::vector<std::pair<std::string, std::string>> bad_queries = {
      {"/api/v1/billing/items?from=2026-13-01", "from"},
      {"/api/v1/billing/items?to=03/31/2026", "to"},
      {"/api/v1/billing/items?from=2026-03-31&to=2026-03-01", "from"},
      {"/api/v1/billing/items?limit=0", "limit"},
      {"/api/v1/billing/items?limit=abc", "limit"},
      {"/api/v1/billing/items?limit=100000", "limit"},
      {"/api/v1/billing/items?recurring=maybe", "recurring"},
      {"/api/v1/billing/items?category=nope", "category"},
      {"/api/v1/billing/items?provdier=gcp", "provdier"},
      {"/api/v1/billing/reports/summary?from=2026-04-01&to=2026-03-01", "from"},
      {"/api/v1/billing/reports/breakdown?by=colour", "by"},
      {"/api/v1/billing/reports/trend?interval=year", "interval"},
      {"/api/v1/billing/reports/trend?from=tomorrow", "from"},
      {"/api/v1/billing/search", "q"},
      {"/api/v1/billing/search?q=a&limit=-1", "limit"},
      {"/api/v1/billing/items/by-provider-ref?provider=gcp", "providerRef"},
  };
  for (const auto& [path, field] : bad_queries) {
    Reply reply = get(path);
    EXPECT_EQ(reply.status, 400) << path << " → " << reply.body;
    EXPECT_EQ(reply.error_code(), "VALIDATION_ERROR") << path;
    EXPECT_EQ(reply.error_field(), field) << path << " → " << reply.body;
  }
  const std::vector<std::pair<std::string, std::string>> bad_categories = {
      {R"({"description":"no name"})", "name"},
      {R"({"name":"x","color":"blue"})", "color"},
      {R"({"name":"x","colour":"#FFFFFF"})", "colour"},
      {R"({"name":7})", "name"},
  };
  for (const auto& [body, field] : bad_categories) {
    Reply reply = post("/api/v1/billing/categories", body);
    EXPECT_EQ(reply.status, 400) << body << " → " << reply.body;
    EXPECT_EQ(reply.error_field(), field) << body << " → " << reply.body;
  }
  EXPECT_EQ(item_count(), before);
  EXPECT_EQ(num(get("/api/v1/billing/status").data(), "totalCategories"), 3);
}

TEST_P(BillingApiStoresTest, BodiesOverOneMebibyteAre413) {
  std::string big = R"({"name":"a","amount":1,"description":")" + std::string(1 << 20, 'x') + "\"}";
  Reply reply = post("/api/v1/billing/items", big);
  EXPECT_EQ(reply.status, 413) << reply.body.substr(0, 200);
  EXPECT_EQ(reply.error_code(), "PAYLOAD_TOO_LARGE");
  EXPECT_EQ(item_count(), 0);
  // Just under the limit is read (and refused for its 10,000-byte description, by field).
  std::string under =
      R"({"name":"a","amount":1,"description":")" + std::string((1 << 20) - 100, 'x') + "\"}";
  Reply read = post("/api/v1/billing/items", under);
  EXPECT_EQ(read.status, 400);
  EXPECT_EQ(read.error_field(), "description");
}

TEST_P(BillingApiStoresTest, MinorUnitsFollowTheCurrency) {
  // JPY has no minor unit: 5000 is 5000 yen; KWD has three digits.
  const std::string yen =
      create("/api/v1/billing/items", R"({"name":"yen","amount":5000,"currency":"JPY"})");
  EXPECT_EQ(num(get("/api/v1/billing/items/" + yen).data(), "amount"), 5000);
  const std::string dinar =
      create("/api/v1/billing/items", R"({"name":"dinar","amount":1234,"currency":"KWD"})");
  EXPECT_EQ(str(get("/api/v1/billing/items/" + dinar).data(), "currency"), "KWD");
  // Without a currency: the service's (USD).
  const std::string plain = create("/api/v1/billing/items", R"({"name":"plain","amount":1})");
  EXPECT_EQ(str(get("/api/v1/billing/items/" + plain).data(), "currency"), "USD");
}

TEST_P(BillingApiStoresTest, DataSurvivesARestart) {
  load_fixture();
  const std::string before = get("/api/v1/billing/reports/breakdown?by=provider").body;
  stop();
  start();
  EXPECT_EQ(get("/api/v1/billing/reports/breakdown?by=provider").body, before);
  EXPECT_EQ(item_count(), 8);
}

// --- several hosts

// Two `serve` hosts, each with its own state directory, on one PostgreSQL database: either
// answers for both, and a report one host has cached follows the other's writes.
TEST_F(BillingApiTest, TwoHostsOnOneDatabaseAnswerForEachOther) {
  stop(); // the SQLite host the fixture started
  store_url_ = test::PostgresCluster::shared().create_database();
  write_config(false);
  start();
  const int host_a = port_;
  {
    std::string toml = test::read_text(dir_ / "billdrop.toml");
    toml.replace(toml.find("state_dir = \"state\""), 19, "state_dir = \"state_b\"");
    std::ofstream(dir_ / "b.toml") << toml;
  }
  const pid_t pid_b =
      test::spawn_billdrop({"serve", "--config", (dir_ / "b.toml").string()}, dir_, "serve_b");
  int host_b = 0;
  ASSERT_TRUE(test::eventually([&] {
    const std::string out = test::read_text(dir_ / "serve_b.out");
    std::smatch match;
    if (!std::regex_search(out, match, std::regex(R"(listening on http://[^ ]+:([0-9]+) )")))
      return false;
    host_b = std::stoi(match[1]);
    return true;
  })) << test::read_text(dir_ / "serve_b.err");
  load_fixture(); // through host A
  const std::string gcp = "/api/v1/billing/reports/summary?provider=gcp";
  // By hand: gcp's items 1050 + 2300 + 900 + 333.
  EXPECT_EQ(num(get(gcp).data(), "totalAmount"), 4583); // host A caches it
  port_ = host_b;
  EXPECT_EQ(num(get(gcp).data(), "totalAmount"), 4583);
  EXPECT_EQ(item_count(), 8);
  EXPECT_EQ(names(get("/api/v1/billing/search?q=tokyo").data()),
            std::vector<std::string>{"Tokyo hosting"});
  create("/api/v1/billing/items", R"({"name":"Written on B","amount":17,"provider":"gcp",
      "category":"Infrastructure","date":"2026-03-20"})");
  port_ = host_a;
  EXPECT_EQ(num(get(gcp).data(), "totalAmount"), 4600); // A's cache followed B's write
  EXPECT_EQ(item_count(), 9);
  EXPECT_EQ(names(get("/api/v1/billing/search?q=written").data()),
            std::vector<std::string>{"Written on B"});
  const Reply status = get("/api/v1/billing/status");
  EXPECT_EQ(str(status.data(), "storageType"), "postgres");
  EXPECT_EQ(str(status.data()["storage"].value(), "location").find("password"), std::string::npos);
  // One providerRef across hosts: the second host's duplicate is a CONFLICT.
  create("/api/v1/billing/items", R"({"name":"Invoice","amount":5,"provider":"gcp",
      "providerRef":"inv-7","date":"2026-03-20"})");
  port_ = host_b;
  const Reply twin = post("/api/v1/billing/items", R"({"name":"Invoice again","amount":5,
      "provider":"gcp","providerRef":"inv-7","date":"2026-03-20"})");
  EXPECT_EQ(twin.status, 409) << twin.body;
  EXPECT_EQ(twin.error_code(), "CONFLICT");
  port_ = host_a;
  ::kill(pid_b, SIGTERM);
  EXPECT_EQ(test::wait_exit(pid_b, milliseconds(10'000)), 0);
}

// `billdrop store migrate` brings the billing tables of a PostgreSQL store up too, once.
TEST(BillingStoreMigrateTest, MigratesTheBillingTablesOfAPostgresStore) {
  const fs::path dir =
      fs::temp_directory_path() / ("billdrop_billing_migrate_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string url = test::PostgresCluster::shared().create_database();
  std::ofstream(dir / "pg.url") << url << "\n";
  std::ofstream(dir / "billdrop.toml")
      << "state_dir = \"state\"\n[store]\nkind = \"postgres\"\nurl_file = \"pg.url\"\n";
  const std::string config = (dir / "billdrop.toml").string();
  test::CliRun first = test::run_billdrop({"store", "migrate", "--config", config, "--json"}, dir);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_NE(first.out.find(R"("billing":{"fromVersion":0,"toVersion":1})"), std::string::npos)
      << first.out;
  EXPECT_EQ(test::PostgresCluster::query(url, "SELECT version FROM billdrop_billing_schema"), "1");
  test::CliRun again = test::run_billdrop({"store", "migrate", "--config", config}, dir);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("the billing tables are at schema version 1 already"), std::string::npos)
      << again.out;
  fs::remove_all(dir);
}

// A Billing API moved from one host's billing.db to the shared PostgreSQL store: `store migrate
// --import-billing-db` copies every category and item (ids and timestamps kept), the same
// answers come back from the store, and a second import into the now full tables is refused.
TEST_F(BillingApiTest, ABillingDbIsImportedIntoAnEmptyPostgresStore) {
  load_fixture();
  const std::string summary = get("/api/v1/billing/reports/summary").body;
  const std::string items = get("/api/v1/billing/items?limit=100").body;
  const std::string categories = get("/api/v1/billing/categories").body;
  stop();

  store_url_ = test::PostgresCluster::shared().create_database();
  write_config(false); // [store] kind = "postgres" from now on
  const std::string config = (dir_ / "billdrop.toml").string();
  const std::string db = (dir_ / "state" / "billing.db").string();
  test::CliRun imported = test::run_billdrop(
      {"store", "migrate", "--config", config, "--import-billing-db", db, "--json"}, dir_);
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  // The fixture: 8 items, 3 categories (Support under Infrastructure), no sync job.
  EXPECT_NE(imported.out.find(R"("imported":{"categories":3,"items":8,"syncJobs":0})"),
            std::string::npos)
      << imported.out;
  start();
  EXPECT_EQ(get("/api/v1/billing/reports/summary").body, summary);
  EXPECT_EQ(get("/api/v1/billing/items?limit=100").body, items);
  EXPECT_EQ(get("/api/v1/billing/categories").body, categories);

  test::CliRun again =
      test::run_billdrop({"store", "migrate", "--config", config, "--import-billing-db", db}, dir_);
  EXPECT_NE(again.exit_code, 0);
  EXPECT_NE(again.err.find("already hold 8 items and 3 categories"), std::string::npos)
      << again.err;
  test::CliRun missing = test::run_billdrop(
      {"store", "migrate", "--config", config, "--import-billing-db", db + ".nope"}, dir_);
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.err.find("billing.db.nope does not exist"), std::string::npos) << missing.err;
}

// --- sync items, POST /sync, jobs and adapters

// The current month and the one before, as YYYY-MM: within the reprocess window of every sync.
std::string month_text(int back) {
  const auto today = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
  const std::chrono::year_month_day ymd(today);
  std::chrono::year_month ym = ymd.year() / ymd.month();
  ym -= std::chrono::months(back);
  char text[16];
  std::snprintf(text, sizeof text, "%04d-%02u", static_cast<int>(ym.year()),
                static_cast<unsigned>(ym.month()));
  return text;
}

// Sync items on either store: on PostgreSQL they are upserted with INSERT … ON CONFLICT.
class BillingSyncTest : public BillingApiTest, public ::testing::WithParamInterface<Backend> {
protected:
  void SetUp() override {
    test::TempFolderTest::SetUp();
    if (GetParam() == Backend::postgres)
      store_url_ = test::PostgresCluster::shared().create_database();
    m0_ = month_text(0);
    m1_ = month_text(1);
    // By hand: m0 compute 1.005 + 2.000 = 3.005 USD → 300 cents (300.5, half to even),
    // m0 storage 0.125 → 12 cents (12.5, half to even), m1 compute 4.5 → 450 cents.
    std::ofstream(dir_ / "acme.csv") << "ts,service,amount\n"
                                     << m1_ << "-10T00:00:00Z,compute,4.5\n"
                                     << m0_ << "-01T00:00:00Z,compute,1.005\n"
                                     << m0_ << "-01T00:00:00Z,compute,2.000\n"
                                     << m0_ << "-01T00:00:00Z,storage,0.125\n";
    write_config(true);
    start();
  }

  // The sync items by providerRef, once the first sync has landed `count` of them.
  std::map<std::string, std::pair<std::int64_t, std::string>> sync_items(std::size_t count) {
    std::map<std::string, std::pair<std::int64_t, std::string>> items;
    EXPECT_TRUE(test::eventually(
        [&] {
          items.clear();
          Reply reply = get("/api/v1/billing/items?source=sync");
          if (reply.status != 200)
            return false;
          for (dom::element item : array(reply.data()))
            items[str(item, "providerRef")] = {num(item, "amount"), str(item, "amountExact")};
          return items.size() == count;
        },
        milliseconds(30'000)))
        << get("/api/v1/billing/items?source=sync").body;
    return items;
  }

  std::string m0_, m1_;
};

INSTANTIATE_TEST_SUITE_P(Stores, BillingSyncTest,
                         ::testing::Values(Backend::sqlite, Backend::postgres),
                         [](const ::testing::TestParamInfo<Backend>& info) {
                           return info.param == Backend::sqlite ? "sqlite" : "postgres";
                         });

TEST_P(BillingSyncTest, ASyncedMonthBecomesOneItemPerServiceRoundedHalfToEven) {
  using Items = std::map<std::string, std::pair<std::int64_t, std::string>>;
  EXPECT_EQ(sync_items(3), (Items{{"acme/" + m0_ + "/compute", {300, "3.005"}},
                                  {"acme/" + m0_ + "/storage", {12, "0.125"}},
                                  {"acme/" + m1_ + "/compute", {450, "4.5"}}}));
  Reply one = get("/api/v1/billing/items/by-provider-ref?provider=custom&providerRef=acme/" + m0_ +
                  "/compute");
  ASSERT_EQ(one.status, 200) << one.body;
  EXPECT_EQ(str(one.data(), "source"), "sync");
  EXPECT_EQ(str(one.data(), "adapter"), "custom");
  EXPECT_EQ(str(one.data(), "service"), "compute");
  EXPECT_EQ(str(one.data(), "currency"), "USD");
  EXPECT_EQ(str(one.data(), "date"), m0_ + "-01T00:00:00.000Z");
  // Reports add the stored integers: 300 + 12 + 450.
  Reply summary = get("/api/v1/billing/reports/summary?source=sync");
  EXPECT_EQ(num(summary.data(), "totalAmount"), 762);
  Reply by_service = get("/api/v1/billing/reports/breakdown?by=service");
  EXPECT_NE(by_service.body.find(R"({"key":"compute","amount":750,"count":2,)"), std::string::npos)
      << by_service.body;

  // A restated month: compute gains 1.000 (4.005 → 400 cents) and storage disappears.
  std::ofstream(dir_ / "acme.csv") << "ts,service,amount\n"
                                   << m1_ << "-10T00:00:00Z,compute,4.5\n"
                                   << m0_ << "-01T00:00:00Z,compute,1.005\n"
                                   << m0_ << "-01T00:00:00Z,compute,2.000\n"
                                   << m0_ << "-01T00:00:00Z,compute,1.000\n";
  // The seed's request shape (its token and projectId are accepted and ignored).
  Reply job = post("/api/v1/billing/sync", R"({"provider":"custom","token":"<gcp-access-token>",
      "from":")" + m1_ + R"(-01","to":")" + m0_ +
                                               R"(-28","projectId":"my-gcp-project"})");
  ASSERT_EQ(job.status, 200) << job.body;
  EXPECT_EQ(str(job.data(), "status"), "completed") << job.body;
  EXPECT_EQ(str(job.data(), "provider"), "custom");
  EXPECT_EQ(num(job.data(), "itemsCreated"), 0);
  EXPECT_EQ(num(job.data(), "itemsUpdated"), 1);   // m0 compute
  EXPECT_EQ(num(job.data(), "itemsUnchanged"), 1); // m1 compute
  EXPECT_TRUE(std::regex_match(str(job.data(), "startedAt"), kMillisUtc)) << job.body;
  EXPECT_TRUE(std::regex_match(str(job.data(), "completedAt"), kMillisUtc)) << job.body;
  EXPECT_EQ(sync_items(2), (Items{{"acme/" + m0_ + "/compute", {400, "4.005"}},
                                  {"acme/" + m1_ + "/compute", {450, "4.5"}}}));

  const std::string id = str(job.data(), "id");
  Reply by_id = get("/api/v1/billing/sync/jobs/" + id);
  ASSERT_EQ(by_id.status, 200);
  EXPECT_EQ(by_id.body, job.body);
  Reply jobs = get("/api/v1/billing/sync/jobs?provider=custom");
  ASSERT_EQ(jobs.status, 200);
  ASSERT_EQ(array(jobs.data()).size(), 1u);
  EXPECT_EQ(str(array(jobs.data())[0], "id"), id);
  EXPECT_EQ(array(get("/api/v1/billing/sync/jobs?provider=aws").data()).size(), 0u);
  EXPECT_EQ(num(get("/api/v1/billing/status").data(), "totalSyncJobs"), 1);

  // One connection by name.
  Reply named = post("/api/v1/billing/sync", R"({"connection":"acme","from":")" + m0_ +
                                                 R"(-01","to":")" + m0_ + R"(-01"})");
  ASSERT_EQ(named.status, 200) << named.body;
  EXPECT_EQ(num(named.data(), "itemsUnchanged"), 1);

  // Bad requests.
  const std::vector<std::pair<std::string, std::string>> bad = {
      {R"({"provider":"gcp","from":"2026-03-01","to":"2026-03-31"})", "provider"},
      {R"({"connection":"nope","from":"2026-03-01","to":"2026-03-31"})", "connection"},
      {R"({"provider":"custom","from":"2026-03-31","to":"2026-03-01"})", "from"},
      {R"({"provider":"custom","from":"March","to":"2026-03-01"})", "from"},
      {R"({"provider":"custom","to":"2026-03-01"})", "from"},
      {R"({"from":"2026-03-01","to":"2026-03-31"})", "provider"},
      {R"({"provider":"custom","from":"2026-03-01","to":"2026-03-31","extra":1})", "extra"},
  };
  for (const auto& [body, field] : bad) {
    Reply reply = post("/api/v1/billing/sync", body);
    EXPECT_EQ(reply.status, 400) << body << " → " << reply.body;
    EXPECT_EQ(reply.error_field(), field) << body << " → " << reply.body;
  }
}

// Sync items (adapter, amountExact) and sync jobs move with --import-billing-db too: from a
// SQLite host only (the import reads its billing.db).
class BillingSyncImportTest : public BillingSyncTest {};

INSTANTIATE_TEST_SUITE_P(FromSqlite, BillingSyncImportTest, ::testing::Values(Backend::sqlite),
                         [](const ::testing::TestParamInfo<Backend>&) { return "sqlite"; });

TEST_P(BillingSyncImportTest, SyncItemsAndJobsAreImportedIntoPostgres) {
  // By hand, as above: m0 compute 300 (3.005), m0 storage 12 (0.125), m1 compute 450 (4.5).
  sync_items(3);
  Reply job = post("/api/v1/billing/sync",
                   R"({"provider":"custom","from":")" + m1_ + R"(-01","to":")" + m0_ + R"(-28"})");
  ASSERT_EQ(job.status, 200) << job.body;
  const std::string items = get("/api/v1/billing/items?source=sync").body;
  const std::string jobs = get("/api/v1/billing/sync/jobs").body;
  stop();
  store_url_ = test::PostgresCluster::shared().create_database();
  write_config(false); // on PostgreSQL, with no sync of its own to change the items
  test::CliRun imported = test::run_billdrop(
      {"store", "migrate", "--config", (dir_ / "billdrop.toml").string(), "--import-billing-db",
       (dir_ / "state" / "billing.db").string(), "--json"},
      dir_);
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  EXPECT_NE(imported.out.find(R"("categories":0,"items":3,"syncJobs":1})"), std::string::npos)
      << imported.out;
  start();
  EXPECT_EQ(get("/api/v1/billing/items?source=sync").body, items);
  EXPECT_EQ(get("/api/v1/billing/sync/jobs").body, jobs);
  EXPECT_NE(items.find(R"("amountExact":"3.005")"), std::string::npos) << items;
}

TEST_P(BillingSyncTest, AdaptersAreTheLoadedPlugins) {
  Reply reply = get("/api/v1/billing/sync/adapters");
  ASSERT_EQ(reply.status, 200) << reply.body;
  const auto adapters = array(reply.data());
  ASSERT_EQ(adapters.size(), 1u);
  EXPECT_EQ(str(adapters[0], "name"), "custom");
  EXPECT_FALSE(str(adapters[0], "version").empty());
  EXPECT_TRUE(std::regex_match(str(adapters[0], "abi"), std::regex(R"(\d+\.\d+)")));
  // The config schema as `billdrop plugins describe` gives it: the custom plugin's `path` key.
  bool has_path = false;
  for (dom::element key : array(adapters[0]["configSchema"]["keys"].value()))
    has_path = has_path || str(key, "key") == "path";
  EXPECT_TRUE(has_path) << reply.body;
  EXPECT_EQ(Reply::str(adapters[0]["connections"].at(0)), "acme");
}

// The manual plugin carries the API's manual items to the drops: a connection of it, synced
// through POST /sync, snapshots one row per item and month (recurring ones in every month), the
// category as resource/tag:category; and no sync item doubles them in the reports.
// On PostgreSQL ([store] kind = "postgres") the plugin reads the billing tables there, through
// the same connection-string file as [store].
class ManualSourceTest : public BillingApiTest, public ::testing::WithParamInterface<Backend> {
protected:
  void SetUp() override {
    test::TempFolderTest::SetUp();
    std::ofstream config(dir_ / "billdrop.toml");
    config << "state_dir = \"state\"\n[server]\nlisten = \"127.0.0.1:0\"\n"
              "[connections.manual]\nplugin = \"manual\"\naccount_id = \"ca_manual\"\n"
              "schedule = \"0 0 1 1 *\"\n[connections.manual.config]\n";
    if (GetParam() == Backend::postgres) {
      std::ofstream(dir_ / "pg.url") << test::PostgresCluster::shared().create_database() << "\n";
      config << "postgres_url_file = \"pg.url\"\n[store]\nkind = \"postgres\"\n"
                "url_file = \"pg.url\"\n";
    } else {
      config << "database = \"" << (dir_ / "state" / "billing.db").string() << "\"\n";
    }
    config.close();
    start();
  }
};

INSTANTIATE_TEST_SUITE_P(Stores, ManualSourceTest,
                         ::testing::Values(Backend::sqlite, Backend::postgres),
                         [](const ::testing::TestParamInfo<Backend>& info) {
                           return info.param == Backend::sqlite ? "sqlite" : "postgres";
                         });

TEST_P(ManualSourceTest, ManualItemsReachTheDropsOnce) {
  const std::string m0 = month_text(0), m1 = month_text(1);
  create("/api/v1/billing/categories", R"({"name":"Infrastructure"})");
  // By hand: m1 holds the recurring 25.00; m0 holds it again plus the one-off 10.50 = 35.50.
  create("/api/v1/billing/items", R"({"name":"Support plan","amount":2500,"recurring":true,
      "period":"monthly","date":")" + m1 +
                                      R"(-01T00:00:00Z"})");
  create("/api/v1/billing/items", R"({"name":"Invoice","amount":1050,"category":"Infrastructure",
      "date":")" + m0 + R"(-01T00:00:00Z"})");
  Reply job = post("/api/v1/billing/sync",
                   R"({"connection":"manual","from":")" + m1 + R"(-01","to":")" + m0 + R"(-28"})");
  ASSERT_EQ(job.status, 200) << job.body;
  EXPECT_EQ(num(job.data(), "itemsCreated"), 0) << job.body; // no sync item for manual rows
  EXPECT_EQ(num(get("/api/v1/billing/reports/summary").data(), "totalAmount"), 3550);
  fs::path snapshots;
  for (const auto& entry : fs::directory_iterator(dir_ / "state" / "snapshots"))
    snapshots = entry.path();
  ASSERT_FALSE(snapshots.empty());
  const std::string current = test::read_text(snapshots / (m0 + ".ndjson"));
  const std::string previous = test::read_text(snapshots / (m1 + ".ndjson"));
  EXPECT_NE(current.find(R"("cost/cost":"10.50")"), std::string::npos) << current;
  EXPECT_NE(current.find(R"("cost/cost":"25.00")"), std::string::npos) << current;
  EXPECT_NE(current.find(R"("resource/tag:category":"Infrastructure")"), std::string::npos)
      << current;
  EXPECT_NE(previous.find(R"("cost/cost":"25.00")"), std::string::npos) << previous;
  EXPECT_EQ(previous.find("10.50"), std::string::npos) << previous;
}

} // namespace
} // namespace billdrop
