#pragma once
// Tags as CBF `resource/tag:<key>` columns, shared by every plugin so that all of them rewrite
// keys the same way.
//
// CBF allows only letters, digits and `_ . : / = + - @` in a tag key. Provider keys often hold
// more (spaces, `#`, accented letters, emoji). The rule, applied by rewrite_tag_key(), is:
//   1. every character outside the allowed set (a whole UTF-8 sequence counts as one character,
//      and so does a byte that is not valid UTF-8) becomes one `_`;
//   2. an empty key becomes `_`.
// It is deterministic and keeps the key readable ("Cost Center" -> "Cost_Center"). When two keys
// of one row rewrite to the same key ("a b" and "a_b"), the later one gets a suffix `_2`, `_3`, ...
// so that no value is lost. TagColumns reports every rewrite through RowSink::note().
//
// Rows with tags need a `resource/id`. synthetic_resource_id() builds a stable one from the
// dimensions that identify the charge, for sources whose rows carry none.

#include <billdrop/source_plugin.hpp>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <unordered_map>
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

// A stable resource id for rows that have tags but no resource id: "<type>/synthetic-<16 hex>",
// the hex being the 64-bit FNV-1a hash of `parts` (separated by a unit separator, so ("ab","c")
// and ("a","bc") differ). Same parts, same id, on every machine and every run. `type` should
// say what the resource is, e.g. the service ("AmazonS3") or "gcp-project".
std::string synthetic_resource_id(std::string_view type,
                                  std::initializer_list<std::string_view> parts);
std::string synthetic_resource_id(std::string_view type,
                                  const std::vector<std::string_view>& parts);

// Collects one row's tags and writes them as `resource/tag:<key>` fields. Source keys are
// rewritten once and cached, so a plugin can call add() for every tag of every row cheaply.
//
//   TagColumns tags;                       // one per read, reused for every row
//   tags.clear();
//   tags.add("user:Cost Center", "42");    // empty values are skipped
//   if (!tags.empty() && resource_id.empty()) resource_id = synthetic_resource_id(...);
//   tags.write(sink);                      // inside begin_row()/end_row()
class TagColumns {
public:
  // `note_prefix` starts the RowSink::note() key of a rewrite, e.g. "tag key rewritten".
  explicit TagColumns(std::string note_prefix = "tag key rewritten")
      : prefix_(std::move(note_prefix)) {}

  void clear() noexcept {
    row_.clear();
    values_.clear();
  }
  bool empty() const noexcept { return row_.empty(); }
  std::size_t size() const noexcept { return row_.size(); }

  // Adds a tag from the source. Empty values are skipped (an empty tag carries nothing).
  void add(std::string_view source_key, std::string_view value);

  // Writes the row's tags as fields and reports rewrites and collisions with sink.note().
  void write(RowSink& sink);

  // The CBF column ("resource/tag:<key>") a source key maps to.
  const std::string& column_for(std::string_view source_key);

private:
  struct Entry {
    std::string column; // "resource/tag:<rewritten key>"
    bool rewritten = false;
    std::string note; // note key when rewritten
  };
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const noexcept {
      return std::hash<std::string_view>{}(text);
    }
  };
  struct Pending {
    const Entry* entry;
    std::size_t offset; // of the value in values_
    std::size_t size;
  };
  const Entry& entry_for(std::string_view source_key);

  std::string prefix_;
  std::unordered_map<std::string, Entry, Hash, std::equal_to<>> cache_;
  std::vector<Pending> row_;
  std::string values_;            // copies of this row's values, back to back
  std::vector<std::string> used_; // columns written for the current row (collision check)
};

} // namespace billdrop
