#include <billdrop/cbf/columns.hpp>

#include <cstring>

namespace billdrop::cbf {
namespace {

// find_column runs once per field of every row, so it avoids hashing whole strings: a key's
// length and two of its bytes pick its one candidate slot, and the key is compared with that
// name only. The hash's constants were found by trying small ones until no two names shared a
// slot; kSlots below checks that at compile time, so a new column with a colliding name stops
// the build (then pick other constants).
constexpr std::size_t kMaxNameLength = 32;
constexpr std::uint8_t kNoColumn = 0xff;
constexpr std::size_t kSlotCount = 64;

// Keys of 8 bytes or more only: every name has at least 8.
constexpr std::size_t slot_of(std::string_view key) noexcept {
  return (key.size() * 25 + static_cast<unsigned char>(key[2]) +
          static_cast<unsigned char>(key[key.size() - 7]) * 3) %
         kSlotCount;
}

struct Slots {
  std::array<std::uint8_t, kSlotCount> column{};
  bool perfect = true; // no two names share a slot
};

constexpr Slots make_slots() {
  Slots slots;
  slots.column.fill(kNoColumn);
  for (std::size_t i = 0; i < kColumns.size(); ++i) {
    std::uint8_t& slot = slots.column[slot_of(kColumns[i].name)];
    slots.perfect = slots.perfect && slot == kNoColumn;
    slot = static_cast<std::uint8_t>(i);
  }
  return slots;
}

constexpr Slots kSlots = make_slots();
static_assert(kSlots.perfect, "two column names share a find_column slot: change slot_of");

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
  const std::uint8_t index = kSlots.column[slot_of(key)];
  if (index == kNoColumn)
    return std::nullopt;
  const std::string_view name = kColumns[index].name;
  if (name.size() != key.size() || !equal_8_to_32(name.data(), key.data(), key.size()))
    return std::nullopt;
  return kColumns[index].column;
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
