#pragma once
// Streaming byte sources: a file read in blocks, optionally gzip-compressed (detected from its
// magic bytes, multi-member archives included). Readers above (CSV, JSON records) pull blocks
// from a ByteSource and never hold a whole file in memory.

#include <billdrop/result.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace billdrop {

class ByteSource {
public:
  virtual ~ByteSource() = default;

  // Reads up to `capacity` bytes into `buffer`. Returns 0 only at the end of the data. An error
  // names the source (e.g. "usage.csv.gz: truncated gzip stream").
  virtual Result<std::size_t> read(char* buffer, std::size_t capacity) = 0;

  // For messages: the file name or a label given by the caller.
  virtual const std::string& name() const = 0;

  // Progress in the underlying stream's unit (compressed bytes for gzip), and its total if known.
  virtual std::uint64_t position() const = 0;
  virtual std::uint64_t total() const = 0; // 0 when unknown
};

enum class Compression { automatic, none, gzip };

// Opens a file; with Compression::automatic a gzip magic (1f 8b) selects the gzip decoder.
// Errors name the path and the reason ("no such file", "permission denied").
Result<std::unique_ptr<ByteSource>> open_file(const std::filesystem::path& path,
                                              Compression compression = Compression::automatic);

// Bytes held in memory (a copy), e.g. for tests. `chunk_limit` caps each read() so that tests can
// feed a parser one byte at a time.
std::unique_ptr<ByteSource> memory_source(std::string data, std::string name = "<memory>",
                                          std::size_t chunk_limit = 0);

// The gzip decoder: ISA-L's igzip (the default where billdrop was built with it: Debian's
// libisal-dev), else zlib. Both read concatenated members and check every member's CRC-32 and
// length; only their messages differ (zlib's says which check failed).
enum class Inflater { fastest, zlib };
// True when this build has ISA-L.
bool isal_available() noexcept;

// Wraps another source with a gzip decoder.
std::unique_ptr<ByteSource> gzip_source(std::unique_ptr<ByteSource> compressed,
                                        Inflater inflater = Inflater::fastest);

// Reads `inner` on a background thread, up to `blocks` blocks of `block_bytes` ahead of the
// consumer, so that decompression (gzip inflate costs about as much as parsing) runs on a second
// core while the caller parses. Errors arrive in stream order, at the point where they happened.
// Only the background thread touches `inner` after this call. position()/total() report the
// inner source's progress as of the last block handed to the caller.
std::unique_ptr<ByteSource> read_ahead(std::unique_ptr<ByteSource> inner,
                                       std::size_t block_bytes = 1 << 20, std::size_t blocks = 4);

// Compresses bytes with gzip (for tests, fixtures and the file destination).
std::string gzip_compress(std::string_view data, int level = 6);

} // namespace billdrop
