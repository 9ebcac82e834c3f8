// A plugin runner that breaks the rules of the shared-memory ring on purpose, for
// tests/host/source/row_transport_test.cpp: ProcessSession starts it in place of
// `billdrop __plugin-runner` (ProcessOptions::runner). It loads no plugin; it answers the open
// request as a runner does (the host loaded the `good` plugin for its schema) and answers a read
// as its mode says. The mode is the `account` of good's configuration, which the host passes on
// in the open request's config JSON.
//
//   valid             3 rows ("hostile:1".."hostile:3", one field x=1..3) through the ring: the
//                     proof that this runner speaks the protocol, so the others test the host
//   outside           a batch that runs past the end of the ring
//   wrapped_position  a position near 2^64 (whose size would wrap around)
//   head_beyond       a head larger than its batch
//   no_ring           a ring batch although the host gave no ring (run it with ring_bytes = 0)
//   garbage           a batch of random bytes, inside the ring
//   lying_counts      a batch whose head claims 2^32 - 1 rows
//   shrink            tries to shrink and to grow the ring (the host's seals refuse: each refusal
//                     is logged as "ftruncate to N refused: <reason>"), then sends `valid`'s rows
//                     from the last bytes of the ring
//   scribble          sends the valid batch 2,000 times while another thread rewrites its bytes
//                     (head included) at random
//   killed            writes half of the valid batch into the ring, then kills itself (SIGKILL)
#include "source/row_ring.hpp"
#include "source/runner_protocol.hpp"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

using billdrop::source::runner::Frame;
namespace runner = billdrop::source::runner;

// Writes the frames to the host; a host gone ends the runner.
void write_all(int fd, const std::string& bytes) {
  if (!runner::write_fully(fd, bytes.data(), bytes.size()))
    ::_exit(0);
}

std::optional<std::pair<Frame, std::string>> next_request() {
  return runner::read_frame(runner::kRequestFd);
}

void ok_result(std::string& out) {
  runner::Writer w(out);
  w.begin(Frame::result);
  w.u32(0);
  w.u32(0);
  w.text("");
  w.end();
}

void ring_frame(std::string& out, std::uint64_t position, std::uint32_t head, std::uint32_t size) {
  runner::Writer w(out);
  w.begin(Frame::ring_rows);
  w.u64(position);
  w.u32(head);
  w.u32(size);
  w.end();
}

void log_frame(std::string& out, const std::string& message) {
  runner::Writer w(out);
  w.begin(Frame::log);
  w.u32(BD_LOG_INFO);
  w.text(message);
  w.end();
}

// The 3 rows of `valid`, encoded.
struct ValidBatch {
  std::vector<std::string> origins = {"hostile:1", "hostile:2", "hostile:3"};
  std::vector<std::string> values = {"1", "2", "3"};
  std::vector<bd_field> fields;
  std::vector<bd_row> rows;
  runner::RowsEncoder encoder;
  ValidBatch() {
    for (std::size_t i = 0; i < 3; ++i)
      fields.push_back(bd_field{bd_str{"x", 1}, bd_str{values[i].data(), values[i].size()}});
    for (std::size_t i = 0; i < 3; ++i)
      rows.push_back(bd_row{&fields[i], 1, bd_str{origins[i].data(), origins[i].size()}});
    encoder.measure(rows.data(), rows.size());
  }
};

void try_resize(std::string& out, int fd, off_t size) {
  if (::ftruncate(fd, size) == 0)
    log_frame(out, "ftruncate to " + std::to_string(size) + " succeeded");
  else
    log_frame(out, "ftruncate to " + std::to_string(size) + " refused: " + std::strerror(errno));
}

void answer_read(const std::string& mode, std::optional<runner::RowRing>& ring, int ring_fd,
                 std::size_t capacity) {
  std::string out;
  ValidBatch valid;
  const auto size = static_cast<std::uint32_t>(valid.encoder.size());
  const auto head = static_cast<std::uint32_t>(valid.encoder.head_size());
  char* data = ring ? ring->writable_data() : nullptr;
  if (mode == "valid" && ring) {
    valid.encoder.write(data);
    ring_frame(out, 0, head, size);
  } else if (mode == "outside") {
    ring_frame(out, capacity - 8, 16, 64);
  } else if (mode == "wrapped_position") {
    ring_frame(out, UINT64_MAX - 3, 16, 64);
  } else if (mode == "head_beyond") {
    ring_frame(out, 0, 65, 64);
  } else if (mode == "no_ring") {
    ring_frame(out, 0, head, size);
  } else if (mode == "garbage" && ring) {
    std::mt19937 random(7);
    for (std::size_t i = 0; i < 4096; ++i)
      data[i] = static_cast<char>(random());
    ring_frame(out, 0, 100, 4096);
  } else if (mode == "lying_counts" && ring) {
    valid.encoder.write(data);
    const std::uint32_t lie = UINT32_MAX;
    std::memcpy(data, &lie, 4);     // the row count
    std::memcpy(data + 4, &lie, 4); // the field count
    ring_frame(out, 0, head, size);
  } else if (mode == "shrink" && ring) {
    try_resize(out, ring_fd, 0);
    try_resize(out, ring_fd, static_cast<off_t>(capacity) * 2);
    valid.encoder.write(data + capacity - size);
    ring_frame(out, capacity - size, head, size);
  } else if (mode == "scribble" && ring) {
    valid.encoder.write(data);
    std::atomic<bool> done{false};
    std::thread scribbler([&] {
      std::mt19937 random(11);
      while (!done.load(std::memory_order_relaxed))
        data[random() % size] = static_cast<char>(random());
    });
    for (int i = 0; i < 2000; ++i) {
      ring_frame(out, 0, head, size);
      write_all(runner::kReplyFd, out);
      out.clear();
    }
    done = true;
    scribbler.join();
  } else if (mode == "killed" && ring) {
    std::string whole(size, '\0');
    valid.encoder.write(whole.data());
    std::memcpy(data, whole.data(), size / 2);
    ::raise(SIGKILL);
  }
  ok_result(out);
  write_all(runner::kReplyFd, out);
}

} // namespace

int main() {
  ::signal(SIGPIPE, SIG_DFL);
  std::string mode;
  std::optional<runner::RowRing> ring;
  std::size_t capacity = 0;
  while (std::optional<std::pair<Frame, std::string>> request = next_request()) {
    const auto& [type, payload] = *request;
    if (type == Frame::stop || type == Frame::release)
      continue;
    if (type == Frame::open) {
      runner::Reader in(payload.data(), payload.size());
      in.text(); // path
      in.text(); // name
      const std::string config(in.text());
      in.u64(); // memory limit
      capacity = static_cast<std::size_t>(in.u64());
      for (const char* name : {"valid", "outside", "wrapped_position", "head_beyond", "no_ring",
                               "garbage", "lying_counts", "shrink", "scribble", "killed"})
        if (config.find('"' + std::string(name) + '"') != std::string::npos)
          mode = name;
      if (capacity > 0) {
        std::string error;
        ring = runner::RowRing::map_writable(runner::kRingFd, capacity, error);
      }
      std::string out;
      runner::Writer w(out);
      w.begin(Frame::result);
      w.u32(0);
      w.u32(0);
      w.text("");
      w.u32(0); // not incremental
      w.u32(0); // no identity columns
      w.u32(0); // not one pass
      w.end();
      write_all(runner::kReplyFd, out);
    } else if (type == Frame::read) {
      answer_read(mode, ring, runner::kRingFd, capacity);
    } else {
      std::string out;
      ok_result(out);
      write_all(runner::kReplyFd, out);
    }
  }
  return 0;
}
