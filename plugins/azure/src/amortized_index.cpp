#include "amortized_index.hpp"

#include <billdrop/text.hpp>

#include <algorithm>
#include <cstring>
#include <memory>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define XXH_INLINE_ALL
#include <optional>
#include <stdexcept>
#include <xxhash.h>

namespace billdrop::azure {

namespace {

// Tags that end each kind of part.
constexpr std::uint64_t text_end = 0x1fULL << 56;
constexpr std::uint64_t number_end = 0x1eULL << 56;
constexpr std::uint64_t decimal_end = 0x1dULL << 56;
constexpr std::uint64_t decimal_text_end = 0x1cULL << 56;

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

// Copies n bytes from `from` to `to` with ASCII A-Z lowered; may write up to 15 bytes past
// to + n (JoinKeyBuilder::reserve leaves that slack).
void copy_lowered(const char* from, std::size_t n, char* to) noexcept {
#ifdef __SSE2__
  const __m128i before_a = _mm_set1_epi8('A' - 1);
  const __m128i after_z = _mm_set1_epi8('Z' + 1);
  const __m128i case_bit = _mm_set1_epi8(0x20);
  for (; n >= 16; from += 16, to += 16, n -= 16) {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(from));
    // Signed compares: bytes of 0x80 and up are negative, never upper case.
    const __m128i upper =
        _mm_and_si128(_mm_cmpgt_epi8(bytes, before_a), _mm_cmplt_epi8(bytes, after_z));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(to),
                     _mm_or_si128(bytes, _mm_and_si128(upper, case_bit)));
  }
#endif
  for (; n >= 8; from += 8, to += 8, n -= 8) {
    std::uint64_t word;
    std::memcpy(&word, from, 8);
    word = lower_ascii_word(word);
    std::memcpy(to, &word, 8);
  }
  if (n != 0) {
    std::uint64_t word = 0;
    std::memcpy(&word, from, n);
    word = lower_ascii_word(word);
    std::memcpy(to, &word, 8); // within the slack
  }
}

} // namespace

char* JoinKeyBuilder::reserve(std::size_t bytes) {
  if (size_ + bytes + 16 > capacity_) {
    const std::size_t capacity = std::max<std::size_t>(2 * capacity_, size_ + bytes + 16 + 256);
    auto grown = std::make_unique_for_overwrite<char[]>(capacity);
    if (size_ != 0)
      std::memcpy(grown.get(), buffer_.get(), size_);
    buffer_ = std::move(grown);
    capacity_ = capacity;
  }
  return buffer_.get() + size_;
}

void JoinKeyBuilder::add_word(std::uint64_t word) {
  std::memcpy(reserve(8), &word, 8);
  size_ += 8;
}

void JoinKeyBuilder::add(std::string_view text) {
  copy_lowered(text.data(), text.size(), reserve(text.size() + 8));
  size_ += text.size();
  add_word(text_end ^ text.size());
}

void JoinKeyBuilder::add(std::int64_t number) {
  add_word(static_cast<std::uint64_t>(number));
  add_word(number_end);
}

void JoinKeyBuilder::add(const Decimal& number) {
  const Decimal value = number.normalized();
  if (const std::optional<Decimal::int128> coefficient = value.int128_coefficient()) {
    __extension__ using uint128 = unsigned __int128;
    const auto bits = static_cast<uint128>(*coefficient);
    add_word(static_cast<std::uint64_t>(bits));
    add_word(static_cast<std::uint64_t>(bits >> 64));
    add_word(decimal_end ^ static_cast<std::uint64_t>(value.scale()));
  } else { // wider than 128 bits (more than 38 digits): every digit, as text
    const std::string digits = value.to_string();
    add(std::string_view(digits));
    add_word(decimal_text_end);
  }
}

JoinKey JoinKeyBuilder::key() const noexcept {
  const XXH128_hash_t hash = XXH3_128bits(buffer_.get(), size_);
  return {hash.high64, hash.low64};
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
  if (4 * (keys_ + (count_ - linked_) + 1) > 3 * slots_.size()) {
    drain();
    grow();
  }
  const std::uint32_t index = count_++;
  if ((index >> chunk_bits) == chunks_.size())
    chunks_.push_back(std::make_unique_for_overwrite<Entry[]>(std::size_t{1} << chunk_bits));
  entry(index) = Entry{cost, ordinal, none};
  if (index - linked_ == kPending) { // the oldest waiting row, whose slot is in cache by now
    link(pending_keys_[linked_ % kPending], linked_);
    ++linked_;
  }
  __builtin_prefetch(&slots_[static_cast<std::size_t>(key.low) & (slots_.size() - 1)], 1);
  pending_keys_[index % kPending] = key;
}

void AmortizedIndex::link(JoinKey key, std::uint32_t index) {
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

void AmortizedIndex::drain() {
  for (; linked_ < count_; ++linked_)
    link(pending_keys_[linked_ % kPending], linked_);
}

void AmortizedIndex::seal(std::uint64_t rows) {
  drain();
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
