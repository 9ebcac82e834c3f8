#include <billdrop/byte_source.hpp>
#include <billdrop/growing_file.hpp>

#include <libdeflate.h>
#ifdef BILLDROP_HAVE_ISAL
#include <isa-l/igzip_lib.h>
#endif
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstring>
#include <fcntl.h>
#include <optional>
#include <sys/stat.h>
#include <unistd.h>

namespace billdrop {

namespace {

// Lower-case reasons that read well after "<path>: ".
std::string describe_errno(int error) {
  switch (error) {
  case ENOENT:
    return "no such file";
  case EACCES:
  case EPERM:
    return "permission denied";
  case EISDIR:
    return "is a directory";
  case ENOTDIR:
    return "a parent of the path is not a directory";
  default:
    break;
  }
  std::string reason = std::strerror(error);
  if (!reason.empty() && reason[0] >= 'A' && reason[0] <= 'Z')
    reason[0] = static_cast<char>(reason[0] - 'A' + 'a');
  return reason;
}

// A file read in blocks. A growing file (billdrop/growing_file.hpp: a remote object still being
// downloaded) is followed: a read that finds no bytes yet waits for them, and the end comes only
// once the file is whole; a failed download is the read's error.
class FileSource final : public ByteSource {
public:
  FileSource(int fd, std::string name, std::uint64_t total,
             std::optional<detail::GrowingFollower> growing)
      : fd_(fd), name_(std::move(name)), total_(growing ? growing->size() : total),
        growing_(std::move(growing)) {}
  ~FileSource() override { ::close(fd_); }
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;

  Result<std::size_t> read(char* buffer, std::size_t capacity) override {
    std::size_t done = 0;
    // Bytes already taken by peek() come first.
    if (peeked_begin_ < peeked_.size() && capacity > 0) {
      done = std::min(capacity, peeked_.size() - peeked_begin_);
      std::memcpy(buffer, peeked_.data() + peeked_begin_, done);
      peeked_begin_ += done;
      position_ += done;
      return done;
    }
    if (capacity == 0)
      return std::size_t{0};
    Result<std::size_t> n = read_file(buffer, capacity);
    if (n)
      position_ += *n;
    return n;
  }

  // Reads up to `count` bytes ahead without consuming them (for the gzip magic).
  Result<std::string_view> peek(std::size_t count) {
    while (peeked_.size() < count) {
      char block[64];
      Result<std::size_t> n = read_file(block, std::min(sizeof block, count - peeked_.size()));
      if (!n)
        return std::move(n).error();
      if (*n == 0)
        break;
      peeked_.append(block, *n);
    }
    return std::string_view(peeked_);
  }

  const std::string& name() const override { return name_; }
  std::uint64_t position() const override { return position_; }
  std::uint64_t total() const override { return total_; }

private:
  // The next bytes of the file: 0 only at its end (a growing file's end once it is whole).
  Result<std::size_t> read_file(char* buffer, std::size_t capacity) {
    for (;;) {
      const ssize_t n = ::read(fd_, buffer, std::min<std::size_t>(capacity, SSIZE_MAX));
      if (n > 0) {
        offset_ += static_cast<std::uint64_t>(n);
        return static_cast<std::size_t>(n);
      }
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return source_error(name_ + ": read failed: " + describe_errno(errno));
      if (!growing_)
        return std::size_t{0};
      Result<bool> more = growing_->wait(fd_, offset_);
      if (!more)
        return std::move(more).error();
      if (!*more) {
        growing_.reset(); // whole: plain reads from here
        return std::size_t{0};
      }
    }
  }

  int fd_;
  std::string name_;
  std::uint64_t total_;
  std::optional<detail::GrowingFollower> growing_;
  std::uint64_t position_ = 0; // bytes handed to the caller
  std::uint64_t offset_ = 0;   // bytes read from the file
  std::string peeked_;
  std::size_t peeked_begin_ = 0;
};

class MemorySource final : public ByteSource {
public:
  MemorySource(std::string data, std::string name, std::size_t chunk_limit)
      : data_(std::move(data)), name_(std::move(name)), chunk_limit_(chunk_limit) {}

  Result<std::size_t> read(char* buffer, std::size_t capacity) override {
    std::size_t n = std::min(capacity, data_.size() - offset_);
    if (chunk_limit_ != 0)
      n = std::min(n, chunk_limit_);
    std::memcpy(buffer, data_.data() + offset_, n);
    offset_ += n;
    return n;
  }

  const std::string& name() const override { return name_; }
  std::uint64_t position() const override { return offset_; }
  std::uint64_t total() const override { return data_.size(); }

private:
  std::string data_;
  std::string name_;
  std::size_t chunk_limit_;
  std::size_t offset_ = 0;
};

class GzipSource final : public ByteSource {
public:
  explicit GzipSource(std::unique_ptr<ByteSource> compressed)
      : compressed_(std::move(compressed)), input_(kInputBlock, '\0') {
    stream_.zalloc = Z_NULL;
    stream_.zfree = Z_NULL;
    stream_.opaque = Z_NULL;
    stream_.next_in = Z_NULL;
    stream_.avail_in = 0;
    // 16 + MAX_WBITS: expect a gzip header and trailer, not raw zlib. zlib parses the header and
    // finds the trailer; the trailer's CRC-32 and length are checked here instead (see
    // check_trailer), with libdeflate's carry-less-multiply CRC, about 3.5 times as fast as
    // zlib's own on this machine: a sixth of the time to inflate a CUR went to zlib's CRC.
    initialized_ =
        inflateInit2(&stream_, 16 + MAX_WBITS) == Z_OK && inflateValidate(&stream_, 0) == Z_OK;
  }
  ~GzipSource() override {
    if (initialized_)
      inflateEnd(&stream_);
  }
  GzipSource(const GzipSource&) = delete;
  GzipSource& operator=(const GzipSource&) = delete;

  Result<std::size_t> read(char* buffer, std::size_t capacity) override {
    if (!initialized_)
      return internal_error(name() + ": cannot initialise the gzip decoder (out of memory)");
    if (finished_ || capacity == 0)
      return std::size_t{0};
    // zlib counts in uInt; a shorter read is allowed by the contract.
    capacity = std::min<std::size_t>(capacity, UINT_MAX);
    stream_.next_out = reinterpret_cast<Bytef*>(buffer);
    stream_.avail_out = static_cast<uInt>(capacity);
    while (stream_.avail_out == capacity) {
      if (stream_.avail_in == 0) {
        auto filled = refill();
        if (!filled)
          return std::move(filled).error();
        if (!*filled) {
          // The compressed input ended. That is the end only between members.
          if (member_started_)
            return data_error(name() + ": truncated gzip stream (unexpected end of file)");
          if (members_ == 0)
            return data_error(name() + ": truncated gzip stream (the file is empty)");
          finished_ = true;
          break;
        }
      }
      if (!member_started_ && members_ > 0) {
        // Another member follows the previous one (as `cat a.gz b.gz` produces).
        if (inflateReset(&stream_) != Z_OK)
          return internal_error(name() + ": cannot reset the gzip decoder");
      }
      if (!member_started_) {
        member_started_ = true;
        crc_ = 0;
        member_bytes_ = 0;
      }
      Bytef* const produced_from = stream_.next_out;
      const int status = inflate(&stream_, Z_NO_FLUSH);
      const auto produced = static_cast<std::size_t>(stream_.next_out - produced_from);
      crc_ = libdeflate_crc32(crc_, produced_from, produced);
      member_bytes_ += produced;
      switch (status) {
      case Z_OK:
        break;
      case Z_STREAM_END:
        if (auto checked = check_trailer(); !checked)
          return std::move(checked).error();
        member_started_ = false;
        ++members_;
        break;
      case Z_BUF_ERROR:
        // No progress possible without more input; the loop refills (avail_in is 0 here).
        if (stream_.avail_in != 0)
          return internal_error(name() + ": gzip decoder made no progress");
        break;
      case Z_MEM_ERROR:
        return internal_error(name() + ": out of memory while decompressing gzip data");
      default: {
        std::string message = name() + ": corrupt gzip data";
        if (stream_.msg != nullptr)
          message += std::string(" (") + stream_.msg + ")";
        message += " at compressed byte " + std::to_string(consumed_offset());
        return data_error(std::move(message));
      }
      }
    }
    return capacity - stream_.avail_out;
  }

  const std::string& name() const override { return compressed_->name(); }
  std::uint64_t position() const override { return compressed_->position(); }
  std::uint64_t total() const override { return compressed_->total(); }

private:
  static constexpr std::size_t kInputBlock = 256 * 1024;

  // Reads the next compressed block; false at the end of the compressed input.
  Result<bool> refill() {
    remember_consumed();
    auto n = compressed_->read(input_.data(), input_.size());
    if (!n)
      return std::move(n).error();
    input_offset_ += *n;
    stream_.next_in = reinterpret_cast<Bytef*>(input_.data());
    stream_.avail_in = static_cast<uInt>(*n);
    return *n != 0;
  }

  std::uint64_t consumed_offset() const { return input_offset_ - stream_.avail_in; }

  // Keeps the last eight bytes zlib has consumed before the block about to be overwritten: a
  // member's trailer may straddle two blocks (or many, when the source returns a byte at a time).
  void remember_consumed() {
    const auto* block = reinterpret_cast<const unsigned char*>(input_.data());
    const auto consumed = static_cast<std::size_t>(stream_.next_in - block);
    if (stream_.next_in == Z_NULL || consumed == 0)
      return;
    for (std::size_t i = consumed > 8 ? consumed - 8 : 0; i < consumed; ++i) {
      std::memmove(history_.data(), history_.data() + 1, history_.size() - 1);
      history_.back() = block[i];
    }
  }

  // At the end of a member, zlib has just consumed its 8-byte trailer: CRC-32 of the member's
  // data, then its length modulo 2^32, both little-endian.
  Result<bool> check_trailer() const {
    const auto* block = reinterpret_cast<const unsigned char*>(input_.data());
    const auto in_block = static_cast<std::size_t>(stream_.next_in - block);
    std::array<unsigned char, 8> trailer{};
    for (std::size_t i = 0; i < trailer.size(); ++i) {
      const std::size_t back = trailer.size() - i; // 8 .. 1 bytes before next_in
      trailer[i] =
          back <= in_block ? block[in_block - back] : history_[history_.size() - (back - in_block)];
    }
    const auto word = [&](std::size_t at) {
      return static_cast<std::uint32_t>(trailer[at]) |
             static_cast<std::uint32_t>(trailer[at + 1]) << 8 |
             static_cast<std::uint32_t>(trailer[at + 2]) << 16 |
             static_cast<std::uint32_t>(trailer[at + 3]) << 24;
    };
    const char* problem = word(0) != crc_ ? "incorrect data check"
                          : word(4) != static_cast<std::uint32_t>(member_bytes_)
                              ? "incorrect length check"
                              : nullptr;
    if (problem == nullptr)
      return true;
    return data_error(name() + ": corrupt gzip data (" + problem + ") at compressed byte " +
                      std::to_string(consumed_offset()));
  }

  std::unique_ptr<ByteSource> compressed_;
  std::string input_;
  z_stream stream_{};
  bool initialized_ = false;
  bool member_started_ = false;
  bool finished_ = false;
  std::uint64_t members_ = 0;
  std::uint64_t input_offset_ = 0;
  std::uint32_t crc_ = 0;                  // CRC-32 of the current member's data so far
  std::uint64_t member_bytes_ = 0;         // its length so far
  std::array<unsigned char, 8> history_{}; // the last bytes consumed before input_'s block
};

#ifdef BILLDROP_HAVE_ISAL
// The gzip decoder on Intel's ISA-L (igzip), about twice as fast as zlib's inflate on this
// machine's CURs: it parses each member's header and checks its trailer (CRC-32 and length)
// itself. Members follow one another as zlib's decoder reads them.
class IsalGzipSource final : public ByteSource {
public:
  explicit IsalGzipSource(std::unique_ptr<ByteSource> compressed)
      : compressed_(std::move(compressed)), input_(kInputBlock, '\0') {
    state_ = std::make_unique<inflate_state>();
    isal_inflate_init(state_.get());
    state_->crc_flag = ISAL_GZIP;
  }

  Result<std::size_t> read(char* buffer, std::size_t capacity) override {
    if (finished_ || capacity == 0)
      return std::size_t{0};
    capacity = std::min<std::size_t>(capacity, UINT32_MAX);
    inflate_state& state = *state_;
    state.next_out = reinterpret_cast<std::uint8_t*>(buffer);
    state.avail_out = static_cast<std::uint32_t>(capacity);
    while (state.avail_out == capacity) {
      if (state.avail_in == 0 && !(member_started_ && state.block_state == ISAL_BLOCK_FINISH)) {
        auto filled = refill();
        if (!filled)
          return std::move(filled).error();
        if (!*filled) {
          // The compressed input ended. That is the end only between members.
          if (member_started_)
            return data_error(name() + ": truncated gzip stream (unexpected end of file)");
          if (members_ == 0)
            return data_error(name() + ": truncated gzip stream (the file is empty)");
          finished_ = true;
          break;
        }
      }
      if (!member_started_) {
        if (members_ > 0) {
          // Another member follows the previous one (as `cat a.gz b.gz` produces).
          std::uint8_t* const next_in = state.next_in;
          const std::uint32_t avail_in = state.avail_in;
          std::uint8_t* const next_out = state.next_out;
          const std::uint32_t avail_out = state.avail_out;
          isal_inflate_reset(&state);
          state.crc_flag = ISAL_GZIP;
          state.next_in = next_in;
          state.avail_in = avail_in;
          state.next_out = next_out;
          state.avail_out = avail_out;
        }
        member_started_ = true;
        magic_seen_ = 0;
      }
      // igzip waits for a whole header before it looks at one: the magic bytes are checked here,
      // so that a file that is no gzip at all says so, as zlib's decoder does.
      if (magic_seen_ < 2) {
        const std::uint32_t look = std::min<std::uint32_t>(2 - magic_seen_, state.avail_in);
        for (std::uint32_t i = 0; i < look; ++i)
          if (state.next_in[i] != kMagic[magic_seen_ + i])
            return data_error(name() + ": corrupt gzip data (incorrect header check) at " +
                              "compressed byte " + std::to_string(consumed_offset() + i));
      }
      const std::uint32_t in_before = state.avail_in;
      const std::uint32_t out_before = state.avail_out;
      const int status = isal_inflate(&state);
      magic_seen_ = std::min<std::uint32_t>(2, magic_seen_ + (in_before - state.avail_in));
      if (status < 0)
        return data_error(name() + ": corrupt gzip data (" + describe(status) +
                          ") at compressed byte " + std::to_string(consumed_offset()));
      if (state.block_state == ISAL_BLOCK_FINISH) {
        member_started_ = false;
        ++members_;
        continue;
      }
      if (state.avail_in == in_before && state.avail_out == out_before && state.avail_in != 0)
        return internal_error(name() + ": gzip decoder made no progress");
    }
    return capacity - state.avail_out;
  }

  const std::string& name() const override { return compressed_->name(); }
  std::uint64_t position() const override { return compressed_->position(); }
  std::uint64_t total() const override { return compressed_->total(); }

private:
  static constexpr std::size_t kInputBlock = 256 * 1024;
  static constexpr std::uint8_t kMagic[2] = {0x1f, 0x8b};

  static const char* describe(int status) {
    switch (status) {
    case ISAL_INCORRECT_CHECKSUM:
      return "incorrect data or length check";
    case ISAL_INVALID_WRAPPER:
      return "incorrect header check";
    case ISAL_UNSUPPORTED_METHOD:
      return "unknown compression method";
    case ISAL_INVALID_BLOCK:
      return "invalid block type";
    case ISAL_INVALID_SYMBOL:
      return "invalid code";
    case ISAL_INVALID_LOOKBACK:
      return "invalid distance too far back";
    default:
      return "invalid deflate data";
    }
  }

  // Reads the next compressed block; false at the end of the compressed input.
  Result<bool> refill() {
    auto n = compressed_->read(input_.data(), input_.size());
    if (!n)
      return std::move(n).error();
    input_offset_ += *n;
    state_->next_in = reinterpret_cast<std::uint8_t*>(input_.data());
    state_->avail_in = static_cast<std::uint32_t>(*n);
    return *n != 0;
  }

  std::uint64_t consumed_offset() const { return input_offset_ - state_->avail_in; }

  std::unique_ptr<ByteSource> compressed_;
  std::string input_;
  std::unique_ptr<inflate_state> state_; // about 50 KiB: on the heap
  bool member_started_ = false;
  std::uint32_t magic_seen_ = 0; // bytes of the current member's magic checked
  bool finished_ = false;
  std::uint64_t members_ = 0;
  std::uint64_t input_offset_ = 0;
};
#endif

} // namespace

Result<std::unique_ptr<ByteSource>> open_file(const std::filesystem::path& path,
                                              Compression compression) {
  const std::string name = path.string();
  int fd;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0)
    return source_error(name + ": cannot open: " + describe_errno(errno));
  struct stat info {};
  if (::fstat(fd, &info) != 0) {
    const int error = errno;
    ::close(fd);
    return source_error(name + ": cannot open: " + describe_errno(error));
  }
  if (S_ISDIR(info.st_mode)) {
    ::close(fd);
    return source_error(name + ": cannot open: is a directory");
  }
  const std::uint64_t total = S_ISREG(info.st_mode) ? static_cast<std::uint64_t>(info.st_size) : 0;
  // Looked for after the open: a status gone by now means the file was whole when opened.
  std::optional<detail::GrowingFollower> growing;
  if (S_ISREG(info.st_mode))
    growing = detail::GrowingFollower::open(path);
  auto file = std::make_unique<FileSource>(fd, name, total, std::move(growing));
  bool gzip = compression == Compression::gzip;
  if (compression == Compression::automatic) {
    auto head = file->peek(2);
    if (!head)
      return std::move(head).error();
    gzip = *head == std::string_view("\x1f\x8b", 2);
  }
  if (gzip)
    return gzip_source(std::move(file));
  return std::unique_ptr<ByteSource>(std::move(file));
}

std::unique_ptr<ByteSource> memory_source(std::string data, std::string name,
                                          std::size_t chunk_limit) {
  return std::make_unique<MemorySource>(std::move(data), std::move(name), chunk_limit);
}

bool isal_available() noexcept {
#ifdef BILLDROP_HAVE_ISAL
  return true;
#else
  return false;
#endif
}

std::unique_ptr<ByteSource> gzip_source(std::unique_ptr<ByteSource> compressed, Inflater inflater) {
#ifdef BILLDROP_HAVE_ISAL
  if (inflater != Inflater::zlib)
    return std::make_unique<IsalGzipSource>(std::move(compressed));
#endif
  (void)inflater;
  return std::make_unique<GzipSource>(std::move(compressed));
}

std::string gzip_compress(std::string_view data, int level) {
  z_stream stream{};
  // 16 + MAX_WBITS writes a gzip header and trailer; memLevel 8 is zlib's default.
  if (deflateInit2(&stream, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw ErrorException(internal_error("gzip_compress: cannot initialise zlib (bad level?)"));
  std::string out;
  out.resize(
      deflateBound(&stream, static_cast<uLong>(std::min<std::size_t>(data.size(), ULONG_MAX))) +
      64);
  std::size_t produced = 0;
  std::size_t consumed = 0;
  // zlib counts in uInt, so feed and drain at most 1 GiB per call.
  constexpr std::size_t kStep = std::size_t{1} << 30;
  for (;;) {
    const std::size_t in = std::min(kStep, data.size() - consumed);
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data() + consumed));
    stream.avail_in = static_cast<uInt>(in);
    const bool last = consumed + in == data.size();
    if (out.size() - produced < 64)
      out.resize(out.size() * 2);
    const std::size_t room = std::min(kStep, out.size() - produced);
    stream.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    stream.avail_out = static_cast<uInt>(room);
    const int status = deflate(&stream, last ? Z_FINISH : Z_NO_FLUSH);
    consumed += in - stream.avail_in;
    produced += room - stream.avail_out;
    if (status == Z_STREAM_END)
      break;
    if (status != Z_OK && status != Z_BUF_ERROR) {
      deflateEnd(&stream);
      throw ErrorException(internal_error("gzip_compress: zlib deflate failed"));
    }
  }
  deflateEnd(&stream);
  out.resize(produced);
  return out;
}

} // namespace billdrop
