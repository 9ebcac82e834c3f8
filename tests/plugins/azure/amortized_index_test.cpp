// The join's index of amortized rows: rows of one key are taken in file order, each once; keys
// differing only in case match, and a key part boundary cannot move ("ab","c" vs "a","bc").
#include "amortized_index.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace billdrop::azure {
namespace {

JoinKey key_of(std::string_view a, std::string_view b, std::int64_t n, std::string_view q) {
  JoinKeyBuilder builder;
  builder.add(a);
  builder.add(b);
  builder.add(n);
  builder.add(Decimal::from_string(q));
  return builder.key();
}

// "<prefix><n>" (appended, not operator+: GCC 12 warns about the temporary falsely).
std::string named(const char* prefix, std::uint64_t n) {
  std::string text = prefix;
  text += std::to_string(n);
  return text;
}

TEST(AzureAmortizedIndex, KeysIgnoreCaseAndKeepPartBoundariesAndDecimalScale) {
  EXPECT_EQ(key_of("Sub-ABCdefGHIjkl/Z@[`{", "x", 1, "8"),
            key_of("sub-abcdefghijkl/z@[`{", "X", 1, "8.00"));
  EXPECT_NE(key_of("ab", "c", 1, "8"), key_of("a", "bc", 1, "8"));
  EXPECT_NE(key_of("ab", "c", 1, "8"), key_of("ab", "c", 2, "8"));
  EXPECT_NE(key_of("ab", "c", 1, "8"), key_of("ab", "c", 1, "0.8"));
  // Non-ASCII bytes are compared as they are (only A-Z are folded).
  EXPECT_NE(key_of("\xC3\x89", "", 1, "1"), key_of("\xC3\xA9", "", 1, "1"));
}

// Texts of every length to 70 bytes (the 16-byte, 8-byte and tail steps of the lowering), made
// of one byte each: only A-Z fold, to a-z, whatever the byte and the length; no two other bytes
// give the same key. A builder reused after clear() gives a new builder's keys.
TEST(AzureAmortizedIndex, EveryByteValueFoldsOnlyAsciiLettersAtEveryLength) {
  const auto fold = [](int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; };
  JoinKeyBuilder reused;
  for (std::size_t length = 1; length <= 70; length += (length < 40 ? 1 : 7)) {
    std::vector<JoinKey> keys(256);
    for (int c = 0; c < 256; ++c) {
      const std::string text(length, static_cast<char>(c));
      const std::string folded(length, static_cast<char>(fold(c)));
      ASSERT_EQ(key_of(text, "", 0, "0"), key_of(folded, "", 0, "0")) << c << " " << length;
      reused.clear();
      reused.add(std::string_view(text));
      reused.add(std::string_view());
      reused.add(std::int64_t{0});
      reused.add(Decimal::from_string("0"));
      ASSERT_EQ(reused.key(), key_of(text, "", 0, "0")) << c << " " << length;
      keys[static_cast<std::size_t>(c)] = key_of(folded, "", 0, "0");
    }
    for (int c = 0; c < 256; ++c) {
      for (int d = c + 1; d < 256; ++d) {
        if (fold(c) != fold(d)) {
          ASSERT_NE(keys[static_cast<std::size_t>(c)], keys[static_cast<std::size_t>(d)])
              << c << " " << d << " " << length;
        }
      }
    }
  }
}

// 5,000 keys with 1 to 3 rows each (beyond the table's first size): every row is taken once, in
// file order within its key, with the cost it was added with (row i costs i).
TEST(AzureAmortizedIndex, RowsOfAKeyAreTakenInFileOrderEachOnce) {
  AmortizedIndex index;
  std::uint64_t ordinal = 0;
  std::vector<std::pair<int, std::uint64_t>> rows; // (key, ordinal) in file order
  for (int round = 0; round < 3; ++round)
    for (int k = 0; k < 5000; ++k)
      if (k % 3 >= round) {
        index.add(key_of(named("k", k), "", 0, "1"), ordinal,
                  Decimal::from_string(named("", ordinal)));
        rows.emplace_back(k, ordinal++);
      }
  index.seal(ordinal + 1); // one more ordinal: a row of another month
  EXPECT_EQ(index.size(), rows.size());
  // Keys taken in reverse order; each key's rows come in file order.
  for (int k = 4999; k >= 0; --k) {
    for (const auto& [key, row] : rows) {
      if (key != k)
        continue;
      const Decimal* cost = index.take(key_of(named("K", k), "", 0, "1.0"));
      ASSERT_NE(cost, nullptr) << k;
      EXPECT_EQ(*cost, Decimal::from_string(named("", row)));
      EXPECT_TRUE(index.taken(row));
    }
    if (k == 2500) {
      ASSERT_TRUE(index.last_untaken().has_value());
      EXPECT_LT(*index.last_untaken(), ordinal);
    }
    EXPECT_EQ(index.take(key_of(named("k", k), "", 0, "1")), nullptr);
  }
  EXPECT_FALSE(index.last_untaken().has_value());
  EXPECT_FALSE(index.taken(ordinal));
  EXPECT_EQ(index.take(key_of("k5000", "", 0, "1")), nullptr);
}

// Rows are linked to their key some rows after add() (their slots prefetched meanwhile): rows of
// one key close together, and fewer rows than that delay, still come out in file order.
TEST(AzureAmortizedIndex, RowsOfAKeyCloseTogetherAreTakenInFileOrder) {
  for (const int count : {1, 5, 16, 17, 40}) {
    AmortizedIndex index;
    std::uint64_t ordinal = 0;
    for (int i = 0; i < count; ++i) {
      index.add(key_of("a", "", 0, "1"), ordinal, Decimal::from_int(10 * i));
      ++ordinal;
      if (i % 3 == 0) {
        index.add(key_of("b", "", 0, "1"), ordinal, Decimal::from_int(-i));
        ++ordinal;
      }
    }
    index.seal(ordinal);
    for (int i = 0; i < count; ++i) {
      const Decimal* cost = index.take(key_of("A", "", 0, "1"));
      ASSERT_NE(cost, nullptr) << count << " " << i;
      EXPECT_EQ(*cost, Decimal::from_int(10 * i)) << count;
    }
    EXPECT_EQ(index.take(key_of("a", "", 0, "1")), nullptr);
    for (int i = 0; i < count; i += 3) {
      const Decimal* cost = index.take(key_of("b", "", 0, "1"));
      ASSERT_NE(cost, nullptr) << count << " " << i;
      EXPECT_EQ(*cost, Decimal::from_int(-i)) << count;
    }
    EXPECT_FALSE(index.last_untaken().has_value()) << count;
  }
}

TEST(AzureAmortizedIndex, EmptyIndexTakesNothing) {
  AmortizedIndex index;
  index.seal(3);
  EXPECT_EQ(index.take(key_of("a", "b", 1, "1")), nullptr);
  EXPECT_FALSE(index.last_untaken().has_value());
}

} // namespace
} // namespace billdrop::azure
