#pragma once
// Splits a stream of JSON records without holding the whole file: either newline-delimited JSON
// (one value per line) or one top-level JSON array of values. Each record comes back as its own
// text, to be parsed by the caller (e.g. with simdjson). The splitter tracks strings, escapes and
// nesting itself, so it is a pure state machine over bytes.

#include <billdrop/byte_source.hpp>
#include <billdrop/result.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace billdrop {

enum class JsonLayout { automatic, ndjson, array };

class JsonRecordReader {
public:
  // With JsonLayout::automatic the first non-space byte decides: '[' means array, else ndjson.
  explicit JsonRecordReader(std::unique_ptr<ByteSource> source,
                            JsonLayout layout = JsonLayout::automatic);
  ~JsonRecordReader();
  JsonRecordReader(const JsonRecordReader&) = delete;
  JsonRecordReader& operator=(const JsonRecordReader&) = delete;

  // The next record's text (valid until the next call), or false at the end. Errors name the
  // source and line: "usage.json:7: unterminated string", "usage.json:3: expected ',' or ']'".
  // The record's own syntax beyond strings and brackets is checked by whoever parses it.
  Result<bool> next(std::string_view& record);

  // Line (1-based) on which the last returned record starts.
  std::uint64_t line() const noexcept { return record_line_; }
  std::uint64_t records() const noexcept { return records_; }
  const std::string& name() const;
  std::uint64_t position() const;
  std::uint64_t total() const;

private:
  Result<bool> fill();
  Result<bool> read_record(std::string_view& record);
  // Moves `offset` (relative to begin_) past spaces, and past line ends when `newlines`; with
  // `discard` the skipped bytes are dropped (offset ends at 0). False at the end of the input.
  Result<bool> skip_space(std::size_t& offset, bool newlines, bool discard);
  // The end (relative to begin_) of the value whose first byte is at `pos`.
  Result<std::size_t> scan_value(std::size_t pos);
  Result<bool> finish_array();
  Error error_here(const std::string& message) const;

  std::unique_ptr<ByteSource> source_;
  JsonLayout layout_;
  std::string buffer_; // unread input; a record is returned as a view into it
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
  bool eof_ = false;
  bool started_ = false;          // saw the layout's opening
  bool finished_ = false;         // saw the closing ']' of an array
  bool expect_separator_ = false; // an array element was returned: ',' or ']' comes next
  std::optional<Error> failed_;   // an error makes the reader unusable: next() repeats it
  std::uint64_t next_line_ = 1;
  std::uint64_t record_line_ = 0;
  std::uint64_t records_ = 0;
};

} // namespace billdrop
