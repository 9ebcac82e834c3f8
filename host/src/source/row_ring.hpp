#pragma once
// The shared-memory ring that carries a plugin runner's batches of rows to the host (issue 15),
// private to the source layer: the runner writes a batch's bytes (RowsEncoder's layout) into the
// ring and the reply pipe carries only "a batch at position P, H bytes of head, N bytes in all"
// (Frame::ring_rows); the host points bd_row and bd_field at the bytes where they lie, and gives
// the bytes back with Frame::release once its receiver is done with them. The kernel no longer
// copies every row twice through a pipe.
//
// Who may do what, since the runner is not trusted with the host's memory:
//   - The host creates the ring (a memfd), sizes it and seals it (F_SEAL_SHRINK, F_SEAL_GROW,
//     F_SEAL_SEAL) before the runner exists: a runner cannot shrink it under the host's mapping,
//     which would turn the host's next read of it into a SIGBUS. Punching holes in it is still
//     possible and harmless (a hole reads as zeros).
//   - The host maps it read-only and trusts nothing in it: a frame's position and sizes come from
//     the pipe and are checked against the ring's bounds (ring_span()), and the head of a batch
//     (its counts, key definitions and sizes: everything that decides where a bd_str points) is
//     copied out of the ring before it is parsed, so a runner that rewrites it meanwhile cannot
//     move a pointer outside the batch. The values stay where they are: a runner rewriting them
//     while the host validates changes only what the rows say (a plugin can write garbage rows
//     anyway), never where the host reads.
//   - The runner's mapping keeps the bytes of a batch the host still reads alive even when the
//     runner dies mid-batch: the pages belong to the memfd, which the host's mapping holds.
// Positions are absolute byte counts since the runner started (they only grow; the offset in
// the ring is position % capacity), so a release means "everything before P" whatever the laps,
// and a late or repeated one does no harm.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace billdrop::source::runner {

// Where a batch of `size` bytes at `position` lies in a ring of `capacity` bytes: its offset,
// or nullopt when it is not wholly inside the ring (it never wraps: the runner starts a batch
// that would cross the end at the start of the next lap).
inline std::optional<std::size_t> ring_span(std::uint64_t position, std::uint64_t size,
                                            std::size_t capacity) {
  if (capacity == 0 || size > capacity)
    return std::nullopt;
  const std::uint64_t offset = position % capacity;
  if (offset > capacity - size)
    return std::nullopt;
  return static_cast<std::size_t>(offset);
}

// The runner's bookkeeping: where the next batch goes, and whether the host still holds the bytes
// it would overwrite.
class RingPlacer {
public:
  explicit RingPlacer(std::size_t capacity) : capacity_(capacity) {}

  std::size_t capacity() const noexcept { return capacity_; }
  // The position of a batch of `size` bytes (at most capacity()): contiguous, from the next lap
  // when it would cross the end; nullopt while the host holds bytes it would overwrite (wait for
  // a release and ask again).
  std::optional<std::uint64_t> place(std::size_t size) {
    const std::uint64_t offset = head_ % capacity_;
    const std::uint64_t start = offset + size <= capacity_ ? head_ : head_ + (capacity_ - offset);
    if (released_ == head_)
      released_ = start; // the ring is empty: the gap skipped at the end of the lap is nobody's
    if (start + size - released_ > capacity_)
      return std::nullopt;
    head_ = start + size;
    return start;
  }
  // The host is done with everything before `position`.
  void release(std::uint64_t position) {
    if (position > released_)
      released_ = position < head_ ? position : head_;
  }
  // Between calls the host holds nothing: it answers a call only after its last batch.
  void release_all() { released_ = head_; }
  // Whether the host holds any bytes.
  bool empty() const noexcept { return released_ == head_; }

private:
  std::size_t capacity_;
  std::uint64_t head_ = 0;     // the end of the last batch placed
  std::uint64_t released_ = 0; // the host holds [released_, head_)
};

// A mapping of the ring: the host's (read-only) or the runner's (writable). Unmapped and closed
// by the destructor.
class RowRing {
public:
  RowRing() = default;
  ~RowRing();
  RowRing(RowRing&& other) noexcept;
  RowRing& operator=(RowRing&& other) noexcept;
  RowRing(const RowRing&) = delete;
  RowRing& operator=(const RowRing&) = delete;

  // The host's: a sealed memfd of `capacity` bytes, mapped read-only; `fd()` is for the runner
  // (close-on-exec, at 10 or above). nullopt with `error` set when the kernel refuses.
  static std::optional<RowRing> create(std::size_t capacity, std::string& error);
  // The runner's: the memfd at `fd`, which must be exactly `capacity` bytes, mapped writable.
  static std::optional<RowRing> map_writable(int fd, std::size_t capacity, std::string& error);

  int fd() const noexcept { return fd_; }
  void close_fd();
  std::size_t capacity() const noexcept { return capacity_; }
  const char* data() const noexcept { return data_; }
  char* writable_data() noexcept { return data_; }

private:
  int fd_ = -1;
  char* data_ = nullptr;
  std::size_t capacity_ = 0;
};

} // namespace billdrop::source::runner
