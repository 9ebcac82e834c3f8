#pragma once
// The Billing API's syncs, run by the daemon: every sync of a connection lands its months as
// sync items (billing/sync_items.hpp), and POST /api/v1/billing/sync runs the syncs of a
// provider's connections (or of one connection) now, then lands the months of the asked range.
//
// A sync reads what the source holds within the connection's backfill/reprocess window; months
// of the asked range that the run did not land but whose snapshots exist (synced earlier) are
// landed from their snapshots, so the job's counts cover the whole range. A job's counts are
// the items created, updated and unchanged by it; its status is `failed` when a connection's
// run failed (its message in `error`), whatever it landed. A connection of the manual plugin
// syncs (its rows are the manual items themselves) but lands no items.

#include "billing/billing_api.hpp"
#include "billing/sync_items.hpp"
#include "service/daemon.hpp"

#include <cstdint>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace billdrop::service {

class BillingSync final : public billing::SyncRunner {
public:
  BillingSync(Daemon& daemon, billing::BillingApi& api);
  ~BillingSync() override; // waits for the jobs in progress (the daemon stops them first)
  BillingSync(const BillingSync&) = delete;
  BillingSync& operator=(const BillingSync&) = delete;

  std::optional<billing::ApiError> start(const billing::SyncRequest& request,
                                         billing::SyncJob job) override;
  std::vector<billing::AdapterInfo> adapters() override;

  // The daemon's listener: lands the months of one connection's sync.
  void landed(const SyncLanded& landed);

private:
  struct LandedMonth {
    std::uint64_t sequence = 0;
    std::string connection;
    Month month;
    billing::LandedCounts counts;
    std::string error;
  };
  void run(std::vector<ConnectionView> connections, billing::SyncJob job);

  Daemon& daemon_;
  billing::BillingApi& api_;
  std::mutex mutex_;
  std::uint64_t sequence_ = 0;
  std::vector<LandedMonth> log_;                 // recent landings, for the jobs waiting on them
  std::map<std::string, std::string> run_error_; // the last run's error per connection
  std::vector<std::thread> jobs_;
};

} // namespace billdrop::service
