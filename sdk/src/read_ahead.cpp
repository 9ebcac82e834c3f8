// A ByteSource that fills blocks from another source on a background thread (see byte_source.hpp).
//
// Hand-written rather than taken from a library: it is a bounded single-producer/single-consumer
// queue of a few buffers, and the standard library's thread, mutex and condition variable are all
// it needs.

#include <billdrop/byte_source.hpp>
#include <billdrop/detail/block_source.hpp>

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace billdrop {
namespace {

// Every block's bytes start at detail::BlockSource::headroom in its buffer.
constexpr std::size_t headroom = detail::BlockSource::headroom;

class ReadAheadSource final : public detail::BlockSource {
public:
  ReadAheadSource(std::unique_ptr<ByteSource> inner, std::size_t block_bytes, std::size_t blocks)
      : inner_(std::move(inner)), name_(inner_->name()), total_(inner_->total()),
        block_bytes_(block_bytes == 0 ? 1 << 20 : block_bytes),
        max_blocks_(blocks == 0 ? 1 : blocks) {
    worker_ = std::thread([this] { produce(); });
  }
  ~ReadAheadSource() override {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    space_.notify_all();
    worker_.join();
  }

  Result<std::size_t> read(char* buffer, std::size_t capacity) override {
    if (capacity == 0)
      return std::size_t{0};
    if (current_offset_ == current_.data.size()) {
      if (current_.last) // end of data or an error, already handed out
        return finish();
      std::string previous = std::move(current_.data);
      current_ = take();
      give_back(std::move(previous));
      current_offset_ = headroom;
      if (current_offset_ == current_.data.size())
        return finish();
    }
    const std::size_t n = std::min(capacity, current_.data.size() - current_offset_);
    std::memcpy(buffer, current_.data.data() + current_offset_, n);
    current_offset_ += n;
    return n;
  }

  Result<bool> refill(std::string& buffer, std::size_t& begin, std::size_t& end,
                      bool& eof) override {
    if (eof)
      return false;
    if (current_.last) // end of data or an error, already handed out
      return end_of_data(eof);
    current_ = take();
    std::string& fresh = current_.data;
    const std::size_t carry = end - begin;
    const std::size_t n = fresh.size() - headroom;
    if (n == 0) {
      give_back(std::move(fresh));
      return end_of_data(eof);
    }
    if (carry <= headroom) {
      std::memcpy(fresh.data() + headroom - carry, buffer.data() + begin, carry);
      give_back(std::exchange(buffer, std::move(fresh)));
      begin = headroom - carry;
    } else {
      // A record longer than the headroom: the new bytes go after it instead.
      std::memmove(buffer.data(), buffer.data() + begin, carry);
      buffer.resize(carry + n);
      std::memcpy(buffer.data() + carry, fresh.data() + headroom, n);
      give_back(std::move(fresh));
      begin = 0;
    }
    end = buffer.size();
    return true;
  }

  const std::string& name() const override { return name_; }
  std::uint64_t position() const override { return position_; }
  std::uint64_t total() const override { return total_; }

private:
  struct Block {
    std::string data; // the bytes start at `headroom`
    std::uint64_t position = 0;
    bool last = false;          // no block follows
    std::optional<Error> error; // set on the last block when the inner read failed
  };

  Result<std::size_t> finish() {
    if (current_.error)
      return *current_.error;
    return std::size_t{0};
  }
  Result<bool> end_of_data(bool& eof) {
    if (current_.error)
      return *current_.error;
    eof = true;
    return false;
  }

  // The next block, once the producer has queued it.
  Block take() {
    std::unique_lock lock(mutex_);
    ready_.wait(lock, [&] { return !queue_.empty(); });
    Block block = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    space_.notify_one();
    position_ = block.position;
    return block;
  }
  // A buffer the consumer is done with, for the producer to fill again.
  void give_back(std::string&& data) {
    if (data.capacity() < headroom)
      return; // never a block's (the consumer's own first buffer)
    std::lock_guard lock(mutex_);
    spare_.push_back(std::move(data));
  }

  void produce() {
    for (;;) {
      std::string data;
      {
        std::unique_lock lock(mutex_);
        space_.wait(lock, [&] { return stopping_ || queue_.size() < max_blocks_; });
        if (stopping_)
          return;
        if (!spare_.empty()) {
          data = std::move(spare_.back());
          spare_.pop_back();
        }
      }
      data.resize(headroom + block_bytes_);
      Block block;
      std::size_t filled = headroom;
      // Fill the block (a gzip source returns little at a time near member boundaries).
      while (filled < data.size()) {
        Result<std::size_t> n = inner_->read(data.data() + filled, data.size() - filled);
        if (!n) {
          block.error = n.error();
          block.last = true;
          break;
        }
        if (*n == 0) {
          block.last = true;
          break;
        }
        filled += *n;
      }
      data.resize(filled);
      block.data = std::move(data);
      block.position = inner_->position();
      const bool last = block.last;
      {
        std::lock_guard lock(mutex_);
        queue_.push_back(std::move(block));
      }
      ready_.notify_one();
      if (last)
        return;
    }
  }

  std::unique_ptr<ByteSource> inner_;
  const std::string name_;
  const std::uint64_t total_;
  const std::size_t block_bytes_;
  const std::size_t max_blocks_;

  std::mutex mutex_;
  std::condition_variable ready_; // a block was queued
  std::condition_variable space_; // a block was taken, or stopping
  std::deque<Block> queue_;
  std::vector<std::string> spare_; // buffers handed back for reuse
  bool stopping_ = false;

  // Consumer side only.
  Block current_;
  std::size_t current_offset_ = 0;
  std::uint64_t position_ = 0;

  std::thread worker_; // last: starts after every other member exists
};

} // namespace

std::unique_ptr<ByteSource> read_ahead(std::unique_ptr<ByteSource> inner, std::size_t block_bytes,
                                       std::size_t blocks) {
  return std::make_unique<ReadAheadSource>(std::move(inner), block_bytes, blocks);
}

} // namespace billdrop
