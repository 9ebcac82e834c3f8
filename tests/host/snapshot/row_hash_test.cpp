// row_hash() takes xxHash's AVX2 kernel on a CPU with AVX2 (host/src/snapshot/row_hash_avx2.cpp)
// and the SSE2 one otherwise; both must give XXH3-64, or a snapshot written on one machine would
// not read back on another. This file is built without -mavx2, so its XXH3_64bits is the SSE2
// (or scalar) kernel: an independent computation of the same function.
#include "snapshot/snapshot_index.hpp"

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>

using namespace billdrop;

TEST(RowHash, IsXxh3WhicheverKernelRuns) {
  EXPECT_EQ(snapshot::row_hash(""), 0x2D06800538D394C2ULL); // XXH3-64 of no bytes, seed 0
  std::mt19937_64 random(20261207);
  std::string bytes(4096, '\0');
  for (char& c : bytes)
    c = static_cast<char>(random());
  // Every length up to 1,100 (XXH3's short, 17-128, 129-240 and long paths, and stripes of the
  // long one cut at every offset), then longer rows, at odd alignments.
  for (std::size_t length = 0; length <= 4000; length += length < 1100 ? 1 : 97) {
    const std::size_t offset = length % 7;
    const std::string_view row(bytes.data() + offset, length);
    ASSERT_EQ(snapshot::row_hash(row), XXH3_64bits(row.data(), row.size())) << length;
  }
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx2"))
    GTEST_LOG_(INFO) << "this CPU has AVX2: row_hash ran xxHash's AVX2 kernel";
#endif
}
