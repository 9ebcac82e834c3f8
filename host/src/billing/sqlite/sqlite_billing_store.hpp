#pragma once
// The SQLite BillingStore: `billing.db` in the state directory, beside the sync store's file
// rather than in it, so that each keeps its own schema version (PRAGMA user_version is one per
// file) and its own write lock (an API write never waits on a sender's journal write, nor a
// sender on a report). WAL mode; one connection behind a mutex; FTS5 for search.

#include "billing/billing_store.hpp"

#include <billdrop/result.hpp>

#include <filesystem>
#include <memory>

namespace billdrop::billing {

Result<std::unique_ptr<BillingStore>> open_sqlite_billing_store(const std::filesystem::path& file);

} // namespace billdrop::billing
