// Page decompression. Every codec writes into a buffer of exactly the page header's
// uncompressed size and must fill it: more or less output is a corrupt page.

#include "parquet/format.hpp"

#include <brotli/decode.h>
#include <cstring>
#include <lz4.h>
#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

namespace billdrop::detail::parquet {

const char* codec_name(std::int32_t codec) noexcept {
  switch (codec) {
  case 0:
    return "UNCOMPRESSED";
  case 1:
    return "SNAPPY";
  case 2:
    return "GZIP";
  case 3:
    return "LZO";
  case 4:
    return "BROTLI";
  case 5:
    return "LZ4";
  case 6:
    return "ZSTD";
  case 7:
    return "LZ4_RAW";
  }
  return "unknown";
}

void check_codec(std::int32_t codec) {
  if (codec == static_cast<int>(Codec::lzo))
    fail("compression codec LZO is not supported");
  if (codec < 0 || codec > 7)
    fail("unknown compression codec " + std::to_string(codec));
}

namespace {

void gunzip(const std::uint8_t* in, std::size_t size, std::string& out) {
  z_stream z{};
  if (inflateInit2(&z, 15 + 32) != Z_OK)
    fail("cannot start the gzip decoder");
  z.next_in = const_cast<Bytef*>(in);
  z.avail_in = static_cast<uInt>(size);
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  for (;;) {
    const int rc = inflate(&z, Z_FINISH);
    if (rc == Z_STREAM_END) {
      // Concatenated members (several gzip streams in one page) are one page's data.
      if (z.avail_in >= 2 && z.next_in[0] == 0x1f && z.next_in[1] == 0x8b) {
        inflateReset(&z);
        continue;
      }
      break;
    }
    const bool full = z.avail_out == 0;
    inflateEnd(&z);
    fail(full ? "GZIP page inflates to more than its uncompressed size" : "corrupt GZIP page data");
  }
  const bool exact = z.avail_out == 0;
  inflateEnd(&z);
  if (!exact)
    fail("GZIP page inflates to less than its uncompressed size");
}

std::uint32_t big_endian_u32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

// Hadoop's LZ4 framing: blocks of [uncompressed length, compressed length] (big-endian u32) and
// a raw LZ4 block. Returns false when the data is not framed that way.
bool hadoop_lz4(const std::uint8_t* in, std::size_t size, std::string& out) {
  std::size_t written = 0;
  while (size > 0) {
    if (size < 8)
      return false;
    const std::uint32_t raw = big_endian_u32(in);
    const std::uint32_t packed = big_endian_u32(in + 4);
    in += 8;
    size -= 8;
    if (packed > size || raw > out.size() - written)
      return false;
    const int n = LZ4_decompress_safe(reinterpret_cast<const char*>(in), out.data() + written,
                                      static_cast<int>(packed), static_cast<int>(raw));
    if (n < 0 || static_cast<std::uint32_t>(n) != raw)
      return false;
    written += raw;
    in += packed;
    size -= packed;
  }
  return written == out.size();
}

void lz4_block(const std::uint8_t* in, std::size_t size, std::string& out, const char* codec) {
  if (size > INT32_MAX)
    fail(std::string(codec) + " page too large");
  const int n = LZ4_decompress_safe(reinterpret_cast<const char*>(in), out.data(),
                                    static_cast<int>(size), static_cast<int>(out.size()));
  if (n < 0 || static_cast<std::size_t>(n) != out.size())
    fail(std::string("corrupt ") + codec + " page data");
}

} // namespace

void decompress(std::int32_t codec, const std::uint8_t* in, std::size_t size,
                std::size_t uncompressed_size, std::string& out) {
  if (uncompressed_size == 0) {
    out.clear();
    return; // nothing to decode, whatever the codec (an empty page may carry no stream at all)
  }
  // No codec inflates a page more than about a thousandfold in practice (DEFLATE's limit is
  // 1032:1); bounding the claim keeps a corrupt header from allocating gigabytes.
  const std::size_t limit = codec == 0 ? size : size * 4096 + (std::size_t{1} << 20);
  if (uncompressed_size > limit || uncompressed_size > (std::size_t{1} << 30))
    fail("page claims " + std::to_string(uncompressed_size) + " bytes uncompressed from " +
         std::to_string(size) + " (refused)");
  out.resize(uncompressed_size);
  switch (static_cast<Codec>(codec)) {
  case Codec::uncompressed:
    if (size != uncompressed_size)
      fail("uncompressed page whose compressed and uncompressed sizes differ");
    std::memcpy(out.data(), in, size);
    return;
  case Codec::snappy: {
    std::size_t n = 0;
    const char* src = reinterpret_cast<const char*>(in);
    if (!snappy::GetUncompressedLength(src, size, &n) || n != uncompressed_size ||
        !snappy::RawUncompress(src, size, out.data()))
      fail("corrupt SNAPPY page data");
    return;
  }
  case Codec::gzip:
    gunzip(in, size, out);
    return;
  case Codec::brotli: {
    std::size_t n = uncompressed_size;
    if (BrotliDecoderDecompress(size, in, &n, reinterpret_cast<std::uint8_t*>(out.data())) !=
            BROTLI_DECODER_RESULT_SUCCESS ||
        n != uncompressed_size)
      fail("corrupt BROTLI page data");
    return;
  }
  case Codec::zstd: {
    const std::size_t n = ZSTD_decompress(out.data(), out.size(), in, size);
    if (ZSTD_isError(n) || n != uncompressed_size)
      fail("corrupt ZSTD page data");
    return;
  }
  case Codec::lz4_raw:
    lz4_block(in, size, out, "LZ4_RAW");
    return;
  case Codec::lz4:
    // parquet-mr frames LZ4 the Hadoop way; older Arrow wrote a bare block under the same codec.
    if (!hadoop_lz4(in, size, out))
      lz4_block(in, size, out, "LZ4");
    return;
  case Codec::lzo:
    break;
  }
  check_codec(codec);
  fail("compression codec " + std::string(codec_name(codec)) + " is not supported");
}

} // namespace billdrop::detail::parquet
