#pragma once
// Delivery: from month snapshots to acknowledged drops. Plans each month (caps checked before
// anything is sent), opens the connection's destination (for `local`, the AnyCost emulator
// embedded in-process over loopback), sends through the shared batching and retry core, records
// every attempt in the sync store, and reports per month what was planned, sent and — for the
// local emulator — what landed.

#include "config/host_config.hpp"
#include "core/cancel.hpp"
#include "emulator/emulator.hpp"
#include "plan/drop_plan.hpp"
#include "send/connection_sender.hpp"
#include "send/destination.hpp"
#include "send/send_journal.hpp"
#include "snapshot/month_snapshot.hpp"

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace billdrop::jobs {

plan::PlanLimits plan_limits(const config::LimitsConfig& limits);
// The retry policy of the [sending] settings (give-up time, initial and largest backoff).
send::RetryPolicy retry_policy(const config::SendingConfig& sending);

// The API key for an anycost destination: from the file when api_key_file is set, else from the
// environment variable api_key_env. The error says where it looked; the key itself is never shown.
Result<std::string> read_api_key(const config::DeliveryConfig& delivery);

// What a month holds at the destination, where the destination can say (the local emulator).
using LandedMonth = send::LandedMonth;

struct OpenDestination {
  std::unique_ptr<emulator::Emulator> local; // running while this lives (local destination)
  std::unique_ptr<send::Destination> destination;
  std::string description; // for output and logs; never a secret

  // What `month` holds for the connection; nullopt where the destination cannot say.
  std::optional<LandedMonth> landed(const std::string& connection_id, Month month) const;
};

// Opens a connection's destination through the registry of destination kinds (one factory per
// config::DestinationKind, in destinations.cpp). `state_dir` holds the local emulator's store.
Result<OpenDestination> open_destination(const config::DeliveryConfig& delivery,
                                         const std::filesystem::path& state_dir,
                                         const config::LimitsConfig& limits);

struct MonthToDeliver {
  snapshot::MonthSummary summary;
  std::uint64_t invalid_rows = 0; // rows of this month that failed validation
  std::string failure;            // non-empty: why the month was not read whole; never sent
};

struct MonthDelivery {
  Month month;
  std::uint64_t rows = 0;
  Decimal cost;
  std::optional<plan::DropPlan> plan;
  std::string problem; // why it was not sent or not synced ("" when synced)
  bool synced = false;
  std::uint32_t attempts = 0;
  std::optional<LandedMonth> landed; // what the destination holds, where it can say
  bool cancelled = false;            // a stop request ended the send: resumable, not failed
};

struct DeliveryOptions {
  plan::PlanLimits limits;
  bool allow_rollup = false;
  // Off: a month with invalid rows or unplaced records (summary.unplaced_records) is not sent,
  // it would be short.
  bool send_months_with_invalid_rows = false;
  send::RetryPolicy retry;
  std::size_t parallel_connections = 8; // connections sending at once (one request in flight each)
  std::function<void(const send::Attempt&)> on_attempt; // progress and logs
  const core::CancelToken* cancel = nullptr;            // a stop request (may be null)
};

// Plans one month, or says why it is not sent (a failed read, invalid rows, a month cap).
MonthDelivery plan_delivery(const MonthToDeliver& month, bool allow_rollup,
                            const DeliveryOptions& options);

struct ConnectionToDeliver {
  std::string connection_id;
  std::vector<MonthToDeliver> months;
  OpenDestination* destination = nullptr; // several connections may share one
  bool allow_rollup = false;              // the connection's own setting, or'ed with the options'
};

// Plans every connection's months, then sends them all through one scheduler run: one request in
// flight per connection, up to options.parallel_connections connections at once. One result list
// per connection, in order; never throws for a failed month (its `problem` says why).
// `journal` records every send (null: recorded nowhere, with random idempotency keys per send).
std::vector<std::vector<MonthDelivery>>
deliver_all(const std::vector<ConnectionToDeliver>& connections, const DeliveryOptions& options,
            send::SendJournal* journal);

// deliver_all for one connection.
std::vector<MonthDelivery> deliver(const std::string& connection_id,
                                   const std::vector<MonthToDeliver>& months,
                                   OpenDestination& destination, const DeliveryOptions& options,
                                   send::SendJournal* journal);

} // namespace billdrop::jobs
