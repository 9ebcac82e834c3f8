#include "service/billing_routes.hpp"

#include "core/json_writer.hpp"

#include <algorithm>
#include <regex>

namespace billdrop::service {

namespace {

using billing::BillingApi;

const std::vector<std::string> kFilters = {"category", "provider", "service", "from",
                                           "to",       "currency", "tags",    "recurring",
                                           "stageApp", "author",   "source"};

std::vector<std::string> with(std::vector<std::string> first,
                              const std::vector<std::string>& more) {
  first.insert(first.end(), more.begin(), more.end());
  return first;
}

const std::string kItemProperties = R"js({
  "id":{"type":"string","readOnly":true},"name":{"type":"string"},
  "amount":{"type":"integer","minimum":0,"maximum":9007199254740991,"description":"minor units of currency (ISO 4217 exponent: cents for USD, yen for JPY)"},
  "currency":{"type":"string","pattern":"^[A-Z]{3}$"},
  "provider":{"type":["string","null"]},"providerRef":{"type":["string","null"]},
  "tags":{"type":"array","items":{"type":"string"}},"description":{"type":["string","null"]},
  "recurring":{"type":"boolean"},"period":{"type":["string","null"],"enum":["monthly","quarterly","yearly",null]},
  "date":{"type":"string","format":"date-time"},"category":{"type":["string","null"],"description":"a category id (a name is accepted on write)"},
  "service":{"type":["string","null"]},"stageApp":{"type":["string","null"]},"author":{"type":["string","null"]},
  "source":{"type":"string","enum":["manual","sync"],"readOnly":true},
  "adapter":{"type":["string","null"],"readOnly":true,"description":"sync items: the plugin"},
  "amountExact":{"type":["string","null"],"readOnly":true,"description":"sync items: the exact decimal total, before rounding half to even"},
  "createdAt":{"type":"string","format":"date-time","readOnly":true},
  "updatedAt":{"type":"string","format":"date-time","readOnly":true}})js";

const std::string kComponents = R"js({"schemas":{
"Error":{"type":"object","required":["success","error"],"properties":{"success":{"const":false},"error":{"type":"object","required":["code","message"],"properties":{"code":{"type":"string","enum":["NOT_FOUND","VALIDATION_ERROR","CONFLICT","UNAUTHORIZED","PAYLOAD_TOO_LARGE","INTERNAL"]},"message":{"type":"string"},"field":{"type":"string"}}}}},
"Item":{"type":"object","additionalProperties":false,"properties":)js" +
                                kItemProperties + R"js(},
"Category":{"type":"object","additionalProperties":false,"properties":{"id":{"type":"string","readOnly":true},"name":{"type":"string"},"description":{"type":["string","null"]},"color":{"type":["string","null"],"pattern":"^#[0-9A-Fa-f]{6}$"},"parentId":{"type":["string","null"]},"createdAt":{"type":"string","format":"date-time","readOnly":true},"updatedAt":{"type":"string","format":"date-time","readOnly":true}}},
"Summary":{"type":"object","properties":{"totalAmount":{"type":["integer","null"]},"itemCount":{"type":"integer"},"currency":{"type":["string","null"]},"from":{"type":["string","null"],"format":"date"},"to":{"type":["string","null"],"format":"date"},"byCurrency":{"type":"array","items":{"type":"object","properties":{"currency":{"type":"string"},"totalAmount":{"type":"integer"},"itemCount":{"type":"integer"}}}}}},
"BreakdownEntry":{"type":"object","properties":{"key":{"type":["string","null"]},"name":{"type":["string","null"]},"amount":{"type":"integer"},"count":{"type":"integer"},"percentage":{"type":"number"},"currency":{"type":"string"}}},
"TrendEntry":{"type":"object","properties":{"date":{"type":"string"},"amount":{"type":"integer"},"count":{"type":"integer"},"currency":{"type":"string"}}},
"Status":{"type":"object"},
"SyncRequest":{"type":"object","properties":{"provider":{"type":"string"},"connection":{"type":"string"},"from":{"type":"string","format":"date"},"to":{"type":"string","format":"date"},"token":{"type":"string","description":"accepted and ignored: credentials come from the connection's configuration"},"projectId":{"type":"string","description":"accepted and ignored"}},"required":["from","to"]},
"SyncJob":{"type":"object","properties":{"id":{"type":"string"},"provider":{"type":"string"},"connection":{"type":["string","null"]},"status":{"type":"string","enum":["running","completed","failed"]},"from":{"type":"string"},"to":{"type":"string"},"itemsCreated":{"type":"integer"},"itemsUpdated":{"type":"integer"},"itemsUnchanged":{"type":"integer"},"error":{"type":["string","null"]},"startedAt":{"type":"string","format":"date-time"},"completedAt":{"type":["string","null"],"format":"date-time"}}},
"Adapter":{"type":"object","properties":{"name":{"type":"string"},"version":{"type":"string"},"abi":{"type":"string"},"description":{"type":"string"},"configSchema":{"type":"object","description":"the plugin's config keys, as billdrop plugins describe --json gives them"},"connections":{"type":"array","items":{"type":"string"}}}},
"Deleted":{"type":"object","properties":{"id":{"type":"string"},"deleted":{"const":true}}}
},"securitySchemes":{"bearer":{"type":"http","scheme":"bearer","description":"required unless the server listens on loopback"}}})js";

} // namespace

const std::vector<BillingRoute>& billing_routes() {
  const std::string items = "/api/v1/billing/items";
  static const std::vector<BillingRoute> routes = {
      {"GET", items, items, "List items", with(kFilters, {"limit", "cursor"}), "Item", true,
       &BillingApi::list_items},
      {"POST", items, items, "Create an item", {}, "Item", false, &BillingApi::create_item},
      // Before items/{id}, which would match it.
      {"GET",
       items + "/by-provider-ref",
       items + "/by-provider-ref",
       "Find an item by provider reference",
       {"provider", "providerRef"},
       "Item",
       false,
       &BillingApi::item_by_provider_ref},
      {"GET",
       items + "/{id}",
       items + "/([^/]+)",
       "Get an item",
       {},
       "Item",
       false,
       &BillingApi::get_item},
      {"PUT",
       items + "/{id}",
       items + "/([^/]+)",
       "Update an item: the fields named are replaced, createdAt kept",
       {},
       "Item",
       false,
       &BillingApi::update_item},
      {"DELETE",
       items + "/{id}",
       items + "/([^/]+)",
       "Delete an item",
       {},
       "Deleted",
       false,
       &BillingApi::delete_item},
      {"GET",
       "/api/v1/billing/categories",
       "/api/v1/billing/categories",
       "List categories",
       {},
       "Category",
       true,
       &BillingApi::list_categories},
      {"POST",
       "/api/v1/billing/categories",
       "/api/v1/billing/categories",
       "Create a category",
       {},
       "Category",
       false,
       &BillingApi::create_category},
      {"GET",
       "/api/v1/billing/categories/{idOrName}",
       "/api/v1/billing/categories/([^/]+)",
       "Get a category by id or name",
       {},
       "Category",
       false,
       &BillingApi::get_category},
      {"PUT",
       "/api/v1/billing/categories/{id}",
       "/api/v1/billing/categories/([^/]+)",
       "Update a category",
       {},
       "Category",
       false,
       &BillingApi::update_category},
      {"DELETE",
       "/api/v1/billing/categories/{id}",
       "/api/v1/billing/categories/([^/]+)",
       "Delete a category (refused while items or subcategories use it)",
       {},
       "Deleted",
       false,
       &BillingApi::delete_category},
      {"GET", "/api/v1/billing/reports/summary", "/api/v1/billing/reports/summary",
       "Total spend and item count", kFilters, "Summary", false, &BillingApi::summary},
      {"GET", "/api/v1/billing/reports/breakdown", "/api/v1/billing/reports/breakdown",
       "Spending grouped by provider, category, service, recurring or tag", with({"by"}, kFilters),
       "BreakdownEntry", true, &BillingApi::breakdown},
      {"GET", "/api/v1/billing/reports/trend", "/api/v1/billing/reports/trend",
       "Spending by day, week or month", with({"interval"}, kFilters), "TrendEntry", true,
       &BillingApi::trend},
      {"GET",
       "/api/v1/billing/search",
       "/api/v1/billing/search",
       "Full-text search over names, descriptions, providers, services and tags, best first",
       {"q", "limit"},
       "Item",
       true,
       &BillingApi::search},
      {"GET",
       "/api/v1/billing/status",
       "/api/v1/billing/status",
       "Service status with storage statistics",
       {},
       "Status",
       false,
       &BillingApi::status},
      {"POST",
       "/api/v1/billing/sync",
       "/api/v1/billing/sync",
       "Sync a provider's (or one connection's) months over a date range",
       {},
       "SyncJob",
       false,
       &BillingApi::start_sync},
      {"GET",
       "/api/v1/billing/sync/jobs",
       "/api/v1/billing/sync/jobs",
       "List sync jobs",
       {"provider", "limit"},
       "SyncJob",
       true,
       &BillingApi::sync_jobs},
      {"GET",
       "/api/v1/billing/sync/jobs/{id}",
       "/api/v1/billing/sync/jobs/([^/]+)",
       "Get a sync job",
       {},
       "SyncJob",
       false,
       &BillingApi::sync_job},
      {"GET",
       "/api/v1/billing/sync/adapters",
       "/api/v1/billing/sync/adapters",
       "List the loaded sync adapters (source plugins)",
       {},
       "Adapter",
       true,
       &BillingApi::sync_adapters},
  };
  return routes;
}

void add_billing_routes(core::HttpServer& server, billing::BillingApi& api) {
  for (const BillingRoute& route : billing_routes())
    server.route(route.method, route.pattern,
                 [&api, handler = route.handler](const core::HttpRequest& request) {
                   return (api.*handler)(request);
                 });
  server.route("GET", "/api/v1/openapi.json", [](const core::HttpRequest&) {
    core::HttpResponse response;
    response.body = openapi_json();
    return response;
  });
}

const std::string& openapi_json() {
  static const std::string document = [] {
    core::JsonWriter json;
    json.begin_object().key("openapi").value("3.1.0");
    json.key("info").begin_object().key("title").value("billdrop Billing API");
    json.key("version").value("1.0.0").end_object();
    json.key("security").raw(R"js([{"bearer":[]}])js");
    json.key("paths").begin_object();
    // Routes grouped by path, in the table's order.
    std::vector<std::string> paths;
    for (const BillingRoute& route : billing_routes())
      if (std::find(paths.begin(), paths.end(), route.openapi_path) == paths.end())
        paths.push_back(route.openapi_path);
    for (const std::string& path : paths) {
      json.key(path).begin_object();
      for (const BillingRoute& route : billing_routes()) {
        if (route.openapi_path != path)
          continue;
        std::string method = route.method;
        for (char& c : method)
          c = static_cast<char>(c - 'A' + 'a');
        json.key(method).begin_object().key("summary").value(route.summary);
        json.key("parameters").begin_array();
        const std::regex placeholder(R"js(\{([A-Za-z]+)\})js");
        for (auto it = std::sregex_iterator(path.begin(), path.end(), placeholder);
             it != std::sregex_iterator(); ++it)
          json.begin_object()
              .key("name")
              .value((*it)[1].str())
              .key("in")
              .value("path")
              .key("required")
              .value(true)
              .key("schema")
              .raw(R"js({"type":"string"})js")
              .end_object();
        for (const std::string& name : route.query)
          json.begin_object()
              .key("name")
              .value(name)
              .key("in")
              .value("query")
              .key("required")
              .value(name == "q" || name == "providerRef" ||
                     (name == "provider" && route.openapi_path.ends_with("by-provider-ref")))
              .key("schema")
              .raw(R"js({"type":"string"})js")
              .end_object();
        json.end_array();
        if (route.method == "POST" || route.method == "PUT") {
          const std::string body_schema = route.schema == "SyncJob" ? "SyncRequest" : route.schema;
          json.key("requestBody")
              .raw(
                  R"js({"required":true,"content":{"application/json":{"schema":{"$ref":"#/components/schemas/)js" +
                  body_schema + R"js("}}}})js");
        }
        const std::string ref =
            R"js({"$ref":"#/components/schemas/)js" + route.schema + R"js("})js";
        const std::string data = route.list ? R"js({"type":"array","items":)js" + ref + "}" : ref;
        const std::string ok =
            R"js({"description":"success","content":{"application/json":{"schema":{"type":"object","required":["success","data"],"properties":{"success":{"const":true},"data":)js" +
            data +
            (route.list && route.openapi_path.ends_with("/items")
                 ? R"js(,"meta":{"type":"object","properties":{"nextCursor":{"type":["string","null"]}}})js"
                 : "") +
            "}}}}}";
        const std::string error =
            R"js({"description":"error","content":{"application/json":{"schema":{"$ref":"#/components/schemas/Error"}}}})js";
        json.key("responses").begin_object();
        json.key(route.method == "POST" && route.openapi_path != "/api/v1/billing/sync" ? "201"
                                                                                        : "200")
            .raw(ok);
        if (route.openapi_path == "/api/v1/billing/sync")
          json.key("202").raw(ok);
        json.key("400").raw(error).key("401").raw(error).key("404").raw(error);
        if (route.method == "POST" || route.method == "PUT" || route.method == "DELETE")
          json.key("409").raw(error).key("413").raw(error);
        json.end_object().end_object();
      }
      json.end_object();
    }
    json.end_object();
    json.key("components").raw(kComponents);
    json.end_object();
    return json.take();
  }();
  return document;
}

} // namespace billdrop::service
