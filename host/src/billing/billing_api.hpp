#pragma once
// The Billing API's requests and answers (seed 002, issue 13), over a BillingStore: each method
// reads a core::HttpRequest (query, captures, body), checks it and answers in the seed's envelope
// ({"success":true,"data":…[,"meta":…]} or {"success":false,"error":{"code","message","field"}}).
// service/billing_routes.cpp maps paths to these methods; tests call them over real HTTP.
//
// Choices where the seed is silent:
// - Lists run newest first (date, then id); `limit` (default 100, at most 1000) pages them and
//   `meta.nextCursor` (null on the last page) continues with `?cursor=`.
// - `from`/`to` are whole UTC days ("YYYY-MM-DD"), both included; an item's `date` is the day its
//   cost belongs to. Unknown query parameters are a VALIDATION_ERROR, as are unknown body
//   fields: a mistyped filter must not quietly widen a total.
// - Reports add the stored integers per currency and never across currencies: an answer over
//   several currencies carries one entry per currency (summary: `byCurrency`, with top-level
//   `totalAmount`/`currency` null; breakdown and trend: a `currency` on every entry, the
//   breakdown's percentages adding up to 100.0 within each currency, by largest remainder).
// - A `category` filter takes an id or a name and includes its subcategories.
// - Report answers are cached until the next write.

#include "billing/billing_store.hpp"
#include "core/fifo_gate.hpp"
#include "core/http_server.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace billdrop::billing {

// What POST /sync asks for, checked.
struct SyncRequest {
  std::string provider;                  // a plugin name (required unless `connection` is given)
  std::optional<std::string> connection; // one configured connection
  std::string from;                      // YYYY-MM-DD
  std::string to;
};

// A loaded sync adapter (a source plugin) as GET sync/adapters lists it.
struct AdapterInfo {
  std::string name;
  std::string version;
  std::string abi;
  std::string description;
  std::string config_schema_json; // {"keys":[…]}, as `billdrop plugins describe --json`
  std::vector<std::string> connections;
};

// What the Billing API needs from the daemon to sync: implemented in service/.
class SyncRunner {
public:
  virtual ~SyncRunner() = default;
  // Starts the job (already saved as running) and returns at once; `finish` runs when it ends.
  // An error when nothing can be synced for the request (no such provider or connection).
  virtual std::optional<ApiError> start(const SyncRequest& request, SyncJob job) = 0;
  virtual std::vector<AdapterInfo> adapters() = 0;
};

struct BillingApiOptions {
  std::string default_currency = "USD";
  std::chrono::milliseconds sync_wait{25'000}; // POST /sync waits this long for the job's end
  // Items kept rendered as JSON for search answers, up to this many bytes (0: none).
  std::size_t rendered_item_bytes = 64u << 20;
  // Answers computed at once (reports, searches, lists not in the answer cache); more wait their
  // turn, first come first served (core/fifo_gate.hpp). 0: one per CPU core. A store whose
  // queries wait on the network (PostgreSQL) wants more.
  std::size_t compute_slots = 0;
};

class BillingApi {
public:
  BillingApi(BillingStore& store, BillingApiOptions options = {});

  void set_sync_runner(SyncRunner* runner) { sync_runner_ = runner; }

  core::HttpResponse list_items(const core::HttpRequest& request);
  core::HttpResponse create_item(const core::HttpRequest& request);
  core::HttpResponse get_item(const core::HttpRequest& request);
  core::HttpResponse update_item(const core::HttpRequest& request);
  core::HttpResponse delete_item(const core::HttpRequest& request);
  core::HttpResponse item_by_provider_ref(const core::HttpRequest& request);

  core::HttpResponse list_categories(const core::HttpRequest& request);
  core::HttpResponse create_category(const core::HttpRequest& request);
  core::HttpResponse get_category(const core::HttpRequest& request);
  core::HttpResponse update_category(const core::HttpRequest& request);
  core::HttpResponse delete_category(const core::HttpRequest& request);

  core::HttpResponse summary(const core::HttpRequest& request);
  core::HttpResponse breakdown(const core::HttpRequest& request);
  core::HttpResponse trend(const core::HttpRequest& request);
  core::HttpResponse search(const core::HttpRequest& request);
  core::HttpResponse status(const core::HttpRequest& request);

  core::HttpResponse start_sync(const core::HttpRequest& request);
  core::HttpResponse sync_jobs(const core::HttpRequest& request);
  core::HttpResponse sync_job(const core::HttpRequest& request);
  core::HttpResponse sync_adapters(const core::HttpRequest& request);

  // The sync runner reports a job's end (its counts, status and completedAt set).
  void finish_sync(const SyncJob& job);

  BillingStore& store() { return store_; }

private:
  using Handler = std::function<core::HttpResponse()>;
  // `compute`'s answer, cached under `key` until the store's next write.
  core::HttpResponse cached(const std::string& key, const Handler& compute);

  BillingStore& store_;
  BillingApiOptions options_;
  SyncRunner* sync_runner_ = nullptr;

  // One computation in progress, which requests for the same answer wait for.
  struct Flight {
    std::mutex mutex;
    std::condition_variable ready;
    bool done = false;
    core::HttpResponse response;
  };
  std::unique_ptr<core::FifoGate> compute_gate_;
  std::mutex cache_mutex_;
  std::uint64_t cache_generation_ = 0;
  std::map<std::string, core::HttpResponse> cache_;
  std::map<std::string, std::shared_ptr<Flight>> flights_;

  // The JSON of `ids`' items that still exist, in the order of `ids`, joined by commas: from
  // the rendered items where they are, the rest read from the store (and kept).
  std::string items_json(const std::vector<std::string>& ids);

  // Items rendered as JSON by id, for one store generation (any write empties them), at most
  // options_.rendered_item_bytes: a search answers from them without reading its items again.
  std::mutex rendered_mutex_;
  std::uint64_t rendered_generation_ = 0;
  std::unordered_map<std::string, std::string> rendered_;
  std::size_t rendered_bytes_ = 0;

  std::mutex jobs_mutex_;
  std::condition_variable job_ended_;
};

// {"success":false,"error":{"code","message"[,"field"]}} with the error's status.
core::HttpResponse error_response(const ApiError& error);
// {"success":true,"data":<data_json>} with `status`.
core::HttpResponse data_response(int status, const std::string& data_json);

std::string item_json(const Item& item);
std::string category_json(const Category& category);
std::string sync_job_json(const SyncJob& job);

} // namespace billdrop::billing
