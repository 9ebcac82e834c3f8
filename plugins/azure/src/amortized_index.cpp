#include "amortized_index.hpp"

#include <billdrop/text.hpp>

#include <algorithm>
#include <cstring>
#include <optional>
#include <stdexcept>

namespace billdrop::azure {

namespace {

// The eight bytes of `word` with ASCII A-Z lowered (SWAR: no byte is looked at alone).
std::uint64_t lower_ascii_word(std::uint64_t word) noexcept {
  constexpr std::uint64_t ones = 0x0101010101010101ULL;
  constexpr std::uint64_t high = 0x8080808080808080ULL;
  const std::uint64_t heptets = word & ~high;
  const std::uint64_t at_least_a = heptets + (0x80 - 'A') * ones;  // high bit: byte >= 'A'
  const std::uint64_t above_z = heptets + (0x80 - 'Z' - 1) * ones; // high bit: byte > 'Z'
  const std::uint64_t upper = at_least_a & ~above_z & ~word & high;
  return word | upper >> 2; // 0x80 >> 2 is 0x20, the case bit
}

// Tags that end each kind of part.
constexpr std::uint64_t text_end = 0x1fULL << 56;
constexpr std::uint64_t number_end = 0x1eULL << 56;
constexpr std::uint64_t decimal_end = 0x1dULL << 56;
constexpr std::uint64_t decimal_text_end = 0x1cULL << 56;

} // namespace

void JoinKeyBuilder::add(std::string_view text) noexcept {
  const char* p = text.data();
  std::size_t n = text.size();
  for (; n >= 8; p += 8, n -= 8) {
    std::uint64_t word;
    std::memcpy(&word, p, 8);
    mix(lower_ascii_word(word));
  }
  if (n != 0) {
    std::uint64_t word = 0;
    std::memcpy(&word, p, n);
    mix(lower_ascii_word(word));
  }
  mix(text_end ^ text.size());
}

void JoinKeyBuilder::add(std::int64_t number) noexcept {
  mix(static_cast<std::uint64_t>(number));
  mix(number_end);
}

void JoinKeyBuilder::add(const Decimal& number) {
  const Decimal value = number.normalized();
  if (const std::optional<Decimal::int128> coefficient = value.int128_coefficient()) {
    __extension__ using uint128 = unsigned __int128;
    const auto bits = static_cast<uint128>(*coefficient);
    mix(static_cast<std::uint64_t>(bits));
    mix(static_cast<std::uint64_t>(bits >> 64));
    mix(decimal_end ^ static_cast<std::uint64_t>(value.scale()));
  } else { // wider than 128 bits (more than 38 digits): every digit, as text
    const std::string digits = value.to_string();
    add(std::string_view(digits));
    mix(decimal_text_end);
  }
}

AmortizedIndex::Slot& AmortizedIndex::slot_for(JoinKey key) noexcept {
  // The key is a hash already: its low bits pick the slot.
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = static_cast<std::size_t>(key.low) & mask;; i = (i + 1) & mask) {
    Slot& slot = slots_[i];
    if (slot.tail == none || slot.key == key)
      return slot;
  }
}

void AmortizedIndex::grow() {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(old.empty() ? 1024 : 2 * old.size(), Slot{});
  for (const Slot& slot : old)
    if (slot.tail != none)
      slot_for(slot.key) = slot;
}

void AmortizedIndex::add(JoinKey key, std::uint64_t ordinal, const Decimal& cost) {
  if (count_ == none)
    throw std::length_error("more than 4 billion amortized rows in one month");
  if (4 * (keys_ + 1) > 3 * slots_.size())
    grow();
  const std::uint32_t index = count_++;
  if ((index >> chunk_bits) == chunks_.size())
    chunks_.push_back(std::make_unique_for_overwrite<Entry[]>(std::size_t{1} << chunk_bits));
  entry(index) = Entry{cost, ordinal, none};
  Slot& slot = slot_for(key);
  if (slot.tail == none) {
    slot.key = key;
    slot.head = index;
    ++keys_;
  } else {
    entry(slot.tail).next = index;
  }
  slot.tail = index;
}

void AmortizedIndex::seal(std::uint64_t rows) {
  taken_.assign(rows, false);
}

const Decimal* AmortizedIndex::take(JoinKey key) {
  if (slots_.empty())
    return nullptr;
  Slot& slot = slot_for(key);
  if (slot.tail == none || slot.head == none)
    return nullptr;
  Entry& row = entry(slot.head);
  slot.head = row.next;
  taken_[row.ordinal] = true;
  return &row.cost;
}

std::optional<std::uint64_t> AmortizedIndex::last_untaken() const noexcept {
  // Entries are in ordinal order: the last untaken one is the answer.
  for (std::uint32_t i = count_; i-- > 0;)
    if (!taken_[entry(i).ordinal])
      return entry(i).ordinal;
  return std::nullopt;
}

} // namespace billdrop::azure
