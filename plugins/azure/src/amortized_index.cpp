#include "amortized_index.hpp"

#include <billdrop/text.hpp>

#include <algorithm>
#include <optional>
#include <stdexcept>

namespace billdrop::azure {

void JoinKeyBuilder::byte(unsigned char c) noexcept {
  a_ = (a_ ^ c) * 0x100000001b3ULL; // FNV-1a
  b_ = (b_ ^ c) * 0xff51afd7ed558ccdULL;
  b_ ^= b_ >> 29;
}

void JoinKeyBuilder::add(std::string_view text) noexcept {
  for (const char c : text)
    byte(static_cast<unsigned char>(to_lower_ascii(c)));
  byte(0x1f);
}

void JoinKeyBuilder::add(std::int64_t number) noexcept {
  auto bits = static_cast<std::uint64_t>(number);
  for (int i = 0; i < 8; ++i, bits >>= 8)
    byte(static_cast<unsigned char>(bits & 0xff));
  byte(0x1f);
}

void JoinKeyBuilder::add(const Decimal& number) {
  const Decimal value = number.normalized();
  if (const std::optional<Decimal::int128> coefficient = value.int128_coefficient()) {
    __extension__ using uint128 = unsigned __int128;
    auto bits = static_cast<uint128>(*coefficient);
    for (int i = 0; i < 16; ++i, bits >>= 8)
      byte(static_cast<unsigned char>(bits & 0xff));
    byte(static_cast<unsigned char>(value.scale()));
  } else { // wider than 128 bits (more than 38 digits): every digit, as text
    for (char c : value.to_string())
      byte(static_cast<unsigned char>(c));
    byte(0x1e);
  }
  byte(0x1f);
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

} // namespace billdrop::azure
