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

template <class Parts>
std::string synthetic_id(std::string_view type, const Parts& parts) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  bool first = true;
  for (std::string_view part : parts) {
    if (!first)
      hash = fnv1a(hash, "\x1f");
    first = false;
    hash = fnv1a(hash, part);
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(hash));
  std::string id;
  id.reserve(type.size() + 27);
  id.append(type.empty() ? std::string_view("resource") : type);
  id.append("/synthetic-");
  id.append(hex, 16);
  return id;
}

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
  return synthetic_id(type, parts);
}

std::string synthetic_resource_id(std::string_view type,
                                  const std::vector<std::string_view>& parts) {
  return synthetic_id(type, parts);
}

const TagColumns::Entry& TagColumns::entry_for(std::string_view source_key) {
  const auto it = cache_.find(source_key);
  if (it != cache_.end())
    return it->second;
  Entry entry;
  const std::string key = rewrite_tag_key(source_key);
  entry.rewritten = key != source_key;
  entry.column = "resource/tag:" + key;
  if (entry.rewritten)
    entry.note = prefix_ + ": '" + std::string(source_key) + "' -> '" + key + "'";
  return cache_.emplace(std::string(source_key), std::move(entry)).first->second;
}

const std::string& TagColumns::column_for(std::string_view source_key) {
  return entry_for(source_key).column;
}

void TagColumns::add(std::string_view source_key, std::string_view value) {
  if (value.empty())
    return;
  const Entry& entry = entry_for(source_key);
  row_.push_back(Pending{&entry, values_.size(), value.size()});
  values_.append(value);
}

void TagColumns::write(RowSink& sink) {
  const bool any_rewritten = std::any_of(row_.begin(), row_.end(),
                                         [](const Pending& tag) { return tag.entry->rewritten; });
  if (!any_rewritten) { // distinct valid source keys cannot collide: the common, fast path
    for (const Pending& tag : row_)
      sink.field(tag.entry->column, std::string_view(values_.data() + tag.offset, tag.size));
    return;
  }
  used_.clear();
  for (const Pending& tag : row_) {
    if (tag.entry->rewritten)
      sink.note(tag.entry->note);
    std::string column = tag.entry->column;
    const auto taken = [&](const std::string& c) {
      return std::find(used_.begin(), used_.end(), c) != used_.end();
    };
    for (std::size_t n = 2; taken(column); ++n)
      column = tag.entry->column + "_" + std::to_string(n);
    if (column != tag.entry->column)
      sink.note(prefix_ + ": two keys of one row became '" + tag.entry->column.substr(13) +
                "'; the later one was renamed '" + column.substr(13) + "'");
    sink.field(column, std::string_view(values_.data() + tag.offset, tag.size));
    used_.push_back(std::move(column));
  }
}

} // namespace billdrop
