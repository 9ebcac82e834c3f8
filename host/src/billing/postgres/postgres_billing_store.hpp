#pragma once
// The PostgreSQL BillingStore: the Billing API's items, categories and sync jobs in the database
// `[store] kind = "postgres"` names, shared by every host, so any host answers for all.
//
// - Tables `billing_*`, beside the sync store's, with their own schema version
//   (`billdrop_billing_schema`) and migrations; concurrent first starts from several hosts are
//   safe (the version table is locked while one host migrates; a host that loses the race to
//   create it retries).
// - Every write is one SERIALIZABLE transaction, run again (a few times, with a short backoff)
//   when PostgreSQL aborts it for a concurrent write: writes from several hosts behave as if made
//   one after the other, as on SQLite; nothing is lost, a providerRef stays unique (a unique
//   index; sync items are upserted with INSERT … ON CONFLICT).
// - Search: a tsvector per item (GIN index) built from the same tokens the SQLite store's FTS5
//   index holds (search_words.hpp), and a tsquery of every query word as a prefix: the same
//   matches; ranked by ts_rank instead of bm25, so the order of near-equal matches may differ.
// - generation(): the sum of per-instance write counters kept in the database, bumped inside each
//   write transaction, so another host's write changes it too.
// One libpq connection behind a mutex.

#include "billing/billing_store.hpp"

#include <billdrop/result.hpp>

#include <memory>
#include <string>

namespace billdrop::billing {

inline constexpr int kPostgresBillingSchemaVersion = 1;

Result<std::unique_ptr<BillingStore>> open_postgres_billing_store(const std::string& url);

// Brings the billing tables of the database `url` to kPostgresBillingSchemaVersion; returns the
// version found (0: none yet).
Result<int> migrate_postgres_billing_store(const std::string& url);

} // namespace billdrop::billing
