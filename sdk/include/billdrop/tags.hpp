#pragma once
// Tags as CBF `resource/tag:<key>` columns, shared by every plugin so that all of them rewrite
// keys the same way.
//
// CBF allows only letters, digits and `_ . : / = + - @` in a tag key. Provider keys often hold
// more (spaces, `#`, accented letters, emoji). The rule, applied by rewrite_tag_key(), is:
//   1. every character outside the allowed set (a whole UTF-8 sequence counts as one character,
//      and so does a byte that is not valid UTF-8) becomes one `_`;
//   2. an empty key becomes `_`.
// It is deterministic and keeps the key readable ("Cost Center" -> "Cost_Center").
//
// TagColumns gives every source key one CBF key for its whole life (a plugin keeps one per read),
// so a source key never maps to two CBF keys and two source keys never share one:
//   - a key that is valid as it stands is its own CBF key, always;
//   - a rewritten key takes its rewrite, or, when another source key already has that name, the
//     first free of `<rewrite>_2`, `<rewrite>_3`, ...; then it keeps that name;
//   - keys known before the first row (a CSV header's tag columns) are named together by
//     declare(): the valid keys first, then the rewritten ones in byte order of their source
//     keys, so the names do not depend on column order or on which rows hold values;
//   - the one exception: a valid key first seen after a rewritten key took its name (a key of a
//     map cell, unknown until then) still gets its own name, and the rewritten key moves to its
//     next free suffix from that row on, noted in the run report. Declaring every known key
//     up front avoids it.
// A source key given twice in one row keeps its first value (CBF allows one value per key); a
// different second value is noted. Every rewrite is reported through RowSink::note().
//
// Rows with tags need a `resource/id`. synthetic_resource_id() builds a stable one from the
// dimensions that identify the charge, for sources whose rows carry none; the overload taking
// the row's TagColumns also hashes its tags, so that two charges that differ only in a tag value
// never claim to be one resource with two values for one key.

#include <billdrop/source_plugin.hpp>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace billdrop {

constexpr bool is_tag_key_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == ':' || c == '/' || c == '=' || c == '+' || c == '-' || c == '@';
}

// Whether `key` (without the "resource/tag:" prefix) is a valid CBF tag key as it stands.
bool is_valid_tag_key(std::string_view key) noexcept;

// Applies the rewrite rule above; returns `key` unchanged when it is already valid.
std::string rewrite_tag_key(std::string_view key);

// Collects one row's tags and writes them as `resource/tag:<key>` fields. Source keys are named
// once (the rule above) and cached, so a plugin can call add() for every tag of every row
// cheaply.
//
//   TagColumns tags;                       // one per read, reused for every row
//   tags.declare(header_tag_keys);         // optional: the keys known before the first row
//   tags.clear();
//   tags.add("user:Cost Center", "42");    // empty values are skipped
//   if (!tags.empty() && resource_id.empty())
//     resource_id = synthetic_resource_id(service, {account, usage_type}, tags);
//   tags.write(sink);                      // inside begin_row()/end_row()
class TagColumns {
  struct Entry;

public:
  // A source key already looked up, for a plugin that adds the same keys row after row (a CSV
  // header's tag columns): add() by handle skips hashing the key every row. Valid for the life of
  // the TagColumns that gave it.
  class Key {
  public:
    Key() = default;

  private:
    friend class TagColumns;
    explicit Key(Entry* entry) : entry_(entry) {}
    Entry* entry_ = nullptr;
  };

  // `note_prefix` starts the RowSink::note() key of a rewrite, e.g. "tag key rewritten".
  explicit TagColumns(std::string note_prefix = "tag key rewritten")
      : prefix_(std::move(note_prefix)) {}
  // Entries point into the caches: moving keeps them (the nodes move), copying would not.
  TagColumns(TagColumns&&) = default;
  TagColumns& operator=(TagColumns&&) = default;
  TagColumns(const TagColumns&) = delete;
  TagColumns& operator=(const TagColumns&) = delete;

  // Names the CBF keys of source keys known before any row, deterministically (see above).
  // Keys already named keep their names; it may be called again (e.g. for each file's header).
  void declare(std::span<const std::string_view> source_keys);
  void declare(std::span<const std::string> source_keys);

  void clear() noexcept {
    row_.clear();
    values_.clear();
    repeated_.clear();
    ++row_stamp_;
  }
  bool empty() const noexcept { return row_.empty(); }
  std::size_t size() const noexcept { return row_.size(); }

  // Adds a tag from the source. Empty values are skipped (an empty tag carries nothing); a key
  // already added to this row keeps its first value.
  void add(std::string_view source_key, std::string_view value);
  // The same for a key looked up with key().
  void add(Key key, std::string_view value) {
    if (!value.empty())
      add_to_row(*key.entry_, value);
  }
  // The handle of a source key (naming it if it is new).
  Key key(std::string_view source_key) { return Key(&entry_for(source_key)); }

  // Writes the row's tags as fields and reports rewrites with sink.note().
  void write(RowSink& sink);

  // The CBF column ("resource/tag:<key>") a source key maps to (naming it if it is new).
  const std::string& column_for(std::string_view source_key);

  // This row's tags as (source key, value), sorted by source key. Valid until the next add() or
  // clear(); the order of write() is unchanged.
  std::span<const std::pair<std::string_view, std::string_view>> sorted() const;

private:
  struct Entry {
    std::string_view source; // the cache's key
    std::string column;      // "resource/tag:<CBF key>"
    std::string note;        // the rewrite's note key; empty when the key is its own name
    std::string repeat_note; // built the first time the key repeats within a row
    std::uint64_t stamp = 0; // the row it was last added to
  };
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const noexcept {
      return std::hash<std::string_view>{}(text);
    }
  };
  struct Pending {
    Entry* entry;
    std::size_t offset; // of the value in values_
    std::size_t size;
  };
  template <class Text>
  void declare_keys(std::span<const Text> source_keys);
  Entry& entry_for(std::string_view source_key);
  void add_to_row(Entry& entry, std::string_view value);
  Entry& create(std::string_view source_key);
  // Gives `entry` (a rewritten key) its rewrite or the first free suffix of it.
  void name_rewritten(Entry& entry);
  std::string_view value_of(const Pending& tag) const noexcept {
    return std::string_view(values_.data() + tag.offset, tag.size);
  }

  std::string prefix_;
  std::unordered_map<std::string, Entry, Hash, std::equal_to<>> cache_;  // by source key
  std::unordered_map<std::string, Entry*, Hash, std::equal_to<>> owner_; // by CBF key
  std::vector<Pending> row_;
  std::string values_;                       // copies of this row's values, back to back
  std::vector<const std::string*> repeated_; // notes of keys repeated in this row
  std::vector<std::string> moved_;           // notes of renames forced by a late valid key
  std::uint64_t row_stamp_ = 1;
  mutable std::vector<std::pair<std::string_view, std::string_view>> sorted_;
};

// The tags of distinct tag cells (a Tags column holding a JSON object, say), each parsed once.
// Exports repeat a limited number of tag sets over millions of rows, so most rows copy the tags
// of a cell seen before instead of parsing it and hashing each key. At most `limit` cells are
// kept; the cache empties when it is full, so memory stays bounded whatever the export holds.
// It keeps TagColumns key handles, so one cache serves one TagColumns (keep them side by side).
//
//   TagCellCache cells;                      // beside the read's TagColumns
//   tags.clear();
//   if (!cells.add(row.tags_cell, tags, [&](std::string_view cell, TagCellCache::Pairs& out) {
//         return parse_my_tags(cell, out);   // false: the cell is malformed
//       }))
//     sink.note("Tags cell is not a JSON object (row kept without tags)");
class TagCellCache {
public:
  using Pairs = std::vector<std::pair<std::string, std::string>>;

  explicit TagCellCache(std::size_t limit = 4096) : limit_(limit == 0 ? 1 : limit) {}

  // Adds the tags of `cell` to `tags`. `parse(cell, pairs)` fills (source key, value) pairs and
  // returns false for a malformed cell; it runs once per distinct cell. Returns false (adding
  // nothing) when the cell is malformed. Empty values are dropped, as TagColumns::add does.
  template <class Parse>
  bool add(std::string_view cell, TagColumns& tags, Parse&& parse) {
    auto it = cells_.find(cell);
    if (it == cells_.end()) {
      if (cells_.size() >= limit_)
        cells_.clear();
      it = cells_.emplace(std::string(cell), Parsed{}).first;
      Parsed& parsed = it->second;
      pairs_.clear();
      parsed.valid = parse(cell, pairs_);
      if (parsed.valid)
        for (auto& [key, value] : pairs_)
          if (!value.empty()) // an empty tag carries nothing: its key is not named
            parsed.tags.emplace_back(tags.key(key), std::move(value));
    }
    if (!it->second.valid)
      return false;
    for (const auto& [key, value] : it->second.tags)
      tags.add(key, value);
    return true;
  }

  std::size_t size() const noexcept { return cells_.size(); }

private:
  struct Parsed {
    bool valid = false;
    std::vector<std::pair<TagColumns::Key, std::string>> tags;
  };
  struct TextHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const noexcept {
      return std::hash<std::string_view>{}(text);
    }
  };
  std::size_t limit_;
  std::unordered_map<std::string, Parsed, TextHash, std::equal_to<>> cells_;
  Pairs pairs_; // the cell being parsed
};

// A stable resource id for rows that have tags but no resource id: "<type>/synthetic-<16 hex>",
// the hex being the 64-bit FNV-1a hash of `parts` (separated by a unit separator, so ("ab","c")
// and ("a","bc") differ). Same parts, same id, on every machine and every run. `type` should
// say what the resource is, e.g. the service ("AmazonS3") or "gcp-project".
std::string synthetic_resource_id(std::string_view type,
                                  std::initializer_list<std::string_view> parts);
std::string synthetic_resource_id(std::string_view type,
                                  const std::vector<std::string_view>& parts);

// The same, with the row's tags hashed after `parts`: each (source key, value) pair in order of
// source key, so the order in which the source lists them does not matter. Use it for every
// tagged row without a resource id: rows that differ only in a tag value get different ids.
// The first form reuses `out`'s storage (no allocation once warm).
void synthetic_resource_id(std::string& out, std::string_view type,
                           std::initializer_list<std::string_view> parts, const TagColumns& tags);
std::string synthetic_resource_id(std::string_view type,
                                  std::initializer_list<std::string_view> parts,
                                  const TagColumns& tags);

} // namespace billdrop
