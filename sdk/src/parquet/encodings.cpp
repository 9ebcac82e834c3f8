// The bit-level encodings shared by levels, dictionary indexes and integers: the RLE /
// bit-packed hybrid and DELTA_BINARY_PACKED. Both read bit-packed values least significant bit
// first; every read is bounded by the page's bytes.

#include "parquet/format.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>

namespace billdrop::detail::parquet {

const char* encoding_name(std::int32_t encoding) noexcept {
  switch (encoding) {
  case 0:
    return "PLAIN";
  case 2:
    return "PLAIN_DICTIONARY";
  case 3:
    return "RLE";
  case 4:
    return "BIT_PACKED";
  case 5:
    return "DELTA_BINARY_PACKED";
  case 6:
    return "DELTA_LENGTH_BYTE_ARRAY";
  case 7:
    return "DELTA_BYTE_ARRAY";
  case 8:
    return "RLE_DICTIONARY";
  case 9:
    return "BYTE_STREAM_SPLIT";
  }
  return "unknown";
}

int bit_width_of(std::uint32_t max_value) noexcept {
  int width = 0;
  while (max_value != 0) {
    ++width;
    max_value >>= 1;
  }
  return width;
}

namespace {

// Reads 64 bits at byte `p` (fewer when the data ends first; the missing bytes read as zero).
std::uint64_t load64(const std::uint8_t* p, const std::uint8_t* end) {
  std::uint64_t v = 0;
  if (end - p >= 8) {
    std::memcpy(&v, p, 8);
    return v;
  }
  for (int i = 0; p + i < end; ++i)
    v |= std::uint64_t{p[i]} << (8 * i);
  return v;
}

// The `width`-bit value at bit `bit` of `base` (width ≤ 64).
std::uint64_t unpack(const std::uint8_t* base, const std::uint8_t* end, std::uint64_t bit,
                     int width) {
  const std::uint8_t* p = base + (bit >> 3);
  const int shift = static_cast<int>(bit & 7);
  std::uint64_t v = load64(p, end) >> shift;
  if (width + shift > 64)
    v |= load64(p + 8, end) << (64 - shift);
  return width == 64 ? v : v & ((std::uint64_t{1} << width) - 1);
}

// Whole groups of 8 values of W bits (W bytes each), every value read with one unaligned 64-bit
// load: the bytes from `p` to `p + groups * W + 8` must be readable.
template <int W>
void unpack_groups(const std::uint8_t* p, std::size_t groups, std::uint32_t* out) {
  constexpr std::uint64_t mask = (std::uint64_t{1} << W) - 1;
  for (std::size_t g = 0; g < groups; ++g, p += W, out += 8) {
    if constexpr (W == 0) {
      std::fill_n(out, 8, 0u);
    } else {
      for (int i = 0; i < 8; ++i) {
        std::uint64_t v;
        std::memcpy(&v, p + (i * W) / 8, 8);
        out[i] = static_cast<std::uint32_t>((v >> ((i * W) % 8)) & mask);
      }
    }
  }
}

using GroupUnpacker = void (*)(const std::uint8_t*, std::size_t, std::uint32_t*);

template <std::size_t... W>
constexpr auto group_unpackers(std::index_sequence<W...>) {
  return std::array<GroupUnpacker, sizeof...(W)>{&unpack_groups<static_cast<int>(W)>...};
}
constexpr auto unpackers = group_unpackers(std::make_index_sequence<33>());

std::size_t packed_bytes(std::uint64_t values, int width) {
  return static_cast<std::size_t>((values * static_cast<std::uint64_t>(width) + 7) / 8);
}

} // namespace

void decode_rle_hybrid(ByteCursor in, int bit_width, std::size_t count, std::uint32_t* out) {
  if (bit_width < 0 || bit_width > 32)
    fail("RLE bit width " + std::to_string(bit_width) + " is out of range");
  const std::size_t value_bytes = static_cast<std::size_t>((bit_width + 7) / 8);
  std::size_t n = 0;
  while (n < count) {
    const std::uint64_t header = in.uleb("RLE run header");
    if (header & 1) {
      const std::uint64_t groups = header >> 1;
      // Zero-width values take no bytes (a one-entry dictionary): only the count bounds them.
      if (bit_width > 0 && groups > in.left() / static_cast<std::size_t>(bit_width) + 1)
        fail("bit-packed run longer than its data");
      const std::size_t values =
          groups > count ? count : static_cast<std::size_t>(groups * 8); // no overflow
      const std::size_t take = std::min(values, count - n);
      in.need(packed_bytes(take, bit_width), "bit-packed run");
      // Whole groups while 8 bytes beyond them are readable, then value by value.
      std::size_t fast = take / 8;
      if (bit_width > 0)
        fast = std::min(fast,
                        in.left() >= 8 ? (in.left() - 8) / static_cast<std::size_t>(bit_width) : 0);
      unpackers[static_cast<std::size_t>(bit_width)](in.p, fast, out + n);
      for (std::size_t i = fast * 8; i < take; ++i)
        out[n + i] = static_cast<std::uint32_t>(
            unpack(in.p, in.end, static_cast<std::uint64_t>(i) * bit_width, bit_width));
      n += take;
      in.p += std::min(packed_bytes(values, bit_width), in.left());
    } else {
      const std::uint64_t run = header >> 1;
      in.need(value_bytes, "RLE run value");
      std::uint32_t value = 0;
      for (std::size_t i = 0; i < value_bytes; ++i)
        value |= std::uint32_t{in.p[i]} << (8 * i);
      in.p += value_bytes;
      const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(run, count - n));
      std::fill_n(out + n, take, value);
      n += take;
    }
  }
}

void decode_delta_binary(ByteCursor& in, std::size_t max_count, std::vector<std::int64_t>& out) {
  const std::uint64_t block_size = in.uleb("DELTA_BINARY_PACKED header");
  const std::uint64_t miniblocks = in.uleb("DELTA_BINARY_PACKED header");
  const std::uint64_t total = in.uleb("DELTA_BINARY_PACKED header");
  const std::uint64_t first_zz = in.uleb("DELTA_BINARY_PACKED header");
  if (block_size == 0 || block_size % 128 != 0 || block_size > (1u << 20) || miniblocks == 0 ||
      miniblocks > 1024 || block_size % miniblocks != 0 || (block_size / miniblocks) % 32 != 0)
    fail("malformed DELTA_BINARY_PACKED header");
  if (total > max_count)
    fail("DELTA_BINARY_PACKED holds more values than its page");
  out.clear();
  if (total == 0)
    return;
  out.reserve(static_cast<std::size_t>(total));
  std::uint64_t value = (first_zz >> 1) ^ (~(first_zz & 1) + 1);
  out.push_back(static_cast<std::int64_t>(value));
  const std::uint64_t per_mini = block_size / miniblocks;
  std::uint8_t widths[1024];
  while (out.size() < total) {
    const std::uint64_t zz = in.uleb("DELTA_BINARY_PACKED block");
    const std::uint64_t min_delta = (zz >> 1) ^ (~(zz & 1) + 1);
    in.need(miniblocks, "DELTA_BINARY_PACKED bit widths");
    std::memcpy(widths, in.p, miniblocks);
    in.p += miniblocks;
    for (std::uint64_t m = 0; m < miniblocks && out.size() < total; ++m) {
      const int width = widths[m];
      if (width > 64)
        fail("DELTA_BINARY_PACKED bit width " + std::to_string(width) + " is out of range");
      const std::uint64_t take = std::min<std::uint64_t>(per_mini, total - out.size());
      in.need(packed_bytes(take, width), "DELTA_BINARY_PACKED miniblock");
      for (std::uint64_t i = 0; i < take; ++i) {
        const std::uint64_t delta = width == 0 ? 0 : unpack(in.p, in.end, i * width, width);
        value += min_delta + delta; // wraps like the writer's arithmetic
        out.push_back(static_cast<std::int64_t>(value));
      }
      in.p += std::min(packed_bytes(per_mini, width), in.left());
    }
  }
}

} // namespace billdrop::detail::parquet
