#include <billdrop/byte_source.hpp>
#include <billdrop/detail/block_source.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace billdrop;

namespace {

// Reads a source to its end, `capacity` bytes at a time; fails the test on an error.
std::string read_all(ByteSource& source, std::size_t capacity = 4096) {
  std::string out;
  std::string block(capacity, '\0');
  for (;;) {
    auto n = source.read(block.data(), block.size());
    EXPECT_TRUE(n.ok()) << n.error().message();
    if (!n || *n == 0)
      return out;
    EXPECT_LE(*n, capacity);
    out.append(block.data(), *n);
  }
}

// Reads until the end or the first error, and returns that error's message ("" if none).
std::string first_error(ByteSource& source, std::size_t capacity = 4096) {
  std::string block(capacity, '\0');
  for (int guard = 0; guard < 10'000'000; ++guard) {
    auto n = source.read(block.data(), block.size());
    if (!n)
      return n.error().message();
    if (*n == 0)
      return "";
  }
  return "no end";
}

// "hello, world\nsecond line\n" as written by `gzip -c a.txt` (the header names the file), so the
// decoder is checked against a real gzip tool, not only against our own compressor.
const std::string kGzipToolOutput = [] {
  const unsigned char bytes[] = {0x1f, 0x8b, 0x08, 0x08, 0x63, 0x33, 0x02, 0x6b, 0x00, 0x03, 0x61,
                                 0x2e, 0x74, 0x78, 0x74, 0x00, 0xcb, 0x48, 0xcd, 0xc9, 0xc9, 0xd7,
                                 0x51, 0x28, 0xcf, 0x2f, 0xca, 0x49, 0xe1, 0x2a, 0x4e, 0x4d, 0xce,
                                 0xcf, 0x4b, 0x51, 0xc8, 0xc9, 0xcc, 0x4b, 0xe5, 0x02, 0x00, 0xfc,
                                 0xab, 0xf4, 0x25, 0x19, 0x00, 0x00, 0x00};
  return std::string(reinterpret_cast<const char*>(bytes), sizeof bytes);
}();

// Text that compresses moderately and spans several decoder blocks.
std::string generated_text(std::size_t bytes) {
  std::mt19937 rng(7);
  std::string out;
  while (out.size() < bytes) {
    out += "row-" + std::to_string(rng() % 100000) + ",";
    out += std::to_string(rng()) + "\n";
  }
  out.resize(bytes);
  return out;
}

class TempDir {
public:
  TempDir() {
    path_ = fs::temp_directory_path() / ("billdrop_byte_source_test_" + std::to_string(::getpid()) +
                                         "_" + std::to_string(counter_++));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  fs::path write(const std::string& name, const std::string& bytes) const {
    const fs::path path = path_ / name;
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }
  const fs::path& path() const { return path_; }

private:
  static inline int counter_ = 0;
  fs::path path_;
};

} // namespace

TEST(ByteSourceMemory, HonoursChunkLimitAndReportsProgress) {
  auto source = memory_source("abcdefg", "mem", 3);
  EXPECT_EQ(source->name(), "mem");
  EXPECT_EQ(source->total(), 7u);
  char block[16];
  auto n = source->read(block, sizeof block);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 3u);
  EXPECT_EQ(std::string(block, 3), "abc");
  EXPECT_EQ(source->position(), 3u);
  n = source->read(block, 2); // the caller's capacity is smaller than the limit
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(std::string(block, *n), "de");
  n = source->read(block, sizeof block);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(std::string(block, *n), "fg");
  n = source->read(block, sizeof block);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);
  EXPECT_EQ(source->position(), 7u);
}

TEST(ByteSourceMemory, OneByteChunks) {
  auto source = memory_source("xyz", "<memory>", 1);
  EXPECT_EQ(read_all(*source, 64), "xyz");
}

TEST(ByteSourceFile, ReadsPlainFileAndReportsSize) {
  TempDir dir;
  const std::string text = generated_text(3 * 1024 * 1024 + 17);
  const auto path = dir.write("usage.csv", text);
  auto source = open_file(path);
  ASSERT_TRUE(source.ok()) << source.error().message();
  EXPECT_EQ((*source)->name(), path.string());
  EXPECT_EQ((*source)->total(), text.size());
  EXPECT_EQ((*source)->position(), 0u);
  EXPECT_EQ(read_all(**source, 256 * 1024), text);
  EXPECT_EQ((*source)->position(), text.size());
}

TEST(ByteSourceFile, ShortAndEmptyFilesAreNotMistakenForGzip) {
  TempDir dir;
  auto one = open_file(dir.write("one.csv", "\x1f"));
  ASSERT_TRUE(one.ok()) << one.error().message();
  EXPECT_EQ(read_all(**one, 1), "\x1f");
  auto empty = open_file(dir.write("empty.csv", ""));
  ASSERT_TRUE(empty.ok()) << empty.error().message();
  EXPECT_EQ(read_all(**empty), "");
}

TEST(ByteSourceFile, MissingFileNamesPathAndReason) {
  TempDir dir;
  const fs::path path = dir.path() / "nope.csv";
  auto source = open_file(path);
  ASSERT_FALSE(source.ok());
  EXPECT_EQ(source.error().kind(), ErrorKind::source);
  EXPECT_EQ(source.error().message(), path.string() + ": cannot open: no such file");
}

TEST(ByteSourceFile, DirectoryIsAnError) {
  TempDir dir;
  auto source = open_file(dir.path());
  ASSERT_FALSE(source.ok());
  EXPECT_EQ(source.error().message(), dir.path().string() + ": cannot open: is a directory");
}

TEST(ByteSourceFile, AutomaticDetectsGzipMagic) {
  TempDir dir;
  const std::string text = generated_text(500'000);
  const std::string packed = gzip_compress(text);
  const auto path = dir.write("usage.csv.gz", packed);
  auto source = open_file(path);
  ASSERT_TRUE(source.ok()) << source.error().message();
  EXPECT_EQ((*source)->total(), packed.size()); // progress is in compressed bytes
  EXPECT_EQ(read_all(**source, 10'000), text);
  EXPECT_EQ((*source)->position(), packed.size());

  // Asking for no decompression yields the compressed bytes themselves.
  auto raw = open_file(path, Compression::none);
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(read_all(**raw), packed);
}

TEST(ByteSourceFile, ForcedGzipOnPlainFileIsCorruptData) {
  TempDir dir;
  const auto path = dir.write("plain.csv.gz", "a,b\n1,2\n");
  auto source = open_file(path, Compression::gzip);
  ASSERT_TRUE(source.ok());
  const std::string message = first_error(**source);
  EXPECT_EQ(message.rfind(path.string() + ": corrupt gzip data", 0), 0u) << message;
}

// Every gzip test runs against both decoders: ISA-L's (the default where it is built) and zlib's.
class GzipSourceTest : public ::testing::TestWithParam<Inflater> {
protected:
  std::unique_ptr<ByteSource> inflate(std::unique_ptr<ByteSource> compressed) const {
    return gzip_source(std::move(compressed), GetParam());
  }
  // zlib's decoder says which trailer check failed; ISA-L's says one of the two did.
  std::string check_message(const char* which) const {
    return GetParam() == Inflater::zlib ? std::string("incorrect ") + which + " check"
                                        : "incorrect data or length check";
  }
};

INSTANTIATE_TEST_SUITE_P(Inflaters, GzipSourceTest,
                         ::testing::Values(Inflater::fastest, Inflater::zlib),
                         [](const ::testing::TestParamInfo<Inflater>& info) {
                           return info.param == Inflater::zlib ? std::string("zlib")
                                  : isal_available()           ? std::string("isal")
                                                               : std::string("default_zlib");
                         });

TEST(GzipDecoder, IsaLIsBuiltWhereInstalled) {
  // CI installs libisal-dev (install-deps.sh): the fast decoder must be the one that runs there.
#ifdef BILLDROP_TEST_EXPECT_ISAL
  EXPECT_TRUE(isal_available());
#else
  GTEST_SKIP() << "built without ISA-L";
#endif
}

TEST_P(GzipSourceTest, DecodesOutputOfTheGzipTool) {
  auto source = inflate(memory_source(kGzipToolOutput, "a.txt.gz"));
  EXPECT_EQ(read_all(*source), "hello, world\nsecond line\n");
  EXPECT_EQ(source->name(), "a.txt.gz");
}

TEST_P(GzipSourceTest, CompressWritesGzipHeaderAndRoundTrips) {
  const std::string text = generated_text(2 * 1024 * 1024 + 3);
  const std::string packed = gzip_compress(text);
  ASSERT_GE(packed.size(), 18u);
  EXPECT_EQ(static_cast<unsigned char>(packed[0]), 0x1f);
  EXPECT_EQ(static_cast<unsigned char>(packed[1]), 0x8b);
  EXPECT_EQ(static_cast<unsigned char>(packed[2]), 8); // deflate
  EXPECT_LT(packed.size(), text.size() / 2);
  // The trailer's last four bytes are the input size modulo 2^32, little-endian (RFC 1952).
  const auto* tail = reinterpret_cast<const unsigned char*>(packed.data() + packed.size() - 4);
  const std::uint32_t isize = tail[0] | tail[1] << 8 | tail[2] << 16 | std::uint32_t{tail[3]} << 24;
  EXPECT_EQ(isize, text.size());

  auto source = inflate(memory_source(packed));
  EXPECT_EQ(read_all(*source, 65536), text);
  // Level 1 and level 9 decode to the same bytes.
  EXPECT_EQ(read_all(*inflate(memory_source(gzip_compress(text, 1)))), text);
  EXPECT_EQ(read_all(*inflate(memory_source(gzip_compress(text, 9)))), text);
}

TEST_P(GzipSourceTest, CompressEmptyInputRoundTrips) {
  const std::string packed = gzip_compress("");
  EXPECT_EQ(packed.size(), 20u); // 10-byte header, empty final block (2 bytes), 8-byte trailer
  EXPECT_EQ(read_all(*inflate(memory_source(packed))), "");
}

TEST_P(GzipSourceTest, OneByteInputAndOutputChunks) {
  const std::string text = "Usage Hour,Cost\n2026-09-01T00:00:00Z,1.25\n";
  auto source = inflate(memory_source(gzip_compress(text), "<memory>", 1));
  EXPECT_EQ(read_all(*source, 1), text);
}

TEST_P(GzipSourceTest, MultiMemberStreamConcatenates) {
  const std::string a = generated_text(100'000);
  const std::string b = "second member\n";
  const std::string c = generated_text(70'000);
  const std::string packed =
      gzip_compress(a) + gzip_compress(b) + gzip_compress("") + gzip_compress(c);
  EXPECT_EQ(read_all(*inflate(memory_source(packed))), a + b + c);
  EXPECT_EQ(read_all(*inflate(memory_source(packed, "m.gz", 1)), 7), a + b + c);
  EXPECT_EQ(read_all(*inflate(memory_source(packed, "m.gz", 1000)), 1 << 20), a + b + c);
}

TEST_P(GzipSourceTest, TruncatedStreamIsAnErrorNamingSource) {
  const std::string packed = gzip_compress("a,b\n1,2\n3,4\n");
  auto source = inflate(memory_source(packed.substr(0, packed.size() - 5), "x.csv.gz"));
  EXPECT_EQ(first_error(*source), "x.csv.gz: truncated gzip stream (unexpected end of file)");
}

TEST_P(GzipSourceTest, EveryProperPrefixIsAnError) {
  const std::string packed = gzip_compress(generated_text(5000)) + gzip_compress("tail\n");
  for (std::size_t cut = 1; cut < packed.size(); ++cut) {
    if (cut == packed.size() - gzip_compress("tail\n").size())
      continue; // a whole first member: a complete stream
    auto source = inflate(memory_source(packed.substr(0, cut), "p.gz", 97));
    EXPECT_EQ(first_error(*source, 1000), "p.gz: truncated gzip stream (unexpected end of file)")
        << "cut at " << cut;
  }
}

TEST_P(GzipSourceTest, EmptyInputIsAnError) {
  auto source = inflate(memory_source("", "e.gz"));
  EXPECT_EQ(first_error(*source), "e.gz: truncated gzip stream (the file is empty)");
}

TEST_P(GzipSourceTest, BadChecksumIsCorruptData) {
  std::string packed = gzip_compress("a,b\n1,2\n");
  packed[packed.size() - 8] ^= 0x55; // first byte of the CRC-32
  auto source = inflate(memory_source(packed, "c.gz"));
  const std::string message = first_error(*source);
  EXPECT_EQ(message.rfind("c.gz: corrupt gzip data (" + check_message("data") + ")", 0), 0u)
      << message;
}

// The reader checks each member's trailer itself (zlib's check is off): every byte of both the
// CRC-32 and the length counts, however the compressed input is cut into reads, and in a second
// member as in the first.
TEST_P(GzipSourceTest, EveryTrailerByteIsCheckedWhateverTheReadSizes) {
  const std::string first = gzip_compress(generated_text(5'000));
  const std::string second = gzip_compress("second member\n");
  for (const bool in_second : {false, true}) {
    for (std::size_t byte = 0; byte < 8; ++byte) {
      std::string packed = first + second;
      const std::size_t member_end = in_second ? packed.size() : first.size();
      packed[member_end - 8 + byte] ^= 0x01;
      const std::string expected =
          "t.gz: corrupt gzip data (" + check_message(byte < 4 ? "data" : "length") + ")";
      for (const std::size_t chunk :
           {std::size_t{0}, std::size_t{1}, std::size_t{3}, std::size_t{7}, std::size_t{4096}}) {
        auto source = inflate(memory_source(packed, "t.gz", chunk));
        const std::string message = first_error(*source, 1000);
        EXPECT_EQ(message.rfind(expected, 0), 0u) << message << " (byte " << byte << ", chunk "
                                                  << chunk << ", second " << in_second << ")";
      }
    }
  }
  // Unchanged, the same cuts read back the text.
  for (const std::size_t chunk : {std::size_t{1}, std::size_t{3}, std::size_t{7}})
    EXPECT_EQ(read_all(*inflate(memory_source(first + second, "t.gz", chunk)), 1000),
              generated_text(5'000) + "second member\n");
}

TEST_P(GzipSourceTest, GarbageAfterMemberIsCorruptData) {
  const std::string packed = gzip_compress("a,b\n") + "not gzip";
  auto source = inflate(memory_source(packed, "g.gz"));
  const std::string message = first_error(*source);
  EXPECT_EQ(message.rfind("g.gz: corrupt gzip data", 0), 0u) << message;
}

// A flipped bit in a member is an error naming the file, never different bytes read as if they
// were right: the deflate data fails to decode or the trailer's checks catch it.
TEST_P(GzipSourceTest, AnyFlippedBitIsAnErrorNotWrongData) {
  const std::string text = generated_text(20'000);
  const std::string packed = gzip_compress(text);
  std::mt19937 rng(11);
  int errors = 0;
  for (int i = 0; i < 400; ++i) {
    std::string damaged = packed;
    const std::size_t at = 10 + rng() % (damaged.size() - 10); // past the header's flag-free part
    damaged[at] = static_cast<char>(damaged[at] ^ (1 << (rng() % 8)));
    auto source = inflate(memory_source(damaged, "f.gz", 1 + rng() % 5000));
    std::string out;
    std::string block(4096, '\0');
    std::string error;
    for (;;) {
      auto n = source->read(block.data(), block.size());
      if (!n) {
        error = n.error().message();
        break;
      }
      if (*n == 0)
        break;
      out.append(block.data(), *n);
    }
    if (error.empty()) {
      // Only a bit that means nothing (the final block's padding) may pass, and then the bytes
      // read are the original ones.
      EXPECT_EQ(out, text) << "byte " << at << ": other bytes read without an error";
      continue;
    }
    ++errors;
    EXPECT_TRUE(error.rfind("f.gz: corrupt gzip data (", 0) == 0 ||
                error == "f.gz: truncated gzip stream (unexpected end of file)")
        << error;
  }
  EXPECT_GE(errors, 390);
}

TEST_P(GzipSourceTest, ErrorsFromTheCompressedSourcePassThrough) {
  class FailingSource final : public ByteSource {
  public:
    Result<std::size_t> read(char*, std::size_t) override {
      return source_error("f.gz: read failed: input/output error");
    }
    const std::string& name() const override { return name_; }
    std::uint64_t position() const override { return 0; }
    std::uint64_t total() const override { return 0; }

  private:
    std::string name_ = "f.gz";
  };
  auto source = inflate(std::make_unique<FailingSource>());
  EXPECT_EQ(first_error(*source), "f.gz: read failed: input/output error");
}

TEST(ReadAhead, DeliversTheSameBytesWhateverTheBlockAndReadSizes) {
  for (const std::size_t block : {1ul, 7ul, 4096ul, 1ul << 20}) {
    // Tiny blocks mean a thread hand-off per byte or two: keep their input small.
    const std::string text = generated_text(block < 100 ? 5'000 : 300'000);
    const std::string packed = gzip_compress(text);
    for (const std::size_t capacity : {1ul, 13ul, 65536ul}) {
      auto source = read_ahead(gzip_source(memory_source(packed, "r.gz", 999)), block, 2);
      EXPECT_EQ(read_all(*source, capacity), text) << block << " " << capacity;
      EXPECT_EQ(source->position(), packed.size());
      EXPECT_EQ(source->total(), packed.size());
      EXPECT_EQ(source->name(), "r.gz");
    }
  }
}

TEST(ReadAhead, AnErrorArrivesAfterTheBytesBeforeItAndStays) {
  const std::string text = generated_text(50'000);
  const std::string packed = gzip_compress(text);
  auto source =
      read_ahead(gzip_source(memory_source(packed.substr(0, packed.size() - 5), "t.gz")), 4096, 3);
  std::string got;
  std::string block(1000, '\0');
  std::string error;
  for (;;) {
    auto n = source->read(block.data(), block.size());
    if (!n) {
      error = n.error().message();
      break;
    }
    ASSERT_NE(*n, 0u) << "a truncated stream must not end cleanly";
    got.append(block.data(), *n);
  }
  EXPECT_EQ(error, "t.gz: truncated gzip stream (unexpected end of file)");
  EXPECT_EQ(text.compare(0, got.size(), got), 0) << "bytes before the error are the stream's";
  EXPECT_FALSE(source->read(block.data(), block.size()).ok()) << "the error is sticky";
}

TEST(ReadAhead, EmptySourceAndEarlyDestruction) {
  auto empty = read_ahead(memory_source(""));
  EXPECT_EQ(read_all(*empty), "");
  // Destroyed while the producer is blocked on a full queue: must not hang or crash.
  auto busy = read_ahead(memory_source(generated_text(100'000)), 1024, 2);
  char byte = 0;
  ASSERT_TRUE(busy->read(&byte, 1).ok());
  busy.reset();
}

namespace {

// Drains a read-ahead source through its block hand-off the way a parser does: each turn it
// consumes a varying number of the buffered bytes, leaving the rest (`carry`, up to several
// headrooms' worth) unread, and asks for more. Every byte must arrive once, in order, after the
// unread ones. Returns the error message that ended it ("" for a clean end).
std::string drain_blocks(ByteSource& source, std::string& got, std::size_t seed) {
  auto* blocks = dynamic_cast<detail::BlockSource*>(&source);
  EXPECT_NE(blocks, nullptr) << "read_ahead() hands its blocks over";
  if (blocks == nullptr)
    return "no block source";
  std::mt19937 rng(static_cast<unsigned>(seed));
  std::string buffer;
  std::size_t begin = 0;
  std::size_t end = 0;
  bool eof = false;
  for (;;) {
    const std::string unread = buffer.substr(begin, end - begin);
    auto more = blocks->refill(buffer, begin, end, eof);
    if (!more) {
      got += unread;
      return more.error().message();
    }
    EXPECT_LE(end, buffer.size());
    EXPECT_EQ(buffer.compare(begin, unread.size(), unread), 0) << "the unread bytes come first";
    if (!*more) {
      EXPECT_TRUE(eof);
      EXPECT_EQ(end - begin, unread.size()) << "nothing is added at the end";
      got.append(buffer, begin, end - begin);
      return "";
    }
    EXPECT_GT(end - begin, unread.size());
    // Leave anything from nothing to more than the headroom unread.
    const std::size_t carry_limit = rng() % 3 == 0 ? 3 * detail::BlockSource::headroom : 64;
    const std::size_t carry = std::min(end - begin, static_cast<std::size_t>(rng()) % carry_limit);
    got.append(buffer, begin, end - begin - carry);
    begin = end - carry;
  }
}

} // namespace

TEST(ReadAhead, HandsBlocksOverWithTheUnreadBytesInFront) {
  for (const std::size_t block : {1ul, 5ul, 4096ul, 70'000ul, 1ul << 20}) {
    const std::string text = generated_text(block < 100 ? 20'000 : 3'000'000);
    for (const std::size_t chunk : {1ul, 999ul}) {
      auto source = read_ahead(memory_source(text, "b.csv", chunk), block, 3);
      std::string got;
      EXPECT_EQ(drain_blocks(*source, got, block + chunk), "");
      EXPECT_TRUE(got == text) << "block " << block << " chunk " << chunk;
      EXPECT_EQ(source->position(), text.size());
    }
  }
}

TEST(ReadAhead, HandedOverBlocksEndWithTheErrorAfterTheBytesBeforeIt) {
  const std::string text = generated_text(200'000);
  const std::string packed = gzip_compress(text);
  auto source =
      read_ahead(gzip_source(memory_source(packed.substr(0, packed.size() - 5), "t.gz")), 4096, 3);
  std::string got;
  EXPECT_EQ(drain_blocks(*source, got, 1), "t.gz: truncated gzip stream (unexpected end of file)");
  EXPECT_GT(got.size(), 0u);
  EXPECT_EQ(text.compare(0, got.size(), got), 0) << "bytes before the error are the stream's";

  auto empty = read_ahead(memory_source(""));
  std::string none;
  EXPECT_EQ(drain_blocks(*empty, none, 2), "");
  EXPECT_EQ(none, "");
}
