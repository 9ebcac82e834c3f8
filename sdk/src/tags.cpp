#include <billdrop/tags.hpp>

#include <algorithm>
#include <cstdio>

namespace billdrop {
namespace {

// Length of the UTF-8 sequence starting at text[i], or 1 for a byte that does not start a
// well-formed sequence (so that every invalid byte becomes its own `_`).
std::size_t sequence_length(std::string_view text, std::size_t i) noexcept {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  std::size_t length = 1;
  if (lead >= 0xC2 && lead <= 0xDF)
    length = 2;
  else if (lead >= 0xE0 && lead <= 0xEF)
    length = 3;
  else if (lead >= 0xF0 && lead <= 0xF4)
    length = 4;
  else
    return 1;
  if (i + length > text.size())
    return 1;
  for (std::size_t k = 1; k < length; ++k)
    if ((byte(i + k) & 0xC0) != 0x80)
      return 1;
  return length;
}

std::uint64_t fnv1a(std::uint64_t hash, std::string_view text) noexcept {
  for (const char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

constexpr std::uint64_t fnv_offset_basis = 0xcbf29ce484222325ULL;

template <class Parts>
std::uint64_t hash_parts(const Parts& parts) noexcept {
  std::uint64_t hash = fnv_offset_basis;
  bool first = true;
  for (std::string_view part : parts) {
    if (!first)
      hash = fnv1a(hash, "\x1f");
    first = false;
    hash = fnv1a(hash, part);
  }
  return hash;
}

void write_id(std::string& out, std::string_view type, std::uint64_t hash) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(hash));
  out.clear();
  out.append(type.empty() ? std::string_view("resource") : type);
  out.append("/synthetic-");
  out.append(hex, 16);
}

constexpr std::string_view column_prefix = "resource/tag:";

} // namespace

bool is_valid_tag_key(std::string_view key) noexcept {
  return !key.empty() && std::all_of(key.begin(), key.end(), is_tag_key_char);
}

std::string rewrite_tag_key(std::string_view key) {
  if (key.empty())
    return "_";
  std::string out;
  out.reserve(key.size());
  for (std::size_t i = 0; i < key.size();) {
    if (is_tag_key_char(key[i])) {
      out += key[i];
      ++i;
    } else {
      out += '_';
      i += sequence_length(key, i);
    }
  }
  return out;
}

std::string synthetic_resource_id(std::string_view type,
                                  std::initializer_list<std::string_view> parts) {
  std::string id;
  write_id(id, type, hash_parts(parts));
  return id;
}

std::string synthetic_resource_id(std::string_view type,
                                  const std::vector<std::string_view>& parts) {
  std::string id;
  write_id(id, type, hash_parts(parts));
  return id;
}

void synthetic_resource_id(std::string& out, std::string_view type,
                           std::initializer_list<std::string_view> parts, const TagColumns& tags) {
  std::uint64_t hash = hash_parts(parts);
  for (const auto& [key, value] : tags.sorted()) {
    hash = fnv1a(hash, "\x1e");
    hash = fnv1a(hash, key);
    hash = fnv1a(hash, "\x1f");
    hash = fnv1a(hash, value);
  }
  write_id(out, type, hash);
}

std::string synthetic_resource_id(std::string_view type,
                                  std::initializer_list<std::string_view> parts,
                                  const TagColumns& tags) {
  std::string id;
  synthetic_resource_id(id, type, parts, tags);
  return id;
}

void TagColumns::name_rewritten(Entry& entry) {
  const std::string base = rewrite_tag_key(entry.source);
  std::string key = base;
  for (std::size_t n = 2; owner_.find(key) != owner_.end(); ++n)
    key = base + "_" + std::to_string(n);
  owner_.emplace(key, &entry);
  entry.column.assign(column_prefix);
  entry.column += key;
  entry.note = prefix_ + ": '" + std::string(entry.source) + "' -> '" + key + "'";
  if (key != base)
    entry.note += " ('" + base + "' is another key's)";
}

TagColumns::Entry& TagColumns::create(std::string_view source_key) {
  const auto created = cache_.try_emplace(std::string(source_key)).first;
  Entry& entry = created->second;
  entry.source = created->first;
  if (!is_valid_tag_key(source_key)) {
    name_rewritten(entry);
    return entry;
  }
  entry.column.assign(column_prefix);
  entry.column += source_key;
  const auto owner = owner_.find(source_key);
  if (owner == owner_.end()) {
    owner_.emplace(std::string(source_key), &entry);
    return entry;
  }
  // A rewritten key took this name before the valid key was known (a key of a map cell): a
  // valid key is never renamed, so the rewritten one moves to its next free suffix.
  Entry& previous = *owner->second;
  owner->second = &entry;
  name_rewritten(previous);
  moved_.push_back(prefix_ + ": '" + std::string(previous.source) + "' -> '" +
                   previous.column.substr(column_prefix.size()) +
                   "' from here on: the valid key '" + std::string(source_key) +
                   "' appeared after it had been named");
  return entry;
}

TagColumns::Entry& TagColumns::entry_for(std::string_view source_key) {
  const auto it = cache_.find(source_key);
  return it != cache_.end() ? it->second : create(source_key);
}

template <class Text>
void TagColumns::declare_keys(std::span<const Text> source_keys) {
  std::vector<std::string_view> fresh;
  for (const Text& key : source_keys)
    if (cache_.find(std::string_view(key)) == cache_.end())
      fresh.emplace_back(key);
  std::sort(fresh.begin(), fresh.end());
  fresh.erase(std::unique(fresh.begin(), fresh.end()), fresh.end());
  // Valid keys first: each is its own name whatever the order, so the rewritten ones (in byte
  // order of their source keys) take their suffixes around them.
  for (const std::string_view key : fresh)
    if (is_valid_tag_key(key))
      create(key);
  for (const std::string_view key : fresh)
    if (!is_valid_tag_key(key))
      create(key);
}

void TagColumns::declare(std::span<const std::string_view> source_keys) {
  declare_keys(source_keys);
}

void TagColumns::declare(std::span<const std::string> source_keys) {
  declare_keys(source_keys);
}

const std::string& TagColumns::column_for(std::string_view source_key) {
  return entry_for(source_key).column;
}

void TagColumns::add(std::string_view source_key, std::string_view value) {
  if (!value.empty())
    add_to_row(entry_for(source_key), value);
}

void TagColumns::add_to_row(Entry& entry, std::string_view value) {
  if (entry.stamp == row_stamp_) {
    // The key is already in this row: CBF allows one value per key, the first one stays.
    for (const Pending& tag : row_) {
      if (tag.entry != &entry)
        continue;
      if (value_of(tag) != value) {
        if (entry.repeat_note.empty())
          entry.repeat_note = "tag '" + std::string(entry.source) +
                              "' given twice in one row with different values: the first kept";
        repeated_.push_back(&entry.repeat_note);
      }
      break;
    }
    return;
  }
  entry.stamp = row_stamp_;
  row_.push_back(Pending{&entry, values_.size(), value.size()});
  values_.append(value);
}

void TagColumns::write(RowSink& sink) {
  for (const std::string* note : repeated_)
    sink.note(*note);
  for (const std::string& note : moved_)
    sink.note(note);
  moved_.clear();
  for (const Pending& tag : row_) {
    if (!tag.entry->note.empty())
      sink.note(tag.entry->note);
    sink.field(tag.entry->column, value_of(tag));
  }
}

std::span<const std::pair<std::string_view, std::string_view>> TagColumns::sorted() const {
  sorted_.clear();
  for (const Pending& tag : row_)
    sorted_.emplace_back(tag.entry->source, value_of(tag));
  std::sort(sorted_.begin(), sorted_.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  return sorted_;
}

} // namespace billdrop
