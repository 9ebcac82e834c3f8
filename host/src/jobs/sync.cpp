#include "jobs/sync.hpp"

#include "core/log.hpp"
#include "jobs/store_options.hpp"
#include "snapshot/layout.hpp"
#include "store/sync_store.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <set>

namespace billdrop::jobs {

namespace {

// "the source holds (2026-08 to 2026-10)", for messages about months.
std::string describe_source_months(const std::vector<Month>& months) {
  if (months.empty())
    return "the source holds (it lists none)";
  if (months.size() == 1)
    return "the source holds (only " + months.front().to_string() + ")";
  return "the source holds (" + months.front().to_string() + " to " + months.back().to_string() +
         ")";
}

// Months that were asked for but that the source does not hold: they convert to nothing, which
// is worth a warning rather than a silent empty month. Only months without any row are looked
// up, so a normal run does not list the source's months twice.
std::vector<std::string> unlisted_month_warnings(source::SourceSession& session,
                                                 const ingest::ConvertResult& result) {
  std::vector<Month> empty;
  for (const ingest::ConvertedMonth& m : result.months)
    if (m.requested && m.summary.rows == 0 && m.invalid_rows == 0 && !m.failure)
      empty.push_back(m.summary.month);
  if (empty.empty())
    return {};
  Result<std::vector<Month>> listed = session.months();
  if (!listed)
    return {}; // the reads worked; a listing that does not is not worth failing the run for
  std::vector<std::string> warnings;
  for (const Month& month : empty) {
    if (std::binary_search(listed->begin(), listed->end(), month))
      continue;
    warnings.push_back(month.to_string() + " is not among the months " +
                       describe_source_months(*listed) + ": nothing was converted for it");
  }
  return warnings;
}

const char* const kEmptyMonth =
    "has no rows: sending it would replace the month at the destination with nothing; not sent "
    "(pass --allow-empty-month to empty the month on purpose)";

} // namespace

ConvertOutcome convert_source(const ResolvedSource& source, const ConvertRequest& request) {
  ConvertOutcome outcome{.report = cbf::ValidationReport(request.max_errors)};
  std::unique_ptr<source::SourceSession> session = source.open_session();
  ingest::ConvertOptions options;
  options.months = request.months;
  if (!request.validate_only)
    outcome.out = request.out.empty() ? source.snapshots_dir() : request.out;
  options.output_directory = outcome.out;
  options.memory_budget = request.memory_mb * 1024 * 1024;
  options.progress = request.progress;
  options.cancel = request.cancel;
  log::info("convert.start", {{"source", source.describe()}, {"out", outcome.out.string()}});
  outcome.result = take(ingest::run_convert(*session, options, outcome.report));
  outcome.warnings = unlisted_month_warnings(*session, outcome.result);
  if (const Error* failure = outcome.result.first_failure())
    outcome.failure = failure_kind(*failure);
  else if (outcome.report.errors() > 0)
    outcome.failure = FailureKind::data;
  return outcome;
}

std::vector<MonthToDeliver> months_from_convert(const ingest::ConvertResult& result,
                                                bool allow_empty_month) {
  std::vector<MonthToDeliver> months;
  for (const ingest::ConvertedMonth& m : result.months) {
    if (!m.requested)
      continue; // partial months (late rows only) are never sent: they would replace the month
    MonthToDeliver month{m.summary, m.invalid_rows, ""};
    if (m.failure)
      month.failure = "reading the month failed: " + m.failure->message();
    else if (m.summary.rows == 0 && m.invalid_rows == 0 && m.unplaced_records == 0 &&
             !allow_empty_month)
      month.failure = m.summary.month.to_string() + " " + kEmptyMonth;
    months.push_back(std::move(month));
  }
  return months;
}

std::vector<MonthToDeliver> months_from_snapshots(const std::filesystem::path& dir,
                                                  const std::vector<Month>& only,
                                                  bool allow_empty_month) {
  std::vector<MonthToDeliver> months;
  for (snapshot::MonthSummary& summary : take(snapshot::read_summaries(dir, only))) {
    // The same rules as run: only a month read whole, and without invalid rows or unplaced
    // records unless --send-invalid (plan_delivery checks them).
    MonthToDeliver month{summary, summary.invalid_rows, ""};
    if (!summary.read_whole)
      month.failure =
          summary.month.to_string() +
          ".summary.json does not say the month was read whole (`convert` marks such "
          "a month \"read_whole\":true; this one's read failed, its rows only came while "
          "reading other months, or an older billdrop or an interrupted convert "
          "wrote it): convert " +
          summary.month.to_string() + " again";
    else if (summary.rows == 0 && summary.invalid_rows == 0 && summary.unplaced_records == 0 &&
             !allow_empty_month)
      month.failure = summary.month.to_string() + " " + kEmptyMonth;
    months.push_back(std::move(month));
  }
  return months;
}

std::vector<PlannedMonth> plan_months(const ResolvedSource& source,
                                      const std::vector<MonthToDeliver>& months,
                                      bool allow_rollup) {
  DeliveryOptions options;
  options.limits = plan_limits(source.limits);
  options.send_months_with_invalid_rows = true; // plan shows them; run and push decide
  std::vector<PlannedMonth> planned;
  for (const MonthToDeliver& month : months) {
    if (!month.failure.empty()) {
      planned.push_back(PlannedMonth{month.summary.month, std::nullopt, month.failure});
      continue;
    }
    MonthDelivery delivery =
        plan_delivery(month, allow_rollup || source.delivery.allow_rollup, options);
    PlannedMonth entry{month.summary.month, std::move(delivery.plan), delivery.problem};
    if (!entry.plan) {
      // Over a cap, the month still gets its row in the table: planned as if there were no
      // month caps, with the real caps' use shown (and marked) against the real limits. It is
      // not a plan that would be sent, so it has no digest.
      plan::PlanLimits uncapped = options.limits;
      uncapped.max_rows_per_month = std::numeric_limits<std::uint64_t>::max();
      uncapped.max_bytes_per_month = std::numeric_limits<std::uint64_t>::max();
      Result<plan::DropPlan> measured =
          plan::plan_month(month.summary, uncapped, plan::CapPolicy::fail);
      if (measured) {
        measured->caps.rows_limit = options.limits.max_rows_per_month;
        measured->caps.bytes_limit = options.limits.max_bytes_per_month;
        measured->digest.clear();
        if (measured->caps.over())
          entry.plan = std::move(*measured);
      }
    }
    planned.push_back(std::move(entry));
  }
  return planned;
}

namespace {

// A month that a failed (or killed) send left partly replaced at the destination goes first: the
// destination holds a mix of old and new rows until it is sent whole.
void partly_replaced_first(std::vector<MonthToDeliver>& months, const store::SyncStore& store,
                           const std::string& connection_id) {
  std::stable_partition(months.begin(), months.end(), [&](const MonthToDeliver& month) {
    Result<store::MonthStatus> status = store.month_status(connection_id, month.summary.month);
    return status && status->state != store::MonthSyncState::synced &&
           status->state != store::MonthSyncState::unknown && status->chunks_acknowledged > 0;
  });
}

} // namespace

void send_connections(SyncRun& run, const SendSettings& settings) {
  if (run.connections.empty())
    return;
  // Every local connection into one embedded emulator; every other its own destination.
  OpenDestination* local = run.shared_local;
  for (ConnectionSync& sync : run.connections) {
    const config::DeliveryConfig& delivery = sync.source.delivery;
    if (delivery.destination == config::DestinationKind::local && local != nullptr) {
      sync.destination = local;
      continue;
    }
    run.destinations.push_back(std::make_unique<OpenDestination>(
        take(open_destination(delivery, sync.source.state_dir, sync.source.limits),
             FailureKind::config)));
    sync.destination = run.destinations.back().get();
    if (delivery.destination == config::DestinationKind::local)
      local = run.destinations.back().get();
  }

  const ResolvedSource& first = run.connections.front().source;
  std::unique_ptr<RunStore> opened;
  store::Store* store = run.store;
  if (store == nullptr) {
    std::vector<ResolvedSource> sources;
    for (const ConnectionSync& sync : run.connections)
      sources.push_back(sync.source);
    opened = RunStore::open(sources, std::chrono::milliseconds(0));
    store = opened->get();
  }

  std::vector<ConnectionToDeliver> connections;
  for (ConnectionSync& sync : run.connections) {
    partly_replaced_first(sync.months, *store, sync.source.delivery.connection_id);
    connections.push_back({sync.source.delivery.connection_id, sync.months, sync.destination,
                           sync.source.delivery.allow_rollup});
  }
  // Limits and sending settings are the config's, the same for every connection; allow_rollup
  // is each connection's own (ConnectionToDeliver) or'ed with the settings'.
  DeliveryOptions options;
  options.limits = plan_limits(first.limits);
  config::SendingConfig sending = first.sending;
  if (settings.give_up_seconds > 0)
    sending.give_up_seconds = settings.give_up_seconds;
  options.retry = retry_policy(sending);
  options.parallel_connections = static_cast<std::size_t>(sending.parallel_connections);
  options.allow_rollup = settings.allow_rollup;
  options.send_months_with_invalid_rows = settings.send_invalid;
  options.on_attempt = settings.on_attempt;
  options.cancel = settings.cancel;
  std::vector<std::vector<MonthDelivery>> delivered = deliver_all(connections, options, store);
  for (std::size_t i = 0; i < run.connections.size(); ++i) {
    std::vector<MonthDelivery>& months = delivered[i];
    std::sort(months.begin(), months.end(),
              [](const MonthDelivery& a, const MonthDelivery& b) { return a.month < b.month; });
    for (const MonthDelivery& month : months)
      run.cancelled = run.cancelled || month.cancelled;
    run.connections[i].deliveries = std::move(months);
  }
  if (settings.cancel != nullptr && settings.cancel->cancelled())
    run.cancelled = true;
}

namespace {

// "host host_1a2b (pid 4242 on db-worker-3)", "a one-off billdrop command (cli_1a2b)".
std::string describe_holder(const store::LeaseHolder& holder) {
  if (holder.owner.rfind("cli_", 0) == 0)
    return "a one-off billdrop command (" + holder.owner + ")";
  std::string text = "the billdrop serve host " + holder.owner;
  if (holder.pid != 0)
    text += " (pid " + std::to_string(holder.pid) +
            (holder.hostname.empty() ? "" : " on " + holder.hostname) + ")";
  return text;
}

} // namespace

std::unique_ptr<RunStore> RunStore::open(const std::vector<ResolvedSource>& sources,
                                         std::chrono::milliseconds wait) {
  std::unique_ptr<RunStore> run(new RunStore());
  if (sources.empty())
    return run;
  const ResolvedSource& first = sources.front();
  store::StoreOptions options =
      take(store_options(first.store, first.state_dir, true), FailureKind::config);
  options.serving = false; // not a host: the daemons' fair shares stay as they are
  run->store_ = take(store::open_store(options), FailureKind::source);
  store::LeaseKeeper* leases = run->store_->leases();
  if (leases == nullptr)
    return run; // SQLite: the connection's file lock is the one-sync rule
  std::vector<store::LeaseKey> keys;
  std::set<std::string> names;
  for (const ResolvedSource& source : sources)
    if (names.insert(source.connection).second)
      keys.push_back({source.connection, source.delivery.connection_id});
  // Renewed every TTL/3 from now on, while it waits for the others too.
  const std::chrono::milliseconds beat_every =
      std::max(std::chrono::milliseconds(100), leases->ttl() / 3);
  run->heartbeat_ = std::thread([run = run.get(), leases, beat_every] {
    std::unique_lock lock(run->mutex_);
    while (!run->stop_.wait_for(lock, beat_every, [&] { return run->stopping_; })) {
      lock.unlock();
      Result<store::HeartbeatResult> beat = leases->heartbeat();
      if (!beat)
        log::warn("sync.heartbeat_failed", {{"error", beat.error().message()}});
      else
        for (const std::string& name : beat->lost)
          log::warn("sync.lease_lost", {{"connection", name}});
      lock.lock();
    }
  });
  using Steady = std::chrono::steady_clock;
  const Steady::time_point deadline = Steady::now() + wait;
  for (;;) {
    std::vector<store::LeaseKey> missing;
    for (const store::LeaseKey& key : keys)
      if (!leases->holds(key.name))
        missing.push_back(key);
    if (!missing.empty())
      (void)take(leases->claim(missing, missing.size()), FailureKind::source);
    std::erase_if(missing, [&](const store::LeaseKey& key) { return leases->holds(key.name); });
    if (missing.empty())
      break;
    if (Steady::now() >= deadline) {
      const std::string& name = missing.front().name;
      const std::optional<store::LeaseHolder> holder =
          take(leases->holder(name), FailureKind::source);
      const std::string who = holder ? describe_holder(*holder) + " until " +
                                           utc_text(holder->expires) + " (renewed while it runs)"
                                     : "another holder (it changed hands just now)";
      throw JobError(FailureKind::busy,
                     "connection '" + name + "' is leased to " + who +
                         ": a connection is synced by one holder at a time. Stop that host (or "
                         "let its run finish) and retry, or wait with --wait-seconds" +
                         (missing.size() > 1 ? " (" + std::to_string(missing.size() - 1) +
                                                   " more connection(s) of this run are leased "
                                                   "too)"
                                             : ""));
    }
    std::this_thread::sleep_for(
        std::min<Steady::duration>(std::chrono::milliseconds(500), deadline - Steady::now()));
  }
  for (const store::LeaseKey& key : keys)
    log::info("sync.lease_taken", {{"connection", key.name},
                                   {"token", static_cast<std::int64_t>(leases->token(key.name))}});
  return run;
}

RunStore::~RunStore() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  stop_.notify_all();
  if (heartbeat_.joinable())
    heartbeat_.join();
  // The store gives this command's leases back as it closes.
}

} // namespace billdrop::jobs

namespace billdrop::jobs {

std::vector<ConnectionStatus> connection_statuses(const std::vector<ResolvedSource>& sources,
                                                  const config::HostConfig& config) {
  std::vector<ConnectionStatus> statuses;
  std::map<std::filesystem::path, std::unique_ptr<store::Store>> stores;
  const auto now = std::chrono::system_clock::now();
  for (const ResolvedSource& source : sources) {
    ConnectionStatus status{source, {}, {}};
    const config::ConnectionConfig* connection = nullptr;
    for (const config::ConnectionConfig& c : config.connections)
      if (c.name == source.connection)
        connection = &c;
    const std::filesystem::path state_dir = source.state_dir;
    store::Store* store = nullptr;
    const bool shared = source.store.kind == config::StoreKind::postgres;
    if (shared || std::filesystem::exists(snapshot::sync_store_file(state_dir))) {
      // The shared store is read as it is (no lease: nothing is written); keyed "" here.
      auto& opened = stores[shared ? std::filesystem::path() : state_dir];
      if (!opened)
        opened = take(store::open_store(
                          take(store_options(source.store, state_dir, false), FailureKind::config)),
                      FailureKind::source);
      store = opened.get();
      for (const Month& month : take(store->months(source.delivery.connection_id)))
        status.months.push_back(
            {month, take(store->month_status(source.delivery.connection_id, month))});
    }
    status.entry.connection = source.connection;
    status.entry.provider = source.plugin->name();
    status.entry.cloud_account_id = source.connection;
    if (connection != nullptr) {
      status.entry.enabled = connection->schedule.enabled;
      if (!connection->schedule.account_id.empty())
        status.entry.cloud_account_id = connection->schedule.account_id;
      if (store != nullptr) {
        StatusInputs inputs;
        inputs.connection = connection;
        inputs.provider = source.plugin->name();
        inputs.connection_id = source.delivery.connection_id;
        status.entry = sync_status(inputs, *store, now);
      } else {
        status.entry.status = "pending";
        status.entry.message = "Never synced";
      }
    }
    statuses.push_back(std::move(status));
  }
  return statuses;
}

} // namespace billdrop::jobs
