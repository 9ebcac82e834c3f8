#pragma once
// A BillingStore that answers reports (report_index.hpp) and searches (search_index.hpp) from
// memory, and everything else from the store it wraps. Every write goes to the wrapped store first,
// then to the index, under one lock, so the index never shows an item the store does not hold. Only
// for a store no other process writes to (the SQLite file of one `serve`): a shared PostgreSQL
// store changes under another host's writes, which this index would not see.

#include "billing/billing_store.hpp"
#include "billing/search_index.hpp"

#include <memory>

namespace billdrop::billing {

// Reads every item of `inner` into memory once (100,000 items take about a second). `tokenize`
// must split text as the wrapped store's full-text search does.
std::unique_ptr<BillingStore> with_memory_indexes(std::unique_ptr<BillingStore> inner,
                                                  Tokenizer tokenize);

} // namespace billdrop::billing
