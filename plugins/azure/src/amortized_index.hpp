#pragma once
// The amortized export's rows of one month, by join key, for matching actual rows against.
//
// Rows are kept in file order (their cost, ordinal and the next row of the same key: 56 bytes,
// in chunks)
// and found through an open-addressing table of keys (24 bytes a slot, at most three quarters
// full), so that matching an actual row costs one probe of the table, not a binary search over
// every row: 1,000,000 amortized rows with distinct keys in one month take about 56 + 50 MB.
// Keys are hashed, not stored: a collision (about 1 in 10^19 for a million rows) could only move
// an amortized figure to another row, never change a total, because each amortized row lands
// exactly once either way.

#include <billdrop/decimal.hpp>

#include <compare>
#include <cstdint>
#include <memory>
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
  // Adds a row; rows come in file order (ascending ordinals).
  void add(JoinKey key, std::uint64_t ordinal, const Decimal& cost);
  // Ends the adding; `rows` is the number of ordinals handed out (the taken() range).
  void seal(std::uint64_t rows);
  // The cost of the first not yet taken row with `key` (in file order), marked taken; null when
  // there is none.
  const Decimal* take(JoinKey key);
  bool taken(std::uint64_t ordinal) const noexcept {
    return ordinal < taken_.size() && taken_[ordinal];
  }
  std::size_t size() const noexcept { return count_; }
  // The largest ordinal of a row not taken; nullopt when every row was taken.
  std::optional<std::uint64_t> last_untaken() const noexcept;

private:
  static constexpr std::uint32_t none = UINT32_MAX;
  struct Entry {
    Decimal cost;
    std::uint64_t ordinal;
    std::uint32_t next; // the next row with the same key, or none
  };
  struct Slot {
    JoinKey key;
    std::uint32_t head = none; // the key's first untaken row; none: no row left (or empty slot)
    std::uint32_t tail = none; // the key's last row; none: an empty slot
  };
  // Rows are stored in chunks of this many, so that growing never copies them (nor holds two
  // copies at once).
  static constexpr unsigned chunk_bits = 16;
  Entry& entry(std::uint32_t i) noexcept {
    return chunks_[i >> chunk_bits][i & ((1u << chunk_bits) - 1)];
  }
  const Entry& entry(std::uint32_t i) const noexcept {
    return chunks_[i >> chunk_bits][i & ((1u << chunk_bits) - 1)];
  }
  // The slot holding `key`, or the empty slot where it goes.
  Slot& slot_for(JoinKey key) noexcept;
  void grow();

  std::vector<std::unique_ptr<Entry[]>> chunks_;
  std::uint32_t count_ = 0; // rows added
  std::vector<Slot> slots_; // a power of two of them
  std::size_t keys_ = 0;    // slots in use
  std::vector<bool> taken_; // by ordinal
};

} // namespace billdrop::azure
