#pragma once
// Shared by read_ahead() and the CSV reader: not part of the SDK's public API.

#include <billdrop/byte_source.hpp>
#include <billdrop/result.hpp>

#include <cstddef>
#include <string>

namespace billdrop::detail {

// A source that fills whole blocks of its own (read_ahead()) and can hand a block over instead of
// copying its bytes into the reader's buffer: a reader of inflated input would otherwise copy
// every byte once more on the way in.
class BlockSource : public ByteSource {
public:
  // Bytes kept free in front of every block, so that the unread end of the previous block (the
  // record the block boundary cut) can be put right before the new bytes.
  static constexpr std::size_t headroom = 64 * 1024;

  // What detail::refill() does, without copying the new bytes: afterwards `buffer` holds the
  // unread bytes [begin, end) it had, followed by the next bytes of the stream. When the unread
  // bytes fit in the headroom, `buffer` becomes the next block itself (its old storage goes back
  // to the source for reuse) and only they are copied. Returns false (and sets eof) at the end;
  // an error arrives after the bytes before it. A caller uses either this or read(), not both.
  virtual Result<bool> refill(std::string& buffer, std::size_t& begin, std::size_t& end,
                              bool& eof) = 0;
};

} // namespace billdrop::detail
