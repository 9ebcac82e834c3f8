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

#include <array>
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

// Hashes key parts, text compared ignoring ASCII case: the parts are gathered, text lowered,
// each ending with its length and kind (so that ("ab", "c") and ("a", "bc") differ), and the
// whole is hashed once (XXH3, 128 bits). One builder serves a whole pass: clear() starts the
// next key and keeps the buffer. The hash lives only as long as one read: it is free to change.
class JoinKeyBuilder {
public:
  void clear() noexcept { size_ = 0; }
  void add(std::string_view text);
  void add(std::int64_t number);
  // A number by value: 8 and 8.00 give the same key.
  void add(const Decimal& number);
  JoinKey key() const noexcept;

private:
  // Room for `bytes` more bytes, and 16 bytes of slack after them; where they go.
  char* reserve(std::size_t bytes);
  void add_word(std::uint64_t word);

  std::unique_ptr<char[]> buffer_;
  std::size_t capacity_ = 0;
  std::size_t size_ = 0;
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
  // Links row `index` into the slot of `key`.
  void link(JoinKey key, std::uint32_t index);
  // Links every row still waiting.
  void drain();

  // The slot table is far larger than the caches: add() links each row kPending rows later, its
  // slot prefetched when it came, so that the slot's cache miss overlaps the rows read between.
  // Rows are linked in the order they came, as if at once: rows [linked_, count_) wait, row i's
  // key in pending_keys_[i % kPending].
  static constexpr std::uint32_t kPending = 16;
  std::array<JoinKey, kPending> pending_keys_{};
  std::uint32_t linked_ = 0;

  std::vector<std::unique_ptr<Entry[]>> chunks_;
  std::uint32_t count_ = 0; // rows added
  std::vector<Slot> slots_; // a power of two of them
  std::size_t keys_ = 0;    // slots in use
  std::vector<bool> taken_; // by ordinal
};

} // namespace billdrop::azure
