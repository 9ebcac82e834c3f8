// The OpenAPI document against the routes the server really has: every route documented with its
// path and query parameters, nothing documented that is not served, and every documented query
// parameter accepted by its endpoint, checked over loopback HTTP against a real BillingApi.
#include "billing/billing_api.hpp"
#include "billing/billing_store.hpp"
#include "core/http_server.hpp"
#include "service/billing_routes.hpp"

#include "support/temp_folder.hpp"

#include <gtest/gtest.h>
#include <httplib.h>
#include <simdjson.h>

#include <regex>
#include <set>

namespace billdrop::service {
namespace {

class BillingOpenApiTest : public test::TempFolderTest {
protected:
  void SetUp() override {
    test::TempFolderTest::SetUp();
    auto opened = billing::open_billing_store(dir_);
    ASSERT_TRUE(opened) << opened.error().message();
    store_ = std::move(*opened);
    api_ = std::make_unique<billing::BillingApi>(*store_);
    core::HttpServerOptions options;
    options.error_response = [](int status, const std::string& code, const std::string& message) {
      return billing::error_response(billing::ApiError{status, code, message, ""});
    };
    server_ = std::make_unique<core::HttpServer>(options);
    add_billing_routes(*server_, *api_);
    auto port = server_->listen("127.0.0.1", 0);
    ASSERT_TRUE(port) << port.error().message();
    port_ = *port;
  }
  void TearDown() override {
    server_.reset();
    test::TempFolderTest::TearDown();
  }

  std::unique_ptr<billing::BillingStore> store_;
  std::unique_ptr<billing::BillingApi> api_;
  std::unique_ptr<core::HttpServer> server_;
  std::uint16_t port_ = 0;
};

// A value each documented query parameter accepts.
std::string sample(const std::string& name) {
  static const std::map<std::string, std::string> values = {
      {"from", "2026-03-01"}, {"to", "2026-03-31"}, {"limit", "5"},         {"recurring", "true"},
      {"tags", "a,b"},        {"by", "provider"},   {"interval", "week"},   {"q", "compute"},
      {"source", "manual"},   {"currency", "USD"},  {"providerRef", "ref"}, {"provider", "gcp"}};
  const auto found = values.find(name);
  return found != values.end() ? found->second : "x";
}

TEST_F(BillingOpenApiTest, DocumentsEveryRouteAndOnlyThem) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(openapi_json()).get(doc), simdjson::SUCCESS);
  std::string_view version;
  ASSERT_EQ(doc["openapi"].get_string().get(version), simdjson::SUCCESS);
  EXPECT_TRUE(version.starts_with("3."));

  std::set<std::pair<std::string, std::string>> documented, served;
  simdjson::dom::object paths;
  ASSERT_EQ(doc["paths"].get_object().get(paths), simdjson::SUCCESS);
  for (const auto path : paths) {
    simdjson::dom::object methods;
    ASSERT_EQ(path.value.get_object().get(methods), simdjson::SUCCESS);
    for (const auto method : methods) {
      std::string upper(method.key);
      for (char& c : upper)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      documented.emplace(upper, std::string(path.key));
    }
  }
  for (const BillingRoute& route : billing_routes()) {
    served.emplace(route.method, route.openapi_path);
    // The pattern captures one group per {parameter} of the documented path.
    const std::regex placeholder(R"(\{[A-Za-z]+\})");
    const std::string as_pattern = std::regex_replace(route.openapi_path, placeholder, "([^/]+)");
    EXPECT_EQ(as_pattern, route.pattern) << route.openapi_path;
  }
  EXPECT_EQ(documented, served);

  // Over HTTP: each route answers at its documented path (not the server's 404 for no route),
  // and takes each documented query parameter (never "is not a parameter of this endpoint").
  httplib::Client client("127.0.0.1", port_);
  for (const BillingRoute& route : billing_routes()) {
    const std::string path =
        std::regex_replace(route.openapi_path, std::regex(R"(\{[A-Za-z]+\})"), "someid");
    std::string query;
    for (const std::string& name : route.query)
      query += (query.empty() ? "?" : "&") + name + "=" + sample(name);
    httplib::Result result = [&] {
      if (route.method == "POST")
        return client.Post(path, "{}", "application/json");
      if (route.method == "PUT")
        return client.Put(path, "{}", "application/json");
      if (route.method == "DELETE")
        return client.Delete(path);
      return client.Get(path + query);
    }();
    ASSERT_TRUE(result) << route.method << " " << path;
    EXPECT_EQ(result->body.find("no such route"), std::string::npos)
        << route.method << " " << path << ": " << result->body;
    EXPECT_EQ(result->body.find("is not a parameter"), std::string::npos)
        << route.method << " " << path + query << ": " << result->body;
    EXPECT_NE(result->status, 500) << route.method << " " << path << ": " << result->body;
  }
  auto served_doc = client.Get("/api/v1/openapi.json");
  ASSERT_TRUE(served_doc);
  EXPECT_EQ(served_doc->status, 200);
  EXPECT_EQ(served_doc->body, openapi_json());
}

} // namespace
} // namespace billdrop::service
