#include "cbf/columns.hpp"

#include <cstring>

namespace billdrop::cbf {
namespace {

// find_column runs once per field of every row, so it avoids hashing strings: the column names
// are bucketed by length at compile time (at most four names share a length) and a key is
// compared only with the names of its own length, first byte first.
constexpr std::size_t kMaxNameLength = 32;
constexpr std::size_t kBucketSize = 4;
constexpr std::uint8_t kNoColumn = 0xff;

using LengthBuckets = std::array<std::array<std::uint8_t, kBucketSize>, kMaxNameLength + 1>;

constexpr LengthBuckets make_length_buckets() {
  LengthBuckets buckets{};
  for (auto& bucket : buckets)
    bucket.fill(kNoColumn);
  for (std::size_t i = 0; i < kColumns.size(); ++i) {
    auto& bucket = buckets[kColumns[i].name.size()];
    std::size_t slot = 0;
    while (bucket[slot] != kNoColumn)
      ++slot; // runs past the bucket (a compile error) if a length ever has more names
    bucket[slot] = static_cast<std::uint8_t>(i);
  }
  return buckets;
}

constexpr LengthBuckets kByLength = make_length_buckets();

constexpr bool columns_in_enum_order() {
  for (std::size_t i = 0; i < kColumns.size(); ++i)
    if (static_cast<std::size_t>(kColumns[i].column) != i ||
        kColumns[i].name.size() > kMaxNameLength)
      return false;
  return true;
}
static_assert(columns_in_enum_order(), "kColumns must list every Column in enum order");

constexpr bool names_8_to_32_bytes() {
  for (const ColumnInfo& column : kColumns)
    if (column.name.size() < 8 || column.name.size() > 32)
      return false;
  return true;
}
static_assert(names_8_to_32_bytes(), "find_column compares names of 8 to 32 bytes");

using ByteTable = std::array<bool, 256>;

constexpr ByteTable make_tag_key_table() {
  ByteTable table{};
  for (int c = 'a'; c <= 'z'; ++c)
    table[static_cast<std::size_t>(c)] = true;
  for (int c = 'A'; c <= 'Z'; ++c)
    table[static_cast<std::size_t>(c)] = true;
  for (int c = '0'; c <= '9'; ++c)
    table[static_cast<std::size_t>(c)] = true;
  for (char c : std::string_view("_.:/=+-@"))
    table[static_cast<unsigned char>(c)] = true;
  return table;
}

constexpr ByteTable kTagKeyByte = make_tag_key_table();

} // namespace

namespace {

std::uint64_t load_u64(const char* p) noexcept {
  std::uint64_t word;
  std::memcpy(&word, p, sizeof word);
  return word;
}

// a == b for 8 <= n <= 32, with overlapping eight-byte loads instead of a call to memcmp: every
// column name is that long, and this runs for every field of every row.
bool equal_8_to_32(const char* a, const char* b, std::size_t n) noexcept {
  std::uint64_t diff = load_u64(a) ^ load_u64(b);
  diff |= load_u64(a + n - 8) ^ load_u64(b + n - 8);
  if (n > 16) {
    diff |= load_u64(a + 8) ^ load_u64(b + 8);
    diff |= load_u64(a + n - 16) ^ load_u64(b + n - 16);
  }
  return diff == 0;
}

} // namespace

std::optional<Column> find_column(std::string_view key) noexcept {
  if (key.size() > kMaxNameLength || key.size() < 8) // every name has 8 to 32 bytes
    return std::nullopt;
  for (std::uint8_t index : kByLength[key.size()]) {
    if (index == kNoColumn)
      break;
    const std::string_view name = kColumns[index].name;
    if (equal_8_to_32(name.data(), key.data(), key.size()))
      return kColumns[index].column;
  }
  return std::nullopt;
}

bool is_exponent_decimal(std::string_view column, std::string_view value) noexcept {
  const std::optional<Column> known = find_column(column);
  return known && info(*known).kind == ValueKind::decimal &&
         value.find_first_of("eE") != std::string_view::npos;
}

bool is_lineitem_type(std::string_view value) noexcept {
  for (std::string_view type : kLineItemTypes)
    if (value == type)
      return true;
  return false;
}

bool is_valid_tag_key(std::string_view key) noexcept {
  if (key.empty())
    return false;
  for (char c : key)
    if (!kTagKeyByte[static_cast<unsigned char>(c)])
      return false;
  return true;
}

} // namespace billdrop::cbf
