#include "service/daemon.hpp"

#include "core/cron.hpp"
#include "core/json_writer.hpp"
#include "core/log.hpp"
#include "jobs/check.hpp"
#include "jobs/store_options.hpp"
#include "jobs/sync.hpp"

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

namespace billdrop::service {

using Clock = std::chrono::system_clock;
using TimePoint = Clock::time_point;
using Steady = std::chrono::steady_clock;

namespace {

// How long a verify job or a Billing API sync waits for the runs it requested (carried out by the
// hosts holding the connections' leases) before it fails naming the connections not run.
constexpr std::chrono::milliseconds kRunRequestWait = std::chrono::hours(1);

// Counters of one connection, for /metrics.
struct Counters {
  std::uint64_t runs = 0, runs_failed = 0, runs_busy = 0;
  std::uint64_t months_sent = 0, months_unchanged = 0, months_failed = 0;
  std::uint64_t rows = 0, bytes = 0, chunks = 0, requests = 0, retries = 0;
  double seconds = 0;
};

} // namespace

struct Daemon::Impl {
  explicit Impl(DaemonOptions opts) : options(std::move(opts)) {
    if (!options.clock)
      options.clock = [] { return Clock::now(); };
  }

  // One configured connection and what the daemon knows of it.
  struct Connection {
    const config::ConnectionConfig* config = nullptr;
    std::optional<jobs::ResolvedSource> source; // empty: its plugin could not be loaded
    std::string load_error;
    std::optional<core::CronSchedule> schedule;
    TimePoint next_due{};
    bool due = false;     // queued to run
    bool running = false; // a worker runs it
    bool leased = false;  // a shared store's lease of it is this host's (always true alone)
    std::string parent;   // the verify job that queued it, if any
    Counters counters;
    std::vector<jobs::MonthOutcome> last_outcomes; // of its last finished run in this process
  };

  DaemonOptions options;
  std::unique_ptr<store::Store> store;
  store::LeaseKeeper* leases = nullptr; // the shared store's leases; null: this host is alone
  std::thread lease_keeper;
  std::unique_ptr<jobs::OpenDestination> local; // one embedded emulator for `local` connections
  std::vector<Connection> connections;
  std::map<std::string, std::size_t> index_by_name;
  core::CancelToken cancel;

  mutable std::mutex mutex;
  std::condition_variable wake;  // the scheduler and workers wait on it
  std::condition_variable done;  // a run ended
  std::deque<std::size_t> queue; // connections due, in order
  bool stopping = false;
  std::thread scheduler;
  std::vector<std::thread> workers;
  std::thread verifier;
  std::string verify_job; // the running verify job's id ("" when none)
  std::map<std::string, VerifyResult> verify_results;
  std::mt19937_64 rng{std::random_device{}()};
  std::function<void(const SyncLanded&)> landed_listener; // set before start()

  TimePoint now() const { return options.clock(); }

  TimePoint with_jitter(TimePoint due) {
    const std::int64_t jitter = options.config.server.jitter_seconds;
    if (jitter <= 0)
      return due;
    std::uniform_int_distribution<std::int64_t> seconds(0, jitter);
    return due + std::chrono::seconds(seconds(rng));
  }

  Status start() {
    const config::HostConfig& config = options.config;
    Result<store::StoreOptions> store_options = jobs::store_options(config, true);
    if (!store_options)
      return store_options.error();
    Result<std::unique_ptr<store::Store>> opened = store::open_store(*store_options);
    if (!opened)
      return opened.error();
    store = std::move(*opened);
    leases = store->leases();
    if (Result<std::size_t> interrupted = store->interrupt_orphaned_jobs(); !interrupted)
      return interrupted.error();
    else if (*interrupted > 0)
      log::warn("serve.jobs_interrupted", {{"jobs", *interrupted}});

    const TimePoint started = now();
    for (const config::ConnectionConfig& c : config.connections) {
      Connection connection;
      connection.config = &c;
      Result<core::CronSchedule> schedule = core::CronSchedule::parse(c.schedule.schedule);
      if (!schedule)
        return schedule.error().with_context("connection '" + c.name + "'");
      connection.schedule = std::move(*schedule);
      try {
        connection.source = jobs::resolve_connection(options.request, config, c);
      } catch (const std::exception& e) {
        connection.load_error = e.what();
        log::error("serve.connection_unusable", {{"connection", c.name}, {"error", e.what()}});
      }
      // With a shared store, the connection is scheduled once this host claims its lease.
      connection.leased = leases == nullptr;
      if (connection.leased)
        connection.next_due = first_due(connection, false, started);
      index_by_name[c.name] = connections.size();
      connections.push_back(std::move(connection));
    }
    const bool any_local =
        std::any_of(config.connections.begin(), config.connections.end(),
                    [](const config::ConnectionConfig& c) {
                      return c.delivery.destination == config::DestinationKind::local;
                    });
    if (any_local) {
      config::DeliveryConfig delivery;
      delivery.destination = config::DestinationKind::local;
      Result<jobs::OpenDestination> open =
          jobs::open_destination(delivery, config.state_dir, config.limits);
      if (!open)
        return open.error().with_context("starting the embedded emulator");
      local = std::make_unique<jobs::OpenDestination>(std::move(*open));
    }
    if (leases != nullptr)
      lease_keeper = std::thread([this] { lease_loop(); });
    scheduler = std::thread([this] { schedule_loop(); });
    const std::size_t pool =
        static_cast<std::size_t>(std::max<std::int64_t>(1, config.server.max_parallel_connections));
    for (std::size_t i = 0; i < pool; ++i)
      workers.emplace_back([this] { work_loop(); });
    log::info("serve.started", {{"connections", connections.size()}, {"workers", pool}});
    return {};
  }

  void stop() {
    {
      const std::lock_guard lock(mutex);
      if (stopping && workers.empty())
        return;
      stopping = true;
    }
    cancel.cancel();
    wake.notify_all();
    done.notify_all();
    if (scheduler.joinable())
      scheduler.join();
    if (lease_keeper.joinable())
      lease_keeper.join();
    for (std::thread& worker : workers)
      if (worker.joinable())
        worker.join();
    workers.clear();
    if (verifier.joinable())
      verifier.join();
    local.reset();
  }

  // When a connection is first due: at once for a first sync, a backfill, a run that never
  // finished (its host died: `taken_over`, or the record shows a run without an end) or a missed
  // schedule; else its next slot.
  TimePoint first_due(const Connection& c, bool taken_over, TimePoint t) {
    Result<store::ConnectionRecord> record = store->connection(c.config->name);
    const TimePoint last_run = record ? record->last_run : TimePoint{};
    if (taken_over || last_run == TimePoint{} || (record && !record->backfilled))
      return t;
    if (record && last_run > record->last_success && last_run > record->last_error_at)
      return t;
    if (const TimePoint slot = c.schedule->next_after(last_run); slot <= t)
      return t;
    else
      return with_jitter(slot);
  }

  // With a shared store: renews this host's leases every TTL/3 and claims its fair share of the
  // connections (ceil(connections / live hosts)) as leases free up or expire, giving back idle
  // ones beyond it, so a dead host's connections move to the others within the TTL plus one
  // tick. The store is never called with the daemon's lock held.
  void lease_loop() {
    const std::chrono::milliseconds beat_every =
        std::max(std::chrono::milliseconds(100), leases->ttl() / 3);
    const std::chrono::milliseconds tick = std::min(std::chrono::milliseconds(1000), beat_every);
    std::vector<store::LeaseKey> keys;
    std::map<std::string, std::size_t> index_of;
    for (std::size_t i = 0; i < connections.size(); ++i)
      if (connections[i].config->schedule.enabled) {
        keys.push_back(
            {connections[i].config->name, connections[i].config->delivery.connection_id});
        index_of[connections[i].config->name] = i;
      }
    Steady::time_point next_beat = Steady::now();
    std::size_t live_hosts = 1;
    // What the last tick saw, to log the share only when it changes.
    std::size_t last_held = SIZE_MAX, last_share = SIZE_MAX, last_live = SIZE_MAX;
    std::unique_lock lock(mutex);
    while (!stopping) {
      lock.unlock();
      std::vector<std::string> lost;
      if (Steady::now() >= next_beat) {
        next_beat = Steady::now() + beat_every;
        if (Result<store::HeartbeatResult> beat = leases->heartbeat(); beat) {
          live_hosts = beat->live_hosts;
          lost = std::move(beat->lost);
        } else {
          log::warn("serve.heartbeat_failed", {{"error", beat.error().message()}});
        }
        if (Result<std::size_t> interrupted = store->interrupt_orphaned_jobs();
            interrupted && *interrupted > 0)
          log::warn("serve.jobs_interrupted", {{"jobs", *interrupted}});
      }
      const std::size_t share =
          (keys.size() + live_hosts - 1) / std::max<std::size_t>(1, live_hosts);
      const std::size_t held = leases->held();
      if (held != last_held || share != last_share || live_hosts != last_live) {
        log::info("serve.lease_share",
                  {{"held", held}, {"share", share}, {"live_hosts", live_hosts}});
        last_held = held;
        last_share = share;
        last_live = live_hosts;
      }
      std::vector<store::Lease> won;
      if (held < share) {
        const auto started = Steady::now();
        Result<std::vector<store::Lease>> claimed = leases->claim(keys, share - held);
        const auto micros =
            std::chrono::duration_cast<std::chrono::microseconds>(Steady::now() - started).count();
        if (!claimed)
          log::warn("serve.claim_failed", {{"error", claimed.error().message()}});
        else if (!claimed->empty()) {
          won = std::move(*claimed);
          log::info("serve.leases_claimed", {{"claimed", won.size()},
                                             {"held", leases->held()},
                                             {"share", share},
                                             {"live_hosts", live_hosts},
                                             {"claim_us", static_cast<std::int64_t>(micros)}});
        }
      }
      // What the store holds now: a write that found a lease gone (fenced) dropped it there
      // between two heartbeats. Only this thread adds leases, so none appears meanwhile.
      std::set<std::string> holding;
      for (const store::LeaseKey& key : keys)
        if (leases->holds(key.name))
          holding.insert(key.name);
      lock.lock();
      for (const std::string& name : lost) {
        Connection& c = connections[index_of.at(name)];
        c.leased = false;
        log::warn("serve.lease_lost", {{"connection", name}, {"running", c.running}});
      }
      for (const auto& [name, index] : index_of) {
        Connection& c = connections[index];
        if (c.leased && holding.count(name) == 0) {
          c.leased = false;
          log::warn("serve.lease_lost",
                    {{"connection", name}, {"running", c.running}, {"found_by", "a fenced write"}});
        }
      }
      std::vector<std::string> give_back;
      if (held > share)
        for (Connection& c : connections)
          if (give_back.size() < held - share && c.leased && !c.running && !c.due) {
            c.leased = false;
            give_back.push_back(c.config->name);
          }
      const TimePoint t = now();
      std::vector<std::pair<std::size_t, bool>> gained;
      for (const store::Lease& lease : won)
        gained.emplace_back(index_of.at(lease.name), lease.taken_over);
      lock.unlock();
      for (const std::string& name : give_back)
        if (Status released = leases->release(name); !released)
          log::warn("serve.release_failed",
                    {{"connection", name}, {"error", released.error().message()}});
      std::vector<std::pair<std::size_t, TimePoint>> due;
      for (const auto& [index, taken_over] : gained)
        due.emplace_back(index, first_due(connections[index], taken_over, t));
      lock.lock();
      for (const auto& [index, when] : due) {
        connections[index].leased = true;
        connections[index].next_due = when;
      }
      if (!due.empty())
        wake.notify_all();
      wake.wait_for(lock, tick);
    }
  }

  // Marks connections due; sleeps until the next due time (at most a second, so a changed clock
  // or a stop is seen soon).
  void schedule_loop() {
    std::unique_lock lock(mutex);
    while (!stopping) {
      queue_run_requests(lock);
      const TimePoint t = now();
      for (std::size_t i = 0; i < connections.size(); ++i) {
        Connection& c = connections[i];
        if (!c.config->schedule.enabled || !c.leased || c.due || c.running || c.next_due > t)
          continue;
        c.due = true;
        queue.push_back(i);
      }
      if (!queue.empty())
        wake.notify_all();
      wake.wait_for(lock, std::chrono::seconds(1));
    }
  }

  // Run requests in the store (POST /verify, a Billing API sync, sent to this host or another)
  // for connections this host runs and that are idle now: queued, as their parent job's. One in
  // progress is left to end first (it read its source before the request); the next poll queues
  // it again. Called with the lock held; the store is read without it.
  void queue_run_requests(std::unique_lock<std::mutex>& lock) {
    std::vector<std::string> names;
    for (const Connection& c : connections)
      if (c.leased && !c.due && !c.running)
        names.push_back(c.config->name);
    if (names.empty())
      return;
    lock.unlock();
    Result<std::vector<store::RunRequest>> pending = store->pending_runs(names);
    lock.lock();
    if (!pending) {
      log::warn("serve.run_requests_unread", {{"error", pending.error().message()}});
      return;
    }
    bool queued = false;
    for (const store::RunRequest& request : *pending) {
      const auto found = index_by_name.find(request.connection);
      if (found == index_by_name.end() || stopping)
        continue;
      Connection& c = connections[found->second];
      if (!c.leased || c.due || c.running)
        continue; // queued by an earlier request of this poll, or changed meanwhile
      c.due = true;
      c.parent = request.parent;
      queue.push_back(found->second);
      queued = true;
    }
    if (queued)
      wake.notify_all();
  }

  // Asks for runs of `names` now (as `parent`'s) through the store, so whichever host holds each
  // connection's lease runs it; wakes this host's scheduler to look at once.
  Result<std::vector<std::string>> request_runs(const std::vector<std::string>& names,
                                                const std::string& parent) {
    Result<std::vector<std::string>> ids = store->request_runs(names, parent);
    if (ids)
      wake.notify_all();
    return ids;
  }

  // Waits until the run requests `ids` are done (by whichever host ran each), the daemon stops
  // or `limit` passes; returns the connections of the requests still pending then.
  std::vector<std::string> wait_for_runs(const std::vector<std::string>& ids,
                                         std::chrono::milliseconds limit) {
    std::set<std::string> pending(ids.begin(), ids.end());
    std::map<std::string, std::string> connection_of;
    const Steady::time_point deadline = Steady::now() + limit;
    for (;;) {
      Result<std::vector<store::RunRequest>> requests =
          store->run_requests(std::vector<std::string>(pending.begin(), pending.end()));
      if (requests)
        for (const store::RunRequest& request : *requests) {
          connection_of[request.id] = request.connection;
          if (request.done)
            pending.erase(request.id);
        }
      else
        log::warn("serve.run_requests_unread", {{"error", requests.error().message()}});
      std::unique_lock lock(mutex);
      if (pending.empty() || stopping || Steady::now() >= deadline)
        break;
      // A run of this host ending wakes it early; another host's is seen at the next look.
      done.wait_for(lock, std::chrono::milliseconds(200));
    }
    std::vector<std::string> names;
    for (const std::string& id : pending)
      names.push_back(connection_of.count(id) != 0 ? connection_of[id] : id);
    return names;
  }

  void work_loop() {
    std::unique_lock lock(mutex);
    for (;;) {
      wake.wait(lock, [this] { return stopping || !queue.empty(); });
      if (stopping)
        return;
      const std::size_t index = queue.front();
      queue.pop_front();
      Connection& c = connections[index];
      c.due = false;
      if (!c.leased) { // its lease was lost or given back while it waited
        c.parent.clear();
        done.notify_all();
        continue;
      }
      c.running = true;
      const std::string parent = std::exchange(c.parent, std::string());
      lock.unlock();
      run_connection(c, parent);
      lock.lock();
      c.running = false;
      c.next_due = with_jitter(c.schedule->next_after(now()));
      done.notify_all();
    }
  }

  // One sync of one connection, recorded as a job, logged as one line.
  void run_connection(Connection& c, const std::string& queued_by) {
    const std::string& name = c.config->name;
    // The run requests this run carries out: those pending now, before its source is read (one
    // made later waits for the next run), and the lease token it runs under.
    std::vector<std::string> request_ids;
    std::string parent = queued_by;
    if (Result<std::vector<store::RunRequest>> pending = store->pending_runs({name}); pending) {
      for (const store::RunRequest& request : *pending) {
        request_ids.push_back(request.id);
        if (parent.empty())
          parent = request.parent;
      }
    } else {
      log::warn("serve.run_requests_unread",
                {{"connection", name}, {"error", pending.error().message()}});
    }
    const std::uint64_t token = leases != nullptr ? leases->token(name) : 0;
    Result<std::string> job = store->begin_job("sync", name, parent);
    const std::string job_id = job ? *job : "";
    jobs::ScheduledSyncResult result;
    if (!c.source) {
      result.error = "the connection cannot run: " + c.load_error;
      Result<store::ConnectionRecord> record = store->connection(name);
      if (record) {
        record->last_run = now();
        record->last_error = result.error;
        record->last_error_at = now();
        (void)store->save_connection(*record);
      }
    } else {
      jobs::ScheduledSyncRequest request;
      request.source = &*c.source;
      request.schedule = &c.config->schedule;
      request.store = store.get();
      request.shared_local = local.get();
      request.cancel = &cancel;
      request.now = now();
      Counters* counters = &c.counters;
      std::mutex* counters_mutex = &mutex;
      request.on_attempt = [counters, counters_mutex](const send::Attempt& attempt) {
        const std::lock_guard lock(*counters_mutex);
        ++counters->requests;
        if (attempt.attempt > 1)
          ++counters->retries;
      };
      result = jobs::run_scheduled_sync(request);
    }
    {
      const std::lock_guard lock(mutex);
      if (!result.busy)
        c.last_outcomes = result.months;
      Counters& k = c.counters;
      ++k.runs;
      k.runs_busy += result.busy ? 1 : 0;
      k.runs_failed += !result.ok() && !result.busy ? 1 : 0;
      k.seconds += result.seconds;
      for (const jobs::MonthOutcome& month : result.months) {
        k.months_sent += month.kind == jobs::MonthOutcomeKind::sent ? 1 : 0;
        k.months_unchanged += month.kind == jobs::MonthOutcomeKind::unchanged ? 1 : 0;
        k.months_failed += month.kind == jobs::MonthOutcomeKind::failed ? 1 : 0;
        if (month.kind == jobs::MonthOutcomeKind::sent) {
          k.rows += month.rows;
          k.bytes += month.bytes;
          k.chunks += month.chunks;
        }
      }
    }
    std::size_t sent = 0, unchanged = 0, failed = 0;
    core::JsonWriter months;
    months.begin_array();
    for (const jobs::MonthOutcome& month : result.months) {
      sent += month.kind == jobs::MonthOutcomeKind::sent;
      unchanged += month.kind == jobs::MonthOutcomeKind::unchanged;
      failed += month.kind == jobs::MonthOutcomeKind::failed;
      months.begin_object()
          .key("month")
          .value(month.month.to_string())
          .key("outcome")
          .value(jobs::to_string(month.kind))
          .key("rows")
          .value(month.rows)
          .key("cost")
          .value(month.cost.to_string());
      if (!month.problem.empty())
        months.key("problem").value(month.problem);
      months.end_object();
    }
    months.end_array();
    const store::JobState state = result.cancelled ? store::JobState::interrupted
                                  : result.ok()    ? store::JobState::completed
                                                   : store::JobState::failed;
    std::string message = result.busy ? "skipped: " + result.error : result.error;
    if (message.empty() && failed > 0)
      for (const jobs::MonthOutcome& month : result.months)
        if (month.kind == jobs::MonthOutcomeKind::failed) {
          message = month.problem;
          break;
        }
    if (!job_id.empty())
      (void)store->finish_job(job_id, state, message, months.str());
    // Done with this run's token: a host that lost the lease meanwhile marks nothing, and the
    // requests wait for the next holder. A run stopped by a stop request leaves them pending.
    if (!request_ids.empty() && !result.cancelled) {
      if (Status marked = store->finish_runs(name, request_ids, job_id, token); !marked)
        log::warn("serve.run_requests_left", {{"connection", name},
                                              {"requests", request_ids.size()},
                                              {"error", marked.error().message()}});
    }
    if (landed_listener && !result.busy) {
      SyncLanded landed;
      landed.connection = name;
      landed.error = message;
      for (const jobs::MonthOutcome& month : result.months)
        if (month.kind == jobs::MonthOutcomeKind::sent ||
            month.kind == jobs::MonthOutcomeKind::unchanged)
          landed.months.push_back(month.month);
      try {
        landed_listener(landed);
      } catch (const std::exception& e) {
        log::error("serve.sync_landed_failed", {{"connection", name}, {"error", e.what()}});
      }
    }
    log::write(result.ok() ? log::Level::info : log::Level::warn, "serve.sync",
               {{"connection", name},
                {"job", job_id},
                {"status", store::to_string(state)},
                {"backfill", result.backfill},
                {"months_sent", sent},
                {"months_unchanged", unchanged},
                {"months_failed", failed},
                {"rows_read", result.rows_read},
                {"months_backfilled", result.months_backfilled},
                {"seconds", static_cast<std::int64_t>(result.seconds)},
                {"error", message}});
  }

  // Queues a connection now (verify, run_all_now); false when it is disabled.
  void queue_now(std::size_t index, const std::string& parent) {
    Connection& c = connections[index];
    if (c.due || c.running)
      return;
    c.due = true;
    c.parent = parent;
    queue.push_back(index);
    wake.notify_all();
  }

  std::vector<jobs::SyncStatusEntry> sync_status() const {
    // The connections' in-memory state is copied under the lock; the store is read after it, so
    // a status request never holds up the scheduler.
    struct Snapshot {
      jobs::StatusInputs inputs;
      bool load_failed = false;
      std::string load_error;
    };
    std::vector<Snapshot> snapshots;
    const TimePoint t = now();
    {
      const std::lock_guard lock(mutex);
      snapshots.reserve(connections.size());
      for (const Connection& c : connections) {
        Snapshot& s = snapshots.emplace_back();
        s.inputs.connection = c.config;
        s.inputs.provider = c.source ? c.source->plugin->name() : c.config->plugin;
        s.inputs.connection_id = c.config->delivery.connection_id;
        s.inputs.syncing = c.running;
        if (c.schedule)
          s.inputs.schedule = &*c.schedule;
        if (c.config->schedule.enabled)
          s.inputs.next_run_at = c.next_due;
        s.load_failed = !c.source && !c.running;
        if (s.load_failed)
          s.load_error = c.load_error;
      }
    }
    std::vector<jobs::StatusInputs> inputs;
    inputs.reserve(snapshots.size());
    for (const Snapshot& s : snapshots)
      inputs.push_back(s.inputs);
    std::vector<jobs::SyncStatusEntry> entries = jobs::sync_statuses(inputs, *store, t);
    for (std::size_t i = 0; i < entries.size(); ++i)
      if (snapshots[i].load_failed) {
        entries[i].status = "error";
        entries[i].message = std::move(snapshots[i].load_error);
      }
    return entries;
  }

  Result<std::optional<std::vector<MonthView>>> connection_months(const std::string& name) const {
    std::string connection_id;
    std::vector<jobs::MonthOutcome> outcomes;
    {
      const std::lock_guard lock(mutex);
      const auto found = std::find_if(connections.begin(), connections.end(),
                                      [&](const Connection& c) { return c.config->name == name; });
      if (found == connections.end())
        return std::optional<std::vector<MonthView>>();
      connection_id = found->config->delivery.connection_id;
      outcomes = found->last_outcomes;
    }
    const auto outcome_of = [&](Month month) -> const jobs::MonthOutcome* {
      for (const jobs::MonthOutcome& o : outcomes)
        if (o.month == month)
          return &o;
      return nullptr;
    };
    Result<std::vector<Month>> months = store->months(connection_id);
    if (!months)
      return std::move(months).error();
    // Months the last run failed before any send reached the store are shown too.
    for (const jobs::MonthOutcome& o : outcomes)
      if (std::find(months->begin(), months->end(), o.month) == months->end())
        months->push_back(o.month);
    std::sort(months->begin(), months->end(), [](Month a, Month b) { return b < a; });
    std::vector<MonthView> views;
    for (const Month& month : *months) {
      Result<store::MonthStatus> status = store->month_status(connection_id, month);
      if (!status)
        return std::move(status).error();
      const jobs::MonthOutcome* outcome = outcome_of(month);
      MonthView& view = views.emplace_back();
      view.month = month;
      switch (status->state) {
      case store::MonthSyncState::synced:
        view.state = outcome != nullptr && outcome->kind == jobs::MonthOutcomeKind::unchanged
                         ? "unchanged"
                         : "synced";
        view.rows = status->rows;
        view.cost = status->cost;
        view.synced_at = status->synced_at;
        break;
      case store::MonthSyncState::failed:
        view.state = "failed";
        view.message = status->error;
        break;
      case store::MonthSyncState::unknown:
      case store::MonthSyncState::pending:
        view.state = outcome != nullptr && outcome->kind == jobs::MonthOutcomeKind::failed
                         ? "failed"
                         : "pending";
        break;
      }
      if (view.state != "synced" && view.state != "unchanged" && outcome != nullptr) {
        view.rows = outcome->rows;
        view.cost = outcome->cost;
        if (view.message.empty())
          view.message = outcome->problem;
      }
    }
    return std::optional<std::vector<MonthView>>(std::move(views));
  }

  std::string verify_document(const std::string& job_id) {
    core::JsonWriter json;
    json.begin_array();
    for (const Connection& c : connections) {
      const auto found = verify_results.find(c.config->name);
      if (found == verify_results.end())
        continue;
      const VerifyResult& r = found->second;
      json.begin_object()
          .key("cloudAccountID")
          .value(r.cloud_account_id)
          .key("connection")
          .value(r.connection)
          .key("reachable")
          .value(r.reachable)
          .key("schemaMatches")
          .value(r.schema_matches)
          .key("sampleValid")
          .value(r.sample_valid)
          .key("monthsBackfilled")
          .value(r.months_backfilled);
      if (r.error.empty())
        json.key("error").null();
      else
        json.key("error").value(r.error);
      json.key("done").value(r.done).end_object();
    }
    json.end_array();
    (void)job_id;
    return json.take();
  }

  // The org-wide verify job: per enabled connection, is the export reachable, does its schema
  // match (the plugin's check), does a sample of recent records convert cleanly; then its sync
  // and backfill, whose failures show in sync-status.
  void verify(const std::string& job_id, const std::vector<std::string>& request_ids) {
    std::vector<std::size_t> checked;
    for (std::size_t i = 0; i < connections.size() && !cancel.cancelled(); ++i) {
      Connection& c = connections[i];
      // Every enabled connection, whichever host holds its lease: the checks only read the
      // source; its sync runs where its lease is (a run request in the store).
      if (!c.config->schedule.enabled)
        continue;
      VerifyResult r;
      r.connection = c.config->name;
      r.cloud_account_id =
          c.config->schedule.account_id.empty() ? c.config->name : c.config->schedule.account_id;
      if (!c.source) {
        r.error = c.load_error;
        r.done = true;
      } else {
        try {
          const jobs::CheckOutcome check = jobs::check_source(*c.source);
          r.reachable = check.ok || (check.failure && *check.failure != jobs::FailureKind::source);
          r.schema_matches = check.ok;
          if (!check.ok) {
            r.error = check.error;
            r.done = true;
          } else if (check.months.empty()) {
            r.sample_valid = true; // nothing to sample: an empty export is valid
          } else {
            jobs::ConvertRequest sample;
            sample.months = {check.months.back()};
            sample.validate_only = true;
            sample.max_errors = 5;
            sample.cancel = &cancel;
            const jobs::ConvertOutcome validated = jobs::convert_source(*c.source, sample);
            r.sample_valid = !validated.failure;
            if (!r.sample_valid) {
              std::ostringstream problems;
              validated.report.write_text(problems);
              r.error = "the sample of " + check.months.back().to_string() +
                        " does not convert cleanly: " + problems.str().substr(0, 500);
            }
          }
        } catch (const std::exception& e) {
          r.error = e.what();
          r.done = true;
        }
      }
      {
        const std::lock_guard lock(mutex);
        verify_results[r.connection] = r;
        if (!r.done)
          checked.push_back(i);
      }
      (void)store->set_job_result(job_id, verify_document(job_id));
    }
    // Then the syncs (and backfills) requested when the job started, each a job of this one, run
    // by the host holding the connection's lease (this one or another): their results.
    std::set<std::string> not_run;
    for (std::string& name : wait_for_runs(request_ids, kRunRequestWait))
      not_run.insert(std::move(name));
    for (const std::size_t index : checked) {
      Connection& c = connections[index];
      const std::uint32_t backfilled = jobs::months_backfilled(
          *store, c.config->delivery.connection_id, c.config->schedule.backfill_months, now());
      Result<store::ConnectionRecord> record = store->connection(c.config->name);
      const std::lock_guard lock(mutex);
      VerifyResult& r = verify_results[c.config->name];
      r.done = true;
      r.months_backfilled = backfilled;
      if (not_run.count(c.config->name) != 0)
        r.error = cancel.cancelled() ? "billdrop serve stopped before its run ended"
                                     : "its run was requested but no host ran it within " +
                                           std::to_string(kRunRequestWait.count() / 60'000) +
                                           " min (is a host holding its lease running?)";
      else if (record && !record->last_error.empty() && record->last_error_at >= record->last_run)
        r.error = record->last_error;
    }
    bool all_ok = true;
    {
      const std::lock_guard lock(mutex);
      for (const auto& [name, r] : verify_results)
        all_ok = all_ok && r.error.empty();
    }
    const std::string document = [&] {
      const std::lock_guard lock(mutex);
      return verify_document(job_id);
    }();
    (void)store->finish_job(job_id,
                            cancel.cancelled() ? store::JobState::interrupted
                            : all_ok           ? store::JobState::completed
                                               : store::JobState::failed,
                            all_ok ? "" : "a connection failed verification (see connections)",
                            document);
    const std::lock_guard lock(mutex);
    verify_job.clear();
    log::info("serve.verify", {{"job", job_id}, {"ok", all_ok}});
  }

  Result<std::string> start_verify() {
    const std::lock_guard lock(mutex);
    if (!verify_job.empty())
      return verify_job;
    if (stopping)
      return source_error("billdrop serve is stopping");
    Result<std::string> job = store->begin_job("verify", "");
    if (!job)
      return job.error();
    // Every enabled connection's sync is requested before the answer, in one statement: durable
    // in the store, so the hosts holding the leases carry them out even if this host dies while
    // it checks the sources (a connection that fails its check fails its sync too, and says why).
    std::vector<std::string> names;
    for (const Connection& c : connections)
      if (c.config->schedule.enabled)
        names.push_back(c.config->name);
    Result<std::vector<std::string>> ids = store->request_runs(names, *job);
    if (!ids) {
      (void)store->finish_job(*job, store::JobState::failed,
                              "the runs could not be requested: " + ids.error().message());
      return ids.error();
    }
    wake.notify_all();
    verify_job = *job;
    verify_results.clear();
    if (verifier.joinable())
      verifier.join(); // the previous verify has ended (verify_job was cleared)
    verifier = std::thread([this, id = *job, requests = std::move(*ids)] { verify(id, requests); });
    return *job;
  }

  std::string metrics() const {
    std::string out;
    const auto family = [&](const char* name, const char* type, const char* help) {
      out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
    };
    const auto sample = [&](const char* name, const std::string& connection, const auto& value) {
      std::ostringstream text;
      text << value;
      out += std::string(name) + "{connection=\"" + connection + "\"} " + text.str() + "\n";
    };
    const std::lock_guard lock(mutex);
    struct Metric {
      const char* name;
      const char* type;
      const char* help;
      std::function<double(const Counters&)> value;
    };
    const Metric metrics[] = {
        {"billdrop_sync_runs_total", "counter", "Syncs run.",
         [](const Counters& k) { return static_cast<double>(k.runs); }},
        {"billdrop_sync_runs_failed_total", "counter",
         "Syncs that did not end with every month synced.",
         [](const Counters& k) { return static_cast<double>(k.runs_failed); }},
        {"billdrop_sync_runs_busy_total", "counter",
         "Syncs skipped: another process held the connection.",
         [](const Counters& k) { return static_cast<double>(k.runs_busy); }},
        {"billdrop_months_sent_total", "counter", "Months sent and synced.",
         [](const Counters& k) { return static_cast<double>(k.months_sent); }},
        {"billdrop_months_unchanged_total", "counter",
         "Months whose plan equalled the one last synced: not sent.",
         [](const Counters& k) { return static_cast<double>(k.months_unchanged); }},
        {"billdrop_months_failed_total", "counter", "Months not synced.",
         [](const Counters& k) { return static_cast<double>(k.months_failed); }},
        {"billdrop_rows_sent_total", "counter", "Rows of the months sent.",
         [](const Counters& k) { return static_cast<double>(k.rows); }},
        {"billdrop_bytes_sent_total", "counter", "Request body bytes of the months sent.",
         [](const Counters& k) { return static_cast<double>(k.bytes); }},
        {"billdrop_chunks_sent_total", "counter", "Chunks of the months sent.",
         [](const Counters& k) { return static_cast<double>(k.chunks); }},
        {"billdrop_requests_total", "counter", "Requests made to the destination.",
         [](const Counters& k) { return static_cast<double>(k.requests); }},
        {"billdrop_retries_total", "counter", "Requests that were retries.",
         [](const Counters& k) { return static_cast<double>(k.retries); }},
        {"billdrop_sync_seconds_total", "counter", "Time spent in syncs.",
         [](const Counters& k) { return k.seconds; }},
    };
    for (const Metric& metric : metrics) {
      family(metric.name, metric.type, metric.help);
      for (const Connection& c : connections)
        sample(metric.name, c.config->name, metric.value(c.counters));
    }
    family("billdrop_connection_running", "gauge", "1 while a sync of the connection runs.");
    for (const Connection& c : connections)
      sample("billdrop_connection_running", c.config->name, c.running ? 1 : 0);
    return out;
  }
};

Daemon::Daemon(DaemonOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Daemon::~Daemon() {
  stop();
}
Status Daemon::start() {
  return impl_->start();
}
void Daemon::stop() {
  impl_->stop();
}
Result<std::optional<std::vector<MonthView>>>
Daemon::connection_months(const std::string& name) const {
  return impl_->connection_months(name);
}

std::vector<jobs::SyncStatusEntry> Daemon::sync_status() const {
  return impl_->sync_status();
}
Result<std::string> Daemon::start_verify() {
  return impl_->start_verify();
}

Result<std::optional<store::JobRecord>> Daemon::job(const std::string& id) const {
  return impl_->store->job(id);
}

std::string Daemon::metrics() const {
  return impl_->metrics();
}

void Daemon::run_all_now() {
  const std::lock_guard lock(impl_->mutex);
  for (std::size_t i = 0; i < impl_->connections.size(); ++i)
    if (impl_->connections[i].config->schedule.enabled)
      impl_->queue_now(i, "");
}

bool Daemon::busy() const {
  const std::lock_guard lock(impl_->mutex);
  if (!impl_->verify_job.empty() || !impl_->queue.empty())
    return true;
  return std::any_of(impl_->connections.begin(), impl_->connections.end(),
                     [](const Impl::Connection& c) { return c.running || c.due; });
}

const config::HostConfig& Daemon::config() const {
  return impl_->options.config;
}

std::vector<ConnectionView> Daemon::connection_views() const {
  const std::lock_guard lock(impl_->mutex);
  std::vector<ConnectionView> views;
  for (const Impl::Connection& c : impl_->connections) {
    ConnectionView& view = views.emplace_back();
    view.name = c.config->name;
    view.plugin = c.config->plugin;
    view.load_error = c.load_error;
    if (c.source) {
      const source::LoadedPlugin& plugin = *c.source->plugin;
      view.loaded = true;
      view.plugin_name = plugin.name();
      view.plugin_version = plugin.version();
      view.abi = std::to_string(plugin.descriptor().abi_major) + "." +
                 std::to_string(plugin.descriptor().abi_minor);
      view.description = plugin.description();
      view.config_schema_json = plugin.schema().to_json();
      view.snapshots_dir = c.source->snapshots_dir();
    }
  }
  return views;
}

void Daemon::on_sync_landed(std::function<void(const SyncLanded&)> listener) {
  impl_->landed_listener = std::move(listener);
}

Status Daemon::run_and_wait(const std::vector<std::string>& names) {
  {
    const std::lock_guard lock(impl_->mutex);
    if (impl_->stopping)
      return source_error("the daemon is stopping");
    for (const std::string& name : names) {
      const auto found = impl_->index_by_name.find(name);
      if (found == impl_->index_by_name.end())
        return config_error("no connection named '" + name + "'");
      // With a shared store only enabled connections are leased, so only they can run.
      if (impl_->leases != nullptr && !impl_->connections[found->second].config->schedule.enabled)
        return config_error("connection '" + name +
                            "' is disabled (schedule enabled = false): with a shared store only "
                            "enabled connections are leased and run");
    }
  }
  // Through the store: whichever host holds a connection's lease runs it (one already running
  // read its source before this request: it runs again once it ends).
  Result<std::vector<std::string>> ids = impl_->request_runs(names, "");
  if (!ids)
    return ids.error();
  const std::vector<std::string> not_run = impl_->wait_for_runs(*ids, kRunRequestWait);
  {
    const std::lock_guard lock(impl_->mutex);
    if (impl_->stopping)
      return source_error("the daemon is stopping");
  }
  if (!not_run.empty()) {
    std::string list;
    for (const std::string& name : not_run)
      list += (list.empty() ? "'" : ", '") + name + "'";
    return source_error("no host ran " + list + " within " +
                        std::to_string(kRunRequestWait.count() / 60'000) +
                        " min of the request (is a host holding their leases running?)");
  }
  return {};
}

std::string verify_json(const store::JobRecord& job) {
  core::JsonWriter json;
  json.begin_object()
      .key("jobId")
      .value(job.id)
      .key("status")
      .value(job.state == store::JobState::running     ? "running"
             : job.state == store::JobState::completed ? "completed"
                                                       : "failed")
      .key("startedAt")
      .value(jobs::utc_text(job.started));
  if (job.finished == TimePoint{})
    json.key("completedAt").null();
  else
    json.key("completedAt").value(jobs::utc_text(job.finished));
  if (!job.message.empty())
    json.key("message").value(job.message);
  json.key("connections").raw(job.result_json.empty() ? "[]" : job.result_json).end_object();
  return json.take();
}

} // namespace billdrop::service
