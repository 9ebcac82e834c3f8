#pragma once
// Where the fields the mapping uses sit in an NDJSON record, shared by the two NDJSON readers
// (export_file.cpp's simdjson decoder and plain_record_scanner.cpp).

#include "billing_record.hpp"
#include "export_file.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace billdrop::gcp {

// Only these fields are decoded in Decode::routing.
inline bool is_routing_field(Field field) noexcept {
  return field == Field::usage_start_time || field == Field::invoice_month;
}

// Where the fields the mapping uses sit in an NDJSON record: a top-level key names a scalar field
// ("cost"), a repeated field ("credits") or a nested record of interest ("service"), whose own
// keys name scalar fields ("description" is service.description) or repeated fields
// ("project" → "labels"). Built once from the dotted names, so that a key costs one hash of its
// length and end characters and one comparison instead of building "service.description" and
// searching for it.
class KeyTable {
public:
  enum class Kind : std::uint8_t { none, scalar, list, record };
  struct Slot {
    Kind kind = Kind::none;
    std::uint8_t index = 0; // a Field, a ListField or a record number
  };

  explicit KeyTable(Decode decode) {
    for (std::size_t i = 0; i < field_count; ++i) {
      const auto field = static_cast<Field>(i);
      if (decode == Decode::routing && !is_routing_field(field))
        continue;
      add(field_name(field), Kind::scalar, static_cast<std::uint8_t>(i));
    }
    if (decode == Decode::full)
      for (std::uint8_t i = 0; i <= static_cast<std::uint8_t>(ListField::credits); ++i)
        add(list_field_name(static_cast<ListField>(i)), Kind::list, i);
    top_table_.build(top_);
    for (std::size_t i = 0; i < records_; ++i)
      child_tables_[i].build(children_[i]);
  }

  Slot top(std::string_view key) const noexcept { return top_table_.find(key); }
  Slot child(std::uint8_t record, std::string_view key) const noexcept {
    return child_tables_[record].find(key);
  }
  // The same for a key followed by at least 16 readable bytes (a key in a padded buffer), which
  // is compared in one vector step instead of a call to memcmp.
  Slot top_padded(std::string_view key) const noexcept { return top_table_.find_padded(key); }
  Slot child_padded(std::uint8_t record, std::string_view key) const noexcept {
    return child_tables_[record].find_padded(key);
  }

private:
  struct Entry {
    std::string_view key;
    Slot slot;
  };
  static constexpr std::size_t max_records = 16;

  static Slot find(const std::vector<Entry>& entries, std::string_view key) noexcept {
    for (const Entry& entry : entries)
      if (entry.key.size() == key.size() && entry.key == key)
        return entry.slot;
    return {};
  }

  // The entries of one object by a multiplicative hash of a key's length and first and last
  // characters, with a multiplier chosen so that no two entries share a bucket: every key costs
  // one bucket and one comparison. Keys no multiplier tells apart are searched in turn.
  class Hashed {
  public:
    void build(const std::vector<Entry>& entries) {
      entries_ = entries;
      for (std::uint32_t seed = 0x9E3779B1u, tries = 0; tries < 4096; seed += 2, ++tries) {
        buckets_.fill(Entry{});
        bool apart = true;
        for (const Entry& entry : entries) {
          const std::size_t at = index(entry.key, seed);
          apart = apart && buckets_[at].key.empty() && !entry.key.empty();
          buckets_[at] = entry;
          prefixes_[at].fill(0);
          std::memcpy(prefixes_[at].data(), entry.key.data(),
                      std::min(entry.key.size(), std::size_t{16}));
        }
        if (apart) {
          seed_ = seed;
          return;
        }
      }
      seed_ = 0;
    }
    Slot find(std::string_view key) const noexcept {
      if (seed_ == 0)
        return KeyTable::find(entries_, key);
      if (key.empty())
        return {};
      const Entry& entry = buckets_[index(key, seed_)];
      if (entry.key.size() == key.size() && entry.key == key)
        return entry.slot;
      return {};
    }
    Slot find_padded(std::string_view key) const noexcept {
#if defined(__SSE2__)
      if (seed_ == 0 || key.empty() || key.size() > 16)
        return find(key);
      const std::size_t at = index(key, seed_);
      const Entry& entry = buckets_[at];
      if (entry.key.size() != key.size())
        return {};
      const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(key.data()));
      const __m128i wanted = _mm_load_si128(reinterpret_cast<const __m128i*>(prefixes_[at].data()));
      const unsigned equal =
          static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(bytes, wanted)));
      const unsigned needed = (1u << key.size()) - 1;
      return (equal & needed) == needed ? entry.slot : Slot{};
#else
      return find(key);
#endif
    }

  private:
    static constexpr unsigned bucket_bits = 6;
    static std::size_t index(std::string_view key, std::uint32_t seed) noexcept {
      const std::size_t n = key.size();
      const std::uint32_t mix =
          n == 0 ? 0
                 : static_cast<std::uint32_t>(static_cast<unsigned char>(key[0]) |
                                              static_cast<unsigned char>(key[n - 1]) << 8 |
                                              (n & 0xFF) << 16);
      return (mix * seed) >> (32 - bucket_bits);
    }
    std::array<Entry, std::size_t{1} << bucket_bits> buckets_{};
    // Each bucket's key's first 16 bytes, zero-padded.
    alignas(16) std::array<std::array<char, 16>, std::size_t{1} << bucket_bits> prefixes_{};
    std::vector<Entry> entries_;
    std::uint32_t seed_ = 0;
  };

  void add(std::string_view dotted, Kind kind, std::uint8_t index) {
    const std::size_t dot = dotted.find('.');
    if (dot == std::string_view::npos) {
      top_.push_back({dotted, {kind, index}});
      return;
    }
    const std::string_view parent = dotted.substr(0, dot);
    Slot record = find(top_, parent);
    if (record.kind != Kind::record) {
      record = {Kind::record, static_cast<std::uint8_t>(records_++)};
      top_.push_back({parent, record});
    }
    children_[record.index].push_back({dotted.substr(dot + 1), {kind, index}});
  }

  std::vector<Entry> top_;
  std::array<std::vector<Entry>, max_records> children_;
  std::size_t records_ = 0;
  Hashed top_table_;
  std::array<Hashed, max_records> child_tables_;
};

inline const KeyTable& key_table(Decode decode) {
  static const KeyTable routing(Decode::routing);
  static const KeyTable full(Decode::full);
  return decode == Decode::routing ? routing : full;
}

} // namespace billdrop::gcp
