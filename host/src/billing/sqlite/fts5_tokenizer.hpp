#pragma once
// FTS5's own `unicode61 remove_diacritics 2` tokenizer, the one the billing store's items_fts
// table uses, taken from SQLite through its fts5_api so that the in-memory search index
// (search_index.hpp) splits and folds text exactly as FTS5 does.

#include "billing/search_index.hpp"

#include <billdrop/result.hpp>

namespace billdrop::billing {

Result<Tokenizer> fts5_unicode61_tokenizer();

} // namespace billdrop::billing
