#include "service/billing_sync.hpp"

#include "billing/sync_items.hpp"
#include "billing/utc_time.hpp"
#include "core/log.hpp"
#include "snapshot/layout.hpp"

#include <algorithm>

namespace billdrop::service {

namespace {

// The manual plugin's rows are the Billing API's own manual items: landing them as sync items
// would count each of them twice.
bool lands_items(const ConnectionView& view) {
  return view.loaded && view.plugin_name != "manual";
}

} // namespace

BillingSync::BillingSync(Daemon& daemon, billing::BillingApi& api) : daemon_(daemon), api_(api) {}

BillingSync::~BillingSync() {
  for (std::thread& job : jobs_)
    if (job.joinable())
      job.join();
}

void BillingSync::landed(const SyncLanded& landed) {
  std::vector<ConnectionView> views = daemon_.connection_views();
  const auto view = std::find_if(views.begin(), views.end(), [&](const ConnectionView& v) {
    return v.name == landed.connection;
  });
  std::vector<LandedMonth> done;
  std::string error = landed.error;
  if (view != views.end() && lands_items(*view) && !landed.months.empty()) {
    Result<std::vector<snapshot::MonthSummary>> summaries =
        snapshot::read_summaries(view->snapshots_dir, landed.months);
    if (!summaries) {
      error = summaries.error().message();
    } else {
      for (const snapshot::MonthSummary& summary : *summaries) {
        LandedMonth month;
        month.connection = landed.connection;
        month.month = summary.month;
        Result<billing::LandedCounts> counts =
            billing::land_month(api_.store(), summary, landed.connection, view->plugin_name);
        if (counts)
          month.counts = *counts;
        else
          month.error = counts.error().message();
        log::write(counts ? log::Level::info : log::Level::warn, "billing.month_landed",
                   {{"connection", landed.connection},
                    {"month", summary.month.to_string()},
                    {"created", month.counts.created},
                    {"updated", month.counts.updated},
                    {"unchanged", month.counts.unchanged},
                    {"removed", month.counts.removed},
                    {"error", month.error}});
        done.push_back(std::move(month));
      }
    }
  }
  const std::lock_guard lock(mutex_);
  for (LandedMonth& month : done) {
    month.sequence = ++sequence_;
    log_.push_back(std::move(month));
  }
  if (log_.size() > 100'000)
    log_.erase(log_.begin(), log_.begin() + static_cast<std::ptrdiff_t>(log_.size() - 50'000));
  run_error_[landed.connection] = error;
}

std::optional<billing::ApiError> BillingSync::start(const billing::SyncRequest& request,
                                                    billing::SyncJob job) {
  std::vector<ConnectionView> chosen;
  std::string names;
  for (ConnectionView& view : daemon_.connection_views()) {
    names += (names.empty() ? "" : ", ") + view.name + " (" + view.plugin + ")";
    const bool provider_matches = request.provider.empty() || view.plugin == request.provider ||
                                  view.plugin_name == request.provider;
    if (request.connection ? *request.connection == view.name && provider_matches
                           : provider_matches)
      chosen.push_back(std::move(view));
  }
  if (chosen.empty())
    return request.connection
               ? billing::validation_error("connection",
                                           "no connection named '" + *request.connection +
                                               "' with that provider (connections: " + names + ")")
               : billing::validation_error("provider", "no connection uses the provider '" +
                                                           request.provider +
                                                           "' (connections: " + names + ")");
  if (job.provider.empty())
    job.provider =
        chosen.front().plugin_name.empty() ? chosen.front().plugin : chosen.front().plugin_name;
  api_.store().save_sync_job(job);
  const std::lock_guard lock(mutex_);
  jobs_.emplace_back([this, chosen = std::move(chosen), job]() mutable {
    run(std::move(chosen), std::move(job));
  });
  return std::nullopt;
}

void BillingSync::run(std::vector<ConnectionView> connections, billing::SyncJob job) {
  std::uint64_t first = 0;
  {
    const std::lock_guard lock(mutex_);
    first = sequence_ + 1;
  }
  std::vector<std::string> names;
  for (const ConnectionView& c : connections)
    names.push_back(c.name);
  std::string error;
  if (Status ran = daemon_.run_and_wait(names); !ran)
    error = ran.error().message();
  const Month from = Month::of(UtcTime{*billing::parse_day(job.from) / 1000});
  const Month to = Month::of(UtcTime{*billing::parse_day(job.to) / 1000});
  auto in_range = [&](const Month& m) { return !(m < from) && !(to < m); };
  for (const ConnectionView& c : connections) {
    std::vector<Month> landed;
    {
      const std::lock_guard lock(mutex_);
      for (const LandedMonth& m : log_)
        if (m.sequence >= first && m.connection == c.name && in_range(m.month)) {
          job.items_created += m.counts.created;
          job.items_updated += m.counts.updated;
          job.items_unchanged += m.counts.unchanged;
          landed.push_back(m.month);
          if (!m.error.empty() && error.empty())
            error = c.name + " " + m.month.to_string() + ": " + m.error;
        }
      if (const auto found = run_error_.find(c.name);
          found != run_error_.end() && !found->second.empty() && error.empty())
        error = "connection '" + c.name + "': " + found->second;
    }
    if (!c.loaded) {
      if (error.empty())
        error = "connection '" + c.name + "': " + c.load_error;
      continue;
    }
    if (!lands_items(c))
      continue;
    // Months of the range synced before but not in this run's window: from their snapshots.
    std::vector<Month> rest;
    for (Month m = from; !(to < m); m = m.next())
      if (std::find(landed.begin(), landed.end(), m) == landed.end())
        rest.push_back(m);
    if (rest.empty())
      continue;
    Result<std::vector<snapshot::MonthSummary>> summaries =
        snapshot::read_summaries(c.snapshots_dir, rest);
    if (!summaries)
      continue; // no snapshots yet: nothing to land
    for (const snapshot::MonthSummary& summary : *summaries) {
      Result<billing::LandedCounts> counts =
          billing::land_month(api_.store(), summary, c.name, c.plugin_name);
      if (!counts) {
        if (error.empty())
          error = c.name + " " + summary.month.to_string() + ": " + counts.error().message();
        continue;
      }
      job.items_created += counts->created;
      job.items_updated += counts->updated;
      job.items_unchanged += counts->unchanged;
    }
  }
  job.status = error.empty() ? "completed" : "failed";
  if (!error.empty())
    job.error = error;
  job.completed_ms = billing::now_ms();
  api_.finish_sync(job);
}

std::vector<billing::AdapterInfo> BillingSync::adapters() {
  std::vector<billing::AdapterInfo> adapters;
  for (const ConnectionView& view : daemon_.connection_views()) {
    if (!view.loaded)
      continue;
    auto found = std::find_if(adapters.begin(), adapters.end(), [&](const billing::AdapterInfo& a) {
      return a.name == view.plugin_name;
    });
    if (found == adapters.end()) {
      billing::AdapterInfo info;
      info.name = view.plugin_name;
      info.version = view.plugin_version;
      info.abi = view.abi;
      info.description = view.description;
      info.config_schema_json = view.config_schema_json;
      adapters.push_back(std::move(info));
      found = adapters.end() - 1;
    }
    found->connections.push_back(view.name);
  }
  return adapters;
}

} // namespace billdrop::service
