#include "service/http_api.hpp"

#include "billing/billing_store.hpp"
#include "core/http_server.hpp"
#include "core/json_writer.hpp"
#include "jobs/store_options.hpp"
#include "service/billing_routes.hpp"
#include "service/billing_sync.hpp"
#include "service/dashboard.hpp"
#include <algorithm>
#include <thread>

namespace billdrop::service {

std::string error_envelope(const std::string& code, const std::string& message) {
  core::JsonWriter json;
  json.begin_object()
      .key("success")
      .value(false)
      .key("error")
      .begin_object()
      .key("code")
      .value(code)
      .key("message")
      .value(message)
      .end_object()
      .end_object();
  return json.take();
}

namespace {

core::HttpResponse ok(int status, const std::string& data_json) {
  core::HttpResponse response;
  response.status = status;
  response.body = "{\"success\":true,\"data\":" + data_json + "}";
  return response;
}

core::HttpResponse failure(int status, const std::string& code, const std::string& message) {
  core::HttpResponse response;
  response.status = status;
  response.body = error_envelope(code, message);
  return response;
}

std::string sync_status_json(const std::vector<jobs::SyncStatusEntry>& entries) {
  core::JsonWriter json;
  json.begin_array();
  for (const jobs::SyncStatusEntry& e : entries) {
    json.begin_object()
        .key("cloudAccountID")
        .value(e.cloud_account_id)
        .key("provider")
        .value(e.provider);
    if (e.last_synced_at)
      json.key("lastSyncedAt").value(jobs::utc_text(*e.last_synced_at));
    else
      json.key("lastSyncedAt").null();
    json.key("status").value(e.status);
    if (!e.message.empty())
      json.key("message").value(e.message);
    json.key("monthsBackfilled").value(e.months_backfilled);
    json.key("connection").value(e.connection);
    if (e.next_run_at)
      json.key("nextRunAt").value(jobs::utc_text(*e.next_run_at));
    json.key("monthsPending").value(e.months_pending);
    if (e.last_error_at)
      json.key("lastErrorAt").value(jobs::utc_text(*e.last_error_at));
    json.key("enabled").value(e.enabled).end_object();
  }
  json.end_array();
  return json.take();
}

std::string months_json(const std::vector<MonthView>& months) {
  core::JsonWriter json;
  json.begin_array();
  for (const MonthView& m : months) {
    json.begin_object()
        .key("month")
        .value(m.month.to_string())
        .key("state")
        .value(m.state)
        .key("rows")
        .value(m.rows)
        .key("cost")
        .value(m.cost.to_string());
    if (m.synced_at)
      json.key("syncedAt").value(jobs::utc_text(*m.synced_at));
    if (!m.message.empty())
      json.key("message").value(m.message);
    json.end_object();
  }
  json.end_array();
  return json.take();
}

} // namespace

struct ApiServer::Impl {
  Impl(Daemon& d, ApiOptions o)
      : daemon(d), options(std::move(o)), server([&] {
          core::HttpServerOptions http;
          http.max_body_bytes = options.max_body_bytes;
          http.bearer_token = options.bearer_token;
          http.open_paths = dashboard_paths();
          http.open_paths.push_back("/healthz");
          http.error_response = [](int status, const std::string& code,
                                   const std::string& message) {
            return failure(status, code, message);
          };
          return http;
        }()) {
    server.route("GET", "/healthz", [](const core::HttpRequest&) {
      core::HttpResponse response;
      response.body = R"({"status":"ok"})";
      return response;
    });
    server.route("GET", "/metrics", [this](const core::HttpRequest&) {
      core::HttpResponse response;
      response.content_type = "text/plain; version=0.0.4";
      response.body = daemon.metrics();
      return response;
    });
    server.route("GET", "/api/v1/billing/sync-status", [this](const core::HttpRequest&) {
      return ok(200, sync_status_json(daemon.sync_status()));
    });
    server.route("GET", "/api/v1/billing/sync-status/([^/]+)/months",
                 [this](const core::HttpRequest& request) {
                   Result<std::optional<std::vector<MonthView>>> months =
                       daemon.connection_months(request.captures[0]);
                   if (!months)
                     return failure(500, "INTERNAL", months.error().message());
                   if (!months->has_value())
                     return failure(404, "NOT_FOUND",
                                    "no connection '" + request.captures[0] + "'");
                   return ok(200, months_json(**months));
                 });
    add_dashboard_routes(server);
    server.route("POST", "/api/v1/billing/verify", [this](const core::HttpRequest&) {
      Result<std::string> job = daemon.start_verify();
      if (!job)
        return failure(503, "INTERNAL", job.error().message());
      return ok(202, "{\"jobId\":\"" + *job + "\",\"status\":\"running\"}");
    });
    server.route(
        "GET", "/api/v1/billing/verify/([A-Za-z0-9_]+)", [this](const core::HttpRequest& request) {
          Result<std::optional<store::JobRecord>> job = daemon.job(request.captures[0]);
          if (!job)
            return failure(500, "INTERNAL", job.error().message());
          if (!job->has_value() || (*job)->kind != "verify")
            return failure(404, "NOT_FOUND", "no verify job '" + request.captures[0] + "'");
          return ok(200, verify_json(**job));
        });
    // The Billing API's store follows [store]: the state directory's billing.db, or the billing
    // tables of the shared PostgreSQL database, so that every host answers for all.
    Result<store::StoreOptions> store_options = jobs::store_options(daemon.config(), false);
    Result<std::unique_ptr<billing::BillingStore>> opened =
        store_options
            ? billing::open_billing_store(daemon.config().state_dir,
                                          store_options->kind == store::StoreOptions::Kind::postgres
                                              ? store_options->url
                                              : std::string())
            : Result<std::unique_ptr<billing::BillingStore>>(store_options.error());
    if (opened) {
      billing_store = std::move(*opened);
      billing::BillingApiOptions api_options;
      // PostgreSQL's answers wait on the network, not on this host's cores.
      if (store_options->kind == store::StoreOptions::Kind::postgres)
        api_options.compute_slots = 8 * std::max(1u, std::thread::hardware_concurrency());
      billing_api = std::make_unique<billing::BillingApi>(*billing_store, api_options);
      billing_sync = std::make_unique<BillingSync>(daemon, *billing_api);
      billing_api->set_sync_runner(billing_sync.get());
      daemon.on_sync_landed(
          [sync = billing_sync.get()](const SyncLanded& landed) { sync->landed(landed); });
      add_billing_routes(server, *billing_api);
    } else {
      billing_error = opened.error();
    }
  }

  Daemon& daemon;
  ApiOptions options;
  core::HttpServer server;
  std::unique_ptr<billing::BillingStore> billing_store;
  std::unique_ptr<billing::BillingApi> billing_api;
  std::unique_ptr<BillingSync> billing_sync;
  std::optional<Error> billing_error; // the billing store could not be opened
};

ApiServer::ApiServer(Daemon& daemon, ApiOptions options)
    : impl_(std::make_unique<Impl>(daemon, std::move(options))) {}
ApiServer::~ApiServer() {
  stop();
}

Result<std::uint16_t> ApiServer::listen(const std::string& host, std::uint16_t port) {
  if (impl_->billing_error)
    return *impl_->billing_error;
  return impl_->server.listen(host, port);
}

void ApiServer::stop() {
  impl_->server.stop();
}

} // namespace billdrop::service
