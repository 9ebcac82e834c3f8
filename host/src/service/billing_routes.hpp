#pragma once
// The Billing API's routes under /api/v1/billing (seed 002): items, categories, reports, search,
// status, sync jobs and adapters, and the OpenAPI document at /api/v1/openapi.json. The handlers
// are billing::BillingApi's; this file only maps methods and paths to them.

#include "billing/billing_api.hpp"
#include "core/http_server.hpp"

#include <string>
#include <vector>

namespace billdrop::service {

// One route: its method, its path as OpenAPI writes it ("/api/v1/billing/items/{id}") and the
// pattern the server matches.
struct BillingRoute {
  std::string method;
  std::string openapi_path;
  std::string pattern;
  std::string summary;
  std::vector<std::string> query; // its query parameters
  std::string schema;             // the component its data is (or holds), "" for none
  bool list = false;              // data is an array of `schema`
  core::HttpResponse (billing::BillingApi::*handler)(const core::HttpRequest&);
};

const std::vector<BillingRoute>& billing_routes();

// Registers every billing route and GET /api/v1/openapi.json on `server`.
void add_billing_routes(core::HttpServer& server, billing::BillingApi& api);

// The OpenAPI 3 document of the Billing API and the daemon's other routes.
const std::string& openapi_json();

} // namespace billdrop::service
