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
#include <string_view>
#include <vector>

namespace billdrop::azure {

struct JoinKey {
  std::uint64_t high = 0;
  std::uint64_t low = 0;
  friend auto operator<=>(const JoinKey&, const JoinKey&) = default;
};

// Hashes key parts, text compared ignoring ASCII case; each part is ended by a separator so that
// ("ab", "c") and ("a", "bc") differ.
class JoinKeyBuilder {
public:
  void add(std::string_view text) noexcept;
  void add(std::int64_t number) noexcept;
  // A number by value: 8 and 8.00 give the same key.
  void add(const Decimal& number);
  JoinKey key() const noexcept { return {a_, b_}; }

private:
  void byte(unsigned char c) noexcept;
  std::uint64_t a_ = 0xcbf29ce484222325ULL; // FNV-1a offset basis
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
