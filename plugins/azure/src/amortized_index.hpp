#pragma once
// The amortized export's rows of one month, by join key, for matching actual rows against.
//
// An entry is 64 bytes (a 128-bit key hash, the row's ordinal, its cost) plus a 4-byte cursor,
// so 1,000,000 amortized rows in one month take about 68 MB. Keys are hashed, not stored: a
// collision (about 1 in 10^19 for a million rows) could only move an amortized figure to another
// row, never change a total, because each amortized row lands exactly once either way.

#include <billdrop/decimal.hpp>

#include <compare>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace billdrop::azure {

struct JoinKey {
  std::uint64_t high = 0;
  std::uint64_t low = 0;
  friend auto operator<=>(const JoinKey&, const JoinKey&) = default;
};

// Hashes key parts, text compared ignoring ASCII case, eight bytes at a time into two 64-bit
// lanes; each part ends with its length and kind, so that ("ab", "c") and ("a", "bc") differ.
// The hash lives only as long as one read: it is free to change.
class JoinKeyBuilder {
public:
  void add(std::string_view text) noexcept;
  void add(std::int64_t number) noexcept;
  // A number by value: 8 and 8.00 give the same key.
  void add(const Decimal& number);
  JoinKey key() const noexcept { return {a_, b_}; }

private:
  void mix(std::uint64_t word) noexcept {
    a_ = (a_ ^ word) * 0x9e3779b97f4a7c15ULL;
    a_ ^= a_ >> 32;
    b_ = (b_ + word) * 0xff51afd7ed558ccdULL;
    b_ ^= b_ >> 29;
  }
  std::uint64_t a_ = 0xcbf29ce484222325ULL;
  std::uint64_t b_ = 0x9e3779b97f4a7c15ULL;
};

class AmortizedIndex {
public:
  void add(JoinKey key, std::uint64_t ordinal, const Decimal& cost);
  // Sorts the entries; `rows` is the number of ordinals handed out (the taken() range).
  void seal(std::uint64_t rows);
  // The cost of the first not yet taken entry with `key` (in file order), marked taken; null
  // when there is none.
  const Decimal* take(JoinKey key);
  bool taken(std::uint64_t ordinal) const noexcept {
    return ordinal < taken_.size() && taken_[ordinal];
  }
  std::size_t size() const noexcept { return entries_.size(); }
  // The largest ordinal of an entry not taken; nullopt when every entry was taken.
  std::optional<std::uint64_t> last_untaken() const noexcept;

private:
  struct Entry {
    JoinKey key;
    std::uint64_t ordinal;
    Decimal cost;
  };
  std::vector<Entry> entries_;
  std::vector<std::uint32_t> next_; // at a key's first entry: its next untaken entry
  std::vector<bool> taken_;         // by ordinal
};

} // namespace billdrop::azure
