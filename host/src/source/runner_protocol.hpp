#pragma once
// The pipe protocol between the host and its plugin runner (`billdrop __plugin-runner`), private
// to the source layer: process_session.cpp speaks it on the host's side, plugin_runner.cpp on the
// runner's. Both ends are the same binary on the same machine, so integers go in native byte
// order and no version is negotiated.
//
// Every message is a frame: a 4-byte type, a 4-byte payload size, the payload. Strings are a
// 4-byte size and the bytes. A batch of rows keeps the layout the plugin gave: the row count, the
// field count, the keys not sent before, then per row its field count and origin size, per field
// its key's number and its value's size (a byte each, mostly), then every byte of every origin
// and value one after the other (RowsEncoder below). The receiving side points bd_row and bd_field
// at those bytes where they lie, and at its table of keys: no per-row allocation, and a column's
// name crosses once per runner.
//
// Where the bytes lie: in the shared-memory ring (row_ring.hpp) when the host gave one and the
// batch takes at most a quarter of it, announced by a small kRingRows frame on the pipe; the host
// gives the bytes back with kRelease on the requests socket. Else (no ring, or a batch of huge
// rows that would wait for the host to empty most of the ring) the batch is the payload of a kRows
// frame in the pipe itself. Both kinds keep their order on the pipe, so rows arrive in order.
//
// Descriptors of the runner: 0 /dev/null; 1 a pipe the host watches (any byte on it is a plugin
// printing to stdout, a failure); 2 the host's stderr; 3 requests (host -> runner, a socket: a
// request to a dead runner is an error, not a SIGPIPE); 4 replies
// (runner -> host); 5 an alarm pipe, written once when an allocation fails under the memory
// limit, so the host can tell a plugin that ran out of its memory_limit_mb from any other crash;
// 6 the ring's memfd, when the open request gives the ring's size.

#include <billdrop/plugin.h>

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace billdrop::source::runner {

inline constexpr int kRequestFd = 3;
inline constexpr int kReplyFd = 4;
inline constexpr int kAlarmFd = 5;
inline constexpr int kRingFd = 6;
inline constexpr const char* kSubcommand = "__plugin-runner";

enum class Frame : std::uint32_t {
  // host -> runner
  open = 1,       // path, expected name, config JSON, memory_limit_mb (u64), ring bytes (u64)
  check = 2,      // -
  months = 3,     // -
  read = 4,       // month "YYYY-MM"
  read_since = 5, // cursor
  stop = 6,       // the receiver asked the read to stop (sent at most once per read)
  read_all = 7,   // - (every month in one pass, ABI 1.4)
  release = 8,    // position (u64): the ring's bytes before it are the runner's again
  // runner -> host, during a call
  rows = 20,         // a batch (see above)
  reject = 21,       // origin, reason
  reject_field = 22, // origin, column, rule, reason
  progress = 23,     // done (u64), total (u64)
  log = 24,          // level (u32), message
  note = 25,         // key, count (u64)
  cursor = 26,       // cursor
  host_log = 27,     // level (u32), message: bd_host::log (ABI 1.4), in any call, open included
  ring_rows = 28,    // position (u64), head size (u32), size (u32): a batch in the ring
  // runner -> host, the end of a call
  result = 40, // kind (u32, 0 = ok, else ErrorKind + 1), retryable (u32), message, then per call:
               // open: incremental (u32), identity column count (u32), columns, one_pass (u32);
               // months: count (u32), "YYYY-MM" each; read_since: the next cursor
};

struct FrameHeader {
  std::uint32_t type;
  std::uint32_t size;
};
static_assert(sizeof(FrameHeader) == 8);

// Calls `step(data, size)` (a read, write or send of at most `size` bytes, returning what ::read
// returns) until every byte has moved, again after a signal; false at the end of the input or on
// an error.
template <class Byte, class Step>
bool move_fully(Byte* data, std::size_t size, Step step) {
  while (size > 0) {
    const ssize_t n = step(data, size);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

// Reads exactly `size` bytes from the pipe or socket `fd`.
inline bool read_fully(int fd, char* data, std::size_t size) {
  return move_fully(data, size, [fd](char* at, std::size_t n) { return ::read(fd, at, n); });
}

// Writes every byte of [data, data + size) to `fd`; false when the reader is gone.
inline bool write_fully(int fd, const char* data, std::size_t size) {
  return move_fully(data, size, [fd](const char* at, std::size_t n) { return ::write(fd, at, n); });
}

// The next frame on `fd`, its type and payload; nullopt at the end of the input (the other end is
// done, or gone).
inline std::optional<std::pair<Frame, std::string>> read_frame(int fd) {
  FrameHeader header{};
  if (!read_fully(fd, reinterpret_cast<char*>(&header), sizeof header))
    return std::nullopt;
  std::string payload(header.size, '\0');
  if (!read_fully(fd, payload.data(), payload.size()))
    return std::nullopt;
  return std::make_pair(static_cast<Frame>(header.type), std::move(payload));
}

// Appends frames to a byte buffer.
class Writer {
public:
  explicit Writer(std::string& out) : out_(out) {}

  // Starts a frame; its size is filled in by end().
  void begin(Frame type) {
    start_ = out_.size();
    const FrameHeader header{static_cast<std::uint32_t>(type), 0};
    out_.append(reinterpret_cast<const char*>(&header), sizeof header);
  }
  void end() {
    const auto size = static_cast<std::uint32_t>(out_.size() - start_ - sizeof(FrameHeader));
    std::memcpy(out_.data() + start_ + offsetof(FrameHeader, size), &size, sizeof size);
  }
  void u32(std::uint32_t value) { out_.append(reinterpret_cast<const char*>(&value), 4); }
  void u64(std::uint64_t value) { out_.append(reinterpret_cast<const char*>(&value), 8); }
  void text(std::string_view value) {
    u32(static_cast<std::uint32_t>(value.size()));
    out_.append(value.data(), value.size());
  }

private:
  std::string& out_;
  std::size_t start_ = 0;
};

// Reads a frame's payload; a payload too short for what is read makes ok() false.
class Reader {
public:
  Reader(const char* data, std::size_t size) : data_(data), left_(size) {}

  bool ok() const noexcept { return ok_; }
  std::uint32_t u32() { return number<std::uint32_t>(); }
  std::uint64_t u64() { return number<std::uint64_t>(); }
  std::string_view text() {
    const std::uint32_t size = u32();
    if (!ok_ || size > left_) {
      ok_ = false;
      return {};
    }
    std::string_view out(data_, size);
    data_ += size;
    left_ -= size;
    return out;
  }
  const char* position() const noexcept { return data_; }
  std::size_t left() const noexcept { return left_; }

private:
  template <typename T>
  T number() {
    T value{};
    if (left_ < sizeof value) {
      ok_ = false;
      return value;
    }
    std::memcpy(&value, data_, sizeof value);
    data_ += sizeof value;
    left_ -= sizeof value;
    return value;
  }
  const char* data_;
  std::size_t left_;
  bool ok_ = true;
};

// The runner's side of the column names: a batch names each field's key by a number, and a key's
// text crosses the pipe once, the first time it is used (rows of one source repeat the same keys
// row after row, often most of a row's bytes). A key is first compared with the key at the same
// position in the previous row, which is nearly always it: no hashing per field.
class KeyEncoder {
public:
  // The number of `key`, defining it (appended to `defined`) when it is new.
  std::uint32_t id(std::size_t position, bd_str key, std::vector<bd_str>& defined) {
    if (position < by_position_.size()) {
      const Cached& cached = by_position_[position];
      if (cached.text.size() == key.size && same_bytes(cached.text.data(), key.data, key.size))
        return cached.id;
    } else {
      by_position_.resize(position + 1);
    }
    const std::string_view text(key.data, key.size);
    std::uint32_t found;
    if (auto it = ids_.find(text); it != ids_.end()) {
      found = it->second;
    } else {
      found = static_cast<std::uint32_t>(names_.size());
      names_.emplace_back(text);
      ids_.emplace(names_.back(), found);
      defined.push_back(key);
    }
    by_position_[position] = Cached{names_[found], found};
    return found;
  }

private:
  // Whether n bytes at a and b are equal. Keys are mostly 10 to 40 bytes, where comparing words
  // inline costs less than the call to memcmp (this runs for every field of every row).
  static bool same_bytes(const char* a, const char* b, std::size_t n) {
    const auto word = [](const char* p) {
      std::uint64_t v;
      std::memcpy(&v, p, 8);
      return v;
    };
    if (n >= 8) {
      const char* const a_last = a + n - 8; // the last word, overlapping the one before
      const char* const b_last = b + n - 8;
      for (; a < a_last; a += 8, b += 8)
        if (word(a) != word(b))
          return false;
      return word(a_last) == word(b_last);
    }
    for (std::size_t i = 0; i < n; ++i)
      if (a[i] != b[i])
        return false;
    return true;
  }
  struct Cached {
    std::string_view text; // into names_
    std::uint32_t id = 0;
  };

  std::deque<std::string> names_; // by number; a deque keeps the views valid
  std::unordered_map<std::string_view, std::uint32_t> ids_;
  std::vector<Cached> by_position_; // the key at each position in the row before
};

// The host's side: the key texts by number, where bd_field::key can point for as long as the
// runner lives.
class KeyTable {
public:
  void add(std::string_view text) {
    names_.emplace_back(text);
    views_.push_back(bd_str{names_.back().data(), names_.back().size()});
  }
  std::size_t size() const noexcept { return views_.size(); }
  const bd_str& operator[](std::size_t id) const noexcept { return views_[id]; }

private:
  std::deque<std::string> names_; // a deque never moves its strings: the views stay valid
  std::vector<bd_str> views_;
};

// A small number in one byte (below 255), else 255 and the number in four: a field's key number
// and value size are nearly always small, so a field costs two bytes besides its value. Writes
// at most kSmallMax bytes at `out`; returns the end.
inline constexpr std::size_t kSmallMax = 5;
inline char* put_small(char* out, std::size_t value) {
  if (value < 255) {
    *out = static_cast<char>(value);
    return out + 1;
  }
  *out = static_cast<char>(255);
  const auto v = static_cast<std::uint32_t>(value);
  std::memcpy(out + 1, &v, 4);
  return out + 5;
}

// A batch of rows in the layout above, measured before it is written, so that it goes straight
// into the ring or into a frame of its exact size. Layout: row count, field count, new key count,
// the size of the sizes section; each new key (size, bytes); the sizes section: per row its field
// count and origin size, per field its key number and value size (put_small() each); then the
// bytes of every origin and value in order. Everything before those bytes is the batch's head.
class RowsEncoder {
public:
  // Measures `rows` (which must stay valid until write()) and numbers their keys: a key new here
  // is defined in this batch, so every batch measured must then be written and sent.
  void measure(const bd_row* rows, std::size_t count) {
    rows_ = rows;
    count_ = count;
    defined_.clear();
    fields_ = 0;
    for (std::size_t i = 0; i < count; ++i)
      fields_ += rows[i].field_count;
    // The sizes go through a pointer into room for the most they can take (no check per byte).
    const std::size_t most = (count + fields_) * 2 * kSmallMax;
    if (sizes_capacity_ < most) {
      sizes_capacity_ = std::max(most, sizes_capacity_ * 2);
      sizes_.reset(new char[sizes_capacity_]);
    }
    char* out = sizes_.get();
    std::size_t bytes = 0;
    for (std::size_t i = 0; i < count; ++i) {
      const bd_row& row = rows[i];
      bytes += row.origin.size;
      out = put_small(out, row.field_count);
      out = put_small(out, row.origin.size);
      for (std::size_t f = 0; f < row.field_count; ++f) {
        bytes += row.fields[f].value.size;
        out = put_small(out, keys_.id(f, row.fields[f].key, defined_));
        out = put_small(out, row.fields[f].value.size);
      }
    }
    sizes_size_ = static_cast<std::size_t>(out - sizes_.get());
    std::size_t definitions = 0;
    for (const bd_str& key : defined_)
      definitions += 4 + key.size;
    head_size_ = 16 + definitions + sizes_size_;
    size_ = head_size_ + bytes;
  }
  // The batch's bytes, and those of its head.
  std::size_t size() const noexcept { return size_; }
  std::size_t head_size() const noexcept { return head_size_; }
  // Writes the batch measured last: exactly size() bytes.
  void write(char* p) const {
    const auto put32 = [&p](std::size_t value) {
      const auto v = static_cast<std::uint32_t>(value);
      std::memcpy(p, &v, 4);
      p += 4;
    };
    put32(count_);
    put32(fields_);
    put32(defined_.size());
    put32(sizes_size_);
    for (const bd_str& key : defined_) {
      put32(key.size);
      if (key.size > 0)
        std::memcpy(p, key.data, key.size);
      p += key.size;
    }
    if (sizes_size_ > 0) // an empty batch has no sizes (and may have no buffer)
      std::memcpy(p, sizes_.get(), sizes_size_);
    p += sizes_size_;
    for (std::size_t i = 0; i < count_; ++i) {
      const bd_row& row = rows_[i];
      if (row.origin.size > 0)
        std::memcpy(p, row.origin.data, row.origin.size);
      p += row.origin.size;
      for (std::size_t f = 0; f < row.field_count; ++f) {
        const bd_str& value = row.fields[f].value;
        if (value.size > 0)
          std::memcpy(p, value.data, value.size);
        p += value.size;
      }
    }
  }

private:
  KeyEncoder keys_;
  std::vector<bd_str> defined_;   // the keys new in the batch measured last
  std::unique_ptr<char[]> sizes_; // its sizes section
  std::size_t sizes_capacity_ = 0;
  std::size_t sizes_size_ = 0;
  const bd_row* rows_ = nullptr;
  std::size_t count_ = 0;
  std::size_t fields_ = 0;
  std::size_t head_size_ = 0;
  std::size_t size_ = 0;
};

// Appends a kRows frame holding the batch `encoder` measured last (the batch goes through the
// pipe).
inline void append_rows(std::string& out, const RowsEncoder& encoder) {
  const std::size_t start = out.size();
  out.resize(start + sizeof(FrameHeader) + encoder.size());
  const FrameHeader header{static_cast<std::uint32_t>(Frame::rows),
                           static_cast<std::uint32_t>(encoder.size())};
  std::memcpy(out.data() + start, &header, sizeof header);
  encoder.write(out.data() + start + sizeof header);
}

// Decodes a batch into `rows` and `fields`, which point into `values` and into `keys` (new keys
// are added to it). `head` is the batch's head (counts, definitions, sizes) and must hold nothing
// else; `values` its origins and values. False when they are not a well-formed batch. Every size
// is read once, from `head`, and checked before it is used: the host passes a private copy of a
// head that came through the ring, so that only the value bytes can change while it parses.
inline bool read_rows(const char* head, std::size_t head_size, const char* values,
                      std::size_t values_size, KeyTable& keys, std::vector<bd_row>& rows,
                      std::vector<bd_field>& fields) {
  Reader in(head, head_size);
  const std::uint32_t count = in.u32();
  const std::uint32_t field_count = in.u32();
  const std::uint32_t defined = in.u32();
  const std::uint32_t sizes_size = in.u32();
  for (std::uint32_t i = 0; i < defined && in.ok(); ++i)
    keys.add(in.text());
  if (!in.ok() || sizes_size != in.left())
    return false;
  // Every row and every field takes at least two bytes of sizes: counts beyond that are lies,
  // which must not size the vectors below.
  if (count > sizes_size / 2 || field_count > sizes_size / 2)
    return false;
  rows.resize(count);
  fields.resize(field_count);
  const char* sizes = in.position();
  const char* const sizes_end = sizes + sizes_size;
  const char* blob = values;
  const char* const end = values + values_size;
  bool ok = true;
  const auto get_small = [&]() -> std::uint32_t {
    if (sizes >= sizes_end) {
      ok = false;
      return 0;
    }
    const auto first = static_cast<unsigned char>(*sizes++);
    if (first < 255)
      return first;
    if (sizes_end - sizes < 4) {
      ok = false;
      return 0;
    }
    std::uint32_t v;
    std::memcpy(&v, sizes, 4);
    sizes += 4;
    return v;
  };
  const auto take = [&blob, end](std::uint32_t n, bd_str& into) {
    if (static_cast<std::size_t>(end - blob) < n)
      return false;
    into = bd_str{blob, n};
    blob += n;
    return true;
  };
  std::size_t next_field = 0;
  for (std::uint32_t i = 0; i < count; ++i) {
    const std::uint32_t row_fields = get_small();
    const std::uint32_t origin = get_small();
    if (!ok || row_fields > field_count - next_field || !take(origin, rows[i].origin))
      return false;
    rows[i].fields = fields.data() + next_field;
    rows[i].field_count = row_fields;
    for (std::uint32_t f = 0; f < row_fields; ++f) {
      bd_field& field = fields[next_field++];
      const std::uint32_t key = get_small();
      const std::uint32_t value = get_small();
      if (!ok || key >= keys.size() || !take(value, field.value))
        return false;
      field.key = keys[key];
    }
  }
  return next_field == field_count && sizes == sizes_end && blob == end;
}

// The size of a batch's head, read from the batch; 0 when it cannot be a batch. For a batch in
// host memory (a kRows payload): one in the ring has its head size in its frame.
inline std::size_t rows_head_size(const char* data, std::size_t size) {
  Reader in(data, size);
  in.u32();
  in.u32();
  const std::uint32_t defined = in.u32();
  const std::uint32_t sizes_size = in.u32();
  for (std::uint32_t i = 0; i < defined && in.ok(); ++i)
    in.text();
  if (!in.ok() || sizes_size > in.left())
    return 0;
  return size - in.left() + sizes_size;
}

// Decodes a kRows payload, which holds a whole batch.
inline bool read_rows(const char* data, std::size_t size, KeyTable& keys, std::vector<bd_row>& rows,
                      std::vector<bd_field>& fields) {
  const std::size_t head = rows_head_size(data, size);
  return head > 0 && read_rows(data, head, data + head, size - head, keys, rows, fields);
}

} // namespace billdrop::source::runner
