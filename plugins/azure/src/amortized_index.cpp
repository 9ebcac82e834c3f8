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

void AmortizedIndex::add(JoinKey key, std::uint64_t ordinal, const Decimal& cost) {
  entries_.push_back(Entry{key, ordinal, cost});
}

void AmortizedIndex::seal(std::uint64_t rows) {
  if (entries_.size() >= UINT32_MAX)
    throw std::length_error("more than 4 billion amortized rows in one month");
  std::sort(entries_.begin(), entries_.end(), [](const Entry& x, const Entry& y) {
    return x.key != y.key ? x.key < y.key : x.ordinal < y.ordinal;
  });
  next_.resize(entries_.size());
  for (std::size_t i = 0; i < entries_.size(); ++i)
    next_[i] = static_cast<std::uint32_t>(i);
  taken_.assign(rows, false);
}

const Decimal* AmortizedIndex::take(JoinKey key) {
  const auto first = std::lower_bound(entries_.begin(), entries_.end(), key,
                                      [](const Entry& e, const JoinKey& k) { return e.key < k; });
  if (first == entries_.end() || first->key != key)
    return nullptr;
  const auto head = static_cast<std::size_t>(first - entries_.begin());
  const std::uint32_t i = next_[head];
  if (i >= entries_.size() || entries_[i].key != key)
    return nullptr;
  next_[head] = i + 1;
  taken_[entries_[i].ordinal] = true;
  return &entries_[i].cost;
}

std::optional<std::uint64_t> AmortizedIndex::last_untaken() const noexcept {
  std::optional<std::uint64_t> last;
  for (const Entry& entry : entries_)
    if (!taken_[entry.ordinal] && (!last || entry.ordinal > *last))
      last = entry.ordinal;
  return last;
}

} // namespace billdrop::azure
