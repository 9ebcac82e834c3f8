#pragma once
// How both billing stores read a search and the text they index, so that they match alike: the
// SQLite store hands the words to FTS5; the PostgreSQL store cuts and folds text with the same
// tokenizer (FTS5's unicode61, in-process) and builds its tsvector and tsquery from the tokens.

#include <string>
#include <string_view>
#include <vector>

namespace billdrop::billing {

// The words of a search `q`: runs of ASCII letters and digits and of non-ASCII bytes (FTS5's
// unicode61 tokenizer reads those as letters unless they are punctuation); everything else
// separates words, so no word is read as an operator. Each word must match, as a prefix.
std::vector<std::string> search_words(std::string_view q);

// `text` cut into tokens and folded as FTS5's unicode61 tokenizer with `remove_diacritics 2`
// does it (the SQLite store's index): case folded, diacritics removed, Unicode punctuation and
// spaces separate. Safe to call from several threads.
std::vector<std::string> unicode61_tokens(std::string_view text);

} // namespace billdrop::billing
