#pragma once
// Shared by the streaming readers (CSV, JSON records): not part of the SDK's public API.

#include <billdrop/byte_source.hpp>
#include <billdrop/result.hpp>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>

namespace billdrop::detail {

// Moves the unread bytes [begin, end) of `buffer` to its front, grows it when less than half a
// block is free, and appends what `source` gives. Returns false (and sets eof) at the end.
inline Result<bool> refill(ByteSource& source, std::string& buffer, std::size_t& begin,
                           std::size_t& end, bool& eof, std::size_t block) {
  if (eof)
    return false;
  if (begin > 0) {
    std::memmove(buffer.data(), buffer.data() + begin, end - begin);
    end -= begin;
    begin = 0;
  }
  if (buffer.size() - end < block / 2)
    buffer.resize(std::max(buffer.size() * 2, end + block));
  Result<std::size_t> n = source.read(buffer.data() + end, buffer.size() - end);
  if (!n)
    return std::move(n).error();
  if (*n == 0) {
    eof = true;
    return false;
  }
  end += *n;
  return true;
}

} // namespace billdrop::detail
